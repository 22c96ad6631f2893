"""Structured logs: one JSON line per event, secrets redacted before they are written."""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone

# A compact JWS / JWT (id_tokens, webhooks, VC-JWTs), PEM private keys, bearer tokens,
# and key=value pairs whose name says secret.
_REDACTIONS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S), "[redacted-private-key]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    # A whole key name (so "created" or "method" are not mistaken for a JWK's "d"), or one
    # ending in a secret word ("access_token", "client_secret", "smtp_password").
    (re.compile(r'(?i)((?<![A-Za-z0-9_])"?(?:[A-Za-z0-9_]*(?:password|passwd|secret|token|kek|private_?key|'
                r'secret_?key|api_?key)|d)"?\s*[:=]\s*"?)[^",\s}&]+'),
     r"\1[redacted]"),
]


def redact(text: str) -> str:
    for pattern, repl in _REDACTIONS:
        text = pattern.sub(repl, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("werkzeug", "gunicorn.access", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_event(logger: logging.Logger, msg: str, level: int = logging.INFO, **fields) -> None:
    logger.log(level, msg, extra={"fields": fields})
