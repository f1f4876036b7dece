"""我的任务 on the phone: which group a task is listed in, and the sync state it shows."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from inspect_app.extensions import db

from ..helpers import filler_of
from .pwa_helpers import (
    answer,
    attach_photo,
    expect_all_answered,
    open_form,
    quick_fill,
    sign_in,
    wait_offline_ready,
)


@pytest.fixture
def spot(first):
    inspection = first("spot_check")
    return (inspection.id, filler_of(inspection),
            [item.to_document() for item in inspection.form_items()])


def test_a_task_never_started_says_so_though_the_list_keeps_it_on_the_phone(
        new_mobile_context, spot):
    """The list keeps every open form on the phone for offline use: does a task nobody has
    answered anything of still show 未开始 (not 已同步), and one with an answer 已同步?"""
    inspection_id, username, items = spot
    page = new_mobile_context().new_page()
    sign_in(page, username, "/tasks")
    wait_offline_ready(page)  # every open form is now on the phone
    badge = page.locator(f'[data-task="{inspection_id}"] [data-sync-state]')
    expect(badge).to_have_attribute("data-sync-state", "new")
    expect(badge).to_have_text("未开始")

    page.goto(f"/tasks/{inspection_id}")
    answer(page, items[1])
    expect(page.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)
    page.goto("/tasks")
    expect(badge).to_have_attribute("data-sync-state", "synced")
    expect(badge).to_have_text("已同步")


def test_a_submission_the_server_refused_stays_among_the_open_tasks(new_mobile_context, spot):
    """The server refuses a submission (422): is the task still listed with the open ones,
    marked 有错误, rather than under 已完成 — and does it move there once it is sent?"""
    inspection_id, username, items = spot
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    quick_fill(page, items)
    expect_all_answered(page, items)
    submit_url = re.compile(rf"/api/v1/inspections/{inspection_id}/submit$")
    page.route(submit_url, lambda route: route.fulfill(status=422, json={"error": {
        "code": "incomplete", "message": "检查表尚未填写完整或有误",
        "details": {"ENV-02": ["扣分必须是 0 到 3 之间的数字"]}}}))
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#summary .error")).to_contain_text("检查表尚未填写完整或有误")

    page.goto("/tasks")
    row = page.locator(f'[data-task="{inspection_id}"]')
    expect(row.locator("[data-sync-state]")).to_have_attribute("data-sync-state", "error")
    expect(page.locator(f'#tasks-done [data-task="{inspection_id}"]')).to_have_count(0)
    expect(row).to_have_count(1)

    page.unroute(submit_url)
    page.goto(f"/tasks/{inspection_id}")
    page.locator("#summary").get_by_role("button", name="重试").click()
    expect(page.locator("#summary-total")).to_be_visible(timeout=15000)
    page.goto("/tasks")
    expect(page.locator(f'#tasks-done [data-task="{inspection_id}"]')).to_have_count(1)


def test_a_retry_tapped_while_a_sync_runs_is_sent_by_that_sync_s_successor(
        new_mobile_context, spot):
    """重试 on a refused submission while a sync is already under way (here: uploading a photo
    the person retried a moment before): that sync read the outbox when the submission still
    stood refused. Is the submission sent once it ends, rather than at the next timer?"""
    inspection_id, username, items = spot
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    quick_fill(page, items)
    expect_all_answered(page, items)
    photos_url = re.compile(rf"/api/v1/inspections/{inspection_id}/photos$")
    submit_url = re.compile(rf"/api/v1/inspections/{inspection_id}/submit$")
    page.route(photos_url, lambda route: route.fulfill(status=422, json={"error": {
        "code": "photo_invalid", "message": "照片无法识别"}}))
    page.route(submit_url, lambda route: route.fulfill(status=422, json={"error": {
        "code": "incomplete", "message": "检查表尚未填写完整或有误"}}))
    attach_photo(page, items[0]["code"], "camera", seed=3)
    expect(page.locator("#sync-error .entry-error")).to_have_count(1)  # the photo's refusal
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#summary .error")).to_contain_text("检查表尚未填写完整或有误")
    page.unroute(submit_url)
    page.unroute(photos_url)

    held = []
    page.route(photos_url, lambda route: held.append(route))  # waits until released below
    sent = []
    page.on("request", lambda request: sent.append(request.url)
            if submit_url.search(request.url) and request.method == "POST" else None)
    page.locator("#sync-error .entry-error").filter(has_text="照片").get_by_role(
        "button", name="重试").click()
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the photo's upload never started"
    page.locator("#summary").get_by_role("button", name="重试").click()
    page.wait_for_timeout(300)
    assert not sent  # photos first: the submission waits for the photo's upload
    held[0].continue_()
    expect(page.locator("#summary-total")).to_be_visible(timeout=10000)
    assert len(sent) == 1


def test_a_peer_check_says_where_to_go_and_with_whom(new_mobile_context, first):
    """Outlet names repeat across sub-branches: does a peer-check task name the checked
    outlet's sub-branch and code on the list, and its address and the team's members on the
    form?"""
    inspection = first("peer_check")
    outlet, team = inspection.outlet, inspection.team
    outlet.address = "唐山市路北区测试路 8 号"
    db.session.commit()
    page = new_mobile_context().new_page()
    sign_in(page, team.members[-1].username, "/tasks")
    card = page.locator(f'[data-where="{inspection.id}"]')
    expect(card).to_have_text(f"{outlet.parent.name} · {outlet.code}")
    page.locator(f'[data-task="{inspection.id}"]').click()
    expect(page.locator("#form-title")).to_have_text(outlet.name)
    expect(page.locator("#form-where")).to_have_text(
        f"{outlet.parent.name} · {outlet.code} · 唐山市路北区测试路 8 号")
    names = "、".join(member.display_name for member in team.members)
    expect(page.locator("#form-team")).to_have_text(f"检查组：{team.name}（{names}）")


def test_a_spot_check_names_no_team(new_mobile_context, spot):
    """A task of one inspector shows where to go and no team line."""
    inspection_id, username, _ = spot
    page = new_mobile_context().new_page()
    sign_in(page, username, f"/tasks/{inspection_id}")
    expect(page.locator("#form-where")).to_be_visible()
    expect(page.locator("#form-team")).to_be_hidden()


def test_a_task_due_on_one_day_says_that_day_once(new_mobile_context, first):
    """A task whose window is a single day: do the task list and the form's header say
    "期限：<day>" — not "期限：<day> 至 <day>" — while a longer window still gives both ends?"""
    from inspect_app.inspections.models import Inspection

    one, longer = first("spot_check"), first("peer_check")
    day = one.due_start
    db.session.get(Inspection, one.id).due_end = day
    db.session.commit()
    page = new_mobile_context().new_page()
    sign_in(page, filler_of(one), "/tasks")
    task = page.locator(f'[data-task="{one.id}"]')
    expect(task).to_contain_text(f"期限：{day.isoformat()}")
    expect(task).not_to_contain_text(" 至 ")
    task.click()
    expect(page.locator("#form-meta")).to_contain_text(f"期限：{day.isoformat()}")
    expect(page.locator("#form-meta")).not_to_contain_text(" 至 ")
    other = new_mobile_context().new_page()
    sign_in(other, filler_of(longer), "/tasks")
    expect(other.locator(f'[data-task="{longer.id}"]')).to_contain_text(
        f"期限：{longer.due_start.isoformat()} 至 {longer.due_end.isoformat()}")
