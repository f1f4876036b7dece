"""Fixtures for rectification: a submitted inspection with failed items, and who is who."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections.models import Inspection
from inspect_app.rectification.models import RectificationItem

from ..helpers import attach_after_photo, filler_of, jpeg, new_key, submit_filled


def outlet_manager_of(inspection: Inspection) -> str:
    _, sub, number = inspection.outlet.code.split("-")
    return f"wd.{sub.lower()}{number}"


def subbranch_manager_of(inspection: Inspection) -> str:
    from inspect_app.demo.seed import SUBBRANCHES

    code = inspection.outlet.code.split("-")[1]
    return f"zh.{next(p for c, p, *_ in SUBBRANCHES if c == code)}"


def other_subbranch_manager(inspection: Inspection) -> str:
    return "zh.lunan" if not inspection.outlet.code.startswith("TS-LN") else "zh.lubei"


def failable_codes(client, headers, inspection: Inspection, count: int) -> list[str]:
    """Codes of ``count`` ordinary pass/fail items (not red-line) of the form."""
    items = client.get(f"/api/v1/inspections/{inspection.id}",
                       headers=headers).get_json()["checklist"]["items"]
    return [i["code"] for i in items if i["response_type"] == "pass_fail"
            and not i["red_line"] and i["photo_rule"] == "on_fail"][:count]


@pytest.fixture
def failed_inspection(client, api, first):
    """``failed_inspection(mode="spot_check", count=2, extra=None)`` → the submitted
    inspection and the codes it failed (each with a before-photo)."""

    def make(mode: str = "spot_check", count: int = 2, extra=None, fixed=()):
        inspection = first(mode)
        headers = api(filler_of(inspection))
        codes = failable_codes(client, headers, inspection, count)
        body = dict(extra or {})
        if fixed:
            body["findings"] = {code: {"fixed_on_spot": True} for code in fixed}
            for seed, code in enumerate(fixed):  # 立查立改 needs its after-photo
                after = attach_after_photo(client, headers, inspection.id, code, 900 + seed)
                assert after.status_code == 201, after.get_json()
        response = submit_filled(client, headers, inspection.id, fail=tuple(codes), extra=body)
        assert response.status_code == 200, response.get_json()
        return db.session.get(Inspection, inspection.id), codes

    return make


def items_of(inspection: Inspection) -> list[RectificationItem]:
    return list(db.session.scalars(sa.select(RectificationItem).where(
        RectificationItem.inspection_id == inspection.id).order_by(RectificationItem.id)))


def upload_after(client, headers, item_id: int, seed: int = 7, key: str | None = None):
    return client.post(f"/api/v1/rectification/items/{item_id}/photos", headers=headers,
                       data={"client_id": key or new_key(),
                             "file": (io.BytesIO(jpeg(seed)), "after.jpg")},
                       content_type="multipart/form-data")


def submit_fix(client, headers, item_id: int, seed: int = 7):
    photo = upload_after(client, headers, item_id, seed)
    assert photo.status_code == 201, photo.get_json()
    return client.post(f"/api/v1/rectification/items/{item_id}/submit", headers=headers,
                       json={"note": "已清理杂物并重新摆放", "photo_ids": [photo.get_json()["id"]]})


def plan_follow_up(client, api, item: RectificationItem, inspector: str = "jc.fenhang2") -> int:
    """The service manager plans a follow-up (复查) of ``item`` by ``inspector``, due from today
    for three days. Returns the follow-up inspection's id."""
    assignee = db.session.scalar(sa.select(User.id).where(User.username == inspector))
    planned = client.post("/api/v1/rectification/reinspections", headers=api("fwgl"), json={
        "item_ids": [item.id], "assignee_id": assignee,
        "due_start": local_today().isoformat(),
        "due_end": (local_today() + timedelta(days=3)).isoformat()})
    assert planned.status_code == 201, planned.get_json()
    return planned.get_json()["id"]
