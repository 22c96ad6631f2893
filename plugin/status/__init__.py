"""Credential status: W3C Bitstring Status Lists for revocation and suspension."""
