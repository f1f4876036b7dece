"""The English pages on a phone and a desktop: English says the same in longer lines than
Chinese, and nothing may break where it wraps — a date split at its hyphens, a unit's name
squeezed into a column one character wide, a button's words on two lines."""
from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from ..helpers import attach_photos, filler_of, jpeg, new_key, passing_answers, submit_filled
from .pwa_helpers import sign_in

#: Every date (2026-11-30) in the text under ``root`` that the browser laid out on more than
#: one line.
BROKEN_DATES = """(root) => {
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector(root), NodeFilter.SHOW_TEXT);
  const dates = /\\d{4}-\\d{2}-\\d{2}/g;
  let node;
  while ((node = walker.nextNode())) {
    for (const found of node.textContent.matchAll(dates)) {
      const range = document.createRange();
      range.setStart(node, found.index);
      range.setEnd(node, found.index + found[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0)
                                                         .map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(node.parentElement.textContent.trim());
    }
  }
  return broken;
}"""

#: How many lines an element's text takes.
LINES = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return new Set([...range.getClientRects()].filter((r) => r.width > 0)
                                            .map((r) => Math.round(r.top))).size;
}"""


def test_result_list_dates_are_not_split_on_a_phone(new_mobile_context, demo):
    """On a 390 px phone in English, is every result's "Submitted on: 2026-11-30" date kept
    whole rather than broken into "2026-" and "11-30" on two lines?"""
    page = new_mobile_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, "zh.lubei", "/results")
    page.goto("/results?lang=en")
    rows = page.locator("#results-list [data-result]")
    expect(rows.first).to_contain_text("Submitted on:")
    assert rows.count() >= 10
    assert page.evaluate(BROKEN_DATES, "#results-list") == []


def test_task_form_header_date_is_not_split_on_a_phone(new_mobile_context, first):
    """Does the inspection form's header (mode · state · Due … to …) keep its dates whole on a
    phone in English?"""
    inspection = first("mystery_visit")
    page = new_mobile_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, filler_of(inspection), f"/tasks/{inspection.id}")
    page.goto(f"/tasks/{inspection.id}?lang=en")
    expect(page.locator("#form-meta")).to_contain_text("Due ")
    assert page.evaluate(BROKEN_DATES, "#form-meta") == []


@pytest.mark.parametrize("width", [390, 1280])
def test_rectification_lists_keep_names_and_buttons_on_one_line(new_mobile_context, demo,
                                                                 width):
    """On the rectification lists page in English, is each sub-branch's name on one line
    (not squeezed by the longer English figures into a column one character wide) and does
    each "Download PDF" button keep its words on one line, with nothing pushing the page
    sideways?"""
    page = new_mobile_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, "fwgl", "/manage/lists")
    page.goto("/manage/lists?lang=en")
    rows = page.locator("[data-list-unit]")
    expect(rows.first.locator("[data-list-pdf]")).to_have_text("Download PDF")
    assert rows.count() == 12
    for row in rows.all():
        assert row.locator("strong").evaluate(LINES) == 1, row.inner_text()
        assert row.locator("[data-list-pdf]").evaluate(LINES) == 1, row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [360, 390])
def test_ranking_tables_keep_unit_names_whole_on_a_phone(new_mobile_context, demo, width):
    """On a phone in English, where the headings (Combined score, Inspections) are longer than
    Chinese ones, does each sub-branch's and outlet's name in the ranking tables stay on one
    line instead of breaking inside it (高新支 / 行)?"""
    page = new_mobile_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, "fwgl", "/manage/rankings")
    page.goto("/manage/rankings?kind=quarter&lang=en")
    page.locator("#full-ranking summary").click()
    names = page.locator("table.data td.name a, table.data td.unit a, table.data td.unit, "
                         "table.data td.name .sub-in-name")
    expect(names.first).to_be_visible()
    shown = [name for name in names.all() if name.is_visible() and name.inner_text().strip()]
    assert len(shown) > 12  # (the full ranking gives an outlet's sub-branch under its name)
    for name in shown:
        assert name.evaluate(LINES) == 1, name.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_percentage_is_written_without_a_space(new_mobile_context, first, client, api):
    """Does a result say a share as "5%" — as English (and Chinese) write it — rather than
    "5 %", while other units keep their space ("3 个"); and does the form's limit say "at most
    5%"?"""
    inspection = first("spot_check")
    assert submit_filled(client, api(filler_of(inspection)), inspection.id).status_code == 200
    page = new_mobile_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, "fwgl", f"/results/{inspection.id}")
    page.goto(f"/results/{inspection.id}?lang=en")
    share = page.locator("li", has_text="EFF-02").locator("strong")
    expect(share).to_have_text("5%")
    expect(page.locator("li", has_text="EFF-03").locator("strong")).to_have_text("3 个")

    form = first("self_check")
    page = new_mobile_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, filler_of(form), f"/tasks/{form.id}")
    page.goto(f"/tasks/{form.id}?lang=en")
    expect(page.locator("#item-EFF-02 .number-row .muted").first).to_have_text("at most 5%")


def test_bulletin_breaks_a_ranked_name_only_at_its_space(new_mobile_context, demo):
    """In the weekly bulletin on a phone in English, does "outlet (sub-branch)" in the best and
    worst lists break, if at all, between the two names — never inside a Chinese name?"""
    page = new_mobile_context(viewport={"width": 390, "height": 900}).new_page()
    sign_in(page, "fwgl", "/manage/bulletin")
    page.goto("/manage/bulletin?kind=month&lang=en")
    names = page.locator("ul.ranked .name")
    expect(names.first).to_be_visible()
    inside = page.evaluate("""() => [...document.querySelectorAll("ul.ranked .name")].flatMap((el) => {
      const text = el.firstChild;
      const lines = [];
      for (let i = 0; i < text.length; i++) {
        const range = document.createRange();
        range.setStart(text, i); range.setEnd(text, i + 1);
        const box = range.getBoundingClientRect();
        if (box.width > 0) lines.push([text.data[i], Math.round(box.top)]);
      }
      // a line that starts with a Chinese character right after another: a name broken
      // inside itself
      const han = /[\\u4e00-\\u9fff]/;
      return lines.filter(([ch, top], i) => i > 0 && top > lines[i - 1][1] && han.test(ch)
                                            && han.test(lines[i - 1][0]))
                  .map(() => el.textContent);
    })""")
    assert names.count() >= 5
    assert inside == []


def test_scoring_rules_read_in_full_lines_on_a_phone(new_mobile_context, demo):
    """On a checklist version's page in English on a phone, does each scoring rule (grade
    bands, mode weights …) get the card's width instead of a narrow column beside its long
    English name?"""
    page = new_mobile_context(viewport={"width": 390, "height": 900}).new_page()
    sign_in(page, "admin", "/manage/standards")
    page.goto(f"/manage/standards/{demo.id}?lang=en")
    rules = page.locator("dl.rules")
    expect(rules.locator("dt").first).to_have_text("Grade")
    width = rules.evaluate("(dl) => dl.getBoundingClientRect().width")
    for said in rules.locator("dd").all():
        assert said.evaluate("(dd) => dd.getBoundingClientRect().width") >= 0.9 * width


def test_evidence_flags_are_readable_boxes_in_english(new_mobile_context, first, client, api):
    """Under a photo without camera data, does the reviewer's English flag ("No camera data
    (perhaps a screenshot, …)") read in a few full lines — not squeezed into a pill five lines
    tall whose round ends cut its first and last words off?"""
    inspection = first("spot_check")
    headers = api(filler_of(inspection))
    items = client.get(f"/api/v1/inspections/{inspection.id}",
                       headers=headers).get_json()["checklist"]["items"]
    answers = passing_answers(items, fail=("ENV-01",))
    attach_photos(client, headers, inspection.id, items, answers)
    plain = client.post(f"/api/v1/inspections/{inspection.id}/photos", headers=headers,
                        data={"client_id": new_key(), "item_code": "ENV-01",
                              "file": (io.BytesIO(jpeg(7, exif=False)), "shot.jpg")},
                        content_type="multipart/form-data")
    assert plain.status_code == 201, plain.get_json()
    assert client.post(f"/api/v1/inspections/{inspection.id}/submit", json={"answers": answers},
                       headers={**headers, "Idempotency-Key": new_key()}).status_code == 200

    page = new_mobile_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, "fwgl", f"/results/{inspection.id}")
    page.goto(f"/results/{inspection.id}?lang=en")
    flag = page.locator('[data-flag="no_camera_metadata"]').first
    expect(flag).to_contain_text("No camera data")
    assert flag.evaluate(LINES) <= 3
    radius = flag.evaluate("(el) => parseFloat(getComputedStyle(el).borderTopLeftRadius)")
    assert radius <= flag.evaluate("(el) => parseFloat(getComputedStyle(el).lineHeight)")


def test_an_outlet_manager_sees_other_sub_branches_on_one_line(new_mobile_context, demo):
    """An outlet manager's sub-branch ranking names the sub-branches it may not read "Other
    sub-branch": on a phone in English, is that on one line rather than "Other / sub- /
    branch"?"""
    page = new_mobile_context(viewport={"width": 390, "height": 900}).new_page()
    sign_in(page, "wd.lb01", "/manage/rankings")
    page.goto("/manage/rankings?kind=quarter&lang=en")
    others = page.locator("table.data td", has_text="Other sub-branch")
    expect(others.first).to_be_visible()
    for cell in others.all():
        assert cell.evaluate(LINES) == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("width", [390, 1280])
def test_visit_time_buttons_of_a_row_are_as_tall(new_mobile_context, first, width):
    """On a mystery visit's form in English, where "Ticket taken" may need two lines, are the
    visit-time buttons of each row the same height rather than one sticking out?"""
    inspection = first("mystery_visit")
    page = new_mobile_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page, filler_of(inspection), f"/tasks/{inspection.id}")
    page.goto(f"/tasks/{inspection.id}?lang=en")
    buttons = page.locator(".event-button")
    expect(buttons).to_have_count(5)
    rows: dict[int, set[int]] = {}
    for button in buttons.all():
        box = button.bounding_box()
        rows.setdefault(round(box["y"]), set()).add(round(box["height"]))
    assert all(len(heights) == 1 for heights in rows.values()), rows
