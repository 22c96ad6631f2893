"""What anyone may see without logging in: the verification pages and the public documents
(issuer profiles, did.json, status lists, credentials, label pages) verifiers fetch."""
