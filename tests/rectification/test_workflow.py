"""From finding to verified fix: creation on submission, the outlet's fix, review, overdue,
fixed on the spot, deadlines and responsible people, resubmission and appeals."""
from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.auth.models import User
from inspect_app.evidence.models import Photo
from inspect_app.extensions import db
from inspect_app.inspections.models import Finding
from inspect_app.rectification.models import SEVERITY_LABELS, RectificationItem
from inspect_app.rectification.operations import local_today

from ..helpers import filler_of, jpeg, new_key, submit_filled
from .conftest import (
    failable_codes,
    items_of,
    other_subbranch_manager,
    outlet_manager_of,
    subbranch_manager_of,
    submit_fix,
    upload_after,
)


def audit_actions(item_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.object_type == "rectification_item", AuditEntry.object_id == str(item_id))
        .order_by(AuditEntry.id)))


def test_each_unfixed_finding_becomes_an_open_item_with_deadline_and_responsible(
        client, api, failed_inspection):
    """Does submission create one open item per failed item, with the standard's snapshot,
    a deadline of submission date + the item's days and the outlet manager responsible?"""
    inspection, codes = failed_inspection(count=2)
    items = items_of(inspection)
    assert sorted(i.item_code for i in items) == sorted(codes)
    days = {i.code: i.deadline_days for i in inspection.checklist.items}
    for item in items:
        assert item.state.value == "open" and item.finding_id is not None
        assert item.deadline == local_today() + timedelta(days=days[item.item_code])
        assert item.responsible.username == outlet_manager_of(inspection)
        assert item.standard and item.section and item.item_text
        assert audit_actions(item.id) == ["rectification.create"]


def open_item_ids(client, headers) -> set[int]:
    """Ids of the open items ``headers``' holder lists (the demo's own recent findings among
    them: which outlet has some depends on the day the demo is seeded)."""
    listed = client.get("/api/v1/rectification/items?state=open&per_page=200",
                        headers=headers).get_json()
    assert listed["total"] == len(listed["items"])
    return {i["id"] for i in listed["items"]}


def test_outlet_manager_sees_open_items_uploads_after_photo_and_submits(
        client, api, failed_inspection, first):
    """Can the outlet manager list their open items (the two new ones besides those the
    outlet already had), upload an after-photo and submit the fix — and does the sub-branch
    manager then accept it?"""
    outlet = api(outlet_manager_of(first("spot_check")))  # the one failed_inspection submits
    before = open_item_ids(client, outlet)
    inspection, _ = failed_inspection(count=2)
    new = {item.id for item in items_of(inspection)}
    assert len(new) == 2 and not new & before
    listed = client.get("/api/v1/rectification/items?state=open&per_page=200",
                        headers=outlet).get_json()
    assert listed["total"] == len(before) + 2
    assert {i["id"] for i in listed["items"]} == before | new
    assert {i["state"] for i in listed["items"]} == {"open"}
    item_id = min(new)
    response = submit_fix(client, outlet, item_id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "submitted" and len(body["after_photos"]) == 1
    assert body["after_photos"][0]["purpose"] == "after"
    accepted = client.post(f"/api/v1/rectification/items/{item_id}/accept", json={},
                           headers=api(subbranch_manager_of(inspection)))
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["state"] == "accepted"
    closed = client.post(f"/api/v1/rectification/items/{item_id}/close", json={},
                         headers=api("fwgl"))
    assert closed.get_json()["state"] == "closed"
    assert audit_actions(item_id) == ["rectification.create", "rectification.submit",
                                      "rectification.accept", "rectification.close"]


def test_a_finding_says_what_became_of_its_fix(client, api, failed_inspection):
    """On the result, does a finding read 待整改 while its fix is owed, then 整改待验收,
    整改已验收 and 验收通过 as its item moves on — not 待整改 for ever?"""
    inspection, _ = failed_inspection(count=1)
    outlet = api(outlet_manager_of(inspection))
    # the outlet's own list, narrowed to this inspection (the demo may have left it others)
    listed = client.get(f"/api/v1/rectification/items?state=open&inspection_id={inspection.id}",
                        headers=outlet).get_json()["items"]
    assert [i["id"] for i in listed] == [item.id for item in items_of(inspection)]
    item_id = listed[0]["id"]

    def shown():
        finding = client.get(f"/api/v1/inspections/{inspection.id}",
                             headers=outlet).get_json()["findings"][0]
        return finding["status_label"], finding["rectification_state"]

    assert shown() == ("待整改", "open")
    assert submit_fix(client, outlet, item_id).status_code == 200
    assert shown() == ("整改待验收", "submitted")
    client.post(f"/api/v1/rectification/items/{item_id}/accept", json={},
                headers=api(subbranch_manager_of(inspection)))
    assert shown() == ("整改已验收", "accepted")
    client.post(f"/api/v1/rectification/items/{item_id}/close", json={}, headers=api("fwgl"))
    assert shown() == ("验收通过", "closed")
    english = client.get(f"/api/v1/inspections/{inspection.id}?lang=en",
                         headers=outlet).get_json()["findings"][0]["status_label"]
    client.get(f"/api/v1/inspections/{inspection.id}?lang=zh", headers=outlet)
    assert english and not re.search(r"[\u4e00-\u9fff]", english)


def test_outlet_manager_cannot_accept_their_own_fix(client, api, failed_inspection):
    """Is acceptance refused (403) to the outlet that submitted the fix?"""
    inspection, _ = failed_inspection(count=1)
    outlet = api(outlet_manager_of(inspection))
    item = items_of(inspection)[0]
    submit_fix(client, outlet, item.id)
    response = client.post(f"/api/v1/rectification/items/{item.id}/accept", json={},
                           headers=outlet)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_acceptor"
    assert db.session.get(RectificationItem, item.id).state.value == "submitted"


def test_the_original_inspector_may_accept(client, api, failed_inspection):
    """May the inspector who found the problem accept its fix?"""
    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    submit_fix(client, api(outlet_manager_of(inspection)), item.id)
    response = client.post(f"/api/v1/rectification/items/{item.id}/accept", json={},
                           headers=api(filler_of(inspection)))
    assert response.status_code == 200, response.get_json()


def test_rejected_fix_goes_back_to_open_with_its_reason(client, api, failed_inspection):
    """Does a rejection reopen the item, keep the reason, and allow a new submission?"""
    inspection, _ = failed_inspection(count=1)
    outlet = api(outlet_manager_of(inspection))
    item = items_of(inspection)[0]
    submit_fix(client, outlet, item.id)
    rejected = client.post(f"/api/v1/rectification/items/{item.id}/reject",
                           json={"reason": "照片看不清整改后的效果"},
                           headers=api(subbranch_manager_of(inspection)))
    assert rejected.status_code == 200, rejected.get_json()
    body = rejected.get_json()
    assert body["state"] == "open" and body["rejection_reason"] == "照片看不清整改后的效果"
    assert body["rejections"] == 1
    assert submit_fix(client, outlet, item.id, seed=8).get_json()["state"] == "submitted"
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "rectification.reject", AuditEntry.object_id == str(item.id)))
    assert entry.reason == "照片看不清整改后的效果" and entry.before["state"] == "submitted"


def test_a_rejected_fix_s_photos_are_not_sent_again_as_the_new_fix(client, api,
                                                                  failed_inspection):
    """The fix is sent back; the outlet sends its photo of the rejected fix again as the new
    one. Is that refused (422, saying the photo was already sent), the item still open — and
    does the reviewer, once a new photo is sent, see the old one among the earlier attempts?"""
    inspection, _ = failed_inspection(count=1)
    outlet = api(outlet_manager_of(inspection))
    item = items_of(inspection)[0]
    first_photo = upload_after(client, outlet, item.id, 7).get_json()["id"]
    sent = client.post(f"/api/v1/rectification/items/{item.id}/submit", headers=outlet,
                       json={"note": "已整改", "photo_ids": [first_photo]})
    assert sent.status_code == 200, sent.get_json()
    reviewer = api(subbranch_manager_of(inspection))
    rejected = client.post(f"/api/v1/rectification/items/{item.id}/reject",
                           json={"reason": "照片看不清整改后的效果"}, headers=reviewer)
    assert rejected.status_code == 200, rejected.get_json()
    again = client.post(f"/api/v1/rectification/items/{item.id}/submit", headers=outlet,
                        json={"note": "再次提交", "photo_ids": [first_photo]})
    assert again.status_code == 422, again.get_json()
    error = again.get_json()["error"]
    assert error["code"] == "photo_already_sent" and error["details"] == {
        "photo_ids": [first_photo]}
    assert error["message"] == "照片已随此前的整改提交过，请上传新的整改后照片"
    assert db.session.get(RectificationItem, item.id).state.value == "open"
    assert submit_fix(client, outlet, item.id, seed=8).status_code == 200
    shown = client.get(f"/api/v1/rectification/items/{item.id}", headers=reviewer).get_json()
    assert first_photo not in [p["id"] for p in shown["after_photos"]]
    assert [p["id"] for p in shown["earlier_after_photos"]] == [first_photo]


def test_illegal_moves_are_refused(client, api, failed_inspection):
    """Can an open item not be accepted, nor a fix be submitted without an after-photo?"""
    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    accept = client.post(f"/api/v1/rectification/items/{item.id}/accept", json={},
                         headers=api(subbranch_manager_of(inspection)))
    assert accept.status_code == 409
    assert accept.get_json()["error"]["code"] == "illegal_transition"
    empty = client.post(f"/api/v1/rectification/items/{item.id}/submit",
                        json={"note": "已整改", "photo_ids": []},
                        headers=api(outlet_manager_of(inspection)))
    assert empty.status_code == 422


def test_after_photo_upload_is_idempotent_and_flags_reuse_of_the_before_photo(
        client, api, failed_inspection):
    """Does re-sending a client id return the same photo, and is the before-photo sent
    again as "after" flagged as re-used for the reviewer?"""
    inspection, _ = failed_inspection(count=1)
    outlet = api(outlet_manager_of(inspection))
    item = items_of(inspection)[0]
    key = new_key()
    one = upload_after(client, outlet, item.id, seed=31, key=key)
    two = upload_after(client, outlet, item.id, seed=31, key=key)
    assert (one.status_code, two.status_code) == (201, 200)
    assert one.get_json()["id"] == two.get_json()["id"]
    before = db.session.scalar(sa.select(Photo).where(Photo.inspection_id == inspection.id,
                                                      Photo.item_code == item.item_code))
    original = client.get(f"/api/v1/photos/{before.id}/original", headers=api("fwgl")).data

    reused = client.post(f"/api/v1/rectification/items/{item.id}/photos", headers=outlet,
                         data={"client_id": new_key(), "file": (io.BytesIO(original), "a.jpg")},
                         content_type="multipart/form-data")
    assert reused.status_code == 201
    assert reused.get_json()["flags"] is None  # the outlet never sees evidence flags
    seen = client.get(f"/api/v1/photos/{reused.get_json()['id']}",
                      headers=api(subbranch_manager_of(inspection))).get_json()
    assert "reused_exact" in {f["code"] for f in seen["flags"]}
    # the after-photo follows the item's permissions
    assert client.get(f"/api/v1/photos/{reused.get_json()['id']}",
                      headers=api(other_subbranch_manager(inspection))).status_code == 404


def test_overdue_is_derived_from_the_deadline_and_shows_in_filters_and_counts(
        client, api, failed_inspection, first):
    """Once a deadline is in the past, is the open item overdue in the list, the filter and
    the counts — and does a submitted fix stop it being overdue? (Counted against what the
    outlet had before: which outlet has open or late demo items depends on the day the demo
    is seeded.)"""
    outlet = api(outlet_manager_of(first("spot_check")))  # the one failed_inspection submits

    def overdue_ids() -> list[int]:
        listed = client.get("/api/v1/rectification/items?overdue=true&per_page=200",
                            headers=outlet).get_json()
        assert all(i["overdue"] for i in listed["items"])
        return [i["id"] for i in listed["items"]]

    was_overdue = overdue_ids()
    was = client.get("/api/v1/rectification/counts", headers=outlet).get_json()
    inspection, _ = failed_inspection(count=2)
    late, on_time = items_of(inspection)
    late.deadline = local_today() - timedelta(days=1)
    db.session.commit()
    assert sorted(overdue_ids()) == sorted(was_overdue + [late.id])
    counts = client.get("/api/v1/rectification/counts", headers=outlet).get_json()
    assert counts == {**was, "open": was["open"] + 2, "overdue": was["overdue"] + 1,
                      "total": was["total"] + 2}
    submit_fix(client, outlet, late.id)
    counts = client.get("/api/v1/rectification/counts", headers=outlet).get_json()
    assert counts == {**was, "open": was["open"] + 1, "submitted": was["submitted"] + 1,
                      "overdue": was["overdue"], "total": was["total"] + 2}


def test_fixed_on_the_spot_is_closed_at_once_with_its_after_photo(client, api, first):
    """Is a finding fixed during the visit recorded as a closed item with the inspector's
    after-photo, and still counted?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    from .conftest import failable_codes

    code = failable_codes(client, headers, spot, 1)[0]
    after = client.post(f"/api/v1/inspections/{spot.id}/photos", headers=headers,
                        data={"client_id": new_key(), "item_code": code, "purpose": "after",
                              "file": (io.BytesIO(jpeg(99)), "after.jpg")},
                        content_type="multipart/form-data")
    assert after.status_code == 201, after.get_json()
    response = submit_filled(client, headers, spot.id, fail=(code,),
                             extra={"findings": {code: {"fixed_on_spot": True}}})
    assert response.status_code == 200, response.get_json()
    item = items_of(spot)[0]
    assert item.state.value == "closed" and item.closed_reason.value == "fixed_on_spot"
    detail = client.get(f"/api/v1/rectification/items/{item.id}", headers=api("fwgl")).get_json()
    assert [p["id"] for p in detail["after_photos"]] == [after.get_json()["id"]]
    assert len(detail["before_photos"]) == 1
    counts = client.get(f"/api/v1/rectification/counts?inspection_id={spot.id}",
                        headers=api("fwgl")).get_json()
    assert counts["closed"] == 1 and counts["total"] == 1


def test_a_red_line_finding_fixed_on_the_spot_needs_its_after_photo(client, api, first):
    """立查立改 on a red-line failure with only the before-photo: is the submission refused
    (422 naming the item), nothing submitted? With the after-photo, is it closed at once and
    does the inspection report print the after-photo beside the finding?"""
    from inspect_app.inspections.models import Inspection, InspectionStatus
    from inspect_app.rectification.documents import inspection_report

    from ..helpers import attach_after_photo, attach_photos, passing_answers

    spot = first("spot_check")
    headers = api(filler_of(spot))
    items = client.get(f"/api/v1/inspections/{spot.id}",
                       headers=headers).get_json()["checklist"]["items"]
    code = next(i["code"] for i in items if i["red_line"] and i["response_type"] == "pass_fail")
    answers = passing_answers(items, fail=(code,))
    before = client.post(f"/api/v1/inspections/{spot.id}/photos", headers=headers,
                         data={"client_id": new_key(), "item_code": code,
                               "file": (io.BytesIO(jpeg(98)), "before.jpg")},
                         content_type="multipart/form-data")
    assert before.status_code == 201 and before.get_json()["purpose"] == "before"
    attach_photos(client, headers, spot.id, [i for i in items if i["code"] != code], answers)
    body = {"answers": answers, "findings": {code: {"fixed_on_spot": True}}}
    refused = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                          headers={**headers, "Idempotency-Key": new_key()})
    assert refused.status_code == 422, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "after_photos_missing" and list(error["details"]) == [code]
    assert code in error["message"]
    assert db.session.get(Inspection, spot.id).status is not InspectionStatus.submitted

    after = attach_after_photo(client, headers, spot.id, code)
    assert after.status_code == 201 and after.get_json()["purpose"] == "after"
    accepted = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                           headers={**headers, "Idempotency-Key": new_key()})
    assert accepted.status_code == 200, accepted.get_json()
    item = items_of(spot)[0]
    assert item.item_code == code and item.closed_reason.value == "fixed_on_spot"
    db.session.expire_all()
    report = inspection_report(db.session.get(Inspection, spot.id), db.session.scalar(
        sa.select(User).where(User.username == "fwgl")))
    row = next(f for f in report.context["findings"] if f["item_code"] == code)
    assert row["fixed_on_spot"]
    stored = db.session.get(Photo, after.get_json()["id"])
    assert row["after_photos"] == [{"key": stored.thumb_key, "sha256": stored.sha256}]
    assert len(row["before_photos"]) == 1
    assert client.get(f"/api/v1/inspections/{spot.id}/report.pdf",
                      headers=api("fwgl")).status_code == 200


def test_a_mystery_visit_takes_no_after_photo(client, api, first):
    """A covert visit cannot be fixed on the spot: is an after-photo for one refused?"""
    from ..helpers import attach_after_photo

    visit = first("mystery_visit")
    headers = api(filler_of(visit))
    code = client.get(f"/api/v1/inspections/{visit.id}",
                      headers=headers).get_json()["checklist"]["items"][0]["code"]
    refused = attach_after_photo(client, headers, visit.id, code)
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["code"] == "fixed_on_spot_not_allowed"


def test_deadline_adjustment_is_for_service_managers_and_audited(client, api, failed_inspection):
    """Can only a service manager move a deadline, and is the reason in the audit log?"""
    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    old = item.deadline.isoformat()
    new = (local_today() + timedelta(days=30)).isoformat()
    body = {"deadline": new, "reason": "需更换门楣，厂家排期"}
    refused = client.post(f"/api/v1/rectification/items/{item.id}/deadline", json=body,
                          headers=api(subbranch_manager_of(inspection)))
    assert refused.status_code == 403
    moved = client.post(f"/api/v1/rectification/items/{item.id}/deadline", json=body,
                        headers=api("fwgl"))
    assert moved.status_code == 200 and moved.get_json()["deadline"] == new
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "rectification.deadline", AuditEntry.object_id == str(item.id)))
    assert entry.reason == "需更换门楣，厂家排期" and entry.after["deadline"] == new
    assert entry.before["deadline"] == old


def test_a_deadline_is_not_moved_before_the_inspection_nor_given_in_another_form(
        client, api, failed_inspection):
    """A deadline before the inspection's date (the item overdue the moment it exists) is
    refused, and so is a date not written YYYY-MM-DD (``20261231``, ``2026-W52``), which
    Python would have read as some other day."""
    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    url = f"/api/v1/rectification/items/{item.id}/deadline"
    early = client.post(url, headers=api("fwgl"),
                        json={"deadline": "2001-01-01", "reason": "调整期限"})
    assert early.status_code == 422, early.get_json()
    assert early.get_json()["error"]["code"] == "deadline_before_inspection"
    for written in ("20261231", "2026-W52", "2026-12-31T00:00:00"):
        odd = client.post(url, headers=api("fwgl"), json={"deadline": written, "reason": "调整"})
        assert odd.status_code == 422, (written, odd.get_json())
        assert odd.get_json()["error"]["details"] == {"deadline": ["不是有效的日期"]}
    db.session.expire_all()
    assert items_of(inspection)[0].deadline == item.deadline


def test_responsible_person_can_be_changed_to_someone_of_the_outlet(client, api,
                                                                   failed_inspection):
    """Is the responsible person changeable — but only to someone of the outlet or above?"""
    from inspect_app.auth.models import User

    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    sub_manager = db.session.scalar(sa.select(User).where(
        User.username == subbranch_manager_of(inspection)))
    stranger = db.session.scalar(sa.select(User).where(
        User.username == other_subbranch_manager(inspection)))
    headers = api(subbranch_manager_of(inspection))
    bad = client.post(f"/api/v1/rectification/items/{item.id}/responsible",
                      json={"responsible_id": stranger.id}, headers=headers)
    assert bad.status_code == 422
    good = client.post(f"/api/v1/rectification/items/{item.id}/responsible",
                       json={"responsible_id": sub_manager.id, "reason": "支行牵头整改"},
                       headers=headers)
    assert good.status_code == 200 and good.get_json()["responsible"]["id"] == sub_manager.id


def test_only_the_outlets_own_managers_can_be_named_responsible(client, api, failed_inspection):
    """Stepping through people's ids, does the outlet manager learn nobody — a mystery shopper,
    the service manager, the administrator, an inspector, another sub-branch's manager and a
    person who does not exist all get the same 422 — and does a refused shopper gain nothing on
    the item, while the sub-branch's own manager can be named?"""
    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    headers = api(outlet_manager_of(inspection))
    refused = []
    for username in ("smr1", "fwgl", "admin", "jc.fenhang1", other_subbranch_manager(inspection)):
        person = db.session.scalar(sa.select(User.id).where(User.username == username))
        refused.append(client.post(f"/api/v1/rectification/items/{item.id}/responsible",
                                   json={"responsible_id": person}, headers=headers))
    refused.append(client.post(f"/api/v1/rectification/items/{item.id}/responsible",
                               json={"responsible_id": 999999}, headers=headers))
    assert {(r.status_code, json.dumps(r.get_json(), ensure_ascii=False))
            for r in refused} == {(422, json.dumps(refused[0].get_json(), ensure_ascii=False))}
    assert client.get(f"/api/v1/rectification/items/{item.id}",
                      headers=api("smr1")).status_code == 404
    sub_manager = db.session.scalar(sa.select(User.id).where(
        User.username == subbranch_manager_of(inspection)))
    named = client.post(f"/api/v1/rectification/items/{item.id}/responsible",
                        json={"responsible_id": sub_manager}, headers=headers)
    assert named.status_code == 200 and named.get_json()["responsible"]["id"] == sub_manager


def test_a_responsible_person_who_may_no_longer_be_one_loses_the_item(client, api,
                                                                      failed_inspection):
    """Someone named 责任人 who does not answer for the outlet (named before only its managers
    could be, or a manager since moved elsewhere) reads, lists and fixes nothing of the item:
    it answers 404 to them as to any stranger; its own managers still act on it."""
    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    stranger = other_subbranch_manager(inspection)
    item.responsible_id = db.session.scalar(sa.select(User.id).where(User.username == stranger))
    db.session.commit()
    headers = api(stranger)
    assert client.get(f"/api/v1/rectification/items/{item.id}",
                      headers=headers).status_code == 404
    listed = client.get("/api/v1/rectification/items?per_page=200", headers=headers).get_json()
    assert item.id not in {i["id"] for i in listed["items"]}
    fix = client.post(f"/api/v1/rectification/items/{item.id}/submit", headers=headers,
                      json={"note": "已整改", "photo_ids": [1]})
    assert fix.status_code == 404, fix.get_json()
    assert client.get(f"/api/v1/rectification/items/{item.id}",
                      headers=api(outlet_manager_of(inspection))).status_code == 200


def test_each_manager_sees_only_their_own_units_items(client, api, failed_inspection):
    """Do an outlet manager of another outlet and another sub-branch's manager see nothing,
    while the inspector sees the items of their own inspection?"""
    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    for username in (other_subbranch_manager(inspection), "wd.ln02" if not
                     inspection.outlet.code == "TS-LN-02" else "wd.lb02"):
        headers = api(username)
        assert client.get(f"/api/v1/rectification/items/{item.id}",
                          headers=headers).status_code == 404
        listed = client.get("/api/v1/rectification/items?per_page=200",
                            headers=headers).get_json()["items"]
        assert item.id not in {i["id"] for i in listed}
        assert inspection.outlet_id not in {i["outlet"]["id"] for i in listed}
    for username in (filler_of(inspection), subbranch_manager_of(inspection), "fwgl"):
        assert client.get(f"/api/v1/rectification/items/{item.id}",
                          headers=api(username)).status_code == 200


def test_filters_by_subbranch_severity_mode_and_campaign(client, api, failed_inspection,
                                                         campaign, first):
    """Do the list filters narrow the items as asked (counted against the demo's own items,
    which are there before this inspection adds two)?"""
    headers = api("fwgl")

    def total(query: str) -> int:
        response = client.get(f"/api/v1/rectification/items?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["total"]

    inspection = first("spot_check")  # the one failed_inspection will submit
    sub_id = inspection.outlet.parent_id
    queries = [f"subbranch_id={sub_id}", f"outlet_id={inspection.outlet_id}",
               f"campaign_id={campaign['id']}&mode=spot_check", "mode=self_check",
               "state=closed"]
    before = {query: total(query) for query in queries}
    # the outlet's open items of each severity (the demo may have left it some)
    of_severity = {severity: total(f"severity={severity}&state=open"
                                   f"&outlet_id={inspection.outlet_id}")
                   for severity in SEVERITY_LABELS}
    inspection, _ = failed_inspection(count=2)
    added = {query: total(query) - before[query] for query in queries}
    assert added == {queries[0]: 2, queries[1]: 2, queries[2]: 2, queries[3]: 0,
                     queries[4]: 0}
    assert before[queries[2]] == 0  # the campaign's filter sees only the campaign's items
    chosen = {item.severity for item in items_of(inspection)}
    severities = "&".join(f"severity={s}" for s in chosen)
    assert total(f"{severities}&outlet_id={inspection.outlet_id}&state=open") \
        == 2 + sum(of_severity[s] for s in chosen)
    for other in set(of_severity) - chosen:  # the other severities' items are left out
        assert total(f"severity={other}&outlet_id={inspection.outlet_id}&state=open") \
            == of_severity[other]
    assert client.get("/api/v1/rectification/items?severity=huge",
                      headers=headers).status_code == 422


def test_resubmitted_inspection_does_not_duplicate_its_items(client, api, failed_inspection):
    """After a return for correction, does resubmission keep one item per failed item
    (re-linked to the new finding) and withdraw an item that now passes, as the inspector's
    correction (not as an appeal upheld)?"""
    inspection, codes = failed_inspection(count=2)
    first_ids = {i.item_code: i.id for i in items_of(inspection)}
    returned = client.post(f"/api/v1/inspections/{inspection.id}/return",
                           json={"reason": "请补充第二项的说明"}, headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()
    again = submit_filled(client, api(filler_of(inspection)), inspection.id, fail=(codes[0],))
    assert again.status_code == 200, again.get_json()
    items = {i.item_code: i for i in items_of(inspection)}
    assert {c: i.id for c, i in items.items()} == first_ids
    assert items[codes[0]].state.value == "open"
    assert items[codes[0]].finding_id == db.session.scalar(sa.select(Finding.id).where(
        Finding.inspection_id == inspection.id, Finding.item_code == codes[0]))
    assert items[codes[1]].state.value == "closed"
    assert items[codes[1]].closed_reason.value == "corrected"  # not an appeal upheld


def test_an_item_a_correction_withdrew_is_owed_again_when_the_next_correction_fails_it(
        client, api, failed_inspection):
    """The inspection is returned twice: the first correction passes the second item
    (检查人更正，已撤销), the second fails it again. Is the item open again — the outlet owes
    the fix — with the reopening in the audit log?"""
    inspection, codes = failed_inspection(count=2)
    filler = api(filler_of(inspection))
    for round_, fail in ((1, (codes[0],)), (2, tuple(codes))):
        returned = client.post(f"/api/v1/inspections/{inspection.id}/return",
                               json={"reason": f"第{round_}次退回，请更正"}, headers=api("fwgl"))
        assert returned.status_code == 200, returned.get_json()
        again = submit_filled(client, filler, inspection.id, fail=fail)
        assert again.status_code == 200, again.get_json()
    db.session.expire_all()
    item = {i.item_code: i for i in items_of(inspection)}[codes[1]]
    assert item.state.value == "open" and item.closed_reason is None and item.closed_at is None
    assert audit_actions(item.id)[-2:] == ["rectification.relink", "rectification.reopen"]


def test_a_finding_corrected_to_not_fixed_on_the_spot_is_owed_again(client, api, first,
                                                                    failed_inspection):
    """A finding first marked 立查立改, the inspection returned and the finding corrected to
    not fixed on the spot: is its item open again (no longer closed as 立查立改), audited?"""
    spot = first("spot_check")
    code = failable_codes(client, api(filler_of(spot)), spot, 1)[0]
    inspection, _ = failed_inspection(count=1, fixed=(code,))
    assert items_of(inspection)[0].closed_reason.value == "fixed_on_spot"
    returned = client.post(f"/api/v1/inspections/{inspection.id}/return",
                           json={"reason": "现场并未整改，请更正"}, headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()
    again = submit_filled(client, api(filler_of(inspection)), inspection.id, fail=(code,))
    assert again.status_code == 200, again.get_json()
    db.session.expire_all()
    item = items_of(inspection)[0]
    assert item.state.value == "open" and item.closed_reason is None
    assert audit_actions(item.id)[-1] == "rectification.reopen"


def test_a_finding_fixed_on_the_spot_and_corrected_to_a_pass_is_withdrawn(client, api, first,
                                                                          failed_inspection):
    """A finding marked 立查立改, the inspection returned and the item corrected to a pass: the
    problem was never there, so its item is 检查人更正，已撤销 (no longer a problem found), not
    立查立改, and the change is audited."""
    spot = first("spot_check")
    code = failable_codes(client, api(filler_of(spot)), spot, 1)[0]
    inspection, _ = failed_inspection(count=1, fixed=(code,))
    returned = client.post(f"/api/v1/inspections/{inspection.id}/return",
                           json={"reason": "该项其实合格，请更正"}, headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()
    again = submit_filled(client, api(filler_of(inspection)), inspection.id)
    assert again.status_code == 200, again.get_json()
    db.session.expire_all()
    item = items_of(inspection)[0]
    assert item.state.value == "closed" and item.closed_reason.value == "corrected"
    assert audit_actions(item.id)[-1] == "rectification.withdraw"


def test_overturned_appeal_closes_the_item_as_withdrawn(client, api, failed_inspection):
    """When an appeal is overturned, is the item closed as 申诉成立 (withdrawn)?"""
    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    appeal = client.post(f"/api/v1/findings/{item.finding_id}/appeals",
                         json={"category": "facts_wrong", "text": "检查当日设施齐全，请复核"},
                         headers=api(outlet_manager_of(inspection)))
    assert appeal.status_code == 201, appeal.get_json()
    decided = client.post(f"/api/v1/appeals/{appeal.get_json()['id']}/decide",
                          json={"decision": "overturned", "note": "核实无误"},
                          headers=api("fwgl2"))
    assert decided.status_code == 200, decided.get_json()
    item = db.session.get(RectificationItem, item.id)
    assert item.state.value == "closed" and item.closed_reason.value == "withdrawn"
    assert "rectification.withdraw" in audit_actions(item.id)


def test_an_appeal_granted_after_the_fix_was_closed_withdraws_the_item(client, api,
                                                                       failed_inspection):
    """The outlet fixes a finding, the fix is accepted and closed, then its appeal is granted:
    is the item now 申诉成立，已撤销 (no longer a problem found, on the lists or in the
    statistics), and is the change in the audit log?"""
    inspection, _ = failed_inspection(count=1)
    outlet = api(outlet_manager_of(inspection))
    item = items_of(inspection)[0]
    assert submit_fix(client, outlet, item.id).status_code == 200
    accepted = client.post(f"/api/v1/rectification/items/{item.id}/accept", json={},
                           headers=api(subbranch_manager_of(inspection)))
    assert accepted.status_code == 200, accepted.get_json()
    closed = client.post(f"/api/v1/rectification/items/{item.id}/close", json={},
                         headers=api("fwgl"))
    assert closed.status_code == 200, closed.get_json()
    appeal = client.post(f"/api/v1/findings/{item.finding_id}/appeals", headers=outlet,
                         json={"category": "facts_wrong", "text": "检查当日设施齐全，请复核"})
    assert appeal.status_code == 201, appeal.get_json()
    decided = client.post(f"/api/v1/appeals/{appeal.get_json()['id']}/decide",
                          json={"decision": "overturned", "note": "核实无误"},
                          headers=api("fwgl2"))
    assert decided.status_code == 200, decided.get_json()
    shown = client.get(f"/api/v1/rectification/items/{item.id}", headers=outlet).get_json()
    assert shown["state"] == "closed" and shown["closed_reason"] == "withdrawn"
    assert shown["appeal"]["status"] == "overturned"
    assert audit_actions(item.id)[-1] == "rectification.withdraw"


def test_an_appealed_finding_says_where_its_appeal_stands_on_its_item(client, api,
                                                                     failed_inspection):
    """The outlet appeals two findings: do their items in the outlet's rectification list say
    申诉处理中 while the appeals wait — the deadline running all the same — then 申诉未成立
    with the reviewer's note for the one refused (still to fix), and 申诉成立，已撤销 for the
    one granted, which the list of recently withdrawn items holds?"""
    inspection, _ = failed_inspection(count=3)
    refused, granted, untouched = items_of(inspection)
    outlet = api(outlet_manager_of(inspection))

    def listed(query: str = "state=open&state=submitted") -> dict[int, dict]:
        response = client.get(f"/api/v1/rectification/items?{query}", headers=outlet)
        assert response.status_code == 200, response.get_json()
        return {row["id"]: row for row in response.get_json()["items"]}

    appeals = {}
    for item in (refused, granted):
        made = client.post(f"/api/v1/findings/{item.finding_id}/appeals", headers=outlet,
                           json={"category": "facts_wrong", "text": "检查当日设施齐全，请复核"})
        assert made.status_code == 201, made.get_json()
        appeals[item.id] = made.get_json()["id"]
    refused.deadline = local_today() - timedelta(days=1)  # the appeal stops no clock
    db.session.commit()
    rows = listed()
    for item in (refused, granted):
        assert rows[item.id]["appeal"] == {"status": "pending", "status_label": "申诉处理中",
                                           "decision_note": None}
    assert rows[refused.id]["overdue"] is True
    assert rows[untouched.id]["appeal"] is None
    english = client.get(f"/api/v1/rectification/items/{granted.id}?lang=en", headers=outlet)
    assert english.get_json()["appeal"]["status_label"] == "Appeal pending"
    client.get("/api/v1/rectification/items?lang=zh", headers=outlet)

    for item, decision, note in ((refused, "upheld", "照片显示缺失属实"),
                                 (granted, "overturned", "核实无误")):
        decided = client.post(f"/api/v1/appeals/{appeals[item.id]}/decide", headers=api("fwgl2"),
                              json={"decision": decision, "note": note})
        assert decided.status_code == 200, decided.get_json()
    rows = listed()
    assert granted.id not in rows
    assert rows[refused.id]["state"] == "open" and rows[refused.id]["appeal"] == {
        "status": "upheld", "status_label": "申诉未成立，维持原结论", "decision_note": "照片显示缺失属实"}
    withdrawn = listed(f"state=closed&closed_reason=withdrawn&closed_from={local_today()}")
    assert list(withdrawn) == [granted.id]
    assert withdrawn[granted.id]["appeal"] == {
        "status": "overturned", "status_label": "申诉成立，已撤销", "decision_note": "核实无误"}
    later = local_today() + timedelta(days=1)
    assert listed(f"state=closed&closed_reason=withdrawn&closed_from={later}") == {}


def test_only_the_inspected_outlet_is_offered_the_fix_form(client, api, failed_inspection):
    """Does each item say whether the viewer may submit its fix — the outlet yes, the service
    manager and the inspector (who see the list too) no — so the phone offers the form only
    to those the server will accept it from?"""
    inspection, _ = failed_inspection(count=1)
    item_id = items_of(inspection)[0].id
    for username, allowed in ((outlet_manager_of(inspection), True), ("fwgl", False)):
        shown = client.get(f"/api/v1/rectification/items/{item_id}",
                           headers=api(username)).get_json()
        assert shown["can_submit_fix"] is allowed, username


def test_only_those_who_may_decide_are_offered_the_review_of_a_submitted_fix(
        client, api, failed_inspection):
    """Does each item say whether the viewer may accept or reject its fix now — the
    sub-branch and service managers yes once it is submitted, the outlet never, nobody while
    it is still open or after it is accepted?"""
    inspection, _ = failed_inspection(count=1)
    item_id = items_of(inspection)[0].id
    url = f"/api/v1/rectification/items/{item_id}"
    reviewers = (subbranch_manager_of(inspection), "fwgl")
    outlet = outlet_manager_of(inspection)

    def offered(username):
        return client.get(url, headers=api(username)).get_json()["can_review_fix"]

    assert not any(offered(u) for u in (*reviewers, outlet))  # open: nothing to review
    assert submit_fix(client, api(outlet), item_id).status_code == 200
    assert [offered(u) for u in (*reviewers, outlet)] == [True, True, False]
    listed = client.get("/api/v1/rectification/items?state=submitted",
                        headers=api("fwgl")).get_json()["items"]
    assert next(i for i in listed if i["id"] == item_id)["can_review_fix"] is True
    client.post(f"{url}/accept", json={}, headers=api("fwgl"))
    assert not any(offered(u) for u in (*reviewers, outlet))


def test_a_reviewers_list_holds_exactly_the_fixes_they_may_decide(client, api,
                                                                  failed_inspection):
    """Does ``?reviewable=true`` list, and count, exactly the fixes each person may accept or
    reject now — those whose items say ``can_review_fix`` — so 整改验收 never counts one they
    cannot decide (the outlet's own, another sub-branch's, one already decided)?"""
    inspection, _ = failed_inspection(count=3)
    items = items_of(inspection)
    outlet = outlet_manager_of(inspection)
    for item in items[:2]:
        assert submit_fix(client, api(outlet), item.id).status_code == 200
    accepted = client.post(f"/api/v1/rectification/items/{items[1].id}/accept", json={},
                           headers=api("fwgl"))
    assert accepted.status_code == 200, accepted.get_json()
    # an item made while its outlet had no manager names nobody responsible
    db.session.get(RectificationItem, items[0].id).responsible_id = None
    db.session.commit()

    def listed(headers, query=""):
        found, page = {}, 1
        while True:
            body = client.get(f"/api/v1/rectification/items?per_page=200&page={page}{query}",
                              headers=headers).get_json()
            found.update({i["id"]: i for i in body["items"]})
            if page * 200 >= body["total"]:
                assert len(found) == body["total"]
                return found
            page += 1

    people = (outlet, subbranch_manager_of(inspection), other_subbranch_manager(inspection),
              "fwgl", filler_of(inspection))
    offered_to = {}
    for username in people:
        headers = api(username)
        every = listed(headers)
        offered = {i for i, item in every.items() if item["can_review_fix"]}
        assert set(listed(headers, "&reviewable=true")) == offered, username
        assert set(listed(headers, "&reviewable=false")) == set(every) - offered, username
        offered_to[username] = offered
    assert items[0].id in offered_to["fwgl"] and items[0].id in offered_to[people[1]]
    assert items[0].id in offered_to[filler_of(inspection)]  # the original inspector
    assert not offered_to[outlet] and not offered_to[people[2]] & {i.id for i in items}
    assert items[1].id not in offered_to["fwgl"] and items[2].id not in offered_to["fwgl"]


def test_the_accepted_fixes_wait_for_closing_by_exactly_those_who_may_close_them(
        client, api, failed_inspection):
    """Does ``?closable=true`` list, and count, exactly the accepted fixes each person may
    close (销号) — those whose items say ``can_close``: the sub-branch and service managers and
    the original inspector, never the outlet, another sub-branch or a fix not yet accepted —
    and does closing one take it off that list for everyone?"""
    inspection, _ = failed_inspection(count=3)
    items = items_of(inspection)
    outlet = outlet_manager_of(inspection)
    for item in items[:2]:
        assert submit_fix(client, api(outlet), item.id).status_code == 200
    accepted = client.post(f"/api/v1/rectification/items/{items[0].id}/accept", json={},
                           headers=api("fwgl"))
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["can_close"] is True

    def closable(username, flag="true"):
        body = client.get(f"/api/v1/rectification/items?per_page=200&closable={flag}",
                          headers=api(username)).get_json()
        assert flag == "false" or len(body["items"]) == body["total"]
        return {item["id"]: item["can_close"] for item in body["items"]}

    def offered(username):
        return client.get(f"/api/v1/rectification/items/{items[0].id}",
                          headers=api(username)).get_json()["can_close"]

    people = (outlet, subbranch_manager_of(inspection), other_subbranch_manager(inspection),
              "fwgl", filler_of(inspection))
    mine = {item.id for item in items}
    for username in people:
        listed = closable(username)
        assert all(listed.values()), username
        assert not any(closable(username, "false").values()), username  # first page
        assert (items[0].id in listed) is (username not in (outlet, people[2])), username
        assert not listed.keys() & (mine - {items[0].id}), username
    assert not offered(outlet)
    counts = client.get("/api/v1/rectification/counts?closable=true",
                        headers=api(people[1])).get_json()
    assert counts["accepted"] == counts["total"] >= 1

    refused = client.post(f"/api/v1/rectification/items/{items[0].id}/close", json={},
                          headers=api(outlet))
    assert refused.status_code == 403, refused.get_json()
    closed = client.post(f"/api/v1/rectification/items/{items[0].id}/close",
                         json={"note": "复核无误，销号"}, headers=api(people[1]))
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["state"] == "closed"
    assert closed.get_json()["can_close"] is False
    for username in people:
        assert items[0].id not in closable(username), username


def test_items_of_a_returned_inspection_are_held_back_from_the_outlet_side(
        client, api, failed_inspection):
    """While an inspection is back with its inspector (退回修改), do its items leave the
    outlet's and the sub-branch's lists and counts alike, is a fix, an after-photo or a
    decision refused with a clear message — and does the service manager still see them, and
    everyone again once the inspector resubmits?"""
    inspection, codes = failed_inspection(count=2)
    outlet, subbranch = api(outlet_manager_of(inspection)), api(subbranch_manager_of(inspection))
    sent, waiting = items_of(inspection)
    assert submit_fix(client, outlet, sent.id).status_code == 200
    returned = client.post(f"/api/v1/inspections/{inspection.id}/return",
                           json={"reason": "请补充计时说明"}, headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()

    scope = f"inspection_id={inspection.id}"
    for headers in (outlet, subbranch):
        assert client.get(f"/api/v1/rectification/items?{scope}",
                          headers=headers).get_json()["total"] == 0
        assert client.get(f"/api/v1/rectification/counts?{scope}",
                          headers=headers).get_json()["total"] == 0
    refusals = [
        client.get(f"/api/v1/rectification/items/{waiting.id}", headers=outlet),
        upload_after(client, outlet, waiting.id),
        client.post(f"/api/v1/rectification/items/{waiting.id}/submit", headers=outlet,
                    json={"note": "已整改", "photo_ids": [1]}),
        client.post(f"/api/v1/rectification/items/{sent.id}/accept", json={},
                    headers=api("fwgl")),
        client.post(f"/api/v1/rectification/items/{sent.id}/reject",
                    json={"reason": "照片不清楚"}, headers=api("fwgl")),
    ]
    for response in refusals:
        assert response.status_code == 409, response.get_json()
        error = response.get_json()["error"]
        assert error["code"] == "inspection_returned"
        assert error["message"] == "该检查已退回检查人修改，整改项暂不可处理"
    assert client.get(f"/api/v1/rectification/items/{waiting.id}",
                      headers=subbranch).status_code == 409
    manager = client.get(f"/api/v1/rectification/items?{scope}", headers=api("fwgl")).get_json()
    assert manager["total"] == 2
    assert not any(item["can_review_fix"] for item in manager["items"])
    assert client.get(f"/api/v1/rectification/items?{scope}&reviewable=true",
                      headers=api("fwgl")).get_json()["total"] == 0
    assert db.session.get(RectificationItem, waiting.id).state.value == "open"
    assert not db.session.scalars(sa.select(Photo).where(
        Photo.rectification_item_id == waiting.id)).all()

    assert submit_filled(client, api(filler_of(inspection)), inspection.id,
                         fail=tuple(codes)).status_code == 200
    listed = client.get(f"/api/v1/rectification/items?{scope}", headers=outlet).get_json()
    assert listed["total"] == 2
    assert submit_fix(client, outlet, waiting.id).status_code == 200


def test_an_accepted_fix_is_not_closed_while_its_inspection_is_returned(client, api,
                                                                        failed_inspection):
    """The fix is accepted, then the inspection goes back to its inspector: is closing the
    item refused with the same clear message as accepting or rejecting it (409), the item
    still 已验收?"""
    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    assert submit_fix(client, api(outlet_manager_of(inspection)), item.id).status_code == 200
    accepted = client.post(f"/api/v1/rectification/items/{item.id}/accept", json={},
                           headers=api(subbranch_manager_of(inspection)))
    assert accepted.status_code == 200, accepted.get_json()
    returned = client.post(f"/api/v1/inspections/{inspection.id}/return",
                           json={"reason": "请补充说明"}, headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()
    closed = client.post(f"/api/v1/rectification/items/{item.id}/close", json={},
                         headers=api("fwgl"))
    assert closed.status_code == 409, closed.get_json()
    assert closed.get_json()["error"]["code"] == "inspection_returned"
    assert closed.get_json()["error"]["message"] == "该检查已退回检查人修改，整改项暂不可处理"
    assert db.session.get(RectificationItem, item.id).state.value == "accepted"
