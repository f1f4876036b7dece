"""Signing in on the pages and through the API: success, failure, lockout, tokens."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.auth.models import ApiToken, User
from inspect_app.auth.permissions import Role
from inspect_app.db import utcnow
from inspect_app.extensions import db


def actions() -> list[str]:
    return db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()


def test_person_signs_in_sees_their_roles_and_signs_out(client, make_user, login):
    """Does the sign-in page lead to a Chinese page naming the person, role and scope?"""
    make_user("zh.lubei", (Role.subbranch_manager, "TS-LB"), display_name="李娜")
    response = login("zh.lubei")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "李娜" in page and "支行负责人" in page and "路北支行" in page
    assert "验收整改" in page  # what the role allows, in Chinese
    with client.session_transaction() as sess:
        csrf = sess["csrf"]
    client.post("/logout", data={"csrf_token": csrf})
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_in_chinese_and_audited(client, make_user, login):
    """Does a wrong password get a Chinese message and an audit entry, without a session?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    response = login("jc1", "wrong-password1")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert "auth.login_failed" in actions()


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, org, login):
    """Does sign-in hide which usernames exist?"""
    response = login("nobody", "whatever1")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_repeated_failures_lock_the_account_temporarily(app, client, make_user, token_for):
    """After too many failures, is even the right password refused until the lock ends?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        bad = client.post("/api/v1/auth/token", json={"username": "jc1", "password": "nope1234"})
        assert bad.status_code == 401
    locked = client.post("/api/v1/auth/token", json={"username": "jc1", "password": "Passw0rd!"})
    assert locked.status_code == 423
    assert locked.get_json()["error"]["code"] == "account_locked"
    user = db.session.scalar(sa.select(User).where(User.username == "jc1"))
    user.locked_until = utcnow() - timedelta(seconds=1)  # the lock has run out
    db.session.commit()
    assert token_for("jc1")


def test_sign_in_is_rate_limited(app, client, make_user):
    """Are rapid sign-in attempts from one address cut off with a JSON 429?"""
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        client.post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    response = client.post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "too_many_requests"
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= 60
    assert error["message"] in (f"操作过于频繁，请 {wait} 秒后再试", f"操作过于频繁，请 {wait + 1} 秒后再试")
    english = client.post("/api/v1/auth/token?lang=en", json={"username": "x", "password": "y"}
                          ).get_json()["error"]["message"]
    assert re.fullmatch(r"Too many attempts: please try again in \d+ seconds", english), english


def test_token_authenticates_api_requests(client, make_user, token_for):
    """Does a bearer token from POST /auth/token identify its user on /api/v1/me?"""
    make_user("fwgl", (Role.service_manager, "TS"))
    me = client.get("/api/v1/me", headers=token_for("fwgl")).get_json()
    assert me["username"] == "fwgl"
    assert me["grants"][0]["role"] == "service_manager"
    assert "checklists.manage" in me["permissions"]


def test_api_without_token_is_401_json(client, org):
    """Does an anonymous API call get a 401 in the JSON error shape?"""
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "not_authenticated"


def test_revoked_token_stops_working(client, make_user, token_for):
    """Is a revoked token refused afterwards?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    headers = token_for("jc1")
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_expired_token_stops_working(client, make_user, token_for):
    """Is a token refused once its expiry time has passed?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    headers = token_for("jc1")
    token = db.session.scalar(sa.select(ApiToken))
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_only_the_token_hash_is_stored(client, make_user, token_for):
    """Does the database hold the token's hash rather than the token itself?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    secret = token_for("jc1")["Authorization"].split()[1]
    stored = db.session.scalar(sa.select(ApiToken.token_hash))
    assert stored != secret and stored == ApiToken.hash(secret)


def test_deactivated_user_can_no_longer_sign_in_or_use_tokens(client, make_user, token_for):
    """Does deactivation end sign-in and existing tokens, while keeping the user row?"""
    make_user("admin", (Role.admin, "TS"))
    make_user("jc1", (Role.inspector, "TS-LB"))
    admin, inspector = token_for("admin"), token_for("jc1")
    user_id = client.get("/api/v1/me", headers=inspector).get_json()["id"]
    response = client.patch(f"/api/v1/users/{user_id}", json={"is_active": False},
                            headers=admin)
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    assert client.get("/api/v1/me", headers=inspector).status_code == 401
    assert client.post("/api/v1/auth/token",
                       json={"username": "jc1", "password": "Passw0rd!"}).status_code == 401
    assert db.session.get(User, user_id) is not None
    assert "user.deactivate" in actions()


def test_session_cookie_is_httponly_and_samesite(client, make_user, login):
    """Is the session cookie out of JavaScript's reach and not sent cross-site?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    response = login("jc1")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_form_without_csrf_token_is_refused(client, make_user):
    """Is a sign-in form posted without the CSRF token refused?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    response = client.post("/login", data={"username": "jc1", "password": "Passw0rd!"})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)


def test_session_api_call_needs_csrf_header(client, make_user, login):
    """Does an API write riding on the session cookie need the X-CSRF-Token header?"""
    make_user("admin", (Role.admin, "TS"))
    login("admin")
    body = {"kind": "outlet", "code": "TS-LB-09", "name": "新网点", "parent_id": 2}
    assert client.post("/api/v1/org-units", json=body).status_code == 400
    with client.session_transaction() as sess:
        csrf = sess["csrf"]
    response = client.post("/api/v1/org-units", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.get_json()


def test_sign_in_rotates_the_session(client, make_user, login):
    """Does signing in replace the CSRF token of the anonymous session (no fixation)?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    client.get("/login")
    with client.session_transaction() as sess:
        before = sess["csrf"]
    login("jc1")
    with client.session_transaction() as sess:
        assert sess["csrf"] != before and sess["uid"]


def test_next_parameter_cannot_redirect_off_site(client, make_user):
    """Is ?next= limited to paths on this site?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    client.get("/login")
    with client.session_transaction() as sess:
        csrf = sess["csrf"]
    response = client.post("/login?next=//evil.example/x",
                           data={"username": "jc1", "password": "Passw0rd!", "csrf_token": csrf})
    assert response.headers["Location"] == "/"


def test_weak_password_is_refused(client, make_user, token_for):
    """Does the password policy refuse a short, letters-only password?"""
    make_user("admin", (Role.admin, "TS"))
    body = {"username": "new1", "display_name": "新人", "password": "abc",
            "grants": [{"role": "inspector", "org_unit_id": 1}]}
    response = client.post("/api/v1/users", json=body, headers=token_for("admin"))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "weak_password"


def test_english_is_available(client, org):
    """Can a user switch the pages to English?"""
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in" in page
    assert "登录" in client.get("/login?lang=zh").get_data(as_text=True)


def test_sign_in_refusals_are_in_english_on_the_english_page(app, client, make_user, login):
    """After choosing English, are "wrong username or password" and "account locked" said in
    English on the sign-in page (the API keeps its Chinese message)?"""
    make_user("jc1", (Role.inspector, "TS-LB"))
    client.get("/login?lang=en")
    response = login("jc1", "wrong-password1")
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "Wrong username or password" in text and "用户名或密码错误" not in text
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login("jc1", "wrong-password1")
    response = login("jc1")
    assert response.status_code == 423
    text = response.get_data(as_text=True)
    assert "temporarily locked" in text and "账号已临时锁定" not in text
