"""Production: every MICROCRED_* value may come from the LMS YAML configuration (ENV_TOKENS)."""
from microcred_openedx.settings import common

NAMES = ("MICROCRED_WEBHOOK_URL", "MICROCRED_WEBHOOK_PRIVATE_KEY", "MICROCRED_WEBHOOK_PRIVATE_KEY_FILE",
         "MICROCRED_WEBHOOK_KEY_ID", "MICROCRED_WEBHOOK_ISSUER", "MICROCRED_WEBHOOK_TIMEOUT",
         "MICROCRED_WEBHOOK_LIFETIME", "MICROCRED_WEBHOOK_ATTEMPTS", "MICROCRED_WEBHOOK_ASYNC",
         "MICROCRED_EXTERNAL_ID_FUNCTION", "MICROCRED_WEBHOOK_SEND_PII")


def plugin_settings(settings):
    tokens = getattr(settings, "ENV_TOKENS", {}) or {}
    for name in NAMES:
        if name in tokens:
            setattr(settings, name, tokens[name])
    common.plugin_settings(settings)
