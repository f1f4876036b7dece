"""Administration from the command line, and the idempotent demo data."""
from __future__ import annotations

import pytest
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


# -- the command line checks what the API checks ---------------------------------------------


def _tree(runner) -> None:
    for args in (["org", "add", "--kind", "branch", "--code", "TS", "--name", "唐山分行"],
                 ["org", "add", "--kind", "subbranch", "--code", "TS-LB", "--name", "路北支行",
                  "--parent", "TS"]):
        assert runner.invoke(args=args).exit_code == 0


OUTLET = ["org", "add", "--kind", "outlet", "--parent", "TS-LB"]


@pytest.mark.parametrize("options, expected", [
    (["--code", "bad code!", "--name", "x"], "--code（code）：编码只能包含字母、数字、- 和 _"),
    (["--code", "TS-LB-09", "--name", "x", "--lat", "999", "--lng", "999"],
     "--lat（latitude）：应在 -90 到 90 之间"),
    (["--code", "TS-LB-09", "--name", "x", "--lng", "east"], "--lng（longitude）：应为数字"),
    (["--code", "TS-LB-09", "--name", "a\nb"], "--name（name）：只能是一行文字"),
    (["--code", "TS-LB-09", "--name", "名" * 150], "--name（name）：长度应在 1 到 100 之间"),
])
def test_org_add_refuses_what_the_api_refuses(runner, options, expected):
    """Does `org add` refuse, with the API's Chinese message and the option named, what the API
    answers with 422 — a code with spaces, coordinates off the globe, a line break in the name,
    a name longer than PostgreSQL's column — and write nothing?"""
    _tree(runner)
    before = count(OrgUnit)
    result = runner.invoke(args=OUTLET + options)
    assert result.exit_code != 0 and expected in result.output, result.output
    assert "未写入任何内容" in result.output
    assert count(OrgUnit) == before


def test_org_update_refuses_a_bad_name(runner):
    """Does `org update` refuse an empty, multi-line or over-long name and keep the old one?"""
    _tree(runner)
    for name in ("", "a\nb", "名" * 101):
        result = runner.invoke(args=["org", "update", "TS-LB", "--name", name])
        assert result.exit_code != 0 and "--name（name）" in result.output, result.output
    assert db.session.scalar(sa.select(OrgUnit.name).where(OrgUnit.code == "TS-LB")) == "路北支行"


@pytest.mark.parametrize("username, name, expected", [
    ("bad user/x", "李\n四", ["USERNAME（username）：用户名只能包含", "--name（display_name）：只能是一行文字"]),
    ("a", "", ["USERNAME（username）", "--name（display_name）：长度应在 1 到 100 之间"]),
    ("li.si", "名" * 101, ["--name（display_name）：长度应在 1 到 100 之间"]),
])
def test_users_add_refuses_what_the_api_refuses(runner, username, name, expected):
    """Does `users add` refuse a bad username and a multi-line or empty name (every problem
    named) before asking for the password, and create no one?"""
    _tree(runner)
    result = runner.invoke(args=["users", "add", username, "--name", name,
                                 "--role", "inspector@TS-LB"])
    assert result.exit_code != 0, result.output
    for text in expected:
        assert text in result.output, result.output
    assert "密码:" not in result.output
    assert count(User) == 0


def test_users_add_checks_the_roles_before_asking_for_the_password(runner):
    """Is a misspelt role or unknown unit refused at once, not after the password was typed
    twice?"""
    _tree(runner)
    for role in ("boss@TS-LB", "inspector@NOWHERE", "inspector"):
        result = runner.invoke(args=["users", "add", "li.na", "--name", "李娜", "--role", role])
        assert result.exit_code != 0 and "密码:" not in result.output, result.output
    asked = runner.invoke(args=["users", "add", "li.na", "--name", "李娜", "--role",
                                "inspector@TS-LB"], input="Secret2026\nSecret2026\n")
    assert asked.exit_code == 0 and "密码:" in asked.output, asked.output
    assert count(User) == 1


def test_the_api_refuses_a_multi_line_person_name(client, org, make_user, token_for):
    """Does the API refuse a person's name with a line break (422), as it does a unit's?"""
    make_user("admin", (Role.admin, "TS"))
    body = {"username": "li.si", "display_name": "李\n四", "password": "Secret2026",
            "grants": [{"role": "inspector", "org_unit_id": org["TS-LB"].id}]}
    response = client.post("/api/v1/users", json=body, headers=token_for("admin"))
    assert response.status_code == 422, response.get_json()
    assert "display_name" in response.get_json()["error"]["details"]


# -- seeding again after an administrator changed the organisation ---------------------------


def _seed_again(runner, *steps: list[str]) -> None:
    for args in steps:
        assert runner.invoke(args=args).exit_code == 0, args
    before = count(User)
    result = runner.invoke(args=["seed-demo", "--quiet"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert count(User) == before


def test_seed_demo_again_gives_a_closed_outlet_no_account(runner, demo):
    """Run again after an outlet was added and closed, does seed-demo leave it without a
    manager account (one with the public demo password)?"""
    _seed_again(runner, ["org", "add", "--kind", "outlet", "--code", "TS-LB-10",
                         "--name", "新华里分理处", "--parent", "TS-LB"],
                ["org", "update", "TS-LB-10", "--inactive"])
    assert count(User, User.username == "wd.lb10") == 0


def test_seed_demo_again_skips_an_outlet_coded_otherwise(runner, demo):
    """Does seed-demo skip, rather than crash on, an outlet under a demo sub-branch whose code
    has no "-" (it is no demo outlet)?"""
    _seed_again(runner, ["org", "add", "--kind", "outlet", "--code", "LBX", "--name", "临时网点",
                         "--parent", "TS-LB"])


def test_seed_demo_dates_by_the_banks_day(runner, monkeypatch):
    """At 20:00 UTC on 30 November it is already 1 December in the bank: is the demo's
    campaign December's, and does its queue data run to the bank's yesterday?"""
    from datetime import UTC, date, datetime

    from inspect_app import i18n
    from inspect_app.demo import seed as seed_module
    from inspect_app.inspections.models import Campaign
    from inspect_app.watchlist.models import QueueDay

    moment = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    class UtcDate(date):
        @classmethod
        def today(cls):
            return moment.date()  # what the server's clock (UTC) says

    monkeypatch.setattr(i18n, "datetime", Clock)
    monkeypatch.setattr(seed_module, "date", UtcDate)
    result = runner.invoke(args=["seed-demo", "--quiet"])
    assert result.exit_code == 0, (result.output, result.exception)
    campaign = db.session.scalar(sa.select(Campaign))
    assert campaign.name == "2026年12月服务检查" and campaign.period_start == date(2026, 12, 1)
    assert db.session.scalar(sa.select(sa.func.max(QueueDay.day))) == date(2026, 11, 30)


def test_make_run_on_a_real_database_prints_no_demo_logins(runner):
    """`make run` on a database that already holds a bank's own data: does it skip the demo
    and say so, without a table of demo logins that do not exist?"""
    _tree(runner)
    result = runner.invoke(args=["seed-demo-if-empty"])
    assert result.exit_code == 0 and "跳过演示数据" in result.output
    assert "演示账号" not in result.output and "Demo@2026" not in result.output


def test_users_add_help_lists_the_role_codes(runner):
    """Does ``users add --help`` name every role code ``--role`` accepts (service_manager,
    mystery_shopper … were documented nowhere), and does the README list them too?"""
    from pathlib import Path

    shown = " ".join(runner.invoke(args=["users", "add", "--help"]).output.split())
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    deploy = readme.split("## Deploying", 1)[1]
    for role in Role:
        assert f" {role.value}（" in shown, (role, shown)
        assert f"`{role.value}`" in deploy, role


def test_the_readmes_first_start_works_on_an_empty_database(runner):
    """Do the README's first-start commands, run on a freshly migrated empty database, give a
    branch and an administrator who can sign in (before, nothing said how to begin)?"""
    import shlex
    from pathlib import Path

    from inspect_app.auth.operations import authenticate

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("**First start on an empty database.**", 1)[1]
    block = block.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line.split("#", 1)[0]) for line in block.splitlines()]
    assert len(commands) == 2
    for command in commands:
        assert command[:3] == [".venv/bin/flask", "--app", "inspect_app"], command
        result = runner.invoke(args=command[3:], input="Secret2026\nSecret2026\n")
        assert result.exit_code == 0, (command, result.output)
    admin = authenticate(commands[1][5], "Secret2026")  # flask … users add USERNAME …
    assert [(g.role, g.org_unit.code) for g in admin.grants] == [(Role.admin, "TS")]


def test_the_demo_login_table_lines_up_in_a_terminal(demo):
    """Do the columns of the printed demo logins start at the same terminal column on every
    line, Chinese characters counting two (they drifted with names and roles in Chinese)?"""
    from inspect_app.demo.seed import display_width, print_logins

    lines: list[str] = []
    print_logins(lines.append)
    table = [line for line in lines if line.startswith("  ") and "其他账号" not in line]
    assert len(table) >= 8 and table[0].split() == ["用户名", "姓名", "角色", "范围"]

    def starts(line: str) -> list[int]:
        cells, found, position = line.split(), [], 0
        for cell in cells:
            position = line.index(cell, position)
            found.append(display_width(line[:position]))
            position += len(cell)
        return found

    assert len({tuple(starts(line)) for line in table}) == 1, "\n".join(table)
    assert any(display_width(cell) != len(cell) for cell in table[1].split())  # Chinese there
