"""Credential status: one-bit Bitstring Status Lists for revocation (with a 2-bit state list
beside each for our verifier), the legacy 2-bit lists, and index reservation."""
