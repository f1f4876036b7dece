"""Rankings, bulletins and trends as managers read them: ties at the top, real ranks, the
whole ranking, ways to every outlet's trend, and words that say what the figures mean."""
from __future__ import annotations

import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from inspect_app.extensions import db
from inspect_app.orgs.models import OrgKind, OrgUnit
from inspect_app.watchlist import dashboards

from ..conftest import last_month

#: last month: a whole month of the demo's history, whatever day it is seeded
FIRST, LAST = last_month()
MONTH = f"kind=month&day={FIRST.replace(day=15)}"
NS = "{http://www.w3.org/2000/svg}"


def rows(*ranks: int) -> list[dict]:
    """A ranking (best first) with these ranks."""
    return [{"id": index, "rank": rank} for index, rank in enumerate(ranks)]


@pytest.mark.parametrize("ranks,best,worst,tied", [
    # 路北支行 in October: 7 of 9 outlets at 100.00
    ((1, 1, 1, 1, 1, 1, 1, 8, 9), [1] * 5, [9, 8], {"rank": 1, "count": 2}),
    # the whole branch: 31 at 100.00 of 76
    ((1,) * 31 + tuple(range(32, 77)), [1] * 5, [76, 75, 74, 73, 72],
     {"rank": 1, "count": 26}),
    # everyone tied: nobody is among the worst
    ((1, 1, 1, 1), [1, 1], [], {"rank": 1, "count": 2}),
    # a tie cutting across the fifth place
    ((1, 2, 3, 4, 5, 5, 5, 8, 9, 10, 11, 12), [1, 2, 3, 4, 5], [12, 11, 10, 9, 8],
     {"rank": 5, "count": 2}),
    # a small ranking with a tie among its lower half
    ((1, 2, 2, 4), [1, 2], [4], {"rank": 2, "count": 1}),
    # no tie: as before
    ((1, 2, 3, 4, 5, 6), [1, 2, 3], [6, 5, 4], None),
])
def test_outlets_tied_with_the_best_are_never_among_the_worst(ranks, best, worst, tied):
    """Is an outlet tied for first place (or with the last of the best list) kept off the
    worst list, however few outlets are ranked — and is the tie the best list cuts through
    said (另有 N 个网点并列第 1 名)?"""
    ranking = rows(*ranks)
    top, bottom = dashboards.best_and_worst(ranking)
    assert [r["rank"] for r in top] == best and [r["rank"] for r in bottom] == worst
    assert min((r["rank"] for r in bottom), default=99) > max(r["rank"] for r in top)
    assert dashboards.tied_with_best(ranking, top) == tied


def test_an_outlet_manager_still_sees_only_their_standing():
    """With ties in the ranking, does an outlet manager (who has a standing) still get no
    best or worst list?"""
    standing = [{"id": 3, "name": "长宁道分理处", "rank": 1, "of": 9}]
    assert dashboards.ends_for(rows(1, 1, 1, 4), standing) == ([], [])


def chart(page: str, title: str) -> ET.Element:
    """The chart of ``page`` titled ``title``, parsed."""
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        root = ET.fromstring(svg)
        if root.find(f"{NS}title").text == title:
            return root
    raise AssertionError(f"no chart {title}")


def linked_ids(root: ET.Element) -> list[int]:
    return [int(re.search(r"/manage/trend/(\d+)", a.get("href")).group(1))
            for a in root.iter(f"{NS}a")]


#: Outlets of 路北支行 (of its 9) that score 100.00 in :func:`tied_month`.
TIED = 7


@pytest.fixture
def tied_month(demo) -> str:
    """The query of a whole month of the demo's history (the one before last) in which 7 of
    路北支行's 9 outlets score 100.00, all first — and more of the branch's 76.

    How many do in the demo depends on the day it is seeded (its history is drawn back from
    today: seeded on 2026-11-30, October had 7; seeded in January 2027, no month had more than
    4), so the best of 路北's outlets that month are given full marks on each of their results
    (the ranking figures follow, as on any change of a total)."""
    from decimal import Decimal

    from inspect_app.i18n import bank_midnight
    from inspect_app.inspections.models import Inspection
    from inspect_app.watchlist.period_scores import period_end, period_start

    start = period_start("month", FIRST - timedelta(days=1))  # the month before last
    end = period_end("month", start)
    lubei = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    results = db.session.scalars(sa.select(Inspection).join(
        OrgUnit, OrgUnit.id == Inspection.outlet_id).where(
        OrgUnit.parent_id == lubei.id, Inspection.total.is_not(None),
        Inspection.submitted_at >= bank_midnight(start),
        Inspection.submitted_at < bank_midnight(end), Inspection.scores_the_outlet())).all()
    by_outlet: dict[int, list[Inspection]] = {}
    for result in results:
        by_outlet.setdefault(result.outlet_id, []).append(result)
    assert len(by_outlet) == 9, "each of 路北支行's outlets has results that month"
    best = sorted(by_outlet.values(), key=lambda own: sum(r.total for r in own) / len(own),
                  reverse=True)
    for own in best[:TIED]:
        for result in own:
            result.total = Decimal("100.00")
    db.session.commit()
    return f"kind=month&day={start + timedelta(days=14)}"


def firsts_and_bulletin(client, api, username: str,
                        month: str) -> tuple[set[int], dict, str]:
    """The outlets ranked first for ``username`` in ``month``, its bulletin, and what it says
    of the ones its best list leaves out."""
    ranking = client.get(f"/api/v1/dashboard/rankings?{month}",
                         headers=api(username)).get_json()["outlets"]
    firsts = {r["id"] for r in ranking if r.get("rank") == 1}
    data = client.get(f"/api/v1/bulletins?{month}", headers=api(username)).get_json()
    assert len(firsts) > len(data["best"]) == 5
    if username == "zh.lubei":
        assert len(firsts) == TIED and len(ranking) == 9
    return firsts, data, f"另有 {len(firsts) - 5} 个网点并列第 1 名"


@pytest.mark.parametrize("username", ["zh.lubei", "fwgl"])
def test_a_tie_for_first_shows_as_a_tie_in_the_bulletin(client, api, login, tied_month,
                                                        username):
    """A month in which 7 of 路北支行's 9 outlets (and more of the branch's 76) score 100.00,
    all first: in the bulletin — its data, page, PDF and workbook — is none of them listed
    among the worst, and does each say how many more share first place?"""
    firsts, data, said = firsts_and_bulletin(client, api, username, tied_month)
    assert data["tied_with_best"] == {"rank": 1, "count": len(firsts) - 5}
    assert data["worst"] and all(r["rank"] > 1 for r in data["worst"])

    login(username, "Demo@2026")
    bulletin = client.get(f"/manage/bulletin?{tied_month}").get_data(as_text=True)
    assert said in bulletin
    assert all(int(rank) > 1 for rank in re.findall(
        r'data-rank="(\d+)"', bulletin.split("排名靠后")[1].split("</section>")[0]))
    pdf = client.get(f"/api/v1/bulletins.pdf?{tied_month}", headers=api(username))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert said in text.replace("\n", "")
    xlsx = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/api/v1/bulletins.xlsx?{tied_month}", headers=api(username)).data))
    values = list(xlsx["排名前列"].iter_rows(min_row=2, values_only=True))
    assert len(values) == 6 and said in values[-1][1]
    assert all(row[0] == 1 for row in values[:5])
    assert all(row[0] > 1 for row in xlsx["排名靠后"].iter_rows(min_row=2, values_only=True))


@pytest.mark.parametrize("username", ["zh.lubei", "fwgl"])
def test_the_rankings_page_shows_a_tie_for_first_as_a_tie(client, api, login, tied_month,
                                                          username):
    """On the rankings page, is no outlet tied for first among the worst bars, and does the
    page say how many more share first place?"""
    firsts, _, said = firsts_and_bulletin(client, api, username, tied_month)
    login(username, "Demo@2026")
    page = client.get(f"/manage/rankings?{tied_month}").get_data(as_text=True)
    worst = linked_ids(chart(page, "排名靠后网点"))
    assert worst and not firsts & set(worst)
    assert set(linked_ids(chart(page, "排名前列网点"))) <= firsts
    assert said in page


def test_the_bulletin_page_says_real_ranks_and_numbers_no_placeholder(client, api, login,
                                                                      demo):
    """Does the bulletin page give each listed outlet its real rank (76, 75 … among the
    worst, not 1, 2, 3 of an ordered list), and leave "无" / "本期无检查" unnumbered?"""
    data = client.get(f"/api/v1/bulletins?{MONTH}", headers=api("fwgl")).get_json()
    login("fwgl", "Demo@2026")
    page = client.get(f"/manage/bulletin?{MONTH}").get_data(as_text=True)
    worst = page.split("排名靠后")[1].split("</section>")[0]
    assert "<ol" not in worst
    shown = re.findall(r'<li data-rank="(\d+)"><span class="rank">第 (\d+) 名</span>', worst)
    assert [int(a) for a, b in shown] == [r["rank"] for r in data["worst"]]
    assert all(a == b for a, b in shown) and shown[0][0] == "76"

    empty = client.get("/manage/bulletin?kind=month&day=2025-06-15").get_data(as_text=True)
    assert "本期无检查" in empty
    assert not re.search(r"<ol>\s*<li[^>]*>\s*(本期无检查|无|参加排名的网点太少)", empty)
    assert not re.search(r"<ol[^>]*>(?:(?!</ol>).)*>(本期无检查|无)</li>", empty, flags=re.S)


def test_the_bulletin_counts_modes_in_the_programmes_order(client, api, login, demo):
    """Does the bulletin's 概况 list the modes as the programme does — 自查, 互查, 抽查,
    暗访 — on the page, in the PDF and in the workbook?"""
    order = ["自查", "互查", "抽查", "暗访"]
    data = client.get(f"/api/v1/bulletins?{MONTH}", headers=api("fwgl")).get_json()
    assert set(data["inspections"]) == set(order)  # the month saw all four
    login("fwgl", "Demo@2026")
    page = client.get(f"/manage/bulletin?{MONTH}").get_data(as_text=True)
    assert re.findall(r"(自查|互查|抽查|暗访) \d+ 次", page) == order
    pdf = client.get(f"/api/v1/bulletins.pdf?{MONTH}", headers=api("fwgl"))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert re.findall(r"(自查|互查|抽查|暗访) \d+ 次", text.replace("\n", ""))[:4] == order
    xlsx = client.get(f"/api/v1/bulletins.xlsx?{MONTH}", headers=api("fwgl"))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data))["概况"]
    assert [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)] == [
        f"{mode}次数" for mode in order]


def test_every_ranked_outlet_is_on_the_rankings_page_with_a_way_to_its_trend(client, api,
                                                                            login, demo):
    """Are all 76 ranked outlets of the month on the rankings page (a page of 50, then the
    rest), each with its rank, score and number of checks and a link to its trend, the
    best and worst bars linking there too — and does the workbook hold them all?"""
    ranking = [r for r in client.get(f"/api/v1/dashboard/rankings?{MONTH}",
                                     headers=api("fwgl")).get_json()["outlets"]
               if r["combined"] is not None]
    login("fwgl", "Demo@2026")
    seen = []
    for page_number in (1, 2):
        page = client.get(f"/manage/rankings?{MONTH}&page={page_number}").get_data(as_text=True)
        table = page.split('id="full-ranking"')[1].split("</details>")[0]
        seen += re.findall(r'<tr data-rank="(\d+)"><td>\d+</td><td class="name"><a href="'
                           rf'/manage/trend/(\d+)\?day={LAST}">[^<]+</a>.*?'
                           r'<td class="num">([\d.]+)</td><td class="num">(\d+)</td></tr>',
                           table)
        assert f"第 {page_number} / 2 页" in table
    assert [(int(rank), int(id_), float(score), int(count)) for rank, id_, score, count
            in seen] == [(r["rank"], r["id"], r["combined"], r["count"]) for r in ranking]
    page = client.get(f"/manage/rankings?{MONTH}").get_data(as_text=True)
    assert len(linked_ids(chart(page, "排名前列网点"))) == 5
    assert len(linked_ids(chart(page, "排名靠后网点"))) == 5
    middle = ranking[40]
    trend = client.get(f"/manage/trend/{middle['id']}?day={LAST}")
    assert trend.status_code == 200 and middle["name"] in trend.get_data(as_text=True)

    workbook = client.get(f"/manage/rankings?{MONTH}&format=xlsx")
    assert workbook.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.data))["网点排名"]
    assert [(row[0], row[1], row[3], row[5]) for row in sheet.iter_rows(
        min_row=2, values_only=True)] == [(r["rank"], r["name"], r["combined"], r["count"])
                                          for r in ranking]
    # in English, the workbook is English too (not the page alone)
    english = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/manage/rankings?{MONTH}&format=xlsx&lang=en").data))
    assert english.sheetnames == ["Overview", "Outlet ranking", "Sub-branch ranking"]
    rows = list(english["Outlet ranking"].iter_rows(values_only=True))
    assert rows[0][:5] == ("Rank", "Outlet", "Sub-branch", "Combined score", "Grade")
    assert {row[4] for row in rows[1:]} <= {"Excellent", "Good", "Pass", "Fail"}
    period = list(english["Overview"].iter_rows(values_only=True))[0][1]
    assert "年" not in period and "（" not in period and FIRST.isoformat() in period


def test_a_subbranch_head_reaches_the_trends_of_their_own_outlets_only(client, login, demo):
    """A sub-branch manager's rankings and sub-branch trend: does every outlet link lead to
    one of their own outlets' trends (which open), none to another sub-branch's (404), and
    does the sub-branch's trend list its outlets with links?"""
    lubei = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    own = set(db.session.scalars(sa.select(OrgUnit.id).where(
        OrgUnit.parent_id == lubei.id, OrgUnit.kind == OrgKind.outlet, OrgUnit.is_active)))
    other = db.session.scalar(sa.select(OrgUnit.id).where(
        OrgUnit.kind == OrgKind.outlet, OrgUnit.parent_id != lubei.id))
    login("zh.lubei", "Demo@2026")
    page = client.get(f"/manage/rankings?{MONTH}").get_data(as_text=True)
    linked = {int(i) for i in re.findall(r'href="/manage/trend/(\d+)', page)}
    assert own & linked and linked <= own | {lubei.id}
    for unit_id in linked:
        assert client.get(f"/manage/trend/{unit_id}").status_code == 200
    assert client.get(f"/manage/trend/{other}").status_code == 404
    trend = client.get(f"/manage/trend/{lubei.id}?day={LAST}").get_data(as_text=True)
    outlets = trend.split('id="outlets"')[1]
    assert f"下属网点 · {LAST.year}年{LAST.month}月" in outlets
    assert {int(i) for i in re.findall(r'href="/manage/trend/(\d+)', outlets)} == own


def test_most_failed_items_are_written_whole_on_the_rankings_page(client, api, login, demo):
    """Is each of the most-failed items' text written whole in the chart (over several lines
    where long), not cut to a few characters with the rest only in a hover tooltip?"""
    items = client.get(f"/api/v1/dashboard/failed-items?{MONTH}&limit=8",
                       headers=api("fwgl")).get_json()["items"]
    login("fwgl", "Demo@2026")
    root = chart(client.get(f"/manage/rankings?{MONTH}").get_data(as_text=True),
                 "失分最多的检查项")
    written = ["".join(t.text for t in bar.iter(f"{NS}text") if t.get("font-size") != "11")
               for bar in root.iter(f"{NS}g") if bar.get("class") == "bar"]
    assert written == [f"{r['item_code']} {r['item_text']}" for r in items]
    assert any(len(r["item_text"]) > 12 for r in items)


def test_trend_axes_say_months_and_years_in_the_pages_language(client, login, demo):
    """Does the 12-month trend's axis read months (10月, Oct in English) with the year under
    January, never "26-01", which looks like a day?"""
    lubei = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    login("fwgl", "Demo@2026")
    url = f"/manage/trend/{lubei.id}?day={LAST}"
    # the 12 months to LAST hold LAST's own January, whatever LAST is: its year under it
    root = chart(client.get(url).get_data(as_text=True), "路北支行 近 12 个月趋势")
    written = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    assert f"{LAST.month}月" in written and f"{LAST.year}年" in written
    assert not [t for t in written if re.fullmatch(r"\d\d-\d\d", t)]
    english = client.get(url + "&lang=en").get_data(as_text=True)
    root = chart(english, "路北支行: trend over 12 months")
    written = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    month = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()[LAST.month - 1]
    assert month in written and str(LAST.year) in written


def test_the_watch_list_says_what_its_trend_arrows_mean(client, login, demo):
    """Do the watch-list, an entry and a trend page say what ↑ → ↓ mean, with the 2-point
    threshold — in Chinese and in English?"""
    from inspect_app.watchlist.models import WatchlistEntry

    entry = db.session.scalar(sa.select(WatchlistEntry).order_by(WatchlistEntry.id))
    login("fwgl", "Demo@2026")
    for path in ("/manage/watchlist", f"/manage/watchlist/{entry.id}",
                 f"/manage/trend/{entry.unit_id}"):
        page = client.get(path).get_data(as_text=True)
        legend = re.search(r"<p[^>]*data-trend-legend>(.*?)</p>", page, flags=re.S).group(1)
        assert "↑" in legend and "↓" in legend and "→" in legend and "2 分" in legend, path
    page = client.get("/manage/watchlist?lang=en").get_data(as_text=True)
    legend = re.search(r"<p[^>]*data-trend-legend>(.*?)</p>", page, flags=re.S).group(1)
    assert "2 points" in legend


def test_the_self_vs_independent_chart_writes_the_bulletins_figures(client, api, login, demo):
    """Does 自查与独立检查对比 on the rankings page write each outlet's means as the bulletin's
    workbook and PDF (and every other score on the page) do — 92.37, not 92.4?"""
    gaps = client.get(f"/api/v1/bulletins?{MONTH}", headers=api("fwgl")).get_json()["gaps"]
    assert gaps, "the demo's history has outlets whose self-checks score above the others"
    login("fwgl", "Demo@2026")
    root = chart(client.get(f"/manage/rankings?{MONTH}").get_data(as_text=True),
                 "自查与独立检查对比")
    written = {t.text for t in root.iter(f"{NS}text")}
    for row in gaps:
        assert f"{row['self_mean']:.2f}" in written and f"{row['independent_mean']:.2f}" in written


def test_the_bulletin_page_says_what_its_pdf_and_workbook_say(client, api, login, demo):
    """The month's bulletin as a page, a PDF and a workbook: does the page give the sub-branch
    ranking and the self vs independent gaps the downloads give — and do all three name each
    outlet of the gaps with its sub-branch (two 文化路分理处 in one branch)?"""
    data = client.get(f"/api/v1/bulletins?{MONTH}", headers=api("fwgl")).get_json()
    assert data["gaps"] and data["subbranches"]
    login("fwgl", "Demo@2026")
    page = client.get(f"/manage/bulletin?{MONTH}").get_data(as_text=True)
    ranked = page.split('id="bulletin-subbranches"')[1].split("</section>")[0]
    assert re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td class=\"num\">([\d.]+)</td>"
                      r"<td class=\"num\">(\d+)</td></tr>", ranked) == [
        (str(r["rank"]), r["name"], f"{r['combined']:.2f}", str(r["count"]))
        for r in data["subbranches"]]
    gaps = page.split('id="bulletin-gaps"')[1].split("</section>")[0]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        client.get(f"/manage/bulletin?{MONTH}&format=pdf").data)).pages)
    pdf = re.sub(r"\s+", "", text)
    # what changed on the list, each on one line of its column (列入名单, not 列入名 / 单)
    assert data["watchlist"]["events"]
    for event in data["watchlist"]["events"]:
        assert event["label"] in text
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/manage/bulletin?{MONTH}&format=xlsx").data))["自查与独立检查"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("网点", "支行", "自查均分", "独立检查均分", "差值")
    for row, written in zip(data["gaps"], rows[1:], strict=True):
        named = f"{row['name']}（{row['subbranch']}）"
        assert named in gaps and f"{row['gap']:.2f}" in gaps
        assert f"{named}{row['self_mean']:.2f}" in pdf
        assert written == (row["name"], row["subbranch"], row["self_mean"],
                           row["independent_mean"], row["gap"])


@pytest.mark.parametrize("url", [f"/manage/rankings?{MONTH}&format=xlsx",
                                 f"/manage/bulletin?{MONTH}&format=xlsx"])
def test_the_workbooks_read_as_the_pages(client, login, demo, url):
    """Opened in Excel, does every score read with two decimals as on the pages (98.20 and
    100.00, not 98.2 and 100), and is every column wide enough for its labels — 概况's
    "参加排名网点数" and the period not cut off by the cell beside them?"""
    login("fwgl", "Demo@2026")
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(url).data))
    scores = {"综合得分", "自查均分", "独立检查均分", "差值"}
    checked = 0
    for sheet in workbook:
        headers = [cell.value for cell in sheet[1]]
        for column in sheet.iter_cols(min_row=1 if sheet.title == "概况" else 2):
            letter = column[0].column_letter
            width = sheet.column_dimensions[letter].width
            for cell in column:
                if isinstance(cell.value, str) and not cell.alignment.wrap_text:
                    wide = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1
                               for c in cell.value)  # a Chinese character takes two
                    assert width >= wide, (sheet.title, cell.coordinate)
            if sheet.title != "概况" and headers[column[0].column - 1] in scores:
                assert all(cell.number_format == "0.00" for cell in column
                           if cell.value is not None), (sheet.title, letter)
                checked += 1
    assert checked >= 2


@pytest.mark.parametrize("url", [f"/manage/rankings?{MONTH}&format=xlsx",
                                 f"/manage/bulletin?{MONTH}&format=xlsx"])
def test_a_name_that_looks_like_a_formula_stays_a_name_in_the_workbooks(client, login, demo,
                                                                        url):
    """A sub-branch named "=1+1…" (names are typed by people): do the workbooks hold it as
    text, never as a formula Excel would run?"""
    for unit in db.session.scalars(sa.select(OrgUnit).where(OrgUnit.kind == OrgKind.subbranch)):
        unit.name = f"=1+1 {unit.name}"
    db.session.commit()
    login("fwgl", "Demo@2026")
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(url).data))
    named = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str) and cell.value.startswith("=1+1")]
    assert named and all(cell.data_type == "s" for cell in named)
