"""A task cancelled (by its planner, or with its outlet closed), or given to someone else (or
its inspector's role withdrawn), while the phone holds work for it: no lasting error, a way to
let it go."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection

from ..helpers import filler_of
from .pwa_helpers import answer, expect_all_answered, open_form, quick_fill


@pytest.fixture
def spot(first):
    inspection = first("spot_check")
    return (inspection.id, filler_of(inspection),
            [item.to_document() for item in inspection.form_items()])


def cancel(client, api, inspection_id: int, username: str) -> None:
    """The planner cancels the task."""
    response = client.post(f"/api/v1/inspections/{inspection_id}/cancel",
                           json={"reason": "网点装修，本期不检查"}, headers=api("fwgl"))
    assert response.status_code == 200, response.get_json()


def reassign_away(client, api, inspection_id: int, username: str) -> None:
    """The planner gives the task to the other branch inspector."""
    other = "jc.fenhang2" if username == "jc.fenhang1" else "jc.fenhang1"
    assignee = db.session.scalar(sa.select(User.id).where(User.username == other))
    response = client.post(f"/api/v1/inspections/{inspection_id}/reassign", headers=api("fwgl"),
                           json={"assignee_id": assignee, "reason": "原检查员出差，改派"})
    assert response.status_code == 200, response.get_json()


def close_the_outlet(client, api, inspection_id: int, username: str) -> None:
    """An administrator closes the task's outlet (which cancels its open tasks)."""
    outlet_id = db.session.get(Inspection, inspection_id).outlet_id
    response = client.patch(f"/api/v1/org-units/{outlet_id}", json={"is_active": False},
                            headers=api("admin"))
    assert response.status_code == 200, response.get_json()


def withdraw_role(client, api, inspection_id: int, username: str) -> None:
    """The administrator makes the inspector manager of the outlet instead (a job change): the
    task stays theirs until the planner gives it to someone else, but they may not fill it."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    outlet_id = db.session.get(Inspection, inspection_id).outlet_id
    response = client.patch(f"/api/v1/users/{user.id}", headers=api("admin"), json={
        "grants": [{"role": "outlet_manager", "org_unit_id": outlet_id}]})
    assert response.status_code == 200, response.get_json()


@dataclass(frozen=True)
class Closing:
    """How the task stops being the inspector's, and how the phone then says so."""

    close: Callable[..., None]
    note: str  # the form's note
    shown: str  # the task list's word for it
    why: str | None = None  # what the form and the list say of the reason, if anything
    #: whether the inspector keeps their other tasks (which the phone keeps for offline use):
    #: not once their role is gone
    others_kept: bool = True


CLOSINGS = {"cancelled": Closing(cancel, "#cancelled-note", "已取消", "已取消：网点装修，本期不检查"),
            "reassigned": Closing(reassign_away, "#gone-note", "已不再分派给您"),
            "outlet_closed": Closing(close_the_outlet, "#cancelled-note", "已取消",
                                     "已取消：机构已停用"),
            "role withdrawn": Closing(withdraw_role, "#gone-note", "已不再分派给您",
                                      others_kept=False)}


def expect_the_reason(page, closing: Closing, inspection_id: int) -> None:
    """The form says why the planner cancelled the task, and the task list says it too."""
    if closing.why is None:
        expect(page.locator("#cancelled-reason")).to_have_count(0)
        return
    expect(page.locator("#cancelled-reason")).to_have_text(closing.why)
    page.goto("/tasks")
    expect(page.locator(f'#tasks-cancelled [data-task="{inspection_id}"]')).to_contain_text(
        closing.why)
    page.goto(f"/tasks/{inspection_id}")


@pytest.mark.parametrize("how", CLOSINGS)
def test_a_closed_tasks_draft_leaves_no_error_and_its_local_copy_can_be_discarded(
        new_mobile_context, spot, client, api, how):
    """An inspector drafts a form; the planner cancels the task or gives it to someone else, an
    administrator closes its outlet or withdraws the inspector's role; the inspector keeps
    tapping. Does the sync bar stay free of errors (nothing is pending), the form say why (a
    cancellation with its reason, in the task list too) and stop taking answers, and the task
    list show it with a way to discard the local copy — and only that one?"""
    closing = CLOSINGS[how]
    inspection_id, username, items = spot
    page = new_mobile_context().new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    open_form(page, username, inspection_id)
    quick_fill(page, items[:5])
    expect(page.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)

    closing.close(client, api, inspection_id, username)
    answer(page, items[5])  # the draft save is refused: the task is closed to this inspector
    expect(page.locator(closing.note)).to_be_visible(timeout=15000)
    expect(page.locator("#sync-pending")).to_have_text("已全部同步")
    expect(page.locator("#sync-error")).to_be_hidden()
    expect(page.locator(f"#item-{items[6]['code']} button").first).to_be_disabled()
    expect_the_reason(page, closing, inspection_id)

    page.goto("/tasks")
    row = page.locator(f'#tasks-cancelled [data-task="{inspection_id}"]')
    expect(row).to_contain_text(closing.shown)
    expect(page.locator("#sync-error")).to_be_hidden()
    # the list keeps the other tasks for offline use in the background; let it finish, or the
    # check below would find them not yet kept rather than wrongly discarded
    page.wait_for_selector("html[data-offline-ready]", state="attached", timeout=15000)
    page.locator(f'[data-discard="{inspection_id}"]').click()
    expect(page.locator(f'[data-task="{inspection_id}"]')).to_have_count(0)
    expect(page.locator("#tasks-cancelled")).to_be_hidden()
    kept = page.evaluate("""() => new Promise((resolve) => {
        const open = indexedDB.open("inspect-pwa");
        open.onsuccess = () => {
          const read = open.result.transaction("forms").objectStore("forms").getAll();
          read.onsuccess = () => resolve(read.result.map((f) => f.id));
        };
    })""")
    assert inspection_id not in kept and (kept or not closing.others_kept)  # only this one went


@pytest.mark.parametrize("how", CLOSINGS)
def test_submission_queued_offline_for_a_task_closed_meanwhile_is_no_error(
        new_mobile_context, spot, client, api, how):
    """A form submitted offline whose task is cancelled (its outlet closed, say), or given to
    someone else (or whose inspector's role is withdrawn), before the phone is back online:
    once the server refuses it, is nothing left pending or in error, and
    the task shown as such (a cancellation with the planner's reason)?"""
    closing = CLOSINGS[how]
    inspection_id, username, items = spot
    context = new_mobile_context()
    page = context.new_page()
    open_form(page, username, inspection_id)
    context.set_offline(True)
    quick_fill(page, items)
    expect_all_answered(page, items)
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#queued-note")).to_be_visible()

    closing.close(client, api, inspection_id, username)
    context.set_offline(False)
    page.locator("#sync-now").click()
    expect(page.locator(closing.note)).to_be_visible(timeout=15000)
    expect(page.locator("#sync-pending")).to_have_text("已全部同步")
    expect(page.locator("#sync-error")).to_be_hidden()
    expect_the_reason(page, closing, inspection_id)
    page.goto("/tasks")
    expect(page.locator(f'#tasks-cancelled [data-task="{inspection_id}"]')).to_contain_text(
        closing.shown)
    expect(page.locator("#sync-error")).to_be_hidden()
