"""An English user of the PWA reads the server's refusals in English, as the screens show them."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from ..helpers import filler_of, submit_filled
from .pwa_helpers import sign_in, wait_offline_ready

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_a_refused_draft_is_explained_in_english_in_the_sync_bar(new_mobile_context, first,
                                                                  client, api):
    """While an inspector who chose English has the form open on the phone, the same task is
    submitted from another device; the next tap's draft save is refused. Does the sync bar say
    why in English (the server's message, shown as it comes), with no Chinese in it?"""
    spot = first("spot_check")
    username = filler_of(spot)
    page = new_mobile_context().new_page()
    sign_in(page, username, f"/tasks/{spot.id}?lang=en")
    wait_offline_ready(page)
    pass_button = page.locator("#item-ENV-03").get_by_role("button", name="Pass", exact=True)
    expect(pass_button).to_be_visible()

    response = submit_filled(client, api(username), spot.id)  # the other device
    assert response.status_code == 200, response.get_json()
    pass_button.click()

    error = page.locator("#sync-error")
    expect(error).to_contain_text("can no longer be changed", timeout=15000)
    assert not CJK.search(error.inner_text())
