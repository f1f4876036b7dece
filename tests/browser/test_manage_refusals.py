"""A refused form far down a long managers' page, on a phone: is the refusal on the screen
when the page comes back, rather than thousands of pixels below where it opens?"""
from __future__ import annotations

from playwright.sync_api import expect

from .pwa_helpers import sign_in, wait_for

#: Whether an element is wholly on the screen as the page is now scrolled: below the header
#: (which stays at the top) and above the bottom edge (give or take part of a pixel).
ON_SCREEN = """(element) => {
  const box = element.getBoundingClientRect();
  const header = document.querySelector(".topbar").getBoundingClientRect();
  return box.top >= header.bottom && box.bottom <= window.innerHeight + 1; }"""


def shown(page, refusal) -> None:
    """Wait until the refusal is on the screen: its ``autofocus`` scrolls it there at the
    page's first rendering after it is parsed, a moment after it can be read."""
    try:
        wait_for(page, lambda: refusal.evaluate(ON_SCREEN), seconds=5)
    except AssertionError:
        raise AssertionError("the refusal is not on the screen") from None


def test_a_refused_new_person_is_seen_below_a_long_list(new_mobile_context, demo):
    """添加人员 sits below a page of 100 people: with a weak password, does the page that comes
    back show why — on the screen of a 390 px phone — with what was typed kept?"""
    page = new_mobile_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, "admin", "/manage/people")
    form = page.locator("#add-person form")
    form.get_by_label("用户名").fill("li.na")
    form.get_by_label("姓名").fill("李娜")
    form.get_by_label("初始密码").fill("abc")
    form.get_by_label("角色").select_option("inspector")
    form.get_by_label("机构").select_option(index=1)
    form.get_by_role("button", name="添加").click()

    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("密码至少 8 位，且须同时包含字母和数字")
    shown(page, refusal)
    assert page.evaluate("window.scrollY") > 2000  # the list above is long
    expect(page.locator("#add-person").get_by_label("姓名")).to_have_value("李娜")


def test_a_refused_plan_is_seen_below_the_campaigns(new_mobile_context, demo):
    """新建检查计划 sits below every campaign with its progress: with an end before the start,
    is the refusal on the screen when the page comes back?"""
    page = new_mobile_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, "fwgl", "/manage/campaigns")
    form = page.locator("#plan form")
    form.get_by_label("计划名称").fill("下月服务检查")
    start = form.get_by_label("开始日期").input_value()
    form.get_by_label("结束日期").fill(start)
    form.get_by_label("开始日期").fill(f"{int(start[:4]) + 1}{start[4:]}")
    form.get_by_role("button", name="生成检查任务").click()

    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("结束日期不能早于开始日期")
    shown(page, refusal)
    assert page.evaluate("window.scrollY") > 0
