"""The org registry's services: connecting orgs (OAuth web-server flow), their status,
disconnecting, purging, key rotation, and each org's own Salesforce connection."""
