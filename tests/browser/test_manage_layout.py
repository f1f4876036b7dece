"""Managers' pages on a 390 px phone and a 1280 px desktop: names and buttons are never broken
a character a line."""
from __future__ import annotations

import pytest

from .pwa_helpers import sign_in

#: How many lines an element's text runs to: its text's boxes, one per line, told apart by
#: where they start vertically.
LINES = """(element) => {
  const range = document.createRange();
  range.selectNodeContents(element);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""


@pytest.mark.parametrize("width", [390, 1280])
def test_each_subbranch_and_its_download_stay_on_one_line(new_mobile_context, demo, width):
    """整改清单 beside each sub-branch's month figures (and the earlier items still owed, which
    the demo leaves): is 曹妃甸支行 one line, not "曹妃甸支 / 行" or a character a line, and
    下载 PDF one button on one line?"""
    page = new_mobile_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, "fwgl", "/manage/lists")
    rows = page.locator("[data-list-unit]")
    assert rows.count() >= 10
    assert page.locator("[data-earlier]").count()  # the long line that squeezed the name
    for index in range(rows.count()):
        row = rows.nth(index)
        name, button = row.locator("strong"), row.locator("[data-list-pdf]")
        assert name.evaluate(LINES) == 1, (width, name.inner_text())
        assert button.evaluate(LINES) == 1, (width, name.inner_text())
        # nothing runs out of the card
        assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [390, 1280])
def test_a_trend_chart_is_as_wide_as_the_screen_allows(new_mobile_context, demo, width):
    """A sub-branch's 12-month trend and a listed unit's 6-month chart: on a desktop, does the
    chart fill its card (not the 360 px it is drawn at, its axis labels 10 px high), and on a
    phone does it still fit the screen?"""
    page = new_mobile_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, "fwgl", "/manage/watchlist")
    entry = page.locator(".entry-list a.unit, .entry-list li a").first.get_attribute("href")
    for path in ("/manage/trend/2", entry):
        page.goto(path)
        box = page.locator("svg.chart").first.bounding_box()
        card = page.locator("section.card").first.bounding_box()
        assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"]
        if width > 640:
            assert box["width"] >= 500, (path, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [390, 1280])
def test_the_full_ranking_reads_on_a_phone(new_mobile_context, demo, width):
    """完整排名 of a month of the demo's history: are its headings (名次, 综合得分, 检查次数) and
    each outlet's sub-branch one line each — on a phone the sub-branch under the outlet's name
    rather than "路南支 / 行" in a column of its own — with nothing wider than the screen?"""
    from ..conftest import last_month

    page = new_mobile_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, "fwgl", "/manage/rankings")
    page.goto(f"/manage/rankings?kind=month&day={last_month()[0]}&page=1")  # opened
    table = page.locator("#full-ranking table")
    assert table.is_visible()
    for heading in table.locator("th").all():
        if heading.is_visible():
            assert heading.evaluate(LINES) == 1, (width, heading.inner_text())
    subbranches = table.locator(".sub-in-name" if width < 480 else "td.sub-col")
    assert subbranches.count() > 10
    for index in range(subbranches.count()):
        assert subbranches.nth(index).is_visible()
        assert subbranches.nth(index).evaluate(LINES) == 1, subbranches.nth(index).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_rules_applies_to_options_wrap_beside_their_label_on_a_phone(new_mobile_context, demo,
                                                                      language):
    """名单规则 on a 390 px phone, where English "Applies to ☑ Outlets ☑ Sub-branches" does not
    fit one line: does every option start to the right of "Applies to" (a wrapped one under the
    first option, not under the label)?"""
    page = new_mobile_context(viewport={"width": 390, "height": 900}).new_page()
    sign_in(page, "fwgl", f"/manage/rules?lang={language}")
    groups = page.locator(".rules-form .kinds")
    assert groups.count() >= 3
    for index in range(groups.count()):
        group = groups.nth(index)
        label_right = group.locator("> span").first.evaluate(
            "(e) => e.getBoundingClientRect().right")
        options = group.locator("label.check")
        assert options.count() == 2
        lefts = [options.nth(n).evaluate("(e) => e.getBoundingClientRect().left")
                 for n in range(options.count())]
        assert all(left > label_right for left in lefts), (language, label_right, lefts)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
