"""Salesforce side: OAuth token exchange, the gateway over simple-salesforce, SOQL building.

The only package that imports simple-salesforce.
"""
