"""Late work (逾期): accepted, and recorded as submitted after its window, by the bank's date."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections import models
from inspect_app.inspections.models import Inspection, InspectionStatus

from ..helpers import filler_of, new_key, submit_filled
from .test_filling import ready_body
from .test_visibility_and_appeals import outlet_manager_of


def ending(inspection: Inspection, days_ago: int) -> None:
    """Move the window so that it ends ``days_ago`` days before the bank's today."""
    end = local_today() - timedelta(days=days_ago)
    inspection.due_start, inspection.due_end = end - timedelta(days=14), end
    db.session.commit()


def test_work_after_the_window_is_accepted_and_marked_late(client, api, first):
    """Is a spot check submitted three weeks after its window taken (scored as usual) and
    recorded as submitted late — and one submitted on its window's last day not?"""
    late, on_time = first("spot_check"), first("self_check")
    ending(late, 21)
    ending(on_time, 0)
    for inspection in (late, on_time):
        response = submit_filled(client, api(filler_of(inspection)), inspection.id)
        assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    assert db.session.get(Inspection, late.id).submitted_late is True
    assert db.session.get(Inspection, on_time.id).submitted_late is False
    shown = client.get(f"/api/v1/inspections/{late.id}", headers=api("fwgl")).get_json()
    assert shown["submitted_late"] is True and shown["status"] == "submitted"


@pytest.mark.parametrize(("utc_hour", "late"), [(15, False), (16, True)])
def test_the_banks_date_decides_whether_it_is_late(app, monkeypatch, utc_hour, late):
    """Submitted at 23:xx in Tangshan on the window's last day (15:xx UTC) it is on time; at
    00:xx the next morning there (16:xx UTC, still the last day in UTC) it is late."""
    monkeypatch.setattr(models, "utcnow",
                        lambda: datetime(2026, 10, 31, utc_hour, 30, tzinfo=UTC))
    inspection = Inspection(status=InspectionStatus.in_progress, due_start=date(2026, 10, 1),
                            due_end=date(2026, 10, 31))
    inspection.submit()
    assert inspection.submitted_late is late


def test_a_correction_after_a_return_keeps_the_first_verdict(client, api, first):
    """Submitted on time, sent back for correction and corrected after the window closed: is
    it still on time (the delay was the review's, not the inspector's)?"""
    spot = first("spot_check")
    headers = api(filler_of(spot))
    ending(spot, 0)
    assert submit_filled(client, headers, spot.id).status_code == 200
    ending(spot, 10)
    returned = client.post(f"/api/v1/inspections/{spot.id}/return",
                           json={"reason": "照片不清晰，请补充"}, headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()
    again = client.post(f"/api/v1/inspections/{spot.id}/submit",
                        json=ready_body(client, headers, spot.id),
                        headers={**headers, "Idempotency-Key": new_key()})
    assert again.status_code == 200, again.get_json()
    db.session.expire_all()
    assert db.session.get(Inspection, spot.id).submitted_late is False


def test_the_outlet_does_not_learn_a_mystery_visits_window(client, api, first):
    """The outlet sees a mystery visit's date only: is its late flag hidden from the outlet
    (with the window it would give away) but shown to the shopper?"""
    visit = first("mystery_visit")
    visit.status, visit.submitted_at = InspectionStatus.submitted, datetime.now(UTC)
    visit.submitted_late = True
    db.session.commit()
    outlet = client.get(f"/api/v1/inspections/{visit.id}",
                        headers=api(outlet_manager_of(visit))).get_json()
    assert outlet["submitted_late"] is None and outlet["due_end"] is None
    shopper = client.get(f"/api/v1/inspections/{visit.id}",
                         headers=api(filler_of(visit))).get_json()
    assert shopper["submitted_late"] is True
