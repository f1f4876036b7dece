"""Work past its window: the form keeps taking it, warns that it will be marked late (offline
too), and the result says it was submitted late."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections.models import Inspection

from ..helpers import filler_of, submit_filled
from .pwa_helpers import outlet_manager_of, sign_in, wait_offline_ready


def window(inspection: Inspection, *, ends_days_ago: int) -> str:
    """Move ``inspection``'s window so that it ends ``ends_days_ago`` days before the bank's
    today; returns its last day."""
    end = local_today() - timedelta(days=ends_days_ago)
    inspection.due_start, inspection.due_end = end - timedelta(days=14), end
    db.session.commit()
    return end.isoformat()


def test_a_mystery_visit_past_its_window_warns_online_and_offline(new_mobile_context, first):
    """Weeks after a mystery visit's window, does its form warn that it is past the deadline
    and will be marked late — and still warn after a reload in airplane mode, from what the
    phone holds?"""
    visit = first("mystery_visit")
    end = window(visit, ends_days_ago=21)
    context = new_mobile_context()
    page = context.new_page()
    sign_in(page, filler_of(visit), f"/tasks/{visit.id}")
    warning = page.locator("#form-late")
    expect(warning).to_have_text(f"已超过检查期限（截止 {end}），提交后将标记为逾期")
    expect(page.locator("#submit")).to_be_enabled()  # late work is still taken
    wait_offline_ready(page)

    context.set_offline(True)
    page.reload()
    expect(page.locator("#sync-net")).to_have_text("离线")
    expect(warning).to_have_text(f"已超过检查期限（截止 {end}），提交后将标记为逾期")


def test_a_late_spot_check_warns_in_english_and_its_result_says_late(new_mobile_context, first,
                                                                      client, api):
    """Does a spot check past its window warn in English too, does one whose window ends
    today not warn at all, and once the late one is submitted, is it recorded and shown as
    submitted late?"""
    late, on_time = first("spot_check"), first("self_check")
    end = window(late, ends_days_ago=3)
    window(on_time, ends_days_ago=0)

    page = new_mobile_context().new_page()
    sign_in(page, filler_of(late), f"/tasks/{late.id}?lang=en")
    expect(page.locator("#form-late")).to_have_text(
        f"Past the inspection window (ended {end}): it will be marked late when submitted")

    other = new_mobile_context().new_page()
    sign_in(other, filler_of(on_time), f"/tasks/{on_time.id}")
    other.wait_for_selector("html[data-form-ready]", state="attached")
    expect(other.locator("#form-late")).to_be_hidden()

    assert submit_filled(client, api(filler_of(late)), late.id).status_code == 200
    db.session.expire_all()
    assert db.session.get(Inspection, late.id).submitted_late is True
    reader = new_mobile_context().new_page()
    sign_in(reader, "fwgl", f"/results/{late.id}")
    expect(reader.locator(f'[data-late="{late.id}"]')).to_have_text("逾期提交")


def test_late_submissions_are_marked_in_the_lists_but_not_a_mystery_visit_to_the_outlet(
        new_mobile_context, first, client, api):
    """In 检查结果 and in the inspector's 我的任务, is a late submission marked 逾期提交 (and
    'Submitted late' in English) — while the outlet's list of a late mystery visit says
    nothing of its window?"""
    late, visit = first("spot_check"), first("mystery_visit")
    window(late, ends_days_ago=3)
    window(visit, ends_days_ago=10)
    for inspection in (late, visit):
        assert submit_filled(client, api(filler_of(inspection)), inspection.id).status_code == 200

    manager = new_mobile_context().new_page()
    sign_in(manager, "fwgl", "/results")
    for inspection in (late, visit):
        expect(manager.locator(f'[data-result="{inspection.id}"] [data-late]')).to_have_text("逾期提交")
    manager.goto("/results?lang=en")
    expect(manager.locator(f'[data-result="{late.id}"] [data-late]')).to_have_text("Submitted late")

    inspector = new_mobile_context().new_page()
    sign_in(inspector, filler_of(late), "/tasks")
    expect(inspector.locator(f'#tasks-done [data-task="{late.id}"] [data-late]')).to_have_text("逾期提交")

    outlet = new_mobile_context().new_page()
    sign_in(outlet, outlet_manager_of(visit), "/results")
    expect(outlet.locator(f'[data-result="{visit.id}"]')).to_be_visible()
    expect(outlet.locator(f'[data-result="{visit.id}"] [data-late]')).to_have_count(0)
    expect(outlet.locator(f'[data-result="{visit.id}"]')).not_to_contain_text("逾期")
