"""人员管理 as pages: an administrator adds a person, gives and takes roles, sets a new password
(lifting a lockout) and deactivates — by the API's rules, audited; readers only read."""
from __future__ import annotations

import re

import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.auth.models import User
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.orgs.models import OrgUnit


def _post(client, url: str, form: dict):
    with client.session_transaction() as sess:
        token = sess["csrf"]
    return client.post(url, data={**form, "csrf_token": token})


def _person(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def _unit(code: str) -> int:
    return db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code))


def test_an_administrator_adds_a_person_who_can_then_sign_in(app, client, login, demo):
    """Does 添加人员 refuse a weak password (422, what was typed kept, nobody created), then
    create the person with their role — audited — so that they can sign in?"""
    login("admin", DEMO_PASSWORD)
    form = {"username": "li.na", "display_name": "李娜", "password": "short",
            "role": "inspector", "org_unit_id": str(_unit("TS-LB"))}
    refused = _post(client, "/manage/people", form)
    assert refused.status_code == 422
    assert "密码至少 8 位" in refused.get_data(as_text=True)
    assert 'value="李娜"' in refused.get_data(as_text=True) and _person("li.na") is None
    created = _post(client, "/manage/people", {**form, "password": "Start2026x"})
    assert created.status_code == 302
    person = _person("li.na")
    assert [(g.role.value, g.org_unit.code) for g in person.grants] == [("inspector", "TS-LB")]
    assert db.session.scalar(sa.select(AuditEntry.actor_name).where(
        AuditEntry.action == "user.create", AuditEntry.object_id == str(person.id))) == "admin"
    phone = app.test_client()
    assert phone.post("/api/v1/auth/token", json={"username": "li.na",
                                                  "password": "Start2026x"}).status_code == 201


def test_a_new_password_lifts_a_lockout_and_roles_come_and_go(app, client, login, demo):
    """A locked-out inspector: does the person page show the lock, does 设置新密码 lift it (the
    new password signs in), do roles come and go — never the last — and does 停用 need its box
    ticked?"""
    phone = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        phone.post("/api/v1/auth/token", json={"username": "jc.lubei1", "password": "Wrong2026x"})
    person = _person("jc.lubei1")
    login("admin", DEMO_PASSWORD)
    url = f"/manage/people/{person.id}"
    assert "data-locked" in client.get(url).get_data(as_text=True)
    listed = client.get("/manage/people?q=jc.lubei1").get_data(as_text=True)
    assert f'data-person="{person.id}"' in listed and "data-locked" in listed

    done = _post(client, f"{url}/password", {"password": "Fresh2026ab"})
    assert done.status_code == 303 and "data-locked" not in client.get(url).get_data(as_text=True)
    assert phone.post("/api/v1/auth/token", json={"username": "jc.lubei1",
                                                  "password": "Fresh2026ab"}).status_code == 201

    added = _post(client, f"{url}/roles", {"role": "subbranch_manager",
                                           "org_unit_id": str(_unit("TS-LB"))})
    assert added.status_code == 303
    grants = {g.role.value: g.id for g in _person("jc.lubei1").grants}
    assert set(grants) == {"inspector", "subbranch_manager"}
    assert _post(client, f"{url}/roles/{grants['subbranch_manager']}/remove", {}
                 ).status_code == 303
    last = _post(client, f"{url}/roles/{grants['inspector']}/remove", {})
    assert last.status_code == 422 and "至少需要一个角色" in last.get_data(as_text=True)
    assert [g.role.value for g in _person("jc.lubei1").grants] == ["inspector"]

    unticked = _post(client, f"{url}/active", {"active": "0"})
    assert unticked.status_code == 422 and _person("jc.lubei1").is_active
    assert _post(client, f"{url}/active", {"active": "0", "confirm": "yes"}).status_code == 303
    assert not _person("jc.lubei1").is_active
    assert "jc.lubei1" not in client.get("/manage/people").get_data(as_text=True)
    assert "jc.lubei1" in client.get("/manage/people?all=1").get_data(as_text=True)


def test_a_change_made_goes_back_to_the_persons_page(client, login, demo):
    """设置新密码, 增加角色, 取消角色, 停用 and 重新启用 done: is the browser sent to the person's
    page (303, so a reload posts nothing again), which says once what was done? And does each
    form's address opened as a page — a refused form reloaded or reopened — lead there too,
    rather than to 405?"""
    person = _person("jc.lubei1")
    login("admin", DEMO_PASSWORD)
    url = f"/manage/people/{person.id}"

    def said(path: str, form: dict) -> list[str]:
        """What the person's page says after the post (and nothing more when reloaded)."""
        response = _post(client, f"{url}{path}", form)
        assert response.status_code == 303, (path, response.get_data(as_text=True)[:300])
        assert response.headers["Location"] == url, path
        flashed = re.compile(r'<p class="flash" role="status">([^<]*)</p>')
        shown = flashed.findall(client.get(url).get_data(as_text=True))
        assert flashed.findall(client.get(url).get_data(as_text=True)) == [], path
        return shown

    assert said("/password", {"password": "Fresh2026ab"}) == [
        "已设置新密码：此人在所有设备上的登录已结束，锁定已解除。"]
    assert said("/roles", {"role": "subbranch_manager",
                           "org_unit_id": str(_unit("TS-LB"))}) == ["已增加角色"]
    grant = next(g.id for g in _person("jc.lubei1").grants if g.role.value == "subbranch_manager")
    assert said(f"/roles/{grant}/remove", {}) == ["已取消角色"]
    assert said("/active", {"active": "0", "confirm": "yes"}) == ["已停用：此人不能再登录。"]
    assert said("/active", {"active": "1", "confirm": "yes"}) == ["已重新启用"]

    refused = _post(client, f"{url}/password", {"password": "abc"})
    assert refused.status_code == 422 and 'role="alert"' in refused.get_data(as_text=True)
    for path in ("/password", "/active", "/roles", f"/roles/{grant}/remove"):
        opened = client.get(f"{url}{path}")
        assert opened.status_code == 303 and opened.headers["Location"] == url, path


def test_a_peer_team_member_is_not_made_a_mystery_shopper_on_the_page(client, login, demo):
    """增加角色 神秘人 for an inspector of a peer-check team: does the page refuse it (422, with
    the API's reason, not an error page), leaving their roles as they were?"""
    person = _person("jc.lubei1")  # of the demo's 路北 peer-check team
    login("admin", DEMO_PASSWORD)
    refused = _post(client, f"/manage/people/{person.id}/roles",
                    {"role": "mystery_shopper", "org_unit_id": str(_unit("TS"))})
    assert refused.status_code == 422
    assert f"{person.display_name}是神秘人，不能加入检查组" in refused.get_data(as_text=True)
    assert [g.role.value for g in _person("jc.lubei1").grants] == ["inspector"]


def test_a_service_manager_reads_people_but_changes_nothing(client, login, demo):
    """A service manager (users.read) lists people and opens a person, with no forms — and a
    post is refused with nothing changed; an inspector does not get the pages at all."""
    person = _person("jc.lubei1")
    login("fwgl", DEMO_PASSWORD)
    listed = client.get("/manage/people").get_data(as_text=True)
    assert re.search(rf'data-person="{person.id}"', listed) and "add-person" not in listed
    page = client.get(f"/manage/people/{person.id}").get_data(as_text=True)
    assert "set-password" not in page and "add-role" not in page
    refused = _post(client, f"/manage/people/{person.id}/password", {"password": "Fresh2026ab"})
    assert refused.status_code == 403 and _person("jc.lubei1").check_password(DEMO_PASSWORD)
    login("jc.lubei1", DEMO_PASSWORD)
    assert client.get("/manage/people").status_code == 403


def test_a_managers_role_goes_with_its_kind_of_unit(app, client, login, api, runner, demo):
    """网点负责人 granted at the whole branch would read and fix for every outlet of it: is a
    manager's role refused at another kind of unit (the page, the API, the CLI) with nobody
    created, and does the unit list start empty instead of on the branch?"""
    admin_api = api("admin")  # a token first: the signed-in client would need a CSRF token
    login("admin", DEMO_PASSWORD)
    page = client.get("/manage/people").get_data(as_text=True)
    assert re.search(r'<select name="org_unit_id" required><option value="">请选择</option>',
                     page)
    form = {"username": "wang.wu", "display_name": "王五", "password": "Start2026x",
            "role": "outlet_manager", "org_unit_id": str(_unit("TS"))}
    refused = _post(client, "/manage/people", form)
    assert refused.status_code == 422
    assert "网点负责人角色只能授予网点" in refused.get_data(as_text=True)
    assert _person("wang.wu") is None
    body = {"username": "wang.wu", "display_name": "王五", "password": "Start2026x",
            "grants": [{"role": "subbranch_manager", "org_unit_id": _unit("TS-LB-01")}]}
    answer = app.test_client().post("/api/v1/users", json=body, headers=admin_api)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "role_unit_mismatch"
    assert answer.get_json()["error"]["message"] == "支行负责人角色只能授予支行"
    result = runner.invoke(args=["users", "add", "wang.wu", "--name", "王五",
                                 "--role", "service_manager@TS-LB", "--password", "Start2026x"])
    assert result.exit_code != 0 and "服务管理（分行）角色只能授予分行" in result.output
    assert _person("wang.wu") is None
    # at the right kind of unit, all is well
    done = _post(client, "/manage/people", {**form, "org_unit_id": str(_unit("TS-LB-01"))})
    assert done.status_code == 302
    assert [(g.role.value, g.org_unit.code) for g in _person("wang.wu").grants] == [
        ("outlet_manager", "TS-LB-01")]


def test_every_person_is_reached_a_page_at_a_time(client, login, monkeypatch, demo):
    """A branch has more people than one page holds: does 人员管理 say how many there are and
    reach each of them a page at a time (a search and 包括已停用 kept across pages), instead
    of stopping silently after the first few hundred?"""
    from inspect_app.auth.people import PER_PAGE

    login("admin", DEMO_PASSWORD)
    active = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.is_active.is_(True)))
    assert active > PER_PAGE  # the demo's branch needs a second page
    first = client.get("/manage/people").get_data(as_text=True)
    assert f"共 {active} 人" in first
    pages = -(-active // PER_PAGE)
    seen = []
    for number in range(1, pages + 1):
        page = client.get(f"/manage/people?page={number}").get_data(as_text=True)
        assert f"第 {number} / {pages} 页" in page
        seen += re.findall(r'<li data-person="(\d+)">', page)
    assert len(seen) == len(set(seen)) == active
    searched = client.get("/manage/people?q=jc&all=1").get_data(as_text=True)
    count = int(re.search(r"共 (\d+) 人", searched).group(1))
    assert count == db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        sa.or_(User.username.ilike("%jc%"), User.display_name.ilike("%jc%"))))
    monkeypatch.setattr("inspect_app.auth.people.PER_PAGE", 5)
    assert count > 5
    searched = client.get("/manage/people?q=jc&all=1").get_data(as_text=True)
    assert 'href="/manage/people?page=2&amp;q=jc&amp;all=1"' in searched


def test_a_sub_branch_manager_never_learns_who_visits_covertly(client, login, api, demo):
    """A shopper granted at the sub-branch, and one of its inspectors who is also a shopper for
    the branch: does the sub-branch manager (users.read) find neither shopper role — not in the
    API's list (even asking for role=mystery_shopper), not one by one, not on the pages — the
    first person not at all and the inspector as an inspector only, while the service manager
    and the administrator still see both roles?"""
    from inspect_app.auth.operations import create_user
    from inspect_app.auth.permissions import Role

    def unit(code):
        return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))

    shopper = create_user(username="smr.lb", display_name="李秘访", password=DEMO_PASSWORD,
                          grants=[(Role.mystery_shopper, unit("TS-LB"))])
    both = create_user(username="jc.both", display_name="赵双岗", password=DEMO_PASSWORD,
                       grants=[(Role.inspector, unit("TS-LB")), (Role.mystery_shopper, unit("TS"))])
    db.session.commit()

    def roles(user: dict) -> set[str]:
        return {f"{g['role']}@{g['org_unit_code']}" for g in user["grants"]}

    # tokens first: the signed-in client would need a CSRF token
    headers, readers = api("zh.lubei"), {name: api(name) for name in ("fwgl", "admin")}
    covert = client.get("/api/v1/users?role=mystery_shopper&per_page=200", headers=headers)
    assert covert.status_code == 200 and covert.get_json()["items"] == []
    listed = {u["username"]: roles(u) for u in client.get(
        "/api/v1/users?per_page=200", headers=headers).get_json()["items"]}
    assert "smr.lb" not in listed and listed["jc.both"] == {"inspector@TS-LB"}
    assert client.get(f"/api/v1/users/{shopper.id}", headers=headers).status_code == 404
    assert roles(client.get(f"/api/v1/users/{both.id}", headers=headers).get_json()) == {
        "inspector@TS-LB"}
    login("zh.lubei", DEMO_PASSWORD)
    page = client.get("/manage/people?q=李").get_data(as_text=True)
    assert f'data-person="{shopper.id}"' not in page and "神秘人" not in page
    assert client.get(f"/manage/people/{shopper.id}").status_code == 404
    page = client.get(f"/manage/people/{both.id}").get_data(as_text=True)
    assert "赵双岗" in page and "神秘人" not in page
    for username, reader in readers.items():
        listed = {u["username"]: roles(u) for u in client.get(
            "/api/v1/users?role=mystery_shopper&per_page=200", headers=reader).get_json()["items"]}
        assert listed["smr.lb"] == {"mystery_shopper@TS-LB"}, username
        assert listed["jc.both"] == {"inspector@TS-LB", "mystery_shopper@TS"}, username


def test_the_deactivate_button_says_what_it_does_in_english(client, login, demo):
    """In English, does the button that deactivates an account say so — not "Retire", the word
    for taking a checklist version out of use — and in Chinese still say 停用?"""
    person = _person("jc.lubei1")
    login("admin", DEMO_PASSWORD)
    page = client.get(f"/manage/people/{person.id}?lang=en").get_data(as_text=True)
    card = page[page.index('id="activity"'):]
    button = re.search(r'<button type="submit"[^>]*>([^<]*)</button>', card).group(1)
    assert button == "Deactivate the account"
    page = client.get(f"/manage/people/{person.id}?lang=zh").get_data(as_text=True)
    card = page[page.index('id="activity"'):]
    assert "停用" in re.search(r'<button type="submit"[^>]*>([^<]*)</button>', card).group(1)


def test_the_role_field_says_role_and_the_list_of_roles_says_roles_in_english(client, login,
                                                                              demo):
    """角色 is both the heading over a person's roles ("Roles") and the field that grants one
    ("Role"): does English say each, on the person's page, the add-a-person form and its
    refusal, while Chinese says 角色 everywhere?"""
    person = _person("jc.lubei1")
    login("admin", DEMO_PASSWORD)
    page = client.get(f"/manage/people/{person.id}?lang=en").get_data(as_text=True)
    assert "<h2>Roles</h2>" in page
    assert '<label>Role<select name="role"' in page
    page = client.get("/manage/people").get_data(as_text=True)
    assert '<label>Role<select name="role"' in page
    refused = _post(client, "/manage/people", {"username": "wang.wu", "display_name": "王五",
                                               "password": "Start2026x",
                                               "org_unit_id": str(_unit("TS-LB-01"))})
    assert refused.status_code == 422
    assert re.search(r"Role: [A-Z]", refused.get_data(as_text=True))
    page = client.get(f"/manage/people/{person.id}?lang=zh").get_data(as_text=True)
    assert "<h2>角色</h2>" in page and '<label>角色<select name="role"' in page
