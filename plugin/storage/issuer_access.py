"""Which issuers a course may use: the admin's per-platform and per-course allow-lists.

An issuer is offered to a course when the course's platform is allowed
(:class:`~plugin.storage.models.IssuerPlatform`) and either the issuer has no course
restriction on that platform, or the course is one of its allowed courses
(:class:`~plugin.storage.models.IssuerCourse`). Restrictions are per platform, so an admin
scoped to one platform never hides an issuer from another platform's courses.
"""
from __future__ import annotations

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from plugin.storage.models import Course, Issuer, IssuerCourse, IssuerPlatform


def issuers_for_course(session: Session, platform_id: int | None, course_id: int | None) -> list[Issuer]:
    """The issuers an instructor of ``course_id`` on ``platform_id`` may choose, by name."""
    if not platform_id:
        return []
    restricted_here = exists().where(IssuerCourse.issuer_id == Issuer.id, IssuerCourse.course_id == Course.id,
                                     Course.platform_id == platform_id)
    listed = exists().where(IssuerCourse.issuer_id == Issuer.id, IssuerCourse.course_id == course_id) \
        if course_id else None
    course_ok = ~restricted_here if listed is None else or_(~restricted_here, listed)
    return list(session.scalars(
        select(Issuer).join(IssuerPlatform, and_(IssuerPlatform.issuer_id == Issuer.id,
                                                 IssuerPlatform.platform_id == platform_id))
        .where(course_ok).order_by(Issuer.name)))
