"""A reviewer's work on the phone: finding results (newest first, by state, page after page)
and finalising a submission or sending it back with a reason, from its result page."""
from __future__ import annotations

from playwright.sync_api import expect

from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection, InspectionStatus

from ..helpers import filler_of, submit_filled
from .pwa_helpers import outlet_manager_of, sign_in


def reloaded(inspection_id: int) -> Inspection:
    db.session.expire_all()
    return db.session.get(Inspection, inspection_id)


def test_reviewer_finalises_a_result_from_its_page(new_mobile_context, first, client, api):
    """Can a service manager accept a submitted result as final (定稿) from its page, and does
    the page then show it final with nothing left to review?"""
    inspection = first("spot_check")
    assert submit_filled(client, api(filler_of(inspection)), inspection.id).status_code == 200

    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", f"/results/{inspection.id}")
    expect(page.locator("#result-meta")).to_contain_text("已提交")
    page.locator("#review-finalise").click()
    expect(page.locator("#result-meta")).to_contain_text("已定稿")
    expect(page.locator("#review-box")).to_have_count(0)
    assert reloaded(inspection.id).status is InspectionStatus.final


def test_reviewer_returns_a_result_with_a_reason(new_mobile_context, first, client, api):
    """Is 退回修改 refused on the page without a reason, and with one does the inspection go
    back to its inspector carrying that reason, shown on the result and above the form?"""
    inspection = first("spot_check")
    assert submit_filled(client, api(filler_of(inspection)), inspection.id).status_code == 200

    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", f"/results/{inspection.id}")
    page.locator("#review-return").click()
    expect(page.locator("#review-box [role=alert]")).to_have_text("请填写退回原因（至少 2 个字）")
    assert reloaded(inspection.id).status is InspectionStatus.submitted

    page.locator("#review-reason").fill("ENV-01 照片看不清，请补拍")
    page.locator("#review-return").click()
    expect(page.locator("#review-note")).to_have_text("已退回修改：ENV-01 照片看不清，请补拍")
    expect(page.locator("#review-box")).to_have_count(0)
    returned = reloaded(inspection.id)
    assert returned.status is InspectionStatus.returned
    assert returned.review_note == "ENV-01 照片看不清，请补拍"

    inspector = new_mobile_context().new_page()  # the inspector reads why, above the form
    sign_in(inspector, filler_of(returned), f"/tasks/{inspection.id}")
    expect(inspector.locator("#form-returned")).to_have_text("已退回修改：ENV-01 照片看不清，请补拍")


def test_only_a_reviewer_is_offered_the_review(new_mobile_context, first, client, api):
    """Does the outlet's manager, who reads the result, see no review controls (the server
    would refuse them), while the service manager does?"""
    inspection = first("spot_check")
    assert submit_filled(client, api(filler_of(inspection)), inspection.id).status_code == 200
    page = new_mobile_context().new_page()
    sign_in(page, outlet_manager_of(inspection), f"/results/{inspection.id}")
    expect(page.locator("#result-meta")).to_contain_text("已提交")
    expect(page.locator("#review-box")).to_have_count(0)


def test_results_list_newest_first_by_state_and_page_after_page(new_mobile_context, first,
                                                                 client, api):
    """Does 检查结果 put the newest submission first, narrow to 待审核, and reach older
    results with 加载更多 instead of stopping at the first page?"""
    inspection = first("spot_check")
    assert submit_filled(client, api(filler_of(inspection)), inspection.id).status_code == 200
    everything = client.get("/api/v1/inspections?status=submitted&status=final&per_page=1",
                            headers=api("fwgl")).get_json()["total"]
    assert everything > 30  # the demo's history: more than one page

    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", "/results")
    rows = page.locator("#results-list [data-result]")
    expect(rows).to_have_count(30)
    expect(rows.first).to_have_attribute("data-result", str(inspection.id))
    expect(page.locator("#results-status")).to_have_text(f"显示 30 条，共 {everything} 条")
    page.locator("#results-more").click()
    expect(rows).to_have_count(min(60, everything))

    page.locator('[data-filter="submitted"]').click()
    expect(rows.first).to_have_attribute("data-result", str(inspection.id))
    awaiting = client.get("/api/v1/inspections?status=submitted&per_page=1",
                          headers=api("fwgl")).get_json()["total"]
    expect(rows).to_have_count(min(30, awaiting))
    for text in rows.all_inner_texts():
        assert "已提交" in text and "已定稿" not in text


def test_a_list_loaded_offline_says_so_in_words(new_mobile_context, demo):
    """Offline, a list that cannot load says it needs the network — not a browser's
    "TypeError: Failed to fetch"."""
    context = new_mobile_context()
    page = context.new_page()
    sign_in(page, "fwgl", "/results")
    expect(page.locator("#results-list [data-result]").first).to_be_visible()
    context.set_offline(True)
    page.locator('[data-filter="submitted"]').click()
    expect(page.locator("#results-status")).to_have_text("离线：联网后才能加载列表")
    context.set_offline(False)
    page.locator('[data-filter="all"]').click()
    expect(page.locator("#results-status")).to_contain_text("显示 30 条")


def test_reviewer_reads_the_mystery_visit_record_the_outlet_never_sees(new_mobile_context, first,
                                                                        client, api):
    """On a mystery visit's result page, does the service manager read its scenario and a
    table of its timed events (time, minutes since the one before and since arrival) — and
    the outlet's manager, on the same page, neither?"""
    from ..helpers import visit_times

    mystery = first("mystery_visit")
    events = visit_times(mystery, arrival=0, ticket=1, called=23, served=24, left=35)
    response = submit_filled(client, api(filler_of(mystery)), mystery.id,
                             extra={"events": events})
    assert response.status_code == 200, response.get_json()

    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", f"/results/{mystery.id}")
    record = page.locator("#visit-record")
    expect(record.locator("#visit-scenario")).to_have_text(f"暗访场景：{mystery.scenario}")
    expect(record.locator("thead th")).to_have_text(
        ["时间节点", "时间", "距上一节点（分钟）", "距到达（分钟）"])
    expect(record.locator("tbody tr")).to_have_count(5)
    expect(record.locator('[data-visit-event="called"] > *')).to_have_text(
        ["叫号", events["called"][11:19], "22", "23"])
    expect(record.locator('[data-visit-event="arrival"] > *')).to_have_text(
        ["到达网点", events["arrival"][11:19], "—", "—"])

    outlet = new_mobile_context().new_page()
    sign_in(outlet, outlet_manager_of(mystery), f"/results/{mystery.id}")
    expect(outlet.locator("#result-meta")).to_contain_text("检查人：神秘人")
    expect(outlet.locator("#result-sections li").first).to_be_visible()
    expect(outlet.locator("#visit-record")).to_have_count(0)
    text = outlet.locator("body").inner_text()
    assert mystery.scenario not in text and events["called"][11:16] not in text
