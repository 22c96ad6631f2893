"""Settings read from the environment, with safe defaults.

The embedded default (``MICROCRED_ENV`` unset or ``development``) needs no
environment at all: it keeps a SQLite database, a secret key and a
key-encryption key in the instance folder, creating them on first use.
``MICROCRED_ENV=production`` refuses to start without its secrets.
Every variable is documented in ``docs/settings.md``.
"""
from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(RuntimeError):
    """A setting is missing or wrong; the message says which and what to do."""


ENVIRONMENTS = ("development", "production", "test")


def _bool(value: str | None, default: bool = False, name: str = "a boolean setting") -> bool:
    if value is None or value == "":
        return default
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def _int(name: str, value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {value!r}") from None


def _seconds(name: str, value: str | None, default: float, low: float, high: float) -> float:
    """A number of seconds from the environment, ``default`` when unset; out of ``low``..``high``
    (or not a number) is refused in one line naming the variable."""
    raw = (value or "").strip()
    try:
        seconds = float(raw) if raw else default
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not low <= seconds <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return seconds


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_SYNC_EVERY = 10  # seconds; a shorter period is refused (tests use 10-30 s, production minutes or hours)


def parse_duration(value: str) -> int:
    """``"90s"``, ``"15m"``, ``"1h"``, ``"1d"`` or plain seconds as whole seconds; ``"off"``/``"0"`` is 0.

    Raises ``ValueError`` with a sentence naming what is accepted.
    """
    v = (value or "").strip().lower()
    if v in ("off", "0", "never", "false", "no"):
        return 0
    m = re.fullmatch(r"(\d{1,7})\s*([smhd]?)", v)
    if not m:
        raise ValueError(f"{value!r} is not a duration: write seconds, or a number followed by s, m, h or d "
                         "(90s, 15m, 1h, 1d), or off")
    seconds = int(m.group(1)) * _UNITS[m.group(2) or "s"]
    if 0 < seconds < MIN_SYNC_EVERY:
        raise ValueError(f"{value!r} is too short: the shortest period is {MIN_SYNC_EVERY} seconds")
    if seconds > 30 * 86400:
        raise ValueError(f"{value!r} is too long: the longest period is 30 days")
    return seconds


def _duration(name: str, value: str | None, default: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def schemas_dir_from_env(e: dict[str, str]) -> Path:
    """``MICROCRED_SCHEMAS_DIR`` (an override of the OB 3.0 JSON Schema, still pinned), or the
    copy bundled in the package."""
    sdir = e.get("MICROCRED_SCHEMAS_DIR")
    if sdir:
        return Path(sdir).expanduser().resolve()
    from plugin.paths import DATA_DIR
    return DATA_DIR / "schemas"


@dataclass
class Settings:
    env: str = "development"
    instance_dir: Path = field(default_factory=lambda: Path("instance").resolve())
    database_url: str = ""
    base_url: str = "http://127.0.0.1:5000"
    # Secrets stay out of repr(), so a settings object that ends up in a log or a traceback does not leak them.
    secret_key: str = field(default="", repr=False)
    kek: list[str] = field(default_factory=list, repr=False)
    contexts_dir: Path | None = None  # an override; the pinned contexts ship in the package
    contexts_fetch: bool = False
    schemas_dir: Path | None = None
    redis_url: str | None = None
    embedded_worker: bool = False  # run the embedded job worker in a thread of the web app
    rq_queue: str = "microcred"  # the RQ queue name (several instances may share one Redis)
    job_lease_seconds: int = 30  # a running job's lease; a worker that stops renewing it loses the job
    page_refresh_seconds: int = 0  # the status page asks pull sources at most this often per learner (0: every view)
    visit_flush_seconds: float = 5.0  # how often a process writes the page views/verifications it counted
    config_cache_seconds: float = 2.0  # how often a process looks for platform/tool-key changes made elsewhere
    sync_every: int = 3600  # default period of the scheduled catch-up of each course (0: off)
    mail_backend: str = "file"
    mail_from: str = "microcred@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    log_level: str = "INFO"
    trusted_proxies: int = 0
    default_locale: str = "en"
    max_upload_bytes: int = 2 * 1024 * 1024
    # Local/private addresses the tool may call (MICROCRED_OUTBOUND_ALLOW; see plugin.net.policy).
    outbound_allow: list[str] = field(default_factory=list)
    # Rate limits ('N per second|minute|hour|day', several joined with ';'); see docs/settings.md.
    ratelimit_login: str = "5 per minute"
    ratelimit_registration: str = "10 per minute;50 per day"
    ratelimit_verify: str = "30 per minute;1000 per day"
    ratelimit_webhook: str = "600 per minute"
    ratelimit_jwks_refetch: str = "1 per minute"
    # OpenID4VCI (EU wallets): the token, nonce and credential endpoints, per client address.
    ratelimit_oid4vci: str = "60 per minute;1000 per day"
    # How long a wallet offer (its pre-authorized code) lives, in seconds (at most 10 minutes).
    oid4vci_offer_ttl: int = 600
    # /metrics: off unless a bearer token or an allow-list of client addresses is set.
    metrics_token: str | None = field(default=None, repr=False)
    metrics_allow: list[str] = field(default_factory=list)
    generated: list[str] = field(default_factory=list)  # what the embedded default created

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        e = dict(os.environ if environ is None else environ)
        env = (e.get("MICROCRED_ENV") or "development").strip().lower()
        if env not in ENVIRONMENTS:
            raise SettingsError(f"MICROCRED_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
        instance = Path(e.get("MICROCRED_INSTANCE_DIR") or "instance").expanduser().resolve()
        s = cls(env=env, instance_dir=instance)
        s.database_url = e.get("DATABASE_URL", "")
        s.base_url = (e.get("MICROCRED_BASE_URL") or s.base_url).rstrip("/")
        s.secret_key = e.get("MICROCRED_SECRET_KEY", "")
        s.kek = [k.strip() for k in (e.get("MICROCRED_KEK") or "").split(",") if k.strip()]
        # Every pinned context ships in the package; MICROCRED_CONTEXTS_DIR only adds an
        # override folder (still checked against the pins).
        cdir = e.get("MICROCRED_CONTEXTS_DIR")
        s.contexts_dir = Path(cdir).expanduser().resolve() if cdir else None
        s.contexts_fetch = _bool(e.get("MICROCRED_CONTEXTS_FETCH"), False, "MICROCRED_CONTEXTS_FETCH")
        s.schemas_dir = schemas_dir_from_env(e)
        s.redis_url = e.get("MICROCRED_REDIS_URL") or None
        s.embedded_worker = _bool(e.get("MICROCRED_EMBEDDED_WORKER"),
                                  env == "development" and not s.redis_url, "MICROCRED_EMBEDDED_WORKER")
        s.rq_queue = (e.get("MICROCRED_RQ_QUEUE") or s.rq_queue).strip()
        if not re.fullmatch(r"[A-Za-z0-9._:-]{1,100}", s.rq_queue):
            raise SettingsError(f"MICROCRED_RQ_QUEUE must be 1-100 letters, digits or . _ : -, got {s.rq_queue!r}")
        s.job_lease_seconds = _int("MICROCRED_JOB_LEASE_SECONDS", e.get("MICROCRED_JOB_LEASE_SECONDS"),
                                   s.job_lease_seconds)
        if not 3 <= s.job_lease_seconds <= 3600:
            raise SettingsError(f"MICROCRED_JOB_LEASE_SECONDS must be between 3 and 3600, got {s.job_lease_seconds}")
        s.config_cache_seconds = _seconds("MICROCRED_CONFIG_CACHE_SECONDS", e.get("MICROCRED_CONFIG_CACHE_SECONDS"),
                                          s.config_cache_seconds, 0, 300)
        s.visit_flush_seconds = _seconds("MICROCRED_VISIT_FLUSH_SECONDS", e.get("MICROCRED_VISIT_FLUSH_SECONDS"),
                                         s.visit_flush_seconds, 0.1, 300)
        s.page_refresh_seconds = _int("MICROCRED_PAGE_REFRESH_SECONDS", e.get("MICROCRED_PAGE_REFRESH_SECONDS"), 0)
        if not 0 <= s.page_refresh_seconds <= 86400:
            raise SettingsError(f"MICROCRED_PAGE_REFRESH_SECONDS must be between 0 and 86400, "
                                f"got {s.page_refresh_seconds}")
        s.sync_every = _duration("MICROCRED_SYNC_EVERY", e.get("MICROCRED_SYNC_EVERY"), s.sync_every)
        s.mail_backend = (e.get("MICROCRED_MAIL_BACKEND") or ("smtp" if env == "production" else "file")).lower()
        if s.mail_backend not in ("console", "file", "smtp"):
            raise SettingsError(f"MICROCRED_MAIL_BACKEND must be console, file or smtp, got {s.mail_backend!r}")
        s.mail_from = e.get("MICROCRED_MAIL_FROM") or s.mail_from
        s.smtp_host = e.get("MICROCRED_SMTP_HOST") or s.smtp_host
        s.smtp_port = _int("MICROCRED_SMTP_PORT", e.get("MICROCRED_SMTP_PORT"), s.smtp_port)
        s.smtp_user = e.get("MICROCRED_SMTP_USER") or None
        s.smtp_password = e.get("MICROCRED_SMTP_PASSWORD") or None
        s.smtp_starttls = _bool(e.get("MICROCRED_SMTP_STARTTLS"), False, "MICROCRED_SMTP_STARTTLS")
        s.log_level = (e.get("MICROCRED_LOG_LEVEL") or "INFO").upper()
        s.trusted_proxies = _int("MICROCRED_TRUSTED_PROXIES", e.get("MICROCRED_TRUSTED_PROXIES"), 0)
        s.default_locale = e.get("MICROCRED_DEFAULT_LOCALE") or "en"
        s.max_upload_bytes = _int("MICROCRED_MAX_UPLOAD_BYTES", e.get("MICROCRED_MAX_UPLOAD_BYTES"), s.max_upload_bytes)
        s.outbound_allow = [x.strip() for x in (e.get("MICROCRED_OUTBOUND_ALLOW") or "").split(",") if x.strip()]
        s.ratelimit_login = (e.get("MICROCRED_RATELIMIT_LOGIN") or s.ratelimit_login).strip()
        s.ratelimit_registration = (e.get("MICROCRED_RATELIMIT_REGISTRATION") or s.ratelimit_registration).strip()
        s.ratelimit_verify = (e.get("MICROCRED_RATELIMIT_VERIFY") or s.ratelimit_verify).strip()
        s.ratelimit_webhook = (e.get("MICROCRED_RATELIMIT_WEBHOOK") or s.ratelimit_webhook).strip()
        s.ratelimit_jwks_refetch = (e.get("MICROCRED_RATELIMIT_JWKS_REFETCH") or s.ratelimit_jwks_refetch).strip()
        s.ratelimit_oid4vci = (e.get("MICROCRED_RATELIMIT_OID4VCI") or s.ratelimit_oid4vci).strip()
        s.oid4vci_offer_ttl = _duration("MICROCRED_OID4VCI_OFFER_TTL", e.get("MICROCRED_OID4VCI_OFFER_TTL"),
                                        s.oid4vci_offer_ttl)
        if not 30 <= s.oid4vci_offer_ttl <= 600:
            raise SettingsError("MICROCRED_OID4VCI_OFFER_TTL must be between 30 seconds and 10 minutes, "
                                f"got {s.oid4vci_offer_ttl} s")
        s.metrics_token = (e.get("MICROCRED_METRICS_TOKEN") or "").strip() or None
        if s.metrics_token is not None and len(s.metrics_token) < 16:
            raise SettingsError("MICROCRED_METRICS_TOKEN must be at least 16 characters (e.g. openssl rand -hex 24)")
        s.metrics_allow = [x.strip() for x in (e.get("MICROCRED_METRICS_ALLOW") or "").split(",") if x.strip()]
        for item in s.metrics_allow:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise SettingsError(f"MICROCRED_METRICS_ALLOW: {item!r} is not an IP address or network "
                                    "(e.g. 10.0.0.0/8, 127.0.0.1)") from None
        for k, v in overrides.items():
            setattr(s, k, v)
        s._complete()
        return s

    def _complete(self) -> None:
        from plugin.net.policy import AllowListError, parse_allow_list
        from plugin.ratelimit import RateLimitError, parse_rate
        try:
            parse_allow_list(self.outbound_allow)
        except AllowListError as exc:
            raise SettingsError(f"MICROCRED_OUTBOUND_ALLOW: {exc}") from None
        for name, variable in (("login", "MICROCRED_RATELIMIT_LOGIN"),
                               ("registration", "MICROCRED_RATELIMIT_REGISTRATION"),
                               ("verify", "MICROCRED_RATELIMIT_VERIFY"), ("webhook", "MICROCRED_RATELIMIT_WEBHOOK"),
                               ("jwks_refetch", "MICROCRED_RATELIMIT_JWKS_REFETCH"),
                               ("oid4vci", "MICROCRED_RATELIMIT_OID4VCI")):
            try:
                parse_rate(variable, getattr(self, f"ratelimit_{name}"))
            except RateLimitError as exc:
                raise SettingsError(str(exc)) from None
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"MICROCRED_BASE_URL must be an absolute http(s) URL, got {self.base_url!r}")
        if self.is_production:
            missing = [name for name, value in (
                ("MICROCRED_SECRET_KEY", self.secret_key),
                ("MICROCRED_KEK", self.kek),
                ("DATABASE_URL", self.database_url),
            ) if not value]
            if missing:
                raise SettingsError(
                    "production settings refuse to start without " + ", ".join(missing)
                    + " (see docs/settings.md)")
            if parts.scheme != "https":
                raise SettingsError("MICROCRED_BASE_URL must be https in production: LTI platforms require it")
            if len(self.secret_key) < 32:
                raise SettingsError("MICROCRED_SECRET_KEY must be at least 32 characters")
            return
        # Embedded default: create what is missing in the instance folder, and say so.
        if not self.instance_dir.exists() and not (self.database_url and self.secret_key and self.kek):
            self.instance_dir.mkdir(parents=True, exist_ok=True)
            self.generated.append(f"the instance folder {self.instance_dir}")
        if not self.database_url:
            db_file = self.instance_dir / "microcred.sqlite3"
            if not db_file.exists():
                self.generated.append(f"the SQLite database {db_file}")
            self.database_url = f"sqlite:///{db_file}"
        if not self.secret_key:
            self.secret_key = self._instance_secret("secret_key", lambda: secrets.token_urlsafe(48))
        if not self.kek:
            from plugin.storage.secrets import generate_kek
            self.kek = [self._instance_secret("kek", generate_kek)]

    def _instance_secret(self, name: str, make) -> str:
        path = self.instance_dir / name
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        value = make()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made before, or by another process starting at the same time
            stored = path.read_text().strip()
            if not stored:
                raise SettingsError(f"{path} is empty: restore it from your backup") from None
            return stored
        with os.fdopen(fd, "w") as fh:
            fh.write(value + "\n")
        self.generated.append(f"the {name.replace('_', ' ').replace('kek', 'key-encryption key')} {path}")
        return value
