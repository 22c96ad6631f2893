"""Web layer: Flask blueprints, one per audience. Only this package (and plugin.app) imports Flask."""
from __future__ import annotations

import importlib

# (module, attribute) of every blueprint, in registration order; one line each.
BLUEPRINT_MODULES = [
    "plugin.web.health",
    "plugin.web.metrics",
    "plugin.web.home",
    "plugin.web.verify.public",
    "plugin.web.lti.routes",
    "plugin.web.lti.registration",
    "plugin.web.api.webhooks",
    "plugin.web.api.bridges",
    "plugin.web.instructor",
    "plugin.web.instructor.issuance",
    "plugin.web.instructor.issued_actions",
    "plugin.web.instructor.dashboard",
    "plugin.web.admin",
    "plugin.web.admin.issuance",
    "plugin.web.admin.audit_log",
    "plugin.web.admin.catch_up",
    "plugin.web.learner.routes",
    "plugin.web.verify.routes",
    "plugin.web.api.exchanges",
    "plugin.web.learner.edc",
    "plugin.web.admin.branding",
    "plugin.web.language",
    "plugin.web.learner.credential_page",
    "plugin.web.api.oid4vci",
    "plugin.web.verify.label_pages",
    "plugin.web.instructor.definition_alignments",
    "plugin.web.learner.pathways",
]


def BLUEPRINTS():
    """Every blueprint of the tool, in registration order."""
    return [importlib.import_module(name).bp for name in BLUEPRINT_MODULES]
