"""Administration from the command line, and the idempotent demo data."""
from __future__ import annotations

import sqlalchemy as sa

from inspect_app.auth.models import User
from inspect_app.auth.permissions import Role
from inspect_app.extensions import db
from inspect_app.orgs.models import OrgKind, OrgUnit


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_seed_demo_builds_tangshan_and_is_idempotent(runner):
    """Does seed-demo create 唐山分行 with ~12 sub-branches, 4–10 outlets each, every role,
    print the logins, and change nothing when run again?"""
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Demo@2026" in first.output and "fwgl" in first.output
    subbranches = db.session.scalars(sa.select(OrgUnit).where(
        OrgUnit.kind == OrgKind.subbranch)).all()
    assert len(subbranches) >= 12
    assert {"路北支行", "路南支行", "迁安支行", "曹妃甸支行"} <= {s.name for s in subbranches}
    assert all(4 <= len(s.children) <= 10 for s in subbranches)
    roles = {grant.role for user in db.session.scalars(sa.select(User)) for grant in user.grants}
    assert roles == set(Role)
    before = (count(OrgUnit), count(User))
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "无需更新" in second.output
    assert (count(OrgUnit), count(User)) == before


def test_demo_login_works(runner, client):
    """Can a printed demo login actually sign in?"""
    runner.invoke(args=["seed-demo", "--quiet"])
    response = client.post("/api/v1/auth/token",
                           json={"username": "zh.lubei", "password": "Demo@2026"})
    assert response.status_code == 201


def test_cli_manages_org_and_people(runner):
    """Can an administrator build a unit, add a person, and deactivate them from the CLI?"""
    steps = [
        ["org", "add", "--kind", "branch", "--code", "BD", "--name", "保定分行"],
        ["org", "add", "--kind", "subbranch", "--code", "BD-JX", "--name", "竞秀支行",
         "--parent", "BD", "--area", "urban"],
        ["org", "add", "--kind", "outlet", "--code", "BD-JX-01", "--name", "竞秀营业室",
         "--parent", "BD-JX", "--lat", "38.87", "--lng", "115.46", "--benchmark"],
        ["users", "add", "wang.li", "--name", "王丽", "--role", "outlet_manager@BD-JX-01",
         "--role", "inspector@BD-JX", "--password", "Secret2026"],
        ["users", "deactivate", "wang.li"],
    ]
    for args in steps:
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    outlet = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "BD-JX-01"))
    assert outlet.is_benchmark and outlet.parent.code == "BD-JX"
    user = db.session.scalar(sa.select(User).where(User.username == "wang.li"))
    assert user.is_active is False and len(user.grants) == 2
    listing = runner.invoke(args=["org", "list"]).output
    assert "竞秀营业室" in listing and "[标杆]" in listing


def test_cli_explains_bad_input(runner):
    """Does the CLI answer an unknown role or unit with a clear Chinese message?"""
    result = runner.invoke(args=["users", "add", "x1", "--name", "某人", "--role",
                                 "boss@NOWHERE", "--password", "Secret2026"])
    assert result.exit_code != 0 and "未知角色" in result.output


def test_demo_history_is_done_by_the_right_people(demo):
    """Were the demo's past mystery visits made by mystery shoppers, its peer checks by an
    inspector of another sub-branch and its spot checks by branch inspectors (not all by one
    branch inspector, which would show a shopper no history and an inspector covert visits)?"""
    from inspect_app.auth.models import RoleGrant
    from inspect_app.inspections.models import Inspection, Mode

    past = db.session.execute(
        sa.select(Inspection.mode, Inspection.outlet_id, RoleGrant.role, RoleGrant.org_unit_id)
        .join(RoleGrant, RoleGrant.user_id == Inspection.assignee_id)
        .where(Inspection.campaign_id.is_(None), Inspection.mode != Mode.self_check)).all()
    parents = dict(db.session.execute(sa.select(OrgUnit.id, OrgUnit.parent_id)).all())
    branch = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == "TS"))
    seen = set()
    for mode, outlet_id, role, unit_id in past:
        seen.add(mode)
        if mode is Mode.mystery_visit:
            assert role is Role.mystery_shopper
        elif mode is Mode.peer_check:
            assert role is Role.inspector and unit_id not in (parents[outlet_id], branch)
        else:
            assert role is Role.inspector and unit_id == branch
    assert seen == {Mode.mystery_visit, Mode.peer_check, Mode.spot_check}
    shoppers = db.session.scalars(sa.select(Inspection.assignee_id).distinct().where(
        Inspection.campaign_id.is_(None), Inspection.mode == Mode.mystery_visit)).all()
    assert len(shoppers) == 3
