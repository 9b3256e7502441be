"""devorg: a local HTTPS emulator of the Salesforce REST API subset Quotaflow uses.

Standalone (standard library, Flask/werkzeug, cryptography, PyJWT). Run it with
`python -m devorg serve` or `quotaflow devorg serve`; start it from Python with
`devorg.process.start_devorg`. Importing this package starts nothing.
"""
