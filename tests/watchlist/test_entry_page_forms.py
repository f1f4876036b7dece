"""An entry's page: logging a follow-up and taking a unit off the list read their forms by the
same rules as the API, and a refusal shows the page again with the reasons and what was typed."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from inspect_app.auth.models import RoleGrant, User
from inspect_app.auth.permissions import Role
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.orgs.models import OrgKind
from inspect_app.watchlist.models import CoachingAction, EntryStatus, WatchlistEntry


def _post(client, url: str, form: dict):
    with client.session_transaction() as sess:
        token = sess["csrf"]
    return client.post(url, data={**form, "csrf_token": token})


@pytest.fixture
def entry(client, login, demo) -> WatchlistEntry:
    """An active entry, with the service manager signed in on the pages."""
    login("fwgl", DEMO_PASSWORD)
    return db.session.scalar(sa.select(WatchlistEntry).where(
        WatchlistEntry.status == EntryStatus.active).order_by(WatchlistEntry.id))


def _state(entry: WatchlistEntry) -> tuple:
    db.session.expire_all()
    fresh = db.session.get(WatchlistEntry, entry.id)
    actions = db.session.scalar(sa.select(sa.func.count()).select_from(CoachingAction)
                                .where(CoachingAction.entry_id == entry.id))
    return fresh.status, fresh.exit_reason, actions


@pytest.mark.parametrize("form, field", [
    ({"action": "exit", "reason": "   "}, "人工出列原因"),
    ({"action": "exit", "reason": "好", "confirm": "yes"}, "人工出列原因"),
    ({"action": "exit", "reason": "整改已全部完成，复查合格"}, "确认"),  # the box not ticked
    ({"kind": "interview", "held_on": "2026-11-20", "people": "  "}, "参与人员"),
    ({"kind": "party", "held_on": "2026-11-20", "people": "张丽"}, "类型"),
    ({"kind": "interview", "held_on": "上周五", "people": "张丽"}, "日期"),
    ({"kind": "interview", "held_on": "2026-11-20", "people": "张" * 501}, "参与人员"),
])
def test_a_refused_form_changes_nothing_and_says_why(client, entry, form, field):
    """An exit reason of spaces or one character, follow-ups with no one named, an unknown
    type, a date that is not a date, too many people: is each refused (422) with the field
    named, what was typed kept, and nothing written — as the API refuses them?"""
    before = _state(entry)
    response = _post(client, f"/manage/watchlist/{entry.id}", form)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "未保存：请检查以下内容" in text and f"<li>{field}：" in text
    if form.get("people", "").strip():
        assert form["people"] in text  # typed, kept
    assert _state(entry) == before


def test_a_follow_up_and_an_exit_are_written_as_typed(client, entry):
    """Are a follow-up (spaces trimmed) and an exit written, and the page shown again?

    The follow-up is dated the day the unit was listed: one may be neither before that nor
    after today, and the demo lists units on days drawn back from the day it is seeded."""
    held_on = entry.entered_on.isoformat()
    logged = _post(client, f"/manage/watchlist/{entry.id}", {
        "action": "follow_up", "kind": "interview", "held_on": held_on,
        "people": "  张丽、王强 ", "notes": "约谈支行负责人"})
    assert logged.status_code == 302
    action = db.session.scalar(sa.select(CoachingAction).where(
        CoachingAction.entry_id == entry.id).order_by(CoachingAction.id.desc()))
    assert (action.kind, action.people, str(action.held_on)) == ("interview", "张丽、王强",
                                                                 held_on)
    left = _post(client, f"/manage/watchlist/{entry.id}",
                 {"action": "exit", "reason": "整改已全部完成，复查合格", "confirm": "yes"})
    assert left.status_code == 302
    assert _state(entry)[:2] == (EntryStatus.exited, "整改已全部完成，复查合格")


def test_a_follow_up_sent_twice_is_recorded_once(app, client, entry):
    """记录跟进 tapped twice, or its page sent again: is it one record — the page's form carries
    an id for it, kept when a refused form is shown again — and an API client resending the
    same ``client_id`` gets that record back (200), not a second one (201)?"""
    page = client.get(f"/manage/watchlist/{entry.id}").get_data(as_text=True)
    client_id = re.search(r'name="client_id" value="([0-9a-f]{32})"', page).group(1)
    before = _state(entry)[2]
    follow_up = {"action": "follow_up", "kind": "interview", "people": "张丽",
                 "held_on": entry.entered_on.isoformat(), "client_id": client_id}
    refused = _post(client, f"/manage/watchlist/{entry.id}", {**follow_up, "people": " "})
    assert refused.status_code == 422 and f'value="{client_id}"' in refused.get_data(as_text=True)
    for _ in range(2):
        assert _post(client, f"/manage/watchlist/{entry.id}", follow_up).status_code == 302
    assert _state(entry)[2] == before + 1
    assert client.get(f"/manage/watchlist/{entry.id}").get_data(as_text=True).count(
        'name="client_id"') == 1 and client_id not in client.get(
        f"/manage/watchlist/{entry.id}").get_data(as_text=True)  # a new form, a new record

    phone = app.test_client()
    token = phone.post("/api/v1/auth/token", json={"username": "fwgl",
                                                   "password": DEMO_PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    body = {"kind": "on_site_training", "held_on": entry.entered_on.isoformat(),
            "people": "王强", "client_id": "b3c1e0f2-retry-0001"}
    first = phone.post(f"/api/v1/watchlist/{entry.id}/actions", json=body, headers=headers)
    again = phone.post(f"/api/v1/watchlist/{entry.id}/actions", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), again.get_json()
    assert again.get_json()["id"] == first.get_json()["id"]
    assert _state(entry)[2] == before + 2


def test_a_follow_up_cannot_be_dated_after_today(app, client, entry):
    """A follow-up records what was done: is one dated tomorrow refused, on the page and by
    the API (422 held_in_future, saying today's date), with nothing written?"""
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    follow_up = {"kind": "interview", "held_on": tomorrow, "people": "张丽"}
    before = _state(entry)
    page = _post(client, f"/manage/watchlist/{entry.id}", follow_up)
    assert page.status_code == 422
    assert f"跟进日期不能晚于今天（{local_today().isoformat()}）" in page.get_data(as_text=True)
    phone = app.test_client()  # the API, without the page's session cookie
    token = phone.post("/api/v1/auth/token", json={"username": "fwgl",
                                                   "password": DEMO_PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    answer = phone.post(f"/api/v1/watchlist/{entry.id}/actions", json=follow_up,
                        headers=headers)
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "held_in_future"
    assert _state(entry) == before
    today = phone.post(f"/api/v1/watchlist/{entry.id}/actions", headers=headers,
                       json={**follow_up, "held_on": local_today().isoformat()})
    assert today.status_code == 201, today.get_json()


def test_a_reader_may_not_log_a_follow_up(client, login, demo):
    """A sub-branch manager reads the entry of their sub-branch but may not act on it: is every
    post (valid or not) refused as forbidden, saying why, with nothing written?"""
    own = db.session.scalar(sa.select(WatchlistEntry).where(
        WatchlistEntry.status == EntryStatus.active).order_by(WatchlistEntry.id))
    subbranch = own.unit if own.unit.kind is OrgKind.subbranch else own.unit.parent
    manager = db.session.scalar(sa.select(User.username).join(RoleGrant).where(
        RoleGrant.role == Role.subbranch_manager, RoleGrant.org_unit_id == subbranch.id))
    login(manager, DEMO_PASSWORD)
    assert client.get(f"/manage/watchlist/{own.id}").status_code == 200
    before = _state(own)
    for form in ({"kind": "interview", "held_on": "2026-11-20", "people": "张丽"},
                 {"kind": "interview", "held_on": "", "people": ""},  # refused as a reader
                 {"action": "exit", "reason": "整改已全部完成，复查合格", "confirm": "yes"}):
        response = _post(client, f"/manage/watchlist/{own.id}", form)
        assert response.status_code == 403
        assert "只有服务管理人员可以管理名单" in response.get_data(as_text=True)
    assert _state(own) == before


def test_notes_too_long_say_the_limit(client, entry):
    """Are notes over 5,000 characters refused with the limit, not a broken range?"""
    response = _post(client, f"/manage/watchlist/{entry.id}", {
        "kind": "interview", "held_on": "2026-11-20", "people": "张丽", "notes": "记" * 5001})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "不能超过 5000 个字" in text and "None" not in text


def test_an_exit_of_a_unit_already_off_the_list_says_so(client, entry):
    """Two managers take the same unit off the list at once: is the second told why nothing
    happened (409, with the reason on the page)?"""
    first = _post(client, f"/manage/watchlist/{entry.id}",
                  {"action": "exit", "reason": "整改已全部完成，复查合格", "confirm": "yes"})
    assert first.status_code == 302
    again = _post(client, f"/manage/watchlist/{entry.id}",
                  {"action": "exit", "reason": "整改已全部完成，复查合格", "confirm": "yes"})
    assert again.status_code == 409
    assert "该单位已不在名单上" in again.get_data(as_text=True)


def test_the_reasons_say_which_evaluation_their_figures_come_from(client, entry):
    """The rules' figures (e.g. 23/58 overdue) are those of the latest evaluation, the counts
    above them are today's: do the entry's page and the list say so, with that evaluation's
    date?"""
    entry = db.session.scalars(sa.select(WatchlistEntry).where(
        WatchlistEntry.status == EntryStatus.active).order_by(WatchlistEntry.id)).all()
    entry = next(e for e in entry if e.reasons)
    text = client.get(f"/manage/watchlist/{entry.id}").get_data(as_text=True)
    assert f"以下为 {entry.last_evaluated_on} 评估时的数据；上方为当前数据。" in text
    listed = client.get("/manage/watchlist").get_data(as_text=True)  # and on the list itself
    assert f"原因中的数据为 {entry.last_evaluated_on} 评估时的数据；下方为当前数据。" in listed
