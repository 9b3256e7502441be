"""The Salesforce side and the sync service: auth, gateway, pull, write-back, store, clock."""
