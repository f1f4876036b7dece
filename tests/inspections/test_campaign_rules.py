"""What a campaign must be before anything is generated for it: a name the list can show, and
(by the same operation for the page, the API and the demo seed) nothing that gives an outlet
work it already has, nor work that was due before it was planned, nor no work at all."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from inspect_app.auth.models import RoleGrant, User
from inspect_app.auth.permissions import Role
from inspect_app.errors import InvalidInput
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections.campaigns import create_campaign
from inspect_app.inspections.models import Campaign, Inspection, InspectionStatus, Mode
from inspect_app.inspections.operations import cancel
from inspect_app.orgs.models import OrgKind, OrgUnit

from ..conftest import month_after_demo
from ..helpers import published_mystery_scored_only
from .test_campaign_pages import _post as _page_post
from .test_campaign_pages import plan_form


def written() -> tuple[int, int]:
    """How many campaigns and inspections there are (the demo has this month's already)."""
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)),
            db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)))


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def plan(client, api, demo, **fields):
    """POST a self-check campaign of the first month the demo's campaign leaves free (see
    :func:`month_after_demo`), named after it (:func:`month_name`), with ``fields`` changed."""
    first, last = month_after_demo()
    body = {"name": month_name(first), "checklist_id": demo.id,
            "period_start": first.isoformat(), "period_end": last.isoformat(),
            "modes": ["self_check"], "seed": 3,
            "settings": {"self_check": {"cycle": "monthly"}}, **fields}
    return client.post("/api/v1/campaigns", json=body, headers=api("fwgl"))


def month_name(first: date) -> str:
    """The name :func:`plan` gives the self-checks of ``first``'s month, e.g. 2026年12月网点自查."""
    return f"{first.year}年{first.month}月网点自查"


# -- F1: a name ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["   ", "\u3000\u3000", " \t "])
def test_a_name_of_spaces_only_is_refused_and_nothing_is_created(client, api, demo, name):
    """A name of spaces (half- or full-width) would be listed on 检查计划 as an empty link
    nobody can click: is it refused by the API, as the page refuses it, with nothing written?"""
    before = written()
    response = plan(client, api, demo, name=name)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["details"]["name"] == ["计划名称不能为空"]
    assert written() == before


def test_a_name_is_one_line_and_kept_without_the_spaces_around_it(client, api, demo):
    """Is a name of two lines refused, and one typed with spaces around it kept trimmed?"""
    name = month_name(month_after_demo()[0])
    two_lines = plan(client, api, demo, name=name.replace("月", "月\n"))
    assert two_lines.status_code == 422
    assert "name" in two_lines.get_json()["error"]["details"]
    response = plan(client, api, demo, name=f"  {name} ")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == name


def test_the_operation_itself_refuses_a_blank_name(demo):
    """Code that plans without a schema (the demo seed, a script) meets the same rule: is a
    blank name refused by create_campaign, saying so in Chinese?"""
    manager = _user("fwgl")
    with pytest.raises(InvalidInput) as refused:
        create_campaign({"name": " \u3000", "checklist_id": demo.id, "modes": ["self_check"],
                         "period_start": date(2026, 12, 1), "period_end": date(2026, 12, 31)},
                        by=manager)
    assert refused.value.code == "name_required" and str(refused.value.message) == "计划名称不能为空"


# -- F2: no second self-check for a cycle, no second campaign of a name, no past period ------


def test_a_second_self_check_for_the_same_cycle_is_refused_naming_the_other_campaign(
        client, api, demo):
    """Planning a month's self-checks twice (December's, say) gave every outlet two
    self-checks for one cycle: is the second plan refused (409), naming the first campaign,
    the outlets and the days — also when its cycles only overlap the first's (weekly within a
    month) — with nothing written, while the following month is planned?"""
    first, last = month_after_demo()
    assert plan(client, api, demo).status_code == 201
    before = written()
    again = plan(client, api, demo, name=f"{first.month}月自查（重复）")
    assert again.status_code == 409, again.get_json()
    error = again.get_json()["error"]
    assert error["code"] == "self_check_overlap"
    assert month_name(first) in error["message"] and f"{first} 至 {last}" in error["message"]
    assert month_name(first) in error["details"][0]
    late = first + timedelta(days=20)
    weekly = plan(client, api, demo, name=f"{first.month}月下旬周自查",
                  period_start=late.isoformat(), settings={"self_check": {"cycle": "weekly"}})
    assert weekly.status_code == 409 and f"{late} 至 {last}" in weekly.get_json()[
        "error"]["message"]
    assert written() == before
    following = last + timedelta(days=1)
    following_last = (following + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    next_month = plan(client, api, demo, name=month_name(following),
                      period_start=following.isoformat(), period_end=following_last.isoformat())
    assert next_month.status_code == 201, next_month.get_json()


def test_a_self_check_cancelled_or_of_an_outlet_out_of_scope_does_not_count(client, api,
                                                                              demo):
    """Once the outlet's other self-check for the cycle is cancelled, may it be planned
    again — and does a self-check of another sub-branch's outlets not block a sub-branch's
    own plan?"""
    lubei = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    other = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == OrgKind.subbranch,
                                                        OrgUnit.id != lubei.id))
    first = plan(client, api, demo, scope_unit_id=lubei.id)
    assert first.status_code == 201, first.get_json()
    month = month_after_demo()[0]
    elsewhere = plan(client, api, demo, name=f"他行{month.month}月自查", scope_unit_id=other.id)
    assert elsewhere.status_code == 201, elsewhere.get_json()
    one = db.session.scalar(sa.select(Inspection).where(
        Inspection.campaign_id == first.get_json()["id"]).order_by(Inspection.id))
    outlet_id = one.outlet_id
    for task in db.session.scalars(sa.select(Inspection).where(
            Inspection.campaign_id == first.get_json()["id"])):
        cancel(task, reason="改为按季度自查", by=_user("fwgl"))
    db.session.commit()
    again = plan(client, api, demo, name=f"路北{month.month}月自查", scope_unit_id=lubei.id)
    assert again.status_code == 201, again.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection).where(
        Inspection.outlet_id == outlet_id, Inspection.mode == Mode.self_check,
        Inspection.status != InspectionStatus.cancelled,
        Inspection.due_start == month)) == 1


def test_spot_checks_and_mystery_visits_may_overlap_another_campaign(client, api, demo):
    """An extra wave of spot checks or mystery visits in a month that has one is normal:
    are both planned beside a campaign of the same month?"""
    assert plan(client, api, demo, modes=["spot_check", "self_check"]).status_code == 201
    first = month_after_demo()[0]
    extra = plan(client, api, demo, name=f"{first.month}月加密抽查",
                 modes=["spot_check", "mystery_visit"],
                 settings={"spot_check": {"size": 5}, "mystery_visit": {"count": 2}})
    assert extra.status_code == 201, extra.get_json()


def test_a_name_a_live_campaign_of_the_branch_has_is_refused(client, api, login, demo):
    """Two campaigns named 2026年11月服务检查 cannot be told apart on 检查计划: is the name of
    the demo's campaign of this month refused (409) by the API and by the page, spaces around
    it or not, with nothing written — and a name free again once its campaign's every task
    is cancelled?"""
    taken = db.session.scalar(sa.select(Campaign).order_by(Campaign.id))
    before = written()
    for name in (taken.name, f" {taken.name} "):
        response = plan(client, api, demo, name=name, modes=["spot_check"])
        assert response.status_code == 409, response.get_json()
        error = response.get_json()["error"]
        assert error["code"] == "campaign_name_taken" and taken.name in error["message"]
    login("fwgl", "Demo@2026")
    page = _page_post(client, plan_form(demo.id, name=taken.name, modes=["spot_check"]))
    assert page.status_code == 409
    assert f"已有同名的检查计划“{taken.name}”" in page.get_data(as_text=True)
    assert written() == before

    wave = plan(client, api, demo, name="12月加密抽查", modes=["spot_check"])
    assert wave.status_code == 201, wave.get_json()
    assert plan(client, api, demo, name="12月加密抽查", modes=["spot_check"]).status_code == 409
    for task in db.session.scalars(sa.select(Inspection).where(
            Inspection.campaign_id == wave.get_json()["id"])):
        cancel(task, reason="抽查改期到下月", by=_user("fwgl"))
    db.session.commit()
    again = plan(client, api, demo, name="12月加密抽查", modes=["spot_check"])
    assert again.status_code == 201, again.get_json()


@pytest.mark.parametrize("days_ago", [365 * 6, 1])
def test_a_period_that_has_ended_is_refused(client, api, demo, days_ago):
    """A period entirely in the past (2020-01, or one that ended yesterday) made every task
    overdue the day it was created: is it refused (422) saying when it ended, nothing
    written — while one that ends today is still planned?"""
    end = local_today() - timedelta(days=days_ago)
    start = end.replace(day=1)
    before = written()
    response = plan(client, api, demo, name="补做的计划", period_start=start.isoformat(),
                    period_end=end.isoformat(), modes=["spot_check"])
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "period_ended" and end.isoformat() in error["message"]
    assert written() == before
    today = plan(client, api, demo, name="今天截止的抽查", modes=["spot_check"],
                 period_start=local_today().isoformat(), period_end=local_today().isoformat())
    assert today.status_code == 201, today.get_json()


# -- F10: a plan that gives nobody anything to do ------------------------------------------


def test_a_plan_that_generates_no_task_is_refused_saying_why(client, api, login, demo):
    """Self-checks of a sub-branch none of whose outlets has a manager's account generated
    nothing, yet the campaign was created (201, empty): is it refused (422) like the other
    impossible plans, naming the outlets left without a manager, on the API and the page,
    with nothing written?"""
    lubei = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    outlets = db.session.scalars(sa.select(OrgUnit).where(OrgUnit.parent_id == lubei.id,
                                                          OrgUnit.is_active)).all()
    db.session.execute(sa.delete(RoleGrant).where(
        RoleGrant.role == Role.outlet_manager,
        RoleGrant.org_unit_id.in_([outlet.id for outlet in outlets])))
    db.session.commit()
    before = written()
    response = plan(client, api, demo, scope_unit_id=lubei.id)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "no_assignments" and error["message"].startswith("未生成任何任务")
    assert f"{outlets[0].name}没有网点负责人账号" in error["message"]
    assert len(error["details"]) == len(outlets)
    login("fwgl", "Demo@2026")
    page = _page_post(client, plan_form(demo.id, modes=["self_check"],
                                        scope_unit_id=str(lubei.id)))
    assert page.status_code == 422
    assert "未生成任何任务" in page.get_data(as_text=True)
    assert written() == before
    # with a mode that does give work, the outlets without a manager stay a warning
    mixed = plan(client, api, demo, scope_unit_id=lubei.id, modes=["self_check", "spot_check"],
                 settings={"spot_check": {"size": 2}})
    assert mixed.status_code == 201, mixed.get_json()
    assert len(mixed.get_json()["plan"]["self_check"]["warnings"]) == len(outlets)


# -- a form with nothing to score ----------------------------------------------------------


def test_a_mode_whose_form_has_nothing_to_score_is_refused(client, api, demo):
    """A checklist whose scored items are all for mystery visits, planned for self-checks:
    each self-check's form would be a text note, scored by nothing and left out of the
    rankings. Is that refused (422), naming 自查, with nothing written — and 暗访 allowed?"""
    headers = api("fwgl")
    checklist_id = published_mystery_scored_only(client, headers)
    before = written()
    response = plan(client, api, demo, checklist_id=checklist_id,
                    modes=["self_check", "mystery_visit"])
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "nothing_to_score"
    assert error["message"].startswith("所选检查表没有适用于自查的计分项")
    assert written() == before
    visits = plan(client, api, demo, checklist_id=checklist_id, modes=["mystery_visit"],
                  settings={"mystery_visit": {"count": 2}})
    assert visits.status_code == 201, visits.get_json()
