"""Helpers for web tests: launches stored the way the LTI layer stores them."""
from __future__ import annotations

from plugin.storage.models import Course, Platform
from plugin.web.auth import Actor, store_launch


def make_platform(services, *, issuer="https://lms.example.edu", client_id="client-1", name="Test LMS"):
    with services.session() as s:
        p = Platform(issuer=issuer, client_id=client_id, name=name, product="moodle",
                     auth_login_url=issuer + "/mod/lti/auth.php", auth_token_url=issuer + "/mod/lti/token.php",
                     key_set_url=issuer + "/mod/lti/certs.php", bridge_settings={})
        s.add(p)
        s.flush()
        return p.id


def launch(services, roles, *, platform_id=None, locale="en", context_id="course-1",
           title="Introduction to Data Science", sub="user-1", name="Ada Lovelace"):
    """Store a launch for ``roles`` and return its id (what ``?launch=`` carries)."""
    if platform_id is None:
        with services.session() as s:
            first = s.query(Platform).order_by(Platform.id).first()
            platform_id = first.id if first else None
        if platform_id is None:
            platform_id = make_platform(services)
    with services.session() as s:
        platform = s.get(Platform, platform_id)
        course = s.query(Course).filter_by(platform_issuer=platform.issuer, context_id=context_id).first()
        if course is None:
            course = Course(platform_issuer=platform.issuer, context_id=context_id, title=title,
                            platform_id=platform.id)
            s.add(course)
            s.flush()
        actor = Actor(kind="lti", roles=list(roles), platform_id=platform.id, platform_issuer=platform.issuer,
                      client_id=platform.client_id, deployment_id="1", sub=sub, course_id=course.id,
                      context_id=context_id, context_title=title, name=name, locale=locale)
        return store_launch(s, actor)
