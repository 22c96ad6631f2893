"""microcred's Open edX plugin: a Django app installed into edx-platform (LMS).

It listens to ``COURSE_PASSING_STATUS_UPDATED``, its CCX variant and ``CERTIFICATE_CREATED``,
maps the LMS user to the external user id the tool knows from LTI launches, and sends a
signed webhook to the tool. It is its own distribution, ``microcred-openedx``, built from
``integrations/openedx/`` of the microcred repository, and needs only what edx-platform
already has: Django, openedx-events, PyJWT (with cryptography) and requests. Installation:
``docs/bridges.md`` (or the Tutor plugin, ``integrations/tutor``).
"""
__version__ = "0.1.0"
