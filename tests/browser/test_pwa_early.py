"""Work before its window: the form takes answers (a draft) and says from which day it can be
submitted; a submission the server refuses as early goes back to being a draft, not an error."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections.models import Inspection, InspectionStatus

from ..helpers import filler_of
from .pwa_helpers import (
    answer,
    expect_all_answered,
    open_form,
    quick_fill,
    sign_in,
    stored,
    wait_offline_ready,
)


def opening_in(inspection_id: int, days: int) -> str:
    """Move the window so that it opens ``days`` days after the bank's today (committed, so the
    live server sees it); returns its first day."""
    inspection = db.session.get(Inspection, inspection_id)
    start = local_today() + timedelta(days=days)
    inspection.due_start, inspection.due_end = start, start + timedelta(days=20)
    db.session.commit()
    return start.isoformat()


def test_a_task_not_open_yet_takes_answers_and_offers_no_submission(new_mobile_context, first):
    """A spot check whose window opens in three days: does its form say from which day it can
    be submitted — online and offline after a reload — offer no 提交检查, and still save the
    answers the inspector prepares, to the phone and the server?"""
    spot = first("spot_check")
    items = [item.to_document() for item in spot.form_items()]
    opens = opening_in(spot.id, 3)
    context = new_mobile_context()
    page = context.new_page()
    sign_in(page, filler_of(spot), f"/tasks/{spot.id}")
    note = page.locator("#form-early")
    expect(note).to_have_text(f"该任务 {opens} 开始，届时才能提交；现在可以先填写，答案会自动保存")
    expect(page.locator("#submit")).to_be_hidden()
    expect(page.locator("#form-late")).to_be_hidden()

    answer(page, items[0])
    for _ in range(150):  # the draft is sent a moment after the last tap
        if items[0]["code"] in stored(spot.id).draft:
            break
        page.wait_for_timeout(100)
    assert stored(spot.id).draft[items[0]["code"]]["value"] is not None
    expect(page.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)

    wait_offline_ready(page)
    context.set_offline(True)
    page.reload()
    expect(page.locator("#sync-net")).to_have_text("离线")
    expect(note).to_have_text(f"该任务 {opens} 开始，届时才能提交；现在可以先填写，答案会自动保存")
    expect(page.locator("#submit")).to_be_hidden()


def test_a_submission_queued_offline_and_refused_as_early_stays_a_draft(new_mobile_context,
                                                                         first):
    """A spot check filled and submitted offline; meanwhile its window is moved to open in five
    days. Back online: is the refused submission neither lost nor retried again and again nor
    left as an error — the form a draft again (its answers on the server), saying the day it
    opens in the server's words, without 提交检查 — and once that day has come, submitted?"""
    spot = first("spot_check")
    items = [item.to_document() for item in spot.form_items()]
    context = new_mobile_context()
    page = context.new_page()
    submits = []
    page.on("request", lambda r: submits.append(r.url) if r.url.endswith("/submit") else None)
    open_form(page, filler_of(spot), spot.id)
    expect(page.locator("#form-early")).to_be_hidden()
    context.set_offline(True)
    quick_fill(page, items)
    expect_all_answered(page, items)
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#queued-note")).to_be_visible()

    opens = opening_in(spot.id, 5)  # the planner moved the window while the phone was away
    context.set_offline(False)
    page.locator("#sync-now").click()
    note = page.locator("#form-early")
    expect(note).to_have_text(f"该检查自 {opens} 起才能提交（在此之前可以先填写保存）", timeout=15000)
    expect(page.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)
    expect(page.locator("#sync-error")).to_be_hidden()
    expect(page.locator("#queued-note")).to_have_count(0)
    expect(page.locator("#submit")).to_be_hidden()
    expect(page.locator(f"#item-{items[0]['code']} button").first).to_be_enabled()
    expect_all_answered(page, items)
    assert stored(spot.id).status is InspectionStatus.in_progress
    assert set(stored(spot.id).draft) == {item["code"] for item in items}  # kept as a draft
    assert page.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open("inspect-pwa");
        open.onsuccess = () => {
          const read = open.result.transaction("outbox").objectStore("outbox").getAll();
          read.onsuccess = () => resolve(read.result.length);
        };
    })""") == 0
    page.locator("#sync-now").click()  # another round sends nothing again
    expect(page.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)
    page.wait_for_timeout(500)
    assert len(submits) == 1

    page.goto("/tasks")
    row = page.locator(f'[data-task="{spot.id}"]')
    expect(row.locator("[data-sync-state]")).to_have_attribute("data-sync-state", "synced")
    expect(page.locator("#sync-error")).to_be_hidden()

    opening_in(spot.id, 0)  # the day has come
    page.goto(f"/tasks/{spot.id}")
    expect(page.locator("#form-early")).to_be_hidden()
    expect_all_answered(page, items)
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#summary-total")).to_be_visible(timeout=15000)
    assert stored(spot.id).status is InspectionStatus.submitted
