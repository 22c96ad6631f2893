"""Web layer: Flask blueprints, one per audience. Only this package (and plugin.app) imports Flask."""
from __future__ import annotations


def BLUEPRINTS():
    """Every blueprint of the tool, in registration order."""
    from plugin.web.health import bp as health
    from plugin.web.home import bp as home
    from plugin.web.lti import bp as lti
    from plugin.web.lti_registration import bp as lti_registration
    from plugin.web.public import bp as public
    from plugin.web.webhooks import bp as webhooks
    from plugin.web.bridges_api import bp as bridges_api
    return [
        health,
        home,
        lti,
        lti_registration,
        public,
        webhooks,
        bridges_api,
    ]
