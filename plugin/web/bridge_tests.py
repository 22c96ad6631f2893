"""Connection tests for the platform bridges: each says exactly what failed, in one sentence.

A test takes the platform and a ``secret(name)`` function (sealed bridge secrets, opened
only here) and returns ``(ok, message)``. They call the platforms' own APIs with
``requests``: Open edX's OAuth2 client-credentials endpoint, Moodle's
``core_webservice_get_site_info`` web service.
"""
from __future__ import annotations

from typing import Callable

import requests

TIMEOUT = 10


def _network_failure(url: str, exc: requests.RequestException) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return f"The TLS certificate of {url} was refused: {exc.__class__.__name__}."
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(exc, requests.exceptions.ReadTimeout):
        return f"{url} did not answer within {TIMEOUT} seconds."
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"Could not connect to {url} (name not found, port closed or network unreachable)."
    return f"Request to {url} failed: {exc.__class__.__name__}."


def test_openedx_api(platform, secret: Callable[[str], str | None]) -> tuple[bool, str]:
    settings = platform.bridge_settings or {}
    base = (settings.get("openedx_base_url") or "").rstrip("/")
    client_id = settings.get("openedx_client_id")
    client_secret = secret("openedx_client_secret")
    missing = [label for label, value in (("Open edX LMS URL", base), ("API client id", client_id),
                                          ("API client secret", client_secret)) if not value]
    if missing:
        return False, "Not configured: " + ", ".join(missing) + " missing."
    url = f"{base}/oauth2/access_token"
    try:
        resp = requests.post(url, data={"grant_type": "client_credentials", "client_id": client_id,
                                        "client_secret": client_secret, "token_type": "jwt"}, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return False, _network_failure(url, exc)
    if resp.status_code in (400, 401):
        try:
            error = resp.json().get("error", "")
        except ValueError:
            error = ""
        if error == "invalid_client":
            return False, f"Open edX refused the API client (invalid_client): check the client id and secret."
        return False, f"Open edX answered {resp.status_code} {error or resp.reason} at {url}."
    if resp.status_code == 404:
        return False, f"{url} does not exist (404): is {base} the LMS URL?"
    if resp.status_code != 200:
        return False, f"Open edX answered {resp.status_code} {resp.reason} at {url}."
    try:
        token = resp.json().get("access_token")
    except ValueError:
        token = None
    if not token:
        return False, f"{url} answered 200 without an access token: is it an Open edX LMS?"
    return True, "Open edX issued an access token for the API client."


def test_moodle(platform, secret: Callable[[str], str | None]) -> tuple[bool, str]:
    settings = platform.bridge_settings or {}
    base = (settings.get("moodle_base_url") or platform.issuer or "").rstrip("/")
    token = secret("moodle_token")
    if not token:
        return False, "Not configured: Moodle web-service token missing."
    url = f"{base}/webservice/rest/server.php"
    try:
        resp = requests.post(url, data={"wstoken": token, "wsfunction": "core_webservice_get_site_info",
                                        "moodlewsrestformat": "json"}, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return False, _network_failure(url, exc)
    if resp.status_code == 404:
        return False, f"{url} does not exist (404): is {base} the Moodle site URL, with web services enabled?"
    if resp.status_code != 200:
        return False, f"Moodle answered {resp.status_code} {resp.reason} at {url}."
    try:
        body = resp.json()
    except ValueError:
        return False, f"{url} did not answer JSON: is the REST protocol enabled in Moodle?"
    if isinstance(body, dict) and body.get("exception"):
        code = body.get("errorcode", "")
        hints = {"invalidtoken": "the token is unknown or expired",
                 "accessexception": "the token's service does not allow this function",
                 "webservicesdisabled": "web services are disabled on this Moodle site"}
        return False, f"Moodle refused the token ({code}): {hints.get(code, body.get('message', ''))}."
    functions = {f.get("name") for f in body.get("functions", [])} if isinstance(body, dict) else set()
    needed = {"core_completion_get_course_completion_status", "gradereport_user_get_grade_items"}
    absent = sorted(needed - functions)
    site = body.get("sitename", base) if isinstance(body, dict) else base
    if absent:
        return False, f"Connected to {site}, but the token's service lacks: {', '.join(absent)}."
    return True, f"Connected to {site}; the token may read course completion and grades."


BRIDGE_TESTS = {"openedx_api": test_openedx_api, "moodle": test_moodle}
