import hashlib
import json
import shutil
from types import SimpleNamespace

import pytest
from pyld import jsonld

from plugin.net.http import OutboundSession

from plugin.signing import contexts as ctx
from plugin.signing.contexts import ContextError, ContextStore, extension_context_url, get_store
from tests.conftest import CONTEXTS_DIR


def test_every_standard_context_is_pinned_with_the_published_digest():
    pins = ctx.load_pins()["contexts"]
    index = json.loads((CONTEXTS_DIR / "index.json").read_text())
    sums = {name: digest for digest, name in
            (line.split() for line in (CONTEXTS_DIR / "SHA256SUMS").read_text().splitlines())}
    assert set(pins) == set(index)
    for url, name in index.items():
        assert pins[url] == sums[name] == hashlib.sha256((CONTEXTS_DIR / name).read_bytes()).hexdigest()


def test_extension_context_is_pinned_by_its_file_digest():
    pin = ctx.load_pins()["extension"]["sha256"]
    assert pin == hashlib.sha256(ctx.EXTENSION_FILE.read_bytes()).hexdigest()


def test_store_loads_every_pinned_context_from_the_directory():
    store = ContextStore(directory=CONTEXTS_DIR)
    for url in ctx.load_pins()["contexts"]:
        assert "@context" in store.get(url)


def test_unpinned_url_is_refused_with_its_name():
    store = ContextStore(directory=CONTEXTS_DIR, fetch=True)
    with pytest.raises(ContextError, match="https://evil.example/ctx.jsonld.*not pinned"):
        store.get("https://evil.example/ctx.jsonld")


def test_loader_refuses_unpinned_url_without_network(monkeypatch):
    def no_network(*a, **k):
        raise AssertionError("the network was used")
    monkeypatch.setattr(OutboundSession, "get", no_network)
    store = ContextStore(directory=CONTEXTS_DIR, fetch=True)
    doc = {"@context": "https://evil.example/ctx.jsonld", "name": "x"}
    with pytest.raises(jsonld.JsonLdError) as info:
        jsonld.expand(doc, {"documentLoader": store.loader})
    assert "evil.example" in repr(info.value) or "evil.example" in str(info.value.__cause__)


def test_altered_context_file_is_refused(tmp_path):
    copy = tmp_path / "contexts"
    shutil.copytree(CONTEXTS_DIR, copy)
    path = copy / "credentials-v2.jsonld"
    path.write_bytes(path.read_bytes().replace(b"validFrom", b"validFrum", 1))
    store = ContextStore(directory=copy)
    with pytest.raises(ContextError, match="https://www.w3.org/ns/credentials/v2.*does not match its pinned SHA-256"):
        store.get(ctx.CREDENTIALS_V2)
    # the others still load
    assert store.get(ctx.OB_V3P0)


def test_default_store_uses_the_contexts_bundled_in_the_package(monkeypatch):
    """No directory, no network: every pinned context loads from the package."""
    monkeypatch.setattr(OutboundSession, "get", lambda *a, **k: (_ for _ in ()).throw(AssertionError("network")))
    store = ContextStore(fetch=True)
    assert store.directory is None
    for url in ctx.load_pins()["contexts"]:
        assert "@context" in store.get(url)


def test_an_override_folder_wins_and_is_still_pinned(tmp_path):
    copy = tmp_path / "contexts"
    copy.mkdir()
    (copy / "index.json").write_text(json.dumps({ctx.DID_V1: "did.jsonld"}))
    (copy / "did.jsonld").write_bytes((CONTEXTS_DIR / "did-v1.jsonld").read_bytes().replace(b"service", b"servise", 1))
    store = ContextStore(directory=copy)
    with pytest.raises(ContextError, match="did/v1 from .*did.jsonld does not match its pinned SHA-256"):
        store.get(ctx.DID_V1)
    assert store.get(ctx.CREDENTIALS_V2)  # not in the override: the bundled copy


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ContextError, match="no index.json"):
        ContextStore(directory=tmp_path / "nowhere")


def test_a_pinned_url_nowhere_on_disk_without_fetch_says_fetching_is_off():
    url = "https://example.org/pinned-but-not-shipped.jsonld"
    store = ContextStore(pins={url: "0" * 64}, fetch=False)
    with pytest.raises(ContextError, match="pinned-but-not-shipped.*fetching is off"):
        store.get(url)


class _Resp:
    def __init__(self, content):
        self.content = content

    def raise_for_status(self):
        pass


def test_fetch_checks_digest_and_caches_once(tmp_path, monkeypatch):
    calls = []
    real = (CONTEXTS_DIR / "did-v1.jsonld").read_bytes()

    def fake_get(session, url, headers=None):  # the outbound layer's session (public addresses only)
        calls.append((url, session.default_timeout, session.policy.allow))
        return _Resp(real)
    monkeypatch.setattr(OutboundSession, "get", fake_get)
    cache = tmp_path / "instance" / "contexts"
    url = "https://example.org/not-shipped/did.jsonld"  # pinned, but not in the package
    pins = {url: hashlib.sha256(real).hexdigest()}
    store = ContextStore(pins=pins, fetch=True, cache_dir=cache, timeout=3)
    assert store.get(url)["@context"]
    assert calls == [(url, (3, 3), ())]
    assert list(cache.iterdir())
    # a new process (new store) uses the cache, not the network
    store2 = ContextStore(pins=pins, fetch=True, cache_dir=cache)
    assert store2.get(url) == store.get(url)
    assert len(calls) == 1


def test_fetched_context_with_wrong_digest_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(OutboundSession, "get", lambda session, url, headers=None: _Resp(b'{"@context": {}}'))
    cache = tmp_path / "contexts"
    url = "https://example.org/not-shipped/did.jsonld"
    store = ContextStore(pins={url: hashlib.sha256((CONTEXTS_DIR / "did-v1.jsonld").read_bytes()).hexdigest()},
                         fetch=True, cache_dir=cache)
    with pytest.raises(ContextError, match="not-shipped/did.jsonld fetched from the network does not match"):
        store.get(url)
    assert not cache.exists() or not list(cache.iterdir())


def test_extension_context_resolves_under_any_base_url():
    store = ContextStore(directory=CONTEXTS_DIR)
    for base in ("http://tool.test", "https://mc.example.org:8443/sub/path/"):
        url = extension_context_url(base)
        assert url.endswith("/contexts/microcred/v1.jsonld") and "//contexts" not in url
        assert store.get(url) == json.loads(ctx.EXTENSION_FILE.read_text())
        assert store.raw(url) == ctx.EXTENSION_FILE.read_bytes()
    with pytest.raises(ContextError):
        store.get("https://tool.test/contexts/microcred/v2.jsonld")


def test_loader_marks_documents_static_and_gives_copies():
    store = ContextStore(directory=CONTEXTS_DIR)
    a = store.loader(ctx.CREDENTIALS_V2)
    b = store.loader(ctx.CREDENTIALS_V2)
    assert a["tag"] == "static" and a["documentUrl"] == ctx.CREDENTIALS_V2
    a["document"]["@context"]["injected"] = "x"
    assert "injected" not in b["document"]["@context"]


def test_get_store_builds_from_settings_once(tmp_path):
    settings = SimpleNamespace(contexts_dir=CONTEXTS_DIR, contexts_fetch=False, instance_dir=tmp_path)
    services = SimpleNamespace(settings=settings, extras={})
    store = get_store(services)
    assert get_store(services) is store
    assert store.directory == CONTEXTS_DIR and store.fetch is False
    assert store.cache_dir == tmp_path / "contexts"


def test_injected_test_documents_are_not_cached_process_wide_by_pyld():
    store = ContextStore(directory=CONTEXTS_DIR, documents={"https://example.test/ctx": {"@context": {}}})
    assert store.loader("https://example.test/ctx")["tag"] is None
    assert store.loader(ctx.CREDENTIALS_V2)["tag"] == "static"
