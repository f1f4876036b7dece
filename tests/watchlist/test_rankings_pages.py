"""Rankings and bulletins as managers read them: ties at the top, real ranks, modes in the
programme's order."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
from pypdf import PdfReader

from inspect_app.watchlist import dashboards

#: inside the demo's history: 31 outlets score 100.00 that month
MONTH = "kind=month&day=2026-10-15"


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


def firsts_and_bulletin(client, api, username: str) -> tuple[set[int], dict, str]:
    """October's outlets ranked first for ``username``, their bulletin, and what it says of
    the ones its best list leaves out."""
    ranking = client.get(f"/api/v1/dashboard/rankings?{MONTH}",
                         headers=api(username)).get_json()["outlets"]
    firsts = {r["id"] for r in ranking if r.get("rank") == 1}
    data = client.get(f"/api/v1/bulletins?{MONTH}", headers=api(username)).get_json()
    assert len(firsts) > len(data["best"]) == 5
    return firsts, data, f"另有 {len(firsts) - 5} 个网点并列第 1 名"


@pytest.mark.parametrize("username", ["zh.lubei", "fwgl"])
def test_a_tie_for_first_shows_as_a_tie_in_the_bulletin(client, api, login, demo, username):
    """October: 7 of 路北支行's 9 outlets (and 31 of the branch's 76) score 100.00, all first.
    In the bulletin — its data, page, PDF and workbook — is none of them listed among the
    worst, and does each say how many more share first place?"""
    firsts, data, said = firsts_and_bulletin(client, api, username)
    assert data["tied_with_best"] == {"rank": 1, "count": len(firsts) - 5}
    assert data["worst"] and all(r["rank"] > 1 for r in data["worst"])

    login(username, "Demo@2026")
    bulletin = client.get(f"/manage/bulletin?{MONTH}").get_data(as_text=True)
    assert said in bulletin
    assert all(int(rank) > 1 for rank in re.findall(
        r'data-rank="(\d+)"', bulletin.split("排名靠后")[1].split("</section>")[0]))
    pdf = client.get(f"/api/v1/bulletins.pdf?{MONTH}", headers=api(username))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert said in text.replace("\n", "")
    xlsx = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/api/v1/bulletins.xlsx?{MONTH}", headers=api(username)).data))
    values = list(xlsx["排名前列"].iter_rows(min_row=2, values_only=True))
    assert len(values) == 6 and said in values[-1][1]
    assert all(row[0] == 1 for row in values[:5])
    assert all(row[0] > 1 for row in xlsx["排名靠后"].iter_rows(min_row=2, values_only=True))


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
    assert set(data["inspections"]) == set(order)  # October saw all four
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
