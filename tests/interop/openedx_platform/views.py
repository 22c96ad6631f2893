"""The LMS side a browser sees: sign in, open the unit that shows the LTI component.

``courseware`` does what ``LtiConsumerXBlock.get_lti_1p3_launch_data`` and
``_get_lti_block_launch_handler`` do when the LMS renders the component (and what Studio's
"deep linking" button does): build ``Lti1p3LaunchData`` and hand the browser the OIDC
login URL from ``lti_consumer.api``. Name, username and email go into the launch only when
the component shares PII, as in Open edX; ``sub`` is the external LTI user id.
"""
from __future__ import annotations

import json

from django.contrib.auth import get_user_model, login
from django.http import HttpResponseForbidden, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from opaque_keys.edx.keys import CourseKey, UsageKey

from lti_consumer import api
from lti_consumer.data import Lti1p3LaunchData
from lti_consumer.models import CourseAllowPIISharingInLTIFlag, LtiConfiguration
from tests.interop.openedx_platform import edx_platform_standins as edx
from tests.interop.openedx_platform.models import UserProfile

COURSE = "course-v1:MicroX+MC101+2026"


def _location(block_id: str):
    return UsageKey.from_string(f"block-v1:MicroX+MC101+2026+type@lti_consumer+block@{block_id}")


@csrf_exempt
def setup(request):
    """Create users and LTI components (what an admin does in Studio), return what Studio shows."""
    spec = json.loads(request.body)
    if "course_pii" in spec:  # Django admin: "Course allow PII sharing in LTI flag"
        CourseAllowPIISharingInLTIFlag.objects.create(course_id=CourseKey.from_string(COURSE),
                                                      enabled=bool(spec["course_pii"]))
    users = {}
    for u in spec.get("users", []):
        user, _ = get_user_model().objects.get_or_create(username=u["username"], defaults={"email": u["email"]})
        user.is_staff = u.get("role") in ("instructor", "staff")
        user.set_password("x")
        user.save()
        UserProfile.objects.update_or_create(user=user, defaults={"name": u.get("name", "")})
        edx.COURSE_ROLES[user.id] = u.get("role", "student")
        users[user.username] = edx.external_id_for(user)
    tool = spec["tool"]
    components = []
    for c in spec.get("components", []):
        location = _location(c["block_id"])
        edx.BLOCKS[str(location)] = edx.Block(
            location=location, display_name=c["display_name"], weight=c.get("weight", 100),
            pii_share_username=c.get("pii", False), pii_share_email=c.get("pii", False),
            pii_share_name=c.get("pii", False))
        config = LtiConfiguration.objects.create(
            location=location, version=LtiConfiguration.LTI_1P3, config_store=LtiConfiguration.CONFIG_ON_DB,
            lti_1p3_oidc_url=tool["login_url"], lti_1p3_launch_url=tool["launch_url"],
            lti_advantage_deep_linking_enabled=True,
            lti_advantage_deep_linking_launch_url=tool["deep_linking_url"],
            lti_advantage_ags_mode=c.get("ags_mode", LtiConfiguration.LTI_ADVANTAGE_AGS_DECLARATIVE),
            lti_advantage_enable_nrps=c.get("nrps", True))
        config.refresh_from_db()
        passport = config.lti_1p3_passport
        passport.lti_1p3_tool_keyset_url = tool["jwks_url"]
        passport.save()
        launch_data = Lti1p3LaunchData(user_id=0, user_role=None, config_id=config.config_id,
                                       resource_link_id=str(location))
        info = api.get_lti_1p3_launch_info(launch_data)  # what Studio shows the course author
        components.append({"block_id": c["block_id"], "location": str(location), "lti_config_id": config.id,
                           "client_id": info["client_id"], "deployment_id": info["deployment_id"],
                           "keyset_url": info["keyset_url"], "token_url": info["token_url"],
                           "oidc_callback": info["oidc_callback"]})
    from django.conf import settings
    return JsonResponse({"issuer": settings.LTI_API_BASE, "users": users, "components": components})


@csrf_exempt
def login_view(request):
    user = get_user_model().objects.get(username=request.GET["username"])
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return JsonResponse({"username": user.username})


def courseware(request, block_id: str):
    user = request.user
    if not user.is_authenticated:
        return HttpResponseForbidden("sign in first")
    location = _location(block_id)
    block = edx.BLOCKS[str(location)]
    config = LtiConfiguration.objects.get(location=location)
    role = edx.COURSE_ROLES.get(user.id, "student")
    # LtiConsumerXBlock.get_pii_sharing_enabled: the course flag decides, with Open edX's
    # backwards-compatibility rule for components that already shared learner data.
    pii = CourseAllowPIISharingInLTIFlag.lti_access_to_learners_editable(
        location.context_key, block.pii_share_username or block.pii_share_email or block.pii_share_name)
    launch_data = Lti1p3LaunchData(
        user_id=user.id,
        user_role=role,
        config_id=config.config_id,
        resource_link_id=str(location),
        external_user_id=edx.external_id_for(user),
        preferred_username=user.username if pii and block.pii_share_username else None,
        name=user.profile.name if pii and block.pii_share_name else None,
        email=user.email if pii and block.pii_share_email else None,
        launch_presentation_document_target="iframe",
        context_id=COURSE,
        context_type=["course_offering"],
        context_title="Micro-credentials 101 - MicroX",
        context_label=COURSE,
        custom_parameters={},
    )
    if request.GET.get("deep_link"):
        url = api.get_lti_1p3_launch_start_url(launch_data, deep_link_launch=True)
    else:
        url = api.get_lti_1p3_content_url(launch_data)
    return HttpResponseRedirect(url)


def gradebook(request):
    return JsonResponse({"grades": edx.GRADEBOOK})
