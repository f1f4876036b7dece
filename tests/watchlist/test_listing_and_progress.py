"""The watch-list as its readers use it: each evaluation says today's reasons and what a listed
unit still has to do to leave; a service manager lists a unit by hand and runs the evaluation
from the pages; the API reads a reason, the people of a follow-up and its date by the same
rules as the pages."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.auth.models import RoleGrant, User
from inspect_app.auth.permissions import Role
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.orgs.models import OrgKind, OrgUnit
from inspect_app.watchlist import rules as engine
from inspect_app.watchlist.models import (
    CoachingAction,
    EntryStatus,
    WatchlistEntry,
    WatchlistRuleSet,
)
from inspect_app.watchlist.operations import active_rule_set, gather_facts

from ..helpers import demo_branch, second_branch
from .test_rules_page import rules_form


def _post(client, url: str, form: dict):
    with client.session_transaction() as sess:
        token = sess["csrf"]
    return client.post(url, data={**form, "csrf_token": token})


def _active() -> list[WatchlistEntry]:
    db.session.expire_all()
    return db.session.scalars(sa.select(WatchlistEntry).where(
        WatchlistEntry.status == EntryStatus.active).order_by(WatchlistEntry.id)).all()


def _unit(code: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))


def _manager_of(unit: OrgUnit) -> str:
    """The username of the sub-branch manager over ``unit``."""
    subbranch = unit if unit.kind is OrgKind.subbranch else unit.parent
    return db.session.scalar(sa.select(User.username).join(RoleGrant).where(
        RoleGrant.role == Role.subbranch_manager, RoleGrant.org_unit_id == subbranch.id))


# -- D2: today's reasons, and the way off the list ---------------------------------------------


@pytest.fixture
def cleared(demo) -> WatchlistEntry:
    """A unit listed by a rule that meets no rule any more but may not leave yet.

    Whether the demo has one of its own depends on the day it is seeded (its history is drawn
    back from today: on some days every listed unit still meets a rule), so one is made the
    way it happens in a branch: the queue system's figures of an outlet meeting no rule show
    waits over the limit, today's evaluation lists it for that, then the figures are corrected
    (re-imported) and the next evaluation finds it meets none — without an independent check
    since it entered, it stays."""
    from inspect_app.watchlist.models import QueueDay
    from inspect_app.watchlist.operations import evaluate

    today = local_today()
    row = active_rule_set(demo_branch())
    rule_set = engine.RuleSet.from_dict(row.rules)
    ever_listed = set(db.session.scalars(sa.select(WatchlistEntry.unit_id)))
    outlet = next(f for f in sorted(gather_facts(today, row), key=lambda f: f.unit_id)
                  if f.unit_kind == engine.OUTLET and f.unit_id not in ever_listed
                  and f.queue is not None and f.overdue_items == 0
                  and not engine.hits_for(f, rule_set))
    days = db.session.scalars(sa.select(QueueDay).where(
        QueueDay.outlet_id == outlet.unit_id, QueueDay.day >= today - timedelta(days=30))).all()
    assert days, "the demo's queue figures cover the last month"
    imported = {day.id: day.customers_over_limit for day in days}
    for day in days:
        day.customers_over_limit = day.customers_served // 10  # 10%: over the 5% threshold
    evaluate(today)
    db.session.commit()
    entry = next(e for e in _active() if e.unit_id == outlet.unit_id)
    assert [r["rule_key"] for r in entry.reasons] == ["queue_overtime"]
    for day in days:
        day.customers_over_limit = imported[day.id]
    evaluate(today)
    db.session.commit()
    entry = next(e for e in _active() if e.unit_id == outlet.unit_id)
    assert not entry.reasons
    return entry


def test_every_evaluation_says_todays_reasons_and_keeps_those_of_listing(demo, cleared):
    """The demo evaluated the list every month and today: does each listed unit's reasons hold
    the rules it meets *today* with today's figures (not those of the month it entered) — none
    when it meets no rule any more — while its history keeps the rules it met on listing?"""
    row = active_rule_set(demo_branch())
    rule_set = engine.RuleSet.from_dict(row.rules)
    today = local_today()
    facts = {f.unit_id: f for f in gather_facts(today, row)}
    entries = _active()
    assert entries
    for entry in entries:
        now = [hit.to_dict() for hit in engine.hits_for(facts[entry.unit_id], rule_set)]
        assert entry.last_evaluated_on == today
        assert entry.reasons == now, entry.unit.name
        listed = next(e for e in entry.events if e.kind == "entered")
        assert listed.hits  # the reasons on listing stay in the history
    assert cleared.id in {entry.id for entry in entries if not entry.reasons}


def test_a_unit_meeting_no_rule_says_so_and_what_it_must_do_to_leave(client, login, api, demo,
                                                                    cleared):
    """A unit kept on the list only because it has not met the exit policy yet: do the list and
    its page — for the service manager and for its sub-branch's head — say plainly that it meets
    no rule any more, state the exit condition and how far the unit is from it (e.g. "还需 1 次
    ≥80 分的独立检查"), and does the API give the same?"""
    entry = next(e for e in _active() if e.id == cleared.id)
    progress = entry.exit_progress
    assert progress is not None and not progress["rules"]
    facts = next(f for f in gather_facts(local_today(), active_rule_set(demo_branch()))
                 if f.unit_id == entry.unit_id)
    policy = engine.RuleSet.from_dict(active_rule_set(demo_branch()).rules).exit
    shortfalls, _ = engine.exit_shortfalls(facts, policy, entry.entered_on)
    assert shortfalls  # it stays because the exit policy does not hold yet
    steps = engine.say_progress(progress)
    remaining = progress["needed"] - progress["passing"]
    assert f"还需 {remaining} 次 ≥80 分的独立检查" in steps[0]
    condition = "入列后连续 2 次独立检查得分均不低于 80 分，且没有逾期整改项"

    for username in ("fwgl", _manager_of(entry.unit)):
        login(username, DEMO_PASSWORD)
        listing = client.get("/manage/watchlist").get_data(as_text=True)
        item = listing.split(f'href="/manage/watchlist/{entry.id}"')[1].split("</li>")[0]
        assert "已不再命中规则，待满足出列条件" in item
        assert "出列进度：" + "；".join(steps) in item
        page = client.get(f"/manage/watchlist/{entry.id}").get_data(as_text=True)
        card = page.split("<h2>辅导与跟进</h2>")[0]
        assert "已不再命中规则，待满足出列条件" in card
        assert f'<p class="reason" id="exit-condition">{condition}</p>' in card
        assert all(f"<li>{step}</li>" in card for step in steps)
        history = page.split("<h2>名单历史</h2>")[1]
        listed = next(e for e in entry.events if e.kind == "entered")
        assert listed.hits[0]["explanation_zh"] in history  # why it was listed, kept
        client.post("/logout", data={"csrf_token": _token(client)})

    answer = client.get(f"/api/v1/watchlist/{entry.id}", headers=api("fwgl")).get_json()
    assert answer["reasons"] == [] and answer["status_note"] == "已不再命中规则，待满足出列条件"
    assert answer["exit_condition"] == condition and answer["exit_steps"] == steps
    assert answer["exit_progress"]["needed"] == 2 and answer["exit_progress"]["score"] == 80
    assert answer["events"][0]["hits"]  # the reasons on listing
    english = client.get(f"/api/v1/watchlist/{entry.id}?lang=en",
                         headers=api("fwgl")).get_json()
    assert english["exit_steps"][0].startswith(f"{remaining} more independent check")


def _token(client) -> str:
    with client.session_transaction() as sess:
        return sess["csrf"]


def test_a_listed_unit_still_meeting_rules_is_told_they_must_end_too(client, login, demo):
    """A unit that still meets rules: does its progress say that too, beside the checks it
    needs, with today's figures in its reasons?"""
    entry = next(e for e in _active() if e.reasons)
    assert entry.exit_progress["rules"] == sorted(r["rule_key"] for r in entry.reasons)
    steps = engine.say_progress(entry.exit_progress)
    assert steps[0] == "须不再命中名单规则"
    login("fwgl", DEMO_PASSWORD)
    page = client.get(f"/manage/watchlist/{entry.id}").get_data(as_text=True)
    assert "<li>须不再命中名单规则</li>" in page
    assert f"以下为 {local_today()} 评估时的数据" in page


# -- D3: listing by hand, evaluating now, rules for sub-branches only ---------------------------


def test_a_manager_lists_a_unit_by_hand_with_a_written_reason(client, login, api, demo):
    """Can the service manager put an outlet on the list from the page, by its code and a
    written reason — shown on the list and its page, kept in its history and the audit log —
    and is each wrong attempt refused saying why, with nothing written?"""
    outlet = _unit("TS-LB-04")  # 文化路分理处 of 路北支行, not on the list
    assert not any(e.unit_id == outlet.id for e in _active())
    login("fwgl", DEMO_PASSWORD)
    before = len(_active())
    for form, status, said in (
            ({"unit": "TS-LB-04", "reason": "   "}, 422, "列入原因：请填写原因"),
            ({"unit": "", "reason": "客户投诉集中，需跟进"}, 422, "单位：请填写单位编码或名称"),
            ({"unit": "TS-XX-99", "reason": "客户投诉集中，需跟进"}, 404,
             "未找到编码或名称为「TS-XX-99」的网点或支行"),
            ({"unit": "文化路分理处", "reason": "客户投诉集中，需跟进"}, 422,
             "有多个单位名为「文化路分理处」，请填写编码：TS-LB-04、")):
        response = _post(client, "/manage/watchlist", form)
        assert response.status_code == status, form
        text = response.get_data(as_text=True)
        assert said in text, form
        assert form["reason"] in text  # what was typed is kept
    assert len(_active()) == before

    response = _post(client, "/manage/watchlist",  # a code typed in lower case is the code
                     {"unit": " ts-lb-04 ", "reason": "  客户投诉集中，需跟进  "})
    assert response.status_code == 302
    entry = next(e for e in _active() if e.unit_id == outlet.id)
    assert response.headers["Location"].endswith(f"/manage/watchlist/{entry.id}")
    assert (entry.entry_kind, entry.entry_reason, entry.entered_on) == (
        "manual", "客户投诉集中，需跟进", local_today())
    assert [e.kind for e in entry.events] == ["manual_entry"]
    assert entry.exit_progress["needed"] == 2 and entry.exit_progress["passing"] == 0
    audit = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "watchlist.manual_entry"))
    assert audit is not None and audit.reason == "客户投诉集中，需跟进"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已将文化路分理处（路北支行）列入名单" in page
    assert "<strong>人工列入：</strong>客户投诉集中，需跟进" in page
    assert "还需 2 次 ≥80 分的独立检查" in page
    listing = client.get("/manage/watchlist").get_data(as_text=True)
    assert "人工列入：客户投诉集中，需跟进" in listing

    again = _post(client, "/manage/watchlist", {"unit": "TS-LB-04", "reason": "再次列入试试"})
    assert again.status_code == 409 and "该单位已在名单上" in again.get_data(as_text=True)
    # the next evaluation keeps it: it has not met the exit policy since it was listed
    _post(client, "/manage/watchlist/evaluate", {})
    db.session.expire_all()
    assert db.session.get(WatchlistEntry, entry.id).status is EntryStatus.active


def test_the_api_lists_a_unit_by_hand_and_only_a_manager_may(client, api, demo):
    """``POST /api/v1/watchlist``: does the service manager list a sub-branch with a reason
    (201), and is a sub-branch manager refused (403), a blank reason refused (422, the page's
    message), and a unit already listed refused (409)?"""
    subbranch = _unit("TS-LB")
    body = {"unit_id": subbranch.id, "reason": "互查发现服务规范问题较多"}
    refused = client.post("/api/v1/watchlist", json=body, headers=api("zh.lubei"))
    assert refused.status_code == 403
    blank = client.post("/api/v1/watchlist", json={**body, "reason": "    "},
                        headers=api("fwgl"))
    assert blank.status_code == 422
    assert blank.get_json()["error"]["details"] == {"reason": ["请填写原因"]}
    done = client.post("/api/v1/watchlist", json=body, headers=api("fwgl"))
    assert done.status_code == 201, done.get_json()
    answer = done.get_json()
    assert answer["entry_kind"] == "manual" and answer["entry_reason"] == body["reason"]
    assert answer["events"][0]["kind"] == "manual_entry"
    assert answer["events"][0]["label"] == "人工列入"
    twice = client.post("/api/v1/watchlist", json=body, headers=api("fwgl"))
    assert twice.status_code == 409
    assert twice.get_json()["error"]["code"] == "already_on_list"


def test_a_listing_racing_another_leaves_one_stay(client, api, monkeypatch, demo):
    """Two 列入名单 for one unit at once (a double tap on two phones, or the evaluation): both
    read "not on the list" before either writes. Is the second refused by the database, and
    said as 409 already_on_list — not written as a second active entry, nor a 500?"""
    from inspect_app.watchlist import operations

    subbranch = _unit("TS-LB")
    assert not any(e.unit_id == subbranch.id for e in _active())
    real = operations.gather_facts

    def the_other_listing_lands_first(*args, **kwargs):
        # runs after the "already listed?" check: the other request's entry is written now
        entry = _active()[0]
        db.session.execute(sa.insert(WatchlistEntry).values(
            unit_id=subbranch.id, status="active", entered_on=local_today(),
            entry_kind="manual", entry_reason="另一台手机", reasons=[],
            rule_set_version=entry.rule_set_version, last_evaluated_on=local_today()))
        return real(*args, **kwargs)

    monkeypatch.setattr(operations, "gather_facts", the_other_listing_lands_first)
    answer = client.post("/api/v1/watchlist", headers=api("fwgl"),
                         json={"unit_id": subbranch.id, "reason": "互查发现服务规范问题较多"})
    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["error"]["code"] == "already_on_list"


def test_a_manager_runs_the_evaluation_after_tuning_the_rules(client, login, demo):
    """Tighten the low-score rule for sub-branches only and press 立即评估: is the list
    evaluated by the new version at once — sub-branches listed, no outlet listed by it — and
    told what happened? Is the button only a service manager's, and CSRF-protected?"""
    login("fwgl", DEMO_PASSWORD)
    listed_before = {e.unit_id for e in _active()}
    tuned = _post(client, "/manage/rules", rules_form(**{
        "low_independent_score.threshold": "97", "exit.passing_score": "97",
        "low_independent_score.unit_kinds": ["subbranch"]}))
    assert tuned.status_code == 302
    saved = client.get(tuned.headers["Location"]).get_data(as_text=True)
    assert 'action="/manage/watchlist/evaluate"' in saved  # 立即评估 beside "saved"
    rules = {r["key"]: r for r in active_rule_set(demo_branch()).rules["rules"]}
    assert rules["low_independent_score"]["unit_kinds"] == ["subbranch"]
    assert rules["self_check_inflation"]["unit_kinds"] == ["outlet"]  # kept as it was
    assert rules["queue_overtime"]["unit_kinds"] is None  # both ticked: every kind

    missing_token = client.post("/manage/watchlist/evaluate", data={})
    assert missing_token.status_code == 400
    done = _post(client, "/manage/watchlist/evaluate", {})
    assert done.status_code == 302 and done.headers["Location"].endswith("/manage/watchlist")
    page = client.get("/manage/watchlist").get_data(as_text=True)
    summary = re.search(r'<p class="flash" role="status">(.*?)</p>', page).group(1)
    assert summary.startswith(f"{local_today()} 名单评估（规则第 2 版）：") and "列入" in summary
    entered = [e for e in _active() if e.unit_id not in listed_before]
    assert entered and all(e.unit.kind is OrgKind.subbranch for e in entered)
    assert all(e.rule_set_version == 2 for e in _active())

    client.post("/logout", data={"csrf_token": _token(client)})
    login("zh.lubei", DEMO_PASSWORD)
    assert 'action="/manage/watchlist/evaluate"' not in client.get(
        "/manage/watchlist").get_data(as_text=True)
    assert _post(client, "/manage/watchlist/evaluate", {}).status_code == 403


def test_a_unit_closed_while_listed_leaves_the_list_that_day(client, api, demo):
    """An outlet on the list is deactivated (closed, merged): evaluations cover active units
    only, so would its entry stay open for good, counted among those listed? It leaves the list
    the same day, saying why, in its history and the audit log; the next evaluation keeps it
    off."""
    entry = next(e for e in _active() if e.unit.kind is OrgKind.outlet)
    unit_id, entry_id = entry.unit_id, entry.id
    answer = client.patch(f"/api/v1/org-units/{unit_id}", json={"is_active": False},
                          headers=api("admin"))
    assert answer.status_code == 200, answer.get_json()
    db.session.expire_all()
    entry = db.session.get(WatchlistEntry, entry_id)
    assert (entry.status, entry.exited_on, entry.exit_reason) == (
        EntryStatus.exited, local_today(), "机构已停用")
    assert entry.events[-1].kind == "manual_exit"
    assert db.session.scalar(sa.select(AuditEntry.reason).where(
        AuditEntry.action == "watchlist.manual_exit",
        AuditEntry.object_id == str(entry_id))) == "机构已停用"
    assert client.post("/api/v1/watchlist/evaluate", json={},
                       headers=api("fwgl")).status_code == 200
    assert unit_id not in {e.unit_id for e in _active()}


def test_a_sub_branchs_list_row_does_not_count_a_closed_outlets_items(client, api, demo):
    """An outlet of a listed sub-branch is closed (is_active false) while it still has overdue
    rectification items. The evaluation no longer counts them (its facts hold open outlets
    only): does the sub-branch's row on the list leave them out too, its 逾期 figure agreeing
    with its exit progress (还需完成 N 项逾期整改)?"""
    from inspect_app.rectification.models import OWED, RectificationItem

    overdue = db.session.execute(
        sa.select(OrgUnit.parent_id, RectificationItem.outlet_id, sa.func.count())
        .join(OrgUnit, OrgUnit.id == RectificationItem.outlet_id)
        .where(RectificationItem.state.in_(OWED), RectificationItem.deadline < local_today())
        .group_by(OrgUnit.parent_id, RectificationItem.outlet_id)
        .order_by(OrgUnit.parent_id, RectificationItem.outlet_id)).all()
    assert overdue, "the demo has overdue items"
    subbranch_id, outlet_id, _ = overdue[0]
    headers = api("fwgl")
    if subbranch_id not in {e.unit_id for e in _active()}:
        assert client.post("/api/v1/watchlist", headers=headers, json={
            "unit_id": subbranch_id, "reason": "服务问题突出，人工列入"}).status_code == 201
    closed = client.patch(f"/api/v1/org-units/{outlet_id}", json={"is_active": False},
                          headers=api("admin"))
    assert closed.status_code == 200, closed.get_json()
    assert client.post("/api/v1/watchlist/evaluate", json={},
                       headers=headers).status_code == 200
    rows = client.get("/api/v1/watchlist?kind=subbranch", headers=headers).get_json()
    row = next(r for r in rows if r["unit"]["id"] == subbranch_id)
    entry = next(e for e in _active() if e.unit_id == subbranch_id)
    assert row["overdue_items"] == entry.exit_progress["overdue"], (
        row["overdue_items"], entry.exit_progress)


def test_a_branchs_evaluation_covers_its_own_units(client, api, demo):
    """A second branch's service manager presses 立即评估: does it evaluate their branch alone —
    唐山分行's entries untouched, its counts not in their answer — while 唐山's manager still
    evaluates theirs?"""
    second_branch("sjz.fw")
    ours = _active()
    assert ours
    for entry in ours:  # as if last evaluated a week ago
        entry.last_evaluated_on = local_today() - timedelta(days=7)
    db.session.commit()
    answer = client.post("/api/v1/watchlist/evaluate", json={}, headers=api("sjz.fw"))
    assert answer.status_code == 200, answer.get_json()
    # their sub-branch and its outlet, neither of them listed: nothing else counted
    assert answer.get_json()["actions"] == {"none": 2}
    assert {e.last_evaluated_on for e in _active()} == {local_today() - timedelta(days=7)}
    answer = client.post("/api/v1/watchlist/evaluate", json={}, headers=api("fwgl"))
    assert answer.get_json()["actions"].get("stay", 0) + answer.get_json()["actions"].get(
        "update", 0) >= len([e for e in _active()])
    assert {e.last_evaluated_on for e in _active()} == {local_today()}


def test_an_evaluation_is_never_dated_after_today(client, api, demo):
    """Evaluating "as of" a day to come would list units from a date not yet reached (入列
    2026-12-20（-20 天）), with no follow-up possible: refused (422) by the API and the CLI,
    with nothing written; today and earlier days still evaluate."""
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(WatchlistEntry))
    refused = client.post("/api/v1/watchlist/evaluate", json={"as_of": tomorrow},
                          headers=api("fwgl"))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "as_of_in_future"
    assert local_today().isoformat() in refused.get_json()["error"]["message"]
    result = client.application.test_cli_runner().invoke(
        args=["watchlist", "evaluate", "--as-of", tomorrow])
    assert result.exit_code == 1 and "评估日期不能晚于今天" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WatchlistEntry)) == before
    done = client.post("/api/v1/watchlist/evaluate", json={"as_of": local_today().isoformat()},
                       headers=api("fwgl"))
    assert done.status_code == 200, done.get_json()


def test_a_rule_left_without_a_unit_kind_is_refused(client, login, demo):
    """Untick both 网点 and 支行 for a rule: is the form refused naming the rule's 适用于, the
    boxes shown as they were posted, and no version added?"""
    login("fwgl", DEMO_PASSWORD)
    response = _post(client, "/manage/rules", rules_form(**{
        "red_line_repeat.unit_kinds": None, "queue_overtime.unit_kinds": ["outlet"]}))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "「红线问题反复出现」适用于：请至少选择一种适用对象" in text
    assert 'name="queue_overtime.unit_kinds" value="outlet" checked' in text
    assert 'name="queue_overtime.unit_kinds" value="subbranch" checked' not in text
    assert db.session.scalar(sa.select(sa.func.max(WatchlistRuleSet.version))) is None  # none stored


# -- D4, D5: what the API takes ------------------------------------------------------------------


def test_the_api_refuses_a_blank_reason_and_blank_people_as_the_pages_do(client, api, demo):
    """An exit reason of spaces, or 参与人员 of spaces: is each refused (422, the JSON error body
    with the pages' Chinese message), with nothing written — and are spaces around real text
    dropped?"""
    entry = _active()[0]
    headers = api("fwgl")
    exit_ = client.post(f"/api/v1/watchlist/{entry.id}/exit", json={"reason": "    "},
                        headers=headers)
    assert exit_.status_code == 422
    error = exit_.get_json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert error["details"] == {"reason": ["请填写原因"]}
    people = client.post(f"/api/v1/watchlist/{entry.id}/actions", headers=headers, json={
        "kind": "other", "held_on": local_today().isoformat(), "people": "   ", "notes": ""})
    assert people.status_code == 422
    assert people.get_json()["error"]["details"] == {"people": ["必填"]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CoachingAction).where(
        CoachingAction.entry_id == entry.id)) == len(entry.actions)
    db.session.expire_all()
    assert db.session.get(WatchlistEntry, entry.id).status is EntryStatus.active

    logged = client.post(f"/api/v1/watchlist/{entry.id}/actions", headers=headers, json={
        "kind": "other", "held_on": local_today().isoformat(), "people": "  张丽 ",
        "notes": " 电话回访 "})
    assert logged.status_code == 201 and logged.get_json()["people"] == "张丽"
    assert logged.get_json()["notes"] == "电话回访"
    left = client.post(f"/api/v1/watchlist/{entry.id}/exit", headers=headers,
                       json={"reason": "  经复核问题已整改  "})
    assert left.status_code == 200 and left.get_json()["exit_reason"] == "经复核问题已整改"


@pytest.mark.parametrize("where", ["page", "api"])
def test_a_follow_up_is_dated_within_the_stay_and_only_while_listed(client, login, api, demo,
                                                                    where):
    """A follow-up dated before the unit was listed, or logged on a unit already off the list:
    is each refused, on the page and by the API alike (422 held_before_listing / 409
    not_on_list, saying why), and the listing day itself taken?"""
    entry = _active()[0]
    left = db.session.scalars(sa.select(WatchlistEntry).where(
        WatchlistEntry.status == EntryStatus.exited)).first()
    before_listing = (entry.entered_on - timedelta(days=1)).isoformat()
    follow_up = {"kind": "interview", "people": "张丽", "notes": ""}
    if where == "page":
        login("fwgl", DEMO_PASSWORD)

        def send(target, held_on):
            return _post(client, f"/manage/watchlist/{target.id}",
                         {**follow_up, "action": "follow_up", "held_on": held_on})
    else:
        def send(target, held_on):
            return client.post(f"/api/v1/watchlist/{target.id}/actions", headers=api("fwgl"),
                               json={**follow_up, "held_on": held_on})
    count = len(entry.actions)
    early = send(entry, before_listing)
    assert early.status_code == 422
    said = f"跟进日期不能早于列入名单的日期（{entry.entered_on}）"
    if where == "api":
        assert early.get_json()["error"] == {"code": "held_before_listing", "message": said}
    else:
        assert said in early.get_data(as_text=True)
    late = send(left, local_today().isoformat())
    assert late.status_code == 409
    if where == "api":
        assert late.get_json()["error"] == {"code": "not_on_list",
                                            "message": "该单位已不在名单上，不能再记录跟进"}
    else:
        assert "该单位已不在名单上，不能再记录跟进" in late.get_data(as_text=True)
    assert send(entry, entry.entered_on.isoformat()).status_code in (201, 302)
    db.session.expire_all()
    assert len(db.session.get(WatchlistEntry, entry.id).actions) == count + 1
    assert len(db.session.get(WatchlistEntry, left.id).actions) == len(left.actions)
