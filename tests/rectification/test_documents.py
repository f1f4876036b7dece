"""Rectification lists and inspection reports as PDFs: Chinese text, page numbers, outlet copies
without evidence flags or mystery-shopper identity, permissions, ETag and filenames."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import quote

import sqlalchemy as sa
from pypdf import PdfReader

from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.rectification.operations import local_today

from ..helpers import filler_of, jpeg, new_key, submit_filled, visit_times
from .conftest import (
    items_of,
    other_subbranch_manager,
    outlet_manager_of,
    subbranch_manager_of,
    submit_fix,
)

#: A mystery visit's times, minutes after arrival (see :func:`~tests.helpers.visit_times`).
VISIT = {"arrival": 7, "ticket": 8, "called": 22, "served": 23, "left": 41}


def pdf_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def without_generation_stamp(text: str) -> str:
    """Drop "生成时间 today HH:MM" so only leaked visit times could remain."""
    return re.sub(re.escape(local_today().isoformat()) + r"\s*\d{2}:\d{2}", "", text)


def flag_after_photo(client, api, inspection, item_id: int) -> None:
    """The outlet sends its fix with a screenshot-like after-photo (no camera data →
    flagged)."""
    response = client.post(f"/api/v1/rectification/items/{item_id}/photos",
                           headers=api(outlet_manager_of(inspection)),
                           data={"client_id": new_key(),
                                 "file": (io.BytesIO(jpeg(5, exif=False)), "a.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    sent = client.post(f"/api/v1/rectification/items/{item_id}/submit",
                       headers=api(outlet_manager_of(inspection)),
                       json={"note": "已整改", "photo_ids": [response.get_json()["id"]]})
    assert sent.status_code == 200, sent.get_json()


def test_inspection_list_has_chinese_names_items_and_page_numbers(client, api,
                                                                 failed_inspection):
    """Does the list for one inspection carry the Chinese outlet name, the item texts, the
    signature block and "第 X 页 共 Y 页"?"""
    inspection, _ = failed_inspection(count=2)
    text = pdf_text(client.get(f"/api/v1/inspections/{inspection.id}/rectification-list.pdf",
                               headers=api(subbranch_manager_of(inspection))))
    flat = squeezed(text)
    assert squeezed(inspection.outlet.name) in flat
    for item in items_of(inspection):
        assert squeezed(item.item_text)[:20] in flat
    assert "整改责任人" in flat and "复核人" in flat
    assert re.search(r"第1页共\d+页", flat)


def test_a_finding_with_a_very_long_note_starts_on_the_first_page(client, api,
                                                                  failed_inspection):
    """An item whose note runs over a page (a pasted complaint ticket) and an ordinary one:
    does the list start the long row on page 1, under its outlet's heading and the table
    header, and continue it on the next page, while the ordinary row stays on one page?"""
    inspection, _ = failed_inspection(count=2)
    long, ordinary = items_of(inspection)
    long.finding_note = "投诉工单说明：" + "客户反映大堂经理未主动引导，" * 135
    db.session.commit()
    response = client.get(f"/api/v1/inspections/{inspection.id}/rectification-list.pdf",
                          headers=api(subbranch_manager_of(inspection)))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    pages = [squeezed(page.extract_text())
             for page in PdfReader(io.BytesIO(response.data)).pages]
    first = pages[0]
    assert squeezed(inspection.outlet.name) in first and "检查项目与问题" in first
    assert f"{long.item_code}{squeezed(long.item_text)}问题：投诉工单说明：" in first
    assert "客户反映大堂经理未主动引导" in pages[1]
    assert len(pages) <= 3
    assert any(ordinary.item_code in page and squeezed(ordinary.item_text) in page
               and squeezed(ordinary.standard)[:10] in page for page in pages)


def test_outlet_copy_hides_flags_and_the_mystery_shopper(client, api, first, failed_inspection):
    """Does the outlet's (and sub-branch's) copy of a mystery visit's list and report show
    neither evidence flags nor the shopper's name, account or exact times — while the
    service manager's copy shows the flag?"""
    events = visit_times(first("mystery_visit"), **VISIT)
    inspection, _ = failed_inspection(mode="mystery_visit", count=1, extra={"events": events})
    shopper = inspection.assignee
    item = items_of(inspection)[0]
    flag_after_photo(client, api, inspection, item.id)
    secrets = [shopper.display_name, shopper.username, *(e[11:16] for e in events.values()),
               "T" + events["arrival"][11:13], inspection.scenario]
    urls = [f"/api/v1/inspections/{inspection.id}/rectification-list.pdf",
            f"/api/v1/inspections/{inspection.id}/report.pdf"]
    for username in (outlet_manager_of(inspection), subbranch_manager_of(inspection)):
        for url in urls:
            text = pdf_text(client.get(url, headers=api(username)))
            visible = without_generation_stamp(text)
            flat = squeezed(visible)
            assert squeezed(inspection.outlet.name) in flat
            assert "神秘人" in flat
            for secret in secrets:
                assert squeezed(secret) not in flat, (username, url, secret)
            assert "无相机信息" not in flat and "证据提示" not in flat
        listed = client.get(f"/api/v1/rectification/items?inspection_id={inspection.id}",
                            headers=api(username)).get_json()["items"][0]
        assert listed["inspector"] == "神秘人" and len(listed["created_at"]) == 10
        assert len(listed["inspection_date"]) == 10
    # in English the API says it in English; the PDFs stay in Chinese, as they all do
    english = api(outlet_manager_of(inspection))
    listed = client.get(f"/api/v1/rectification/items?inspection_id={inspection.id}&lang=en",
                        headers=english).get_json()["items"][0]
    assert listed["inspector"] == "Mystery shopper"
    assert "神秘人" in squeezed(pdf_text(client.get(urls[0], headers=english)))
    client.get("/api/v1/rectification/items?lang=zh", headers=english)
    reviewer = squeezed(pdf_text(client.get(urls[0], headers=api("fwgl"))))
    assert "无相机信息" in reviewer and squeezed(shopper.display_name) in reviewer


def test_subbranch_list_for_a_month_and_its_permissions(client, api, failed_inspection):
    """Does a sub-branch manager download their month's list (grouped by outlet, Chinese
    filename per RFC 5987) — and get 404 for another sub-branch's?"""
    inspection, _ = failed_inspection(count=2)
    period = local_today().strftime("%Y-%m")
    own = inspection.outlet.parent
    url = f"/api/v1/rectification/lists/subbranches/{own.id}.pdf?period={period}"
    response = client.get(url, headers=api(subbranch_manager_of(inspection)))
    flat = squeezed(pdf_text(response))
    assert squeezed(own.name) in flat and squeezed(inspection.outlet.name) in flat
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition
    assert f"filename*=UTF-8''{quote('整改清单_' + own.name)}" in disposition
    # for a client that reads only the plain name: what it is and when, not "__2026-…"
    first = f"{period}-01"
    assert re.search(rf'filename="?rectification-list_{first}_{period}-\d\d\.pdf"?;',
                     disposition), disposition
    other = db.session.scalar(sa.select(User).where(
        User.username == other_subbranch_manager(inspection)))
    assert client.get(url, headers=api(other.username)).status_code == 404
    assert client.get(url, headers=api(outlet_manager_of(inspection))).status_code == 404
    assert client.get(url.replace(period, "2026-13"),
                      headers=api("fwgl")).status_code == 422


def test_the_summary_headings_of_a_subbranch_list_keep_to_one_line(client, api,
                                                                  failed_inspection):
    """A sub-branch's list with items of earlier months still owed (the demo leaves some) has
    ten figures in its summary: is each heading whole — "整改项合计", not "整改项合" over "计"?"""
    inspection, _ = failed_inspection(count=1)
    own = inspection.outlet.parent
    period = local_today().strftime("%Y-%m")
    response = client.get(f"/api/v1/rectification/lists/subbranches/{own.id}.pdf?period={period}",
                          headers=api(subbranch_manager_of(inspection)))
    assert response.status_code == 200
    first_page = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "往期逾期" in first_page  # the ten-column summary
    for heading in ("整改项合计", "其中逾期", "逾期完成", "往期未完成", "往期逾期"):
        assert heading in first_page, first_page[:300]


def test_a_phone_does_not_download_the_same_list_twice(client, api, failed_inspection):
    """Does a second request with the ETag get 304 — and a changed list a new ETag?

    The list changes by a deadline put off by a month from the item's own (a fixed day is
    before the inspection once that day has passed: refused, the list unchanged)."""
    inspection, _ = failed_inspection(count=1)
    headers = api(subbranch_manager_of(inspection))
    url = f"/api/v1/inspections/{inspection.id}/rectification-list.pdf"
    first = client.get(url, headers=headers)
    etag = first.headers["ETag"]
    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    item = items_of(inspection)[0]
    later = (item.deadline + timedelta(days=30)).isoformat()
    moved = client.post(f"/api/v1/rectification/items/{item.id}/deadline",
                        json={"deadline": later, "reason": "延期整改"}, headers=api("fwgl"))
    assert moved.status_code == 200, moved.get_json()
    changed = client.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_campaign_list_covers_the_campaigns_items(client, api, failed_inspection, campaign):
    """Does the campaign list name the campaign and hold its outlets' items?"""
    inspection, _ = failed_inspection(count=1)
    text = pdf_text(client.get(f"/api/v1/rectification/lists/campaigns/{campaign['id']}.pdf",
                               headers=api("fwgl")))
    flat = squeezed(text)
    assert squeezed(campaign["name"]) in flat and squeezed(inspection.outlet.name) in flat


def test_another_branchs_campaign_list_is_not_found(client, api, campaign, make_unit):
    """The managers of another branch's outlet and sub-branch read reports at home: do they
    get "not found" for the Tangshan campaign's list — not its name, scope and period — while
    Tangshan's own outlet manager still downloads it?"""
    from inspect_app.auth.operations import create_user
    from inspect_app.auth.permissions import Role
    from inspect_app.demo.seed import DEMO_PASSWORD

    branch = make_unit("branch", "QH", "秦皇岛分行")
    sub = make_unit("subbranch", "QH-HG", "海港支行", parent=branch, area_type=None)
    outlet = make_unit("outlet", "QH-HG-01", "海港网点1", parent=sub)
    create_user(username="wd.qh01", display_name="秦皇岛网点", password=DEMO_PASSWORD,
                grants=[(Role.outlet_manager, outlet)])
    create_user(username="zh.qhhg", display_name="海港支行长", password=DEMO_PASSWORD,
                grants=[(Role.subbranch_manager, sub)])
    db.session.commit()
    url = f"/api/v1/rectification/lists/campaigns/{campaign['id']}.pdf"
    for username in ("wd.qh01", "zh.qhhg"):
        answer = client.get(url, headers=api(username))
        assert answer.status_code == 404, username
        assert answer.get_json()["error"]["code"] == "campaign_not_found"
    assert client.get(url, headers=api("wd.lb01")).status_code == 200


def test_inspection_report_shows_score_sections_and_findings(client, api, failed_inspection):
    """Does the inspection report print the sections, the grade and the findings?"""
    inspection, _ = failed_inspection(count=1)
    text = squeezed(pdf_text(client.get(f"/api/v1/inspections/{inspection.id}/report.pdf",
                                        headers=api(outlet_manager_of(inspection)))))
    assert "检查报告" in text and "网点颜值靓化" in text
    assert squeezed(items_of(inspection)[0].item_text)[:20] in text
    assert inspection.current_score.grade in text


def test_a_result_kept_without_section_figures_reports_its_total_only(client, api,
                                                                       failed_inspection):
    """A result whose score holds no sections' figures (history brought in from before):
    does its report give the total and grade without an empty 板块 / 得分 / 满分 table?"""
    inspection, _ = failed_inspection(count=1)
    score = inspection.current_score
    score.detail = {key: value for key, value in score.detail.items() if key != "sections"}
    db.session.commit()
    text = squeezed(pdf_text(client.get(f"/api/v1/inspections/{inspection.id}/report.pdf",
                                        headers=api("fwgl"))))
    assert "总分" in text and f"等级：{score.grade}" in text
    assert "板块" not in text and "满分" not in text


def test_report_names_the_severity_of_a_finding_without_an_item(client, api, failed_inspection):
    """A finding with no rectification item (e.g. from history, or overturned before one was
    made) is printed from the finding itself: is its severity in Chinese (一般), not the
    internal value ("minor")?"""
    from inspect_app.rectification.models import RectificationItem

    inspection, _ = failed_inspection(count=1)
    for item in items_of(inspection):
        db.session.delete(item)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RectificationItem).where(
        RectificationItem.inspection_id == inspection.id)) == 0
    text = squeezed(pdf_text(client.get(f"/api/v1/inspections/{inspection.id}/report.pdf",
                                        headers=api(outlet_manager_of(inspection)))))
    assert "严重程度：" in text
    assert not re.search(r"严重程度：(minor|major|critical)", text), text


def test_the_list_tells_a_late_fix_and_a_correction_from_an_appeal(client, api,
                                                                    failed_inspection):
    """A fix submitted after its deadline and accepted, and an item the inspector's corrected
    resubmission passed: does the list give the fix's dates and mark it 逾期完成, say the other
    was withdrawn by the inspector's correction (not 申诉成立), and count it apart?"""
    from inspect_app.rectification.documents import inspection_list

    inspection, codes = failed_inspection(count=3)
    returned = client.post(f"/api/v1/inspections/{inspection.id}/return",
                           json={"reason": "第二项判断有误，请更正"}, headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()
    assert submit_filled(client, api(filler_of(inspection)), inspection.id,
                         fail=(codes[0], codes[2])).status_code == 200
    items = {item.item_code: item for item in items_of(inspection)}
    late = items[codes[0]]
    late.deadline = local_today() - timedelta(days=1)  # the week went by
    db.session.commit()
    outlet = api(outlet_manager_of(inspection))
    assert submit_fix(client, outlet, late.id).status_code == 200
    accepted = client.post(f"/api/v1/rectification/items/{late.id}/accept", json={},
                           headers=api("fwgl"))
    assert accepted.status_code == 200, accepted.get_json()

    today = local_today().isoformat()
    flat = squeezed(pdf_text(client.get(
        f"/api/v1/inspections/{inspection.id}/rectification-list.pdf", headers=api("fwgl"))))
    assert f"提交{today}·验收{today}" in flat and "逾期完成" in flat
    assert "检查人更正，已撤销" in flat and "申诉成立" not in flat
    viewer = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    summary = inspection_list(db.session.get(type(inspection), inspection.id),
                              viewer).context["summary"]
    assert (summary["total"], summary["cancelled"], summary["late"], summary["closed"],
            summary["accepted"], summary["open"]) == (2, 1, 1, 0, 1, 1)


def test_a_late_fix_of_a_finding_the_appeal_overturned_is_not_counted_late(client, api,
                                                                          failed_inspection):
    """The outlet appeals, sends its fix after the deadline meanwhile, and the appeal is
    granted: does the list say the item was withdrawn, without 逾期完成 on its row or in the
    summary (there was nothing to fix late)?"""
    from inspect_app.rectification.documents import inspection_list

    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    item.deadline = local_today() - timedelta(days=1)
    db.session.commit()
    outlet = api(outlet_manager_of(inspection))
    appeal = client.post(f"/api/v1/findings/{item.finding_id}/appeals", headers=outlet,
                         json={"category": "facts_wrong", "text": "检查当日设施齐全，请复核"})
    assert appeal.status_code == 201, appeal.get_json()
    assert submit_fix(client, outlet, item.id).status_code == 200  # the deadline runs meanwhile
    decided = client.post(f"/api/v1/appeals/{appeal.get_json()['id']}/decide",
                          headers=api("fwgl2"), json={"decision": "overturned", "note": "核实无误"})
    assert decided.status_code == 200, decided.get_json()
    viewer = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    context = inspection_list(db.session.get(type(inspection), inspection.id), viewer).context
    row = context["outlets"][0]["items"][0]
    assert row["state"] == "已关闭（申诉成立，已撤销）" and row["late"] is False
    assert (context["summary"]["late"], context["summary"]["cancelled"]) == (0, 1)


def test_the_list_shows_the_accepted_fix_s_photos_only(client, api, failed_inspection):
    """A fix sent back, redone and accepted, and an open item with a photo only uploaded: does
    the list show, as 整改后, the photos sent with the accepted fix — not those of the refused
    attempt, not one uploaded and left out — and nothing for the open item?"""
    from inspect_app.rectification.documents import inspection_list

    from .conftest import upload_after

    inspection, _ = failed_inspection(count=2)
    redone, untouched = items_of(inspection)
    outlet, reviewer = api(outlet_manager_of(inspection)), api(subbranch_manager_of(inspection))
    sha = {}

    def upload(item, seed):
        response = upload_after(client, outlet, item.id, seed)
        assert response.status_code == 201, response.get_json()
        sha[seed] = response.get_json()["sha256"]
        return response.get_json()["id"]

    first = [upload(redone, 11), upload(redone, 12)]
    assert client.post(f"/api/v1/rectification/items/{redone.id}/submit", headers=outlet,
                       json={"note": "已整改", "photo_ids": first}).status_code == 200
    assert client.post(f"/api/v1/rectification/items/{redone.id}/reject", headers=reviewer,
                       json={"reason": "照片看不清"}).status_code == 200
    second = upload(redone, 13)
    upload(redone, 14)  # uploaded, then left out of the fix
    assert client.post(f"/api/v1/rectification/items/{redone.id}/submit", headers=outlet,
                       json={"note": "重新整改", "photo_ids": [second]}).status_code == 200
    assert client.post(f"/api/v1/rectification/items/{redone.id}/accept", headers=reviewer,
                       json={}).status_code == 200
    upload(untouched, 15)  # only uploaded: no fix sent yet

    detail = client.get(f"/api/v1/rectification/items/{redone.id}", headers=reviewer).get_json()
    assert [p["sha256"] for p in detail["after_photos"]] == [sha[13]]
    assert {p["sha256"] for p in detail["earlier_after_photos"]} == {sha[11], sha[12]}
    viewer = db.session.scalar(sa.select(User).where(
        User.username == subbranch_manager_of(inspection)))
    rows = {row["item_code"]: row for outlet_rows in inspection_list(
        db.session.get(type(inspection), inspection.id), viewer).context["outlets"]
        for row in outlet_rows["items"]}
    assert [p["sha256"] for p in rows[redone.item_code]["after_photos"]] == [sha[13]]
    assert rows[untouched.item_code]["after_photos"] == []
    flat = squeezed(pdf_text(client.get(
        f"/api/v1/inspections/{inspection.id}/rectification-list.pdf", headers=reviewer)))
    assert sha[13][:16] in flat
    for seed in (11, 12, 14, 15):
        assert sha[seed][:16] not in flat, seed


def test_the_list_says_where_each_appeal_stands(client, api, failed_inspection):
    """The outlet appeals three of four findings; one appeal waits, one is refused and one
    granted: does the 整改清单 say, as the item page does, 申诉处理中, 申诉未成立 with the
    reviewer's note, and 申诉成立，已撤销 with its note — under the right item, and nothing about
    an appeal under the item not appealed? Does the inspection report say it too?"""
    inspection, _ = failed_inspection(count=4)
    pending, refused, granted, untouched = items_of(inspection)
    outlet = api(outlet_manager_of(inspection))
    appeals = {}
    for item in (pending, refused, granted):
        made = client.post(f"/api/v1/findings/{item.finding_id}/appeals", headers=outlet,
                           json={"category": "facts_wrong", "text": "检查当日设施齐全，请复核"})
        assert made.status_code == 201, made.get_json()
        appeals[item.id] = made.get_json()["id"]
    for item, decision, note in ((refused, "upheld", "照片显示缺失属实"),
                                 (granted, "overturned", "核实无误")):
        decided = client.post(f"/api/v1/appeals/{appeals[item.id]}/decide", headers=api("fwgl2"),
                              json={"decision": decision, "note": note})
        assert decided.status_code == 200, decided.get_json()

    said = {pending.item_code: "申诉处理中",
            refused.item_code: "申诉未成立，维持原结论·处理意见：照片显示缺失属实",
            granted.item_code: "申诉成立，已撤销·处理意见：核实无误"}
    for url, who in ((f"/api/v1/inspections/{inspection.id}/rectification-list.pdf",
                      subbranch_manager_of(inspection)),
                     (f"/api/v1/inspections/{inspection.id}/rectification-list.pdf", "fwgl"),
                     (f"/api/v1/inspections/{inspection.id}/report.pdf",
                      outlet_manager_of(inspection))):
        flat = squeezed(pdf_text(client.get(url, headers=api(who))))
        # each item's text runs from its code to the next item's number and code
        rows = {code: flat[flat.index(code):] for code in (*said, untouched.item_code)}
        for code, line in said.items():
            assert line in rows[code], (url, who, code, flat)
            others = [rows[code].index(c) for c in rows if c != code and c in rows[code]]
            assert rows[code].index(line) < min(others, default=len(rows[code])), (url, code)
        assert flat.count("申诉处理中") == 1 and flat.count("申诉未成立") == 1, url
        untouched_row = rows[untouched.item_code]
        following = [untouched_row.index(c) for c in said if c in untouched_row]
        assert "申诉" not in untouched_row[:min(following, default=len(untouched_row))], url
