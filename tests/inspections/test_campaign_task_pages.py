"""A campaign's open assignments on its page, and one assignment's own page: the service
manager reassigns (改派), reschedules (改期) or cancels (取消) it with a reason, as the API does."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.auth.models import RoleGrant, User
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections.models import Inspection, InspectionStatus, InspectionTeam, Mode
from inspect_app.inspections.views import TASKS_PER_PAGE
from inspect_app.orgs.models import OrgUnit

from ..conftest import mid_quarter_fortnight, this_quarter


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _post(client, url: str, form: dict):
    with client.session_transaction() as sess:
        token = sess["csrf"]
    return client.post(url, data={**form, "csrf_token": token})


def _url(task: Inspection, action: str | None = None) -> str:
    url = f"/manage/campaigns/{task.campaign_id}/tasks/{task.id}"
    return f"{url}/{action}" if action else url


def _state(task: Inspection) -> tuple:
    """What a refused form must leave as it was: the task and the audit log."""
    db.session.expire_all()
    task = db.session.get(Inspection, task.id)
    audited = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.object_type == "inspection", AuditEntry.object_id == str(task.id)))
    return (task.status, task.assignee_id, task.team_id, task.due_start, task.due_end,
            task.version, audited)


def _audit(task: Inspection, action: str) -> AuditEntry | None:
    return db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.object_id == str(task.id)))


@pytest.fixture
def manager(client, login, campaign):
    """The service manager, signed in on the pages, with the API-planned campaign."""
    login("fwgl", DEMO_PASSWORD)
    return campaign


def test_the_campaign_page_lists_each_modes_open_tasks(client, manager, first):
    """Does each mode list its open tasks (outlet, who, window, state) linking to the task's
    page — not a submitted one — page by page, and find them by outlet name?"""
    spot = first("spot_check")
    done = db.session.scalars(sa.select(Inspection).where(
        Inspection.campaign_id == manager["id"], Inspection.mode == Mode.spot_check)
        .order_by(Inspection.id.desc())).first()
    done.status = InspectionStatus.submitted
    db.session.commit()
    page = client.get(f"/manage/campaigns/{manager['id']}").get_data(as_text=True)
    spot_list = page.split('id="tasks-spot_check"')[1].split("</section>")[0]
    links = re.findall(r'href="/manage/campaigns/\d+/tasks/(\d+)"', spot_list)
    assert str(spot.id) in links and str(done.id) not in links and len(links) == 7
    start, end = this_quarter()  # the campaign's period: a spot check's window
    assert spot.assignee.display_name in spot_list and f"{start} 至 {end}" in spot_list
    assert "待检查" in spot_list
    mystery = first("mystery_visit")
    assert mystery.assignee.display_name in page.split('id="tasks-mystery_visit"')[1]
    # a peer check is its team's: each one listed names it (soonest due first, then by outlet
    # code: the first planned, whose outlet the draw picks, may well be on a later page)
    peer_list = page.split('id="tasks-peer_check"')[1].split("</section>")[0]
    entries = peer_list.split("<li>")[1:]
    assert len(entries) == TASKS_PER_PAGE, "the demo should have more peer checks than a page"
    for entry in entries:
        peer = db.session.get(Inspection, int(re.search(r'/tasks/(\d+)"', entry).group(1)))
        assert peer.mode is Mode.peer_check and peer.team.name in entry, entry

    self_checks = db.session.scalar(sa.select(sa.func.count()).select_from(Inspection).where(
        Inspection.campaign_id == manager["id"], Inspection.mode == Mode.self_check))
    assert self_checks > TASKS_PER_PAGE, "the demo should have more self-checks than a page"
    own = page.split('id="tasks-self_check"')[1].split("</section>")[0]
    pages = -(-self_checks // TASKS_PER_PAGE)
    assert len(re.findall(r"/tasks/\d+\"", own)) == TASKS_PER_PAGE
    assert f"第 1 / {pages} 页" in own
    last = client.get(f"/manage/campaigns/{manager['id']}?mode=self_check&page={pages}") \
        .get_data(as_text=True).split('id="tasks-self_check"')[1].split("</section>")[0]
    assert len(re.findall(r"/tasks/\d+\"", last)) == self_checks - TASKS_PER_PAGE * (pages - 1)
    assert "上一页" in last and "下一页" not in last

    found = client.get(f"/manage/campaigns/{manager['id']}?q={spot.outlet.name}") \
        .get_data(as_text=True)
    spot_found = found.split('id="tasks-spot_check"')[1].split("</section>")[0]
    assert re.findall(r"/tasks/(\d+)\"", spot_found) == [str(spot.id)]
    nothing = client.get(f"/manage/campaigns/{manager['id']}?q=不存在的网点").get_data(
        as_text=True)
    assert "没有符合条件的未完成任务" in nothing


def test_an_open_task_past_its_window_is_marked_overdue(client, manager, first):
    """Does the campaign page mark the open tasks whose window has passed 已逾期 — and only
    those?"""
    spot = first("spot_check")
    spot.due_start, spot.due_end = local_today() - timedelta(days=9), local_today() - timedelta(days=2)
    db.session.commit()
    page = client.get(f"/manage/campaigns/{manager['id']}").get_data(as_text=True)
    marked = {int(i) for i in re.findall(r'data-overdue="(\d+)">已逾期<', page)}
    listed = {int(i) for i in re.findall(r'href="/manage/campaigns/\d+/tasks/(\d+)"', page)}
    past = set(db.session.scalars(sa.select(Inspection.id).where(
        Inspection.id.in_(listed), Inspection.due_end < local_today())))  # the bank's today
    assert spot.id in marked and marked == past and listed - past


def test_a_manager_reassigns_reschedules_and_cancels_a_task(client, manager, first):
    """On a spot check's page, are only the branch's inspectors offered; do reassigning,
    moving the window and cancelling each take effect, say so, and go to the audit log with
    the reason — and does a cancelled task leave the list?"""
    task = first("spot_check")
    other = "jc.fenhang2" if task.assignee.username == "jc.fenhang1" else "jc.fenhang1"
    page = client.get(_url(task)).get_data(as_text=True)
    offered = re.findall(r'<option value="(\d+)"', page)
    assert sorted(offered) == sorted(str(_user(name).id) for name in ("jc.fenhang1",
                                                                        "jc.fenhang2"))
    assert "（当前）" in page and 'name="csrf_token"' in page

    response = _post(client, _url(task, "reassign"), {
        "assignee_id": str(_user(other).id), "reason": "原检查员休假"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/manage/campaigns/{manager['id']}#tasks-spot_check")
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"已改派：{task.outlet.name} → {_user(other).display_name}" in shown
    db.session.expire_all()
    assert db.session.get(Inspection, task.id).assignee_id == _user(other).id
    entry = _audit(task, "inspection.reassign")
    assert entry.reason == "原检查员休假" and entry.after["assignee_id"] == _user(other).id
    assert entry.actor_name and entry.actor_id == _user("fwgl").id

    due_start, due_end = mid_quarter_fortnight()
    response = _post(client, _url(task, "reschedule"), {
        "due_start": due_start.isoformat(), "due_end": due_end.isoformat(),
        "reason": "配合网点装修"})
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(Inspection, task.id)
    assert (moved.due_start, moved.due_end) == (due_start, due_end)
    assert _audit(task, "inspection.reschedule").reason == "配合网点装修"
    assert f"{due_start} 至 {due_end}" in client.get(
        f"/manage/campaigns/{manager['id']}").get_data(as_text=True)

    response = _post(client, _url(task, "cancel"), {"reason": "网点停业", "confirm": "yes"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Inspection, task.id).status is InspectionStatus.cancelled
    assert _audit(task, "inspection.cancel").reason == "网点停业"
    after = client.get(f"/manage/campaigns/{manager['id']}").get_data(as_text=True)
    assert f"/tasks/{task.id}\"" not in after
    closed = client.get(_url(task)).get_data(as_text=True)
    assert "不能再改派、改期或取消" in closed and 'name="reason"' not in closed
    assert '<p id="task-cancel-reason">已取消：网点停业</p>' in closed  # why, for whoever asks


def _pairs(campaign_id: int, *, leaving_out: int | None = None) -> set[tuple[int, int]]:
    """The (inspecting, inspected) sub-branch pairs of a campaign's peer checks now."""
    return {(task.team.subbranch_id, task.outlet.parent_id) for task in db.session.scalars(
        sa.select(Inspection).where(Inspection.campaign_id == campaign_id,
                                    Inspection.mode == Mode.peer_check,
                                    Inspection.status != InspectionStatus.cancelled))
        if task.id != leaving_out}


def test_a_peer_check_goes_only_to_a_team_that_keeps_the_pairing_rules(client, manager, first):
    """Does a peer check's page offer teams only — never the inspected outlet's own
    sub-branch's, nor one whose sub-branch the outlet's sub-branch inspects in this cycle
    (an A↔B swap) — and is such a team refused if posted anyway, with nothing written?"""
    task = first("peer_check")
    teams = db.session.scalars(sa.select(InspectionTeam)).all()
    own = next(t for t in teams if task.outlet.is_within(t.subbranch))
    inspected = task.outlet.parent_id
    others = _pairs(task.campaign_id, leaving_out=task.id)
    swapping = [t for t in teams if (inspected, t.subbranch_id) in others]
    assert swapping  # every sub-branch inspects another one in the demo's cycles
    page = client.get(_url(task)).get_data(as_text=True)
    assert 'name="team_id"' in page and 'name="assignee_id"' not in page
    offered = set(re.findall(r'<option value="(\d+)"', page))
    assert str(own.id) not in offered and not offered & {str(t.id) for t in swapping}
    assert offered == {str(t.id) for t in teams if t is not own and t not in swapping}
    before = _state(task)
    response = _post(client, _url(task, "reassign"), {"team_id": str(own.id),
                                                      "reason": "试图本支行互查"})
    assert response.status_code == 422
    assert "互查不能检查本支行的网点" in response.get_data(as_text=True)
    response = _post(client, _url(task, "reassign"), {"team_id": str(swapping[0].id),
                                                      "reason": "试图让两个支行互查"})
    assert response.status_code == 422
    assert "在同一轮内互查" in response.get_data(as_text=True)
    assert _state(task) == before
    elsewhere = next(t for t in teams if str(t.id) in offered and t.id != task.team_id)
    response = _post(client, _url(task, "reassign"), {"team_id": str(elsewhere.id),
                                                      "reason": "原检查组人手不足"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Inspection, task.id).team_id == elsewhere.id


def test_the_pair_table_shows_the_pairs_the_tasks_make_after_a_reassignment(client, api,
                                                                            manager, first):
    """The campaign's 互查 table (检查方 / 被检查方 / 网点数): once a peer check is given to a
    team of another sub-branch, does it count that outlet under the new pair and no more under
    the old one — on the page and in the API — while the plan keeps what was drawn?"""
    task = first("peer_check")
    old = (task.team.subbranch_id, task.outlet.parent_id)
    page = client.get(_url(task)).get_data(as_text=True)
    new_team = next(t for t in db.session.scalars(sa.select(InspectionTeam))
                    if f'<option value="{t.id}"' in page and t.subbranch_id != old[0])
    new = (new_team.subbranch_id, task.outlet.parent_id)

    def counted(campaign: dict) -> dict:
        return {(a, b): n for a, b, n in campaign["peer_pairs"]}

    drawn = {(a, b): n for a, b, n in manager["plan"]["peer_check"]["pairs"]}
    assert counted(manager) == drawn
    response = _post(client, _url(task, "reassign"), {"team_id": str(new_team.id),
                                                      "reason": "原检查组人手不足"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    now = client.get(f"/api/v1/campaigns/{manager['id']}", headers=api("fwgl")).get_json()
    assert counted(now).get(old, 0) == drawn[old] - 1
    assert counted(now)[new] == drawn.get(new, 0) + 1
    assert {(a, b): n for a, b, n in now["plan"]["peer_check"]["pairs"]} == drawn
    names = dict(db.session.execute(sa.select(OrgUnit.id, OrgUnit.name)).all())
    table = client.get(f"/manage/campaigns/{manager['id']}").get_data(as_text=True)
    table = table[table.index('class="data pairs"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td class=\"num\">(\d+)</td></tr>",
                      table)
    assert {(a, b): int(n) for a, b, n in rows} == {
        (names[a], names[b]): n for (a, b), n in counted(now).items()}


def test_refused_forms_say_why_and_change_nothing(client, manager, first):
    """A window ending before it starts, someone who may not do a spot check, no reason, no
    confirmation, an unreadable date: is each refused with its reason (4xx), the entered
    values kept, and nothing written?"""
    task = first("spot_check")
    before = _state(task)
    cases = [
        ("reschedule", {"due_start": "2026-12-10", "due_end": "2026-12-01", "reason": "改期"},
         422, "结束日期不能早于开始日期"),
        ("reschedule", {"due_start": "明天", "due_end": "2026-12-01", "reason": "改期"},
         422, "开始日期：日期格式不正确"),
        ("reassign", {"assignee_id": str(_user("wd.lb01").id), "reason": "交给网点负责人"},
         422, "不能执行抽查任务"),
        ("reassign", {"assignee_id": "999999", "reason": "交给不存在的人"}, 422, "该人员不存在"),
        ("reassign", {"assignee_id": str(_user("jc.fenhang2").id), "reason": " "},
         422, "原因：请填写原因"),
        ("reassign", {"reason": "没有选人"}, 422, "请指定一名检查人员或一个检查组"),
        ("cancel", {"reason": "网点停业"}, 422, "确认取消：请先勾选确认"),
        ("cancel", {"confirm": "yes"}, 422, "原因：请填写原因"),
    ]
    for action, form, status, reason in cases:
        response = _post(client, _url(task, action), form)
        text = response.get_data(as_text=True)
        assert response.status_code == status, (action, form, text[:300])
        assert reason in text, (action, form)
        assert 'role="alert"' in text
        assert _state(task) == before, (action, form)
    response = _post(client, _url(task, "reschedule"), {
        "due_start": "2026-12-10", "due_end": "2026-12-01", "reason": "想改到月底"})
    kept = response.get_data(as_text=True)
    assert 'value="2026-12-10"' in kept and "想改到月底" in kept


def test_a_refused_form_reloaded_or_reopened_is_the_tasks_page(client, manager, first):
    """A refused 改期 is shown at the form's address: opened as a page (reopened, or from the
    history), does it — and the 改派 and 取消 addresses — lead to the assignment's page rather
    than to 405, changing nothing?"""
    task = first("spot_check")
    before = _state(task)
    refused = _post(client, _url(task, "reschedule"), {
        "due_start": "2026-12-10", "due_end": "2026-12-01", "reason": "改期"})
    assert refused.status_code == 422
    for action in ("reschedule", "reassign", "cancel"):
        opened = client.get(_url(task, action))
        assert opened.status_code == 303, action
        assert opened.headers["Location"] == _url(task), action
    assert client.get(_url(task)).status_code == 200
    assert _state(task) == before


def test_a_submitted_task_cannot_be_moved(client, manager, first):
    """Once submitted, does the task's page offer no form but a link to the result, and is
    each action refused (409) with the reason and nothing written?"""
    task = first("spot_check")
    task.status = InspectionStatus.submitted
    db.session.commit()
    page = client.get(_url(task)).get_data(as_text=True)
    assert "该任务已提交，不能再改派、改期或取消。" in page and "<form method=\"post\" action=\"" \
        f"/manage/campaigns/{manager['id']}/tasks" not in page
    assert f'href="/results/{task.id}" id="task-result"' in page  # where it is reviewed
    before = _state(task)
    for action, form, reason in (
            ("reassign", {"assignee_id": str(task.assignee_id), "reason": "改派"}, "已提交的检查不能改派"),
            ("reschedule", {"due_start": "2026-11-01", "due_end": "2026-11-30", "reason": "改期"},
             "已提交的检查不能改期"),
            ("cancel", {"reason": "取消", "confirm": "yes"}, "已提交的检查不能取消")):
        response = _post(client, _url(task, action), form)
        assert response.status_code == 409, action
        assert reason in response.get_data(as_text=True)
        assert _state(task) == before, action


def test_a_task_sent_back_whose_inspector_left_goes_to_another(client, api, login, campaign,
                                                               first):
    """A spot check is sent back for correction (退回修改), then its inspector leaves and is
    deactivated. Is the task still in the campaign's list, and may the manager give it to
    another inspector, who then corrects and resubmits it — rather than nobody ever being able
    to, its findings held back from the outlet for good? It may not be moved or cancelled."""
    from ..helpers import filler_of, submit_filled

    task = first("spot_check")
    who = filler_of(task)
    other = "jc.fenhang2" if who == "jc.fenhang1" else "jc.fenhang1"
    tokens = {name: api(name) for name in (who, other, "fwgl")}  # before signing in (CSRF)
    assert submit_filled(client, tokens[who], task.id).status_code == 200
    assert client.post(f"/api/v1/inspections/{task.id}/return", headers=tokens["fwgl"],
                       json={"reason": "请补充照片"}).status_code == 200
    _user(who).is_active = False
    db.session.commit()
    login("fwgl", DEMO_PASSWORD)

    listed = client.get(f"/manage/campaigns/{campaign['id']}").get_data(as_text=True)
    assert f"/tasks/{task.id}\"" in listed
    page = client.get(_url(task)).get_data(as_text=True)
    assert 'id="task-returned"' in page
    assert re.findall(r'<option value="(\d+)"', page) == [str(_user(other).id)]
    assert _url(task, "reschedule") not in page and _url(task, "cancel") not in page
    before = _state(task)
    assert _post(client, _url(task, "cancel"), {"reason": "离职", "confirm": "yes"}
                 ).status_code == 409
    assert _state(task) == before

    response = _post(client, _url(task, "reassign"), {
        "assignee_id": str(_user(other).id), "reason": "原检查员离职"})
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(Inspection, task.id)
    assert (moved.assignee_id, moved.status) == (_user(other).id, InspectionStatus.returned)
    assert _audit(task, "inspection.reassign").reason == "原检查员离职"
    assert submit_filled(client, tokens[other], task.id).status_code == 200


def test_a_task_whose_inspector_lost_the_role_goes_to_another(client, api, login, campaign,
                                                              first):
    """A spot check's inspector is made an outlet manager before filling it: it is no longer
    theirs to fill, but still open. Is it still in the campaign's list, and may the manager
    give it to the other branch inspector (the former one no longer offered), who fills it?"""
    from ..helpers import submit_filled

    task = first("spot_check")
    who = task.assignee.username
    other = "jc.fenhang2" if who == "jc.fenhang1" else "jc.fenhang1"
    tokens = {name: api(name) for name in (who, other, "admin")}  # before signing in (CSRF)
    moved = client.patch(f"/api/v1/users/{_user(who).id}", headers=tokens["admin"], json={
        "grants": [{"role": "outlet_manager", "org_unit_id": task.outlet_id}]})
    assert moved.status_code == 200, moved.get_json()
    login("fwgl", DEMO_PASSWORD)

    listed = client.get(f"/manage/campaigns/{campaign['id']}").get_data(as_text=True)
    assert f"/tasks/{task.id}\"" in listed
    page = client.get(_url(task)).get_data(as_text=True)
    assert re.findall(r'<option value="(\d+)"', page) == [str(_user(other).id)]
    response = _post(client, _url(task, "reassign"), {
        "assignee_id": str(_user(other).id), "reason": "原检查员调任网点负责人"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Inspection, task.id).assignee_id == _user(other).id
    assert submit_filled(client, tokens[other], task.id).status_code == 200


@pytest.mark.parametrize("username", ["zh.lubei", "jc.fenhang1", "smr1"])
def test_only_the_planner_acts_on_a_task(client, login, campaign, first, username):
    """A sub-branch manager (a reader), the task's own inspector and a shopper: is each
    refused the task's page and its forms (403), with nothing written?"""
    task = first("spot_check")
    before = _state(task)
    login(username, DEMO_PASSWORD)
    assert client.get(_url(task)).status_code == 403
    assert client.get(f"/manage/campaigns/{campaign['id']}").status_code == 403
    for action, form in (("reassign", {"assignee_id": str(_user("jc.fenhang2").id),
                                       "reason": "越权改派"}),
                         ("reschedule", {"due_start": "2026-11-01", "due_end": "2026-11-30",
                                         "reason": "越权改期"}),
                         ("cancel", {"reason": "越权取消", "confirm": "yes"})):
        assert _post(client, _url(task, action), form).status_code == 403
    assert _state(task) == before


def test_a_task_of_another_campaign_is_not_found(client, manager, first):
    """Is a task addressed through a campaign it does not belong to "not found" (404)?"""
    task = first("spot_check")
    assert client.get(f"/manage/campaigns/{manager['id'] + 999}/tasks/{task.id}") \
        .status_code == 404
    task.campaign_id = None
    db.session.commit()
    assert client.get(f"/manage/campaigns/{manager['id']}/tasks/{task.id}").status_code == 404


def test_the_task_page_in_english(client, manager, first):
    """In English, are the list, the three forms and a refusal in English?"""
    task = first("spot_check")
    listing = client.get(f"/manage/campaigns/{manager['id']}?lang=en").get_data(as_text=True)
    assert "Open tasks" in listing and "Find open tasks by outlet" in listing
    page = client.get(_url(task) + "?lang=en").get_data(as_text=True)
    assert "Reassign to" in page and "Reschedule" in page and "Cancel task" in page
    assert "Reason" in page and "(current)" in page
    response = _post(client, _url(task, "cancel"), {"confirm": "yes"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "Reason: Please give a reason" in text
    response = _post(client, _url(task, "reschedule"), {
        "due_start": "2026-12-10", "due_end": "2026-12-01", "reason": "wrong way round"})
    assert "The end date cannot be before the start date" in response.get_data(as_text=True)


def test_a_mystery_visit_goes_only_to_a_shopper_the_outlet_has_not_seen_lately(
        client, manager, first):
    """Does a mystery visit's page name its shopper to the manager and offer shoppers only,
    leaving out one who visited the same outlet within the campaign's interval?"""
    task = first("mystery_visit")
    seen = next(name for name in ("smr1", "smr2", "smr3") if _user(name).id != task.assignee_id)
    db.session.add(Inspection(
        checklist_id=task.checklist_id, mode=Mode.mystery_visit, outlet_id=task.outlet_id,
        assignee_id=_user(seen).id, status=InspectionStatus.final, draft={}, events={},
        due_start=task.due_start - timedelta(days=30),
        due_end=task.due_start - timedelta(days=26)))
    db.session.commit()
    page = client.get(_url(task)).get_data(as_text=True)
    assert task.assignee.display_name in page
    offered = set(re.findall(r'<option value="(\d+)"', page))
    shoppers = {str(_user(name).id) for name in ("smr1", "smr2", "smr3")}
    assert offered <= shoppers and str(_user(seen).id) not in offered
    assert offered == shoppers - {str(_user(seen).id)}


def test_no_reassign_form_when_nobody_else_may_take_the_task(client, manager, first):
    """A self-check belongs to its outlet's manager: with nobody else at that outlet, does the
    page say there is nobody to reassign it to, instead of a form offering only the current
    assignee?"""
    task = first("self_check")
    others = db.session.scalar(sa.select(sa.func.count()).select_from(RoleGrant).where(
        RoleGrant.org_unit_id == task.outlet_id, RoleGrant.user_id != task.assignee_id))
    assert others == 0  # the demo: one manager per outlet
    page = client.get(_url(task)).get_data(as_text=True)
    assert 'id="no-reassign"' in page and _url(task, "reassign") not in page
    spot = client.get(_url(first("spot_check"))).get_data(as_text=True)
    assert _url(first("spot_check"), "reassign") in spot  # several inspectors to choose from


def test_a_date_outside_the_products_years_is_refused_in_the_pages_language(client, manager,
                                                                             first):
    """Is a reschedule to 1999 refused with the date range — in English on an English page,
    not in the catalogue's Chinese?"""
    task = first("spot_check")
    client.get(_url(task) + "?lang=en")
    response = _post(client, _url(task, "reschedule"), {
        "due_start": "1999-01-01", "due_end": "1999-01-05", "reason": "typo in the year"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The date must lie between 2000-01-01 and 2099-12-31" in text
    assert "日期应在" not in text
