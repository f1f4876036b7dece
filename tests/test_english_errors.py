"""Refusals in the user's language: English once the user switched the UI to English (the PWA
shows ``error.message`` as it comes), Chinese by default and for every bearer-token client."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from inspect_app.auth.models import User
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db

from .helpers import filler_of, new_key


@pytest.fixture
def english(client, login):
    """``english(username)``: sign in through the login page after choosing English there, as a
    user of the PWA does; returns the CSRF header the session's writes need."""

    def sign_in(username: str) -> dict:
        client.get("/login?lang=en")
        login(username, DEMO_PASSWORD)
        with client.session_transaction() as sess:
            assert sess["lang"] == "en"
            return {"X-CSRF-Token": sess["csrf"]}

    return sign_in


def error(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


def bomb() -> bytes:
    """A few kilobytes of PNG claiming 144 megapixels (refused before decoding)."""
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, "PNG")
    return buffer.getvalue()


def upload(client, headers, inspection_id, data: bytes):
    return client.post(f"/api/v1/inspections/{inspection_id}/photos", headers=headers,
                       data={"client_id": new_key(), "item_code": "ENV-01",
                             "file": (io.BytesIO(data), "photo.png")},
                       content_type="multipart/form-data")


def outlet_manager() -> User:
    return db.session.scalar(sa.select(User).where(User.username == "wd.lb01"))


def test_an_english_session_gets_english_refusals(client, english, first):
    """With English chosen, do a refusal, a not-found, a form's item-level problems, a refused
    photo and a state-transition refusal all come in English — codes unchanged, values in
    place, states said in English too?"""
    spot = first("spot_check")
    inspector = english(filler_of(spot))

    refused = error(client.get("/api/v1/watchlist"), 403)
    assert (refused["code"], refused["message"]) == ("not_reader",
                                                    "You may not see the watch-list")

    missing = error(client.get("/api/v1/inspections/999999"), 404)
    assert (missing["code"], missing["message"]) == ("inspection_not_found",
                                                    "Inspection not found")

    version = client.get(f"/api/v1/inspections/{spot.id}").get_json()["version"]
    draft = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=inspector,
                       json={"version": version, "answers": {"ENV-05": {"value": 9}}})
    assert draft.status_code == 200, draft.get_json()
    assert draft.get_json()["problems"] == {"ENV-05": ["Enter a whole number from 0 to 5"]}

    photo = error(upload(client, inspector, spot.id, bomb()), 422)
    assert photo["code"] == "too_many_pixels"
    assert photo["message"] == ("The photo has too many pixels (the limit is 50 megapixels); "
                                "refused")


def test_a_manager_in_english_gets_english_transition_and_assignment_refusals(
        client, english, first):
    """For a service manager in English, do a state-transition refusal and an assignment refusal
    with a person's name and a mode in it come in English (the name as it is)?"""
    spot = first("spot_check")
    manager = english("fwgl")

    early = error(client.post(f"/api/v1/inspections/{spot.id}/finalise", headers=manager), 409)
    assert early["code"] == "illegal_transition"
    assert early["message"] == ("Only a submitted inspection can be finalised "
                                "(current status: To inspect)")

    wrong = outlet_manager()
    body = {"assignee_id": wrong.id, "reason": "换人检查"}
    refused = error(client.post(f"/api/v1/inspections/{spot.id}/reassign", headers=manager,
                                json=body), 422)
    assert refused["code"] == "assignee_not_allowed"
    assert refused["message"] == f"{wrong.display_name} may not carry out Spot check assignments"


def test_without_a_language_the_same_refusals_stay_chinese(client, api, first):
    """Without a language chosen (a bearer-token client has no session), are the same refusals
    word for word the Chinese they have always been?"""
    spot = first("spot_check")
    inspector, manager = api(filler_of(spot)), api("fwgl")

    assert error(client.get("/api/v1/watchlist", headers=inspector), 403)["message"] == \
        "您无权查看名单"
    assert error(client.get("/api/v1/inspections/999999", headers=inspector), 404)["message"] == \
        "未找到该检查"
    assert error(upload(client, inspector, spot.id, bomb()), 422)["message"] == \
        "照片像素过多（上限 50 百万像素），已拒收"
    assert error(client.post(f"/api/v1/inspections/{spot.id}/finalise", headers=manager),
                 409)["message"] == "只有已提交的检查可以定稿（当前状态：待检查）"
    wrong = outlet_manager()
    refused = error(client.post(f"/api/v1/inspections/{spot.id}/reassign", headers=manager,
                                json={"assignee_id": wrong.id, "reason": "换人检查"}), 422)
    assert refused["message"] == f"{wrong.display_name}不能执行抽查任务"
    # a draft's answer it cannot take is named, not refused (and the task is now started)
    version = client.get(f"/api/v1/inspections/{spot.id}", headers=inspector).get_json()["version"]
    draft = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=inspector,
                       json={"version": version, "answers": {"ENV-05": {"value": 9}}})
    assert draft.get_json()["problems"] == {"ENV-05": ["请填写 0 到 5 之间的整数"]}


def test_a_draft_conflict_keeps_the_users_words_in_english(client, english, first):
    """Are only messages translated — never the user's own answers and notes that a conflict
    sends back in ``details.server`` (a note "合格" must not come back as "Pass")?"""
    spot = first("spot_check")
    inspector = english(filler_of(spot))
    version = client.get(f"/api/v1/inspections/{spot.id}").get_json()["version"]
    answers = {"ENV-01": {"value": "pass", "note": "合格"}}
    saved = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=inspector,
                       json={"version": version, "answers": answers})
    assert saved.status_code == 200, saved.get_json()
    stale = error(client.put(f"/api/v1/inspections/{spot.id}/draft", headers=inspector,
                             json={"version": version, "answers": {}}), 409)
    assert stale["message"] == "This inspection was changed on another device; choose which " \
        "copy to keep"
    assert stale["details"]["server"]["answers"] == answers


def test_schema_messages_follow_the_language(app, client, api, demo):
    """Do the project's own field-level validation messages (422 details) come in English for
    an English request and in Chinese for a client that chose no language?"""
    body = {"username": "坏 名字", "display_name": "张三", "password": "Passw0rd!", "grants": []}
    english = error(client.post("/api/v1/users?lang=en", json=body, headers=api("admin")), 422)
    assert english["message"] == "The data sent is not valid"
    assert english["details"]["username"] == [
        "A username may only contain letters, digits, dots, - and _"]
    assert english["details"]["grants"] == ["At least one role is needed"]
    chinese = error(app.test_client().post("/api/v1/users", json=body, headers=api("admin")),
                    422)
    assert chinese["message"] == "提交的数据不正确"
    assert chinese["details"]["username"] == ["用户名只能包含字母、数字、点、- 和 _"]
    assert chinese["details"]["grants"] == ["至少需要一个角色"]
