"""Rankings and bulletins of any earlier period: ‹ 上一期, 下一期 ›, or the period of a date."""
from __future__ import annotations

import re
from datetime import date, timedelta

from inspect_app.i18n import local_today
from tests.conftest import last_month


def links(text: str) -> dict[str, str]:
    """The chooser's previous/next links by id (with &amp; undone)."""
    return {m.group(2): m.group(1).replace("&amp;", "&") for m in re.finditer(
        r'<a href="([^"]+)" rel="(?:prev|next)" id="period-(prev|next)"', text)}


def test_rankings_step_back_to_an_earlier_month_and_forward_again(client, login, demo):
    """Does the rankings page of the current month offer 上一期 (and no 下一期: the future has
    no figures), and does an earlier month show its own outlets with both steps?"""
    login("fwgl", "Demo@2026")
    today = local_today()
    current = client.get("/manage/rankings?kind=month").get_data(as_text=True)
    first_of_month = today.replace(day=1)
    month_before = first_of_month - timedelta(days=1)  # its last day
    assert links(current) == {"prev": f"/manage/rankings?kind=month&day={month_before}"}
    assert f'<input type="date" name="day" value="{today}" max="{today}" required>' in current

    earlier = client.get(f"/manage/rankings?kind=month&day={month_before}").get_data(as_text=True)
    assert f"排名 · {month_before.year}年{month_before.month}月</h1>" in earlier
    before = month_before.replace(day=1) - timedelta(days=1)
    assert links(earlier) == {"prev": f"/manage/rankings?kind=month&day={before}",
                              "next": f"/manage/rankings?kind=month&day={first_of_month}"}
    # the kind tabs keep the day: 按季度 shows the quarter of the month being read
    assert f'href="/manage/rankings?kind=quarter&amp;day={month_before}"' in earlier


def test_bulletin_of_an_earlier_week_from_a_date(client, login, demo):
    """Does 周通报 for a date in an earlier week show that week (dates said once) with its
    downloads for the same week?"""
    login("fwgl", "Demo@2026")
    day = local_today() - timedelta(days=30)
    monday = day - timedelta(days=day.weekday())
    text = client.get(f"/manage/bulletin?kind=week&day={day}").get_data(as_text=True)
    shown = re.search(r'id="period-shown">([^<]*)<', text).group(1)
    assert shown.startswith(f"{monday} 至 {monday + timedelta(days=6)}") and shown.count("至") == 1
    assert f"day={monday}&amp;format=pdf" in text
    assert links(text)["next"] == f"/manage/bulletin?kind=week&day={monday + timedelta(days=7)}"


def test_a_day_that_is_not_a_date_shows_the_current_period(client, login, demo):
    """Is a mistyped day answered with today's period rather than an error page?"""
    login("fwgl", "Demo@2026")
    text = client.get("/manage/rankings?kind=month&day=2026-13-40").get_data(as_text=True)
    today = local_today()
    assert f"排名 · {today.year}年{today.month}月</h1>" in text
    assert date.fromisoformat(re.search(r'name="day" value="([^"]+)"', text).group(1)) == today


def test_a_period_without_results_points_to_the_one_before(client, login, demo):
    """A period with no submitted result yet (a week just begun, a month before the
    programme) says so and links to the period before, on the rankings and the bulletin; one
    with results does not. The trend page says how 综合 differs from its parts."""
    login("fwgl", "Demo@2026")
    empty = client.get("/manage/rankings?kind=month&day=2024-01-15").get_data(as_text=True)
    assert 'id="period-empty"' in empty and "本期还没有已提交的检查结果。" in empty
    assert 'href="/manage/rankings?kind=month&amp;day=2023-12-31">查看上一期' in empty
    bulletin = client.get("/manage/bulletin?kind=week&day=2024-01-15").get_data(as_text=True)
    assert 'href="/manage/bulletin?kind=week&amp;day=2024-01-14">查看上一期' in bulletin
    full_day = last_month()[1].replace(day=15)  # a month of the demo's history
    full = client.get(f"/manage/rankings?kind=month&day={full_day}").get_data(as_text=True)
    assert 'id="period-empty"' not in full
    trend = client.get("/manage/trend/2").get_data(as_text=True)
    assert 'id="trend-how"' in trend


def test_scores_read_to_two_decimals_on_every_managers_page(client, login, demo):
    """A full score reads 100.00 beside 75.57 (not 100.0) in the rankings, the trend and the
    watch-list, as in the API's figures."""
    from inspect_app.i18n import score_text

    assert (score_text(100.0), score_text(97.2), score_text(None)) == ("100.00", "97.20", "—")
    login("fwgl", "Demo@2026")
    day = last_month()[1].replace(day=15)  # a quarter with the demo's scores
    for path in (f"/manage/rankings?kind=quarter&day={day}", "/manage/trend/2",
                 "/manage/watchlist"):
        text = client.get(path).get_data(as_text=True)
        one_decimal = re.findall(r'<td class="num">(\d+\.\d)</td>', text)
        assert not one_decimal, (path, one_decimal[:5])


def test_the_trend_says_combined_may_sit_above_both_of_its_parts_too(client, login, demo):
    """综合 weights each mode's mean, 「独立检查」 averages every independent result: one peer
    check at 90 beside several spot checks and visits at 75 puts 综合 above both columns
    (曹妃甸支行 in the demo: 80.17 beside 79.33 and 76.94). Does the trend page's note say it
    may be higher as well as lower, not lower only?"""
    from inspect_app.scoring.engine import combined_mean

    weights = {"self_check": 1, "peer_check": 2, "spot_check": 2, "mystery_visit": 2}
    independent = [90, 75, 75, 75, 75]
    combined = combined_mean({"self_check": 76, "peer_check": 90, "spot_check": 75,
                              "mystery_visit": 75}, weights)
    assert combined > max(sum(independent) / len(independent), 76)  # it happens
    login("fwgl", "Demo@2026")
    note = client.get("/manage/trend/2").get_data(as_text=True).split('id="trend-how">')[1]
    assert "可能高于或低于「独立检查」和「自查」两栏" in note.split("</p>")[0]
