"""microcred: an LTI 1.3 tool that issues EU micro-credentials as Open Badges 3.0.

The data flows through the sub-packages in this order::

    lti/ (launch)  ->  domain/ (course policy)  ->  evidence/ (pass evidence)
    -> composition/ -> signing/ -> issuance/ + storage/ -> delivery/ + verification/

``web/`` holds the Flask blueprints, ``cli/`` the ``microcred`` command,
``jobs/`` the background work, ``sandbox/`` the demo LTI platform. (The Django app
installed into edx-platform is the separate ``microcred_openedx`` package, its own
distribution built from ``integrations/openedx``.)
Only ``web/``, ``cli/`` and :mod:`plugin.app` import Flask.
"""

__version__ = "0.1.0"
