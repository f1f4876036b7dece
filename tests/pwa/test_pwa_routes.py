"""The app's plumbing without a browser: service worker, manifest, shells, language links."""
from __future__ import annotations

import json
import re

import pytest

from inspect_app.auth.permissions import Role


def test_service_worker_is_served_from_the_root_uncached_with_its_precache_list(client):
    """Is /sw.js allowed to control the whole site, never stale, and listing the app shell?"""
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.mimetype == "text/javascript"
    body = response.get_data(as_text=True)
    assert "__VERSION__" not in body and "__PRECACHE__" not in body
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))
    for url in ("/static/css/app.css", "/static/js/app.js", "/static/js/form.js",
                "/static/icons/icon-192.png", "/static/icons/icon-512.png",
                "/manifest.webmanifest"):
        assert url in precache
    assert "/static/js/sw.js" not in precache
    assert 'addEventListener("fetch"' in body


def test_manifest_makes_the_app_installable(client):
    """Does the manifest carry what a phone needs to install the app?"""
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["name"] == "客户满意银行服务检查"
    assert manifest["display"] == "standalone" and manifest["lang"] == "zh-CN"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as image:
            assert image.status_code == 200 and image.mimetype == "image/png"


def test_app_pages_ask_anonymous_visitors_to_sign_in(client):
    """Do the shells send someone who is not signed in to the sign-in page, and back after?"""
    for path in ("/tasks", "/tasks/1", "/results", "/results/1", "/appeals", "/rectification"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login?next=" in response.headers["Location"]


def test_shell_exposes_the_csrf_token_and_strings_without_inline_script(client, make_user, login):
    """Does a shell hand the scripts the CSRF token and its texts without inline JavaScript?"""
    make_user("jc1", (Role.inspector, "TS-LB-01"))
    login("jc1")
    html = client.get("/tasks").get_data(as_text=True)
    with client.session_transaction() as sess:
        token = sess["csrf"]
    assert f'<meta name="csrf-token" content="{token}">' in html
    assert "data-strings='" in html and "我的任务" in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert " on" not in re.sub(r'"[^"]*"', "", " ".join(re.findall(r"<[^>]+>", html))).lower() \
        .replace(" only", "")  # no inline event handlers


def test_session_endpoint_returns_a_fresh_token_only_when_signed_in(client, make_user, login):
    """Can a page cached under an older token get the session's current one?"""
    assert client.get("/app/session").status_code == 401
    make_user("jc1", (Role.inspector, "TS-LB-01"))
    login("jc1")
    response = client.get("/app/session")
    with client.session_transaction() as sess:
        assert response.get_json() == {"csrf_token": sess["csrf"], "username": "jc1"}
    assert response.headers["Cache-Control"] == "no-store"


def test_language_link_keeps_the_rest_of_the_address(client, org):
    """Does switching language keep ``next`` (and other parameters) of the current page?"""
    html = client.get("/login?next=/tasks/5").get_data(as_text=True)
    assert 'href="/login?next=%2Ftasks%2F5&amp;lang=en"' in html


def test_home_page_colon_is_translated_and_links_to_the_app(client, make_user, login):
    """Is the English home page free of Chinese punctuation and does it link to my tasks?"""
    make_user("jc1", (Role.inspector, "TS-LB-01"))
    login("jc1")
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "Username: jc1" in html and "：" not in html
    assert 'href="/tasks"' in html


def _nav(html: str) -> str:
    return re.search(r'<nav class="topnav".*?</nav>', html, re.S).group(0)


@pytest.mark.parametrize(("role", "unit", "shown"), [
    (Role.outlet_manager, "TS-LB-01", True),   # self-checks are assigned to the outlet
    (Role.inspector, "TS-LB", True),
    (Role.mystery_shopper, "TS", True),
    (Role.subbranch_manager, "TS-LB", False),
    (Role.service_manager, "TS", False),
    (Role.admin, "TS", False),
])
def test_everyone_who_can_be_assigned_an_inspection_gets_my_tasks(client, make_user, login,
                                                                    role, unit, shown):
    """Does the menu offer 我的任务 to exactly the roles that can hold an assignment?"""
    make_user("someone", (role, unit))
    login("someone")
    assert ('href="/tasks"' in _nav(client.get("/").get_data(as_text=True))) is shown


def test_every_appeal_category_has_a_translatable_label_for_the_scripts():
    """Does the appeal form offer exactly the categories the API accepts, in their words?"""
    from inspect_app.inspections.models import APPEAL_CATEGORIES
    from inspect_app.pwa.strings import STRINGS

    offered = {key[4:]: text for key, text in STRINGS.items() if key.startswith("cat_")}
    assert offered == APPEAL_CATEGORIES


def test_reviewers_get_the_appeals_screen_in_the_menu(client, make_user, login):
    """Is 申诉处理 in the menu of those who decide appeals, and not of the outlet?"""
    make_user("fw", (Role.service_manager, "TS"))
    make_user("wd", (Role.outlet_manager, "TS-LB-01"))
    login("fw")
    assert 'href="/appeals"' in _nav(client.get("/").get_data(as_text=True))
    login("wd")
    assert 'href="/appeals"' not in _nav(client.get("/").get_data(as_text=True))


def test_those_who_accept_fixes_get_the_review_screen(client, make_user, login):
    """Does a sub-branch manager find 整改验收 in the menu, titled so, with its review list?"""
    make_user("zh", (Role.subbranch_manager, "TS-LB"))
    login("zh")
    assert '<a href="/rectification">整改验收</a>' in _nav(client.get("/").get_data(as_text=True))
    html = client.get("/rectification").get_data(as_text=True)
    assert "<h1>整改验收</h1>" in html and 'data-reviewer="1"' in html


@pytest.mark.parametrize(("role", "shown"), [(Role.inspector, True),
                                             (Role.mystery_shopper, False)])
def test_inspectors_find_the_fixes_they_verify_in_the_menu(client, make_user, login, role, shown):
    """Do inspectors, who accept or send back the fixes of their own findings, find 整改验收 in
    the menu, and mystery shoppers (who must stay unknown to the outlet) not?"""
    make_user("someone", (role, "TS"))
    login("someone")
    nav = _nav(client.get("/").get_data(as_text=True))
    assert ('<a href="/rectification">整改验收</a>' in nav) is shown
    if shown:
        html = client.get("/rectification").get_data(as_text=True)
        assert "<h1>整改验收</h1>" in html and 'data-reviewer="1"' in html


@pytest.mark.parametrize(("role", "unit", "subbranches"), [
    (Role.service_manager, "TS", ["TS-LB", "TS-LN"]),
    (Role.subbranch_manager, "TS-LB", ["TS-LB"]),
    (Role.outlet_manager, "TS-LB-01", []),
])
def test_managers_pages_are_in_the_menu_and_list_the_pdfs_each_may_download(
        client, make_user, login, org, role, unit, subbranches):
    """Do readers of reports find 管理看板 in the menu, and does 整改清单 offer each the
    monthly PDF of exactly the sub-branches they may report on?"""
    make_user("someone", (role, unit))
    login("someone")
    assert 'href="/manage/watchlist"' in _nav(client.get("/").get_data(as_text=True))
    html = client.get("/manage/lists?period=2026-11").get_data(as_text=True)
    linked = re.findall(r'/api/v1/rectification/lists/subbranches/(\d+)\.pdf\?period=2026-11',
                        html)
    assert linked == [str(org[code].id) for code in subbranches]
    if not subbranches:
        assert "没有可下载的支行整改清单" in html


def test_inspectors_get_no_managers_pages(client, make_user, login):
    """Is 管理看板 kept out of the menu of someone without access to reports?"""
    make_user("jc", (Role.inspector, "TS-LB"))
    login("jc")
    assert "/manage/" not in _nav(client.get("/").get_data(as_text=True))
