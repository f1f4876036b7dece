"""The watch-list rule engine: each rule's boundary, transitions, rule sets and properties."""
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_app.watchlist.rules import (
    DEFAULT_RULE_SET,
    RULES,
    CheckResult,
    Decision,
    EntryState,
    ExitPolicy,
    QueueStats,
    RuleConfig,
    RuleSet,
    UnitFacts,
    WatchlistError,
    describe,
    describe_exit,
    evaluate_all,
    evaluate_unit,
    exit_progress,
    exit_shortfalls,
    get_rule,
    say_progress,
    validate_rule_set,
)

#: Small, fast and reproducible: no example database written into the repository.
fast = settings(max_examples=80, deadline=None, database=None)

D0 = date(2026, 1, 1)


def check(day: int, total: float | None, mode: str = "peer_check", *, red=(), failed=(),
          passed=(), ref: str = "") -> CheckResult:
    """A check ``day`` days after 2026-01-01."""
    return CheckResult(D0 + timedelta(days=day), mode, total, tuple(red),
                       tuple(failed) + tuple(red), tuple(passed), ref)


def facts(unit_id=1, kind="outlet", **overrides) -> UnitFacts:
    return UnitFacts(unit_id=unit_id, unit_kind=kind, name=f"网点{unit_id}", **overrides)


def only(key: str, **params) -> RuleSet:
    """A rule set with one rule enabled, with ``params``."""
    return RuleSet(1, (RuleConfig(key, True, params),), ExitPolicy())


def hit(key: str, f: UnitFacts, **params):
    return get_rule(key).evaluate(f, params)


# -- each rule's boundary ----------------------------------------------------------------------


def test_low_score_hits_just_below_threshold_not_at_it():
    """Is a mean exactly at the threshold safe, and one just below it listed with its figures?"""
    at = facts(independent_checks=[check(1, 60), check(2, 80)])
    below = facts(independent_checks=[check(1, 60), check(2, 79.9), check(3, 65.6)])
    assert hit("low_independent_score", at) is None
    found = hit("low_independent_score", below)
    assert found.explanation_zh == "独立检查平均 68.5 分（3 次），低于 70 分"
    assert found.figures["count"] == 3 and found.figures["threshold"] == 70


def test_low_score_needs_min_checks_and_ignores_self_checks_and_unscored():
    """Does one bad check count only when one is enough, and do self-checks stay out of it?"""
    f = facts(independent_checks=[check(1, 50), check(2, None)],
              self_checks=[check(1, 10, "self_check")])
    assert hit("low_independent_score", f, min_checks=2) is None
    assert hit("low_independent_score", f, min_checks=1).figures["count"] == 1


def test_low_score_shows_enough_decimals_near_the_threshold():
    """Is 69.96 never shown as "70 分，低于 70 分"?"""
    found = hit("low_independent_score", facts(independent_checks=[check(1, 69.96)]))
    assert "69.96 分" in found.explanation_zh


def test_low_score_only_counts_checks_in_the_period():
    """Do checks before ``period_start`` stay out of the period's mean?"""
    f = facts(independent_checks=[check(1, 10), check(40, 90)],
              period_start=D0 + timedelta(days=30))
    assert hit("low_independent_score", f) is None


def test_red_line_count_boundary():
    """Are N red-line failures enough, and N-1 (non-consecutive, different items) not?"""
    one = facts(independent_checks=[check(1, 59, red=["A1"]), check(2, 90)])
    two = facts(independent_checks=[check(1, 59, red=["A1"]), check(2, 90),
                                    check(3, 59, red=["B2"])])
    assert hit("red_line_repeat", one) is None
    found = hit("red_line_repeat", two)
    assert found.explanation_zh == "独立检查红线项不合格 2 次，达到 2 次"
    assert found.figures["repeated_items"] == []


def test_red_line_same_item_in_consecutive_checks():
    """Does the same red-line item failed twice in a row hit even with a high count threshold,
    and the same item with a clean check between them not?"""
    consecutive = facts(independent_checks=[check(2, 59, red=["A1"]), check(1, 59, red=["A1"])])
    found = hit("red_line_repeat", consecutive, count=5)
    assert "红线项 A1 在连续两次独立检查（2026-01-02、2026-01-03）中均不合格" in found.explanation_zh
    apart = facts(independent_checks=[check(1, 59, red=["A1"]), check(2, 90),
                                      check(3, 59, red=["A1"])])
    assert hit("red_line_repeat", apart, count=5) is None


def test_overdue_count_and_share_boundaries():
    """Are 3 overdue items or 30% of open items enough, and 2 of 7 (28.6%) not?"""
    assert hit("overdue_rectification", facts(open_items=7, overdue_items=2)) is None
    by_count = hit("overdue_rectification", facts(open_items=20, overdue_items=3))
    assert by_count.explanation_zh == "逾期整改项 3 项，达到 3 项"
    by_share = hit("overdue_rectification", facts(open_items=10, overdue_items=3), count=9)
    assert by_share.explanation_zh == "逾期整改项占未完成整改项 30%（3/10），达到 30%"
    assert hit("overdue_rectification", facts(open_items=1, overdue_items=1),
               share_min_open=2) is None


def test_self_check_inflation_gap_boundary():
    """Is a gap of exactly 15 points fine and 15.5 not?"""
    exact = facts(self_checks=[check(1, 95, "self_check")], independent_checks=[check(2, 80)])
    above = facts(self_checks=[check(1, 95.5, "self_check")], independent_checks=[check(2, 80)])
    assert hit("self_check_inflation", exact) is None
    found = hit("self_check_inflation", above)
    assert found.explanation_zh == "自查平均 95.5 分，独立检查平均 80 分，高出 15.5 分，超过 15 分"
    assert found.figures["gap"] == 15.5


def test_self_check_inflation_counts_items_self_passed_then_failed():
    """Do more than Y items passed by the unit's own latest self-check and failed by a later
    independent check hit, while exactly Y do not, and does an item the latest self-check failed
    not count?"""
    own = [check(1, 90, "self_check", passed=["A", "B", "C", "D"]),
           check(3, 90, "self_check", passed=["A", "B", "C"], failed=["D"])]
    three = facts(self_checks=own, independent_checks=[check(5, 90, failed=["A", "B", "C", "D"])])
    assert hit("self_check_inflation", three, reversals=3) is None
    four = facts(self_checks=own, independent_checks=[check(5, 90, failed=["A", "B", "C", "D"]),
                                                      check(6, 90, failed=["A"])])
    found = hit("self_check_inflation", four, reversals=3)
    assert found.figures["reversals"] == 4
    assert "不合格 4 次，超过 3 次（A、B、C）" in found.explanation_zh
    # a failure on the day of the first self-check is not "later"
    same_day = facts(self_checks=own,
                     independent_checks=[check(1, 90, failed=["A", "B", "C", "D"])] * 2)
    assert hit("self_check_inflation", same_day, reversals=3) is None


def test_queue_overtime_boundaries():
    """Is 5% exactly fine and 5.1% not, and are fewer than 100 customers never judged?"""
    assert hit("queue_overtime", facts(queue=QueueStats(1000, 50))) is None
    found = hit("queue_overtime", facts(queue=QueueStats(1000, 51)))
    assert found.explanation_zh == "超时等候客户占比 5.1%（51/1000 人），高于 5%"
    assert hit("queue_overtime", facts(queue=QueueStats(99, 99))) is None
    assert hit("queue_overtime", facts(queue=QueueStats(100, 99))) is not None
    assert hit("queue_overtime", facts(queue=QueueStats(0, 0)), min_served=0) is None


def test_rules_apply_to_subbranches_too():
    """Does a sub-branch with aggregated facts meet the same rules?"""
    f = facts(kind="subbranch", independent_checks=[check(1, 50)], queue=QueueStats(5000, 500))
    assert {h.rule_key for h in evaluate_unit(f, DEFAULT_RULE_SET, None).hits} == {
        "low_independent_score", "queue_overtime"}


def test_rule_restricted_to_outlets_skips_subbranches():
    """Does ``unit_kinds`` keep a rule away from sub-branches?"""
    rule_set = RuleSet(1, (RuleConfig("queue_overtime", True, {}, ("outlet",)),))
    sub = facts(kind="subbranch", queue=QueueStats(5000, 500))
    assert evaluate_unit(sub, rule_set).action == "none"
    assert evaluate_unit(replace(sub, unit_kind="outlet"), rule_set).action == "enter"
    assert describe(rule_set)[0].endswith("（仅适用于网点）")


# -- transitions --------------------------------------------------------------------------------

LOW = [check(1, 50)]
GOOD = [check(1, 50), check(10, 85), check(20, 90)]
#: entered the list on day 5, after the first check
LISTED = EntryState(True, frozenset({"low_independent_score"}), D0 + timedelta(days=5))


@pytest.mark.parametrize("independent,overdue,current,action,reason", [
    (LOW, 0, None, "enter", "命中规则：独立检查得分偏低"),
    ([check(1, 90)], 0, None, "none", "未命中任何名单规则"),
    (LOW, 0, EntryState(False), "enter", "命中规则"),
    (LOW, 0, LISTED, "stay", "继续命中规则"),
    (LOW, 5, LISTED, "update",
     "命中规则有变化（新增 整改逾期）"),
    ([check(1, 50), check(10, 95)], 0, LISTED,
     "stay", "尚未满足出列条件：入列后独立检查仅 1 次，需连续 2 次不低于 80 分"),
    ([check(1, 50), check(10, 95), check(20, 79)], 0,
     LISTED, "stay",
     "尚未满足出列条件：最近 2 次独立检查（95、79 分）中有 1 次低于 80 分"),
    (GOOD, 2, replace(LISTED, hit_keys=frozenset({"overdue_rectification"})), "stay",
     "仍有 2 项逾期整改"),
    (GOOD, 0, LISTED, "exit",
     "不再命中名单规则，且入列后最近 2 次独立检查均不低于 80 分（85、90 分），无逾期整改项"),
])
def test_transitions(independent, overdue, current, action, reason):
    """Does each situation lead to the expected action with a reason that says why?"""
    f = facts(independent_checks=independent, open_items=10, overdue_items=overdue)
    decision = evaluate_unit(f, DEFAULT_RULE_SET, current)
    assert decision.action == action
    assert reason in decision.reason_zh


def test_exit_counts_only_checks_after_entry():
    """Do passing checks from before the unit entered not let it leave?"""
    f = facts(independent_checks=[check(1, 90), check(2, 95), check(3, 60)],
              period_start=D0 + timedelta(days=30))
    current = EntryState(True, frozenset({"low_independent_score"}), D0 + timedelta(days=3))
    assert evaluate_unit(f, DEFAULT_RULE_SET, current).action == "stay"


def test_exit_policy_without_overdue_requirement():
    """Does switching off ``require_nothing_overdue`` let a unit with overdue items leave?"""
    rule_set = replace(only("low_independent_score"),
                       exit=ExitPolicy(2, 80, require_nothing_overdue=False))
    f = facts(independent_checks=GOOD, open_items=10, overdue_items=9,
              period_start=D0 + timedelta(days=5))
    current = LISTED
    assert evaluate_unit(f, rule_set, current).action == "exit"


def test_manual_exit_reenters_only_on_newer_facts():
    """After a manager took a unit off the list, do old facts keep it off and new ones bring it
    back?"""
    exited = EntryState(False, frozenset(), D0, manually_exited_at=D0 + timedelta(days=10))
    old = facts(independent_checks=[check(1, 40)], open_items=5, overdue_items=5,
                newest_overdue_on=D0 + timedelta(days=2),
                queue=QueueStats(1000, 900, 30, D0 + timedelta(days=10)))
    decision = evaluate_unit(old, DEFAULT_RULE_SET, exited)
    assert decision.action == "none"
    assert "人工出列（2026-01-11）后没有新的情况" in decision.reason_zh
    newer = replace(old, independent_checks=[check(1, 40), check(11, 50)])
    decision = evaluate_unit(newer, DEFAULT_RULE_SET, exited)
    assert decision.action == "enter" and decision.hit_keys == {"low_independent_score"}
    assert decision.hits[0].figures["count"] == 1  # the old check no longer counts
    overdue_again = replace(old, newest_overdue_on=D0 + timedelta(days=11))
    assert evaluate_unit(overdue_again, DEFAULT_RULE_SET, exited).hit_keys == {
        "overdue_rectification"}


def test_invalid_facts_are_refused_in_chinese():
    """Are an unknown unit kind, a wrong mode and an impossible queue refused with messages?"""
    bad = UnitFacts(1, "branch", independent_checks=[check(1, 90, "self_check")],
                    queue=QueueStats(10, 11))
    with pytest.raises(WatchlistError) as info:
        evaluate_unit(bad, DEFAULT_RULE_SET)
    assert len(info.value.messages) == 3
    with pytest.raises(WatchlistError, match="重复"):
        evaluate_all([facts(1), facts(1)], DEFAULT_RULE_SET, {})


# -- rule sets ----------------------------------------------------------------------------------


def test_default_rule_set_round_trips_and_describes_every_rule():
    """Does the shipped rule set survive JSON and describe each rule with its parameters?"""
    assert RuleSet.from_dict(DEFAULT_RULE_SET.to_dict()) == DEFAULT_RULE_SET
    assert DEFAULT_RULE_SET.validate() == []
    lines = describe(DEFAULT_RULE_SET)
    assert len(lines) == len(RULES) == 5
    assert "独立检查（互查、抽查、暗访）平均得分低于 70 分" in lines[0]
    assert "超时占比）高于 5%" in lines[4]
    assert describe_exit(DEFAULT_RULE_SET.exit) == "入列后连续 2 次独立检查得分均不低于 80 分，且没有逾期整改项"


def test_from_dict_fills_defaults_and_disabled_rules_are_not_described():
    """Are left-out parameters stored explicitly, and disabled rules left off the page?"""
    rule_set = RuleSet.from_dict({"version": 3, "rules": [
        {"key": "queue_overtime", "params": {"threshold": 0.1}},
        {"key": "red_line_repeat", "enabled": False}]})
    assert rule_set.rules[0].params == {"threshold": 0.1, "min_served": 100}
    assert rule_set.exit == ExitPolicy()
    assert describe(rule_set) == ["排队超时：排队超时客户占比（超时占比）高于 10%（期内服务客户不少于 100 人）；"
                                  "目标是超时网点零发生"]


@pytest.mark.parametrize("data,message", [
    ([], "名单规则集必须是键值对（JSON 对象）"),
    ({"version": 0, "rules": []}, "规则集版本号（version）必须是不小于 1 的整数"),
    ({"version": 1, "rules": {}}, "规则列表（rules）必须是列表"),
    ({"version": 1, "rules": [{"key": "nope"}]}, "第 1 条规则的规则键无效：nope"),
    ({"version": 1, "rules": [{"key": "queue_overtime"}, {"key": "queue_overtime"}]},
     "规则「排队超时」（queue_overtime）重复出现"),
    ({"version": 1, "rules": [{"key": "low_independent_score", "params": {"threshold": 101}}]},
     "规则「独立检查得分偏低」的参数 threshold（分数线）必须不小于 0 且不大于 100"),
    ({"version": 1, "rules": [{"key": "low_independent_score", "params": {"min_checks": 1.5}}]},
     "规则「独立检查得分偏低」的参数 min_checks（最少检查次数）必须是整数"),
    ({"version": 1, "rules": [{"key": "low_independent_score", "params": {"min_checks": True}}]},
     "规则「独立检查得分偏低」的参数 min_checks（最少检查次数）必须是数字"),
    # a threshold no branch can reach switches a rule off in disguise
    ({"version": 1, "rules": [{"key": "low_independent_score",
                               "params": {"min_checks": 10**20}}]},
     "规则「独立检查得分偏低」的参数 min_checks（最少检查次数）必须不小于 1 且不大于 100"),
    ({"version": 1, "rules": [{"key": "queue_overtime", "params": {"min_served": 10**12}}]},
     "规则「排队超时」的参数 min_served（最少服务客户数）必须不小于 0 且不大于 10000000"),
    ({"version": 1, "rules": [], "exit": {"consecutive_passing_checks": 10**9}},
     "出列所需连续合格检查次数（consecutive_passing_checks）必须是 1 到 100 之间的整数"),
    ({"version": 1, "rules": [{"key": "overdue_rectification", "params": {"share": 0}}]},
     "规则「整改逾期」的参数 share（逾期占比）必须大于 0% 且不大于 100%"),
    ({"version": 1, "rules": [{"key": "queue_overtime", "params": {"colour": 1}}]},
     "规则「排队超时」没有参数 colour"),
    ({"version": 1, "rules": [{"key": "queue_overtime", "enabled": "yes"}]},
     "规则「排队超时」的启用状态（enabled）必须是 true 或 false"),
    ({"version": 1, "rules": [{"key": "queue_overtime", "unit_kinds": ["branch"]}]},
     "规则「排队超时」的适用对象（unit_kinds）必须是非空列表"),
    ({"version": 1, "rules": [], "exit": {"consecutive_passing_checks": 0}},
     "出列所需连续合格检查次数（consecutive_passing_checks）必须是 1 到 100 之间的整数"),
    ({"version": 1, "rules": [], "exit": {"passing_score": 120}},
     "出列合格分数线（passing_score）必须是 0 到 100 之间的数字"),
    ({"version": 1, "rules": [], "exit": {"require_nothing_overdue": 1}},
     "是否要求无逾期整改（require_nothing_overdue）必须是 true 或 false"),
    ({"version": 1, "rules": [{"key": "low_independent_score"}], "exit": {"passing_score": 50}},
     "出列合格分数线（50 分）不能低于规则「独立检查得分偏低」的分数线（70 分）"),
    ({"version": 1, "rules": [{"key": "low_independent_score", "params": {"threshold": 85}}]},
     "出列合格分数线（80 分）不能低于规则「独立检查得分偏低」的分数线（85 分）"),
])
def test_rule_set_validation_messages(data, message):
    """Does each kind of mistake get a precise Chinese message, and from_dict refuse it?"""
    problems = validate_rule_set(data)
    assert any(message in p for p in problems), problems
    with pytest.raises(WatchlistError):
        RuleSet.from_dict(data)


def test_an_exit_score_at_or_above_the_entry_threshold_is_accepted():
    """Leaving at the threshold itself, or with the low-score rule switched off, is fine."""
    at = {"version": 1, "rules": [{"key": "low_independent_score"}], "exit": {"passing_score": 70}}
    off = {"version": 1, "rules": [{"key": "low_independent_score", "enabled": False}],
           "exit": {"passing_score": 50}}
    assert validate_rule_set(at) == [] and validate_rule_set(off) == []


def test_validation_reports_every_problem_at_once():
    """Does a rule set with several mistakes list them all?"""
    problems = validate_rule_set({"version": "x", "rules": [
        {"key": "low_independent_score", "params": {"threshold": -1, "min_checks": 0}}],
        "exit": {"passing_score": "高"}, "extra": 1})
    assert len(problems) == 5


@st.composite
def rule_sets(draw):
    """Any valid rule set, as :meth:`RuleSet.from_dict` would return it."""
    keys = draw(st.lists(st.sampled_from(sorted(RULES)), unique=True))
    rules = []
    for key in keys:
        params = {}
        for p in RULES[key].params:
            if draw(st.booleans()):
                if p.kind == "int":
                    params[p.name] = draw(st.integers(int(p.minimum), 50))
                elif p.kind == "share":
                    params[p.name] = draw(st.floats(0.001, 1))
                else:
                    params[p.name] = draw(st.floats(0, 100))
        kinds = draw(st.sampled_from([None, ["outlet"], ["subbranch"], ["outlet", "subbranch"]]))
        rules.append({"key": key, "enabled": draw(st.booleans()), "params": params,
                      "unit_kinds": kinds})
    # leaving the list takes at least the score that keeps an outlet off it
    floor = max((r["params"].get("threshold", 70) for r in rules
                 if r["key"] == "low_independent_score" and r["enabled"]), default=0)
    exit_ = {"consecutive_passing_checks": draw(st.integers(1, 5)),
             "passing_score": draw(st.floats(floor, 100)),
             "require_nothing_overdue": draw(st.booleans())}
    return RuleSet.from_dict({"version": draw(st.integers(1, 10_000)), "rules": rules,
                              "exit": exit_})


@fast
@given(rule_sets())
def test_rule_set_round_trip(rule_set):
    """Does any valid rule set come back equal from its JSON and describe each enabled rule?"""
    assert RuleSet.from_dict(rule_set.to_dict()) == rule_set
    assert rule_set.validate() == []
    assert len(describe(rule_set)) == sum(c.enabled for c in rule_set.rules)


# -- properties ---------------------------------------------------------------------------------

codes = st.sampled_from(["A1", "A2", "B1", "C3", "D4"])


@st.composite
def checks(draw, mode):
    modes = st.sampled_from(["peer_check", "spot_check", "mystery_visit"]) if mode is None \
        else st.just(mode)
    return CheckResult(
        D0 + timedelta(days=draw(st.integers(0, 90))), draw(modes),
        draw(st.none() | st.floats(0, 100)),
        tuple(draw(st.lists(codes, max_size=2, unique=True))),
        tuple(draw(st.lists(codes, max_size=3, unique=True))),
        tuple(draw(st.lists(codes, max_size=3, unique=True))),
        draw(st.sampled_from(["", "a", "b"])))


@st.composite
def unit_facts(draw, unit_id=None):
    open_items = draw(st.integers(0, 20))
    served = draw(st.integers(0, 2000))
    return UnitFacts(
        unit_id=draw(st.integers(1, 50)) if unit_id is None else unit_id,
        unit_kind=draw(st.sampled_from(["outlet", "subbranch"])),
        independent_checks=draw(st.lists(checks(None), max_size=6)),
        self_checks=draw(st.lists(checks("self_check"), max_size=4)),
        open_items=open_items, overdue_items=draw(st.integers(0, open_items)),
        queue=draw(st.none() | st.builds(QueueStats, st.just(served), st.integers(0, served))),
        period_start=draw(st.none() | st.just(D0 + timedelta(days=30))),
    )


entry_states = st.none() | st.builds(
    EntryState, st.booleans(), st.frozensets(st.sampled_from(sorted(RULES))),
    st.none() | st.just(D0 + timedelta(days=20)), st.none() | st.just(D0 + timedelta(days=40)))


@settings(max_examples=30, deadline=None, database=None)
@given(st.lists(unit_facts(), max_size=5, unique_by=lambda f: f.unit_id),
       st.dictionaries(st.integers(1, 50), entry_states, max_size=6), st.randoms())
def test_same_input_same_decisions_in_any_order(all_facts, entries, rnd):
    """Do shuffled units and shuffled checks give exactly the same decisions, sorted by id?"""
    first = evaluate_all(all_facts, DEFAULT_RULE_SET, entries)
    shuffled = [replace(f, independent_checks=rnd.sample(list(f.independent_checks),
                                                         len(f.independent_checks)),
                        self_checks=rnd.sample(list(f.self_checks), len(f.self_checks)))
                for f in rnd.sample(all_facts, len(all_facts))]
    assert evaluate_all(shuffled, DEFAULT_RULE_SET, entries) == first
    assert evaluate_all(all_facts, DEFAULT_RULE_SET, entries) == first
    assert [d.unit_id for d in first] == sorted(f.unit_id for f in all_facts)


@fast
@given(unit_facts(), entry_states)
def test_decisions_are_consistent(f, current):
    """Does every decision fit the state it started from, and explain each hit with figures?"""
    decision = evaluate_unit(f, DEFAULT_RULE_SET, current)
    on_list = current is not None and current.on_list
    if on_list:
        assert decision.action in ("stay", "update", "exit")
        if decision.action == "update":
            assert decision.hit_keys != current.hit_keys
        if decision.action == "exit":
            assert not decision.hits
    else:
        assert decision.action in ("enter", "none")
        assert (decision.action == "enter") == bool(decision.hits)
    for h in decision.hits:
        assert h.explanation_zh and h.figures
    assert decision.reason_zh


@fast
@given(st.sampled_from(["outlet", "subbranch"]), entry_states.filter(
    lambda e: e is None or not e.on_list), st.integers(1, 20))
def test_unit_without_facts_never_enters(kind, current, open_items):
    """Does a unit with no checks, nothing overdue and no queue data stay off the list?"""
    empty = UnitFacts(1, kind, open_items=open_items)
    assert evaluate_unit(empty, DEFAULT_RULE_SET, current).action == "none"


@fast
@given(unit_facts(), st.data())
def test_lowering_an_independent_score_never_undoes_a_low_score_entry(f, data):
    """If the low-score rule puts a unit on the list, does a lower score keep it there?"""
    rule_set = only("low_independent_score")
    assume_scored = [i for i, c in enumerate(f.independent_checks) if c.total is not None]
    if evaluate_unit(f, rule_set).action != "enter" or not assume_scored:
        return
    index = data.draw(st.sampled_from(assume_scored))
    checks_ = list(f.independent_checks)
    lower = data.draw(st.floats(0, checks_[index].total))
    checks_[index] = replace(checks_[index], total=lower)
    assert evaluate_unit(replace(f, independent_checks=checks_), rule_set).action == "enter"


@fast
@given(st.lists(st.floats(0, 100), min_size=1, max_size=8), st.floats(1, 100))
def test_low_score_explanation_carries_the_figures(totals, threshold):
    """Does every low-score hit state the count and threshold, and a mean on the right side?"""
    f = facts(independent_checks=[check(i, t) for i, t in enumerate(totals)])
    found = hit("low_independent_score", f, threshold=threshold)
    mean = sum(totals) / len(totals)
    if found is None:
        assert mean >= threshold - 1e-9
        return
    shown = found.explanation_zh.split("独立检查平均 ")[1].split(" 分")[0]
    assert float(shown) < threshold or float(shown) == pytest.approx(mean)
    assert f"（{len(totals)} 次）" in found.explanation_zh
    assert found.figures["mean"] == pytest.approx(mean)


@fast
@given(st.integers(1, 5000), st.data())
def test_queue_explanation_carries_the_figures(served, data):
    """Does every queue hit name the over-limit and served customers?"""
    over = data.draw(st.integers(0, served))
    found = hit("queue_overtime", facts(queue=QueueStats(served, over)))
    if found is not None:
        assert f"（{over}/{served} 人）" in found.explanation_zh
        assert over / served > 0.05 and served >= 100


def test_decision_to_dict_is_plain_data():
    """Can a decision be stored as JSON as is?"""
    decision = evaluate_unit(facts(independent_checks=LOW), DEFAULT_RULE_SET)
    assert isinstance(decision, Decision)
    data = decision.to_dict()
    assert data["action"] == "enter"
    assert data["hits"][0]["figures"]["mean"] == 50


def test_unknown_rule_key_is_refused():
    """Is an unknown rule key a Chinese error rather than a KeyError?"""
    with pytest.raises(WatchlistError, match="未知的名单规则"):
        get_rule("nope")


def test_evaluate_all_sorts_mixed_ids():
    """Are numeric ids in numeric order and text ids after them?"""
    decisions = evaluate_all([facts(10), facts(9), facts("b"), facts("a")], DEFAULT_RULE_SET, {})
    assert [d.unit_id for d in decisions] == [9, 10, "a", "b"]


# -- the way off the list ------------------------------------------------------------------------


@pytest.mark.parametrize("independent,overdue,hits,steps", [
    ([check(1, 50)], 0, {"low_independent_score"},
     ["须不再命中名单规则", "还需 2 次 ≥80 分的独立检查"]),  # none since listing (day 5)
    ([check(1, 50), check(10, 95)], 0, set(),
     ["还需 1 次 ≥80 分的独立检查（已连续 1 次达标）"]),
    ([check(1, 50), check(10, 74.42), check(20, 74.14)], 0, set(),
     ["还需 2 次 ≥80 分的独立检查（入列后最近：74.42、74.14 分）"]),
    ([check(1, 50), check(10, 95), check(20, 79)], 3, set(),
     ["还需 2 次 ≥80 分的独立检查（入列后最近：95、79 分）", "还需完成 3 项逾期整改"]),
    ([check(1, 50), check(10, 85), check(20, 90)], 0, set(), []),
])
def test_exit_progress_says_what_is_left_to_do(independent, overdue, hits, steps):
    """Does a listed unit's progress say what it still needs to leave — in a row since it was
    listed, the overdue items, and whether rules still hit — and nothing once it may leave?"""
    f = facts(independent_checks=independent, open_items=10, overdue_items=overdue)
    found = [h for h in evaluate_unit(f, DEFAULT_RULE_SET, LISTED).hits
             if h.rule_key in hits]
    progress = exit_progress(f, DEFAULT_RULE_SET.exit, LISTED.entered_at, found)
    assert say_progress(progress) == steps
    assert progress["rules"] == sorted(hits)


def test_exit_progress_in_another_language_counts_in_the_plural():
    """Said through gettext/ngettext, is one check singular and two plural?"""
    progress = {"needed": 2, "score": 80, "passing": 1, "totals": [95],
                "require_nothing_overdue": True, "overdue": 2, "rules": []}
    english = {"还需 %(num)s 次 ≥%(score)s 分的独立检查": ("{num} more check at {score}",
                                                   "{num} more checks at {score}"),
               "（已连续 %(num)s 次达标）": (" ({num} passed)", " ({num} passed)"),
               "还需完成 %(num)s 项逾期整改": ("{num} overdue item", "{num} overdue items")}

    def ngettext(singular, plural, num, **values):
        one, many = english[singular]
        return (one if num == 1 else many).format(num=num, **values)

    assert say_progress(progress, lambda text, **v: text % v, ngettext) == [
        "1 more check at 80 (1 passed)", "2 overdue items"]


@fast
@given(unit_facts(), st.booleans())
def test_nothing_left_to_do_exactly_when_the_exit_policy_holds(f, still_hits):
    """Is a unit's progress empty exactly when :func:`exit_shortfalls` finds nothing and no
    rule hits — so the page never says "nothing left" of a unit the next evaluation keeps?"""
    entered = D0 + timedelta(days=20)
    hits = evaluate_unit(f, DEFAULT_RULE_SET, None).hits if still_hits else ()
    progress = exit_progress(f, DEFAULT_RULE_SET.exit, entered, hits)
    shortfalls, _ = exit_shortfalls(f, DEFAULT_RULE_SET.exit, entered)
    assert (say_progress(progress) == []) == (not shortfalls and not hits)
