"""Read models for the web views: stored results shaped for a rep, a team, a deal, a run."""
