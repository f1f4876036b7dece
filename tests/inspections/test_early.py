"""Work before its window (提前提交): drafts are taken, the submission waits for the first day."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.errors import InvalidInput
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections import models
from inspect_app.inspections.models import Inspection, InspectionStatus, Submission
from inspect_app.rectification.models import RectificationItem

from ..helpers import filler_of, new_key, submit_filled
from .test_filling import form, ready_body


def opening_in(inspection: Inspection, days: int) -> str:
    """Move ``inspection``'s window so that it opens ``days`` days after the bank's today;
    returns its first day."""
    start = local_today() + timedelta(days=days)
    inspection.due_start, inspection.due_end = start, start + timedelta(days=30)
    db.session.commit()
    return start.isoformat()


@pytest.mark.parametrize("mode", ["self_check", "peer_check", "spot_check", "mystery_visit"])
def test_a_submission_before_the_window_opens_is_refused_naming_the_day(client, api, first,
                                                                       mode):
    """A task whose window opens tomorrow, in every mode: is its draft still saved (the
    inspector may prepare), while its complete submission is refused with 422, a clear message
    naming the day it opens, the key released and nothing submitted?"""
    inspection = first(mode)
    opens = opening_in(inspection, 1)
    headers = api(filler_of(inspection))
    body = ready_body(client, headers, inspection.id)
    saved = client.put(f"/api/v1/inspections/{inspection.id}/draft", headers=headers,
                       json={"version": form(client, headers, inspection.id)["version"],
                             "answers": body["answers"]})
    assert saved.status_code == 200, saved.get_json()

    key = new_key()
    refused = client.post(f"/api/v1/inspections/{inspection.id}/submit", json=body,
                          headers={**headers, "Idempotency-Key": key})
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"] == {
        "code": "not_open_yet", "message": f"该检查自 {opens} 起才能提交（在此之前可以先填写保存）",
        "details": {"opens_on": opens}}
    db.session.expire_all()
    stored = db.session.get(Inspection, inspection.id)
    assert stored.status is InspectionStatus.in_progress and stored.submitted_at is None
    assert stored.draft == body["answers"]  # the prepared answers wait for the day
    assert db.session.scalar(sa.select(Submission).where(Submission.key == key)) is None


def test_the_window_is_checked_before_the_answers(client, api, first):
    """An incomplete form submitted before its window: is the inspector told about the window
    (what no answer can change) rather than about the missing answers?"""
    spot = first("spot_check")
    opening_in(spot, 5)
    refused = client.post(f"/api/v1/inspections/{spot.id}/submit", json={"answers": {}},
                          headers={**api(filler_of(spot)), "Idempotency-Key": new_key()})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "not_open_yet"


def test_a_submission_on_the_first_day_is_taken_and_on_time(client, api, first):
    """On the very day its window opens, is the submission taken, and not marked late?"""
    spot = first("spot_check")
    opening_in(spot, 0)
    response = submit_filled(client, api(filler_of(spot)), spot.id)
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    stored = db.session.get(Inspection, spot.id)
    assert stored.status is InspectionStatus.submitted and stored.submitted_late is False


def test_a_follow_up_planned_for_later_waits_for_its_window(client, api, first):
    """A re-inspection (复查) planned to start in a week: is it refused today too (one rule for
    every kind of task)?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    code = next(i["code"] for i in form(client, headers, spot.id)["checklist"]["items"]
                if i["response_type"] == "pass_fail" and not i["red_line"])
    assert submit_filled(client, headers, spot.id, fail=(code,)).status_code == 200
    item_ids = list(db.session.scalars(sa.select(RectificationItem.id).where(
        RectificationItem.inspection_id == spot.id)))
    later = local_today() + timedelta(days=7)
    planned = client.post("/api/v1/rectification/reinspections", headers=api("fwgl"), json={
        "item_ids": item_ids, "assignee_id": spot.assignee_id, "due_start": later.isoformat(),
        "due_end": (later + timedelta(days=7)).isoformat()})
    assert planned.status_code == 201, planned.get_json()
    refused = submit_filled(client, headers, planned.get_json()["id"])
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "not_open_yet"


@pytest.mark.parametrize(("utc_hour", "refused"), [(15, True), (16, False)])
def test_the_banks_date_decides_whether_the_window_is_open(app, monkeypatch, utc_hour, refused):
    """A window opening on 1 December: at 23:30 on 30 November in Tangshan (15:30 UTC) a
    submission is refused; half an hour past midnight there (16:30 UTC, still 30 November in
    UTC) it is taken."""
    monkeypatch.setattr(models, "utcnow",
                        lambda: datetime(2026, 11, 30, utc_hour, 30, tzinfo=UTC))
    inspection = Inspection(status=InspectionStatus.in_progress, due_start=date(2026, 12, 1),
                            due_end=date(2026, 12, 31))
    if refused:
        with pytest.raises(InvalidInput) as caught:
            inspection.submit()
        assert caught.value.code == "not_open_yet"
        assert inspection.status is InspectionStatus.in_progress
        assert inspection.submitted_at is None
    else:
        inspection.submit()
        assert inspection.status is InspectionStatus.submitted


def test_the_refusal_is_said_in_english_to_an_english_session(client, login, first):
    """With English chosen, is the refusal in English, naming the day?"""
    spot = first("spot_check")
    opens = opening_in(spot, 3)
    client.get("/login?lang=en")
    login(filler_of(spot), DEMO_PASSWORD)
    with client.session_transaction() as sess:
        csrf = sess["csrf"]
    refused = client.post(f"/api/v1/inspections/{spot.id}/submit", json={"answers": {}},
                          headers={"X-CSRF-Token": csrf, "Idempotency-Key": new_key()})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["message"] == (
        f"This inspection can be submitted from {opens} (until then it can be filled in "
        "and saved)")
