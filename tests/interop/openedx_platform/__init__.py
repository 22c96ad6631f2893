"""A tiny Open edX LMS around ``lti_consumer`` (lti-consumer-xblock, AGPL, test-only).

Everything LTI here is Open edX's own code: the ``LtiConfiguration``/``Lti1p3Passport``
models, ``lti_consumer.api`` (launch start URLs, deep-linked content), the consumer classes
(``LtiAdvantageConsumer`` signs the launches, ``ToolKeyHandler`` checks the tool's JWTs,
``PlatformKeyHandler`` issues and checks access tokens), and the real Django views mounted
where the LMS mounts them (``/api/lti_consumer/v1/...``: launch gate, token endpoint,
public keysets, AGS line items/scores/results, deep-linking response).

What edx-platform itself would provide (the modulestore's blocks, course access, external
user ids, the gradebook) is stood in by :mod:`.edx_platform_standins`. The process is run by
:mod:`.server`; the tool never imports any of this.
"""
