"""The form page's weight on the wire: HTML, CSS and JavaScript within 150 KB on a cold load."""
from __future__ import annotations

from ..helpers import filler_of
from .pwa_helpers import sign_in

BUDGET = 150 * 1024
COUNTED = {"document", "stylesheet", "script"}


def test_form_page_transfers_at_most_150_kb(new_mobile_context, first, backend):
    """Does a cold load of the inspection form stay within the 150 KB budget (photos and API
    data excluded), as measured by the browser itself?"""
    inspection = first("spot_check")
    context = new_mobile_context(service_workers="block")
    page = context.new_page()
    sign_in(page, filler_of(inspection), "/tasks")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    transferred: dict[str, int] = {}
    page.on("requestfinished", lambda request: transferred.__setitem__(
        request.url, request.sizes()["responseBodySize"] + request.sizes()["responseHeadersSize"])
        if request.resource_type in COUNTED else None)

    page.goto(f"/tasks/{inspection.id}")
    page.wait_for_selector("html[data-form-ready]", state="attached")
    page.wait_for_load_state("networkidle")

    total = sum(transferred.values())
    assert any(url.endswith("/static/js/form.js") for url in transferred)
    assert any(url.endswith("/static/css/app.css") for url in transferred)
    print(f"form page: {total} bytes over {len(transferred)} files")
    assert total <= BUDGET, transferred
