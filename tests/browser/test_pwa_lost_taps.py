"""A tap on the phone is never lost: not to the page redrawing under the finger, not to a draft
sync already on its way to the server when the tap is made."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from playwright.sync_api import expect

from inspect_app.evidence.models import Photo
from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection

from ..helpers import filler_of, submit_filled
from .pwa_helpers import (
    GEO,
    answer,
    attach_photo,
    open_form,
    outlet_manager_of,
    phone_photo,
    plain_items,
    sign_in,
    stored,
    wait_for,
)

# Resolves once the times' grid has been redrawn after another tab says it has synced (a message
# on the app's channel, as every tab sends when its sync goes idle: the form then reloads what
# the phone holds and draws the times anew).
REDRAW_TIMES = """() => new Promise((resolve, reject) => {
  const grid = document.getElementById("event-grid");
  const seen = new MutationObserver(() => { seen.disconnect(); resolve(true); });
  seen.observe(grid, { subtree: true, childList: true, attributes: true, characterData: true });
  new BroadcastChannel("inspect-sync").postMessage("synced");
  setTimeout(() => reject(new Error("the times were not redrawn")), 10000);
})"""


def test_a_visit_time_tapped_while_the_times_are_redrawn_is_recorded(new_mobile_context, first):
    """The shopper's finger is on 取号 when the form redraws its times (a sync has just
    finished): once the finger lifts, is the time recorded — on the phone and on the server?"""
    inspection = first("mystery_visit")
    page = new_mobile_context().new_page()
    open_form(page, inspection.assignee.username, inspection.id)
    button = page.locator('#event-grid [data-event="ticket"]')
    box = button.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    assert page.evaluate(REDRAW_TIMES)
    page.mouse.up()
    expect(page.locator('[data-event-cell="ticket"]')).to_have_class(re.compile(r"\bset\b"))
    expect(button).to_be_disabled()
    wait_for(page, lambda: "ticket" in (stored(inspection.id).events or {}))


def test_an_answer_tapped_while_its_draft_is_being_sent_reaches_the_server(new_mobile_context,
                                                                            first):
    """The phone's clock reads the same millisecond throughout (a coarse clock, or a tap in the
    very millisecond the sync read the form): an answer tapped while the draft holding the
    previous one is on its way is not taken for sent — it reaches the server too."""
    inspection = first("spot_check")
    items = [i.to_document() for i in inspection.form_items()]
    one, two = plain_items(items, 2)
    page = new_mobile_context().new_page()
    open_form(page, filler_of(inspection), inspection.id)
    page.clock.set_fixed_time(datetime.now(UTC))
    held = []  # the first draft sent is held on its way; any later one goes through

    def hold_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/v1/inspections/*/draft", hold_first)
    answer(page, one)
    wait_for(page, lambda: held)  # the draft with the first answer is on its way ...
    answer(page, two)             # ... when the second is tapped
    expect(page.locator(f"#item-{two['code']} button[aria-pressed=true]")).to_have_text("合格")
    held[0].continue_()
    wait_for(page, lambda: {one["code"], two["code"]} <= set(stored(inspection.id).draft or {}))


# Whether the phone holds changes of the form not yet on the server (read from its IndexedDB).
HELD_DIRTY = """(id) => new Promise((resolve, reject) => {
  const opened = indexedDB.open("inspect-pwa");
  opened.onerror = () => reject(opened.error);
  opened.onsuccess = () => {
    const read = opened.result.transaction("forms").objectStore("forms").get(id);
    read.onsuccess = () => { resolve(Boolean(read.result && read.result.dirty)); opened.result.close(); };
    read.onerror = () => reject(read.error);
  };
})"""


def test_an_answer_synced_is_still_there_after_reloading_offline(new_mobile_context, first):
    """An inspector's answer reaches the server; then the network goes and the page is loaded
    again (the phone killed the tab): is the answer still there — not put back to the copy of
    the form the phone kept from when it was opened?"""
    inspection = first("spot_check")
    items = [i.to_document() for i in inspection.form_items()]
    item = next(i for i in items if i["response_type"] == "pass_fail"
                and i["photo_rule"] != "required")
    page = new_mobile_context().new_page()
    open_form(page, filler_of(inspection), inspection.id)
    answer(page, item)
    wait_for(page, lambda: item["code"] in (stored(inspection.id).draft or {}))
    wait_for(page, lambda: not page.evaluate(HELD_DIRTY, inspection.id))  # taken for sent
    page.context.set_offline(True)
    page.reload()
    expect(page.locator(f"#item-{item['code']} button[aria-pressed=true]")).to_have_text("合格")
    expect(page.locator("#form-progress-label")).to_contain_text("已填 1/")


def test_a_photo_from_a_camera_opened_before_a_redraw_is_kept(new_mobile_context, first):
    """The inspector opens the camera for one item; while the phone is in the camera, the photo
    of another item finishes and the form redraws its photo strips. The camera's photo comes
    back to the input it was opened from: is it added — not lost to an input no longer there?"""
    inspection = first("spot_check")
    items = [i.to_document() for i in inspection.form_items()]
    first_code, other_code = [i["code"] for i in items if i["photo_rule"] == "optional"][:2]
    page = new_mobile_context(**GEO).new_page()
    open_form(page, filler_of(inspection), inspection.id)
    picker = page.locator(f'label:has([data-photo-input="{first_code}:camera"])')
    with page.expect_file_chooser() as chooser:
        picker.click()
    attach_photo(page, other_code, "gallery", 23)  # the strips are redrawn meanwhile
    expect(page.locator(f"#item-{other_code} .badge.ok")).to_have_count(1)  # and again: uploaded
    # Chromium still hands the file to an input no longer in the page; other browsers need not:
    # the input the camera was opened from must still be the one on the page
    assert chooser.value.element.evaluate("input => input.isConnected")
    chooser.value.set_files({"name": "camera.jpg", "mimeType": "image/jpeg",
                             "buffer": phone_photo(24)})
    expect(page.locator(f"#item-{first_code} .thumb")).to_have_count(1)
    wait_for(page, lambda: db.session.scalar(sa.select(sa.func.count(Photo.id)).where(
        Photo.inspection_id == inspection.id, Photo.item_code == first_code)) == 1)


def test_a_fix_submitted_while_its_photos_go_up_is_sent_with_all_of_them(new_mobile_context,
                                                                          first, client, api):
    """The outlet picks two after-photos from the gallery and taps 提交整改 while the second is
    still going up: is the fix sent once both are up, with both — not with the first alone and
    the second refused afterwards, with no word said?"""
    from inspect_app.rectification.models import RectificationItem, RectificationState

    inspection = first("spot_check")
    response = submit_filled(client, api(filler_of(inspection)), inspection.id, fail=("ENV-03",))
    assert response.status_code == 200, response.get_json()
    item = db.session.scalar(sa.select(RectificationItem).where(
        RectificationItem.inspection_id == inspection.id, RectificationItem.item_code == "ENV-03"))
    page = new_mobile_context(**GEO).new_page()
    sign_in(page, outlet_manager_of(inspection), "/rectification")
    posted = []  # the second photo is held on its way

    def hold_second(route):
        posted.append(route)
        if len(posted) != 2:
            route.continue_()

    page.route(f"**/api/v1/rectification/items/{item.id}/photos", hold_second)
    card = page.locator(f'[data-rect="{item.id}"]')
    card.locator(f'[data-after-photo="{item.id}:gallery"]').set_input_files([
        {"name": f"after{n}.jpg", "mimeType": "image/jpeg", "buffer": phone_photo(n)}
        for n in (11, 12)])
    wait_for(page, lambda: len(posted) == 2)
    card.locator("textarea").fill("已更换破损座椅，撤下过期海报")
    card.get_by_role("button", name="提交整改").click()
    page.wait_for_timeout(300)  # the fix waits for the photo: nothing is sent yet
    assert stored_item(item.id).state is RectificationState.open
    posted[1].continue_()
    expect(card).to_contain_text("已提交整改，等待验收")
    assert stored_item(item.id).state is RectificationState.submitted
    assert len(db.session.scalars(sa.select(Photo).where(
        Photo.rectification_item_id == item.id)).all()) == 2


def stored_item(item_id: int):
    from inspect_app.rectification.models import RectificationItem

    db.session.expire_all()
    return db.session.get(RectificationItem, item_id)


def test_a_photo_taken_back_while_it_goes_up_is_not_left_on_the_server(new_mobile_context,
                                                                        first):
    """The inspector removes a photo (×, confirmed) while it is still going up: once the upload
    has gone through, is it removed from the server too — not kept there as evidence of the
    inspection though the phone no longer shows it?"""
    from inspect_app.audit.models import AuditEntry

    inspection = first("spot_check")
    items = [i.to_document() for i in inspection.form_items()]
    code = next(i["code"] for i in items if i["photo_rule"] == "optional")
    page = new_mobile_context(**GEO).new_page()
    open_form(page, filler_of(inspection), inspection.id)
    since = db.session.scalar(sa.select(sa.func.max(AuditEntry.id)))
    held = []
    page.route(f"**/api/v1/inspections/{inspection.id}/photos",
               lambda route: held.append(route) if not held else route.continue_())
    attach_photo(page, code, "gallery", 21)
    wait_for(page, lambda: held)  # on its way ...
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(f"#item-{code} button.remove").click()  # ... when it is taken back
    expect(page.locator(f"#item-{code} .thumb")).to_have_count(0)
    held[0].continue_()

    def audited() -> set[str]:  # what became of the photo on the server since
        db.session.expire_all()
        kept = db.session.scalar(sa.select(sa.func.count()).select_from(Photo).where(
            Photo.inspection_id == inspection.id))
        return set(db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.id > since, AuditEntry.object_type == "photo"))) | (
            {"kept"} if kept else set())

    wait_for(page, lambda: audited() == {"photo.upload", "photo.delete"})
    expect(page.locator(f"#item-{code} .thumb")).to_have_count(0)


# The note of an item as the phone holds it (read from its IndexedDB).
HELD_NOTE = """([id, code]) => new Promise((resolve, reject) => {
  const opened = indexedDB.open("inspect-pwa");
  opened.onerror = () => reject(opened.error);
  opened.onsuccess = () => {
    const read = opened.result.transaction("forms").objectStore("forms").get(id);
    read.onsuccess = () => {
      const answer = read.result && read.result.answers && read.result.answers[code];
      resolve(answer ? answer.note : null);
      opened.result.close();
    };
    read.onerror = () => reject(read.error);
  };
})"""


def test_a_note_typed_while_a_photo_is_prepared_is_kept_at_once(new_mobile_context, first):
    """The phone is still finding out where a photo was taken (up to 4 s, indoors) when the
    inspector types a note on another item: is the note written to the phone at once — not
    held in memory until the photo is ready, and lost if the phone closes the tab meanwhile?"""
    inspection = first("spot_check")
    items = [i.to_document() for i in inspection.form_items()]
    code = next(i["code"] for i in items if i["photo_rule"] == "optional")
    other = next(i["code"] for i in items if i["code"] != code and i["response_type"] != "text")
    context = new_mobile_context(**GEO)
    # no fix indoors: the phone waits its 4 s for a position
    context.add_init_script("navigator.geolocation.getCurrentPosition = () => {};")
    page = context.new_page()
    open_form(page, filler_of(inspection), inspection.id)
    page.locator(f'[data-photo-input="{code}:gallery"]').set_input_files(
        {"name": f"{code}.jpg", "mimeType": "image/jpeg", "buffer": phone_photo(31)})
    box = page.locator(f"#item-{other}")
    box.locator("details.note summary").click()
    box.locator("textarea[data-note]").fill("灯箱一侧破损")
    # the note as the phone holds it, and the photo's thumbnails, read in one go: the note is
    # there while the photo is still being prepared (before, it waited the 4 s behind it)
    read = ("async ([id, other, code]) => [await (" + HELD_NOTE + ")([id, other]), "
            "document.querySelectorAll(`#item-${code} .thumb`).length]")
    seen = []
    wait_for(page, lambda: seen.append(page.evaluate(read, [inspection.id, other, code]))
             or seen[-1][0])
    assert seen[-1] == ["灯箱一侧破损", 0], seen[-1]
    expect(page.locator(f"#item-{code} .thumb")).to_have_count(1, timeout=15000)


def test_a_draft_saved_whose_answer_was_lost_is_no_conflict(new_mobile_context, first):
    """The server saves the phone's draft but its answer never reaches the phone (the network
    drops on the way back): on the next sync, is the draft simply sent again — not put to the
    inspector as a conflict with "another device" whose copy is the phone's own?"""
    inspection = first("spot_check")
    items = [i.to_document() for i in inspection.form_items()]
    one, two = plain_items(items, 2)
    page = new_mobile_context().new_page()
    open_form(page, filler_of(inspection), inspection.id)
    lost = []

    def save_then_drop(route):  # the first draft reaches the server; its answer does not
        if lost:
            route.continue_()
            return
        lost.append(route.fetch())
        route.abort("connectionreset")

    page.route("**/api/v1/inspections/*/draft", save_then_drop)
    answer(page, one)
    wait_for(page, lambda: one["code"] in (stored(inspection.id).draft or {}))
    answer(page, two)
    wait_for(page, lambda: {one["code"], two["code"]} <= set(stored(inspection.id).draft or {}))
    expect(page.locator("#conflict")).to_be_hidden()
    wait_for(page, lambda: not page.evaluate(HELD_DIRTY, inspection.id))
    expect(page.locator("#conflict")).to_be_hidden()


KEPT_TASKS_PAGE = """async () => {
  const kept = await (await caches.open("inspect-runtime-v1")).match("/tasks");
  return kept ? await kept.text() : null;
}"""


def kept_tasks_page(page, seconds: float = 15) -> str:
    """The 我的任务 page the phone keeps for offline use, once it has one."""
    for _ in range(int(seconds * 10)):
        kept = page.evaluate(KEPT_TASKS_PAGE)
        if kept:
            return kept
        page.wait_for_timeout(100)
    raise AssertionError("the phone kept no 我的任务 page")


def test_the_next_person_on_a_shared_phone_never_sees_the_last_ones_pages(new_mobile_context,
                                                                          first):
    """An outlet's phone is shared: one inspector uses 我的任务, signs out from the home page and
    another signs in. Offline, does 我的任务 show the second person's page — not the first's,
    with the first's tasks, acting in the second's session?"""
    from .pwa_helpers import DEMO_PASSWORD

    inspection = first("spot_check")
    first_person = filler_of(inspection)
    second_person = "jc.fenhang1" if first_person != "jc.fenhang1" else "jc.fenhang2"
    page = new_mobile_context().new_page()
    sign_in(page, first_person, "/tasks")
    page.wait_for_selector("html[data-offline-ready]", state="attached", timeout=15000)
    assert f'content="{first_person}"' in kept_tasks_page(page)
    page.goto("/")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    page.get_by_label("用户名").fill(second_person)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    kept = kept_tasks_page(page)
    assert f'content="{second_person}"' in kept and f'content="{first_person}"' not in kept
    page.context.set_offline(True)
    page.goto("/tasks")
    expect(page.locator('meta[name="app-user"]')).to_have_attribute("content", second_person)
    expect(page.locator(f'[data-task="{inspection.id}"]')).to_have_count(0)


def test_a_page_made_for_one_person_does_not_act_in_anothers_session(new_mobile_context, first):
    """A form page open for one inspector while, in another tab, they sign out and someone else
    signs in on the same phone: an answer tapped on the old page is not sent in the new person's session — the sync
    bar asks to sign in again, and the answer stays on the phone."""
    from .pwa_helpers import DEMO_PASSWORD

    inspection = first("spot_check")
    items = [i.to_document() for i in inspection.form_items()]
    item = next(i for i in items if i["response_type"] == "pass_fail"
                and i["photo_rule"] != "required")
    context = new_mobile_context()
    page = context.new_page()
    open_form(page, filler_of(inspection), inspection.id)
    other = context.new_page()  # the first person signed out and the next signed in
    other.goto("/")
    other.get_by_role("button", name="退出").click()
    other.wait_for_url("**/login")
    other.get_by_label("用户名").fill("fwgl")
    other.get_by_label("密码").fill(DEMO_PASSWORD)
    other.get_by_role("button", name="登录").click()
    other.wait_for_url("**/")
    answer(page, item)
    expect(page.locator("#sync-error")).to_contain_text("登录", timeout=15000)
    assert item["code"] not in (stored(inspection.id).draft or {})
    assert page.evaluate(HELD_DIRTY, inspection.id)  # kept on the phone, to send when signed in


def test_answers_held_while_a_task_was_elsewhere_survive_its_return(new_mobile_context, first,
                                                                     client, api):
    """Offline, an inspector answers two items; meanwhile the planner gives the task to someone
    else, and later gives it back. Are the two answers — which only the phone ever had — still
    there when it returns, and then sent, not replaced by the server's copy without them?"""
    from inspect_app.auth.models import User

    from .test_pwa_cancelled import reassign_away

    inspection = first("spot_check")
    username = filler_of(inspection)
    items = [i.to_document() for i in inspection.form_items()]
    one, two = plain_items(items, 2)
    page = new_mobile_context().new_page()
    open_form(page, username, inspection.id)
    page.context.set_offline(True)
    answer(page, one)
    answer(page, two)
    reassign_away(client, api, inspection.id, username)
    page.context.set_offline(False)
    page.locator("#sync-now").click()
    expect(page.locator("#gone-note")).to_be_visible(timeout=15000)

    back = client.post(f"/api/v1/inspections/{inspection.id}/reassign", headers=api("fwgl"),
                       json={"assignee_id": db.session.scalar(sa.select(User.id).where(
                           User.username == username)), "reason": "出差取消，仍由原检查员检查"})
    assert back.status_code == 200, back.get_json()
    page.goto("/tasks")  # the list fetches the task again, and keeps it for offline use
    page.wait_for_selector("html[data-offline-ready]", state="attached", timeout=15000)
    wait_for(page, lambda: {one["code"], two["code"]} <= set(
        stored(inspection.id).draft or {}))


def test_results_leaving_the_list_between_pages_hide_none_of_the_next(new_mobile_context,
                                                                      campaign, client, api):
    """A manager reads 检查结果 a page at a time while a reviewer sends back two of the results
    on the first page (they leave the list): does 加载更多 then bring every next result — not
    skip the two that moved up onto the first page's end, with the count still looking whole?"""
    from inspect_app.inspections.models import Mode

    spots = db.session.scalars(sa.select(Inspection).where(
        Inspection.campaign_id == campaign["id"], Inspection.mode == Mode.spot_check)
        .order_by(Inspection.id).limit(2)).all()
    for spot in spots:  # the newest results: the top of the list
        response = submit_filled(client, api(filler_of(spot)), spot.id)
        assert response.status_code == 200, response.get_json()
    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", "/results")
    rows = page.locator("#results-list [data-result]")
    expect(rows).to_have_count(30)
    for spot in spots:
        sent_back = client.post(f"/api/v1/inspections/{spot.id}/return", headers=api("fwgl"),
                                json={"reason": "照片不清晰，请补拍"})
        assert sent_back.status_code == 200, sent_back.get_json()
    page.locator("#results-more").click()
    expect(rows).to_have_count(60)  # the two sent back stay shown until the list is reloaded
    listed = client.get("/api/v1/inspections?status=submitted&status=final&order=recent"
                        "&per_page=58", headers=api("fwgl")).get_json()["items"]
    shown = [int(i) for i in rows.evaluate_all("(rows) => rows.map((r) => r.dataset.result)")]
    assert set(shown) == {r["id"] for r in listed} | {s.id for s in spots}
