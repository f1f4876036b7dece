"""Sessions and sign-in: cookies, expiry on a fake clock, CSRF everywhere, rate limits shared
through Redis, lockout, password policy, audit entries."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from inspect_app import create_app
from inspect_app.audit.models import AuditEntry
from inspect_app.auth import operations as auth_operations
from inspect_app.auth import session as auth_session
from inspect_app.auth.models import User
from inspect_app.auth.permissions import Role
from inspect_app.db import utcnow
from inspect_app.errors import InvalidInput
from inspect_app.extensions import db

from ..conftest import PASSWORD, FreshContextClient


class Clock:
    """A settable ``utcnow`` for the session and sign-in code."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(auth_session, "utcnow", fake)
    monkeypatch.setattr(auth_operations, "utcnow", fake)
    return fake


def actions() -> list[str]:
    return db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


# -- cookies ------------------------------------------------------------------------------


def test_cookie_is_secure_httponly_and_samesite_behind_https(app, client, make_user, login):
    """With SESSION_COOKIE_SECURE, is the cookie Secure, HttpOnly, SameSite, and does every
    answer carry HSTS?"""
    app.config["SESSION_COOKIE_SECURE"] = True
    make_user("jc1", (Role.inspector, "TS-LB"))
    response = login("jc1")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_plain_http_setup_sends_no_hsts(client, org):
    """Without HTTPS (the embedded set-up), is HSTS left out so the site stays reachable?"""
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_secure_cookie_is_read_from_the_environment(monkeypatch, tmp_path):
    """Does SESSION_COOKIE_SECURE=true in the environment reach the cookie settings?"""
    from inspect_app.config import load_config

    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("SECRET_KEY", "x")
    config = load_config(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] in {"Lax", "Strict"}


# -- expiry on a fake clock ---------------------------------------------------------------


def test_idle_session_expires_after_two_hours(client, make_user, login, clock):
    """Is a session left alone longer than the idle limit signed out?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    login("jc1")
    clock.advance(minutes=119)
    assert signed_in(client)
    clock.advance(minutes=121)
    assert not signed_in(client)


def test_activity_keeps_a_session_alive_until_the_absolute_limit(app, client, make_user, login,
                                                                  clock):
    """Does use keep a session going, but never past SESSION_HOURS since sign-in?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    login("jc1")
    hours = app.config["PERMANENT_SESSION_LIFETIME"] / timedelta(hours=1)
    elapsed = 0
    while elapsed + 1.5 < hours:
        clock.advance(minutes=90)  # inside the idle limit each time
        elapsed += 1.5
        assert signed_in(client), f"signed out after {elapsed} h of activity"
    clock.advance(minutes=91)
    assert not signed_in(client)


def test_a_read_that_changes_nothing_does_not_rewrite_the_cookie(client, make_user, login):
    """A page's API reads still in flight when the person switches to English must not undo
    the switch: does a request that leaves the session as it was send no Set-Cookie (the
    browser would otherwise store the older cookie it carried, without the language)?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    login("jc1")
    before = client.get_cookie("session").value
    assert "Set-Cookie" in client.get("/tasks?lang=en").headers  # the switch is stored
    client.set_cookie("session", before)  # an API read sent before the switch …
    stale = client.get("/api/v1/me")
    assert stale.status_code == 200
    assert "Set-Cookie" not in stale.headers  # … answers without overwriting the new cookie


def test_expired_session_cannot_write_through_the_api(app, client, make_user, login, clock):
    """Does an expired session lose its API access too (401, not a silent success)?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    login("jc1")
    assert client.get("/api/v1/me").status_code == 200
    clock.advance(hours=3)
    assert client.get("/api/v1/me").status_code == 401


def test_password_change_signs_out_other_sessions(client, make_user, login):
    """Does changing a password end the sessions that were open before?"""
    make_user("admin", (Role.admin, "TS"))
    user = make_user("jc1", (Role.inspector, "TS-LB"))
    login("jc1")
    assert signed_in(client)
    admin = FreshContextClient(client.application)
    token = admin.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    response = admin.patch(f"/api/v1/users/{user.id}", json={"password": "NewPassw0rd"},
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    assert not signed_in(client)


def test_sign_in_rotates_the_cookie_and_the_csrf_token(client, make_user, login):
    """After sign-in, is the anonymous cookie's CSRF token useless (no session fixation)?"""
    make_user("admin", (Role.admin, "TS"))
    client.get("/login")
    with client.session_transaction() as sess:
        anonymous_csrf = sess["csrf"]
    login("admin")
    body = {"kind": "outlet", "code": "TS-LB-09", "name": "新网点", "parent_id": 2}
    response = client.post("/api/v1/org-units", json=body,
                           headers={"X-CSRF-Token": anonymous_csrf})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


# -- CSRF on every state-changing endpoint --------------------------------------------------


def _fill(rule: str) -> str:
    return re.sub(r"<(?:int:)?[a-z_]+>", "1", re.sub(r"<string:[a-z_]+>", "thumb", rule))


def test_every_state_changing_endpoint_needs_the_csrf_token_with_a_session(app, client,
                                                                            make_user, login):
    """Is every POST/PUT/PATCH/DELETE (pages and API) refused when it rides on the session
    cookie without the CSRF token — before it reads the body or touches anything?"""
    make_user("admin", (Role.admin, "TS"))
    login("admin")
    before = len(actions())
    refused, accepted = [], []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            response = client.open(_fill(rule.rule), method=method, json={},
                                   headers={"X-CSRF-Token": "forged"})
            body = response.get_json(silent=True) or {}
            code = (body.get("error") or {}).get("code")
            if response.status_code == 400 and (code == "csrf_failed"
                                                or "页面已过期" in response.get_data(as_text=True)):
                refused.append(rule.rule)
            else:
                accepted.append(f"{method} {rule.rule}: {response.status_code} {code}")
    assert not accepted, "state-changing endpoints that skip the CSRF check:\n" + \
        "\n".join(accepted)
    assert refused and len(actions()) == before


def test_bearer_token_calls_need_no_csrf_token(client, make_user, token_for):
    """Are API clients with a bearer token (no ambient cookie) spared the CSRF token?"""
    make_user("admin", (Role.admin, "TS"))
    body = {"kind": "outlet", "code": "TS-LB-08", "name": "令牌网点", "parent_id": 2}
    response = client.post("/api/v1/org-units", json=body, headers=token_for("admin"))
    assert response.status_code == 201


# -- rate limiting --------------------------------------------------------------------------


def _redis_url() -> str | None:
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=1).ping()
        return "redis://127.0.0.1:6379/0"
    except Exception:
        return None


def test_rate_limit_storage_follows_redis_url(monkeypatch, tmp_path):
    """With REDIS_URL set, do the rate limits live in Redis (shared by every worker)?"""
    from inspect_app.config import load_config

    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    assert load_config(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    monkeypatch.delenv("REDIS_URL")
    assert load_config(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "memory://"


def test_two_instances_sharing_redis_share_the_sign_in_count(app, org, tmp_path):
    """Do two app instances (two gunicorn workers) on the same Redis count sign-in attempts
    together, so a client cannot multiply its tries by hitting different workers — and does
    the count really live in Redis (which every process on the machine shares)?"""
    url = _redis_url()
    if url is None:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (scripts/services.sh starts it)")
    import redis

    store = redis.Redis.from_url(url)
    pattern = "*auth_api.Tokens/4/1/minute*"  # this test's limit, whatever the key prefix
    for key in store.scan_iter(pattern):
        store.delete(key)
    overrides = {"RATELIMIT_STORAGE_URI": url, "LOGIN_RATE_LIMIT": "4 per minute"}
    nobody = f"nobody.{uuid.uuid4().hex[:8]}"  # a name no earlier run has counted in Redis
    first = create_app({**app.config, **overrides})
    second = create_app({**app.config, **overrides})
    statuses = []
    try:
        for index in range(6):
            worker = (first, second)[index % 2]
            with worker.app_context():
                response = worker.test_client().post(
                    "/api/v1/auth/token", json={"username": nobody, "password": "wrong-pass1"})
                statuses.append(response.status_code)
        keys = list(store.scan_iter(pattern))
    finally:
        for instance in (first, second):
            with instance.app_context():
                db.engine.dispose()
        for key in store.scan_iter(pattern):
            store.delete(key)
        store.close()
        create_app(app.config)  # the limiter is one object: point it back at this test's app
    assert statuses == [401, 401, 401, 401, 429, 429], statuses
    assert keys, "the sign-in count is not in Redis"


def _attempts(app, overrides: dict, tries: list[tuple[str, str | None]]) -> list[int]:
    """Sign-in attempts ``(password, X-Forwarded-For)`` against another instance of ``app``
    (a worker configured with ``overrides``), from 127.0.0.1; their statuses."""
    instance = create_app({**app.config, **overrides})
    try:
        with instance.app_context():
            client = instance.test_client()
            return [client.post("/api/v1/auth/token",
                                json={"username": "jc1", "password": password},
                                headers={"X-Forwarded-For": forwarded} if forwarded else {},
                                environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code
                    for password, forwarded in tries]
    finally:
        with instance.app_context():
            db.engine.dispose()
        create_app(app.config)  # the limiter is one object: point it back at this test's app


def test_sign_in_goes_on_when_the_rate_limit_store_is_down(app, org, make_user):
    """Redis stopped: can people still sign in, with the limit still counted (in each
    worker's memory until Redis is back), instead of every sign-in failing with a 500?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    statuses = _attempts(app, {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:9/0",
                               "LOGIN_RATE_LIMIT": "3 per minute"},
                         [(PASSWORD, None)] + [("wrong-pass1", None)] * 3)
    assert statuses == [201, 401, 401, 429], statuses


def test_behind_a_trusted_proxy_each_client_has_its_own_address(app, org, make_user):
    """With TRUSTED_PROXIES=1 (nginx in front), do the sign-in limit and the audit log see
    each client's own address from X-Forwarded-For — and without it is the header ignored,
    so a client cannot choose its address?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    tries = [("wrong-pass1", "203.0.113.7")] * 3 + [("wrong-pass1", "198.51.100.4")]
    assert _attempts(app, {"TRUSTED_PROXIES": 1, "LOGIN_RATE_LIMIT": "2 per minute"},
                     tries) == [401, 401, 429, 401]
    failed = AuditEntry.action == "auth.login_failed"
    assert set(db.session.scalars(sa.select(AuditEntry.ip).where(failed))) == {
        "203.0.113.7", "198.51.100.4"}
    assert _attempts(app, {"LOGIN_RATE_LIMIT": "2 per minute"},
                     tries) == [401, 401, 429, 429]  # one address: the proxy's
    assert db.session.scalars(sa.select(AuditEntry.ip).where(failed)
                              .order_by(AuditEntry.id.desc())).first() == "127.0.0.1"


def test_page_sign_in_is_rate_limited_too(app, client, org):
    """Is the sign-in page limited like the token endpoint (429, and the page says so)?"""
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    client.get("/login")
    with client.session_transaction() as sess:
        csrf = sess["csrf"]
    statuses = [client.post("/login", data={"username": "x", "password": "y",
                                            "csrf_token": csrf}).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    page = client.post("/login", data={"username": "jc1", "password": "y", "csrf_token": csrf})
    text = page.get_data(as_text=True)
    # the form again, with the name kept and how long to wait — not a bare error page
    assert page.status_code == 429 and 'name="password"' in text and 'value="jc1"' in text
    assert re.search(r"操作过于频繁，请 \d+ 秒后再试", text)


# -- lockout, policy, audit ---------------------------------------------------------------


def test_lockout_ends_by_itself_after_the_lockout_time(app, client, make_user, clock):
    """Is a locked account usable again once LOGIN_LOCKOUT_MINUTES have passed — and not
    before?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    post = lambda password: client.post("/api/v1/auth/token",  # noqa: E731
                                        json={"username": "jc1", "password": password})
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert post("wrong-pass1").status_code == 401
    assert post(PASSWORD).status_code == 423
    clock.advance(minutes=app.config["LOGIN_LOCKOUT_MINUTES"] - 1)
    assert post(PASSWORD).status_code == 423
    clock.advance(minutes=2)
    assert post(PASSWORD).status_code == 201


@pytest.mark.parametrize("password", ["short1", "onlyletters", "12345678", "password1",
                                      "Passw0rd", "qwerty123", "jc1-secret9"])
def test_password_policy_refuses_weak_passwords(app, password):
    """Are short, single-class, common or username-containing passwords refused?"""
    with pytest.raises(InvalidInput) as refused:
        auth_operations.validate_password(password, username="jc1")
    assert refused.value.code == "weak_password"


def test_password_policy_accepts_a_reasonable_password(app):
    """Is an ordinary strong password accepted?"""
    auth_operations.validate_password("Tangshan2026x", username="jc1")


def test_an_unknown_name_is_answered_exactly_as_an_account_is(app, make_user):
    """Wrong passwords under a real username and under a name with no account: the same
    answers in the same order (401 until the lockout, then 423), so neither the answers nor a
    lockout tell which usernames exist?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    client = FreshContextClient(app)

    def answers(username: str) -> list[tuple[int, str]]:
        replies = [client.post("/api/v1/auth/token",
                               json={"username": username, "password": "wrong-pass1"})
                   for _ in range(app.config["LOGIN_MAX_FAILURES"] + 2)]
        return [(r.status_code, r.get_json()["error"]["code"]) for r in replies]

    account = answers("jc1")
    assert account[-1] == (423, "account_locked") and account[0][0] == 401
    assert answers("no.such.person") == account


def test_sign_ins_failures_and_lockouts_are_audited(app, client, make_user, login):
    """Does the audit log record each sign-in, each failure (even for unknown names) and the
    refusal of a locked account, with the client address?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    login("nobody", "whatever1")
    login("jc1")
    client = FreshContextClient(app)  # the API, without the page's cookie
    assert client.post("/api/v1/auth/token",
                       json={"username": "jc1", "password": PASSWORD}).status_code == 201
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/api/v1/auth/token", json={"username": "jc1", "password": "wrong-pass1"})
    client.post("/api/v1/auth/token", json={"username": "jc1", "password": PASSWORD})
    logged = actions()
    assert logged.count("auth.login") == 2
    assert logged.count("auth.login_failed") == 1 + app.config["LOGIN_MAX_FAILURES"]
    assert "auth.login_locked" in logged
    unknown = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "auth.login_failed", AuditEntry.object_id == "nobody"))
    assert unknown is not None and unknown.ip
    user = db.session.scalar(sa.select(User).where(User.username == "jc1"))
    assert user.locked_until is not None
