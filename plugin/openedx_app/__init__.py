"""The microcred Open edX plugin: a Django app installed into edx-platform (LMS).

It listens to ``COURSE_PASSING_STATUS_UPDATED`` (and ``CERTIFICATE_CREATED``), maps the
LMS user to the external user id the tool knows from LTI launches, and sends a signed
webhook to the tool. It imports nothing from the rest of :mod:`plugin` (which needs
Flask): only Django, openedx-events, requests and PyJWT, all present in edx-platform.
Installation: ``docs/bridges.md``.
"""
