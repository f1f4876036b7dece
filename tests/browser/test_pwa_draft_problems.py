"""Answers the server would refuse, caught on the phone: one wrong answer is said on its item at
once and never keeps the form's other answers off the server; a form with nothing applicable
is not submitted."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from inspect_app.extensions import db

from ..helpers import filler_of
from .pwa_helpers import (
    answer,
    expect_all_answered,
    open_form,
    plain_items,
    quick_fill,
    sign_in,
    stored,
    wait_for,
)


@pytest.fixture
def spot(first):
    inspection = first("spot_check")
    return inspection, filler_of(inspection), [i.to_document() for i in inspection.form_items()]


def test_a_deduction_above_its_maximum_is_said_at_once_and_the_rest_is_saved(
        new_mobile_context, spot):
    """An inspector types a deduction above the item's maximum: does the item say so at once,
    do the form's other answers still reach the server, does the sync bar name the task and the
    item — and once corrected, does the answer reach the server too?"""
    inspection, username, items = spot
    deduction = next(i for i in items if i["response_type"] == "deduction")
    most = float(deduction["config"].get("max_deduction") or deduction["weight"])
    shown_most = f"{most:g}"
    code = deduction["code"]
    others = plain_items(items, 2)
    page = new_mobile_context().new_page()
    open_form(page, username, inspection.id)

    page.locator(f"#item-{code} input[data-number]").fill(f"{most + 2:g}")
    problem = page.locator(f"#item-{code} .item-problem")
    expect(problem).to_have_text(f"扣分必须是 0 到 {shown_most} 之间的数字")
    for item in others:
        answer(page, item)
    flagged = page.locator(f'[data-draft-problems="{inspection.id}"]')
    expect(flagged).to_contain_text(inspection.outlet.name, timeout=15000)
    expect(flagged).to_contain_text(code)
    wait_for(page, lambda: {i["code"] for i in others} <= set(stored(inspection.id).draft or {}))
    assert code not in stored(inspection.id).draft

    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#missing")).to_contain_text(f"{code} 扣分必须是 0 到 {shown_most}")

    page.reload()  # the wrong answer lives on the phone only: a fresh server copy keeps it
    expect(page.locator(f"#item-{code} input[data-number]")).to_have_value(f"{most + 2:g}")
    expect(problem).to_be_visible()

    page.locator(f"#item-{code} input[data-number]").fill("1")
    expect(problem).to_be_hidden()
    expect(flagged).to_have_count(0, timeout=15000)
    wait_for(page, lambda: (stored(inspection.id).draft or {}).get(code, {}).get("value") == 1)


def test_visit_times_tapped_out_of_order_are_said_and_the_rest_is_saved(
        new_mobile_context, first):
    """A mystery shopper taps 到达, then 叫号, then 取号: does the phone say at once that 叫号 is
    earlier than 取号 (and that the waiting time cannot be worked out), list it before
    submitting, and still save the other answers and times on the server?"""
    inspection = first("mystery_visit")
    items = [i.to_document() for i in inspection.form_items()]
    page = new_mobile_context().new_page()
    open_form(page, filler_of(inspection), inspection.id)
    for name in ("到达", "叫号", "取号"):
        page.locator("#event-grid .event-button", has_text=name).click()
        page.wait_for_timeout(1100)  # the times are recorded to the second
    expect(page.locator('[data-event-problem="called"]')).to_have_text(
        "早于取号的时间：请清除后重新记录")
    expect(page.locator("#item-EFF-01 .item-problem")).to_have_text("暗访时间顺序有误，无法计算")
    other = plain_items(items, 1)[0]
    answer(page, other)
    expect(page.locator(f'[data-draft-problems="{inspection.id}"]')).to_contain_text(
        "叫号", timeout=15000)
    wait_for(page, lambda: other["code"] in (stored(inspection.id).draft or {}))
    assert set(stored(inspection.id).events) == {"arrival", "ticket"}

    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#missing")).to_contain_text("叫号 早于取号的时间")


def test_a_self_check_answered_not_applicable_throughout_is_not_submitted(new_mobile_context,
                                                                           first):
    """不适用 on every scored item of a self-check: does 提交检查 say there is nothing to score
    and keep the form open, rather than submit it with no score and 未发现问题?"""
    check = first("self_check")
    items = [i.to_document() for i in check.form_items()]
    page = new_mobile_context().new_page()
    open_form(page, filler_of(check), check.id)
    quick_fill(page, items, all_na=True)
    expect_all_answered(page, items)
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#missing")).to_contain_text("所有计分项均为不适用，无法评分")
    expect(page.locator("#summary")).to_be_hidden()
    page.wait_for_timeout(500)
    assert stored(check.id).status.value in ("assigned", "in_progress")


def test_a_visit_time_before_the_window_is_said_at_once(new_mobile_context, first):
    """A visit whose window opens tomorrow: does 到达 tapped today say at once, under its time,
    that it is before the window — and is it kept off the server, while the next time taps
    on?"""
    from datetime import timedelta

    from inspect_app.i18n import local_today

    inspection = first("mystery_visit")
    opens = local_today() + timedelta(days=1)
    inspection.due_start, inspection.due_end = opens, opens + timedelta(days=7)
    db.session.commit()
    page = new_mobile_context().new_page()
    sign_in(page, filler_of(inspection), f"/tasks/{inspection.id}")
    page.locator("#event-grid .event-button", has_text="到达").click()
    expect(page.locator('[data-event-problem="arrival"]')).to_have_text(
        f"早于暗访期限（{opens} 起）：请清除后在到访时重新记录")
    expect(page.locator('[data-event-cell="arrival"]')).to_have_class("event set wrong")
    page.locator("#event-grid .event-button", has_text="取号").click()
    expect(page.locator('[data-event-problem="ticket"]')).to_have_text(
        f"早于暗访期限（{opens} 起）：请清除后在到访时重新记录")
    expect(page.locator(f'[data-draft-problems="{inspection.id}"]')).to_contain_text(
        "到达", timeout=15000)
    assert stored(inspection.id).events == {}


def test_visit_times_ahead_of_the_servers_clock_are_said_at_each_time(new_mobile_context,
                                                                      first):
    """A shopper's phone whose clock runs an hour ahead (only the server can tell): is the
    time the server would not take said under it once the draft is saved — and when the
    drafts could not be saved, does the refused submission say why under each time, and in
    its message?"""
    from datetime import datetime, timedelta

    inspection = first("mystery_visit")
    items = [i.to_document() for i in inspection.form_items()]
    page = new_mobile_context().new_page()
    page.clock.install(time=datetime.now().astimezone() + timedelta(hours=1))
    sign_in(page, filler_of(inspection), f"/tasks/{inspection.id}")
    expect(page.locator("#form-progress-label")).to_contain_text("已填 0/")
    page.locator("#event-grid .event-button", has_text="到达").click()
    expect(page.locator('[data-event-problem="arrival"]')).to_have_text(
        "时间晚于当前时间，请核对手机时间", timeout=15000)
    assert stored(inspection.id).events == {}

    # the drafts fail from now on: the submission is the server's first word on these times
    page.route("**/draft", lambda route: route.fulfill(status=503, json={
        "error": {"code": "unavailable", "message": "暂时无法保存"}}))
    page.locator('[data-event-cell="arrival"]').get_by_role("button", name="清除").click()
    for name in ("到达", "取号", "叫号", "开始办理", "离开"):
        page.locator("#event-grid .event-button", has_text=name).click()
    quick_fill(page, items, mystery=True)
    expect_all_answered(page, items)
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#summary")).to_contain_text(
        "暗访时间记录有误：到达网点：时间晚于当前时间，请核对手机时间", timeout=15000)
    for name in ("arrival", "ticket", "called", "served", "left"):
        expect(page.locator(f'[data-event-problem="{name}"]')).to_have_text(
            "时间晚于当前时间，请核对手机时间")
    assert stored(inspection.id).status.value == "in_progress"  # saved once, never submitted
