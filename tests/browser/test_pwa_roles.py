"""What each role finds on a phone: the menu, appeals, fix reviews, PDFs, managers' pages."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime

import sqlalchemy as sa
from playwright.sync_api import expect

from inspect_app.auth.models import RoleGrant, User
from inspect_app.auth.permissions import Role
from inspect_app.extensions import db
from inspect_app.inspections.models import Appeal, AppealStatus, Inspection
from inspect_app.rectification.models import RectificationItem, RectificationState

from ..helpers import filler_of, jpeg, new_key, submit_filled
from .pwa_helpers import open_result_with_finding, outlet_manager_of, sign_in


def shows_no_placeholder(page) -> None:
    """Nothing on screen reads "null" or "undefined" (an empty field rendered as text)."""
    text = page.locator("main").inner_text()
    assert "null" not in text and "undefined" not in text, text


def subbranch_manager_of(inspection: Inspection) -> str:
    return db.session.scalar(sa.select(User.username).join(RoleGrant).where(
        RoleGrant.role == Role.subbranch_manager,
        RoleGrant.org_unit_id == inspection.outlet.parent_id))


def test_outlet_manager_reaches_their_self_check_from_the_menu(new_mobile_context, first):
    """Does an outlet manager, who fills the outlet's self-checks, find 我的任务 in the menu
    and their self-check behind it?"""
    inspection = first("self_check")
    page = new_mobile_context().new_page()
    sign_in(page, outlet_manager_of(inspection), "/")
    page.locator(".topnav").get_by_role("link", name="我的任务").click()
    page.wait_for_url("**/tasks")
    expect(page.locator(f'[data-task="{inspection.id}"]')).to_contain_text("自查")


def test_outlet_appeals_a_finding_and_a_reviewer_decides_it(new_mobile_context, first, client,
                                                            api):
    """Can the outlet's manager appeal a finding from its result page (button, category,
    reason), a service manager find it under 申诉处理 and overturn it, and the outlet then
    see the outcome?"""
    inspection = first("spot_check")
    outlet, finding = open_result_with_finding(new_mobile_context, client, api, inspection)
    outlet.locator(f'[data-appeal="{finding["id"]}"]').click()
    outlet.locator(f'[data-appeal-category="{finding["id"]}"]').select_option("standard_misapplied")
    box = outlet.locator(f'[data-appeal-box="{finding["id"]}"]')
    box.get_by_role("button", name="提交申诉").click()
    expect(box).to_contain_text("请填写申诉理由")  # too short: nothing sent
    outlet.locator(f'[data-appeal-text="{finding["id"]}"]').fill("海报已按总行新版要求整合到电子屏")
    box.get_by_role("button", name="提交申诉").click()
    expect(box.locator("[data-appeal-state]")).to_have_text("申诉：待处理")
    expect(outlet.locator(f'[data-appeal="{finding["id"]}"]')).to_have_count(0)
    shows_no_placeholder(outlet)

    reviewer = new_mobile_context().new_page()
    sign_in(reviewer, "fwgl", "/")
    reviewer.locator(".topnav").get_by_role("link", name="申诉处理").click()
    appeal = db.session.scalar(sa.select(Appeal).where(Appeal.finding_id == finding["id"]))
    card = reviewer.locator(f'[data-appeal-card="{appeal.id}"]')
    expect(card).to_contain_text("海报已按总行新版要求整合到电子屏")
    expect(card).to_contain_text("检查标准理解有误")
    shows_no_placeholder(reviewer)
    card.locator("textarea").fill("复核照片后确认已按新版设置")
    card.get_by_role("button", name="申诉成立").click()
    expect(reviewer.locator(f'#appeals-decided [data-appeal-card="{appeal.id}"]')
           ).to_contain_text("申诉成立")
    shows_no_placeholder(reviewer)
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status is AppealStatus.overturned

    outlet.reload()
    expect(outlet.locator(f'[data-appeal-box="{finding["id"]}"] [data-appeal-state]')
           ).to_contain_text("申诉：申诉成立")

    # the appealed result can only be finalised now: the reviewer is told so, not offered
    # 退回修改 for the server to refuse
    reviewer.goto(f"/results/{inspection.id}")
    expect(reviewer.locator("#review-no-return")).to_contain_text("该检查已有申诉，不能退回重填")
    expect(reviewer.locator("#review-return")).to_have_count(0)
    expect(reviewer.locator("#review-reason")).to_have_count(0)
    reviewer.locator("#review-finalise").click()
    expect(reviewer.locator("#review-box")).to_have_count(0)
    db.session.expire_all()
    assert db.session.get(Inspection, inspection.id).status.value == "final"


def fix_through_the_api(client, headers: dict, item_id: int, seed: int) -> None:
    photo = client.post(f"/api/v1/rectification/items/{item_id}/photos", headers=headers,
                        data={"client_id": new_key(), "file": (io.BytesIO(jpeg(seed)), "a.jpg")},
                        content_type="multipart/form-data")
    assert photo.status_code == 201, photo.get_json()
    response = client.post(f"/api/v1/rectification/items/{item_id}/submit", headers=headers,
                           json={"note": "已撤下过期海报", "photo_ids": [photo.get_json()["id"]]})
    assert response.status_code == 200, response.get_json()


def failed_spot_check(first, client, api) -> tuple[Inspection, RectificationItem]:
    """The first spot check, submitted with ENV-03 failed, and the rectification item it made."""
    inspection = first("spot_check")
    response = submit_filled(client, api(filler_of(inspection)), inspection.id,
                             fail=("ENV-03",))
    assert response.status_code == 200, response.get_json()
    item = db.session.scalar(sa.select(RectificationItem).where(
        RectificationItem.inspection_id == inspection.id, RectificationItem.item_code == "ENV-03"))
    return inspection, item


def test_subbranch_manager_reviews_a_fix_with_its_after_photo(new_mobile_context, first, client,
                                                             api):
    """Does the sub-branch manager find a submitted fix under 整改验收 with the inspector's
    before-photo, the outlet's after-photo and note, send it back with a reason, and accept
    the next attempt?"""
    inspection, item = failed_spot_check(first, client, api)
    outlet = api(outlet_manager_of(inspection))
    fix_through_the_api(client, outlet, item.id, 1)

    page = new_mobile_context().new_page()
    sign_in(page, subbranch_manager_of(inspection), "/")
    page.locator(".topnav").get_by_role("link", name="整改验收").click()
    card = page.locator(f'[data-review="{item.id}"]')
    expect(card).to_contain_text("整改说明：已撤下过期海报")
    expect(card).to_contain_text(f"整改期限：{item.deadline.isoformat()}")
    expect(card.locator("img[data-before]")).to_have_count(1)  # the inspector's evidence
    photo = card.locator("img[data-after]")
    expect(photo).to_have_count(1)
    for _ in range(50):  # the after-photo itself arrives, not just its tag
        if photo.evaluate("img => img.complete && img.naturalWidth > 0"):
            break
        page.wait_for_timeout(100)
    assert photo.evaluate("img => img.naturalWidth") > 0
    shows_no_placeholder(page)
    card.get_by_role("button", name="退回整改").click()
    expect(card).to_contain_text("请填写退回原因")
    card.locator("textarea").fill("照片看不清海报区域，请重拍")
    card.get_by_role("button", name="退回整改").click()
    expect(card).to_contain_text("已退回整改：照片看不清海报区域，请重拍")
    db.session.expire_all()
    assert db.session.get(RectificationItem, item.id).state is RectificationState.open

    fix_through_the_api(client, outlet, item.id, 2)
    page.reload()
    # the new attempt is judged by its own photo; the refused one's is set apart
    again = page.locator(f'[data-review="{item.id}"]')
    expect(again.locator("img[data-after]")).to_have_count(1)
    expect(again.locator("img[data-earlier]")).to_have_count(1)
    expect(again).to_contain_text("此前被退回的整改照片")
    again.get_by_role("button", name="验收通过").click()
    expect(page.locator(f'[data-review="{item.id}"]')).to_contain_text("已验收通过")
    db.session.expire_all()
    assert db.session.get(RectificationItem, item.id).state is RectificationState.accepted
    # it now waits under 待销号 too; closed right there, on the card just decided, it is
    # closed in both places and 待销号 counts it gone
    waiting = page.locator(f'#closing-list [data-closable="{item.id}"]')
    expect(waiting.get_by_role("button", name="关闭（销号）")).to_be_visible()
    counted = page.locator("#closing-status").inner_text()
    page.locator(f'[data-review="{item.id}"]').get_by_role("button", name="关闭（销号）").click()
    expect(page.locator(f'[data-closed="{item.id}"]')).to_have_count(2)
    expect(page.locator(f'[data-close="{item.id}"]')).to_have_count(0)
    expect(page.locator("#closing-status")).not_to_have_text(counted)
    db.session.expire_all()
    assert db.session.get(RectificationItem, item.id).state is RectificationState.closed


def test_accepted_fixes_wait_under_closing_until_closed(new_mobile_context, first, client, api):
    """A fix accepted earlier (on another phone, through the API): does the sub-branch manager
    find it under 待销号 with its outlet, deadline and acceptance date, close it there, and no
    longer find it there after a reload — while the outlet is offered no such list?"""
    inspection, item = failed_spot_check(first, client, api)
    outlet = outlet_manager_of(inspection)
    fix_through_the_api(client, api(outlet), item.id, 1)
    accepted = client.post(f"/api/v1/rectification/items/{item.id}/accept", json={},
                           headers=api("fwgl"))
    assert accepted.status_code == 200, accepted.get_json()

    page = new_mobile_context().new_page()
    sign_in(page, subbranch_manager_of(inspection), "/rectification")
    card = page.locator(f'[data-closable="{item.id}"]')
    expect(card).to_contain_text(inspection.outlet.name)
    expect(card).to_contain_text(f"整改期限：{item.deadline.isoformat()}")
    expect(card).to_contain_text("验收：")
    before = page.locator("#closing-status").inner_text()
    card.get_by_role("button", name="关闭（销号）").click()
    expect(card.locator(f'[data-closed="{item.id}"]')).to_have_text("已关闭（销号）")
    expect(page.locator("#closing-status")).not_to_have_text(before)
    db.session.expire_all()
    assert db.session.get(RectificationItem, item.id).state is RectificationState.closed
    page.reload()
    expect(page.locator("#closing-status")).not_to_have_text("加载中…")
    expect(page.locator(f'[data-closable="{item.id}"]')).to_have_count(0)

    other = new_mobile_context().new_page()
    sign_in(other, outlet, "/rectification")
    expect(other.locator("#rect-status")).not_to_have_text("加载中…")
    expect(other.locator("#closing")).to_be_hidden()


def test_pdfs_and_managers_pages_are_linked_for_those_who_may_use_them(new_mobile_context,
                                                                      first, client, api):
    """Does the result page link the inspection's report and rectification list as PDFs, and
    does a sub-branch manager reach the managers' pages from the menu and download their
    sub-branch's monthly list there — while an inspector gets no such menu entry?"""
    inspection = first("spot_check")
    response = submit_filled(client, api(filler_of(inspection)), inspection.id,
                             fail=("ENV-03",))
    assert response.status_code == 200, response.get_json()

    outlet = new_mobile_context(accept_downloads=True).new_page()
    sign_in(outlet, outlet_manager_of(inspection), f"/results/{inspection.id}")
    expect(outlet.locator('[data-pdf="report"]')).to_be_visible()
    shows_no_placeholder(outlet)
    for kind in ("report", "list"):
        with outlet.expect_download() as download:
            outlet.locator(f'[data-pdf="{kind}"]').click()
        assert download.value.suggested_filename.endswith(".pdf")
        with open(download.value.path(), "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"

    manager = new_mobile_context(accept_downloads=True).new_page()
    sign_in(manager, subbranch_manager_of(inspection), "/")
    manager.locator(".topnav").get_by_role("link", name="管理看板").click()
    manager.wait_for_url("**/manage/watchlist")
    manager.locator("nav.tabs").get_by_role("link", name="整改清单").click()
    links = manager.locator("[data-list-pdf]")
    expect(links).to_have_count(1)
    expect(manager.locator(".entry-list")).to_contain_text(inspection.outlet.parent.name)
    with manager.expect_download() as download:
        links.first.click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    inspector = new_mobile_context().new_page()
    sign_in(inspector, filler_of(inspection), "/")
    expect(inspector.locator(".topnav")).not_to_contain_text("管理看板")


def test_results_show_the_date_in_the_banks_time_zone(new_mobile_context, first, client, api):
    """Submitted at 01:30 in Tangshan (17:30 UTC the day before): do the results list and the
    result page show the bank's date, as the PDFs do — even on a phone set to UTC?"""
    inspection = first("spot_check")
    assert submit_filled(client, api(filler_of(inspection)), inspection.id).status_code == 200
    stored = db.session.get(Inspection, inspection.id)
    stored.submitted_at = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)
    db.session.commit()

    page = new_mobile_context(timezone_id="UTC").new_page()
    sign_in(page, outlet_manager_of(inspection), "/results")
    row = page.locator(f'[data-result="{inspection.id}"]')
    expect(row).to_contain_text("提交日期：2026-11-28")
    row.click()
    expect(page.locator("#result-meta")).to_contain_text("提交日期：2026-11-28")


def test_results_in_english_carry_no_chinese_colons(new_mobile_context, first, client, api):
    """In English, do the results list and the result page label the inspector, the date, the
    score and the grade with an English colon ("Inspector: …"), not the Chinese "："?"""
    inspection = first("spot_check")
    assert submit_filled(client, api(filler_of(inspection)), inspection.id).status_code == 200

    page = new_mobile_context().new_page()
    sign_in(page, outlet_manager_of(inspection), "/results")
    page.goto("/results?lang=en")
    row = page.locator(f'[data-result="{inspection.id}"]')
    expect(row).to_contain_text("Inspector: ")
    expect(row).to_contain_text("Submitted on: ")
    assert "：" not in row.inner_text()
    page.goto(f"/results/{inspection.id}?lang=en")
    expect(page.locator("#result-meta")).to_contain_text("Inspector: ")
    expect(page.locator("#result-score")).to_contain_text("Score: ")
    assert "：" not in page.locator("#result-meta").inner_text()
    assert "：" not in page.locator("#result-score").inner_text()


def test_deciding_the_last_pending_appeal_updates_both_lists(new_mobile_context, first, client,
                                                             api):
    """Once the only pending appeal is decided, does 待处理 say there is nothing left and
    已处理 show the decision without its "nothing decided yet" placeholder?"""
    inspection = first("spot_check")
    response = submit_filled(client, api(filler_of(inspection)), inspection.id,
                             fail=("ENV-03",))
    assert response.status_code == 200, response.get_json()
    finding = next(f for f in response.get_json()["findings"] if f["item_code"] == "ENV-03")
    appeal = client.post(f"/api/v1/findings/{finding['id']}/appeals",
                         headers=api(outlet_manager_of(inspection)),
                         json={"category": "other", "text": "海报为总行统一下发的新版海报"})
    assert appeal.status_code == 201, appeal.get_json()

    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", "/appeals")
    expect(page.locator("#appeals-decided")).to_contain_text("暂无已处理的申诉")
    expect(page.locator("#appeals-pending-count")).to_have_text("显示 1 条，共 1 条")
    card = page.locator(f'[data-appeal-card="{appeal.get_json()["id"]}"]')
    card.locator("textarea").fill("维持原结论")
    card.get_by_role("button", name="维持原结论").click()
    expect(page.locator("#appeals-decided [data-appeal-card]")).to_have_count(1)
    expect(page.locator("#appeals-decided")).not_to_contain_text("暂无已处理的申诉")
    expect(page.locator("#appeals-pending-count")).to_have_text("没有待处理的申诉")
    expect(page.locator("#appeals-pending [data-appeal-card]")).to_have_count(0)


def test_a_failed_items_status_tag_does_not_touch_its_answer(new_mobile_context, first, client,
                                                             api):
    """On the result page, is the finding's status tag (待整改) set apart from the answer
    (不合格) instead of running into it ("不合格待整改")?"""
    inspection = first("spot_check")
    response = submit_filled(client, api(filler_of(inspection)), inspection.id,
                             fail=("ENV-03",))
    assert response.status_code == 200, response.get_json()
    page = new_mobile_context().new_page()
    sign_in(page, outlet_manager_of(inspection), f"/results/{inspection.id}")
    row = page.locator("#result-sections li.failed").first
    expect(row.locator(".tag")).to_be_visible()
    gap = row.evaluate("""li => li.querySelector(".tag").getBoundingClientRect().left
                               - li.querySelector("strong").getBoundingClientRect().right""")
    assert gap >= 4, gap


def test_appeal_categories_keep_their_order_with_other_last(new_mobile_context, first, client,
                                                           api):
    """Does the appeal form offer the categories in their intended order — 检查标准理解有误
    first (preselected), 其他 last — rather than sorted by their internal keys (which put
    检查时已现场整改 first and 其他 in the middle)?"""
    page, finding = open_result_with_finding(new_mobile_context, client, api,
                                             first("spot_check"))
    page.locator(f'[data-appeal="{finding["id"]}"]').click()
    options = page.locator(f'[data-appeal-category="{finding["id"]}"] option')
    expect(options).to_have_text(["检查标准理解有误", "事实认定有误", "检查时已现场整改",
                                  "该项不适用本网点", "其他"])


def test_a_granted_appeal_strikes_out_the_original_answer(new_mobile_context, first, client,
                                                          api):
    """Once an appeal against a finding is granted, does the result page strike the original
    不合格 through and say it no longer counts (原判不合格，申诉成立已撤销) — in Chinese and in
    English — and show the score as re-computed after the appeal?"""
    inspection = first("spot_check")
    page, finding = open_result_with_finding(new_mobile_context, client, api, inspection)
    before = client.get(f"/api/v1/inspections/{inspection.id}",
                        headers=api("fwgl")).get_json()["total"]
    appeal = client.post(f"/api/v1/findings/{finding['id']}/appeals",
                         headers=api(outlet_manager_of(inspection)),
                         json={"category": "standard_misapplied", "text": "海报为总行统一配发的新版"})
    assert appeal.status_code == 201, appeal.get_json()
    decided = client.post(f"/api/v1/appeals/{appeal.get_json()['id']}/decide",
                          headers=api("fwgl"), json={"decision": "overturned", "note": "复核属实"})
    assert decided.status_code == 200, decided.get_json()
    after = client.get(f"/api/v1/inspections/{inspection.id}",
                       headers=api("fwgl")).get_json()["total"]
    assert after > before  # the appeal re-scored the inspection

    page.reload()
    row = page.locator("#result-sections li", has=page.locator(".code", has_text="ENV-03"))
    expect(row.locator("del")).to_have_text("不合格")
    expect(row.locator("[data-withdrawn]")).to_have_text("原判不合格，申诉成立已撤销")
    expect(row.locator("strong")).to_have_count(0)  # no bold 不合格 left standing
    expect(row.locator(".tag.red")).to_have_count(0)
    expect(page.locator("#result-score strong")).to_have_text(f"{after:.2f}")  # as managers read it
    expect(page.locator("#result-score")).to_contain_text("已按申诉结果重新计分")
    shows_no_placeholder(page)

    page.goto(f"/results/{inspection.id}?lang=en")
    row = page.locator("#result-sections li", has=page.locator(".code", has_text="ENV-03"))
    expect(row.locator("del")).to_have_text("Fail")
    expect(row.locator("[data-withdrawn]")).to_have_text("Originally Fail; withdrawn after appeal")
    expect(page.locator("#result-score")).to_contain_text("Rescored after the appeal")


def test_a_long_rectification_list_comes_a_page_at_a_time(new_mobile_context, demo, client,
                                                          api):
    """With more open items than a page, does 整改验收 say how many there are and reach every
    one of them with 加载更多, instead of silently stopping?"""
    total = client.get("/api/v1/rectification/items?state=open&per_page=1",
                       headers=api("fwgl")).get_json()["total"]
    assert total > 40  # the demo's history
    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", "/rectification")
    cards = page.locator("#rect-list [data-rect]")
    expect(cards).to_have_count(20)
    expect(page.locator("#rect-status")).to_have_text(f"显示 20 条，共 {total} 条")
    page.locator("#rect-more").click()
    expect(cards).to_have_count(40)
    ids = cards.evaluate_all("cards => cards.map((c) => c.dataset.rect)")
    assert len(set(ids)) == 40  # the next page, not the first again


def test_an_item_that_arrives_above_the_pages_read_is_still_reached(new_mobile_context, demo,
                                                                     client, api):
    """Two pages read, then an item lands above them (a new finding due sooner, a deadline
    moved): does 加载更多 still bring it, so that every item counted can be reached and the
    button goes away once all are shown?"""
    listed = [i["id"] for p in (1, 2, 3, 4) for i in client.get(
        f"/api/v1/rectification/items?state=open&per_page=20&page={p}",
        headers=api("fwgl")).get_json()["items"]]
    assert len(listed) == 80
    # four pages in all: the rest leave the list of fixes owed (accepted), for a short test
    db.session.execute(sa.update(RectificationItem).where(
        RectificationItem.state == RectificationState.open,
        RectificationItem.id.not_in(listed[:70])).values(state=RectificationState.accepted))
    db.session.commit()
    total = 70
    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", "/rectification")
    cards = page.locator("#rect-list [data-rect]")
    expect(cards).to_have_count(20)
    page.locator("#rect-more").click()
    expect(cards).to_have_count(40)
    shown = {int(i) for i in cards.evaluate_all("cards => cards.map((c) => c.dataset.rect)")}
    last = client.get(f"/api/v1/rectification/items?state=open&per_page=1&page={total}",
                      headers=api("fwgl")).get_json()["items"][0]
    assert last["id"] not in shown
    item = db.session.get(RectificationItem, last["id"])
    item.deadline = date(2020, 1, 1)  # now first of all, on a page already read
    db.session.commit()
    more = page.locator("#rect-more")
    for _ in range(total // 20 + 1):
        if more.is_hidden():
            break
        count = cards.count()
        more.click()
        expect(cards).not_to_have_count(count)
    expect(more).to_be_hidden()
    expect(cards).to_have_count(total)
    expect(page.locator(f'#rect-list [data-rect="{item.id}"]')).to_have_count(1)
    expect(page.locator("#rect-status")).to_have_text(f"显示 {total} 条，共 {total} 条")


def test_review_paging_after_decisions_skips_and_repeats_nothing(new_mobile_context, demo,
                                                                 client, api):
    """With more fixes awaiting acceptance than a page: after accepting one on the first page,
    does 加载更多 bring exactly the rest — none shown twice, none skipped — and do the counts
    follow the decision, counting only the fixes the reviewer may decide?"""
    items = db.session.scalars(sa.select(RectificationItem).where(
        RectificationItem.state == RectificationState.open).order_by(RectificationItem.id)
        .limit(25)).all()
    for seed, item in enumerate(items):
        manager = db.session.scalar(sa.select(User.username).join(RoleGrant).where(
            RoleGrant.role == Role.outlet_manager, RoleGrant.org_unit_id == item.outlet_id))
        fix_through_the_api(client, api(manager), item.id, seed)
    # fwgl is named responsible for one: it is fwgl's to fix, not to accept, so it is neither
    # shown nor counted among the fixes awaiting fwgl's decision
    db.session.get(RectificationItem, items[-1].id).responsible_id = db.session.scalar(
        sa.select(User.id).where(User.username == "fwgl"))
    db.session.commit()
    waiting = client.get("/api/v1/rectification/items?state=submitted&reviewable=true"
                         "&per_page=100", headers=api("fwgl")).get_json()
    total = waiting["total"]
    assert 20 < total <= 40 and items[-1].id not in {i["id"] for i in waiting["items"]}
    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", "/rectification")
    cards = page.locator("#review-list [data-review]")
    status = page.locator("#review-status")
    expect(cards).to_have_count(20)
    expect(status).to_have_text(f"显示 20 条，共 {total} 条")
    cards.first.get_by_role("button", name="验收通过").click()
    expect(cards.first).to_contain_text("已验收通过")
    expect(status).to_have_text(f"显示 19 条，共 {total - 1} 条")
    page.locator("#review-more").click()
    expect(cards).to_have_count(total)  # the accepted one stays in view, marked
    expect(status).to_have_text(f"显示 {total - 1} 条，共 {total - 1} 条")
    expect(page.locator("#review-more")).to_be_hidden()
    ids = cards.evaluate_all("cards => cards.map((c) => Number(c.dataset.review))")
    assert sorted(ids) == sorted(item["id"] for item in waiting["items"])


def test_a_reviewer_sees_the_evidence_flags_before_deciding(new_mobile_context, first, client,
                                                           api):
    """An outlet "fixes" an item with the very photo the inspector took of the problem: does
    the reviewer's card say so under the after-photo (与其他检查中的照片完全相同), and does the
    result page open each photo large?"""
    inspection, item = failed_spot_check(first, client, api)
    before = client.get(f"/api/v1/rectification/items/{item.id}",
                        headers=api("fwgl")).get_json()["before_photos"][0]
    same = client.get(f"/api/v1/photos/{before['id']}/original", headers=api("fwgl")).data
    outlet = api(outlet_manager_of(inspection))
    photo = client.post(f"/api/v1/rectification/items/{item.id}/photos", headers=outlet,
                        data={"client_id": new_key(), "file": (io.BytesIO(same), "a.jpg")},
                        content_type="multipart/form-data")
    assert photo.status_code == 201, photo.get_json()
    assert client.post(f"/api/v1/rectification/items/{item.id}/submit", headers=outlet,
                       json={"note": "已整改", "photo_ids": [photo.get_json()["id"]]}
                       ).status_code == 200

    page = new_mobile_context().new_page()
    sign_in(page, subbranch_manager_of(inspection), "/rectification")
    card = page.locator(f'[data-review="{item.id}"]')
    after = card.locator("li.thumb", has=page.locator("img[data-after]"))
    expect(after.locator('[data-flag="reused_exact"]')).to_have_text("与其他检查中的照片完全相同")
    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", f"/results/{inspection.id}")
    link = page.locator(f'[data-photo="{before["id"]}"]').locator("xpath=..")
    expect(link).to_have_attribute("href", before["display_url"])


def test_the_rectification_page_says_where_an_appeal_stands(new_mobile_context, first, client,
                                                            api):
    """On 我的整改, does an item whose finding the outlet appealed say 申诉处理中 while the
    appeal waits, 申诉未成立 with the reviewer's note once refused (the fix form still there),
    and — once granted — leave the items to fix for 申诉成立，已撤销, saying no fix is needed?"""
    from ..rectification.conftest import failable_codes

    inspection = first("spot_check")
    headers = api(filler_of(inspection))
    codes = failable_codes(client, headers, inspection, 2)
    assert submit_filled(client, headers, inspection.id, fail=tuple(codes)).status_code == 200
    refused, granted = (db.session.scalar(sa.select(RectificationItem).where(
        RectificationItem.inspection_id == inspection.id, RectificationItem.item_code == code))
        for code in codes)
    outlet = api(outlet_manager_of(inspection))
    appeals = {}
    for item in (refused, granted):
        made = client.post(f"/api/v1/findings/{item.finding_id}/appeals", headers=outlet,
                           json={"category": "facts_wrong", "text": "检查当日设施齐全，请复核"})
        assert made.status_code == 201, made.get_json()
        appeals[item.id] = made.get_json()["id"]

    page = new_mobile_context().new_page()
    sign_in(page, outlet_manager_of(inspection), "/rectification")
    for item in (refused, granted):
        expect(page.locator(f'[data-rect="{item.id}"] [data-rect-appeal]')).to_have_text("申诉处理中")
    expect(page.locator("#withdrawn")).to_be_hidden()

    for item, decision, note in ((refused, "upheld", "照片显示缺失属实"),
                                 (granted, "overturned", "核实无误")):
        decided = client.post(f"/api/v1/appeals/{appeals[item.id]}/decide", headers=api("fwgl2"),
                              json={"decision": decision, "note": note})
        assert decided.status_code == 200, decided.get_json()
    page.reload()
    card = page.locator(f'[data-rect="{refused.id}"]')
    expect(card.locator("[data-rect-appeal]")).to_have_text(
        "申诉未成立，维持原结论 · 处理意见：照片显示缺失属实")
    expect(card.get_by_role("button", name="提交整改")).to_be_visible()
    expect(page.locator(f'[data-rect="{granted.id}"]')).to_have_count(0)
    withdrawn = page.locator(f'#withdrawn [data-rect-withdrawn="{granted.id}"]')
    expect(withdrawn).to_contain_text("申诉成立，已撤销 · 处理意见：核实无误")
    expect(withdrawn).to_contain_text("该问题已撤销，无需整改")
    expect(page.locator("#h-withdrawn")).to_have_text("申诉成立，已撤销")
    shows_no_placeholder(page)
