"""The demo's sandbox LTI 1.3 platform: a small real platform (Flask app) on loopback.

It has its own RSA key and JWKS, an OIDC authorization endpoint, an OAuth2 token endpoint
(client-credentials with a JWT client assertion, verified against the tool's JWKS), AGS
line items/scores/results, NRPS memberships and a deep-linking return handler. The tool
talks to it exactly as to any platform: nothing in the tool knows it is the sandbox.

    platform = SandboxPlatform(SandboxConfig(base_url="http://127.0.0.1:5001",
                                             tool_base_url="http://127.0.0.1:5000"))
    app = create_sandbox_app(platform)
"""
from plugin.sandbox.platform import SandboxConfig, SandboxPlatform, create_sandbox_app  # noqa: F401
