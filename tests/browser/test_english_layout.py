"""The English pages on a phone and a desktop: English says the same in longer lines than
Chinese, and nothing may break where it wraps — a date split at its hyphens, a unit's name
squeezed into a column one character wide, a button's words on two lines."""
from __future__ import annotations

from playwright.sync_api import expect

from ..helpers import filler_of
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
