"""Identity (Canvas signed requests), embedded sessions and access control."""
