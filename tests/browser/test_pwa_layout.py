"""Layout on a phone: the sync bar is never hidden under the (taller, English) header, and its
button stays on the status line."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .pwa_helpers import sign_in

MEASURE = """() => {
  const head = document.querySelector(".topbar").getBoundingClientRect();
  const bar = document.getElementById("syncbar").getBoundingClientRect();
  return { headBottom: head.bottom, headTop: head.top, barTop: bar.top, barBottom: bar.bottom,
           headHeight: head.height };
}"""


@pytest.mark.parametrize("width", [360, 412])
def test_sync_bar_is_not_under_the_english_header_on_a_phone(new_mobile_context, demo, width):
    """In English on a narrow phone the menu wraps onto more lines: is the sync bar still
    fully visible below the header — at the top of the page and once scrolled?"""
    page = new_mobile_context(viewport={"width": width, "height": 780}).new_page()
    sign_in(page, "wd.lb01", "/tasks")
    page.goto("/tasks?lang=en")
    expect(page.locator("#sync-net")).to_have_text("Online")
    page.evaluate("""() => { const pad = document.createElement("div");
                             pad.style.height = "3000px"; document.body.append(pad); }""")
    top = page.evaluate(MEASURE)
    assert top["headHeight"] > 60  # the English menu really is taller than one row
    for scroll in (0, 400, 1500):
        page.evaluate(f"window.scrollTo(0, {scroll})")
        page.wait_for_timeout(50)
        box = page.evaluate(MEASURE)
        overlap = box["headBottom"] - box["barTop"] if box["headBottom"] > 0 else 0
        assert overlap <= 0.5, (scroll, box)
        assert box["barTop"] >= 0 and box["barBottom"] > 0, (scroll, box)  # still on screen


def test_trend_table_fits_a_narrow_phone_in_english(new_mobile_context, demo):
    """On a 360 px phone in English, does the 12-month trend table (five columns with long
    English headings) stay inside the screen instead of pushing the page sideways?"""
    import sqlalchemy as sa

    from inspect_app.extensions import db
    from inspect_app.orgs.models import OrgUnit

    unit_id = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == "TS-LB"))
    page = new_mobile_context(viewport={"width": 360, "height": 780}).new_page()
    sign_in(page, "fwgl", "/")
    page.goto(f"/manage/trend/{unit_id}?lang=en")
    expect(page.locator("table.data th").nth(2)).to_have_text("Independent")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    inside = page.evaluate("""() => { const card = document.querySelector("table.data")
                                        .closest(".card").getBoundingClientRect();
                                      const box = document.querySelector("table.data")
                                        .parentElement.getBoundingClientRect();
                                      return box.right <= card.right; }""")
    assert inside  # the table scrolls inside its card rather than running out of it


SYNC_BAR = """() => {
  const box = (id) => document.getElementById(id).getBoundingClientRect();
  const [net, pending, last, button] = ["sync-net", "sync-pending", "sync-last", "sync-now"].map(box);
  return { net, pending, last, button, bar: box("syncbar"),
           scrollWidth: document.documentElement.scrollWidth };
}"""


def middle(box: dict) -> float:
    return box["top"] + box["height"] / 2


@pytest.mark.parametrize("width", [360, 390, 1280])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sync_button_stays_on_the_status_line(new_mobile_context, demo, lang, width):
    """Does the sync button sit on the same line as the sync status (online, pending, last
    sync) instead of wrapping onto a line of its own — on one line at 390 px and wider, in
    Chinese and in English — with nothing pushing the page sideways?"""
    page = new_mobile_context(viewport={"width": width, "height": 780}).new_page()
    sign_in(page, "wd.lb01", "/tasks")
    page.goto(f"/tasks?lang={lang}")
    expect(page.locator("#sync-last")).to_contain_text(re.compile(r"\d\d:\d\d"))
    box = page.evaluate(SYNC_BAR)
    assert box["scrollWidth"] <= width, box
    button = box["button"]
    # the button's box is level with the status text, not under it
    assert button["top"] < middle(box["net"]) < button["bottom"], box
    assert button["right"] <= width, box
    if width >= 390:  # one line: every part of the status level with the button
        for part in ("net", "pending", "last"):
            assert abs(middle(box[part]) - middle(button)) <= 2, (part, box)


QUOTE_WIDTH = """() => {
  const probe = document.createElement("span");
  probe.textContent = "\\u201c";  // “
  document.querySelector("main").append(probe);
  const ratio = probe.getBoundingClientRect().width / parseFloat(getComputedStyle(probe).fontSize);
  probe.remove();
  return ratio;
}"""


def test_english_pages_set_quotes_and_apostrophes_in_a_latin_face(new_mobile_context, demo):
    """In English, are “ ” and ’ set as Latin punctuation (the CJK face, named first, made
    "What “pass” means" and "app’s" wide, with a gap on each side), while Chinese pages keep
    their full-width punctuation?"""
    page = new_mobile_context().new_page()
    sign_in(page, "wd.lb01", "/tasks")
    page.goto("/tasks?lang=en")
    expect(page.locator("#sync-net")).to_have_text("Online")
    assert page.evaluate(QUOTE_WIDTH) < 0.6
    page.goto("/tasks?lang=zh")
    expect(page.locator("#sync-net")).to_have_text("在线")
    assert page.evaluate(QUOTE_WIDTH) > 0.9


OVERFLOWING = """() => [...document.querySelectorAll(
    "main input, main select, main textarea, main button, main .button, main li")]
  .filter((e) => { const r = e.getBoundingClientRect(), card = e.closest(".card");
                   return card && r.width && r.right > card.getBoundingClientRect().right + 0.5; })
  .map((e) => e.outerHTML.slice(0, 80))"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_standards_and_rules_pages_fit_a_narrow_phone(new_mobile_context, demo, lang):
    """On a 360 px phone, do the standards (versions, import form, a version's items), the
    watch-list rules with their tuning form and the campaigns (planning form, a campaign's
    progress, plan and open tasks, one task's three forms) stay inside their cards, the page
    never wider than the screen?"""
    import sqlalchemy as sa

    from inspect_app.extensions import db
    from inspect_app.inspections.models import OPEN, Campaign, Inspection

    campaign_id = db.session.scalar(sa.select(sa.func.max(Campaign.id)))
    task_id = db.session.scalar(sa.select(sa.func.min(Inspection.id)).where(
        Inspection.campaign_id == campaign_id, Inspection.status.in_(OPEN)))
    assert task_id is not None, "the demo's latest campaign should have an open task"
    page = new_mobile_context(viewport={"width": 360, "height": 780}).new_page()
    sign_in(page, "fwgl", "/")
    for path in ("/manage/standards", f"/manage/standards/{demo.id}", "/manage/rules",
                 "/manage/campaigns", f"/manage/campaigns/{campaign_id}",
                 f"/manage/campaigns/{campaign_id}/tasks/{task_id}"):
        page.goto(f"{path}?lang={lang}")
        expect(page.locator("main h1")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        assert page.evaluate(OVERFLOWING) == [], path
