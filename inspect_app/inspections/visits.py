"""A mystery visit's timed events (到达 → 取号 → 叫号 → 开始办理 → 离开): which of the times a
shopper tapped can be taken, and the visit's timeline as its reviewers read it.

Pure functions over plain data, with no Flask or database import (like the scoring core): the
caller says when the visit's window opened, what time it is and where the bank is.
"""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from ..messages import N_, Message

#: Timed events of a mystery visit, in the order they happen.
VISIT_EVENTS = ("arrival", "ticket", "called", "served", "left")
VISIT_EVENT_LABELS = {"arrival": N_("到达网点"), "ticket": N_("取号"), "called": N_("叫号"),
                      "served": N_("开始办理"), "left": N_("离开网点")}

#: The longest one visit lasts, from its first time to its last. Outlets keep office hours and
#: the waiting-time standard speaks of minutes: times further apart are a mis-tap or a time of
#: another visit, never a wait the score should take.
MAX_VISIT_HOURS = 4
#: How far a phone's clock may run ahead of the server's before its time is "in the future".
CLOCK_SKEW = timedelta(minutes=10)


def _moment(value: Any) -> datetime | Message:
    """The tapped time, or what is wrong with it."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return Message("时间格式不正确")
    if moment.tzinfo is None:
        return Message("时间必须带时区")
    return moment


def read_events(events: dict[str, Any], *, opens: datetime | None = None,
                now: datetime | None = None,
                ) -> tuple[dict[str, datetime], dict[str, list[Message]]]:
    """The visit's times that can be taken, in the visit's order, and the problems of the
    others by event name.

    A time must be a known event's, ISO 8601 with its time zone, and possible:

    - not after ``now`` (give or take a phone clock's :data:`CLOCK_SKEW`): the visit happened;
    - not before ``opens``, when the visit's window opened: the visit was not due yet (a visit
      after the window is late work, accepted and marked late like any other);
    - not earlier than the one taken before it in the visit's order: a time that goes back is
      the mis-tapped one, so what is taken stays in order (served before the ticket, say);
    - at most :data:`MAX_VISIT_HOURS` after the visit's first time (a wait of many hours).
    """
    parsed: dict[str, datetime] = {}
    problems: dict[str, list[Message]] = {}
    for name, value in events.items():
        if name not in VISIT_EVENTS:
            problems[name] = [Message("未知的时间节点")]
            continue
        moment = _moment(value)
        if isinstance(moment, Message):
            problems[name] = [moment]
        elif now is not None and moment > now + CLOCK_SKEW:
            problems[name] = [Message("时间晚于当前时间，请核对手机时间")]
        elif opens is not None and moment < opens:
            problems[name] = [Message("早于暗访期限（%(start)s 起）",
                                      start=opens.date().isoformat())]
        else:
            parsed[name] = moment
    taken: dict[str, datetime] = {}
    for name in (name for name in VISIT_EVENTS if name in parsed):
        first = next(iter(taken), None)
        if taken and parsed[name] < max(taken.values()):
            problems.setdefault(name, []).append(Message("时间早于前一个节点"))
        elif first is not None and parsed[name] - taken[first] > timedelta(hours=MAX_VISIT_HOURS):
            problems.setdefault(name, []).append(Message(
                "距%(event)s已超过 %(hours)s 小时", event=Message(VISIT_EVENT_LABELS[first]),
                hours=MAX_VISIT_HOURS))
        else:
            taken[name] = parsed[name]
    return taken, problems


def _minutes(since: datetime | None, moment: datetime) -> float | None:
    return None if since is None else round((moment - since).total_seconds() / 60, 1)


def visit_timeline(events: dict[str, Any], zone: tzinfo) -> list[dict[str, Any]]:
    """The visit's times in its order, each with the minutes since the time before it and
    since the shopper's arrival: what a reviewer reads to judge the waits (the result page and
    the inspection report show it, to those who may know the shopper).

    Each row: ``event``, ``label`` (Chinese), ``at`` (as tapped), the bank's ``date`` and
    ``time`` (HH:MM:SS), ``since_previous`` and ``since_arrival`` (minutes, one decimal; None
    for the first time, or without an arrival). A time that cannot be read is left out."""
    rows: list[dict[str, Any]] = []
    previous = arrival = None
    for name in VISIT_EVENTS:
        if name not in events:
            continue
        moment = _moment(events[name])
        if isinstance(moment, Message):
            continue
        local = moment.astimezone(zone)
        rows.append({"event": name, "label": VISIT_EVENT_LABELS[name], "at": moment.isoformat(),
                     "date": local.date().isoformat(), "time": local.strftime("%H:%M:%S"),
                     "since_previous": _minutes(previous, moment),
                     "since_arrival": _minutes(arrival, moment)})
        previous = moment
        if name == "arrival":
            arrival = moment
    return rows
