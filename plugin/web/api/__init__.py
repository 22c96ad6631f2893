"""Machine-facing endpoints: platform webhooks, the bridges sync API, and the wallet
protocols (VC-API exchanges, OpenID4VCI)."""
