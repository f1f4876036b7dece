"""Re-inspection: a follow-up check of only the failed items closes or reopens them."""
from __future__ import annotations

import sqlalchemy as sa

from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection
from inspect_app.rectification.models import RectificationItem

from ..helpers import submit_filled
from .conftest import items_of, outlet_manager_of, submit_fix


def test_reinspection_holds_only_the_failed_items_and_closes_or_reopens_them(
        client, api, failed_inspection):
    """Does a service manager's follow-up hold only the chosen items, and does its result
    close the passed item and reopen the failed one, without creating new items?"""
    inspection, codes = failed_inspection(count=2)
    items = items_of(inspection)
    submit_fix(client, api(outlet_manager_of(inspection)), items[0].id)
    inspector = db.session.scalar(sa.select(User).where(User.username == "jc.fenhang2"))
    body = {"item_ids": [i.id for i in items], "assignee_id": inspector.id,
            "due_start": "2026-12-01", "due_end": "2026-12-10"}
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

    passed, failed = items[0], items[1]
    result = submit_filled(client, api("jc.fenhang2"), follow_up.id, fail=(failed.item_code,))
    assert result.status_code == 200, result.get_json()
    passed = db.session.get(RectificationItem, passed.id)
    failed = db.session.get(RectificationItem, failed.id)
    assert passed.state.value == "closed" and passed.closed_reason.value == "reinspection_passed"
    assert failed.state.value == "open" and failed.rejection_reason.startswith("复查未通过")
    assert items_of(follow_up) == []  # no duplicate items for the re-checked codes
