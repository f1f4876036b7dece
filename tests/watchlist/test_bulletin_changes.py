"""The bulletin's 名单变化 says what changed and names an outlet with its sub-branch, on the page,
in the PDF and in the workbook alike; the downloads follow the reader's language; the list and
the API name outlets with their sub-branch."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import sqlalchemy as sa
from pypdf import PdfReader

from inspect_app.checklists.models import ChecklistItem
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.orgs.models import OrgUnit
from inspect_app.watchlist.models import EntryStatus, WatchlistEntry, WatchlistEvent

REASON = "排队系统数据口径有误，已核实实际超时占比低于5%"


def _unit(code: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))


def _pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    return re.sub(r"\s+", "", text)


def _workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.data))


def _list_both_wenhualu_outlets() -> dict[str, int]:
    """Put the two 文化路分理处 (路北支行, 遵化支行) on the list as an evaluation would (say,
    after a tightened rule); their entries' ids.

    The stays on the list the demo gave them go first: its history is drawn back from the day
    it is seeded, so some days it lists one of them (seeded on 6 April 2027 it listed
    遵化支行's that very day), and a second entry beside an active one is no state the rules
    make — this week's changes would list the outlet twice (or show its earlier exit)."""
    ids = {}
    today = local_today()
    for code in ("TS-LB-04", "TS-ZH-03"):
        unit = _unit(code)
        assert unit.name == "文化路分理处"
        for earlier in db.session.scalars(sa.select(WatchlistEntry).where(
                WatchlistEntry.unit_id == unit.id)):
            db.session.delete(earlier)  # with its events and follow-ups
        db.session.flush()
        entry = WatchlistEntry(unit_id=unit.id, status=EntryStatus.active, entered_on=today,
                               reasons=[], rule_set_version=1, last_evaluated_on=today)
        entry.events.append(WatchlistEvent(kind="entered", on=today, hits=[],
                                           note="命中规则：独立检查得分偏低",
                                           note_data={"key": "entered",
                                                      "rules": ["low_independent_score"]}))
        db.session.add(entry)
        db.session.commit()
        ids[code] = entry.id
    return ids


def test_a_bulletins_changes_say_what_changed_and_whose(client, login, api, demo):
    """A manager takes an outlet off the list with a reason: does this week's bulletin — page,
    PDF and workbook — say 人工出列 beside the outlet and its sub-branch, not only the reason
    (which read like a new reason for listing)?"""
    entry = db.session.scalar(sa.select(WatchlistEntry).join(OrgUnit).where(
        WatchlistEntry.status == EntryStatus.active, OrgUnit.code == "TS-LN-03"))
    assert entry is not None and entry.unit.parent.name == "路南支行"
    headers = api("fwgl")  # a token before signing in: the page session would want its CSRF
    assert client.post(f"/api/v1/watchlist/{entry.id}/exit", headers=headers,
                       json={"reason": REASON}).status_code == 200
    today, name = local_today().isoformat(), entry.unit.name
    login("fwgl", DEMO_PASSWORD)
    page = client.get(f"/manage/bulletin?kind=week&day={today}").get_data(as_text=True)
    changes = page.split("<h2>名单变化</h2>")[1]
    assert f"{today} {name}（路南支行）：<strong>人工出列</strong> · {REASON}" in changes
    labels = set(re.findall(r"：<strong>(.*?)</strong>", changes))
    assert "人工出列" in labels and labels <= {"列入名单", "原因变化", "按规则出列", "人工出列"}

    pdf = _pdf_text(client.get(f"/manage/bulletin?kind=week&day={today}&format=pdf"))
    assert f"{today}{name}（路南支行）人工出列{REASON}" in pdf
    sheet = _workbook(client.get(f"/manage/bulletin?kind=week&day={today}&format=xlsx"))["名单变化"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("日期", "单位", "所属支行", "变化", "说明")
    assert (today, name, "路南支行", "人工出列", REASON) in rows
    data = client.get(f"/api/v1/bulletins?kind=week&day={today}", headers=headers).get_json()
    change = next(e for e in data["watchlist"]["events"] if e["kind"] == "manual_exit")
    assert (change["label"], change["unit"], change["subbranch"], change["note"]) == (
        "人工出列", name, "路南支行", REASON)


def test_outlets_sharing_a_name_are_told_apart_on_the_list(client, login, api, demo):
    """The two 文化路分理处 (路北支行, 遵化支行) on the list: do the list, their pages, the
    bulletin's changes and the API name each with its sub-branch?"""
    ids = _list_both_wenhualu_outlets()
    headers = api("fwgl")  # a token before signing in: the page session would want its CSRF
    login("fwgl", DEMO_PASSWORD)
    listing = client.get("/manage/watchlist").get_data(as_text=True)
    for code, subbranch in (("TS-LB-04", "路北支行"), ("TS-ZH-03", "遵化支行")):
        assert f'href="/manage/watchlist/{ids[code]}">文化路分理处（{subbranch}）</a>' in listing
        entry_page = client.get(f"/manage/watchlist/{ids[code]}").get_data(as_text=True)
        assert f"<h1>文化路分理处（{subbranch}） " in entry_page
        assert f"文化路分理处（{subbranch}） 近 6 个月得分" in entry_page  # the chart's title
    today = local_today().isoformat()
    page = client.get(f"/manage/bulletin?kind=week&day={today}").get_data(as_text=True)
    changes = page.split("<h2>名单变化</h2>")[1]
    assert changes.count("文化路分理处（路北支行）：<strong>列入名单</strong>") == 1
    assert changes.count("文化路分理处（遵化支行）：<strong>列入名单</strong>") == 1
    pdf = _pdf_text(client.get(f"/manage/bulletin?kind=week&day={today}&format=pdf"))
    assert "文化路分理处（路北支行）列入名单" in pdf and "文化路分理处（遵化支行）列入名单" in pdf
    rows = list(_workbook(client.get(f"/manage/bulletin?kind=week&day={today}&format=xlsx"))[
        "名单变化"].iter_rows(values_only=True))
    assert {(r[1], r[2], r[3]) for r in rows[1:] if r[1] == "文化路分理处"} == {
        ("文化路分理处", "路北支行", "列入名单"), ("文化路分理处", "遵化支行", "列入名单")}
    answer = client.get("/api/v1/watchlist", headers=headers).get_json()
    units = {(e["unit"]["name"], e["unit"]["subbranch"]) for e in answer}
    assert {("文化路分理处", "路北支行"), ("文化路分理处", "遵化支行")} <= units
    assert all(e["unit"]["subbranch"] is None for e in answer if e["unit"]["kind"] == "subbranch")


def test_the_bulletin_downloads_follow_the_readers_language(client, login, api, demo):
    """In English, are the bulletin's PDF and workbook English — headings, sheets, columns,
    modes, the list's changes — as their file name is (names and item texts stay as stored),
    while in Chinese they read as before? (The rectification lists stay Chinese.)"""
    _list_both_wenhualu_outlets()
    today = local_today().isoformat()
    headers = api("fwgl")  # a token before signing in: the page session would want its CSRF
    login("fwgl", DEMO_PASSWORD)
    month = client.get(f"/manage/bulletin?kind=month&day={today}&format=pdf&lang=en")
    assert "Monthly%20service%20summary" in month.headers["Content-Disposition"] or \
        "Monthly service summary" in month.headers["Content-Disposition"]
    text = _pdf_text(month)
    for words in ("Monthlyservicesummary", "Overview", "Inspectionsthisperiod",
                  "Sub-branchranking", "Itemsfailedmostoften", "Watch-listchanges",
                  "文化路分理处(路北支行)", "Addedtothelist"):
        assert words in text, words
    # item texts stay as stored (Chinese, some with full-width brackets), in the items failed
    # most often — which this month's checks so far (in the demo's history) fill: the rest,
    # headings, units' names around their sub-branch, page numbers, is English
    chrome = text
    for stored in sorted({re.sub(r"\s+", "", item) for item in db.session.scalars(
            sa.select(ChecklistItem.text))}, key=len, reverse=True):
        chrome = chrome.replace(stored, "")
    for chinese in ("概况", "支行排名", "名单式管理变化", "列入名单", "次", "（", "页"):
        assert chinese not in chrome, chinese
    workbook = _workbook(client.get(f"/manage/bulletin?kind=month&day={today}&format=xlsx"))
    assert {"Overview", "Best", "Worst", "Sub-branch ranking", "Watch-list changes"} <= set(
        workbook.sheetnames), workbook.sheetnames
    changes = list(workbook["Watch-list changes"].iter_rows(values_only=True))
    assert changes[0] == ("Date", "Unit", "Sub-branch", "Change", "Note")
    assert ("文化路分理处", "路北支行", "Added to the list") in {r[1:4] for r in changes}
    assert list(workbook["Overview"].iter_rows(values_only=True))[0][0] == \
        "Monthly service summary"
    last_month = (local_today().replace(day=1) - timedelta(days=1)).isoformat()
    workbook = _workbook(client.get(f"/manage/bulletin?kind=month&day={last_month}&format=xlsx"))
    overview = list(workbook["Overview"].iter_rows(values_only=True))
    assert overview[0][1].endswith(")") and "（" not in overview[0][1]
    assert workbook["Best"]["E2"].value in ("Excellent", "Good", "Pass", "Fail")
    modes = {row[0] for row in overview[2:]}
    assert modes and modes <= {"Self-check inspections", "Peer check inspections",
                               "Spot check inspections", "Mystery visit inspections"}, modes

    text = _pdf_text(client.get(f"/manage/bulletin?kind=month&day={today}&format=pdf&lang=zh"))
    assert "服务质量月总结" in text and "概况" in text and "文化路分理处（路北支行）列入名单" in text
    workbook = _workbook(client.get(f"/api/v1/bulletins.xlsx?kind=month&day={today}",
                                    headers=headers))  # the API: Chinese by default
    assert {"概况", "排名前列", "名单变化"} <= set(workbook.sheetnames)
    english = _workbook(client.get(f"/api/v1/bulletins.xlsx?kind=month&day={today}&lang=en",
                                   headers=headers))
    assert "Overview" in english.sheetnames
