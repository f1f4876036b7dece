"""The audit log is append-only: the ORM and the database both refuse changes."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from inspect_app.audit.models import AuditEntry, AuditLogIsAppendOnly
from inspect_app.extensions import db


def test_orm_refuses_to_change_an_audit_entry(org):
    """Does changing an audit entry through the ORM raise before it reaches the database?"""
    entry = db.session.scalars(sa.select(AuditEntry)).first()
    entry.action = "tampered"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_orm_refuses_to_delete_an_audit_entry(org):
    """Does deleting an audit entry through the ORM raise?"""
    db.session.delete(db.session.scalars(sa.select(AuditEntry)).first())
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["UPDATE audit_entries SET action = 'x'",
                                       "DELETE FROM audit_entries"])
def test_database_refuses_raw_changes(org, statement):
    """Does the database itself refuse UPDATE and DELETE on the audit log?"""
    with pytest.raises(DBAPIError):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) > 0


def test_org_changes_record_who_when_and_before_after(org):
    """Does an org change from the command line name the CLI user and both states?"""
    from inspect_app.orgs.operations import update_unit

    update_unit(org["TS-LB-01"], {"name": "路北新名字"})
    db.session.commit()
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "org_unit.update"))
    assert entry.actor_name.startswith("cli")
    assert entry.before["name"] == "路北支行网点1" and entry.after["name"] == "路北新名字"
    assert entry.at is not None


def test_each_branch_reads_the_entries_of_its_own_units(app, client, api, demo):
    """Two branches on one system: does each branch's administrator and service manager read
    the entries about its own units and people (and those about the whole bank), none of the
    other branch's, and a result's contents only where they may read results?"""
    from inspect_app.auth.operations import create_user
    from inspect_app.auth.permissions import Role
    from inspect_app.demo.seed import DEMO_PASSWORD
    from inspect_app.orgs.models import OrgKind
    from inspect_app.orgs.operations import create_unit

    beijing = create_unit(kind=OrgKind.branch, code="BJ", name="北京分行")
    for username, role in (("bj.admin", Role.admin), ("bj.fwgl", Role.service_manager)):
        create_user(username=username, display_name=username, password=DEMO_PASSWORD,
                    grants=[(role, beijing)])
    db.session.commit()

    result = db.session.scalar(sa.select(AuditEntry.action).where(
        AuditEntry.object_type.in_(["inspection", "rectification_item", "photo"])).limit(1))
    assert result is not None  # the demo's work has audited results

    def entries(username: str, action: str = "") -> list[dict]:
        query = f"&action={action}" if action else ""
        body = client.get(f"/api/v1/audit-entries?per_page=500{query}",
                          headers=api(username)).get_json()
        assert body["total"] <= 500
        return body["items"]

    assert entries("admin", "user.create") and entries("admin", result)
    assert not any(e["object_id"] == str(beijing.id) for e in entries("admin", "org_unit.create"))
    for username in ("bj.admin", "bj.fwgl"):
        seen = entries(username)
        assert {e["org_path"] for e in seen} <= {None, beijing.path}, username
        assert ("org_unit.create", str(beijing.id)) in {(e["action"], e["object_id"])
                                                        for e in seen}
        assert entries(username, result) == [] and len(entries(username, "user.create")) == 2
    assert not any(e["contents_hidden"] for e in entries("fwgl", result))
    assert all(e["contents_hidden"] for e in entries("admin", result))
    # results about the whole bank (a watch-list evaluation): a branch's reader sees them
    evaluations = entries("fwgl", "watchlist.evaluate")
    assert evaluations and not any(e["contents_hidden"] for e in evaluations)
    assert all(e["contents_hidden"] for e in entries("admin", "watchlist.evaluate"))


def test_an_administrator_reads_what_a_watch_list_rules_change_was(client, api, demo):
    """The watch-list rules hold no inspection result: does an administrator read what their
    change was (before and after), not only that it happened — and is every type the log shows
    whole one that entries are written with?"""
    from inspect_app.audit.api import NOT_RESULTS

    rules = client.get("/api/v1/watchlist/rules", headers=api("fwgl")).get_json()
    changed = client.put("/api/v1/watchlist/rules", headers=api("fwgl"),
                         json={"rules": rules["rules"], "exit": rules["exit"],
                               "period_days": rules["period_days"], "note": "季度调整"})
    assert changed.status_code == 200, changed.get_json()
    body = client.get("/api/v1/audit-entries?action=watchlist_rules.update",
                      headers=api("admin")).get_json()
    assert body["items"] and not body["items"][0]["contents_hidden"], body
    assert body["items"][0]["after"] is not None
    written = set(db.session.scalars(sa.select(AuditEntry.object_type).distinct()))
    assert NOT_RESULTS - {"backup", "unknown"} <= written, NOT_RESULTS - written


@pytest.mark.parametrize("statement", ["UPDATE audit_entry_units SET org_path = '/9/'",
                                       "DELETE FROM audit_entry_units"])
def test_database_refuses_raw_changes_to_the_units_of_an_entry(org, statement):
    """The units an entry is about are part of it: does the database refuse changing them?"""
    entry = db.session.scalars(sa.select(AuditEntry)).first()
    db.session.execute(sa.text("INSERT INTO audit_entry_units (entry_id, org_path) "
                               "VALUES (:id, '/8/')"), {"id": entry.id})
    with pytest.raises(DBAPIError):
        db.session.execute(sa.text(statement))
    db.session.rollback()


def test_a_person_with_roles_in_two_branches_is_read_about_in_those_two_only(client, api, login,
                                                                          demo):
    """A shopper with roles in 唐山分行 and 北京分行: are the entries about them (their account,
    their sign-ins) read by the administrators of those two branches — and not by a third
    branch's, as if they were about the whole bank?"""
    from inspect_app.auth.operations import create_user
    from inspect_app.auth.permissions import Role
    from inspect_app.demo.seed import DEMO_PASSWORD
    from inspect_app.orgs.models import OrgKind, OrgUnit
    from inspect_app.orgs.operations import create_unit

    beijing = create_unit(kind=OrgKind.branch, code="BJ", name="北京分行")
    shanghai = create_unit(kind=OrgKind.branch, code="SH", name="上海分行")
    for code, unit in (("bj", beijing), ("sh", shanghai)):
        create_user(username=f"{code}.admin", display_name=code, password=DEMO_PASSWORD,
                    grants=[(Role.admin, unit)])
    lubei = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    shopper = create_user(username="smr.two", display_name="两地神秘人", password=DEMO_PASSWORD,
                          grants=[(Role.mystery_shopper, lubei), (Role.mystery_shopper, beijing)])
    db.session.commit()
    assert client.post("/api/v1/auth/token", json={"username": "smr.two",
                                                   "password": DEMO_PASSWORD}).status_code == 201

    def about_the_shopper(username: str) -> list[dict]:
        body = client.get(f"/api/v1/audit-entries?per_page=500&object_type=user"
                          f"&object_id={shopper.id}", headers=api(username)).get_json()
        return body["items"]

    for reader in ("admin", "bj.admin"):
        seen = about_the_shopper(reader)
        assert {e["action"] for e in seen} >= {"user.create", "auth.login"}, reader
        assert {(e["org_path"], tuple(e["org_paths"])) for e in seen} == {
            ("", tuple(sorted([lubei.path, beijing.path])))}
    assert about_the_shopper("sh.admin") == []
    for reader, reads in (("bj.admin", True), ("sh.admin", False)):  # 操作审计, as a page
        login(reader, DEMO_PASSWORD)
        page = client.get("/manage/audit?actor=smr.two").get_data(as_text=True)
        assert ("data-audit=" in page) is reads, reader


def test_the_audit_log_page_shows_what_the_api_shows(client, login, api, demo):
    """操作审计 as a page: does an administrator read the same entries as the API, newest
    first and a page at a time, filter them, and see a result's contents withheld — while the
    service manager sees them, and an inspector is refused?"""
    import re

    from inspect_app.demo.seed import DEMO_PASSWORD

    result = db.session.scalar(sa.select(AuditEntry.object_type).where(
        AuditEntry.object_type.in_(["inspection", "rectification_item", "photo"])).limit(1))
    listed = client.get(f"/api/v1/audit-entries?per_page=50&object_type={result}",
                        headers=api("admin")).get_json()
    login("admin", DEMO_PASSWORD)  # (itself audited: read the API's count after it)
    first = client.get("/manage/audit").get_data(as_text=True)
    everything = client.get("/api/v1/audit-entries?per_page=1", headers=api("admin")).get_json()
    assert f"共 {everything['total']} 条" in first
    ids = [int(i) for i in re.findall(r'data-audit="(\d+)"', first)]
    assert len(ids) == min(50, everything["total"]) and ids == sorted(ids, reverse=True)
    if everything["total"] > 50:
        second = client.get("/manage/audit?page=2").get_data(as_text=True)
        assert int(re.findall(r'data-audit="(\d+)"', second)[0]) < ids[-1]
    page = client.get(f"/manage/audit?object_type={result}").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'data-audit="(\d+)"', page)] == [
        e["id"] for e in listed["items"]]
    assert page.count("data-contents-hidden") == len(listed["items"])

    login("fwgl", DEMO_PASSWORD)
    manager = client.get(f"/manage/audit?object_type={result}").get_data(as_text=True)
    assert "data-contents-hidden" not in manager and "变更内容" in manager
    login("jc.lubei1", DEMO_PASSWORD)
    assert client.get("/manage/audit").status_code == 403


def test_the_api_filters_by_request_id_as_the_page_does(client, org, make_user, token_for):
    """Does GET /api/v1/audit-entries?request_id=… return only the entries that request wrote
    (as /manage/audit?request_id=… does), instead of ignoring the parameter and returning the
    whole log — and does the OpenAPI document name the parameter?"""
    from inspect_app.auth.permissions import Role

    make_user("admin", (Role.admin, "TS"))
    headers = token_for("admin")
    failed = client.post("/api/v1/auth/token", json={"username": "admin", "password": "Nope1234"},
                         headers={"X-Request-ID": "failed-sign-in-1"})
    assert failed.status_code == 401
    client.post("/api/v1/org-units", headers={**headers, "X-Request-ID": "new-outlet-1"},
                json={"kind": "outlet", "code": "TS-LB-09", "name": "新网点",
                      "parent_id": org["TS-LB"].id})
    body = client.get("/api/v1/audit-entries?request_id=failed-sign-in-1",
                      headers=headers).get_json()
    assert [(e["action"], e["request_id"]) for e in body["items"]] == [
        ("auth.login_failed", "failed-sign-in-1")] and body["total"] == 1
    assert client.get("/api/v1/audit-entries?request_id=nothing-such",
                      headers=headers).get_json()["total"] == 0
    parameters = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/audit-entries"][
        "get"]["parameters"]
    assert "request_id" in {p["name"] for p in parameters}


def _recorded_actions() -> tuple[set[str], list[str]]:
    """Every action the application's code passes to ``record``, read from its source: a
    literal, either side of a conditional, or an f-string whose blank is a parameter of the
    function around it, filled with a literal wherever that function is called in its module
    (``_audit("close", …)`` → ``rectification.close``). And where an action cannot be told."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "inspect_app"
    found: set[str] = set()
    unknown: list[str] = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {node.name: node for node in ast.walk(tree)
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        around = {child: node for node in functions.values() for child in ast.walk(node)}

        def values(node, call, where=path):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                return [node.value]
            if isinstance(node, ast.IfExp):
                return values(node.body, call) + values(node.orelse, call)
            if isinstance(node, ast.JoinedStr) and call in around:
                return filled(node, around[call])
            unknown.append(f"{where.relative_to(package)}:{call.lineno}")
            return []

        def filled(template, function):
            parameters = [a.arg for a in function.args.posonlyargs + function.args.args]
            blanks = [v.value.id for v in template.values if isinstance(v, ast.FormattedValue)]
            if len(blanks) != 1 or blanks[0] not in parameters:
                unknown.append(f"{path.relative_to(package)}:{template.lineno}")
                return []
            index = parameters.index(blanks[0])
            blank = next(i for i, v in enumerate(template.values)
                         if isinstance(v, ast.FormattedValue))
            prefix = "".join(v.value for v in template.values[:blank])
            suffix = "".join(v.value for v in template.values[blank + 1:])
            filled_in = []
            for call in ast.walk(tree):
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == function.name:
                    given = [k.value for k in call.keywords if k.arg == blanks[0]] or (
                        call.args[index:index + 1])
                    filled_in += [f"{prefix}{value}{suffix}"
                                  for value in values(given[0], call)] if given else []
            return filled_in

        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or not call.args:
                continue
            if "record" in (getattr(call.func, "id", None), getattr(call.func, "attr", None)):
                found.update(values(call.args[0], call))
    return found, unknown


def test_every_action_the_application_records_has_words():
    """Does every action passed to ``record`` anywhere in the application — rectification's
    ``f"rectification.{action}"`` included — have a label for 操作审计, and is every call's
    action one this test can read (a literal, not worked out at run time)?"""
    from inspect_app.audit.actions import ACTIONS

    found, unknown = _recorded_actions()
    assert unknown == [], "name the action literally, so its label can be checked"
    assert {"auth.login", "user.deactivate", "user.reactivate", "rectification.close",
            "rectification.reassign", "watchlist_rules.update", "backup.restore"} <= found
    assert sorted(found - ACTIONS.keys()) == []


def test_recording_an_action_without_words_warns(app):
    """An action missing from ACTIONS is still written (the log never loses a change), but
    does ``record`` warn — an error in the tests — so it does not reach 操作审计 unnamed?"""
    from inspect_app.audit.operations import record

    with pytest.warns(UserWarning, match="'thing.happened' has no label"):
        record("thing.happened", object_type="unknown", object_id=1)
    db.session.rollback()


def test_the_audit_log_names_each_action_in_words(client, login, api, demo):
    """操作审计 as the service manager: is each action said in words (登录, not auth.login),
    with its code beside it for those who search by it, are the actions to filter by a list of
    those words — and is an action with no words (written by an older version) shown, chosen
    and given by the API as its code?"""
    from inspect_app.demo.seed import DEMO_PASSWORD

    db.session.add(AuditEntry(action="legacy.thing", object_type="unknown", object_id="1",
                              actor_name="system"))
    db.session.commit()
    headers = api("fwgl")  # (before the session cookie, which the API's sign-in refuses)
    login("fwgl", DEMO_PASSWORD)
    page = client.get("/manage/audit?action=auth.login").get_data(as_text=True)
    assert '<strong title="auth.login">登录</strong> <code class="code">auth.login</code>' in page
    assert '<option value="auth.login" title="auth.login" selected>登录</option>' in page
    assert '<option value="inspection.reassign" title="inspection.reassign">改派检查</option>' \
        in page and 'placeholder="user.create"' not in page
    assert "data-audit=" in page and "<code>auth.login</code>" not in page
    legacy = client.get("/manage/audit?action=legacy.thing").get_data(as_text=True)
    assert '<strong title="legacy.thing">legacy.thing</strong>' in legacy
    assert '<option value="legacy.thing" selected>legacy.thing</option>' in legacy
    assert legacy.count("data-audit=") == 1

    def labels(action: str) -> set[str]:
        body = client.get(f"/api/v1/audit-entries?action={action}",
                          headers=headers).get_json()
        return {e["action_label"] for e in body["items"]}

    assert labels("auth.login") == {"登录"} and labels("legacy.thing") == {"legacy.thing"}


def test_the_audit_log_finds_a_person_by_their_name_or_a_part_of_it(client, login, demo):
    """操作审计 records the username: does ?actor= also find a person's entries by their name,
    or a part of their name or username — and the command line's by its exact name, while a
    name nobody has finds nothing?"""
    import re

    from inspect_app.auth.operations import create_user
    from inspect_app.auth.permissions import Role
    from inspect_app.demo.seed import DEMO_PASSWORD
    from inspect_app.orgs.models import OrgUnit

    lubei = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    tester = create_user(username="jc.audit_t", display_name="覃审计测试", password=DEMO_PASSWORD,
                         grants=[(Role.inspector, lubei)])
    db.session.commit()
    login("jc.audit_t", DEMO_PASSWORD)
    login("fwgl", DEMO_PASSWORD)
    theirs = db.session.scalar(sa.select(sa.func.count()).where(
        AuditEntry.actor_id == tester.id))
    created_by = db.session.scalar(sa.select(AuditEntry.actor_name).where(
        AuditEntry.action == "user.create", AuditEntry.object_id == str(tester.id)))
    assert theirs >= 1 and created_by.startswith("cli")

    def shown(actor: str) -> int:
        page = client.get("/manage/audit", query_string={"actor": actor}).get_data(as_text=True)
        return int(re.search(r"共 (\d+) 条", page).group(1))

    for actor in ("jc.audit_t", "覃审计测试", "审计测试", "audit_t", " 覃审计测试 "):
        assert shown(actor) == theirs, actor
    assert shown("jc.audit%") == 0  # a part is matched as written, not as a pattern
    assert shown(created_by) >= 1 and shown("覃审计测试某") == 0
    page = client.get("/manage/audit?actor=审计测试").get_data(as_text=True)
    assert '覃审计测试 <span class="code">jc.audit_t</span>' in page


def test_the_audit_log_says_each_change_field_by_field(client, login, demo):
    """A person's name changed: does 操作审计 show the entry's fields as a table — each field
    once, what it was and what it became, the changed one marked (and counted in the summary)
    and the rest plain — rather than two blocks of JSON to compare by eye? And a creation,
    which has no "before", only what was written?"""
    import re

    from inspect_app.auth.models import User
    from inspect_app.auth.operations import update_user
    from inspect_app.demo.seed import DEMO_PASSWORD

    person = db.session.scalar(sa.select(User).where(User.username == "jc.lubei1"))
    old_name = person.display_name
    update_user(person, {"display_name": "改名测试"})
    db.session.commit()
    login("fwgl", DEMO_PASSWORD)
    page = client.get("/manage/audit?action=user.update").get_data(as_text=True)
    entry = page.split('data-audit="', 2)[1]
    assert "改动 1 项" in entry and "<pre>" not in entry
    assert re.search(r'<tr class="changed"><th scope="row"><code>display_name</code>'
                     r'<span class="sr-only">（已改动）</span></th>'
                     rf"<td>{old_name}</td><td>改名测试</td></tr>", entry)
    assert re.search(r"<tr><th scope=\"row\"><code>username</code></th>"
                     r"<td>jc.lubei1</td><td>jc.lubei1</td></tr>", entry)
    assert entry.count('class="changed"') == 1

    created = client.get("/manage/audit?action=user.create").get_data(as_text=True)
    first = created.split('data-audit="', 2)[1]
    assert "<th scope=\"col\">变更后</th>" in first and "变更前" not in first
    assert 'class="changed"' not in first and "改动" not in first


def test_the_audit_log_says_in_english_what_was_done_not_what_to_do(app, client, login, api,
                                                                    demo):
    """登录 is a button ("Sign in") and an audit action: in English does the log say what was
    done ("Signed in", "Inspection submitted") on the page and in the API, while the sign-in
    page's button still says "Sign in"?"""
    from inspect_app.demo.seed import DEMO_PASSWORD

    headers = {**api("fwgl"), "Accept-Language": "en"}
    login("fwgl", DEMO_PASSWORD)
    page = client.get("/manage/audit?action=auth.login&lang=en").get_data(as_text=True)
    assert '<strong title="auth.login">Signed in</strong>' in page
    assert '<option value="inspection.submit" title="inspection.submit">Inspection submitted' \
        '</option>' in page
    assert '<option value="rectification.reject" title="rectification.reject">Fix sent back' \
        '</option>' in page
    body = client.get("/api/v1/audit-entries?action=auth.login", headers=headers).get_json()
    assert {e["action_label"] for e in body["items"]} == {"Signed in"}
    sign_in_page = app.test_client().get("/login?lang=en").get_data(as_text=True)
    assert ">Sign in</button>" in sign_in_page and "Signed in" not in sign_in_page


def test_a_text_said_in_two_places_is_translated_for_each(app, client, login, demo):
    """验收通过 is a fix's state and the button that accepts one; 退回修改 an inspection's
    state and the button that returns it; 人员 the people tab and one person in the audit log:
    does English say each as its place needs, while Chinese stays the same text?"""
    import re

    from flask_babel import force_locale

    from inspect_app.demo.seed import DEMO_PASSWORD
    from inspect_app.i18n import translated
    from inspect_app.inspections.models import InspectionStatus
    from inspect_app.pwa.strings import translated_strings
    from inspect_app.rectification.models import ClosedReason

    with app.test_request_context("/"):
        with force_locale("en"):
            strings = translated_strings()
            assert (strings["accept_fix"], translated(ClosedReason.accepted.label)) == (
                "Accept", "Accepted")
            assert (strings["review_return"], translated(InspectionStatus.returned.label)) == (
                "Return for correction", "Returned for changes")
        with force_locale("zh"):
            assert translated_strings()["accept_fix"] == ClosedReason.accepted.label == "验收通过"
    login("fwgl", DEMO_PASSWORD)
    page = client.get("/manage/audit?object_type=user&lang=en").get_data(as_text=True)
    assert re.search(r'<span class="tag">Person \d+</span>', page)
    assert '<option value="user" selected>Person</option>' in page
