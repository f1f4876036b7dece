"""失分最多的检查项 by area: an item's area is its section in the checklist, whatever its code."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from inspect_app.auth.permissions import Role
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections.models import Inspection

from ..helpers import new_key

MODES = ["self_check", "peer_check", "spot_check", "mystery_visit"]


def _item(code: str, section: str) -> dict:
    return {"code": code, "section": section, "text": f"检查项{code}", "guidance": "",
            "weight": 1, "response_type": "pass_fail", "config": {}, "photo_rule": "optional",
            "red_line": False, "modes": MODES, "severity": "minor", "deadline_days": 7}


def test_failures_count_under_the_items_section_not_its_codes_prefix(client, org, make_user,
                                                                      token_for):
    """A checklist whose waiting-time items are coded WAIT-01/WAIT-02 but filed under 网点服务效率
    (EFF): do their failures count under EFF — for the whole branch (its per-period counts) and
    for one sub-branch (counted from the findings) — not under an area "WAIT" no checklist
    has?"""
    make_user("fwgl", (Role.service_manager, "TS"))
    make_user("wd1", (Role.outlet_manager, "TS-LB-01"))
    manager, outlet = token_for("fwgl"), token_for("wd1")
    created = client.post("/api/v1/checklists", headers=manager, json={
        "name": "排队检查表", "description": "",
        "sections": [{"code": "ENV", "name": "网点颜值靓化", "weight": None},
                     {"code": "EFF", "name": "网点服务效率", "weight": None}],
        "items": [_item("ENV-01", "ENV"), _item("WAIT-01", "EFF"), _item("WAIT-02", "EFF")]})
    assert created.status_code == 201, created.get_json()
    checklist_id = created.get_json()["id"]
    assert client.post(f"/api/v1/checklists/{checklist_id}/publish",
                       headers=manager).status_code == 200
    first = local_today().replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    planned = client.post("/api/v1/campaigns", headers=manager, json={
        "name": "排队专项", "checklist_id": checklist_id,
        "scope_unit_id": org["TS-LB-01"].id, "period_start": first.isoformat(),
        "period_end": last.isoformat(), "modes": ["self_check"], "seed": 1, "settings": {}})
    assert planned.status_code == 201, planned.get_json()
    task = db.session.scalars(sa.select(Inspection).where(
        Inspection.campaign_id == planned.get_json()["id"])).first()
    submitted = client.post(f"/api/v1/inspections/{task.id}/submit",
                            headers={**outlet, "Idempotency-Key": new_key()},
                            json={"answers": {"ENV-01": {"value": "pass"},
                                              "WAIT-01": {"value": "fail"},
                                              "WAIT-02": {"value": "fail"}}})
    assert submitted.status_code == 200, submitted.get_json()

    for query in ("", f"&subbranch_id={org['TS-LB'].id}"):
        body = client.get(f"/api/v1/dashboard/failed-items?kind=month{query}",
                          headers=manager).get_json()
        assert {(row["item_code"], row["section"]) for row in body["items"]} == {
            ("WAIT-01", "EFF"), ("WAIT-02", "EFF")}, query
        assert body["sections"] == [{"section": "EFF", "failures": 2}], query
