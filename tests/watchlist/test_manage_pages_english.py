"""The managers' pages in English: their own wording carries no Chinese words or punctuation
(names of units, rules and checklist items come from the data and stay Chinese)."""
from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.watchlist.models import WatchlistEntry


def test_period_titles_and_days_on_the_list_read_in_english(client, login, demo):
    """Do the rankings' period, the bulletin's title and period, and the days an entry has
    been on the list read in English with ?lang=en — and stay as they were in Chinese?"""
    login("fwgl", "Demo@2026")
    last_month = (local_today().replace(day=1) - timedelta(days=1))
    quarter = (last_month.month - 1) // 3 + 1
    page = client.get(f"/manage/rankings?kind=quarter&day={last_month}&lang=en")
    assert f"Rankings · Q{quarter} {last_month.year}</h1>" in page.get_data(as_text=True)
    page = client.get(f"/manage/rankings?kind=month&day={last_month}&lang=en")
    assert f"Rankings · {last_month:%B} {last_month.year}</h1>" in page.get_data(as_text=True)
    text = client.get(f"/manage/bulletin?kind=month&day={last_month}&lang=en"
                      ).get_data(as_text=True)
    start = last_month.replace(day=1)
    assert "<h1>Monthly service summary</h1>" in text
    assert (f'<p class="muted" id="period-shown">{last_month:%B} {last_month.year}'
            f' ({start} to {last_month})</p>') in text
    entry = db.session.scalar(sa.select(WatchlistEntry).order_by(WatchlistEntry.id))
    for path in ("/manage/watchlist?status=all&lang=en", f"/manage/watchlist/{entry.id}"):
        text = client.get(path).get_data(as_text=True)
        days = re.search(rf"Listed {entry.entered_on} \((\d+) days?\)", text)
        assert days, path
        assert days.group(0).endswith("day)" if days.group(1) == "1" else "days)"), days.group(0)

    text = client.get(f"/manage/rankings?kind=quarter&day={last_month}&lang=zh"
                      ).get_data(as_text=True)
    assert f"排名 · {last_month.year}年第{quarter}季度</h1>" in text
    text = client.get(f"/manage/bulletin?kind=week&day={last_month}").get_data(as_text=True)
    monday = last_month - timedelta(days=last_month.weekday())
    assert "<h1>服务质量周通报</h1>" in text
    shown = re.search(r'<p class="muted" id="period-shown">([^<]*)</p>', text).group(1)
    assert shown == (f"{monday} 至 {monday + timedelta(days=6)}"
                     f"（第 {monday.isocalendar()[1]} 周）")  # the dates once, not twice
    text = client.get(f"/manage/watchlist/{entry.id}").get_data(as_text=True)
    assert re.search(rf"入列 {entry.entered_on}（\d+ 天）", text)


def test_one_day_on_the_list_is_singular(app):
    """Is an entry listed yesterday "1 day", not "1 days"?"""
    from types import SimpleNamespace

    from flask_babel import force_locale

    entry = SimpleNamespace(entered_on=date(2026, 11, 28), days_on_list=1)
    with app.test_request_context("/"), force_locale("en"):
        macro = app.jinja_env.get_template("manage/_period.html").module.listed_since
        assert str(macro(entry)) == "Listed 2026-11-28 (1 day)"
        entry.days_on_list = 3
        assert str(macro(entry)) == "Listed 2026-11-28 (3 days)"


def csrf(client) -> str:
    with client.session_transaction() as session:
        return session["csrf"]


def test_follow_up_kinds_and_history_read_in_english(client, login, demo):
    """On an entry's page in English, are the follow-up types (送教上门, 驻点辅导, 约谈, 其他)
    and the history's event names (列入名单 …) in English, and still Chinese in Chinese?"""
    login("fwgl", "Demo@2026")
    entry = db.session.scalar(sa.select(WatchlistEntry).where(WatchlistEntry.status == "active")
                              .order_by(WatchlistEntry.id))
    text = client.get(f"/manage/watchlist/{entry.id}?lang=en").get_data(as_text=True)
    for key, english in (("on_site_training", "On-site training"),
                         ("stationed_coaching", "Stationed coaching"), ("interview", "Interview"),
                         ("other", "Other")):
        assert f'<option value="{key}">{english}</option>' in text, english
    assert "<strong>Added to the list</strong>" in text and "<strong>列入名单</strong>" not in text
    text = client.get(f"/manage/watchlist/{entry.id}?lang=zh").get_data(as_text=True)
    assert '<option value="on_site_training">送教上门</option>' in text
    assert "<strong>列入名单</strong>" in text

    response = client.post(f"/manage/watchlist/{entry.id}", data={
        "csrf_token": csrf(client), "action": "exit", "reason": "整改已全部完成，复查合格", "confirm": "yes"})
    assert response.status_code in (200, 302)
    text = client.get(f"/manage/watchlist/{entry.id}").get_data(as_text=True)
    assert "<strong>人工出列</strong>" in text
    text = client.get(f"/manage/watchlist/{entry.id}?lang=en").get_data(as_text=True)
    assert "<strong>Taken off the list</strong>" in text  # the event, not the button's verb


#: Words the charts themselves add (titles, legends, series, empty states, descriptions).
CHART_WORDS_ZH = ("排名前列网点", "排名靠后网点", "失分最多的检查项", "自查与独立检查对比", "数值",
                  "图例", "暂无数据", "无数据", "重点关注", "标杆网点", "折线图", "条形图", "参考线",
                  "综合得分", "个月得分", "个月趋势", "相差", "偏高")


def charts_of(text: str) -> str:
    """The SVG charts of a page, as one string."""
    return "".join(re.findall(r"<svg.*?</svg>", text, flags=re.S))


def test_charts_speak_the_pages_language(client, login, demo):
    """On the rankings, an entry and a trend page in English, are the charts' titles, legends,
    series, empty states and screen-reader descriptions English (排名前列网点, 数值, 暂无数据 …
    were left in Chinese) — and still Chinese in Chinese?"""
    login("fwgl", "Demo@2026")
    last_month = local_today().replace(day=1) - timedelta(days=1)
    entry = db.session.scalar(sa.select(WatchlistEntry).order_by(WatchlistEntry.id))
    pages = {"rankings": f"/manage/rankings?kind=month&day={last_month}",
             "empty": "/manage/rankings?kind=week&day=2020-01-06",
             "entry": f"/manage/watchlist/{entry.id}",
             "trend": f"/manage/trend/{entry.unit_id}"}
    english = {name: charts_of(client.get(f"{path}&lang=en" if "?" in path else f"{path}?lang=en")
                               .get_data(as_text=True)) for name, path in pages.items()}
    for name, svg in english.items():
        assert svg, name
        assert [word for word in CHART_WORDS_ZH if word in svg] == [], name
    assert "Top outlets" in english["rankings"] and "Bottom outlets" in english["rankings"]
    assert 'aria-label="Legend"' in english["rankings"] \
        and ">Combined score</text>" in english["rankings"]
    assert "Self-checks vs independent checks. Self-check compared with Independent" \
        in english["rankings"]
    assert english["empty"].count(">No data yet</text>") == 4
    assert "Combined score" in english["trend"] and "trend over 12 months" in english["trend"]
    assert "Line chart, vertical axis 0 to 100." in english["entry"]
    assert re.search(r">(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)</text>",
                     english["entry"])

    chinese = {name: charts_of(client.get(f"{path}&lang=zh" if "?" in path else f"{path}?lang=zh")
                               .get_data(as_text=True)) for name, path in pages.items()}
    assert "排名前列网点" in chinese["rankings"] and ">综合得分</text>" in chinese["rankings"]
    assert chinese["empty"].count(">暂无数据</text>") == 4
    assert "近 12 个月趋势" in chinese["trend"] and "折线图，纵轴 0 至 100。" in chinese["entry"]
    assert re.search(r">\d{1,2}月</text>", chinese["entry"])


def test_bulletin_and_list_words_read_in_english(client, login, demo):
    """In English, does the bulletin count inspections by English mode names (it said
    "暗访 3 times · 抽查 5 times") with English brackets and colons around the data, and
    does the watch-list tag an outlet "Outlet" (it said 网点) — still Chinese in Chinese?"""
    login("fwgl", "Demo@2026")
    last_month = local_today().replace(day=1) - timedelta(days=1)
    text = client.get(f"/manage/bulletin?kind=month&day={last_month}&lang=en"
                      ).get_data(as_text=True)
    main = text.split("<main")[1]
    counts = re.search(r"<p>(.*?) · On the watch-list at period end \d+</p>", main).group(1)
    assert re.fullmatch(r"((Self-check|Peer check|Spot check|Mystery visit) \d+ times?"
                        r"( · )?)+", counts), counts
    # the ranking's "outlet (sub-branch) score" and the failed items' "item: n times"
    assert re.search(r'<span class="name">[^<（]+ \([^<）]+\)</span> <span class="score">'
                     r'\d+(\.\d+)?</span>', main)
    assert not re.search(r"）\d|：\d", main)
    assert re.search(r"<li>[A-Z0-9]+-\d+ [^<]+: \d+ times?</li>", main)
    text = client.get(f"/manage/bulletin?kind=month&day={last_month}&lang=zh"
                      ).get_data(as_text=True)
    assert re.search(r"(自查|互查|抽查|暗访) \d+ 次", text) and "）" in text

    text = client.get("/manage/watchlist?status=all&lang=en").get_data(as_text=True)
    tags = set(re.findall(r'</a>\s*<span class="tag">(.*?)</span>', text))
    assert tags and tags <= {"Outlet", "Sub-branch"}, tags
    text = client.get("/manage/watchlist?status=all&lang=zh").get_data(as_text=True)
    assert set(re.findall(r'</a>\s*<span class="tag">(.*?)</span>', text)) <= {"网点", "支行"}
