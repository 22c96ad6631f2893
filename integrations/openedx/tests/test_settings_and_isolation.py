"""Settings defaults as edx-platform injects them, the JWKS view, and what the app loads."""
import importlib.metadata
import subprocess
import sys
import types

from django.test import Client, override_settings

from microcred_openedx.settings import common, production


def test_defaults_are_injected_and_lms_yaml_values_win():
    lms = types.SimpleNamespace(LMS_ROOT_URL="https://lms.example.org")
    common.plugin_settings(lms)
    assert (lms.MICROCRED_WEBHOOK_URL, lms.MICROCRED_WEBHOOK_ISSUER, lms.MICROCRED_WEBHOOK_LIFETIME,
            lms.MICROCRED_WEBHOOK_ATTEMPTS, lms.MICROCRED_WEBHOOK_ASYNC, lms.MICROCRED_WEBHOOK_SEND_PII) == (
        "", "https://lms.example.org", 300, 4, True, False)
    assert lms.MICROCRED_EXTERNAL_ID_FUNCTION == "microcred_openedx.identity.lti_external_id"
    prod = types.SimpleNamespace(LMS_ROOT_URL="https://lms.example.org",
                                 ENV_TOKENS={"MICROCRED_WEBHOOK_URL": "https://tool.example.org/api/webhooks/openedx",
                                             "MICROCRED_WEBHOOK_SEND_PII": True, "UNRELATED": 1})
    production.plugin_settings(prod)
    assert prod.MICROCRED_WEBHOOK_URL == "https://tool.example.org/api/webhooks/openedx"
    assert prod.MICROCRED_WEBHOOK_SEND_PII is True and not hasattr(prod, "UNRELATED")


def test_jwks_says_what_is_missing_when_no_key_is_configured():
    with override_settings(MICROCRED_WEBHOOK_PRIVATE_KEY="", MICROCRED_WEBHOOK_PRIVATE_KEY_FILE=""):
        resp = Client().get("/microcred/webhook-jwks.json")
    assert resp.status_code == 503 and "MICROCRED_WEBHOOK_PRIVATE_KEY" in resp.json()["message"]


def test_the_distribution_brings_only_its_own_package_and_registers_the_lms_app():
    dist = importlib.metadata.distribution("microcred-openedx")
    top = {f.parts[0] for f in dist.files if f.suffix == ".py"}
    assert top == {"microcred_openedx"}
    (entry,) = [e for e in dist.entry_points if e.group == "lms.djangoapp"]
    assert entry.value == "microcred_openedx.apps:MicrocredOpenedxConfig"
    requires = {r.split(">")[0].split("[")[0].split(";")[0].strip().lower() for r in dist.requires or []
                if "extra ==" not in r}
    assert requires == {"django", "openedx-events", "pyjwt", "requests"}


def test_loading_every_module_loads_neither_flask_nor_sqlalchemy():
    code = ("import sys, django; sys.path.insert(0, %r); import os; "
            "os.environ['DJANGO_SETTINGS_MODULE'] = 'lms_settings'; django.setup(); "
            "import microcred_openedx.signals, microcred_openedx.views, microcred_openedx.urls, "
            "microcred_openedx.tokens; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'plugin', 'lti')))"
            % __import__("os").path.dirname(__file__))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
