"""Security headers on pages, files and JSON; the pages work under the strict CSP (no inline
code); the API is closed to anonymous callers by default."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from inspect_app.auth.permissions import Role
from inspect_app.security import CONTENT_SECURITY_POLICY

EXPECTED_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; "
                "manifest-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
                "form-action 'self'; object-src 'none'")


def assert_hardened(response, where: str) -> None:
    headers = response.headers
    assert headers.get("Content-Security-Policy") == EXPECTED_CSP, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") in {"same-origin", "strict-origin-when-cross-origin",
                                              "no-referrer"}, where
    policy = headers.get("Permissions-Policy", "")
    assert "camera=(self)" in policy and "geolocation=(self)" in policy, where
    assert "microphone=()" in policy, where


def test_the_policy_is_the_documented_one():
    """Is the CSP exactly the one the PWA is written for (no 'unsafe-inline', no eval)?"""
    assert CONTENT_SECURITY_POLICY == EXPECTED_CSP
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_pages_errors_json_and_files_carry_the_headers(client, make_user, token_for):
    """Do the sign-in page, an error page, API JSON, the OpenAPI document and a static file
    all carry the security headers?"""
    make_user("fwgl", (Role.service_manager, "TS"))
    headers = token_for("fwgl")
    for url, kwargs in (("/login", {}), ("/no-such-page", {}), ("/api/v1/me", {"headers": headers}),
                        ("/api/v1/me", {}), ("/api/v1/openapi.json", {}),
                        ("/static/css/app.css", {})):
        with client.get(url, **kwargs) as response:
            assert_hardened(response, url)


def test_authenticated_api_json_is_never_stored(client, make_user, token_for):
    """Is personal API JSON sent with Cache-Control: no-store, so no cache keeps it?"""
    make_user("fwgl", (Role.service_manager, "TS"))
    response = client.get("/api/v1/org-units", headers=token_for("fwgl"))
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]


def test_photo_files_keep_their_private_revalidating_cache(client, api, first):
    """Are photo renditions (not JSON) still cacheable privately by the phone, never publicly?"""
    from ..helpers import filler_of, submit_filled

    spot = first("spot_check")
    submit_filled(client, api(filler_of(spot)), spot.id)
    photos = client.get(f"/api/v1/inspections/{spot.id}/photos", headers=api("fwgl")).get_json()
    response = client.get(photos[0]["thumbnail_url"], headers=api("fwgl"))
    assert response.status_code == 200
    assert "private" in response.headers["Cache-Control"]
    assert "public" not in response.headers["Cache-Control"]
    assert_hardened(response, "photo")


# -- deny by default ------------------------------------------------------------------------


def test_an_api_endpoint_that_forgets_to_check_the_user_is_still_closed(app, client, org):
    """If a new API view never calls current_user(), is it still 401 for anonymous callers?"""
    app.add_url_rule("/api/v1/forgetful", "forgetful", lambda: {"secret": 42})
    response = client.get("/api/v1/forgetful")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "not_authenticated"


def test_anonymous_writes_are_refused_before_the_body_is_read(client, org):
    """Does an anonymous POST with a nonsense body get 401, not a validation error that
    describes the schema?"""
    response = client.post("/api/v1/org-units", json={"nonsense": True})
    assert response.status_code == 401


def test_a_bad_token_is_named_as_such(client, org):
    """Does a wrong bearer token get the invalid_token code, so apps know to sign in again?"""
    response = client.get("/api/v1/inspections", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


# -- pages under the CSP ----------------------------------------------------------------------


class InlineCodeFinder(HTMLParser):
    """Collects what a strict CSP would block: inline scripts and styles, event-handler
    attributes, style attributes and javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event-handler attribute")
            if name.lower() == "style":
                self.problems.append(f"<{tag} style=…> inline style")
            if name.lower() in {"href", "src", "action", "formaction"} and value \
                    and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag in {"script", "style"}:
            kind = dict(attrs).get("type", "")
            # JSON data blocks are not executed and CSP allows them.
            self._open = None if tag == "script" and kind == "application/json" else tag

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self._open = None

    def handle_data(self, data):
        if self._open and data.strip():
            self.problems.append(f"inline <{self._open}> with content: {data.strip()[:60]!r}")


def page_urls(app, inspection_id: int) -> list[str]:
    """Every GET page of the app (not the API, static files or service worker)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api/", "/static/")):
            continue
        if rule.rule.endswith((".js", ".webmanifest", ".json")):
            continue
        urls.append(re.sub(r"<(?:int:)?[a-z_]+>", str(inspection_id), rule.rule))
    return sorted(urls)


@pytest.mark.parametrize("username", [None, "fwgl", "jc.fenhang1", "wd.lb01"])
def test_pages_have_no_inline_code_and_carry_the_csp(app, client, login, first, username):
    """Does every page the app serves — signed out and for each kind of user — work under the
    strict CSP: no inline <script>/<style> content, no on*= handlers, no style= attributes?"""
    from inspect_app.demo.seed import DEMO_PASSWORD

    spot = first("spot_check")
    if username:
        response = login(username, DEMO_PASSWORD)
        assert response.status_code == 302
    problems = []
    for url in page_urls(app, spot.id) + ["/login?lang=en", "/no-such-page"]:
        response = client.get(url)
        if response.mimetype != "text/html":
            continue
        assert_hardened(response, url)
        finder = InlineCodeFinder()
        finder.feed(response.get_data(as_text=True))
        problems += [f"{url} ({username or 'anonymous'}): {p}" for p in finder.problems]
    assert not problems, "inline code the CSP would block:\n" + "\n".join(problems)
