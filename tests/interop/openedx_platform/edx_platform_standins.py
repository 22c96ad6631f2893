"""Stand-ins for the edx-platform pieces ``lti_consumer.plugin.compat`` imports from the LMS.

lti_consumer reaches the rest of Open edX only through ``compat``: the modulestore (to load
the LTI component's block), external user ids, course membership and access, the grades
API. This LMS has none of those, so :func:`install` replaces exactly those functions:

* blocks are :class:`Block` objects registered by the setup view (display name, weight,
  PII-sharing flags, ``set_user_module_score`` recording into :data:`GRADEBOOK`, which is
  what ``publish_grade_on_score_update`` calls when a tool posts a FullyGraded score);
* external user ids (type ``lti``) are random UUIDs per user, as edx-platform makes them;
* studio write access is ``user.is_staff``.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

BLOCKS: dict[str, "Block"] = {}  # str(usage key) -> block
EXTERNAL_IDS: dict[int, str] = {}  # user id -> external user id (type "lti")
GRADEBOOK: list[dict] = []  # grades published to the LMS by lti_consumer's signal
COURSE_ROLES: dict[int, str] = {}  # user id -> "instructor" | "staff" | "student"


@dataclass
class Block:
    location: object  # opaque_keys UsageKey
    display_name: str
    weight: float = 100.0
    has_score: bool = True
    accept_grades_past_due: bool = True
    lti_1p3_passport_id: str | None = None
    pii_share_username: bool = False
    pii_share_email: bool = False
    pii_share_name: bool = False
    scores: dict = field(default_factory=dict)

    @property
    def scope_ids(self):
        return SimpleNamespace(usage_id=self.location)

    @property
    def context_id(self):
        return str(self.location.context_key)

    def is_past_due(self) -> bool:
        return False

    def max_score(self) -> float:
        return self.weight

    def set_user_module_score(self, user, score, max_score, comment=""):
        GRADEBOOK.append({"block": str(self.location), "username": user.username, "score": score,
                          "max_score": max_score, "comment": comment or ""})


def external_id_for(user) -> str:
    if user.id not in EXTERNAL_IDS:
        EXTERNAL_IDS[user.id] = str(uuid.uuid4())
    return EXTERNAL_IDS[user.id]


def load_block(location):
    try:
        return BLOCKS[str(location)]
    except KeyError:
        raise ValueError(f"no block at {location}") from None


def get_user_from_external_user_id(external_user_id):
    from django.contrib.auth import get_user_model
    for user_id, ext in EXTERNAL_IDS.items():
        if ext == str(external_user_id):
            return get_user_model().objects.get(id=user_id)
    raise get_user_model().DoesNotExist(f"no user with external id {external_user_id}")


def batch_get_or_create_externalids(users):
    return {u.id: SimpleNamespace(external_user_id=external_id_for(u)) for u in users}


def get_course_members(course_key):
    from django.contrib.auth import get_user_model
    members = {}
    for user in get_user_model().objects.filter(id__in=list(COURSE_ROLES)):
        members[user.id] = {"id": user.id, "username": user.username, "email": user.email,
                            "name": user.profile.name, "roles": [COURSE_ROLES[user.id]]}
    return members


def install() -> None:
    from lti_consumer.plugin import compat
    compat.load_enough_xblock = load_block
    compat.load_block_as_user = load_block
    compat.get_user_from_external_user_id = get_user_from_external_user_id
    compat.user_has_studio_write_access = lambda user, course_key: bool(user and user.is_authenticated
                                                                        and user.is_staff)
    compat.batch_get_or_create_externalids = batch_get_or_create_externalids
    compat.get_course_members = get_course_members
    compat.get_user_course_forum_role = lambda user_id, course_id: None
    compat.get_forum_role_model = lambda: None
