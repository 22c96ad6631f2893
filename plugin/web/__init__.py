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
    from plugin.web.exchanges import bp as exchanges
    from plugin.web.learner import bp as learner
    from plugin.web.verify import bp as verify
    from plugin.web.instructor import bp as instructor
    from plugin.web.admin import bp as admin
    return [
        health,
        home,
        public,
        lti,
        lti_registration,
        webhooks,
        bridges_api,
        instructor,
        admin,
        learner,
        verify,
        exchanges,
    ]
