"""Re-inspection: a follow-up check of only the failed items closes or reopens them."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections.models import Inspection
from inspect_app.rectification.models import RectificationItem

from ..helpers import submit_filled
from .conftest import items_of, outlet_manager_of, plan_follow_up, submit_fix


def test_reinspection_holds_only_the_failed_items_and_closes_or_reopens_them(
        client, api, failed_inspection):
    """Does a service manager's follow-up hold only the chosen items (a second one for the
    same items is refused while the first is open), and does its result close the passed
    item and reopen the failed one, without creating new items?"""
    inspection, codes = failed_inspection(count=2)
    items = items_of(inspection)
    submit_fix(client, api(outlet_manager_of(inspection)), items[0].id)
    inspector = db.session.scalar(sa.select(User).where(User.username == "jc.fenhang2"))
    body = {"item_ids": [i.id for i in items], "assignee_id": inspector.id,
            "due_start": local_today().isoformat(),
            "due_end": (local_today() + timedelta(days=9)).isoformat()}
    refused = client.post("/api/v1/rectification/reinspections", json=body,
                          headers=api(outlet_manager_of(inspection)))
    assert refused.status_code == 403
    response = client.post("/api/v1/rectification/reinspections", json=body,
                           headers=api("fwgl"))
    assert response.status_code == 201, response.get_json()
    follow_up = db.session.get(Inspection, response.get_json()["id"])
    assert follow_up.parent_id == inspection.id and sorted(follow_up.item_codes) == sorted(codes)
    form = client.get(f"/api/v1/inspections/{follow_up.id}",
                      headers=api("jc.fenhang2")).get_json()["checklist"]["items"]
    assert sorted(i["code"] for i in form) == sorted(codes)
    again = client.post("/api/v1/rectification/reinspections", json=body, headers=api("fwgl"))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "reinspection_pending"

    passed, failed = items[0], items[1]
    result = submit_filled(client, api("jc.fenhang2"), follow_up.id, fail=(failed.item_code,))
    assert result.status_code == 200, result.get_json()
    passed = db.session.get(RectificationItem, passed.id)
    failed = db.session.get(RectificationItem, failed.id)
    assert passed.state.value == "closed" and passed.closed_reason.value == "reinspection_passed"
    assert failed.state.value == "open" and failed.rejection_reason.startswith("复查未通过")
    assert items_of(follow_up) == []  # no duplicate items for the re-checked codes


def test_a_follow_up_leaves_the_outlets_scores_alone(client, api, failed_inspection):
    """Does a follow-up — a near-perfect score over the few items that had failed — leave the
    outlet's ranking figures and its watch-list checks as they were, while still counting in
    the per-period figures' consistency?"""

    from inspect_app.watchlist import operations as watchlist
    from inspect_app.watchlist.period_scores import differences

    inspection, codes = failed_inspection(count=2)
    headers = api("fwgl")

    def outlet_row():
        ranking = client.get(f"/api/v1/dashboard/rankings?kind=month&day={local_today()}",
                             headers=headers).get_json()
        return next(r for r in ranking["outlets"] if r["id"] == inspection.outlet_id)

    before = outlet_row()
    inspector = db.session.scalar(sa.select(User).where(User.username == "jc.fenhang2"))
    response = client.post("/api/v1/rectification/reinspections", headers=headers, json={
        "item_ids": [i.id for i in items_of(inspection)], "assignee_id": inspector.id,
        "due_start": local_today().isoformat(), "due_end": local_today().isoformat()})
    assert response.status_code == 201, response.get_json()
    follow_up_id = response.get_json()["id"]
    assert submit_filled(client, api("jc.fenhang2"), follow_up_id).status_code == 200
    assert client.post(f"/api/v1/inspections/{follow_up_id}/finalise",
                       headers=headers).status_code == 200
    follow_up = db.session.get(Inspection, follow_up_id)
    assert follow_up.total is not None and follow_up.total > 90  # what it would have added
    after = outlet_row()
    assert (after["count"], after["combined"]) == (before["count"], before["combined"])
    assert differences(db.session.connection()) == []
    checks = watchlist._checks_by_outlet(local_today(), local_today())[inspection.outlet_id]
    follow_up_check = next(c for c in checks.independent if c.ref == f"{follow_up_id:012d}")
    assert follow_up_check.total is None  # its score does not count...
    assert follow_up_check.failed_items == ()  # ...its failures would


def test_an_appeal_granted_against_a_failed_follow_up_closes_the_item_it_reopened(
        client, api, failed_inspection):
    """The follow-up fails the item again and reopens it; the outlet appeals the follow-up's
    finding and the appeal is granted. Is the item closed as 复查通过 (the follow-up passed it
    after all, the original finding stands), audited, and does the item show that appeal?"""
    from inspect_app.inspections.models import Finding

    from .test_workflow import audit_actions

    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    follow_up = plan_follow_up(client, api, item)
    result = submit_filled(client, api("jc.fenhang2"), follow_up, fail=(item.item_code,))
    assert result.status_code == 200, result.get_json()
    assert db.session.get(RectificationItem, item.id).state.value == "open"
    finding = db.session.scalar(sa.select(Finding.id).where(Finding.inspection_id == follow_up))
    outlet = api(outlet_manager_of(inspection))
    appeal = client.post(f"/api/v1/findings/{finding}/appeals", headers=outlet,
                         json={"category": "facts_wrong", "text": "复查当日已整改到位，请复核"})
    assert appeal.status_code == 201, appeal.get_json()
    decided = client.post(f"/api/v1/appeals/{appeal.get_json()['id']}/decide",
                          headers=api("fwgl2"),
                          json={"decision": "overturned", "note": "复查照片显示已整改"})
    assert decided.status_code == 200, decided.get_json()
    shown = client.get(f"/api/v1/rectification/items/{item.id}", headers=outlet).get_json()
    assert shown["state"] == "closed" and shown["closed_reason"] == "reinspection_passed"
    assert shown["appeal"] == {"status": "overturned", "status_label": "申诉成立，已撤销",
                               "decision_note": "复查照片显示已整改"}
    assert audit_actions(item.id)[-1] == "rectification.close"


def test_a_closed_outlets_unfinished_items_close_with_it(client, api, failed_inspection):
    """An outlet closes with three items unfinished — one open, one fix submitted, one fix
    accepted: does each close with it (the accepted one as 验收通过, the others as 网点已停用),
    audited with the closing as reason, off its manager's working list, while its findings
    still count?"""
    from inspect_app.audit.models import AuditEntry
    from inspect_app.inspections.models import Finding

    from .conftest import subbranch_manager_of

    inspection, _ = failed_inspection(count=3)
    items = items_of(inspection)
    manager = api(outlet_manager_of(inspection))
    for item in items[1:]:
        assert submit_fix(client, manager, item.id).status_code == 200
    accepted = client.post(f"/api/v1/rectification/items/{items[2].id}/accept", json={},
                           headers=api(subbranch_manager_of(inspection)))
    assert accepted.get_json()["state"] == "accepted"
    findings = db.session.scalar(sa.select(sa.func.count()).select_from(Finding).where(
        Finding.inspection_id == inspection.id))
    closed = client.patch(f"/api/v1/org-units/{inspection.outlet_id}",
                          json={"is_active": False}, headers=api("admin"))
    assert closed.status_code == 200, closed.get_json()
    shown = [client.get(f"/api/v1/rectification/items/{item.id}", headers=api("fwgl"))
             .get_json() for item in items]
    assert [(i["state"], i["closed_reason"], i["closed_reason_label"]) for i in shown] == [
        ("closed", "unit_closed", "网点已停用"), ("closed", "unit_closed", "网点已停用"),
        ("closed", "accepted", "验收通过")]
    for item in items:
        last = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.object_type == "rectification_item",
            AuditEntry.object_id == str(item.id)).order_by(AuditEntry.id.desc())).first()
        assert (last.action, last.reason) == ("rectification.close", "机构已停用")
    working = client.get("/api/v1/rectification/items?state=open&state=submitted"
                         "&state=accepted", headers=manager).get_json()["items"]
    assert not {i["id"] for i in working} & {item.id for item in items}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding).where(
        Finding.inspection_id == inspection.id)) == findings


def test_a_correction_taken_after_the_outlet_closed_leaves_nothing_open(
        client, api, failed_inspection):
    """A result sent back for correction, then its outlet closes, then the correction comes in
    failing more items (the one result a closed outlet still takes). Do its findings count
    while every item — the old one and the new ones — is closed as 网点已停用, none left open
    for an outlet that fixes nothing more?"""
    from inspect_app.inspections.models import Finding

    from ..helpers import filler_of
    from .conftest import failable_codes

    inspection, codes = failed_inspection(count=1)
    filler = api(filler_of(inspection))
    more = failable_codes(client, filler, inspection, 3)
    returned = client.post(f"/api/v1/inspections/{inspection.id}/return",
                           json={"reason": "请补充说明"}, headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()
    closed = client.patch(f"/api/v1/org-units/{inspection.outlet_id}",
                          json={"is_active": False}, headers=api("admin"))
    assert closed.status_code == 200, closed.get_json()
    again = submit_filled(client, filler, inspection.id, fail=tuple(more))
    assert again.status_code == 200, again.get_json()
    db.session.expire_all()
    items = items_of(inspection)
    assert len(items) == 3
    assert {(i.state.value, i.closed_reason.value) for i in items} == {("closed", "unit_closed")}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding).where(
        Finding.inspection_id == inspection.id)) == 3


def test_a_closed_outlet_is_given_no_follow_up(client, api, failed_inspection):
    """A follow-up is planned, then the outlet is closed (is_active false): is the follow-up
    cancelled as its other open tasks are, and is a new one of the same items refused?"""
    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    follow_up = plan_follow_up(client, api, item)
    closed = client.patch(f"/api/v1/org-units/{inspection.outlet_id}",
                          json={"is_active": False}, headers=api("admin"))
    assert closed.status_code == 200, closed.get_json()
    shown = client.get(f"/api/v1/inspections/{follow_up}", headers=api("jc.fenhang2")).get_json()
    assert (shown["status"], shown["cancel_reason"]) == ("cancelled", "机构已停用")
    inspector = db.session.scalar(sa.select(User.id).where(User.username == "jc.fenhang2"))
    again = client.post("/api/v1/rectification/reinspections", headers=api("fwgl"), json={
        "item_ids": [item.id], "assignee_id": inspector,
        "due_start": local_today().isoformat(),
        "due_end": (local_today() + timedelta(days=3)).isoformat()})
    assert again.status_code == 409, again.get_json()
    assert again.get_json()["error"] == {"code": "outlet_closed",
                                         "message": "该网点已停用，不能安排复查"}
