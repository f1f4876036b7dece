"""What a plan could not do for some outlets (no manager's account, no eligible shopper) is kept
with the campaign: in Chinese for the API, as it always was, and said in the reader's language
on the campaign's page, naming outlets rather than ids."""
from __future__ import annotations

import sqlalchemy as sa

from inspect_app.auth.models import RoleGrant
from inspect_app.auth.permissions import Role
from inspect_app.extensions import db
from inspect_app.inspections import planning
from inspect_app.inspections.models import Campaign
from inspect_app.messages import Message
from inspect_app.orgs.models import OrgKind, OrgUnit

from ..conftest import month_after_demo


def _outlet_without_manager() -> OrgUnit:
    outlet = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == OrgKind.outlet,
                                                         OrgUnit.is_active).order_by(OrgUnit.id))
    for grant in db.session.scalars(sa.select(RoleGrant).where(
            RoleGrant.org_unit_id == outlet.id, RoleGrant.role == Role.outlet_manager)):
        db.session.delete(grant)
    db.session.commit()
    return outlet


def _plan(client, api, demo, modes, **settings) -> dict:
    """Plan ``modes`` over the first month the demo's campaign leaves free (its self-checks
    would clash with the demo's: see :func:`month_after_demo`)."""
    first, last = month_after_demo()
    body = {"name": f"{first.year}年{first.month}月服务检查", "checklist_id": demo.id,
            "period_start": first.isoformat(), "period_end": last.isoformat(),
            "modes": modes, "seed": 7, "settings": settings}
    response = client.post("/api/v1/campaigns", json=body, headers=api("fwgl"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_outlet_without_a_manager_is_named_in_both_languages(client, api, login, demo):
    """Is the outlet left without self-checks named in Chinese by the API and in English on
    the page of a manager who chose English?"""
    outlet = _outlet_without_manager()
    campaign = _plan(client, api, demo, ["self_check"], self_check={"cycle": "monthly"})
    chinese = f"{outlet.name}没有网点负责人账号，未生成自查任务"
    assert campaign["plan"]["self_check"]["warnings"] == [chinese]
    login("fwgl", "Demo@2026")
    page = client.get(f"/manage/campaigns/{campaign['id']}").get_data(as_text=True)
    assert chinese in page
    english = client.get(f"/manage/campaigns/{campaign['id']}?lang=en").get_data(as_text=True)
    assert f"{outlet.name} has no outlet manager account: no self-checks were generated" \
        in english and chinese not in english


def test_a_visit_no_shopper_may_make_names_the_outlet(client, api, login, demo, monkeypatch):
    """When no shopper may visit an outlet, does the warning name the outlet (the planner
    knows it by id) in both languages, while the other visits are planned?"""
    real = planning.pick_shopper
    refused: list[int] = []

    def pick(shoppers, outlet_id, *args, **kwargs):
        if not refused:  # the first outlet drawn: every shopper was there lately
            refused.append(outlet_id)
            return planning.ShopperPick(None, Message(
                "没有符合条件的神秘人：%(count)s 名神秘人均在 %(min_days)s 天内"
                "暗访过（或已安排暗访）网点 %(outlet)s，或不宜暗访该网点。",
                count=len(shoppers), min_days=90, outlet=outlet_id))
        return real(shoppers, outlet_id, *args, **kwargs)

    monkeypatch.setattr(planning, "pick_shopper", pick)
    campaign = _plan(client, api, demo, ["mystery_visit"],
                     mystery_visit={"count": 3, "min_days_between": 90})
    name = db.session.get(OrgUnit, refused[0]).name
    part = campaign["plan"]["mystery_visit"]
    assert part["count"] == 2 and len(part["warnings"]) == 1
    assert f"网点 {name}，或不宜暗访该网点" in part["warnings"][0]
    login("fwgl", "Demo@2026")
    english = client.get(f"/manage/campaigns/{campaign['id']}?lang=en").get_data(as_text=True)
    assert f"outlet {name} within the revisit interval (days: 90)" in english


def test_plans_stored_before_warnings_were_data_still_show(client, login, demo, api):
    """A campaign whose warnings were stored as text only shows that text as it is."""
    campaign = _plan(client, api, demo, ["self_check"], self_check={"cycle": "monthly"})
    stored = db.session.get(Campaign, campaign["id"])
    stored.plan = {**stored.plan, "self_check": {**stored.plan["self_check"],
                                                 "warnings": ["某网点没有网点负责人账号，未生成自查任务"]}}
    del stored.plan["self_check"]["warnings_said"]
    db.session.commit()
    login("fwgl", "Demo@2026")
    page = client.get(f"/manage/campaigns/{campaign['id']}?lang=en").get_data(as_text=True)
    assert "某网点没有网点负责人账号，未生成自查任务" in page
