"""One form filled in two places: two phones (a peer-check team shares its task), where after a
draft conflict neither choice throws the other phone's answers away; two tabs of one phone, each
showing what the other answered."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection, InspectionStatus

from ..helpers import filler_of
from .pwa_helpers import expect_all_answered, open_form, quick_fill, stored, wait_for


def draft_of(inspection_id: int) -> dict:
    db.session.expire_all()
    return db.session.get(Inspection, inspection_id).draft or {}


def tap(page, code: str, label: str) -> None:
    page.locator(f"#item-{code}").get_by_role("button", name=label, exact=True).click()


@pytest.mark.parametrize("choice", ["保留本机", "使用服务器版本"])
def test_a_draft_conflict_merges_the_two_phones_answers(new_mobile_context, first, choice):
    """Phone 1 answers four items and syncs; phone 2, opened before, answers one of them
    differently and two others, and meets the conflict. Does the card say how many of the
    other's answers are kept and which item differs — and does either choice leave the server
    with all six items, the differing one as chosen?"""
    inspection = first("spot_check")
    username = filler_of(inspection)
    plain = [item.code for item in inspection.form_items() if item.response_type == "pass_fail"
             and item.photo_rule != "required"][:6]
    one, two = (new_mobile_context().new_page() for _ in range(2))
    for page in (one, two):
        open_form(page, username, inspection.id)

    for code in plain[:4]:
        tap(one, code, "合格")
    expect(one.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)
    wait_for(one, lambda: len(draft_of(inspection.id)) == 4)

    tap(two, plain[0], "不合格")
    for code in plain[4:]:
        tap(two, code, "合格")
    card = two.locator("#conflict")
    expect(card).to_be_visible(timeout=15000)
    expect(two.locator("#conflict-differ")).to_have_text(f"两边答案不同的项：{plain[0]}")
    expect(two.locator("#conflict-keep-note")).to_contain_text("另一台设备另填的 3 项一并保留")
    expect(two.locator("#conflict-server-note")).to_contain_text("本机另填的 2 项一并保留")

    card.get_by_role("button", name=choice, exact=True).click()
    expect(card).to_be_hidden()
    expect(two.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)
    kept = "fail" if choice == "保留本机" else "pass"
    wait_for(two, lambda: len(draft_of(inspection.id)) == 6)
    draft = draft_of(inspection.id)
    assert set(draft) == set(plain)
    assert draft[plain[0]]["value"] == kept
    shown = "不合格" if kept == "fail" else "合格"
    expect(two.locator(f"#item-{plain[0]}").get_by_role("button", name=shown, exact=True)
           ).to_have_attribute("aria-pressed", "true")
    expect(two.locator("#form-progress-label")).to_contain_text("已填 6/")


def test_the_conflict_card_gives_the_servers_time_in_the_banks_zone(new_mobile_context, first):
    """A phone set to UTC meets a draft conflict: does the card say when the server's copy was
    saved in the bank's time (as every page and PDF does), not the phone's?"""
    inspection = first("spot_check")
    username = filler_of(inspection)
    plain = [item.code for item in inspection.form_items() if item.response_type == "pass_fail"
             and item.photo_rule != "required"][:2]
    one = new_mobile_context().new_page()
    two = new_mobile_context(timezone_id="UTC").new_page()
    for page in (one, two):
        open_form(page, username, inspection.id)
    tap(one, plain[0], "合格")
    expect(one.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)
    wait_for(one, lambda: len(draft_of(inspection.id)) == 1)
    tap(two, plain[1], "合格")
    expect(two.locator("#conflict")).to_be_visible(timeout=15000)
    db.session.expire_all()
    saved = db.session.get(Inspection, inspection.id).updated_at.astimezone(
        ZoneInfo("Asia/Shanghai"))
    expect(two.locator("#conflict-server")).to_have_text(
        f"服务器：已填 1 项（{saved.month}-{saved:%d %H:%M}）")


def test_a_second_tab_on_the_same_form_shows_the_other_tabs_answers(new_mobile_context, first):
    """The same form open in two tabs of one phone: while the person types a note in tab B, tab
    A answers every item. Does tab B show the answers (counter and pressed buttons) without
    losing what is being typed?"""
    inspection = first("spot_check")
    items = [item.to_document() for item in inspection.form_items()]
    text = next(item for item in items if item["response_type"] == "text")
    plain = next(item for item in items if item["response_type"] == "pass_fail"
                 and item["photo_rule"] != "required")
    context = new_mobile_context()
    a = context.new_page()
    open_form(a, filler_of(inspection), inspection.id)
    b = context.new_page()
    b.goto(f"/tasks/{inspection.id}")
    b.wait_for_selector("html[data-form-ready]", state="attached")
    expect(b.locator("#form-progress-label")).to_contain_text("已填 0/")
    typing = b.locator(f'#item-{text["code"]} textarea[data-text]')
    typing.click()
    b.keyboard.type("大堂")

    quick_fill(a, [item for item in items if item["code"] != text["code"]])
    expect_all_answered(a, items)
    expect_all_answered(b, items)
    expect(b.locator(f"#item-{plain['code']}").get_by_role("button", name="合格", exact=True)
           ).to_have_attribute("aria-pressed", "true")
    b.keyboard.type("整洁")
    expect(typing).to_have_value("大堂整洁")
    assert b.evaluate("document.activeElement.dataset.text") == text["code"]


def test_submitting_in_a_tab_not_yet_told_of_anothers_change_sends_that_change(
        new_mobile_context, first):
    """Tab B turns an answer to 不合格 while tab A, every item answered 合格, has not heard of
    it yet (the tabs' message is on its way; here it never arrives). 提交检查 in tab A: does
    the server get 不合格, the last answer the person gave on this phone — not tab A's copy?"""
    inspection = first("spot_check")
    items = [item.to_document() for item in inspection.form_items()]
    changed = next(item for item in items if item["response_type"] == "pass_fail"
                   and item["photo_rule"] == "optional")
    context = new_mobile_context()
    a = context.new_page()
    a.add_init_script("delete window.BroadcastChannel")  # tab A hears nothing from tab B
    open_form(a, filler_of(inspection), inspection.id)
    quick_fill(a, items)
    expect_all_answered(a, items)
    expect(a.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)

    b = context.new_page()
    b.goto(f"/tasks/{inspection.id}")
    b.wait_for_selector("html[data-form-ready]", state="attached")
    tap(b, changed["code"], "不合格")
    expect(b.locator("#sync-pending")).to_have_text("已全部同步", timeout=15000)
    wait_for(b, lambda: (draft_of(inspection.id).get(changed["code"]) or {}).get("value")
             == "fail")

    a.get_by_role("button", name="提交检查").click()
    wait_for(a, lambda: stored(inspection.id).status is InspectionStatus.submitted)
    given = {answer.item_code: answer.value for answer in stored(inspection.id).answers}
    assert given[changed["code"]] == "fail"
    assert len(given) == len(items)
