"""Out of the server's reach, the phone shows what it kept — and says so: a page drawn from the
service worker's offline copy names the copy's time, and "last sync" is only stamped when the
server has answered (on Wi-Fi without internet the phone still says it is online)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from ..helpers import filler_of
from .pwa_helpers import sign_in, wait_offline_ready

LAST_SYNC = """() => new Promise((resolve, reject) => {
  const opened = indexedDB.open("inspect-pwa");
  opened.onerror = () => reject(opened.error);
  opened.onsuccess = () => {
    const read = opened.result.transaction("meta").objectStore("meta").get("lastSync");
    read.onsuccess = () => { resolve(read.result || null); opened.result.close(); };
    read.onerror = () => reject(read.error);
  };
})"""

# The server out of reach while the phone believes it is online (a captive Wi-Fi, a dead
# router): every request the page makes fails as a lost network does.
NO_SERVER = """() => { window.fetch = () => Promise.reject(new TypeError("Failed to fetch")); }"""


def test_a_task_list_from_the_offline_copy_says_so_until_it_is_reloaded(new_mobile_context,
                                                                        first):
    """An inspector opens 我的任务 without network: the list is the copy kept when it was last
    open, and the page says from when. Back online, it offers to reload, which shows the
    server's list and drops the notice."""
    inspection = first("spot_check")
    context = new_mobile_context()
    page = context.new_page()
    sign_in(page, filler_of(inspection), "/tasks")
    wait_offline_ready(page)
    expect(page.locator(f'[data-task="{inspection.id}"]')).to_be_visible()
    expect(page.locator("#sync-copy")).to_be_hidden()

    context.set_offline(True)
    page.reload()
    expect(page.locator(f'[data-task="{inspection.id}"]')).to_be_visible()
    notice = page.locator("#sync-copy")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("离线副本")
    expect(notice).to_contain_text("可能不是最新")
    expect(notice).to_have_text(re.compile(r"\d\d:\d\d"))  # the copy's time
    expect(page.locator("#sync-reload")).to_have_count(0)

    context.set_offline(False)  # the online event syncs, and the server answers
    expect(notice).to_contain_text("已连上服务器")
    page.locator("#sync-reload").click()
    expect(page.locator(f'[data-task="{inspection.id}"]')).to_be_visible()
    expect(page.locator("#sync-copy")).to_be_hidden()


def test_last_sync_is_not_stamped_when_the_server_was_not_reached(new_mobile_context, first):
    """Nothing waits to be sent and the phone says it is online, but the server cannot be
    reached: a sync must not claim it happened (上次同步 unchanged), and the bar says the
    server is out of reach instead of 在线."""
    inspection = first("spot_check")
    page = new_mobile_context().new_page()
    sign_in(page, filler_of(inspection), "/tasks")
    expect(page.locator("#sync-last")).to_contain_text("上次同步")
    expect(page.locator("#sync-net")).to_have_text("在线")
    assert page.evaluate(LAST_SYNC)

    page.evaluate(NO_SERVER)
    # a sync already under way when the server went away may still land: let it, then read
    page.wait_for_timeout(1100)  # (and a stamp now would differ from the last one)
    stamped = page.evaluate(LAST_SYNC)
    page.locator("#sync-now").click()
    expect(page.locator("#sync-net")).to_have_text("连不上服务器")
    assert page.evaluate(LAST_SYNC) == stamped


def test_tasks_held_on_the_phone_alone_are_said_to_be_a_copy(new_mobile_context, first):
    """Offline before the task list itself was ever kept (the phone only holds the forms it
    fetched): the list drawn from the forms on the phone says it is a copy too."""
    inspection = first("spot_check")
    context = new_mobile_context()
    page = context.new_page()
    sign_in(page, filler_of(inspection), "/tasks")
    wait_offline_ready(page)
    page.evaluate("""async () => {
      const kept = await caches.open("inspect-runtime-v1");
      for (const request of await kept.keys()) {
        if (request.url.includes("/api/v1/inspections?")) await kept.delete(request);
      }
    }""")
    context.set_offline(True)
    page.reload()
    expect(page.locator(f'[data-task="{inspection.id}"]')).to_be_visible()
    expect(page.locator("#sync-copy")).to_contain_text("离线副本")
