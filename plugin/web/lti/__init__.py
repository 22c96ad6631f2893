"""The LTI 1.3 endpoints (``/lti``): OIDC login, launch, deep linking, JWKS, tool
configuration and Dynamic Registration. The protocol itself is the top-level ``lti`` package."""
