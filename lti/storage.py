"""Server-side launch data and caches for pylti1p3, in the ``key_value`` table.

Nothing here depends on a browser cookie: platform iframes often drop third-party
cookies, so state, nonces and launch data are keyed by values the requests carry
(the OIDC ``state``, the launch id). Expired rows are purged by the worker's maintenance.
"""
from __future__ import annotations

import typing as t

from pylti1p3.launch_data_storage.base import LaunchDataStorage
from sqlalchemy.orm import Session

from plugin.storage.kv import DEFAULT_TTL, KEY_MAX, kv_add, kv_delete, kv_get, kv_purge, kv_set  # noqa: F401


class DBLaunchDataStorage(LaunchDataStorage[t.Any]):
    """pylti1p3's storage interface on the ``key_value`` table (no session cookie)."""

    _prefix = "lti1p3-"

    def __init__(self, session: Session):
        super().__init__()
        self._db = session

    def get_session_cookie_name(self) -> t.Optional[str]:
        return None  # keyed by launch id / state, never by a cookie

    def can_set_keys_expiration(self) -> bool:
        return True

    def _key(self, key: str) -> str:
        key = self._prepare_key(key)
        if len(key) > KEY_MAX:
            import hashlib
            key = self._prefix + "h-" + hashlib.sha256(key.encode()).hexdigest()
        return key

    def get_value(self, key: str) -> t.Any:
        return kv_get(self._db, self._key(key))

    def set_value(self, key: str, value: t.Any, exp: t.Optional[int] = None) -> None:
        kv_set(self._db, self._key(key), value, exp)

    def add_value(self, key: str, value: t.Any, exp: t.Optional[int] = None) -> None:
        """A key nobody wrote before (a fresh launch id): one INSERT at the next flush."""
        kv_add(self._db, self._key(key), value, exp)

    def check_value(self, key: str) -> bool:
        return self.get_value(key) is not None
