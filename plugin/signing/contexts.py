"""JSON-LD contexts resolved from a local store pinned by SHA-256 (never the open network).

pyld silently drops terms that no context defines and happily fetches any URL a
document names. Both produce credentials that other verifiers reject, so every
context the signer or the verifier uses comes from here:

* the URL must be listed in ``plugin/data/context-pins.json`` (URL -> SHA-256 of the file);
* the bytes come from an override folder when one is configured (``MICROCRED_CONTEXTS_DIR``:
  an ``index.json`` maps URL -> file), else from the copies **bundled in the package**
  (``plugin/data/contexts/``, sources and licences in ``SOURCES.md`` there), so a fresh
  install signs and verifies with no network and no setting; only a pinned URL that neither
  holds comes from the cache ``<instance_dir>/contexts/`` or, when
  ``MICROCRED_CONTEXTS_FETCH`` is true (default false), from the URL itself, once, and cached;
* the bytes must hash to the pinned digest, otherwise the context is refused with an
  error naming the URL (an override folder holding an altered copy is refused, not skipped).

Our own extension context ships with the package (``plugin/data/contexts/``) and is
served by the tool at ``<base_url>/contexts/microcred/v1.jsonld``; any URL whose path ends
with that suffix resolves to the bundled file (its digest is pinned too).

:meth:`ContextStore.loader` is a pyld document loader. Its documents carry ``tag: static``
so pyld keeps the processed contexts in its process-wide cache (about 1.5x faster).
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from plugin.paths import DATA_DIR

PINS_FILE = DATA_DIR / "context-pins.json"
EXTENSION_PATH = "/contexts/microcred/v1.jsonld"
EXTENSION_FILE = DATA_DIR / "contexts" / "microcred-v1.jsonld"
BUNDLED_DIR = DATA_DIR / "contexts"
MAX_CONTEXT_BYTES = 2 * 1024 * 1024  # the largest pinned context is some tens of KB

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
STATUS_V1 = "https://www.w3.org/ns/credentials/status/v1"


class ContextError(RuntimeError):
    """A context is not pinned, does not match its pin, or cannot be obtained."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def extension_context_url(base_url: str) -> str:
    """Where the tool serves its JSON-LD extension context: ``<base_url>/contexts/microcred/v1.jsonld``."""
    return base_url.rstrip("/") + EXTENSION_PATH


def is_extension_context_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.path.endswith(EXTENSION_PATH) \
        and not parts.query and not parts.fragment


def load_pins(path: Path = PINS_FILE) -> dict[str, Any]:
    """The pins file: ``{"contexts": {url: sha256}, "extension": {"file": ..., "sha256": ...}}``."""
    return json.loads(path.read_text(encoding="utf-8"))


def extension_context_bytes() -> bytes:
    return EXTENSION_FILE.read_bytes()


class ContextStore:
    """Pinned JSON-LD contexts. Thread-safe; documents are parsed once per process.

    ``documents`` injects extra URL -> parsed document pairs without a pin: for tests only
    (e.g. the W3C examples context of the eddsa-rdfc-2022 vectors).
    """

    def __init__(self, *, pins: dict[str, str] | None = None, directory: Path | str | None = None,
                 fetch: bool = False, cache_dir: Path | str | None = None, timeout: float = 10.0,
                 documents: dict[str, Any] | None = None,
                 extension: tuple[bytes, str] | None = None):
        raw_pins = load_pins() if pins is None else {"contexts": pins}
        self.pins: dict[str, str] = dict(raw_pins.get("contexts", {}))
        ext = raw_pins.get("extension")
        if extension is not None:
            self._extension_bytes, self._extension_pin = extension
        else:
            self._extension_bytes = extension_context_bytes()
            self._extension_pin = ext["sha256"] if ext else sha256_hex(self._extension_bytes)
        if sha256_hex(self._extension_bytes) != self._extension_pin:
            raise ContextError(f"the bundled extension context {EXTENSION_FILE} does not match its pinned "
                               f"SHA-256 in {PINS_FILE}")
        self.directory = Path(directory) if directory else None  # the override, if any
        # Folders to look in, in order: the override, then the copies bundled in the package.
        self._folders: list[tuple[Path, dict[str, str]]] = []
        for folder in ([self.directory] if self.directory is not None else []) + [BUNDLED_DIR]:
            self._folders.append((folder, _read_index(folder)))
        self.fetch = fetch
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.timeout = timeout
        self._extra = dict(documents or {})
        self._docs: dict[str, Any] = {}
        self._lock = threading.Lock()
        # Data derived from these contexts (e.g. canonicalization templates), kept per store so
        # a store never uses what another store's contexts produced.
        self.derived: dict[str, Any] = {}

    # ------------------------------------------------------------------ lookups
    def is_known(self, url: str) -> bool:
        return url in self.pins or url in self._extra or is_extension_context_url(url)

    def get(self, url: str) -> Any:
        """The parsed context document for ``url`` (shared: do not modify it)."""
        doc = self._docs.get(url)
        if doc is not None:
            return doc
        with self._lock:
            doc = self._docs.get(url)
            if doc is None:
                doc = self._load(url)
                self._docs[url] = doc
        return doc

    def raw(self, url: str) -> bytes:
        """The exact bytes of a pinned context (what the tool serves)."""
        if is_extension_context_url(url):
            return self._extension_bytes
        if url in self._extra:
            return json.dumps(self._extra[url]).encode()
        return self._pinned_bytes(url)

    def _load(self, url: str) -> Any:
        if url in self._extra:
            return self._extra[url]
        data = self.raw(url)
        try:
            return json.loads(data.decode("utf-8"))
        except ValueError as exc:
            raise ContextError(f"JSON-LD context {url} is not valid JSON: {exc}") from None

    def _pinned_bytes(self, url: str) -> bytes:
        pin = self.pins.get(url)
        if pin is None:
            raise ContextError(f"JSON-LD context {url} is not pinned: refusing to load it "
                               f"(only contexts listed in {PINS_FILE.name} are used)")
        # 1. the override folder, then the bundled copies
        for folder, index in self._folders:
            if url in index:
                path = folder / index[url]
                if path.is_file():
                    data = path.read_bytes()
                    if sha256_hex(data) != pin:
                        raise ContextError(f"JSON-LD context {url} from {path} does not match its pinned SHA-256 "
                                           f"(expected {pin}, got {sha256_hex(data)})")
                    return data
        # 2. the instance cache (written after a checked fetch)
        cached = self.cache_dir / f"{pin}.jsonld" if self.cache_dir else None
        if cached is not None and cached.is_file():
            data = cached.read_bytes()
            if sha256_hex(data) == pin:
                return data
        # 3. the network, once
        if not self.fetch:
            where = " or ".join(str(folder) for folder, _ in self._folders)
            raise ContextError(f"JSON-LD context {url} is not available in {where} and fetching is off "
                               "(MICROCRED_CONTEXTS_FETCH=false)")
        data = self._download(url)
        if sha256_hex(data) != pin:
            raise ContextError(f"JSON-LD context {url} fetched from the network does not match its pinned "
                               f"SHA-256 (expected {pin}, got {sha256_hex(data)}): refusing it")
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, cached)
        return data

    def _download(self, url: str) -> bytes:
        # Only pinned URLs get here (checked against their digest after): still through the
        # outbound layer, public addresses only, like every request to a URL from outside.
        import requests

        from plugin.net import OutboundPolicy, describe_error, outbound_session
        try:
            with outbound_session(OutboundPolicy(), max_bytes=MAX_CONTEXT_BYTES,
                                  timeout=(self.timeout, self.timeout)) as http:
                resp = http.get(url, headers={"Accept": "application/ld+json, application/json"})
            resp.raise_for_status()
        except requests.RequestException as exc:
            raise ContextError(f"cannot fetch JSON-LD context {url}: {describe_error(exc)}") from None
        return resp.content

    # ------------------------------------------------------------------ pyld
    def loader(self, url: str, options: dict | None = None) -> dict[str, Any]:
        """pyld document loader: pinned documents only, marked ``static`` so pyld caches them."""
        try:
            doc = self.get(url)
        except ContextError as exc:
            from pyld.jsonld import JsonLdError
            raise JsonLdError(str(exc), "jsonld.LoadDocumentError", {"url": url},
                              code="loading document failed") from exc
        # pyld keeps "static" documents in a process-wide cache: only pinned ones qualify
        # (test-only injected documents must not outlive their store).
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
                # pyld resolves relative context URLs in place: give it its own copy.
                "document": copy.deepcopy(doc), "tag": None if url in self._extra else "static"}

    def preload(self, urls) -> None:
        """Load (and check) several contexts now, e.g. at start-up."""
        for url in urls:
            self.get(url)


def _read_index(folder: Path) -> dict[str, str]:
    index = folder / "index.json"
    if not index.is_file():
        raise ContextError(f"JSON-LD contexts directory {folder} has no index.json "
                           "(check MICROCRED_CONTEXTS_DIR)")
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ContextError(f"{index} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ContextError(f"{index} must map context URLs to file names")
    return data


def store_from_settings(settings) -> ContextStore:
    cache = Path(settings.instance_dir) / "contexts" if getattr(settings, "instance_dir", None) else None
    return ContextStore(directory=settings.contexts_dir, fetch=bool(settings.contexts_fetch), cache_dir=cache)


def get_store(services) -> ContextStore:
    """The context store of these services, built once from the settings and kept in ``services.extras``."""
    store = services.extras.get("context_store")
    if store is None:
        store = store_from_settings(services.settings)
        services.extras["context_store"] = store
    return store


_DEFAULT: list[ContextStore] = []


def default_store() -> ContextStore:
    """A process-wide store for library use outside the app (CLI verify, benchmarks).

    The bundled contexts, with ``MICROCRED_CONTEXTS_DIR`` as an override and
    ``MICROCRED_CONTEXTS_FETCH`` (default false: library calls stay offline).
    """
    if not _DEFAULT:
        cdir = os.environ.get("MICROCRED_CONTEXTS_DIR") or None
        fetch = (os.environ.get("MICROCRED_CONTEXTS_FETCH") or "false").strip().lower() in ("1", "true", "yes", "on")
        _DEFAULT.append(ContextStore(directory=cdir, fetch=fetch))
    return _DEFAULT[0]


Loader = Callable[[str, dict | None], dict]
