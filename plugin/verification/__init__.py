"""Verification of credentials in every form we issue (JSON, VC-JWT, baked PNG and SVG)."""
