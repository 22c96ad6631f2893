"""Web layer: Flask blueprints, one per audience. Only this package (and plugin.app) imports Flask."""
from __future__ import annotations

import importlib

# (module, attribute) of every blueprint, in registration order; one line each.
BLUEPRINT_MODULES = [
    "plugin.web.health",
    "plugin.web.metrics",
    "plugin.web.home",
    "plugin.web.public",
    "plugin.web.lti",
    "plugin.web.lti_registration",
    "plugin.web.webhooks",
    "plugin.web.bridges_api",
    "plugin.web.instructor",
    "plugin.web.instructor_issuance",
    "plugin.web.issued_actions",
    "plugin.web.dashboard",
    "plugin.web.admin",
    "plugin.web.admin_issuance",
    "plugin.web.admin_audit",
    "plugin.web.catch_up",
    "plugin.web.learner",
    "plugin.web.verify",
    "plugin.web.exchanges",
    "plugin.web.edc",
    "plugin.web.branding",
    "plugin.web.language",
    "plugin.web.credential_page",
    "plugin.web.oid4vci",
    "plugin.web.label_pages",
    "plugin.web.definition_alignments",
    "plugin.web.pathways",
]


def BLUEPRINTS():
    """Every blueprint of the tool, in registration order."""
    return [importlib.import_module(name).bp for name in BLUEPRINT_MODULES]
