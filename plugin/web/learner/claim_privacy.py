"""How a learner may appear on a credential, said truthfully for what the platform shared.

A platform may withhold the e-mail address from launches (Moodle's tool privacy setting
"Share launcher's e-mail with tool: Never"). The credential then cannot carry a hashed
e-mail address: it identifies the learner by a hashed platform user id (``ltiUserId``),
and the claim form must say so rather than promise an e-mail hash.
"""
from __future__ import annotations

from flask_babel import lazy_gettext


def identify_choices(learner) -> list[tuple[str, str]]:
    if getattr(learner, "email", None):
        hashed = lazy_gettext("Only by a hashed e-mail address (my name is not shown)")
    else:
        hashed = lazy_gettext("Only by a hashed identifier from my learning platform (my name and e-mail address "
                              "are not shown; my platform did not share my e-mail address)")
    return [("name", lazy_gettext("With my name")), ("hashed", hashed)]
