"""Bad requests get a clear error in one shape: JSON for the API, a Chinese page for browsers."""
from __future__ import annotations

import re

from inspect_app.auth.permissions import Role


def test_malformed_json_gets_the_json_error_shape(client, org, make_user, token_for):
    """Does a body that is not JSON get a 400 with code and Chinese message?"""
    make_user("admin", (Role.admin, "TS"))
    headers = {**token_for("admin"), "Content-Type": "application/json"}
    response = client.post("/api/v1/org-units", data="{not json", headers=headers)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "malformed_json" and "JSON" in error["message"]


def test_unknown_fields_are_refused_with_details(client, org, make_user, token_for):
    """Is a body with an unknown field refused with 422, naming the field?"""
    make_user("admin", (Role.admin, "TS"))
    body = {"kind": "outlet", "code": "TS-LB-09", "name": "x", "parent_id": org["TS-LB"].id,
            "colour": "red"}
    response = client.post("/api/v1/org-units", json=body, headers=token_for("admin"))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and "colour" in error["details"]


def test_wrong_types_are_refused_with_details(client, org, make_user, token_for):
    """Is a latitude that is not a number refused with 422, naming the field?"""
    make_user("admin", (Role.admin, "TS"))
    body = {"kind": "outlet", "code": "TS-LB-09", "name": "x", "parent_id": org["TS-LB"].id,
            "latitude": "north"}
    response = client.post("/api/v1/org-units", json=body, headers=token_for("admin"))
    assert response.status_code == 422
    assert "latitude" in response.get_json()["error"]["details"]


def test_unknown_api_path_is_404_json(client, org):
    """Does an unknown API path answer in JSON, not HTML?"""
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_unknown_page_is_a_friendly_chinese_page(client, org):
    """Does a browser get a Chinese error page rather than a stack trace?"""
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "出错了" in response.get_data(as_text=True)


def test_crash_never_shows_a_stack_trace(app, client, org, make_user, token_for):
    """Does an unexpected exception become a generic 500 in the JSON shape?"""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret detail")

    make_user("admin", (Role.admin, "TS"))
    headers = token_for("admin")
    response = client.get("/api/v1/_boom", headers=headers)
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret detail" not in body and "Traceback" not in body
    assert response.get_json()["error"]["code"] == "server_error"


def test_openapi_document_lists_the_endpoints(client, org):
    """Is the OpenAPI document served with our endpoints and our error schema?"""
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/auth/token", "/api/v1/me", "/api/v1/org-units", "/api/v1/users",
                 "/api/v1/audit-entries"):
        assert path in spec["paths"], path
    assert "error" in spec["components"]["schemas"]["Error"]["properties"]


def test_the_openapi_document_is_written_once_when_first_read_by_several_requests(app):
    """The document is built on its first reading, not at start-up: threads of one worker
    reading it at once each get every endpoint, once, under its one tag."""
    from concurrent.futures import ThreadPoolExecutor

    from inspect_app.extensions import api

    assert api._undocumented, "the views are documented at start-up again"

    def read(_):
        with app.test_client() as client:
            return client.get("/api/v1/openapi.json").get_json()

    with ThreadPoolExecutor(4) as pool:
        documents = list(pool.map(read, range(4)))
    assert not api._undocumented
    assert all(document == documents[0] for document in documents)
    tags = [tag["name"] for tag in documents[0]["tags"]]
    assert len(tags) == len(set(tags)) == len(app.extensions["flask-smorest"]["blp_name_to_api"])
    served = {re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
              for rule in app.url_map.iter_rules()
              if rule.endpoint.split(".")[0] in app.extensions["flask-smorest"]["blp_name_to_api"]}
    assert set(documents[0]["paths"]) == served


def test_a_username_created_twice_at_once_is_a_conflict_to_retry(app, client, org, make_user,
                                                                  token_for, monkeypatch, caplog):
    """Two administrators create the same username at the same moment and both pass the
    "already taken" check: does the one the database refuses get 409 write_conflict (retry),
    not a 500, with no value it tried to write (the password hash) in the log — and does its
    retry say the name is taken?"""
    import sqlalchemy as sa

    from inspect_app.auth import operations
    from inspect_app.auth.models import User
    from inspect_app.extensions import db

    make_user("admin", (Role.admin, "TS"))
    headers = token_for("admin")
    checked = operations.validate_password

    def other_request_commits_meanwhile(password, username=None):
        checked(password, username)
        with db.engine.begin() as conn:
            conn.execute(sa.insert(User.__table__).values(
                username=username, display_name="另一位", password_hash="elsewhere",
                is_active=True, failed_logins=0, session_epoch=0))

    monkeypatch.setattr(operations, "validate_password", other_request_commits_meanwhile)
    body = {"username": "li.na", "display_name": "李娜", "password": "Start2026",
            "grants": [{"role": "inspector", "org_unit_id": org["TS-LB"].id}]}
    response = client.post("/api/v1/users", json=body, headers=headers)
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "write_conflict"
    assert response.headers["Retry-After"] == "1"
    assert "scrypt" not in caplog.text and "pbkdf2" not in caplog.text
    monkeypatch.setattr(operations, "validate_password", checked)
    again = client.post("/api/v1/users", json=body, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "username_taken"
    assert db.engine.hide_parameters  # nor in any other database error's log lines


def test_the_openapi_document_says_what_people_endpoints_answer(client, org):
    """Does the document say that getting a token needs no token, and list the refusals an
    administrator meets when creating or changing a person?"""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/api/v1/auth/token"]["post"]["security"] == []
    assert {"401", "423", "429"} <= set(paths["/api/v1/auth/token"]["post"]["responses"])
    assert {"403", "404", "409", "422"} <= set(paths["/api/v1/users"]["post"]["responses"])
    assert {"403", "404"} <= set(paths["/api/v1/users/{user_id}"]["patch"]["responses"])
