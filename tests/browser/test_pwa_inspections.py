"""The PWA in a real phone-sized Chromium: filling online and offline, sync, installability."""
from __future__ import annotations

import base64
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from inspect_app.auth.models import RoleGrant, User
from inspect_app.auth.permissions import Role
from inspect_app.evidence.models import Photo
from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection, InspectionStatus, Submission

from ..helpers import filler_of
from .pwa_helpers import (
    GEO,
    answer,
    answer_all,
    attach_photo,
    expect_all_answered,
    open_form,
    phone_photo,
    quick_fill,
    sign_in,
    trimmed,
    wait_for,
    wait_offline_ready,
)


@pytest.fixture
def spot(first):
    """A spot-check assignment: (id, the inspector's username, the form's items)."""
    inspection = first("spot_check")
    return (inspection.id, filler_of(inspection),
            [item.to_document() for item in inspection.form_items()])


def reloaded(inspection_id: int) -> Inspection:
    db.session.expire_all()
    return db.session.get(Inspection, inspection_id)


def photos_of(inspection_id: int) -> list[Photo]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Photo).where(Photo.inspection_id == inspection_id)))


def outlet_manager_of(inspection: Inspection) -> str:
    return db.session.scalar(sa.select(User.username).join(RoleGrant).where(
        RoleGrant.role == Role.outlet_manager, RoleGrant.org_unit_id == inspection.outlet_id))


def test_inspector_completes_an_inspection_online(new_mobile_context, spot, screenshot):
    """Can an inspector sign in, open a task, fill the whole form and see the score?"""
    inspection_id, username, items = spot
    page = new_mobile_context(**GEO).new_page()
    sign_in(page, username, "/tasks")
    task = page.locator(f'[data-task="{inspection_id}"]')
    expect(task).to_be_visible()
    wait_offline_ready(page)
    trimmed(screenshot(page, "pwa-tasks"))
    task.click()
    expect(page.locator("#form-title")).not_to_have_text("检查表")
    expect(page.locator(".red-line .tag.red").first).to_have_text("红线")
    # points where the item earns them; a free-text item says it scores nothing
    for item in items:
        expect(page.locator(f"#item-{item['code']} .points")).to_have_text(
            "不计分" if item["response_type"] == "text" else f"{item['weight']:g} 分")
    # its guidance says what to write, not what passes
    expect(page.locator("#item-WARM-10 details summary")).to_have_text("填写说明")
    expect(page.locator("#item-ENV-01 details summary").first).to_have_text("合格标准")

    answer_all(page, items, photos={"ENV-01": "camera"})
    expect_all_answered(page, items)
    expect(page.locator("#item-ENV-01 .badge")).to_have_text("已上传")
    trimmed(screenshot(page, "pwa-form"))
    page.get_by_role("button", name="提交检查").click()

    expect(page.locator("#summary-total")).to_have_text("100.00")
    expect(page.locator("#summary")).to_contain_text("未发现问题")
    trimmed(screenshot(page, "pwa-summary"), bottom=True)
    inspection = reloaded(inspection_id)
    assert inspection.status is InspectionStatus.submitted
    assert float(inspection.total) == 100
    assert len(inspection.answers) == len(items)
    assert page.locator("#syncbar").get_attribute("data-pending") == "0"


def test_submit_refuses_missing_answers_and_photos(new_mobile_context, spot):
    """Does the form name the unanswered items and the missing photos before submitting?"""
    inspection_id, username, items = spot
    page = new_mobile_context().new_page()
    sign_in(page, username, f"/tasks/{inspection_id}")
    expect(page.locator("#form-progress-label")).to_contain_text("已填 0/")
    answer(page, next(i for i in items if i["code"] == "ENV-01"))  # photo required, none yet
    page.get_by_role("button", name="提交检查").click()
    missing = page.locator("#missing")
    expect(missing).to_contain_text("ENV-01 需要拍照留证")
    expect(missing).to_contain_text("ENV-02 尚未作答")
    # a deduction (扣分) is a finding too: its photo-on-fail rule holds as for 不合格
    assert next(i for i in items if i["code"] == "ENV-02")["photo_rule"] == "on_fail"
    page.locator("#item-ENV-02 input[data-number]").fill("1")
    page.get_by_role("button", name="提交检查").click()
    expect(missing).to_contain_text("ENV-02 需要拍照留证")
    # read once: the page's autosave may move the task to in_progress between two reads
    assert reloaded(inspection_id).status in (InspectionStatus.in_progress,
                                              InspectionStatus.assigned)


def test_offline_inspection_with_photos_arrives_once_when_back_online(new_mobile_context, spot,
                                                                       screenshot):
    """Airplane mode mid-form, two photos, a reload and a submission while offline: once back
    online, does the server hold exactly one submission with every answer and both photos?"""
    inspection_id, username, items = spot
    context = new_mobile_context(**GEO)
    page = context.new_page()
    open_form(page, username, inspection_id)
    half = len(items) // 2
    quick_fill(page, items[:half])

    context.set_offline(True)
    answer_all(page, items[half:], photos={"WARM-02": "camera", "O2O-01": "gallery"})
    expect_all_answered(page, items)
    expect(page.locator("#sync-net")).to_have_text("离线")

    page.reload()
    expect_all_answered(page, items)
    expect(page.locator(".thumb")).to_have_count(2)
    expect(page.locator('#item-WARM-02 [aria-pressed="true"]')).to_have_text("合格")
    expect(page.locator("#item-WARM-02 .badge")).to_have_text("待上传")
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#queued-note")).to_have_text("已保存在手机上，联网后自动提交")
    expect(page.locator("#sync-pending")).to_have_text(re.compile(r"3 项待上传"))
    page.locator("#queued-note").scroll_into_view_if_needed()
    screenshot(page, "pwa-offline-queued", full_page=False)  # the note and the sync bar
    assert reloaded(inspection_id).status is not InspectionStatus.submitted
    assert photos_of(inspection_id) == []

    context.set_offline(False)
    expect(page.locator("#summary-total")).to_have_text("100.00", timeout=15000)
    expect(page.locator("#sync-pending")).to_have_text("已全部同步")

    inspection = reloaded(inspection_id)
    assert inspection.status is InspectionStatus.submitted
    assert len(inspection.answers) == len(items)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)
                             .where(Submission.inspection_id == inspection_id)) == 1
    photos = photos_of(inspection_id)
    assert sorted(p.item_code for p in photos) == ["O2O-01", "WARM-02"]
    for photo in photos:
        assert max(photo.width, photo.height) <= 2048  # downscaled on the phone
        facts = photo.client_facts
        assert facts["exif_time"]["value"] == "2026-11-28T09:14:30"
        assert facts["exif_gps"]["value"]["lat"] == pytest.approx(39.63, abs=1e-3)
        assert facts["geolocation"]["value"]["lon"] == pytest.approx(118.18)
        assert "device_time" in facts
    assert {p.item_code: p.client_facts["source"]["value"] for p in photos} == {
        "WARM-02": "camera", "O2O-01": "gallery"}


def test_a_photo_the_server_refuses_does_not_hold_the_submission(new_mobile_context, spot):
    """An optional photo is refused by the server (415): is the finished form still submitted
    — rather than waiting on the phone for ever, 联网后自动提交 — with the refused photo left
    for the person to retry or give up?"""
    inspection_id, username, items = spot
    optional = next(item["code"] for item in items
                    if item["photo_rule"] == "optional" and item["response_type"] == "pass_fail")
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    timed = next(item for item in items
                 if item["response_type"] == "number" and item["config"].get("unit"))
    config = timed["config"]
    word = "不超过" if config.get("direction", "max") == "max" else "不低于"
    # the limit and its unit read apart, as the derived wait ("0 分钟") does
    expect(page.locator(f"#item-{timed['code']}")).to_contain_text(
        f"{word} {config['limit']} {config['unit']}")
    quick_fill(page, items)
    expect_all_answered(page, items)
    page.route(re.compile(rf"/api/v1/inspections/{inspection_id}/photos$"),
               lambda route: route.fulfill(status=415, json={"error": {
                   "code": "unsupported_type", "message": "不支持的文件类型"}}))
    page.context.set_offline(True)
    attach_photo(page, optional, "gallery", 7)
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#queued-note")).to_be_visible()
    page.context.set_offline(False)
    expect(page.locator("#summary-total")).to_be_visible(timeout=15000)
    assert reloaded(inspection_id).status is InspectionStatus.submitted
    assert photos_of(inspection_id) == []
    expect(page.locator("#sync-error")).to_contain_text("不支持的文件类型")


def test_two_tabs_syncing_at_once_still_submit_once(new_mobile_context, spot):
    """Two open tabs flush the same outbox at the same moment: still exactly one submission?"""
    inspection_id, username, items = spot
    context = new_mobile_context()
    first_tab = context.new_page()
    open_form(first_tab, username, inspection_id)

    context.set_offline(True)
    quick_fill(first_tab, items, keep=("ENV-01",))
    attach_photo(first_tab, "ENV-01", "camera", 1)
    expect_all_answered(first_tab, items)
    first_tab.get_by_role("button", name="提交检查").click()
    expect(first_tab.locator("#queued-note")).to_be_visible()
    second_tab = context.new_page()
    second_tab.goto(f"/tasks/{inspection_id}")  # offline: from the phone's copy
    expect(second_tab.locator("#queued-note")).to_be_visible()

    context.set_offline(False)  # both tabs get "online" and flush at once
    for tab in (first_tab, second_tab):
        tab.locator("#sync-now").click()
    for tab in (first_tab, second_tab):
        expect(tab.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)
    expect(second_tab.locator("#summary-total")).to_have_text("100.00")

    assert reloaded(inspection_id).status is InspectionStatus.submitted
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)
                             .where(Submission.inspection_id == inspection_id)) == 1
    assert len(photos_of(inspection_id)) == 1


def test_app_is_installable_and_controlled_by_its_service_worker(new_mobile_context, spot,
                                                                 tmp_path):
    """Does Chromium find nothing stopping installation, and does the worker control pages?"""
    inspection_id, username, _items = spot
    context = new_mobile_context(user_data_dir=tmp_path / "phone")
    page = context.pages[0] if context.pages else context.new_page()
    sign_in(page, username, "/tasks")
    wait_offline_ready(page)
    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [] and manifest["url"].endswith("/manifest.webmanifest")
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")

    context.close()  # the phone is switched off and on again: the app opens offline
    context = new_mobile_context(user_data_dir=tmp_path / "phone", offline=True)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"/tasks/{inspection_id}")
    expect(page.locator("#form-progress-label")).to_contain_text("已填 0/")
    expect(page.locator("#sync-net")).to_have_text("离线")


def test_mystery_visit_form_and_the_outlet_never_sees_the_shopper(new_mobile_context, first,
                                                                  screenshot):
    """A shopper records the visit with one-tap times; the outlet's manager sees the result as
    "神秘人" with a date only — no name, no username, no exact times."""
    inspection = first("mystery_visit")
    shopper = inspection.assignee
    items = [item.to_document() for item in inspection.form_items()]
    manager = outlet_manager_of(inspection)
    page = new_mobile_context().new_page()
    sign_in(page, shopper.username, f"/tasks/{inspection.id}")
    expect(page.locator("body")).to_have_class(re.compile("discreet"))
    expect(page.locator("#scenario-text")).to_have_text(inspection.scenario)
    for name in ("到达", "取号", "叫号", "开始办理", "离开"):
        page.locator("#event-grid .event-button", has_text=name).click()
    expect(page.locator('[data-derived="EFF-01"]')).to_contain_text("根据暗访时间自动计算：0 分钟")
    quick_fill(page, items, mystery=True)
    expect_all_answered(page, items)
    # a covert visit never offers 立查立改 (asking for a fix would give the shopper away)
    plain = next(i for i in items if i["response_type"] == "pass_fail" and not i["red_line"]
                 and i["photo_rule"] == "optional")
    box = page.locator(f"#item-{plain['code']}")
    box.get_by_role("button", name="不合格", exact=True).click()
    # the item is drawn again as failed (the same moment an inspection would offer the box)
    expect(page.locator(f"#item-{plain['code']} button[aria-pressed=true]")).to_have_text("不合格")
    expect(page.locator(f"#item-{plain['code']}").get_by_text("已立查立改")).to_have_count(0)
    box.get_by_role("button", name="合格", exact=True).click()
    trimmed(screenshot(page, "pwa-mystery-form"))
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#summary-total")).to_have_text("100.00")
    events = reloaded(inspection.id).events
    assert set(events) == {"arrival", "ticket", "called", "served", "left"}

    outlet = new_mobile_context().new_page()
    sign_in(outlet, manager, "/results")
    row = outlet.locator(f'[data-result="{inspection.id}"]')
    expect(row).to_contain_text("检查人：神秘人")
    expect(row.locator(".badge")).to_have_text("得分 100.00")  # as managers' pages write it
    trimmed(screenshot(outlet, "pwa-results"))
    row.click()
    expect(outlet.locator("#result-meta")).to_contain_text("检查人：神秘人")
    expect(outlet.locator("#result-sections li").first).to_be_visible()
    trimmed(screenshot(outlet, "pwa-result-mystery"))
    text = outlet.content()
    assert shopper.username not in text and shopper.display_name not in text
    assert events["arrival"][11:19] not in outlet.locator("body").inner_text()


def test_a_shopper_served_without_a_ticket_submits_the_wait_as_not_applicable(new_mobile_context,
                                                                              first):
    """No ticket, no call: the wait cannot be timed. The shopper marks it 不适用 (and says why in
    its note) and can submit; once both times are tapped the wait is timed again."""
    inspection = first("mystery_visit")
    items = [item.to_document() for item in inspection.form_items()]
    page = new_mobile_context().new_page()
    sign_in(page, inspection.assignee.username, f"/tasks/{inspection.id}")
    for name in ("到达", "开始办理", "离开"):
        page.locator("#event-grid .event-button", has_text=name).click()
    quick_fill(page, items, mystery=True)
    wait = page.locator("#item-EFF-01")
    expect(wait.locator('[data-derived="EFF-01"]')).to_contain_text("点击取号、叫号后自动计算")
    wait.get_by_role("button", name="不适用", exact=True).click()
    expect(page.locator("#item-EFF-01 button[aria-pressed=true]")).to_have_text("不适用")
    page.locator("#item-EFF-01 details.note summary").click()
    page.locator('[data-note="EFF-01"]').fill("网点未启用排队叫号，进门即办理")
    expect_all_answered(page, items)
    # tapped after all, the times win again (as they do on the server)
    for name in ("取号", "叫号"):
        page.locator("#event-grid .event-button", has_text=name).click()
    expect(page.locator('[data-derived="EFF-01"]')).to_contain_text("根据暗访时间自动计算：0 分钟")
    expect(page.locator("#item-EFF-01").get_by_role("button", name="不适用")).to_have_count(0)
    # …and taken back (tapped by mistake), the 不适用 chosen before stands again
    for name in ("叫号", "取号"):
        page.get_by_role("button", name=f"清除 {name}", exact=True).click()
    expect(page.locator("#item-EFF-01 button[aria-pressed=true]")).to_have_text("不适用")
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#summary-total")).to_be_visible()
    saved = {a.item_code: a for a in reloaded(inspection.id).answers}
    assert saved["EFF-01"].value == "na" and saved["EFF-01"].possible == 0
    assert saved["EFF-01"].note == "网点未启用排队叫号，进门即办理"


def test_a_shopper_never_called_times_the_wait_until_leaving(new_mobile_context, first):
    """A ticket taken, the wait runs: 不适用 is no longer offered, the page says to tap 离开 if
    nobody calls, and leaving uncalled and unserved times the wait until then."""
    inspection = first("mystery_visit")
    page = new_mobile_context().new_page()
    sign_in(page, inspection.assignee.username, f"/tasks/{inspection.id}")
    wait = page.locator("#item-EFF-01")
    expect(wait.get_by_role("button", name="不适用", exact=True)).to_be_visible()
    for name in ("到达", "取号"):
        page.locator("#event-grid .event-button", has_text=name).click()
    expect(wait.locator('[data-derived="EFF-01"]')).to_contain_text("一直未被叫号就离开的")
    expect(wait.get_by_role("button", name="不适用", exact=True)).to_have_count(0)
    page.locator("#event-grid .event-button", has_text="离开").click()
    expect(wait.locator('[data-derived="EFF-01"]')).to_contain_text("根据暗访时间自动计算：0 分钟")


def test_outlet_manager_fixes_a_finding_with_an_after_photo(new_mobile_context, first, client,
                                                            api, screenshot):
    """Can the outlet's manager open their rectification items on a phone, upload an
    after-photo (downscaled on the phone), submit the fix and still see it, awaiting acceptance?"""
    from inspect_app.rectification.models import RectificationItem, RectificationState

    from ..helpers import submit_filled

    inspection = first("spot_check")
    response = submit_filled(client, api(filler_of(inspection)), inspection.id, fail=("ENV-03",))
    assert response.status_code == 200, response.get_json()
    item = db.session.scalar(sa.select(RectificationItem).where(
        RectificationItem.inspection_id == inspection.id, RectificationItem.item_code == "ENV-03"))
    page = new_mobile_context(**GEO).new_page()
    sign_in(page, outlet_manager_of(inspection), "/rectification")
    card = page.locator(f'[data-rect="{item.id}"]')
    expect(card).to_contain_text("ENV-03")
    page.locator(f'[data-after-photo="{item.id}:camera"]').set_input_files(
        {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": phone_photo(7)})
    expect(card.locator(".thumb .badge")).to_have_text("已上传")
    card.locator("textarea").fill("已撤下过期海报，统一在电子屏播放")
    trimmed(screenshot(page, "pwa-rectification"))
    card.get_by_role("button", name="提交整改").click()
    expect(card).to_contain_text("已提交整改，等待验收")
    page.reload()  # the outlet follows its fix until it is accepted
    expect(page.locator(f'[data-rect="{item.id}"] [data-rect-state="submitted"]')).to_have_text(
        "已提交整改，等待验收")
    expect(page.locator(f'[data-rect="{item.id}"] [data-after-photo]')).to_have_count(0)
    db.session.expire_all()
    item = db.session.get(RectificationItem, item.id)
    assert item.state is RectificationState.submitted
    after = [p for p in photos_of_item(item.id)]
    assert len(after) == 1 and max(after[0].width, after[0].height) <= 2048


def photos_of_item(item_id: int) -> list[Photo]:
    return list(db.session.scalars(sa.select(Photo).where(Photo.rectification_item_id == item_id)))


def test_form_header_shows_the_submission_not_the_old_status(new_mobile_context, spot):
    """After submitting, does the form's header say 已提交 (and 待提交 while queued offline)
    instead of still showing 待检查 above the score?"""
    inspection_id, username, items = spot
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    expect(page.locator("#form-meta")).to_contain_text("待检查")
    quick_fill(page, items)
    page.context.set_offline(True)
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#form-meta")).to_contain_text("待提交")
    page.context.set_offline(False)
    expect(page.locator("#summary-total")).to_be_visible(timeout=15000)
    expect(page.locator("#form-meta")).to_contain_text("已提交")
    expect(page.locator("#form-meta")).not_to_contain_text("待检查")


def test_a_tap_just_before_submitting_counts(new_mobile_context, spot):
    """Tapping the last answer and then 提交检查 twice at once (the answer is still being
    written to the phone): is the form submitted once, not refused with that item
    "unanswered"?"""
    inspection_id, username, items = spot
    last = [item for item in items
            if item["response_type"] == "pass_fail" and item["photo_rule"] != "required"][-1]
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    quick_fill(page, [item for item in items if item is not last])
    scored = sum(1 for item in items if item["response_type"] != "text")
    expect(page.locator("#form-progress-label")).to_have_text(f"已填 {scored - 1}/{scored}")
    page.context.set_offline(True)
    page.evaluate("""(code) => {
      const box = document.getElementById("item-" + code);
      [...box.querySelectorAll("button.choice")].find((b) => b.textContent === "合格").click();
      document.getElementById("submit").click();  // same tick: the answer is not written yet
      document.getElementById("submit").click();  // and a double tap
    }""", last["code"])
    expect(page.locator("#queued-note")).to_be_visible()
    expect(page.locator("#missing")).to_be_hidden()
    expect(page.locator("#sync-pending")).to_have_text("1 项待上传")
    page.context.set_offline(False)
    expect(page.locator("#summary-total")).to_be_visible(timeout=15000)
    expect(page.locator("#sync-pending")).to_have_text("已全部同步")
    expect(page.locator("#sync-error")).to_be_hidden()
    assert reloaded(inspection_id).status is InspectionStatus.submitted
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)
                             .where(Submission.inspection_id == inspection_id)) == 1


def test_a_second_tap_keeps_the_answer_and_clear_takes_it_back(new_mobile_context, spot):
    """Tapping 合格 twice (a double tap, a tap to make sure): is the answer still 合格, after a
    reload too? And can the inspector take an answer back on purpose with 清除?"""
    inspection_id, username, items = spot
    item = next(item for item in items if item["response_type"] == "pass_fail")
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    box = page.locator(f"#item-{item['code']}")
    passed = box.get_by_role("button", name="合格", exact=True)
    clear = box.locator(f'[data-clear="{item["code"]}"]')
    expect(clear).to_have_count(0)
    passed.click()
    passed.click()
    passed.dblclick()
    expect(passed).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#form-progress-label")).to_contain_text("已填 1/")
    page.reload()
    expect(passed).to_have_attribute("aria-pressed", "true")
    expect(clear).to_have_text("清除")
    clear.click()
    expect(passed).to_have_attribute("aria-pressed", "false")
    expect(clear).to_have_count(0)
    expect(page.locator("#form-progress-label")).to_contain_text("已填 0/")
    page.reload()
    expect(passed).to_have_attribute("aria-pressed", "false")


def test_submitting_while_a_photo_is_being_prepared_waits_for_it(new_mobile_context, spot):
    """A 3000×2000 photo is still being shrunk on the phone when 提交检查 is tapped: is the
    form submitted with it, rather than refused for a missing photo?"""
    inspection_id, username, items = spot
    needs = next(item for item in items
                 if item["photo_rule"] == "required" and item["response_type"] == "pass_fail")
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    quick_fill(page, items, keep=(needs["code"],))
    expect_all_answered(page, items)
    page.context.set_offline(True)
    page.evaluate("""([code, data]) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const files = new DataTransfer();
      files.items.add(new File([bytes], "p.jpg", { type: "image/jpeg" }));
      const input = document.querySelector(`[data-photo-input="${code}:camera"]`);
      input.files = files.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      document.getElementById("submit").click();  // same tick: the photo is not stored yet
    }""", [needs["code"], base64.b64encode(phone_photo(3)).decode()])
    expect(page.locator("#queued-note")).to_be_visible()
    expect(page.locator("#missing")).to_be_hidden()
    page.context.set_offline(False)
    expect(page.locator("#summary-total")).to_be_visible(timeout=15000)
    assert [p.item_code for p in photos_of(inspection_id)] == [needs["code"]]


def test_the_grade_is_said_in_english_after_submitting_and_on_the_result(new_mobile_context,
                                                                         spot):
    """In English, do the form's summary after 提交检查 and the result page give the grade in
    English ("Grade: Excellent", not "Grade: 优秀") — and 优秀 in Chinese?"""
    inspection_id, username, items = spot
    page = new_mobile_context().new_page()
    sign_in(page, username, f"/tasks/{inspection_id}")
    page.wait_for_selector("html[data-form-ready]", state="attached")
    quick_fill(page, items)
    expect_all_answered(page, items)
    page.goto(f"/tasks/{inspection_id}?lang=en")
    page.wait_for_selector("html[data-form-ready]", state="attached")
    page.locator("#submit").click()
    expect(page.locator("#summary")).to_contain_text("Grade: Excellent")
    page.goto(f"/results/{inspection_id}")
    expect(page.locator("#result-score")).to_contain_text("Grade: Excellent")
    page.goto(f"/results/{inspection_id}?lang=zh")
    expect(page.locator("#result-score")).to_contain_text("等级：优秀")


def test_the_menus_pages_work_offline_even_if_never_opened(new_mobile_context, spot):
    """Signed in straight onto a form (the worker installed on the sign-in page, where it
    could keep no page), is 我的任务 still there offline — not the home page in its place?"""
    inspection_id, username, items = spot
    context = new_mobile_context()
    page = context.new_page()
    open_form(page, username, inspection_id)
    # polled with evaluate(), which waits for the promise: wait_for_function would take the
    # promise itself for a truthy answer and return at once (and, under load, go offline
    # before the worker has kept the pages)
    for _ in range(150):
        if page.evaluate("""async () => {
            const cache = await caches.open("inspect-runtime-v1");
            return Boolean(await cache.match("/tasks")) && Boolean(await cache.match("/results"));
        }"""):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the worker never kept 我的任务 and 检查结果")
    context.set_offline(True)
    page.goto("/tasks")
    expect(page.locator("h1")).to_have_text("我的任务")
    expect(page.locator(f'[data-task="{inspection_id}"]')).to_be_visible()


def test_a_submission_that_keeps_meeting_a_write_conflict_waits_for_the_person(
        new_mobile_context, spot):
    """The server answers 409 write_conflict (another request wrote the same row at that
    moment): is the submission sent again on the next syncs, three times in all, then held on
    the phone with the message and 重试 — and does 重试 then submit it exactly once?"""
    inspection_id, username, items = spot
    page = new_mobile_context().new_page()
    open_form(page, username, inspection_id)
    quick_fill(page, items)
    expect_all_answered(page, items)
    conflicts = []

    def conflict(route):
        conflicts.append(route.request.headers.get("idempotency-key"))
        route.fulfill(status=409, headers={"Retry-After": "1"}, json={"error": {
            "code": "write_conflict", "message": "另一个请求同时写入了相同的数据，请稍后重试"}})

    submit_url = re.compile(rf"/api/v1/inspections/{inspection_id}/submit$")
    page.route(submit_url, conflict)
    page.get_by_role("button", name="提交检查").click()
    expect(page.locator("#queued-note")).to_be_visible()
    for sent in (1, 2):
        wait_for(page, lambda sent=sent: len(conflicts) >= sent)
        expect(page.locator("#queued-note")).to_be_visible()  # still waiting, no error
        expect(page.get_by_role("button", name="重试")).to_have_count(0)
        page.locator("#sync-now").click()
    wait_for(page, lambda: len(conflicts) >= 3)
    expect(page.locator("#summary .error")).to_contain_text("另一个请求同时写入了相同的数据")
    page.locator("#sync-now").click()  # a sync now leaves it alone: it waits for the person
    page.wait_for_timeout(500)
    assert len(conflicts) == 3 and len(set(conflicts)) == 1  # the same key each time
    assert reloaded(inspection_id).status is not InspectionStatus.submitted

    page.unroute(submit_url)
    page.locator("#summary").get_by_role("button", name="重试").click()
    expect(page.locator("#summary-total")).to_be_visible(timeout=15000)
    assert reloaded(inspection_id).status is InspectionStatus.submitted
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)
                             .where(Submission.inspection_id == inspection_id)) == 1


def test_outlet_fixes_a_mystery_visit_finding_with_context_and_sees_what_it_sent(
        new_mobile_context, first, client, api):
    """On a mystery visit's items, does the outlet's card say where they come from (神秘人 and
    the day, a link to the result, the inspector's before-photo — never the shopper nor a
    time), take two gallery photos at once, show the note and photos it sent while the fix
    awaits review — and, once the inspection is returned to its inspector, say so on the card
    instead of taking the fix, and drop the item from the list?"""
    from inspect_app.rectification.models import RectificationItem, RectificationState

    from ..helpers import submit_filled
    from ..rectification.conftest import failable_codes

    inspection = first("mystery_visit")
    shopper = api(filler_of(inspection))
    codes = failable_codes(client, shopper, inspection, 2)
    response = submit_filled(client, shopper, inspection.id, fail=tuple(codes))
    assert response.status_code == 200, response.get_json()
    fixed, held = (db.session.scalar(sa.select(RectificationItem).where(
        RectificationItem.inspection_id == inspection.id, RectificationItem.item_code == code))
        for code in codes)
    page = new_mobile_context(**GEO).new_page()
    sign_in(page, outlet_manager_of(inspection), "/rectification")
    card = page.locator(f'[data-rect="{fixed.id}"]')
    source = card.locator(f'[data-rect-source="{inspection.id}"]')
    expect(source).to_contain_text("来源：神秘人")
    expect(source.get_by_role("link", name="查看检查结果")).to_have_attribute(
        "href", f"/results/{inspection.id}")
    expect(card.locator("img[data-before]")).to_have_count(1)
    text = card.inner_text()
    assert inspection.assignee.display_name not in text and not re.search(r"\d\d:\d\d", text)
    gallery = page.locator(f'[data-after-photo="{fixed.id}:gallery"]')
    assert gallery.get_attribute("multiple") is not None
    gallery.set_input_files([
        {"name": f"after{n}.jpg", "mimeType": "image/jpeg", "buffer": phone_photo(n)}
        for n in (8, 9)])
    expect(card.locator(".thumb .badge")).to_have_count(2)
    card.locator("textarea").fill("已整改并复核")
    card.get_by_role("button", name="提交整改").click()
    expect(card.locator('[data-rect-state="submitted"]')).to_have_text("已提交整改，等待验收")
    expect(card.locator(f'[data-rect-note="{fixed.id}"]')).to_have_text("整改说明：已整改并复核")
    expect(card.locator("img[data-sent]")).to_have_count(2)
    page.reload()  # read-only, from the server, while it awaits review
    card = page.locator(f'[data-rect="{fixed.id}"]')
    expect(card.locator(f'[data-rect-note="{fixed.id}"]')).to_have_text("整改说明：已整改并复核")
    expect(card.locator("img[data-sent]")).to_have_count(2)
    expect(card.locator("img[data-before]")).to_have_count(1)
    expect(card.locator("[data-after-photo]")).to_have_count(0)

    returned = client.post(f"/api/v1/inspections/{inspection.id}/return",
                           json={"reason": "请补充计时说明"}, headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()
    other = page.locator(f'[data-rect="{held.id}"]')
    page.locator(f'[data-after-photo="{held.id}:camera"]').set_input_files(
        {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": phone_photo(10)})
    expect(other.locator(f'[data-rect-held="{held.id}"]')).to_have_text(
        "该检查已退回检查人修改，整改项暂不可处理")
    page.reload()
    expect(page.locator("#rect-status")).to_be_visible()
    expect(page.locator(f'[data-rect="{held.id}"]')).to_have_count(0)
    expect(page.locator(f'[data-rect="{fixed.id}"]')).to_have_count(0)
    db.session.expire_all()
    assert db.session.get(RectificationItem, held.id).state is RectificationState.open
    assert not photos_of_item(held.id)
