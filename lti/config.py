"""pylti1p3's tool configuration backed by the database (``Platform``, ``Deployment``, ``ToolKey``).

Every issuer may have many client ids (Open edX gives one per component), so lookups are
always by (issuer, client id); the tool's signing key is shared by all registrations.
"""
from __future__ import annotations

import typing as t

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy.orm import Session

from lti.keys import ToolSigningKey, active_key, jwks
from lti.platforms import find_deployment, find_platform, platforms_of_issuer
from plugin.storage.models import Platform
from plugin.storage.secrets import SecretBox


class DBRegistration(Registration):
    """A registration that knows its database row and the tool key id."""

    platform: Platform
    _kid: str | None = None

    def get_kid(self) -> t.Optional[str]:
        return self._kid

    def get_jwks(self):
        return [self._public_jwk] if getattr(self, "_public_jwk", None) else []


class DBToolConfig(ToolConfAbstract):
    def __init__(self, session: Session, box: SecretBox):
        self.issuers_relation_types = {}
        self._db = session
        self._box = box
        self._key: ToolSigningKey | None = None

    # Many client ids per issuer, always.
    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def tool_key(self) -> ToolSigningKey:
        if self._key is None:
            self._key = active_key(self._db, self._box)
        return self._key

    def issuer_known(self, iss: str) -> bool:
        return bool(platforms_of_issuer(self._db, iss))

    def platform(self, iss: str, client_id: str | None) -> Platform | None:
        if not iss or not client_id:
            return None
        return find_platform(self._db, iss, client_id)

    def registration_for(self, platform: Platform) -> DBRegistration:
        key = self.tool_key()
        reg = DBRegistration()
        reg.platform = platform
        reg.set_issuer(platform.issuer).set_client_id(platform.client_id)
        reg.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
        if platform.auth_audience:
            reg.set_auth_audience(platform.auth_audience)
        reg.set_key_set_url(platform.key_set_url)
        reg.set_key_set(platform.key_set)
        reg.set_tool_private_key(key.private_pem)
        reg.set_tool_public_key(key.public_pem)
        reg._kid = key.kid
        reg._public_jwk = key.public_jwk
        return reg

    def find_registration_by_issuer(self, iss: str, *args, **kwargs):
        return None  # never used: every issuer may have many clients

    def find_registration_by_params(self, iss: str, client_id: str, *args, **kwargs):
        platform = self.platform(iss, client_id)
        return self.registration_for(platform) if platform else None

    def find_deployment(self, iss: str, deployment_id: str):
        return None

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str, *args, **kwargs):
        platform = self.platform(iss, client_id)
        if platform is None or not isinstance(deployment_id, str):
            return None
        if find_deployment(self._db, platform, deployment_id) is None:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)

    def get_jwks(self, iss=None, client_id=None, **kwargs):
        self.tool_key()
        return jwks(self._db)
