"""A mystery visit's timed events as pure functions: which tapped times are possible, and the
timeline its reviewers read (no application, no database)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from inspect_app.inspections.visits import CLOCK_SKEW, read_events, visit_timeline

BEIJING = ZoneInfo("Asia/Shanghai")
OPENS = datetime(2026, 10, 1, tzinfo=BEIJING)
ARRIVAL = datetime(2026, 10, 9, 9, 30, tzinfo=BEIJING)
NOW = datetime(2026, 10, 9, 18, 0, tzinfo=BEIJING)


def times(**minutes: float) -> dict[str, str]:
    return {name: (ARRIVAL + timedelta(minutes=m)).isoformat() for name, m in minutes.items()}


def test_a_possible_visit_is_taken_whole():
    """Are the times of an ordinary visit, its wait of 40 minutes included, all taken?"""
    taken, problems = read_events(times(arrival=0, ticket=1, called=41, served=42, left=55),
                                  opens=OPENS, now=NOW)
    assert problems == {} and list(taken) == ["arrival", "ticket", "called", "served", "left"]


def test_served_before_the_ticket_is_the_mis_tap():
    """'Served' before 'ticket taken': is the served time named and left out, the rest kept?"""
    taken, problems = read_events(times(arrival=0, ticket=10, served=5), opens=OPENS, now=NOW)
    assert problems == {"served": ["时间早于前一个节点"]} and set(taken) == {"arrival", "ticket"}


def test_a_wait_of_many_hours_is_not_a_wait():
    """A call five hours after arrival: is it named (four hours is the most one visit lasts),
    while a visit of exactly four hours is taken?"""
    taken, problems = read_events(times(arrival=0, ticket=1, called=300), opens=OPENS, now=NOW)
    assert problems == {"called": ["距到达网点已超过 4 小时"]} and set(taken) == {"arrival", "ticket"}
    _, problems = read_events(times(arrival=0, left=240), opens=OPENS, now=NOW)
    assert problems == {}


def test_times_outside_the_visit_window_or_in_the_future_are_named():
    """A time before the visit's window opened, and one later than now (beyond a phone clock's
    few minutes ahead): are both named, each with its reason?"""
    events = {"arrival": (OPENS - timedelta(hours=1)).isoformat(),
              "ticket": (NOW + CLOCK_SKEW + timedelta(minutes=1)).isoformat(),
              "called": (NOW + CLOCK_SKEW - timedelta(minutes=1)).isoformat()}
    taken, problems = read_events(events, opens=OPENS, now=NOW)
    assert problems == {"arrival": ["早于暗访期限（2026-10-01 起）"],
                        "ticket": ["时间晚于当前时间，请核对手机时间"]}
    assert list(taken) == ["called"]


def test_the_timeline_gives_the_minutes_since_the_time_before_and_since_arrival():
    """Does each time come in the bank's clock, in the visit's order, with the minutes since
    the one before it and since arrival — whatever the order and zone they were sent in?"""
    events = times(left=35, arrival=0, called=22.5, ticket=1)
    events["served"] = (ARRIVAL + timedelta(minutes=24)).astimezone(ZoneInfo("UTC")).isoformat()
    rows = visit_timeline(events, BEIJING)
    assert [(r["event"], r["label"], r["time"], r["since_previous"], r["since_arrival"])
            for r in rows] == [("arrival", "到达网点", "09:30:00", None, None),
                               ("ticket", "取号", "09:31:00", 1.0, 1.0),
                               ("called", "叫号", "09:52:30", 21.5, 22.5),
                               ("served", "开始办理", "09:54:00", 1.5, 24.0),
                               ("left", "离开网点", "10:05:00", 11.0, 35.0)]
    assert {r["date"] for r in rows} == {"2026-10-09"}
    assert visit_timeline({"ticket": "不是时间"}, BEIJING) == []
