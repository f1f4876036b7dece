"""整改台账: the rectification items as a workbook, with the list's filters and its privacy."""
from __future__ import annotations

import io
import re

import sqlalchemy as sa
from openpyxl import load_workbook

from inspect_app.extensions import db
from inspect_app.orgs.models import OrgKind, OrgUnit
from inspect_app.rectification.models import RectificationItem

from ..helpers import visit_times
from .conftest import items_of, outlet_manager_of, subbranch_manager_of
from .test_documents import VISIT

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def workbook(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == XLSX
    return load_workbook(io.BytesIO(response.data))


def ledger_rows(book) -> list[dict]:
    sheet = book.worksheets[1]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def listed(client, headers, query: str) -> list[dict]:
    """Every item the list API gives for ``query``, page after page."""
    items, page = [], 1
    while True:
        body = client.get(f"/api/v1/rectification/items?{query}&per_page=200&page={page}",
                          headers=headers).get_json()
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            return items
        page += 1


def test_the_ledger_holds_what_the_list_gives_with_the_same_filters(client, api,
                                                                    failed_inspection):
    """As the service manager: does the workbook hold exactly the items the list API gives
    for the same filters, in the same order, one row each with the item's figures — and does
    its 概况 sheet say who exported it, which filters, how many and how many overdue?"""
    failed_inspection(count=3)
    headers = api("fwgl")
    query = "state=open&state=submitted"
    book = workbook(client.get(f"/api/v1/rectification/items.xlsx?{query}", headers=headers))
    expected = listed(client, headers, query)

    assert book.sheetnames == ["概况", "整改台账"]
    rows = ledger_rows(book)
    assert [row["编号"] for row in rows] == [item["id"] for item in expected] != []
    first, item = rows[0], expected[0]
    assert (first["支行"], first["网点编码"], first["网点"]) == (
        item["subbranch"]["name"], item["outlet"]["code"], item["outlet"]["name"])
    assert (first["检查项编码"], first["检查项"], first["状态"], first["整改期限"]) == (
        item["item_code"], item["item_text"], item["state_label"], item["deadline"])
    assert first["责任人"] == (item["responsible"] or {}).get("display_name")
    assert sum(row["逾期"] == "是" for row in rows) == sum(i["overdue"] for i in expected)
    about = dict(book["概况"].iter_rows(values_only=True))
    assert about["导出人"] == "张丽" and about["整改项合计"] == len(expected)
    assert about["筛选条件"] == "状态：待整改、已提交"
    assert about["其中逾期"] == sum(i["overdue"] for i in expected)


def test_the_outlet_s_ledger_never_names_the_mystery_shopper_nor_the_visit_s_times(
        client, api, first, failed_inspection):
    """A mystery visit's items in the outlet's and the sub-branch's workbooks: is the
    inspector 神秘人, is every date a day with no time, and is no visit time anywhere — while
    the service manager's workbook names the shopper?"""
    events = visit_times(first("mystery_visit"), **VISIT)
    inspection, _ = failed_inspection(mode="mystery_visit", count=1, extra={"events": events})
    shopper = inspection.assignee
    for username in (outlet_manager_of(inspection), subbranch_manager_of(inspection)):
        book = workbook(client.get(
            f"/api/v1/rectification/items.xlsx?inspection_id={inspection.id}",
            headers=api(username)))
        (row,) = ledger_rows(book)
        assert row["检查人"] == "神秘人" and row["检查方式"] == "暗访"
        assert DAY.fullmatch(row["检查日期"]) and DAY.fullmatch(row["整改期限"])
        cells = " ".join(str(v) for sheet in book for r in sheet.iter_rows(values_only=True)
                         for v in r if v is not None)
        for secret in (shopper.display_name, shopper.username,
                       *(moment[11:16] for moment in events.values())):
            assert secret not in cells, (username, secret)
    (row,) = ledger_rows(workbook(client.get(
        f"/api/v1/rectification/items.xlsx?inspection_id={inspection.id}", headers=api("fwgl"))))
    assert shopper.display_name in row["检查人"]


def test_the_filters_never_name_a_person_or_unit_the_reader_cannot_see(client, api, first,
                                                                       failed_inspection):
    """The 概况 sheet says the filters in words: asked for the items of a mystery shopper (as
    the person responsible) or of another sub-branch's outlet, does a sub-branch manager get
    no rows and only the id — never the shopper's name — while a filter that matches the
    items is named?"""
    inspection, _ = failed_inspection(count=1)
    manager = api(subbranch_manager_of(inspection))
    shopper = first("mystery_visit").assignee
    elsewhere = db.session.scalar(sa.select(OrgUnit).where(
        OrgUnit.kind == OrgKind.outlet, OrgUnit.parent_id != inspection.outlet.parent_id))
    for query, said in ((f"responsible_id={shopper.id}", f"责任人：#{shopper.id}"),
                        (f"outlet_id={elsewhere.id}", f"网点：#{elsewhere.id}"),
                        (f"outlet_id={inspection.outlet_id}",
                         f"网点：{inspection.outlet.name}")):
        book = workbook(client.get(f"/api/v1/rectification/items.xlsx?{query}",
                                   headers=manager))
        about = dict(book["概况"].iter_rows(values_only=True))
        assert about["筛选条件"] == said, query
        assert shopper.display_name not in str(about)
        assert bool(ledger_rows(book)) == ("#" not in said), query


def test_what_a_person_typed_stays_text_in_the_workbook(client, api, failed_inspection):
    """A finding's note that looks like a formula: is it stored as text (never run by Excel),
    and are characters a worksheet cannot hold dropped rather than failing the export?"""
    inspection, _ = failed_inspection(count=1)
    item = items_of(inspection)[0]
    item.finding_note = '=HYPERLINK("http://example.invalid","点此")\x07'
    db.session.commit()
    book = workbook(client.get(
        f"/api/v1/rectification/items.xlsx?inspection_id={inspection.id}", headers=api("fwgl")))
    sheet = book.worksheets[1]
    headers = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=headers.index("问题描述") + 1)
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://example.invalid","点此")'


def test_an_export_too_large_is_refused_with_a_way_to_narrow_it(client, api, failed_inspection,
                                                               monkeypatch):
    """More items than one export holds: a 422 saying how many and how to narrow it, in
    Chinese — and in English for an English reader?"""
    failed_inspection(count=2)
    monkeypatch.setattr("inspect_app.rectification.api.MAX_ROWS", 1)
    total = db.session.scalar(sa.select(sa.func.count(RectificationItem.id)))
    refused = client.get("/api/v1/rectification/items.xlsx", headers=api("fwgl"))
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_rows"
    assert f"符合条件的整改项有 {total} 项" in error["message"] and "缩小范围" in error["message"]
    english = client.get("/api/v1/rectification/items.xlsx?lang=en", headers=api("fwgl"))
    assert "narrow it by sub-branch, month or state" in english.get_json()["error"]["message"]
    client.get("/api/v1/rectification/items?lang=zh", headers=api("fwgl"))


def test_the_ledger_speaks_english_to_an_english_reader(client, api, failed_inspection):
    """With English chosen: sheets, headings, states and filters in English."""
    failed_inspection(count=1)
    headers = api("fwgl")
    book = workbook(client.get("/api/v1/rectification/items.xlsx?overdue=false&lang=en",
                               headers=headers))
    client.get("/api/v1/rectification/items?lang=zh", headers=headers)
    assert book.sheetnames == ["Overview", "Rectification ledger"]
    rows = ledger_rows(book)
    assert {"No.", "Sub-branch", "Outlet", "Deadline", "Responsible"} <= set(rows[0])
    assert {row["Status"] for row in rows} <= {"To fix", "Submitted", "Accepted", "Closed"}
    about = dict(book["Overview"].iter_rows(values_only=True))
    assert about["Filters"] == "Not overdue"


def test_the_rectification_lists_page_offers_the_month_s_ledger_and_the_unfinished(
        client, login, api, failed_inspection):
    """整改清单: do its two links give the items found in the month shown, and every
    unfinished item, as the list API gives them?"""
    from inspect_app.demo.seed import DEMO_PASSWORD

    inspection, _ = failed_inspection(count=2)
    manager = subbranch_manager_of(inspection)
    headers = api(manager)
    login(manager, DEMO_PASSWORD)
    page = client.get("/manage/lists?period=" + inspection.submitted_at.strftime("%Y-%m"))
    html = page.get_data(as_text=True)
    links = dict(re.findall(r'data-ledger="(\w+)" download\s+href="([^"]+)"', html))
    assert set(links) == {"found", "unfinished"}
    assert "state=open&amp;state=submitted" in links["unfinished"]
    for kind, query in (("found", links["found"].split("?", 1)[1].replace("&amp;", "&")),
                        ("unfinished", "state=open&state=submitted")):
        book = workbook(client.get(links[kind].replace("&amp;", "&")))
        assert [row["编号"] for row in ledger_rows(book)] == [
            item["id"] for item in listed(client, headers, query)], kind
    assert {item.id for item in items_of(inspection)} <= {
        row["编号"] for row in ledger_rows(workbook(client.get(
            links["found"].replace("&amp;", "&"))))}
