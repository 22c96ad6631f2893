"""Fields of the admin's issuer form that live outside ``plugin/web/admin/issuers.py`` (which another
change splits per audience): the awarding body's LinkedIn organisation id."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, Optional, Regexp

from plugin.domain.issuer import linkedin_organization_id


def linkedin_organization_field() -> StringField:
    """Digits only; an admin-view address pasted whole is reduced to its number first."""
    return StringField(
        _l("LinkedIn organisation ID"),
        filters=[linkedin_organization_id],
        validators=[Optional(), Length(max=20, message=_l("A LinkedIn organisation ID has at most 20 digits.")),
                    Regexp(r"^[0-9]+$", message=_l("Enter the LinkedIn organisation ID as digits only, "
                                                   "for example 12345678."))],
        description=_l("Optional. Learners' “Add to LinkedIn profile” button then names your LinkedIn page, "
                       "so LinkedIn shows its logo and links to it. To find it, open your LinkedIn page as one of "
                       "its administrators: the ID is the number in the address, "
                       "linkedin.com/company/12345678/admin/."),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"})
