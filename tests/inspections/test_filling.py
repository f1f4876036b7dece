"""Filling in and submitting inspections: drafts, conflicts, idempotent submission, scoring."""
from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.inspections.models import (
    Finding,
    Inspection,
    InspectionAnswer,
    InspectionScore,
    InspectionStatus,
    Submission,
    SubmissionState,
)
from inspect_app.orgs.models import OrgKind, OrgUnit

from .. import helpers
from ..helpers import (
    BEIJING,
    attach_after_photo,
    attach_photos,
    filler_of,
    new_key,
    passing_answers,
    published_mystery_scored_only,
    submit_filled,
    visit_times,
)


def form(client, headers, inspection_id):
    response = client.get(f"/api/v1/inspections/{inspection_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ready_body(client, headers, inspection_id, fail=()):
    """A complete submission body, with the photos it needs already uploaded."""
    items = form(client, headers, inspection_id)["checklist"]["items"]
    answers = passing_answers(items, fail=fail)
    attach_photos(client, headers, inspection_id, items, answers)
    return {"answers": answers}


def test_inspector_sees_only_their_assignments(client, api, first):
    """Does ``mine=true`` list exactly the inspector's own assignments?"""
    spot = first("spot_check")
    listed = client.get("/api/v1/inspections?mine=true&per_page=200",
                        headers=api(spot.assignee.username)).get_json()
    assert listed["total"] >= 1
    assert all(item["inspector"] == spot.assignee.display_name for item in listed["items"])


def test_form_holds_only_the_items_of_its_mode(client, api, first):
    """Are mystery-only items in a mystery visit's form and absent from a spot check's?"""
    mystery, spot = first("mystery_visit"), first("spot_check")
    mystery_codes = {i["code"] for i in form(client, api(filler_of(mystery)), mystery.id)
                     ["checklist"]["items"]}
    spot_items = form(client, api(filler_of(spot)), spot.id)["checklist"]["items"]
    assert all("spot_check" in item["modes"] for item in spot_items)
    mystery_only = mystery_codes - {i["code"] for i in spot_items}
    assert mystery_only, "the default checklist has mystery-visit-only items"


def test_the_form_says_which_items_score(client, api, first):
    """Does each item of a form say whether it scores (the form shows 不计分 from it), free
    text being the one kind that never does?"""
    mystery = first("mystery_visit")
    items = form(client, api(filler_of(mystery)), mystery.id)["checklist"]["items"]
    assert {item["response_type"] for item in items if item["scored"] is False} == {"text"}
    assert all(item["scored"] is True for item in items if item["response_type"] != "text")


def test_draft_saves_and_conflicts_show_the_server_copy(client, api, first):
    """Does a stale device get 409 with the server's copy instead of overwriting it?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    state = form(client, headers, spot.id)
    code = state["checklist"]["items"][0]["code"]
    saved = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=headers,
                       json={"version": state["version"], "answers": {code: {"value": "pass"}}})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["version"] > state["version"]
    stale = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=headers,
                       json={"version": state["version"], "answers": {code: {"value": "fail"}}})
    assert stale.status_code == 409
    server = stale.get_json()["error"]["details"]["server"]
    assert server["answers"][code]["value"] == "pass"
    assert db.session.get(Inspection, spot.id).draft[code]["value"] == "pass"


def test_submission_scores_freezes_answers_and_creates_findings(client, api, first):
    """Is the score stored with the checklist and rules versions, and each failure a finding?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    items = form(client, headers, spot.id)["checklist"]["items"]
    failing = next(i["code"] for i in items if i["response_type"] == "pass_fail"
                   and not i["red_line"] and i["photo_rule"] != "required")
    body = {"answers": passing_answers(items, fail=(failing,)),
            "findings": {failing: {"fixed_on_spot": True}}}
    attach_photos(client, headers, spot.id, items, body["answers"])
    assert attach_after_photo(client, headers, spot.id, failing).status_code == 201
    response = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                           headers={**headers, "Idempotency-Key": new_key()})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["status"] == "submitted" and 0 < result["total"] < 100
    score = db.session.scalar(sa.select(InspectionScore).where(
        InspectionScore.inspection_id == spot.id))
    assert score.checklist_id == spot.checklist_id and score.rules_version == "2026.1"
    finding = db.session.scalar(sa.select(Finding).where(Finding.inspection_id == spot.id))
    assert finding.item_code == failing and finding.fixed_on_spot
    answers = db.session.scalar(sa.select(sa.func.count()).select_from(InspectionAnswer)
                                .where(InspectionAnswer.inspection_id == spot.id))
    assert answers == len(items)


def test_replayed_submission_returns_the_stored_result_once(client, api, first):
    """Does the same key with the same body return the same result and write nothing twice?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    body = ready_body(client, headers, spot.id)
    key = new_key()
    one = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                      headers={**headers, "Idempotency-Key": key})
    two = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                      headers={**headers, "Idempotency-Key": key})
    assert one.status_code == two.status_code == 200
    assert one.get_json() == two.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InspectionScore)
                             .where(InspectionScore.inspection_id == spot.id)) == 1


def test_same_key_with_another_payload_is_refused(client, api, first):
    """Is a reused key with a different body refused with 422?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    items = form(client, headers, spot.id)["checklist"]["items"]
    key = new_key()
    assert submit_filled(client, headers, spot.id, key=key).status_code == 200
    other = passing_answers(items, fail=(items[0]["code"],))
    response = client.post(f"/api/v1/inspections/{spot.id}/submit", json={"answers": other},
                           headers={**headers, "Idempotency-Key": key})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"


def test_retry_while_in_flight_gets_409(client, api, first):
    """Does a retry arriving while the first submission still runs get 409, not a second
    submission?"""
    from inspect_app.inspections.operations import payload_hash

    spot = first("spot_check")
    headers = api(filler_of(spot))
    body = ready_body(client, headers, spot.id)
    key = new_key()
    from inspect_app.auth.models import User
    user = db.session.scalar(sa.select(User).where(User.username == filler_of(spot)))
    db.session.add(Submission(key=key, inspection_id=spot.id, user_id=user.id,
                              payload_hash=payload_hash({**body, "events": {}, "findings": {}}),
                              state=SubmissionState.in_flight))
    db.session.commit()
    response = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                           headers={**headers, "Idempotency-Key": key})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "submission_in_progress"


def test_a_crashed_submission_can_be_retried(client, api, first):
    """When the first request died mid-way (stale in-flight key), does the retry succeed?"""
    from inspect_app.auth.models import User
    from inspect_app.inspections.operations import payload_hash

    spot = first("spot_check")
    headers = api(filler_of(spot))
    body = ready_body(client, headers, spot.id)
    key = new_key()
    user = db.session.scalar(sa.select(User).where(User.username == filler_of(spot)))
    db.session.add(Submission(key=key, inspection_id=spot.id, user_id=user.id,
                              payload_hash=payload_hash({**body, "events": {}, "findings": {}}),
                              state=SubmissionState.in_flight,
                              created_at=datetime.now(UTC) - timedelta(minutes=5)))
    db.session.commit()
    response = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                           headers={**headers, "Idempotency-Key": key})
    assert response.status_code == 200, response.get_json()


def test_second_submission_with_a_new_key_is_a_conflict(client, api, first):
    """Can an already submitted inspection not be submitted again from another device?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    body = ready_body(client, headers, spot.id)
    client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                headers={**headers, "Idempotency-Key": new_key()})
    again = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                        headers={**headers, "Idempotency-Key": new_key()})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_submitted"


def test_a_submission_that_waited_for_the_row_lock_sees_the_winners_commit(app, client, api,
                                                                          first):
    """If another device's submission commits after this request read the inspection (while
    this one waits for the row lock), is this one refused as already submitted, instead of
    working from what it read before and failing on the stale row?"""
    import pytest
    from flask.testing import FlaskClient

    from inspect_app.auth.models import User
    from inspect_app.errors import DomainError
    from inspect_app.inspections.operations import submit_idempotently

    spot = first("spot_check")
    headers = api(filler_of(spot))
    body = ready_body(client, headers, spot.id)
    read_before = db.session.get(Inspection, spot.id)  # this request's view, before the lock
    by = db.session.get(User, read_before.assignee_id)
    other_device = FlaskClient(app)  # its own app context and session; ours is not refreshed
    with app.app_context():
        won = other_device.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                                headers={**headers, "Idempotency-Key": new_key()})
    assert won.status_code == 200, won.get_json()
    assert read_before.status.value != "submitted"  # what this request still believes
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        submit_idempotently(spot.id, new_key(), body, by=by)
    assert refused.value.code == "already_submitted"
    assert read_before.status.value == "submitted"  # the lock's read refreshed it


def test_a_task_cancelled_while_being_filled_says_so(client, api, first):
    """When the planner cancels a task the inspector is filling in, are the phone's next
    save and submission refused as cancelled — not as a conflict between two copies?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    body = ready_body(client, headers, spot.id)
    version = form(client, headers, spot.id)["version"]
    cancelled = client.post(f"/api/v1/inspections/{spot.id}/cancel",
                            json={"reason": "网点临时停业"}, headers=api("fwgl"))
    assert cancelled.status_code == 200, cancelled.get_json()
    saved = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=headers,
                       json={"version": version, "answers": body["answers"]})
    assert saved.status_code == 409
    assert saved.get_json()["error"] == {"code": "not_editable",
                                         "message": "该检查已取消，不能再修改"}
    submitted = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                            headers={**headers, "Idempotency-Key": new_key()})
    assert submitted.status_code == 409
    assert submitted.get_json()["error"] == {"code": "inspection_cancelled",
                                             "message": "该检查已取消，不能提交"}


def test_incomplete_submission_lists_the_missing_items(client, api, first):
    """Does submitting with unanswered items give 422 naming them, and release the key?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    items = form(client, headers, spot.id)["checklist"]["items"]
    answers = passing_answers(items)
    missing = items[3]["code"]
    del answers[missing]
    key = new_key()
    response = client.post(f"/api/v1/inspections/{spot.id}/submit", json={"answers": answers},
                           headers={**headers, "Idempotency-Key": key})
    assert response.status_code == 422
    assert missing in response.get_json()["error"]["details"]
    assert db.session.scalar(sa.select(Submission).where(Submission.key == key)) is None
    assert db.session.get(Inspection, spot.id).status.value != "submitted"


def test_a_self_check_with_every_scored_item_not_applicable_is_refused(client, api, first):
    """A self-check answered 不适用 on every scored item (a note in the text items): is it
    refused with a clear message instead of being accepted with no score and no findings?"""
    check = first("self_check")
    headers = api(filler_of(check))
    items = form(client, headers, check.id)["checklist"]["items"]
    answers = {item["code"]: {"value": "无" if item["response_type"] == "text" else "na"}
               for item in items}
    key = new_key()
    response = client.post(f"/api/v1/inspections/{check.id}/submit", json={"answers": answers},
                           headers={**headers, "Idempotency-Key": key})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"] == {"code": "nothing_applicable",
                                            "message": "所有计分项均为不适用，无法评分"}
    assert db.session.get(Inspection, check.id).status.value != "submitted"
    assert db.session.scalar(sa.select(Submission).where(Submission.key == key)) is None

    scored = next(item for item in items if item["response_type"] == "pass_fail"
                  and item["photo_rule"] != "required")
    answers[scored["code"]] = {"value": "pass"}
    accepted = client.post(f"/api/v1/inspections/{check.id}/submit", json={"answers": answers},
                           headers={**headers, "Idempotency-Key": new_key()})
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["total"] == 100


def test_a_form_with_nothing_to_score_is_refused(client, api, first):
    """A self-check of a checklist whose scored items are all for mystery visits (planned
    before planning refused it): its form is one text note. Is its submission refused with a
    clear message, rather than accepted with no score, no grade and out of the rankings?"""
    headers = api("fwgl")
    checklist_id = published_mystery_scored_only(client, headers)
    check = first("self_check")
    check.checklist_id = checklist_id
    db.session.commit()
    filler = api(filler_of(check))
    assert [item["code"] for item in form(client, filler, check.id)["checklist"]["items"]] \
        == ["ENV-02"]
    response = client.post(f"/api/v1/inspections/{check.id}/submit",
                           json={"answers": {"ENV-02": {"value": "大堂整洁"}}},
                           headers={**filler, "Idempotency-Key": new_key()})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"] == {
        "code": "nothing_to_score", "message": "该检查表在自查中没有计分项，无法评分"}
    db.session.expire_all()
    assert db.session.get(Inspection, check.id).status.value != "submitted"


def test_submission_needs_an_idempotency_key(client, api, first):
    """Is a submission without a client key refused?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    body = ready_body(client, headers, spot.id)
    response = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_required"


def run_at(monkeypatch, moment: datetime) -> None:
    """The test's clock (:func:`~tests.helpers.visit_times`) and the server's clock for a
    visit's times set to ``moment``."""
    from inspect_app.inspections import operations

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz)

    monkeypatch.setattr(helpers, "datetime", Clock)
    monkeypatch.setattr(operations, "utcnow", lambda: moment.astimezone(UTC))


@pytest.mark.parametrize("after_midnight", [None, 10])
def test_mystery_visit_times_give_the_waiting_minutes(client, api, first, monkeypatch,
                                                      after_midnight):
    """Do the tapped ticket and call times fill the waiting-time item, failing it over 15 min —
    also when the test runs ten minutes after midnight on the first day of the visit's window
    (the first day of a quarter), too early for a 35-minute visit to be over in it?"""
    mystery = first("mystery_visit")
    if after_midnight is not None:
        run_at(monkeypatch, datetime.combine(mystery.due_start, time(0, after_midnight),
                                             tzinfo=BEIJING))
    headers = api(filler_of(mystery))
    items = form(client, headers, mystery.id)["checklist"]["items"]
    events = visit_times(mystery, arrival=0, ticket=1, called=23, served=24, left=35)
    answers = passing_answers(items)
    answers["EFF-01"] = {"value": 0}  # overwritten by the tapped times
    attach_photos(client, headers, mystery.id, items, {**answers, "EFF-01": {"value": "fail"}})
    response = client.post(f"/api/v1/inspections/{mystery.id}/submit",
                           json={"answers": answers, "events": events},
                           headers={**headers, "Idempotency-Key": new_key()})
    assert response.status_code == 200, response.get_json()
    wait = db.session.scalar(sa.select(InspectionAnswer).where(
        InspectionAnswer.inspection_id == mystery.id, InspectionAnswer.item_code == "EFF-01"))
    assert wait.value == 22.0 and wait.failed
    assert "EFF-01" in {f["item_code"] for f in response.get_json()["findings"]}


def test_events_out_of_order_are_refused(client, api, first):
    """Is a visit whose 'called' time precedes its ticket refused on submission — and does a
    draft keep the times in order, leaving out (and naming) the one that goes back?"""
    mystery = first("mystery_visit")
    headers = api(filler_of(mystery))
    state = form(client, headers, mystery.id)
    events = visit_times(mystery, arrival=0, ticket=11, called=1)
    response = client.put(f"/api/v1/inspections/{mystery.id}/draft", headers=headers,
                          json={"version": state["version"], "answers": {}, "events": events})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["event_problems"] == {"called": ["时间早于前一个节点"]}
    assert set(db.session.get(Inspection, mystery.id).events) == {"arrival", "ticket"}
    submitted = client.post(f"/api/v1/inspections/{mystery.id}/submit",
                            json={"answers": passing_answers(state["checklist"]["items"]),
                                  "events": events},
                            headers={**headers, "Idempotency-Key": new_key()})
    assert submitted.status_code == 422
    assert submitted.get_json()["error"]["details"] == {"called": ["时间早于前一个节点"]}


def test_one_wrong_answer_does_not_cost_the_drafts_other_answers(client, api, first):
    """A deduction above its maximum in a draft: are the other answers saved all the same, the
    wrong one left out and named item by item — and is the submission still refused?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    state = form(client, headers, spot.id)
    deduction = next(i for i in state["checklist"]["items"] if i["response_type"] == "deduction")
    most = deduction["config"].get("max_deduction") or deduction["weight"]
    answers = {"ENV-01": {"value": "pass"}, "ENV-03": {"value": "fail", "note": "地面有纸屑"},
               deduction["code"]: {"value": float(most) + 2, "note": "测试超出"}}
    response = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=headers,
                          json={"version": state["version"], "answers": answers})
    assert response.status_code == 200, response.get_json()
    saved = response.get_json()
    assert saved["problems"] == {deduction["code"]: [f"扣分必须是 0 到 {most} 之间的数字"]}
    assert set(saved["answers"]) == {"ENV-01", "ENV-03"} and saved["version"] > state["version"]
    stored = db.session.get(Inspection, spot.id)
    assert set(stored.draft) == {"ENV-01", "ENV-03"} and stored.status.value == "in_progress"
    assert form(client, headers, spot.id)["answers"]["ENV-03"]["note"] == "地面有纸屑"

    body = {"answers": {**passing_answers(state["checklist"]["items"]),
                        deduction["code"]: answers[deduction["code"]]}}
    refused = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                          headers={**headers, "Idempotency-Key": new_key()})
    assert refused.status_code == 422 and deduction["code"] in refused.get_json()["error"]["details"]


def test_a_draft_takes_a_deduction_before_its_reason(client, api, first):
    """A deduction is typed before its reason: does the draft keep it (the reason is asked for
    on submission, not while typing)?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    state = form(client, headers, spot.id)
    deduction = next(i for i in state["checklist"]["items"] if i["response_type"] == "deduction")
    response = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=headers, json={
        "version": state["version"], "answers": {deduction["code"]: {"value": 1}}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["problems"] == {}
    assert db.session.get(Inspection, spot.id).draft[deduction["code"]]["value"] == 1


def test_reviewer_returns_and_the_inspector_resubmits(client, api, first):
    """After a return for correction, does the resubmission add a second score version?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    items = form(client, headers, spot.id)["checklist"]["items"]
    assert submit_filled(client, headers, spot.id).status_code == 200
    returned = client.post(f"/api/v1/inspections/{spot.id}/return",
                           json={"reason": "照片不清晰，请补充"}, headers=api("fwgl"))
    assert returned.status_code == 200 and returned.get_json()["status"] == "returned"
    failing = next(i["code"] for i in items if i["response_type"] == "pass_fail"
                   and not i["red_line"] and i["photo_rule"] != "required")
    again = client.post(f"/api/v1/inspections/{spot.id}/submit",
                        json=ready_body(client, headers, spot.id, fail=(failing,)),
                        headers={**headers, "Idempotency-Key": new_key()})
    assert again.status_code == 200, again.get_json()
    history = form(client, api("fwgl"), spot.id)["score"]["history"]
    assert [h["number"] for h in history] == [1, 2] and history[1]["total"] < history[0]["total"]
    final = client.post(f"/api/v1/inspections/{spot.id}/finalise", headers=api("fwgl"))
    assert final.status_code == 200 and final.get_json()["status"] == "final"


def test_a_correction_for_an_outlet_closed_meanwhile_is_taken(client, api, first):
    """A spot check sent back for correction is no open task: closing its outlet does not
    cancel it, and the visit was made while the outlet was open — are its inspector's save and
    corrected submission still taken, so the result is not stuck with its inspector?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    assert submit_filled(client, headers, spot.id).status_code == 200
    returned = client.post(f"/api/v1/inspections/{spot.id}/return",
                           json={"reason": "照片不清晰，请补充"}, headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()
    body = ready_body(client, headers, spot.id)
    version = form(client, headers, spot.id)["version"]
    closed = client.patch(f"/api/v1/org-units/{spot.outlet_id}", json={"is_active": False},
                          headers=api("admin"))
    assert closed.status_code == 200, closed.get_json()
    saved = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=headers,
                       json={"version": version, "answers": body["answers"]})
    assert saved.status_code == 200, saved.get_json()
    submitted = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                            headers={**headers, "Idempotency-Key": new_key()})
    assert submitted.status_code == 200, submitted.get_json()
    assert form(client, headers, spot.id)["status"] == "submitted"


def test_an_open_task_of_a_closed_outlet_takes_no_results(client, api, first):
    """Closing an outlet cancels its open tasks; one that escaped (closed by hand in the
    database, a race with the closing): are its save and submission refused (409, a Chinese
    reason), nothing taken?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    body = ready_body(client, headers, spot.id)
    version = form(client, headers, spot.id)["version"]
    spot.outlet.is_active = False
    db.session.commit()
    refusal = {"code": "outlet_closed", "message": "该网点已停用，不再接受检查结果"}
    saved = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=headers,
                       json={"version": version, "answers": body["answers"]})
    assert (saved.status_code, saved.get_json()["error"]) == (409, refusal)
    submitted = client.post(f"/api/v1/inspections/{spot.id}/submit", json=body,
                            headers={**headers, "Idempotency-Key": new_key()})
    assert (submitted.status_code, submitted.get_json()["error"]) == (409, refusal)
    assert form(client, headers, spot.id)["status"] == "assigned"


def test_inspector_cannot_review_their_own_work(client, api, first):
    """Is an inspector refused when finalising an inspection?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    assert submit_filled(client, headers, spot.id).status_code == 200
    assert client.post(f"/api/v1/inspections/{spot.id}/finalise",
                       headers=headers).status_code == 403


@pytest.mark.parametrize("kind", ["pass_fail", "deduction"])
def test_a_failing_answer_needs_its_photo_whatever_the_response_type(client, api, first, kind):
    """Does "photo on fail" hold for a failing deduction (扣分) as for 不合格 on a pass/fail
    item? (The rule is the scoring engine's, so a low rating or a number past its limit
    count as well.)"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    items = form(client, headers, spot.id)["checklist"]["items"]
    item = next(i for i in items if i["response_type"] == kind and i["photo_rule"] == "on_fail"
                 and not i["config"].get("derived_from"))
    answers = passing_answers(items, fail=(item["code"],))
    others = [i for i in items if i["code"] != item["code"]]
    attach_photos(client, headers, spot.id, others, answers)
    refused = client.post(f"/api/v1/inspections/{spot.id}/submit", json={"answers": answers},
                          headers={**headers, "Idempotency-Key": new_key()})
    assert refused.status_code == 422, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "photos_missing" and list(error["details"]) == [item["code"]]
    attach_photos(client, headers, spot.id, [item], answers)
    accepted = client.post(f"/api/v1/inspections/{spot.id}/submit", json={"answers": answers},
                           headers={**headers, "Idempotency-Key": new_key()})
    assert accepted.status_code == 200, accepted.get_json()


def test_the_form_says_who_may_review_it_now(client, api, first):
    """Is ``can_review`` true for the service manager while the result awaits review, and false
    for its inspector and once it is final (the page offers review controls by it)?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    assert form(client, api("fwgl"), spot.id)["can_review"] is False  # not submitted yet
    assert submit_filled(client, headers, spot.id).status_code == 200
    assert form(client, api("fwgl"), spot.id)["can_review"] is True
    assert form(client, headers, spot.id)["can_review"] is False
    assert client.post(f"/api/v1/inspections/{spot.id}/finalise",
                       headers=api("fwgl")).status_code == 200
    assert form(client, api("fwgl"), spot.id)["can_review"] is False


def test_recent_order_lists_the_newest_submission_first(client, api, first):
    """Does ``order=recent`` put the latest submission first (and unsubmitted ones last),
    where the default order follows the due dates?"""
    spot = first("spot_check")
    assert submit_filled(client, api(filler_of(spot)), spot.id).status_code == 200
    recent = client.get("/api/v1/inspections?order=recent&per_page=200",
                        headers=api("fwgl")).get_json()["items"]
    assert recent[0]["id"] == spot.id
    submitted = [i["submitted_at"] for i in recent if i["submitted_at"]]
    assert submitted == sorted(submitted, reverse=True)
    assert all(i["submitted_at"] for i in recent[:len(submitted)])
    refused = client.get("/api/v1/inspections?order=newest", headers=api("fwgl"))
    assert refused.status_code == 422 and "order" in refused.get_json()["error"]["details"]


def regrant(client, api, user, *grants: tuple[str, int]) -> None:
    """The administrator gives ``user`` these roles instead of theirs (a job change)."""
    changed = client.patch(f"/api/v1/users/{user.id}", headers=api("admin"), json={
        "grants": [{"role": role, "org_unit_id": unit_id} for role, unit_id in grants]})
    assert changed.status_code == 200, changed.get_json()


def refused_as_no_longer_eligible(response) -> None:
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"]["code"] == "not_eligible"


def test_a_manager_moved_to_another_outlet_can_no_longer_fill_the_old_outlets_self_check(
        client, api, first):
    """An outlet manager half-way through their outlet's self-check is made manager of another
    outlet (a job change). May they still save or submit the old outlet's self-check — its
    record, graded by someone who no longer answers for it? Both are refused (403), saying
    why; they still read what they had filled."""
    check = first("self_check")
    manager = check.assignee
    headers = api(manager.username)  # their token, taken while they still managed it
    body = ready_body(client, headers, check.id)
    other = db.session.scalar(sa.select(OrgUnit).where(
        OrgUnit.kind == OrgKind.outlet, OrgUnit.id != check.outlet_id).order_by(OrgUnit.code))
    regrant(client, api, manager, ("outlet_manager", other.id))

    refused_as_no_longer_eligible(client.post(
        f"/api/v1/inspections/{check.id}/submit", json=body,
        headers={**headers, "Idempotency-Key": new_key()}))
    shown = form(client, headers, check.id)
    refused_as_no_longer_eligible(client.put(
        f"/api/v1/inspections/{check.id}/draft", headers=headers,
        json={"version": shown["version"], "answers": body["answers"]}))
    assert shown["can_fill"] is False and shown["photos"]  # what they had done stays readable


def test_an_inspector_whose_role_is_withdrawn_can_no_longer_fill_a_spot_check(client, api,
                                                                              first):
    """A branch inspector is made an outlet manager instead. Is the spot check they were given
    refused to them — its photos and its submission (403) — rather than filled by someone who
    is no longer an inspector?"""
    check = first("spot_check")
    inspector = check.assignee
    headers = api(inspector.username)
    body = ready_body(client, headers, check.id)
    regrant(client, api, inspector, ("outlet_manager", check.outlet_id))

    refused_as_no_longer_eligible(client.post(
        f"/api/v1/inspections/{check.id}/photos", headers=headers,
        data={"client_id": new_key(), "item_code": next(iter(body["answers"])),
              "file": (io.BytesIO(helpers.jpeg(7)), "p.jpg")},
        content_type="multipart/form-data"))
    refused_as_no_longer_eligible(client.post(
        f"/api/v1/inspections/{check.id}/submit", json=body,
        headers={**headers, "Idempotency-Key": new_key()}))
    db.session.expire_all()
    assert db.session.get(Inspection, check.id).status is InspectionStatus.assigned


def test_a_team_member_made_manager_of_the_inspected_outlet_cannot_peer_check_it(client, api,
                                                                                 first):
    """An inspector of a peer-check team is made manager of the very outlet the team is to
    inspect. May they still fill and submit that peer check — their own outlet, graded by
    themselves? Refused (403); their teammate, still an inspector of the team's sub-branch,
    fills it."""
    check = first("peer_check")
    member, teammate = check.team.members[:2]
    headers = api(member.username)
    body = ready_body(client, headers, check.id)
    regrant(client, api, member, ("outlet_manager", check.outlet_id))

    refused_as_no_longer_eligible(client.post(
        f"/api/v1/inspections/{check.id}/submit", json=body,
        headers={**headers, "Idempotency-Key": new_key()}))
    assert form(client, api(teammate.username), check.id)["can_fill"] is True
    accepted = client.post(f"/api/v1/inspections/{check.id}/submit", json=body,
                           headers={**api(teammate.username), "Idempotency-Key": new_key()})
    assert accepted.status_code == 200, accepted.get_json()


def test_my_tasks_leave_out_a_task_i_may_no_longer_fill(client, api, first):
    """Does ``mine=true`` (我的任务) leave out an open task whose person lost the role it
    needs (the planner gives it to someone else), keep the work they have done, and give the
    task back once the role is back? The form says ``can_fill`` either way."""
    spot = first("spot_check")
    inspector = spot.assignee
    headers = api(inspector.username)
    grants = [(grant.role.value, grant.org_unit_id) for grant in inspector.grants]

    def mine(*statuses: str) -> set[int]:
        wanted = "".join(f"&status={status}" for status in statuses)
        listed = client.get(f"/api/v1/inspections?mine=true&per_page=200{wanted}",
                            headers=headers)
        return {item["id"] for item in listed.get_json()["items"]}

    done = mine("submitted", "final")
    assert done, "the demo's history holds the inspector's past spot checks"
    assert spot.id in mine() and form(client, headers, spot.id)["can_fill"] is True
    regrant(client, api, inspector, ("outlet_manager", spot.outlet_id))
    assert spot.id not in mine() and mine("submitted", "final") == done
    assert form(client, headers, spot.id)["can_fill"] is False
    regrant(client, api, inspector, *grants)
    assert spot.id in mine() and form(client, headers, spot.id)["can_fill"] is True


def _change_team(client, api, team_id: int, **changes):
    return client.patch(f"/api/v1/teams/{team_id}", headers=api("fwgl"), json=changes)


def test_a_member_who_leaves_a_team_and_a_team_stood_down_fill_none_of_its_peer_checks(
        client, api, first):
    """A peer-check team loses a member (who moved job) and is later stood down. Does the one
    who left no longer fill its peer check, does no one fill it while the team is stood down
    (403 not_eligible, out of 我的任务, nor may the planner give it the team again), and do
    its members fill it once the team is back — each change audited?"""
    from inspect_app.audit.models import AuditEntry

    check = first("peer_check")
    team_id = check.team_id
    member, teammate = check.team.members[:2]
    stays = [m.id for m in check.team.members if m.id != member.id]
    body = ready_body(client, api(teammate.username), check.id)

    left = _change_team(client, api, team_id, member_ids=stays)
    assert left.status_code == 200, left.get_json()
    assert member.username not in {m["username"] for m in left.get_json()["members"]}
    refused = client.post(f"/api/v1/inspections/{check.id}/submit", json=body,
                          headers={**api(member.username), "Idempotency-Key": new_key()})
    assert refused.status_code in (403, 404), refused.get_json()

    down = _change_team(client, api, team_id, is_active=False)
    assert down.status_code == 200 and down.get_json()["is_active"] is False
    headers = api(teammate.username)
    assert form(client, headers, check.id)["can_fill"] is False
    stood_down = client.post(f"/api/v1/inspections/{check.id}/submit", json=body,
                             headers={**headers, "Idempotency-Key": new_key()})
    refused_as_no_longer_eligible(stood_down)
    assert "已停用" in stood_down.get_json()["error"]["message"]
    mine = client.get("/api/v1/inspections?mine=true&per_page=200", headers=headers).get_json()
    assert check.id not in {item["id"] for item in mine["items"]}
    again = client.post(f"/api/v1/inspections/{check.id}/reassign", headers=api("fwgl"),
                        json={"team_id": team_id, "reason": "仍由原检查组执行"})
    assert again.status_code == 422 and again.get_json()["error"]["code"] == "team_inactive"

    up = _change_team(client, api, team_id, is_active=True)
    assert up.status_code == 200, up.get_json()
    accepted = client.post(f"/api/v1/inspections/{check.id}/submit", json=body,
                           headers={**headers, "Idempotency-Key": new_key()})
    assert accepted.status_code == 200, accepted.get_json()
    changes = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "inspection_team.update",
        AuditEntry.object_id == str(team_id)).order_by(AuditEntry.id)).all()
    assert [(c.before["is_active"], c.after["is_active"]) for c in changes] == [
        (True, True), (True, False), (False, True)]
    assert member.username in changes[0].before["members"]
    assert member.username not in changes[0].after["members"]


def test_a_team_takes_no_member_it_could_not_be_set_up_with(client, api, first):
    """Adding a mystery shopper (the outlets it inspects would learn who visits them covertly)
    or someone who is not an inspector of the team's sub-branch is refused (422), as when the
    team is set up, and the team stays as it was; others may not change it at all."""
    check = first("peer_check")
    team = check.team
    members = [m.id for m in team.members]
    shopper = db.session.scalar(sa.select(User).where(User.username == "smr1"))
    outsider = db.session.scalar(sa.select(User).where(User.username == "wd.lb01"))
    for person, code in ((shopper, "covert_member"), (outsider, "not_inspector")):
        refused = _change_team(client, api, team.id, member_ids=[*members, person.id])
        assert refused.status_code == 422, refused.get_json()
        assert refused.get_json()["error"]["code"] == code
    nobody = _change_team(client, api, team.id, member_ids=[])
    assert nobody.status_code == 422, nobody.get_json()
    assert "检查组至少要有一名成员" in str(nobody.get_json()["error"])
    member = team.members[0].username
    not_theirs = client.patch(f"/api/v1/teams/{team.id}", headers=api(member),
                              json={"is_active": False})
    assert not_theirs.status_code == 403, not_theirs.get_json()
    db.session.expire_all()
    assert sorted(m.id for m in db.session.get(type(team), team.id).members) == sorted(members)
    assert db.session.get(type(team), team.id).is_active is True


def test_an_inspector_given_a_role_over_the_outlet_beside_theirs_does_not_grade_it(
        client, api, first):
    """A spot check's inspector is also made manager of the outlet, and a peer-check team member
    manager of the inspected sub-branch — roles added beside their inspector's, not instead.
    May they still grade what they now answer for? Refused (403 not_eligible); the team
    member's teammate still fills the peer check."""
    spot = first("spot_check")
    inspector = spot.assignee
    grants = [(grant.role.value, grant.org_unit_id) for grant in inspector.grants]
    regrant(client, api, inspector, *grants, ("outlet_manager", spot.outlet_id))
    headers = api(inspector.username)
    assert form(client, headers, spot.id)["can_fill"] is False
    refused_as_no_longer_eligible(client.put(
        f"/api/v1/inspections/{spot.id}/draft", headers=headers,
        json={"answers": {}, "version": form(client, headers, spot.id)["version"]}))

    peer = first("peer_check")
    member, teammate = peer.team.members[:2]
    grants = [(grant.role.value, grant.org_unit_id) for grant in member.grants]
    regrant(client, api, member, *grants, ("subbranch_manager", peer.outlet.parent_id))
    assert form(client, api(member.username), peer.id)["can_fill"] is False
    assert form(client, api(teammate.username), peer.id)["can_fill"] is True


def test_closing_a_sub_branch_stands_its_teams_down(client, api, first):
    """A sub-branch closes while its peer-check team has a peer check open: is the team stood
    down with it (audited, 机构已停用), so that its members fill none and the planner gives it
    to another team?"""
    from inspect_app.audit.models import AuditEntry
    from inspect_app.inspections.models import InspectionTeam

    check = first("peer_check")
    team = check.team
    closed = client.patch(f"/api/v1/org-units/{team.subbranch_id}", headers=api("admin"),
                          json={"is_active": False})
    assert closed.status_code == 200, closed.get_json()
    db.session.expire_all()
    assert db.session.get(InspectionTeam, team.id).is_active is False
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "inspection_team.update", AuditEntry.object_id == str(team.id)))
    assert (entry.after["is_active"], entry.reason) == (False, "机构已停用")
    member = db.session.get(InspectionTeam, team.id).members[0]
    assert form(client, api(member.username), check.id)["can_fill"] is False
    back = _change_team(client, api, team.id, is_active=True)
    assert back.status_code == 422 and back.get_json()["error"]["code"] == "subbranch_closed"
