"""Watch-list reasons in the reader's language, said again from the figures each entry keeps."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from inspect_app.extensions import db
from inspect_app.watchlist.models import EntryStatus, WatchlistEntry
from inspect_app.watchlist.reasons import explain, reason_label, reason_text
from inspect_app.watchlist.rules import QueueStats, get_rule

from .test_rules import check, facts

CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")

#: One unit per rule, meeting every part of the rule's explanation.
CASES = {
    "low_independent_score": (facts(independent_checks=[check(1, 60), check(2, 79.9),
                                                        check(3, 65.6)]), {}),
    "red_line_repeat": (facts(independent_checks=[check(1, 59, red=["A1"]),
                                                  check(2, 59, red=["A1", "B2"])]), {}),
    "overdue_rectification": (facts(open_items=10, overdue_items=3), {}),
    "self_check_inflation": (facts(self_checks=[check(1, 99, "self_check", passed=list("ABCDEFG"))],
                                   independent_checks=[check(5, 60, failed=list("ABCDEFG"))]),
                             {"reversals": 3}),
    "queue_overtime": (facts(queue=QueueStats(1000, 51)), {}),
}


def stored(key: str) -> dict:
    """The rule's hit for its case, as a watch-list entry keeps it (through JSON)."""
    unit, params = CASES[key]
    return json.loads(json.dumps(get_rule(key).evaluate(unit, params).to_dict()))


@pytest.mark.parametrize("key", sorted(CASES))
def test_a_reason_said_from_its_figures_matches_the_stored_chinese(app, key):
    """Said again in Chinese from its figures, is a reason word for word the explanation the
    rule stored — and in English, is it free of Chinese (item codes and figures kept)?"""
    reason = stored(key)
    with app.test_request_context("/"):
        with force_locale("zh"):
            assert explain(reason) == reason["explanation_zh"]
            assert reason_label(reason) == reason["label_zh"]
        with force_locale("en"):
            text, label = reason_text(reason), reason_label(reason)
    assert not CHINESE.search(text) and not CHINESE.search(label), (label, text)
    for code in reason["figures"].get("repeated_items", []):
        assert code in text


def test_english_reasons_read_as_sentences(app):
    """Do the English explanations carry the rule's figures in words a manager can read?"""
    with app.test_request_context("/"), force_locale("en"):
        assert reason_text(stored("low_independent_score")) == \
            "Independent checks averaged 68.5 (checks: 3), below 70"
        assert reason_text(stored("overdue_rectification")) == (
            "3 overdue rectification items (limit 3); "
            "30% of open rectification items overdue (3/10; limit 30%)")
        assert reason_text(stored("self_check_inflation")).endswith(
            "more than 3 (A, B, C, D, E etc.)")
        assert reason_label(stored("queue_overtime")) == "Queue over-time"


def test_a_reason_without_enough_figures_keeps_its_chinese(app):
    """A reason stored before its rule kept every figure (here the dates of the repeated
    red-line failures), or of a rule since removed: is its stored Chinese shown rather than a
    guess?"""
    older = stored("red_line_repeat")
    del older["figures"]["repeated_on"]
    gone = {"rule_key": "retired_rule", "label_zh": "旧规则", "explanation_zh": "旧说明",
            "figures": {}}
    with app.test_request_context("/"), force_locale("en"):
        assert reason_text(older) == older["explanation_zh"]
        assert reason_text(gone) == "旧说明" and reason_label(gone) == "旧规则"


def test_watch_list_pages_give_the_reasons_in_english(client, login, demo):
    """On the watch-list and an entry's page in English, are the rules' names and reasons
    English — and the stored Chinese on Chinese pages?"""
    login("fwgl", "Demo@2026")
    entries = db.session.scalars(sa.select(WatchlistEntry).where(
        WatchlistEntry.status == EntryStatus.active).order_by(WatchlistEntry.id)).all()
    assert entries and any(entry.reasons for entry in entries)
    text = client.get("/manage/watchlist?status=active&lang=en").get_data(as_text=True)
    reasons = re.findall(r'<p class="reason">(.*?)</p>', text, flags=re.S)
    assert len(reasons) == sum(len(entry.reasons) for entry in entries)
    assert [r for r in reasons if CHINESE.search(r)] == []
    entry = next(entry for entry in entries if entry.reasons)
    text = client.get(f"/manage/watchlist/{entry.id}?lang=en").get_data(as_text=True)
    shown = re.findall(r'<p class="reason"><strong>(.*?)</strong>(.*?)</p>', text, flags=re.S)
    assert len(shown) == len(entry.reasons)
    assert [s for s in shown if CHINESE.search("".join(s))] == []
    text = client.get(f"/manage/watchlist/{entry.id}?lang=zh").get_data(as_text=True)
    for reason in entry.reasons:
        assert f'<strong>{reason["label_zh"]}：</strong>{reason["explanation_zh"]}' in text


#: What a decision says, as stored (its note's data) → in Chinese (as stored before the data
#: was, word for word) and in English.
NOTES = [
    ({"key": "entered", "rules": ["overdue_rectification"]},
     "命中规则：整改逾期", "Rules met: Overdue rectification"),
    ({"key": "changed", "added": ["overdue_rectification"], "gone": ["self_check_inflation"],
      "rules": ["low_independent_score", "overdue_rectification"]},
     "命中规则有变化（新增 整改逾期；不再命中 自查虚高），现命中：独立检查得分偏低、整改逾期",
     "Rules changed (added: Overdue rectification; no longer met: Inflated self-checks);"
     " now met: Low independent score, Overdue rectification"),
    ({"key": "changed", "added": [], "gone": ["low_independent_score"],
      "rules": ["self_check_inflation"]},
     "命中规则有变化（不再命中 独立检查得分偏低），现命中：自查虚高",
     "Rules changed (no longer met: Low independent score); now met: Inflated self-checks"),
    ({"key": "reentered", "since": "2026-11-02", "rules": ["queue_overtime"]},
     "人工出列（2026-11-02）后新情况命中规则：排队超时",
     "After being taken off the list on 2026-11-02, new facts meet: Queue over-time"),
    ({"key": "exited", "count": 2, "score": 80, "totals": [82.76, 98.47],
      "nothing_overdue": True},
     "不再命中名单规则，且入列后最近 2 次独立检查均不低于 80 分（82.76、98.47 分），无逾期整改项",
     "No rule met any more, and the latest independent checks since listing (2: 82.76, 98.47)"
     " all scored at least 80, with nothing overdue"),
    ({"key": "exited", "count": 3, "score": 75.5, "totals": [80.0, 90, 100],
      "nothing_overdue": False},
     "不再命中名单规则，且入列后最近 3 次独立检查均不低于 75.5 分（80、90、100 分）",
     "No rule met any more, and the latest independent checks since listing (3: 80, 90, 100)"
     " all scored at least 75.5"),
    ({"key": "not_yet", "problems": [
        {"key": "checks_too_low", "totals": [95, 79], "low": 1, "score": 80},
        {"key": "still_overdue", "count": 2}]},
     "尚未满足出列条件：最近 2 次独立检查（95、79 分）中有 1 次低于 80 分；仍有 2 项逾期整改",
     "Cannot leave the list yet: of the latest independent checks (2: 95, 79), 1 scored below"
     " 80; rectification items still overdue: 2"),
    ({"key": "not_yet", "problems": [  # one of each: no "1 checks", "1 items"
        {"key": "too_few_checks", "count": 1, "needed": 2, "score": 80},
        {"key": "still_overdue", "count": 1}]},
     "尚未满足出列条件：入列后独立检查仅 1 次，需连续 2 次不低于 80 分；仍有 1 项逾期整改",
     "Cannot leave the list yet: independent checks since listing: only 1; 2 in a row must"
     " score at least 80; rectification items still overdue: 1"),
    ({"key": "cleared", "gone": ["self_check_inflation"], "problems": [
        {"key": "too_few_checks", "count": 1, "needed": 2, "score": 80}]},
     "已不再命中规则（此前：自查虚高），待满足出列条件：入列后独立检查仅 1 次，需连续 2 次不低于 80 分",
     "No rule met any more (before: Inflated self-checks); cannot leave the list yet:"
     " independent checks since listing: only 1; 2 in a row must score at least 80"),
    ({"key": "not_reentered", "since": "2026-01-11"},
     "人工出列（2026-01-11）后没有新的情况命中名单规则",
     "Since being taken off the list on 2026-01-11, no new facts meet a rule"),
]


@pytest.mark.parametrize(("data", "chinese", "english"), NOTES,
                         ids=[f"{d['key']}-{i}" for i, (d, _, _) in enumerate(NOTES)])
def test_history_notes_said_from_their_data(app, data, chinese, english):
    """Is a note the rules wrote said from its data: in Chinese word for word as the history
    has always read, in English on English pages — and the stored text kept on Chinese pages?"""
    from inspect_app.watchlist.reasons import event_note
    from inspect_app.watchlist.rules import say

    assert say(data) == chinese
    with app.test_request_context("/"), force_locale("en"):
        assert event_note(chinese, data) == english
    with app.test_request_context("/"), force_locale("zh"):
        assert event_note(chinese, data) == chinese


def test_a_note_without_data_reads_as_written(app):
    """A manager's exit reason (no data), or data naming a rule since removed or of a kind this
    version does not know: is the stored text shown as it is, never a guess?"""
    from inspect_app.watchlist.reasons import event_note

    with app.test_request_context("/"), force_locale("en"):
        assert event_note("命中规则：整改逾期", None) == "命中规则：整改逾期"
        assert event_note("已完成整改，人工出列", {}) == "已完成整改，人工出列"
        assert event_note("某种新说法", {"key": "from_the_future"}) == "某种新说法"
        assert event_note("命中规则：旧规则", {"key": "entered", "rules": ["retired_rule"]}) == (
            "命中规则：旧规则")
        assert event_note(None, None) == ""


def test_watch_list_history_reads_in_english(client, login, demo):
    """On the watch-list, an entry's page and the bulletin in English, do the history notes
    the rules wrote read in English (命中规则：… was left in Chinese)?"""
    login("fwgl", "Demo@2026")
    entry = db.session.scalar(sa.select(WatchlistEntry).order_by(WatchlistEntry.id))
    text = client.get(f"/manage/watchlist/{entry.id}?lang=en").get_data(as_text=True)
    history = text.split("<h2>History</h2>")[1]
    notes = re.findall(r"</strong><br>(.*?)</li>", history, flags=re.S)
    assert notes and [n for n in notes if CHINESE.search(n)] == []
    text = client.get("/manage/watchlist?status=exited&lang=en").get_data(as_text=True)
    assert "不再命中" not in text
