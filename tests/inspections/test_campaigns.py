"""Planning a campaign: each mode's own rules for who inspects whom."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.auth.models import RoleGrant, User
from inspect_app.auth.operations import create_user
from inspect_app.auth.permissions import Role
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections import planning
from inspect_app.inspections.campaigns import create_team
from inspect_app.inspections.models import (
    Campaign,
    Inspection,
    InspectionStatus,
    InspectionTeam,
    Mode,
)
from inspect_app.orgs.models import OrgKind, OrgUnit
from inspect_app.orgs.operations import create_unit

from ..conftest import mid_quarter_fortnight, next_quarter, this_quarter
from ..helpers import second_branch


def inspections(campaign_id: int, mode: Mode) -> list[Inspection]:
    return db.session.scalars(sa.select(Inspection).where(
        Inspection.campaign_id == campaign_id, Inspection.mode == mode)).all()


def test_campaign_generates_all_four_modes(campaign):
    """Does one campaign create self-checks, peer checks, spot checks and mystery visits?"""
    counts = {mode: sum(states.values()) for mode, states in campaign["counts"].items()}
    outlets = db.session.scalar(sa.select(sa.func.count()).select_from(OrgUnit)
                                .where(OrgUnit.kind == OrgKind.outlet))
    assert counts["self_check"] == outlets  # one quarterly cycle per outlet
    assert counts["peer_check"] == outlets
    assert counts["spot_check"] == 8
    assert counts["mystery_visit"] == 4


def test_self_checks_go_to_the_outlets_own_manager(campaign):
    """Is each self-check assigned to the manager of the outlet it checks?"""
    for inspection in inspections(campaign["id"], Mode.self_check):
        grants = inspection.assignee.grants
        assert any(g.org_unit_id == inspection.outlet_id and g.role.value == "outlet_manager"
                   for g in grants)


def test_peer_checks_never_inspect_their_own_subbranch_nor_swap(campaign):
    """Does no team inspect its own sub-branch, and is no A↔B pair used in one cycle?"""
    pairs = set()
    for inspection in inspections(campaign["id"], Mode.peer_check):
        assert inspection.team is not None and inspection.assignee_id is None
        assert inspection.outlet.parent_id != inspection.team.subbranch_id
        pairs.add((inspection.team.subbranch_id, inspection.outlet.parent_id))
    assert not any((b, a) in pairs for a, b in pairs)


def test_next_cycle_does_not_repeat_recent_pairs(client, api, campaign, demo):
    """Does the following campaign avoid the sub-branch pairs of the one before?"""
    start, end = next_quarter()
    body = {"name": "下一季度互查", "checklist_id": demo.id, "period_start": start.isoformat(),
            "period_end": end.isoformat(), "modes": ["peer_check"], "seed": 7}
    second = client.post("/api/v1/campaigns", json=body, headers=api("fwgl")).get_json()
    first_pairs = {tuple(p[:2]) for p in campaign["plan"]["peer_check"]["pairs"]}
    second_pairs = {tuple(p[:2]) for p in second["plan"]["peer_check"]["pairs"]}
    assert first_pairs and second_pairs and not first_pairs & second_pairs


def test_another_branchs_rounds_are_not_this_branchs_cycles(client, api, campaign, demo):
    """Peer-check cycles are each branch's own: when 石家庄 plans two rounds of its own between
    two of 唐山's, does 唐山's next round still avoid the sub-branch pairs of its last one?"""
    sjz = second_branch()
    subbranches = [db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "SJZ-CA"))]
    for code, name in (("SJZ-XH", "新华"), ("SJZ-QD", "桥东")):
        subbranches.append(create_unit(kind=OrgKind.subbranch, code=code, name=f"{name}支行",
                                       parent=sjz))
        create_unit(kind=OrgKind.outlet, code=f"{code}-01", name=f"{name}营业部",
                    parent=subbranches[-1])
    for subbranch in subbranches:
        inspector = create_user(username=f"jc.{subbranch.code.lower()}", display_name="检查员",
                                password=DEMO_PASSWORD, grants=[(Role.inspector, subbranch)])
        create_team(name=f"{subbranch.name}互查组", subbranch=subbranch, members=[inspector],
                    by=None)
    db.session.commit()
    end = this_quarter()[1]
    for name in ("石家庄第一轮互查", "石家庄第二轮互查"):
        response = client.post("/api/v1/campaigns", headers=api("sjz.fw"), json={
            "name": name, "checklist_id": demo.id, "scope_unit_id": sjz.id,
            "period_start": local_today().isoformat(), "period_end": end.isoformat(),
            "modes": ["peer_check"], "seed": 7})
        assert response.status_code == 201, response.get_json()
    start, end = next_quarter()
    body = {"name": "下一季度互查", "checklist_id": demo.id, "period_start": start.isoformat(),
            "period_end": end.isoformat(), "modes": ["peer_check"], "seed": 42}
    second = client.post("/api/v1/campaigns", json=body, headers=api("fwgl")).get_json()
    first_pairs = {tuple(p[:2]) for p in campaign["plan"]["peer_check"]["pairs"]}
    second_pairs = {tuple(p[:2]) for p in second["plan"]["peer_check"]["pairs"]}
    assert first_pairs and second_pairs and not first_pairs & second_pairs


def test_spot_check_draw_is_stored_and_reproducible(campaign):
    """Are the seed and weights stored with the draw, and does replaying it give the same
    outlets?"""
    stored = planning.SpotCheckDraw.from_dict(campaign["plan"]["spot_check"]["draw"])
    assert stored.seed == "42:spot" and stored.weights == planning.SpotCheckWeights()
    drawn = {i.outlet_id for i in inspections(campaign["id"], Mode.spot_check)}
    assert drawn == set(stored.selected_ids)
    candidates = [planning.SpotCheckCandidate(*facts)
                  for facts in campaign["plan"]["spot_check"]["candidates"]]
    assert planning.reproduce(stored, candidates).selected_ids == stored.selected_ids


def test_spot_checks_go_to_branch_inspectors(campaign):
    """Are spot checks done by the branch's own inspectors, not a sub-branch's?"""
    for inspection in inspections(campaign["id"], Mode.spot_check):
        assert {g.org_unit.kind for g in inspection.assignee.grants} == {OrgKind.branch}


def test_spot_checks_go_only_to_inspectors_of_the_campaigns_own_branch(client, api, demo):
    """With a second branch beside 唐山, are a 唐山 campaign's spot checks given only to 唐山's
    branch inspectors — never to 石家庄's, who would then see and fill 唐山 outlets?"""
    create_user(username="jc.sjz", display_name="石家庄检查员", password=DEMO_PASSWORD,
                grants=[(Role.inspector, second_branch())])
    db.session.commit()
    start, end = next_quarter()
    response = client.post("/api/v1/campaigns", headers=api("fwgl"), json={
        "name": "下季度抽查", "checklist_id": demo.id, "period_start": start.isoformat(),
        "period_end": end.isoformat(), "modes": ["spot_check"], "seed": 5,
        "settings": {"spot_check": {"size": 8}}})
    assert response.status_code == 201, response.get_json()
    assignees = {i.assignee.username for i in inspections(response.get_json()["id"],
                                                          Mode.spot_check)}
    assert assignees == {"jc.fenhang1", "jc.fenhang2"}


def test_mystery_visits_have_shopper_scenario_and_window(campaign):
    """Does each mystery visit name a shopper, a scenario and a window inside the period?"""
    for inspection in inspections(campaign["id"], Mode.mystery_visit):
        assert inspection.assignee.username.startswith("smr")
        assert inspection.scenario
        assert inspection.due_start <= inspection.due_end


def test_shopper_does_not_revisit_an_outlet_too_soon(client, api, campaign, demo):
    """Within the minimum gap, is a shopper never sent back to an outlet they visited?"""
    end = this_quarter()[1]  # the quarter's last month: within the campaign's, not yet over
    body = {"name": "加密暗访", "checklist_id": demo.id,
            "period_start": date(end.year, end.month, 1).isoformat(),
            "period_end": end.isoformat(), "modes": ["mystery_visit"], "seed": 3,
            "settings": {"mystery_visit": {"count": 76, "min_days_between": 365}}}
    response = client.post("/api/v1/campaigns", json=body, headers=api("fwgl"))
    assert response.status_code == 201, response.get_json()
    earlier = {(i.assignee_id, i.outlet_id) for i in inspections(campaign["id"],
                                                                  Mode.mystery_visit)}
    later = {(i.assignee_id, i.outlet_id)
             for i in inspections(response.get_json()["id"], Mode.mystery_visit)}
    assert not earlier & later


def test_impossible_peer_rules_are_explained_and_nothing_is_created(client, api, demo):
    """With only two sub-branches' teams, is the plan refused with a clear reason and nothing
    written?"""
    for team in db.session.scalars(sa.select(InspectionTeam).order_by(InspectionTeam.id)
                                   .offset(1)).all()[1:]:
        team.is_active = False
    scope = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS"))
    db.session.commit()

    def written() -> tuple[int, int]:  # the demo has this month's campaign already
        return (db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)),
                db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)))

    before = written()
    start, end = this_quarter()  # a period not yet over: refused for its peer rules alone
    body = {"name": "互查", "checklist_id": demo.id, "period_start": start.isoformat(),
            "period_end": end.isoformat(), "modes": ["peer_check"], "scope_unit_id": scope.id}
    response = client.post("/api/v1/campaigns", json=body, headers=api("fwgl"))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "peer_plan_infeasible" and error["details"]
    assert written() == before


def test_only_service_managers_plan(client, api, demo):
    """Is a sub-branch manager refused when planning a campaign?"""
    body = {"name": "x", "checklist_id": demo.id, "period_start": "2026-10-01",
            "period_end": "2026-10-31", "modes": ["self_check"]}
    response = client.post("/api/v1/campaigns", json=body, headers=api("zh.lubei"))
    assert response.status_code == 403


def test_reassign_cancel_and_reschedule_are_audited_with_reasons(client, api, first):
    """Do reassigning, rescheduling and cancelling record the reason in the audit log?"""
    spot = first("spot_check")
    other = db.session.scalar(sa.select(User).where(User.username == "jc.fenhang2"))
    headers = api("fwgl")
    moved = client.post(f"/api/v1/inspections/{spot.id}/reassign",
                        json={"assignee_id": other.id, "reason": "原检查员休假"}, headers=headers)
    assert moved.status_code == 200, moved.get_json()
    due_start, due_end = mid_quarter_fortnight()
    rescheduled = client.post(f"/api/v1/inspections/{spot.id}/reschedule",
                              json={"due_start": due_start.isoformat(),
                                    "due_end": due_end.isoformat(),
                                    "reason": "网点装修延期"}, headers=headers)
    assert rescheduled.status_code == 200, rescheduled.get_json()
    cancelled = client.post(f"/api/v1/inspections/{spot.id}/cancel",
                            json={"reason": "网点暂停营业"}, headers=headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    reasons = dict(db.session.execute(sa.select(AuditEntry.action, AuditEntry.reason).where(
        AuditEntry.object_id == str(spot.id), AuditEntry.object_type == "inspection")).all())
    assert reasons == {"inspection.reassign": "原检查员休假",
                       "inspection.reschedule": "网点装修延期",
                       "inspection.cancel": "网点暂停营业"}


def test_peer_check_cannot_be_reassigned_to_own_subbranch_team(client, api, first):
    """Is a peer check refused when given to the team of the outlet's own sub-branch?"""
    peer = first("peer_check")
    own_team = db.session.scalar(sa.select(InspectionTeam).where(
        InspectionTeam.subbranch_id == peer.outlet.parent_id))
    response = client.post(f"/api/v1/inspections/{peer.id}/reassign",
                           json={"team_id": own_team.id, "reason": "测试"}, headers=api("fwgl"))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "own_subbranch"


def _pairs_of(campaign_id: int, *, leaving_out: int | None = None) -> set[tuple[int, int]]:
    """The (inspecting, inspected) sub-branch pairs a campaign's peer checks make now."""
    return {(i.team.subbranch_id, i.outlet.parent_id) for i in inspections(campaign_id,
                                                                        Mode.peer_check)
            if i.status is not InspectionStatus.cancelled and i.id != leaving_out}


def _state_of(inspection: Inspection) -> tuple:
    db.session.expire_all()
    again = db.session.get(Inspection, inspection.id)
    audited = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.object_type == "inspection", AuditEntry.object_id == str(inspection.id)))
    return again.team_id, again.version, audited


def test_a_peer_check_is_not_reassigned_into_a_swap_of_the_same_cycle(client, api, first):
    """Giving a peer check of sub-branch B's outlet to a team of X, while B inspects X in the
    same campaign, made an A↔B swap the planner never allows: is it refused (422
    reciprocal_pair), naming both sub-branches, with nothing written?"""
    peer = first("peer_check")
    inspected = peer.outlet.parent_id
    others = _pairs_of(peer.campaign_id, leaving_out=peer.id)
    team = next(t for t in db.session.scalars(sa.select(InspectionTeam).order_by(InspectionTeam.id))
                if (inspected, t.subbranch_id) in others)
    before = _state_of(peer)
    response = client.post(f"/api/v1/inspections/{peer.id}/reassign",
                           json={"team_id": team.id, "reason": "原检查组人手不足"},
                           headers=api("fwgl"))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "reciprocal_pair"
    names = {db.session.get(OrgUnit, inspected).name, team.subbranch.name}
    assert all(name in error["message"] for name in names) and "同一轮内互查" in error["message"]
    assert _state_of(peer) == before


def test_a_peer_check_is_not_reassigned_to_a_pair_of_the_last_cycles(client, api, campaign,
                                                                     demo):
    """In the next quarter's campaign, giving an outlet of B to a team of X that inspected B
    in one of the last two cycles repeats a pair the planner would not: is it refused (422
    recent_pair) — while a team keeping every rule takes it?"""
    start, end = next_quarter()
    body = {"name": "下季度互查", "checklist_id": demo.id, "period_start": start.isoformat(),
            "period_end": end.isoformat(), "modes": ["peer_check"], "seed": 11}
    later = client.post("/api/v1/campaigns", json=body, headers=api("fwgl"))
    assert later.status_code == 201, later.get_json()
    recent = _pairs_of(campaign["id"])
    teams = db.session.scalars(sa.select(InspectionTeam).order_by(InspectionTeam.id)).all()
    for task in inspections(later.get_json()["id"], Mode.peer_check):
        inspected = task.outlet.parent_id
        others = _pairs_of(task.campaign_id, leaving_out=task.id)
        repeating = [t for t in teams if (t.subbranch_id, inspected) in recent
                     and (inspected, t.subbranch_id) not in others]
        if repeating:
            break
    else:
        pytest.fail("no task of the later campaign has a team of a recent pair to try")
    response = client.post(f"/api/v1/inspections/{task.id}/reassign",
                           json={"team_id": repeating[0].id, "reason": "原检查组人手不足"},
                           headers=api("fwgl"))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == "recent_pair"
    assert "轮内已检查过" in response.get_json()["error"]["message"]
    keeping = [t for t in teams if not task.outlet.is_within(t.subbranch)
               and (inspected, t.subbranch_id) not in others
               and (t.subbranch_id, inspected) not in recent | _pairs_of(
                   db.session.scalar(sa.select(Campaign.id).order_by(Campaign.id)))]
    assert keeping
    fine = client.post(f"/api/v1/inspections/{task.id}/reassign",
                       json={"team_id": keeping[0].id, "reason": "原检查组人手不足"},
                       headers=api("fwgl"))
    assert fine.status_code == 200, fine.get_json()


def _visit_of(task: Inspection, shopper: User, days_before: int) -> Inspection:
    """Another mystery visit of ``task``'s outlet by ``shopper``, ``days_before`` its window."""
    other = Inspection(checklist_id=task.checklist_id, mode=Mode.mystery_visit,
                       outlet_id=task.outlet_id, assignee_id=shopper.id,
                       status=InspectionStatus.final, draft={}, events={},
                       due_start=task.due_start - timedelta(days=days_before),
                       due_end=task.due_start - timedelta(days=days_before - 4))
    db.session.add(other)
    db.session.commit()
    return other


def _only_visit_of_its_outlet(task: Inspection) -> None:
    """Cancel every other mystery visit of ``task``'s outlet (the demo's history has some)."""
    db.session.execute(sa.update(Inspection).where(
        Inspection.mode == Mode.mystery_visit, Inspection.outlet_id == task.outlet_id,
        Inspection.id != task.id).values(status=InspectionStatus.cancelled))
    db.session.commit()


def _shopper(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_a_mystery_visit_is_not_reassigned_to_a_shopper_the_outlet_saw_lately(client, api,
                                                                               first):
    """Is a mystery visit refused to a shopper who visited the same outlet within the
    campaign's interval — by the API, not only left off the page's list — saying when, and
    given to one who has not?"""
    task = first("mystery_visit")
    _only_visit_of_its_outlet(task)
    seen, fresh = [_shopper(name) for name in ("smr1", "smr2", "smr3")
                   if _shopper(name).id != task.assignee_id]
    other = _visit_of(task, seen, days_before=30)
    before = task.assignee_id
    refused = client.post(f"/api/v1/inspections/{task.id}/reassign", headers=api("fwgl"),
                          json={"assignee_id": seen.id, "reason": "原神秘人请假"})
    assert refused.status_code == 422, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "shopper_visits_too_soon"
    assert seen.display_name in error["message"]
    assert len(error["details"]) == 1
    assert other.due_start.isoformat() in error["details"][0]
    assert task.outlet.name in error["details"][0]
    db.session.expire_all()
    assert db.session.get(Inspection, task.id).assignee_id == before

    moved = client.post(f"/api/v1/inspections/{task.id}/reassign", headers=api("fwgl"),
                        json={"assignee_id": fresh.id, "reason": "原神秘人请假"})
    assert moved.status_code == 200, moved.get_json()


def test_a_mystery_visit_is_not_moved_next_to_its_shoppers_other_visit(client, api, first):
    """Rescheduling a mystery visit: is a window too close to its shopper's other visit of the
    outlet refused, and one far enough away accepted?"""

    task = first("mystery_visit")
    _only_visit_of_its_outlet(task)
    campaign = task.campaign
    # the same shopper visits the outlet again 30 days after the campaign
    days_later = (campaign.period_end + timedelta(days=30) - task.due_start).days
    _visit_of(task, task.assignee, days_before=-days_later)
    url, headers = f"/api/v1/inspections/{task.id}/reschedule", api("fwgl")
    near = campaign.period_end - timedelta(days=10)  # 40 days before that visit
    refused = client.post(url, headers=headers, json={
        "due_start": near.isoformat(), "due_end": campaign.period_end.isoformat(),
        "reason": "网点装修"})
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["code"] == "shopper_visits_too_soon"
    far = campaign.period_start  # 121 days before it
    moved = client.post(url, headers=headers, json={
        "due_start": far.isoformat(), "due_end": (far + timedelta(days=6)).isoformat(),
        "reason": "网点装修"})
    assert moved.status_code == 200, moved.get_json()


def test_a_task_is_not_moved_outside_its_campaigns_period(client, api, first):
    """Is a window outside the campaign's period refused, naming the period, and the task left
    where it was?"""
    spot = first("spot_check")
    window = (spot.due_start, spot.due_end)
    opens, closes = this_quarter()  # the campaign's period
    for start, end in ((opens - timedelta(days=6), opens + timedelta(days=4)),  # from before it
                       (closes - timedelta(days=11), closes + timedelta(days=10))):  # past its end
        refused = client.post(f"/api/v1/inspections/{spot.id}/reschedule", headers=api("fwgl"),
                              json={"due_start": start.isoformat(), "due_end": end.isoformat(),
                                    "reason": "顺延"})
        assert refused.status_code == 422, refused.get_json()
        error = refused.get_json()["error"]
        assert error["code"] == "outside_period"
        assert opens.isoformat() in error["message"] and closes.isoformat() in error["message"]
    db.session.expire_all()
    moved = db.session.get(Inspection, spot.id)
    assert (moved.due_start, moved.due_end) == window


def test_a_spot_check_goes_only_to_an_inspector_of_the_outlets_branch(client, api, first):
    """抽查 is the branch's own check: is a spot check refused to a sub-branch's inspector —
    who may fill peer checks — even of another sub-branch's outlet, and given to the branch's?"""
    spot = first("spot_check")
    outsider = db.session.scalar(
        sa.select(User).join(RoleGrant).join(OrgUnit, OrgUnit.id == RoleGrant.org_unit_id)
        .where(RoleGrant.role == Role.inspector, OrgUnit.kind == OrgKind.subbranch,
               OrgUnit.id != spot.outlet.parent_id).order_by(User.username))
    refused = client.post(f"/api/v1/inspections/{spot.id}/reassign", headers=api("fwgl"),
                          json={"assignee_id": outsider.id, "reason": "支行检查员代为抽查"})
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["code"] == "assignee_not_allowed"
    branch_inspector = db.session.scalar(sa.select(User).where(
        User.username == ("jc.fenhang2" if spot.assignee.username == "jc.fenhang1"
                          else "jc.fenhang1")))
    moved = client.post(f"/api/v1/inspections/{spot.id}/reassign", headers=api("fwgl"),
                        json={"assignee_id": branch_inspector.id, "reason": "原检查员休假"})
    assert moved.status_code == 200, moved.get_json()


@pytest.mark.parametrize("settings", [
    {"mystery_visit": {"count": "abc"}}, {"mystery_visit": {"count": []}},
    {"mystery_visit": {"scenarios": 5}}, {"mystery_visit": {"min_days_between": "x"}},
    {"spot_check": {"size": "x"}}, {"spot_check": {"weights": {"watch_listed": "x"}}},
    {"self_check": {"cycle": ["month"]}}, {"peer_check": {"no_repeat_cycles": "x"}},
    {"peer_check": {"no_repeat_cycles": -1}}, {"peer_check": {"outlets_per_team": -1}},
    {"spot_check": {"colour": "red"}}, {"audit": {}},
])
def test_settings_of_the_wrong_kind_are_refused_with_the_field_named(client, api, demo,
                                                                     settings):
    """Is a mode's setting of the wrong type or out of range a 422 that names it, with no
    campaign written — never a server error?"""
    mode = next(iter(settings))
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Campaign))
    response = client.post("/api/v1/campaigns", headers=api("fwgl"), json={
        "name": "错误参数", "checklist_id": demo.id, "period_start": "2027-01-01",
        "period_end": "2027-01-31", "modes": [mode if mode != "audit" else "spot_check"],
        "settings": settings})
    assert response.status_code == 422, response.get_json()
    assert "settings" in response.get_json()["error"]["details"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == before


@pytest.mark.parametrize("body,field", [
    ({"modes": ["mystery_visit", "mystery_visit"]}, "modes"),
    ({"period_start": "2027-01-01", "period_end": "2031-12-31"}, "period_end"),
    ({"period_start": "0051-07-12", "period_end": "0051-08-12"}, "period_start"),
])
def test_a_campaign_is_one_year_at_most_with_each_mode_once(client, api, demo, body, field):
    """Are a mode given twice (which planned every visit twice), a period of years (tens of
    thousands of self-checks, minutes of work) and a date centuries away refused (422)?"""
    response = client.post("/api/v1/campaigns", headers=api("fwgl"), json={
        "name": "超长计划", "checklist_id": demo.id, "period_start": "2027-01-01",
        "period_end": "2027-01-31", "modes": ["self_check"], **body})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]


def test_a_mystery_shopper_is_never_named_on_another_modes_task_or_team(client, api, first):
    """A shopper (who may fill forms anywhere in the branch) given a spot check or put in a
    peer-check team would be seen by the outlet, and known from then on: are both refused?"""
    spot = first("spot_check")
    shopper = db.session.scalar(sa.select(User).where(User.username == "smr2"))
    refused = client.post(f"/api/v1/inspections/{spot.id}/reassign", headers=api("fwgl"),
                          json={"assignee_id": shopper.id, "reason": "改派原因"})
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["code"] == "assignee_not_allowed"
    subbranch = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    inspector = db.session.scalar(sa.select(User).join(RoleGrant).where(
        RoleGrant.role == Role.inspector, RoleGrant.org_unit_id == subbranch.id))
    team = client.post("/api/v1/teams", headers=api("fwgl"), json={
        "name": "混入神秘人的检查组", "subbranch_id": subbranch.id,
        "member_ids": [inspector.id, shopper.id]})
    assert team.status_code == 422, team.get_json()
    assert team.get_json()["error"]["code"] == "covert_member"
    db.session.expire_all()
    assert db.session.get(Inspection, spot.id).assignee_id != shopper.id


def test_a_peer_team_member_is_not_made_a_mystery_shopper_while_on_the_team(client, api, demo):
    """A shopper is never in a peer-check team (the outlets it inspects would learn who visits
    them covertly): is giving a member of an active team the shopper's role refused as putting
    a shopper in the team is (422 ``covert_member``), leaving their roles as they were — and
    given once the team is no longer active?"""
    team = db.session.scalar(sa.select(InspectionTeam).order_by(InspectionTeam.id))
    member = team.members[0]
    branch = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == OrgKind.branch))
    grants = [{"role": g.role.value, "org_unit_id": g.org_unit_id} for g in member.grants]
    shopper = {"grants": [*grants, {"role": "mystery_shopper", "org_unit_id": branch.id}]}

    refused = client.patch(f"/api/v1/users/{member.id}", headers=api("admin"), json=shopper)
    assert refused.status_code == 422, refused.get_json()
    assert refused.get_json()["error"]["code"] == "covert_member"
    assert refused.get_json()["error"]["message"] == f"{member.display_name}是神秘人，不能加入检查组"
    db.session.expire_all()
    assert [{"role": g.role.value, "org_unit_id": g.org_unit_id}
            for g in db.session.get(User, member.id).grants] == grants
    assert member in db.session.get(InspectionTeam, team.id).members

    db.session.get(InspectionTeam, team.id).is_active = False
    db.session.commit()
    given = client.patch(f"/api/v1/users/{member.id}", headers=api("admin"), json=shopper)
    assert given.status_code == 200, given.get_json()


def test_spot_checks_pass_over_an_inspector_who_answers_for_the_outlet(client, api, demo):
    """A branch inspector is also made manager of every sub-branch (a role added beside theirs).
    Planning 抽查 gives the branch's inspectors their turns: does it pass over them for each
    outlet they answer for, rather than have them grade it?"""
    inspector = db.session.scalar(sa.select(User).where(User.username == "jc.fenhang1"))
    subbranches = db.session.scalars(sa.select(OrgUnit.id).where(
        OrgUnit.kind == OrgKind.subbranch)).all()
    grants = [{"role": grant.role.value, "org_unit_id": grant.org_unit_id}
              for grant in inspector.grants]
    changed = client.patch(f"/api/v1/users/{inspector.id}", headers=api("admin"), json={
        "grants": [*grants, *({"role": "subbranch_manager", "org_unit_id": unit}
                              for unit in subbranches)]})
    assert changed.status_code == 200, changed.get_json()
    start, end = next_quarter()
    planned = client.post("/api/v1/campaigns", headers=api("fwgl"), json={
        "name": "抽查（回避）", "checklist_id": demo.id, "period_start": start.isoformat(),
        "period_end": end.isoformat(), "modes": ["spot_check"], "seed": 5,
        "settings": {"spot_check": {"size": 6}}})
    assert planned.status_code == 201, planned.get_json()
    assignees = set(db.session.scalars(sa.select(Inspection.assignee_id).where(
        Inspection.campaign_id == planned.get_json()["id"])))
    assert len(assignees) >= 1 and inspector.id not in assignees

    # every branch inspector answers for every sub-branch: no spot check goes to any of them,
    # and the refusal names each outlet left without one
    for other in db.session.scalars(sa.select(User).join(RoleGrant).where(
            RoleGrant.role == Role.inspector, RoleGrant.org_unit_id == inspector.grants[0]
            .org_unit_id, User.id != inspector.id)):
        grants = [{"role": grant.role.value, "org_unit_id": grant.org_unit_id}
                  for grant in other.grants]
        assert client.patch(f"/api/v1/users/{other.id}", headers=api("admin"), json={
            "grants": [*grants, *({"role": "subbranch_manager", "org_unit_id": unit}
                                  for unit in subbranches)]}).status_code == 200
    again = client.post("/api/v1/campaigns", headers=api("fwgl"), json={
        "name": "抽查（全部回避）", "checklist_id": demo.id, "period_start": start.isoformat(),
        "period_end": end.isoformat(), "modes": ["spot_check"], "seed": 6,
        "settings": {"spot_check": {"size": 3}}})
    assert again.status_code == 422, again.get_json()
    assert again.get_json()["error"]["code"] == "no_assignments"
    details = again.get_json()["error"]["details"]
    assert len(details) == 3 and all("分行的检查员都负责该网点，未安排抽查" in d for d in details)
