"""The webhook signing key's public half, for the tool's admin to register (JWKS URL)."""
from django.http import JsonResponse

from microcred_openedx.webhook import WebhookConfigError, public_jwk


def webhook_jwks(request):
    try:
        return JsonResponse({"keys": [public_jwk()]})
    except WebhookConfigError as exc:
        return JsonResponse({"error": "not_configured", "message": str(exc)}, status=503)
