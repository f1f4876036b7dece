"""The campaigns pages: a service manager plans a campaign without the API — the product
generates the assignments — and follows each mode's progress."""
from __future__ import annotations

import re

import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.extensions import db
from inspect_app.inspections.models import Campaign, Inspection, Mode
from inspect_app.orgs.models import OrgKind, OrgUnit

from ..conftest import month_after_demo


def plan_form(checklist_id: int, **changes) -> dict:
    """The planning form as a service manager fills it (self-checks and spot checks of the
    first month the demo's campaign leaves free: see :func:`month_after_demo`)."""
    first, last = month_after_demo()
    form = {"name": f"{first.year}年{first.month}月服务检查", "checklist_id": str(checklist_id),
            "period_start": first.isoformat(), "period_end": last.isoformat(),
            "modes": ["self_check", "spot_check"], "self_check.cycle": "monthly",
            "peer_check.no_repeat_cycles": "2", "peer_check.outlets_per_team": "",
            "spot_check.size": "4", "mystery_visit.count": "3",
            "mystery_visit.min_days_between": "90", "mystery_visit.scenarios": "咨询理财产品"}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def _post(client, form: dict):
    with client.session_transaction() as sess:
        token = sess["csrf"]
    return client.post("/manage/campaigns", data={**form, "csrf_token": token})


def test_a_manager_plans_a_campaign_and_follows_its_progress(client, login, demo):
    """Plan a month's self-checks and spot checks on the page (the first month after the
    demo's campaign): are the assignments generated (one self-check per outlet, four spot
    checks), audited, and does the campaign's page show each mode with its progress and the
    spot-check draw?"""
    login("fwgl", "Demo@2026")
    page = client.get("/manage/campaigns").get_data(as_text=True)
    assert 'name="period_start"' in page and "<option value=\"monthly\" selected>" in page
    form = plan_form(demo.id)
    response = _post(client, form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.name == form["name"]))
    counts = dict(db.session.execute(
        sa.select(Inspection.mode, sa.func.count()).where(Inspection.campaign_id == campaign.id)
        .group_by(Inspection.mode)).all())
    outlets = db.session.scalar(sa.select(sa.func.count()).select_from(OrgUnit).where(
        OrgUnit.kind == OrgKind.outlet, OrgUnit.is_active))
    assert counts == {Mode.self_check: outlets, Mode.spot_check: 4}
    assert db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "campaign.create", AuditEntry.object_id == str(campaign.id)))
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"已完成 0 / {outlets}" in detail and "已完成 0 / 4" in detail
    spot, open_tasks = detail.split('class="card mode-spot_check"')[1].split(
        'id="tasks-spot_check"')
    assert len(re.findall(r"<li>", spot)) == 4  # the draw
    assert len(re.findall(r'href="/manage/campaigns/\d+/tasks/\d+"',
                          open_tasks.split("</section>")[0])) == 4
    listing = client.get("/manage/campaigns").get_data(as_text=True)
    assert form["name"] in listing


def test_a_plan_the_rules_cannot_meet_says_why_and_writes_nothing(client, login, demo):
    """No mode ticked, dates the wrong way round, not a number, a peer check without teams:
    is each refused with its reason (422), the form kept, and no campaign created?"""
    login("fwgl", "Demo@2026")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Campaign))
    form = plan_form(demo.id, modes=None, **{"spot_check.size": "十"})
    response = _post(client, form)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    shown = text[text.find('class="error"'):][:700]
    assert "检查方式：请至少选择一种检查方式" in text and "抽查网点数：请填写整数" in text, shown
    assert f'value="{form["name"]}"' in text
    response = _post(client, plan_form(demo.id, period_end="2026-11-01"))
    assert response.status_code == 422 and "结束日期不能早于开始日期" in response.get_data(
        as_text=True)
    outlet_only = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == "TS-LB"))
    response = _post(client, plan_form(demo.id, modes=["peer_check"], scope_unit_id=str(
        outlet_only)))
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == before


def test_only_planners_reach_the_campaigns(client, login, demo):
    """A sub-branch manager and the administrator are refused; a visitor is sent to sign in;
    the service manager finds 检查计划 among the managers' tabs."""
    assert client.get("/manage/campaigns").status_code == 302
    for username in ("zh.lubei", "admin"):
        login(username, "Demo@2026")
        assert client.get("/manage/campaigns").status_code == 403
        with client.session_transaction() as sess:
            token = sess["csrf"]
        client.post("/logout", data={"csrf_token": token})
    login("fwgl", "Demo@2026")
    assert 'href="/manage/campaigns">检查计划</a>' in client.get("/manage/rankings").get_data(
        as_text=True)


def test_the_campaigns_page_in_english(client, login, demo):
    """In English, are the form, the modes and a refusal in English?"""
    login("fwgl", "Demo@2026")
    page = client.get("/manage/campaigns?lang=en").get_data(as_text=True)
    assert "Plan a campaign" in page and "Self-check cycle" in page and "Mystery visit" in page
    response = _post(client, plan_form(demo.id, modes=None))
    assert "Modes: Please choose at least one mode" in response.get_data(as_text=True)
    response = _post(client, plan_form(demo.id, period_end="2026-11-01"))  # a domain refusal
    assert "The end date cannot be before the start date" in response.get_data(as_text=True)


def test_spot_checks_drawn_say_their_last_score_as_every_page_does(client, login, demo):
    """Does each outlet drawn for a spot check give its last independent score to two decimals
    ("100.00", "98.45"), as rankings and results do — never "100.0" beside "98.45"?"""
    login("fwgl", "Demo@2026")
    campaign = db.session.scalar(sa.select(Campaign).order_by(Campaign.id))
    page = client.get(f"/manage/campaigns/{campaign.id}?lang=en").get_data(as_text=True)
    scores = re.findall(r"last independent score ([0-9.]+)<", page)
    assert scores
    assert all(re.fullmatch(r"\d+\.\d\d", score) for score in scores), scores
