"""A cancelled task tells its inspector why: the planner's reason travels with the task."""
from __future__ import annotations

import pytest

from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection, InspectionStatus

from ..helpers import filler_of


def test_the_inspector_is_told_why_a_task_was_cancelled(client, api, first):
    """The planner cancels a spot check, saying why: does the inspector's copy of the task —
    the inspection itself and their list of cancelled tasks — carry that reason, as does the
    planner's answer?"""
    spot = first("spot_check")
    inspector = api(filler_of(spot))
    before = client.get(f"/api/v1/inspections/{spot.id}", headers=inspector).get_json()
    assert before["cancel_reason"] is None
    cancelled = client.post(f"/api/v1/inspections/{spot.id}/cancel",
                            json={"reason": "网点装修，本期不检查"}, headers=api("fwgl"))
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["cancel_reason"] == "网点装修，本期不检查"

    shown = client.get(f"/api/v1/inspections/{spot.id}", headers=inspector).get_json()
    assert (shown["status"], shown["status_label"], shown["cancel_reason"]) == (
        "cancelled", "已取消", "网点装修，本期不检查")
    listed = client.get("/api/v1/inspections?mine=true&status=cancelled&per_page=200",
                        headers=inspector).get_json()["items"]
    assert {i["id"]: i["cancel_reason"] for i in listed}[spot.id] == "网点装修，本期不检查"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "停"}])
def test_a_task_is_not_cancelled_without_a_reason(client, api, first, body):
    """Is a cancellation without a reason (or with one of a single character) refused, and the
    task left open?"""
    spot = first("spot_check")
    response = client.post(f"/api/v1/inspections/{spot.id}/cancel", json=body,
                           headers=api("fwgl"))
    assert response.status_code == 422, response.get_json()
    db.session.expire_all()
    task = db.session.get(Inspection, spot.id)
    assert task.status is InspectionStatus.assigned and task.cancel_reason is None
