"""Signing in on a phone, in a real browser: the page fits, the buttons are big enough."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from inspect_app.auth.permissions import Role

from ..conftest import PASSWORD

MIN_TOUCH_TARGET = 44  # CSS px: Apple HIG and WCAG 2.5.5


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_manager_signs_in_on_a_phone_and_sees_name_role_and_scope(mobile_page, make_user,
                                                                   screenshot):
    """Can a manager sign in on a phone and see who they are, without scrolling sideways?"""
    make_user("zh.lubei", (Role.subbranch_manager, "TS-LB"), display_name="李娜")
    page = mobile_page
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    assert not scrolls_sideways(page)
    button = page.get_by_role("button", name="登录")
    assert button.bounding_box()["height"] >= MIN_TOUCH_TARGET
    screenshot(page, "login")

    sign_in(page, "zh.lubei")

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("李娜")
    expect(page.get_by_role("heading", name="支行负责人")).to_be_visible()
    expect(page.get_by_text("路北支行").first).to_be_visible()
    expect(page.get_by_text("适用范围：路北支行 及其下属机构")).to_be_visible()
    assert not scrolls_sideways(page)
    screenshot(page, "home")


def test_wrong_password_shows_a_chinese_error(mobile_page, make_user):
    """Does a wrong password keep the person on the sign-in page with a Chinese error?"""
    make_user("jc1", (Role.inspector, "TS-LB-01"))
    sign_in(mobile_page, "jc1", "wrong-password1")
    expect(mobile_page.get_by_role("alert")).to_have_text("用户名或密码错误")
    expect(mobile_page.get_by_label("用户名")).to_have_value("jc1")
    expect(mobile_page.get_by_label("密码")).to_have_value("")
    assert not scrolls_sideways(mobile_page)


def test_signing_out_returns_to_the_sign_in_page(mobile_page, make_user):
    """Does 退出 end the session and come back to the sign-in page?"""
    make_user("jc1", (Role.inspector, "TS-LB-01"))
    sign_in(mobile_page, "jc1")
    expect(mobile_page.get_by_role("heading", level=1)).to_have_text("jc1")

    mobile_page.get_by_role("button", name="退出").click()

    expect(mobile_page).to_have_url(re.compile(r"/login$"))
    expect(mobile_page.get_by_role("status")).to_have_text("您已安全退出")
    mobile_page.goto("/")
    expect(mobile_page).to_have_url(re.compile(r"/login"))


def test_english_link_switches_the_sign_in_page_to_english(mobile_page, org):
    """Does the "English" link show the sign-in page in English?"""
    mobile_page.goto("/login")
    mobile_page.get_by_role("link", name="English").click()
    expect(mobile_page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(mobile_page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(mobile_page.locator("html")).to_have_attribute("lang", "en")
    expect(mobile_page.get_by_role("link", name="中文")).to_be_visible()
