"""Issuance: issuers and their keys, definitions, awarding, status changes (no Flask)."""
