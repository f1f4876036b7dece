"""An English user of the PWA reads the server's refusals in English, as the screens show them."""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from ..helpers import filler_of
from .pwa_helpers import open_form

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_a_refused_draft_is_explained_in_english_in_the_sync_bar(new_mobile_context, first):
    """An inspector who chose English taps an answer, and the server cannot take one answer of
    the draft it saves (here the request is altered on its way to hold a score out of range, as
    an old or faulty phone might send). Does the sync bar name the item in English, with no
    Chinese in it but the outlet's name, and the item say why (the server's message, shown as
    it comes)?"""
    spot = first("spot_check")
    page = new_mobile_context().new_page()
    open_form(page, filler_of(spot), spot.id, "?lang=en")

    def out_of_range(route):
        body = json.loads(route.request.post_data)
        body["answers"]["ENV-05"] = {"value": 9, "note": None}  # a 0–5 scale
        route.continue_(post_data=json.dumps(body))

    page.route("**/api/v1/inspections/*/draft", out_of_range)
    pass_button = page.locator("#item-ENV-03").get_by_role("button", name="Pass", exact=True)
    expect(pass_button).to_be_visible()
    pass_button.click()

    error = page.locator("#sync-error")
    expect(error).to_contain_text("the answers to ENV-05 could not be saved on the server",
                                  timeout=15000)
    assert not CJK.search(error.inner_text().replace(spot.outlet.name, ""))
    expect(page.locator("#item-ENV-05 .item-problem")).to_have_text(
        "Enter a whole number from 0 to 5")
