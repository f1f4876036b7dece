"""The result page shows how the score was made, so a reviewer can check it before 定稿: each
section's subtotal (and weight, where sections are weighted) and the score before a red-line
cap."""
from __future__ import annotations

from playwright.sync_api import expect

from ..helpers import filler_of, submit_filled
from ..inspections.test_section_weight_scores import WEIGHTS, weighted_spot_check  # noqa: F401
from .pwa_helpers import sign_in


def test_a_capped_result_shows_its_sections_and_the_score_before_the_cap(
        new_mobile_context, first, client, api):
    """A spot check failing only the red-line item NORM-12: does its page list the sections
    with earned, possible and percentage, say "原始得分 …，触发红线封顶 59" — and the same in
    English for an English reader?"""
    spot = first("spot_check")
    assert submit_filled(client, api(filler_of(spot)), spot.id,
                         fail=("NORM-12",)).status_code == 200
    score = client.get(f"/api/v1/inspections/{spot.id}", headers=api("fwgl")).get_json()["score"]
    before = f"{score['red_line_applied']['total_before']:.2f}"

    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", f"/results/{spot.id}")
    expect(page.locator("#result-score")).to_contain_text("59")
    expect(page.locator("#result-raw")).to_have_text(f"原始得分 {before}，触发红线封顶 59")
    table = page.locator("#section-scores")
    expect(table.locator("thead th")).to_have_text(["分区", "得分", "满分", "得分率"])
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(score["sections"]))
    env = table.locator('tr[data-section="ENV"]')
    expect(env.locator("th")).to_have_text("网点颜值靓化")
    expect(env.locator("td").nth(2)).to_have_text("100.00%")
    norm = next(s for s in score["sections"] if s["section"] == "NORM")
    expect(table.locator('tr[data-section="NORM"] td').nth(2)).to_have_text(
        f"{norm['percent']:.2f}%")

    english = new_mobile_context().new_page()
    sign_in(english, "fwgl", f"/results/{spot.id}?lang=en")
    expect(english.locator("#result-raw")).to_have_text(
        f"Score before the red line: {before}; capped at 59")
    expect(english.locator("#section-scores h2")).to_have_text("Section scores")


def test_an_uncapped_result_of_a_weighted_checklist_shows_the_weights(
        new_mobile_context, client, api, weighted_spot_check):  # noqa: F811
    """Sections weighted 10/40/20/20/10: does the table show each weight, and no line about a
    cap when nothing was capped?"""
    spot = weighted_spot_check
    assert submit_filled(client, api(filler_of(spot)), spot.id).status_code == 200
    page = new_mobile_context().new_page()
    sign_in(page, "fwgl", f"/results/{spot.id}")
    table = page.locator("#section-scores")
    expect(table.locator("thead th")).to_have_text(["分区", "得分", "满分", "得分率", "权重"])
    for code, weight in WEIGHTS.items():
        expect(table.locator(f'tr[data-section="{code}"] td').nth(3)).to_have_text(str(weight))
    expect(page.locator("#result-raw")).to_be_hidden()
