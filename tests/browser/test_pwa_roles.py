"""What each role finds on a phone: the menu, appeals, fix reviews, PDFs, managers' pages."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from inspect_app.auth.models import RoleGrant, User
from inspect_app.auth.permissions import Role
from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection

from .pwa_helpers import sign_in


def outlet_manager_of(inspection: Inspection) -> str:
    return db.session.scalar(sa.select(User.username).join(RoleGrant).where(
        RoleGrant.role == Role.outlet_manager, RoleGrant.org_unit_id == inspection.outlet_id))


def test_outlet_manager_reaches_their_self_check_from_the_menu(new_mobile_context, first):
    """Does an outlet manager, who fills the outlet's self-checks, find 我的任务 in the menu
    and their self-check behind it?"""
    inspection = first("self_check")
    page = new_mobile_context().new_page()
    sign_in(page, outlet_manager_of(inspection), "/")
    page.locator(".topnav").get_by_role("link", name="我的任务").click()
    page.wait_for_url("**/tasks")
    expect(page.locator(f'[data-task="{inspection.id}"]')).to_contain_text("自查")
