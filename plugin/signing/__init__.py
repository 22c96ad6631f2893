"""Signing: pinned JSON-LD contexts, keys, DIDs, Data Integrity (eddsa-rdfc-2022) and VC-JWT.

Public API: :func:`plugin.signing.contexts.get_store` / ``ContextStore.loader``,
:mod:`plugin.signing.keys` (``generate_ed25519``, ``generate_rsa``, ``SigningKey``),
:mod:`plugin.signing.did` (``issuer_did``, ``did_document``, ``resolve_verification_method``),
:mod:`plugin.signing.data_integrity` (``sign``, ``verify``) and :mod:`plugin.signing.jwt`
(``sign_vc_jwt``, ``verify_vc_jwt``). No Flask here.
"""
