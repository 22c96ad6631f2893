"""Defaults injected into the LMS settings (edx-platform calls ``plugin_settings``)."""


def plugin_settings(settings):
    # The tool's webhook URL, e.g. https://microcred.example.org/api/webhooks/openedx.
    # Nothing is sent while it is empty.
    settings.MICROCRED_WEBHOOK_URL = getattr(settings, "MICROCRED_WEBHOOK_URL", "")
    # PEM private key (Ed25519, RSA or EC P-256) signing the webhooks; or a path to it.
    settings.MICROCRED_WEBHOOK_PRIVATE_KEY = getattr(settings, "MICROCRED_WEBHOOK_PRIVATE_KEY", "")
    settings.MICROCRED_WEBHOOK_PRIVATE_KEY_FILE = getattr(settings, "MICROCRED_WEBHOOK_PRIVATE_KEY_FILE", "")
    settings.MICROCRED_WEBHOOK_KEY_ID = getattr(settings, "MICROCRED_WEBHOOK_KEY_ID", "")
    # iss of the webhooks: must equal the issuer of this LMS's LTI launches (LMS_ROOT_URL).
    settings.MICROCRED_WEBHOOK_ISSUER = getattr(settings, "MICROCRED_WEBHOOK_ISSUER", "") or getattr(
        settings, "LMS_ROOT_URL", "")
    settings.MICROCRED_WEBHOOK_TIMEOUT = getattr(settings, "MICROCRED_WEBHOOK_TIMEOUT", 10)
    settings.MICROCRED_WEBHOOK_LIFETIME = getattr(settings, "MICROCRED_WEBHOOK_LIFETIME", 300)
    settings.MICROCRED_WEBHOOK_ATTEMPTS = getattr(settings, "MICROCRED_WEBHOOK_ATTEMPTS", 4)
    # Send from a background thread after the database commit (False: send inline, for tests).
    settings.MICROCRED_WEBHOOK_ASYNC = getattr(settings, "MICROCRED_WEBHOOK_ASYNC", True)
    # Dotted path of ``f(user_data) -> str | None`` giving the LTI ``sub`` of a user.
    settings.MICROCRED_EXTERNAL_ID_FUNCTION = getattr(
        settings, "MICROCRED_EXTERNAL_ID_FUNCTION", "microcred_openedx.identity.lti_external_id")
    # Also send the learner's name and e-mail (the username is always sent: the grades API needs it).
    settings.MICROCRED_WEBHOOK_SEND_PII = getattr(settings, "MICROCRED_WEBHOOK_SEND_PII", False)
