"""Which LTI identity the tool knows for an LMS user.

Open edX launches carry the learner's *external user id* of type ``lti`` as ``sub``
(``openedx.core.djangoapps.external_user_ids``), never the LMS user id. The mapping is a
setting (``MICROCRED_EXTERNAL_ID_FUNCTION``) so a site with another convention, or a
test without edx-platform, can plug its own ``f(user_data) -> str | None``.
"""
from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string


def lti_external_id(user_data) -> str | None:
    """edx-platform's default: the user's external id of type ``lti`` (created if missing)."""
    from django.contrib.auth import get_user_model
    from openedx.core.djangoapps.external_user_ids.models import ExternalId  # edx-platform only
    user = get_user_model().objects.get(id=user_data.id)
    external_id, _ = ExternalId.add_new_user_id(user, "lti")
    return str(external_id.external_user_id) if external_id is not None else None


def external_id_for(user_data) -> str | None:
    return import_string(settings.MICROCRED_EXTERNAL_ID_FUNCTION)(user_data)
