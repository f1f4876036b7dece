"""A task submitted from another device (a team's other phone, the same person's tablet) while
this phone held work for it: the other submission is the record, said calmly, and nothing of
this phone's is lost without the person being told."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from inspect_app.evidence.models import Photo
from inspect_app.extensions import db

from ..helpers import filler_of, submit_filled
from .pwa_helpers import answer, answer_all, open_form, quick_fill

UNSENT_PHOTOS = """(id) => new Promise((resolve) => {
    const open = indexedDB.open("inspect-pwa");
    open.onsuccess = () => {
      const read = open.result.transaction("photos").objectStore("photos").getAll();
      read.onsuccess = () => resolve(read.result.filter(
        (p) => p.inspection_id === id && !p.uploaded).length);
    };
})"""


def expect_total(page, total: float) -> None:
    """The form's result shows the other submission's total."""
    shown = page.locator("#summary-total")
    expect(shown).to_be_visible(timeout=15000)
    assert float(shown.inner_text()) == total


def overtaken_offline(new_mobile_context, spot, client, api):
    """The phone fills the form offline, with one photo, and submits (queued); the task is
    submitted from another device; the phone comes back and syncs. Returns the page, the other
    submission's response, and the items that need a photo (the first has the phone's)."""
    inspection_id, username, items = spot
    required = [item for item in items if item["photo_rule"] == "required"
                and item["response_type"] != "text"]
    context = new_mobile_context()
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    open_form(page, username, inspection_id)
    context.set_offline(True)
    answer_all(page, items, photos={required[0]["code"]: "camera"})
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#queued-note")).to_be_visible()

    response = submit_filled(client, api(username), inspection_id)  # the other device
    assert response.status_code == 200, response.get_json()
    context.set_offline(False)
    page.locator("#sync-now").click()
    return page, response, required


@pytest.fixture
def spot(first):
    inspection = first("spot_check")
    return (inspection.id, filler_of(inspection),
            [item.to_document() for item in inspection.form_items()])


def test_a_draft_overtaken_by_another_devices_submission_shows_that_submission(
        new_mobile_context, spot, client, api):
    """An inspector drafts a form on the phone; the same task is submitted from another device,
    failing an item the phone passed; the inspector keeps tapping. Does the form show the other
    submission's answers and result, say that one answer of the phone's was not taken, and leave
    the sync bar with nothing pending and no error?"""
    inspection_id, username, items = spot
    failed = next(item for item in items[:5]
                  if item["response_type"] == "pass_fail" and item["photo_rule"] != "required")
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    quick_fill(page, items[:5])
    expect(page.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)

    response = submit_filled(client, api(username), inspection_id, fail=(failed["code"],))
    assert response.status_code == 200, response.get_json()
    answer(page, items[5])  # the draft save is refused: the task was submitted elsewhere

    note = page.locator("#elsewhere-note")
    expect(note).to_contain_text("已在其他设备提交", timeout=15000)
    # the failed item, and those the phone left N.A. (they need a photo) and the other passed
    differing = 1 + sum(item["photo_rule"] == "required" for item in items[:5])
    expect(note).to_contain_text(f"答案 {differing} 项、未上传的照片 0 张")
    expect_total(page, response.get_json()["total"])
    expect(page.locator(f"#item-{failed['code']}").get_by_role(
        "button", name="不合格", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#sync-pending")).to_have_text("已全部同步")
    expect(page.locator("#sync-error")).to_be_hidden()

    page.locator("#elsewhere-dismiss").click()  # no photo to lose: no question asked
    expect(note).to_have_count(0)
    page.reload()
    expect_total(page, response.get_json()["total"])
    expect(page.locator("#elsewhere-note")).to_have_count(0)


def test_a_submission_queued_offline_and_overtaken_elsewhere_keeps_its_photo_until_let_go(
        new_mobile_context, spot, client, api):
    """An inspector fills the form offline with a photo and submits (queued); the task is
    submitted from another device before the phone is back. Once the server refuses the
    phone's photo and submission, is nothing pending or in error, the other submission shown,
    the phone's unsent photo counted and kept — until the person lets it go?"""
    page, response, required = overtaken_offline(new_mobile_context, spot, client, api)
    inspection_id = spot[0]

    note = page.locator("#elsewhere-note")
    # the phone answered N.A. where the other device passed with a photo, but for one item
    expect(note).to_contain_text(f"答案 {len(required) - 1} 项、未上传的照片 1 张", timeout=15000)
    expect_total(page, response.get_json()["total"])
    expect(page.locator("#sync-pending")).to_have_text("已全部同步")
    expect(page.locator("#sync-error")).to_be_hidden()
    assert page.evaluate(UNSENT_PHOTOS, inspection_id) == 1
    badges = page.locator(f"#item-{required[0]['code']} .thumb .badge")
    # the phone's kept photo will not be sent (not "待上传"); the other device's is on the server
    expect(badges).to_have_text(["未采用", "已上传"])

    page.locator("#elsewhere-dismiss").click()  # asks first: a photo goes
    expect(note).to_have_count(0)
    assert page.evaluate(UNSENT_PHOTOS, inspection_id) == 0
    page.goto("/tasks")
    expect(page.locator("#sync-pending")).to_have_text("已全部同步")
    expect(page.locator(f'#tasks-cancelled [data-task="{inspection_id}"]')).to_have_count(0)


def test_a_kept_photo_goes_up_when_the_task_is_sent_back_for_correction(
        new_mobile_context, spot, client, api):
    """The phone keeps a photo that another device's submission did not hold; the reviewer
    then sends the task back for correction. Once the phone hears of it, is the kept photo
    queued and uploaded to the task — not left on the phone, never to be sent?"""
    page, _, required = overtaken_offline(new_mobile_context, spot, client, api)
    inspection_id = spot[0]
    expect(page.locator("#elsewhere-note")).to_contain_text("未上传的照片 1 张", timeout=15000)
    assert page.evaluate(UNSENT_PHOTOS, inspection_id) == 1

    returned = client.post(f"/api/v1/inspections/{inspection_id}/return", headers=api("fwgl"),
                           json={"reason": "请补充照片"})
    assert returned.status_code == 200, returned.get_json()
    page.reload()  # the phone hears of it when it next opens the task
    expect(page.locator("#elsewhere-note")).to_have_count(0)
    expect(page.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)
    assert page.evaluate(UNSENT_PHOTOS, inspection_id) == 0
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(Photo).where(
        Photo.inspection_id == inspection_id, Photo.item_code == required[0]["code"]))
    assert stored == 2  # the other device's, and the one this phone kept
