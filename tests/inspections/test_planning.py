"""Tests for the pure planners: peer pairing (互查), spot checks (抽查), mystery visits, self-checks.

The peer-pairing rules are checked by hand here, independently of ``validate_peer_plan``, and
tiny structures are compared against a brute force over every possible assignment.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_app.inspections.planning import (
    PROBLEM_CODES,
    MysteryShopper,
    MysteryVisit,
    PastPair,
    PeerAssignment,
    PeerOutlet,
    PeerPlan,
    PeerTeam,
    PlanningError,
    PlanningInfeasible,
    SpotCheckCandidate,
    SpotCheckDraw,
    SpotCheckWeights,
    check_mystery_visit,
    draw_spot_check_sample,
    pair_peer_checks,
    peer_pair_problems,
    pick_shopper,
    reproduce,
    self_check_cycles,
    validate_peer_plan,
)

PROPERTY = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

TANGSHAN = ["路北", "路南", "开平", "丰南", "丰润", "古冶", "迁安", "遵化", "滦州", "玉田",
            "曹妃甸", "高新"]


# --------------------------------------------------------------------------------------------
# Peer pairing: generated structures and hand-written rule checks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    teams: list[PeerTeam]
    outlets: list[PeerOutlet]
    history: list[PastPair]
    no_repeat_cycles: int
    seed: int

    def plan(self, **overrides) -> PeerPlan:
        kwargs = dict(seed=self.seed, history=self.history, no_repeat_cycles=self.no_repeat_cycles)
        return pair_peer_checks(self.teams, self.outlets, **(kwargs | overrides))

    def recent_pairs(self) -> set[tuple[str, str]]:
        current = max((h.cycle_index for h in self.history), default=-1) + 1
        return {(h.inspecting_subbranch_id, h.inspected_subbranch_id) for h in self.history
                if h.cycle_index >= current - self.no_repeat_cycles}


@st.composite
def scenarios(draw, max_subbranches: int = 6, max_teams: int = 3, max_outlets: int = 6,
              max_history: int = 8) -> Scenario:
    """Random sub-branches with 0..max teams and outlets each, and a random pair history."""
    count = draw(st.integers(1, max_subbranches))
    names = [f"S{i}" for i in range(count)]
    teams, outlets = [], []
    for name in names:
        teams += [PeerTeam(f"{name}-T{k}", name) for k in range(draw(st.integers(0, max_teams)))]
        outlets += [PeerOutlet(f"{name}-O{k}", name)
                    for k in range(draw(st.integers(0, max_outlets)))]
    history = draw(st.lists(st.builds(PastPair, st.integers(0, 4), st.sampled_from(names),
                                      st.sampled_from(names)), max_size=max_history))
    return Scenario(teams, outlets, history, draw(st.integers(0, 3)), draw(st.integers(0, 2**32)))


@st.composite
def tiny_scenarios(draw) -> Scenario:
    """Structures small enough to try every assignment of outlets to teams."""
    scenario = draw(scenarios(max_subbranches=4, max_teams=2, max_outlets=3, max_history=5))
    teams, outlets = scenario.teams[:3], scenario.outlets[:5]
    return Scenario(teams, outlets, scenario.history, scenario.no_repeat_cycles, scenario.seed)


def used_pairs(plan: PeerPlan) -> set[tuple[str, str]]:
    return {(a.inspecting_subbranch_id, a.inspected_subbranch_id) for a in plan.assignments}


def loads(plan: PeerPlan, teams: list[PeerTeam]) -> list[int]:
    counted = Counter(a.team_id for a in plan.assignments)
    return [counted[t.id] for t in teams]


def breaks_a_rule(assignments: list[PeerAssignment], scenario: Scenario) -> bool:
    """Independent check of every rule, used by the brute force."""
    team_sb = {t.id: t.subbranch_id for t in scenario.teams}
    pairs = {(team_sb[a.team_id], a.inspected_subbranch_id) for a in assignments}
    counted = Counter(a.team_id for a in assignments)
    team_loads = [counted[t.id] for t in scenario.teams]
    return (any(a == b or (b, a) in pairs for a, b in pairs)
            or bool(pairs & scenario.recent_pairs())
            or (bool(team_loads) and max(team_loads) - min(team_loads) > 1))


@given(scenarios())
@PROPERTY
def test_no_team_inspects_its_own_subbranch(scenario):
    """Does every team inspect only outlets of other sub-branches?"""
    plan = scenario.plan()
    team_sb = {t.id: t.subbranch_id for t in scenario.teams}
    outlet_sb = {o.id: o.subbranch_id for o in scenario.outlets}
    for a in plan.assignments:
        assert team_sb[a.team_id] != outlet_sb[a.outlet_id]
        assert (a.inspecting_subbranch_id, a.inspected_subbranch_id) == (
            team_sb[a.team_id], outlet_sb[a.outlet_id])


@given(scenarios())
@PROPERTY
def test_no_reciprocal_subbranch_pair_in_one_cycle(scenario):
    """If A inspects B in a plan, is B kept from inspecting A in the same cycle?"""
    pairs = used_pairs(scenario.plan())
    assert not {(b, a) for a, b in pairs} & pairs


@given(scenarios())
@PROPERTY
def test_pairs_used_in_recent_cycles_are_not_repeated(scenario):
    """Is a directed pair from the last ``no_repeat_cycles`` cycles left out of the plan?"""
    assert not used_pairs(scenario.plan()) & scenario.recent_pairs()


@given(scenarios())
@PROPERTY
def test_every_outlet_is_assigned_exactly_once_when_ok(scenario):
    """Does an ok plan give every outlet in scope exactly one team?"""
    plan = scenario.plan()
    if plan.ok:
        assert sorted(a.outlet_id for a in plan.assignments) == sorted(
            o.id for o in scenario.outlets)


@given(scenarios())
@PROPERTY
def test_team_loads_differ_by_at_most_one_when_ok(scenario):
    """Do the busiest and the idlest team differ by at most one outlet in an ok plan?"""
    plan = scenario.plan()
    team_loads = loads(plan, scenario.teams)
    if plan.ok and team_loads:
        assert max(team_loads) - min(team_loads) <= 1


@given(scenarios())
@PROPERTY
def test_same_seed_gives_the_identical_plan(scenario):
    """Does planning twice with the same inputs and seed give exactly the same plan?"""
    assert scenario.plan() == scenario.plan()


@given(scenarios(), st.randoms(use_true_random=False))
@PROPERTY
def test_input_order_does_not_change_the_plan(scenario, shuffler):
    """Does a plan depend only on the data, not on the order rows came out of the database?"""
    teams, outlets = list(scenario.teams), list(scenario.outlets)
    shuffler.shuffle(teams)
    shuffler.shuffle(outlets)
    assert pair_peer_checks(teams, outlets, seed=scenario.seed, history=scenario.history,
                            no_repeat_cycles=scenario.no_repeat_cycles) == scenario.plan()


@given(scenarios())
@PROPERTY
def test_infeasible_plan_explains_itself_and_assigns_nothing(scenario):
    """When the rules cannot all hold, are there Chinese problems and no assignments at all?"""
    plan = scenario.plan()
    if plan.ok:
        assert plan.problems == ()
    else:
        assert plan.problems and plan.assignments == () and plan.subbranch_pairs == ()
        for problem in plan.problems:
            assert problem.code in PROBLEM_CODES
            assert "支行" in problem.message or "检查组" in problem.message


@given(scenarios())
@PROPERTY
def test_ok_plan_passes_the_validator_and_summarises_its_pairs(scenario):
    """Does an ok plan pass ``validate_peer_plan``, and do its pair counts add up?"""
    plan = scenario.plan()
    if not plan.ok:
        return
    assert validate_peer_plan(plan.assignments, scenario.teams, scenario.outlets,
                              history=scenario.history,
                              no_repeat_cycles=scenario.no_repeat_cycles) == []
    counted = Counter((a.inspecting_subbranch_id, a.inspected_subbranch_id)
                      for a in plan.assignments)
    assert {(p.inspecting_subbranch_id, p.inspected_subbranch_id): p.outlet_count
            for p in plan.subbranch_pairs} == counted


@given(scenarios(), st.integers(0, 2**16), st.integers(0, 2**16))
@PROPERTY
def test_a_reassignment_is_refused_exactly_when_the_edited_plan_breaks_a_pairing_rule(
        scenario, which, to):
    """Giving one outlet of an ok plan to another team (改派): does ``peer_pair_problems``
    find the same broken rules (own sub-branch, a swap in the cycle, a recent pair) as
    ``validate_peer_plan`` finds in the plan so edited?"""
    plan = scenario.plan()
    if not plan.ok or not plan.assignments:
        return
    moved = plan.assignments[which % len(plan.assignments)]
    team = scenario.teams[to % len(scenario.teams)]
    rest = [a for a in plan.assignments if a is not moved]
    edited = [*rest, PeerAssignment(team.id, moved.outlet_id, team.subbranch_id,
                                    moved.inspected_subbranch_id)]
    rules = {"own_subbranch", "reciprocal_pair", "recent_pair"}
    expected = {p.code for p in validate_peer_plan(
        edited, scenario.teams, scenario.outlets, history=scenario.history,
        no_repeat_cycles=scenario.no_repeat_cycles) if p.code in rules}
    if "own_subbranch" in expected:
        # a team of the outlet's own sub-branch is refused for that alone: whether that
        # "pair" was recent or reciprocal says nothing more (the validator still lists both)
        expected = {"own_subbranch"}
    found = peer_pair_problems(
        team.subbranch_id, moved.inspected_subbranch_id,
        cycle_pairs={(a.inspecting_subbranch_id, a.inspected_subbranch_id) for a in rest},
        history=scenario.history, no_repeat_cycles=scenario.no_repeat_cycles)
    assert {p.code for p in found} == expected
    assert all(p.message for p in found)


@given(tiny_scenarios())
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_plan_is_found_exactly_when_one_exists(scenario):
    """On tiny structures, is a plan found exactly when some assignment meets every rule?"""
    teams, outlets = scenario.teams, scenario.outlets
    team_sb = {t.id: t.subbranch_id for t in teams}
    exists = any(
        not breaks_a_rule([PeerAssignment(t, o.id, team_sb[t], o.subbranch_id)
                           for t, o in zip(choice, outlets)], scenario)
        for choice in product([t.id for t in teams], repeat=len(outlets)))
    assert scenario.plan().ok == exists


@given(scenarios(max_subbranches=8), st.integers(1, 4))
@PROPERTY
def test_outlets_per_team_cap_is_respected_or_reported(scenario, cap):
    """With a per-team cap, is it either respected or reported as a problem?"""
    plan = scenario.plan(outlets_per_team=cap)
    if plan.ok:
        assert max(loads(plan, scenario.teams), default=0) <= cap
    elif scenario.teams and len(scenario.outlets) > cap * len(scenario.teams):
        assert [p.code for p in plan.problems] == ["team_capacity_exceeded"]


@given(scenarios(max_subbranches=8, max_history=0), st.integers(1, 2))
@PROPERTY
def test_consecutive_cycles_fed_back_as_history_never_repeat_recent_pairs(scenario, window):
    """Planning cycle after cycle with the previous plans as history, do pairs rotate?"""
    history: list[PastPair] = []
    for cycle in range(3):
        plan = pair_peer_checks(scenario.teams, scenario.outlets, seed=scenario.seed + cycle,
                                history=history, no_repeat_cycles=window, cycle_index=cycle)
        recent = {(h.inspecting_subbranch_id, h.inspected_subbranch_id) for h in history
                  if h.cycle_index >= cycle - window}
        assert not used_pairs(plan) & recent
        history += plan.history_entries()


# --------------------------------------------------------------------------------------------
# Peer pairing: examples
# --------------------------------------------------------------------------------------------


def tangshan(seed: int) -> tuple[list[PeerTeam], list[PeerOutlet]]:
    """The 12 sub-branches of 唐山分行, 4–10 outlets and 1–2 teams each."""
    shape = random.Random(seed)
    teams, outlets = [], []
    for name in TANGSHAN:
        teams += [PeerTeam(f"{name}检查{k + 1}组", name) for k in range(shape.randint(1, 2))]
        outlets += [PeerOutlet(f"{name}网点{k + 1:02d}", name) for k in range(shape.randint(4, 10))]
    return teams, outlets


def assert_every_rule(plan: PeerPlan, teams, outlets, history=(), no_repeat_cycles=2) -> None:
    assert plan.ok, plan.messages
    assert validate_peer_plan(plan.assignments, teams, outlets, history=history,
                              no_repeat_cycles=no_repeat_cycles) == []


@pytest.mark.parametrize("seed", range(5))
def test_tangshan_twelve_subbranches_plan_fine(seed):
    """Do the 12 sub-branches of 唐山分行 get a plan that meets every rule?"""
    teams, outlets = tangshan(seed)
    plan = pair_peer_checks(teams, outlets, seed=seed)
    assert_every_rule(plan, teams, outlets)
    assert len(plan.assignments) == len(outlets)


def test_tangshan_rotates_pairs_over_a_year_of_cycles():
    """Can 唐山分行 plan twelve monthly cycles in a row without repeating a pair within two?"""
    teams, outlets = tangshan(2026)
    history: list[PastPair] = []
    for month in range(12):
        plan = pair_peer_checks(teams, outlets, seed=month, history=history, cycle_index=month)
        assert_every_rule(plan, teams, outlets, history)
        history += plan.history_entries()


def test_two_subbranches_cannot_be_paired_and_say_why():
    """With only 路北 and 路南, is the plan refused with a message naming the reciprocal rule?"""
    teams = [PeerTeam("t1", "lb"), PeerTeam("t2", "ln")]
    outlets = [PeerOutlet("o1", "lb"), PeerOutlet("o2", "ln")]
    plan = pair_peer_checks(teams, outlets, seed=1, subbranch_names={"lb": "路北", "ln": "路南"})
    assert not plan.ok and plan.assignments == ()
    assert [p.code for p in plan.problems] == ["reciprocal_forced"]
    assert "路北支行与路南支行只能互相检查" in plan.messages[0]
    assert "不允许互查" in plan.messages[0]


def test_raise_if_infeasible_carries_the_problems():
    """Can a caller who prefers exceptions get ``PlanningInfeasible`` with the same problems?"""
    plan = pair_peer_checks([PeerTeam("t1", "A"), PeerTeam("t2", "B")],
                            [PeerOutlet("o1", "A"), PeerOutlet("o2", "B")], seed=0)
    with pytest.raises(PlanningInfeasible) as caught:
        plan.raise_if_infeasible()
    assert caught.value.problems == list(plan.problems)
    assert "互查" in str(caught.value)


def test_history_blocks_a_pair():
    """If A inspected B last cycle, does this cycle's plan use the only other ring A→C→B→A?"""
    teams = [PeerTeam(sb, sb) for sb in "ABC"]
    outlets = [PeerOutlet(f"{sb}{k}", sb) for sb in "ABC" for k in range(3)]
    for seed in range(10):
        plan = pair_peer_checks(teams, outlets, seed=seed, history=[PastPair(5, "A", "B")])
        assert plan.ok and plan.cycle_index == 6
        assert used_pairs(plan) == {("A", "C"), ("C", "B"), ("B", "A")}


def test_history_older_than_the_window_no_longer_blocks():
    """Are pairs from cycles before the last ``no_repeat_cycles`` usable again?"""
    teams = [PeerTeam(sb, sb) for sb in "ABC"]
    outlets = [PeerOutlet(f"{sb}{k}", sb) for sb in "ABC" for k in range(3)]
    history = [PastPair(0, "A", "C"), PastPair(0, "C", "B"), PastPair(0, "B", "A"),
               PastPair(3, "A", "B")]
    plan = pair_peer_checks(teams, outlets, seed=0, history=history, no_repeat_cycles=2)
    assert used_pairs(plan) == {("A", "C"), ("C", "B"), ("B", "A")}
    blocked = pair_peer_checks(teams, outlets, seed=0, history=history, no_repeat_cycles=4)
    assert not blocked.ok


def test_subbranch_nobody_may_inspect_is_named():
    """When every other sub-branch inspected 丰南 recently, does the problem name 丰南?"""
    teams = [PeerTeam(sb, sb) for sb in ("路北", "路南", "丰南")]
    outlets = [PeerOutlet(f"{sb}{k}", sb) for sb in ("路北", "路南", "丰南") for k in range(2)]
    history = [PastPair(0, "路北", "丰南"), PastPair(1, "路南", "丰南")]
    plan = pair_peer_checks(teams, outlets, seed=0, history=history)
    assert not plan.ok
    problem = next(p for p in plan.problems if p.code == "no_inspector_for_subbranch")
    assert problem.subbranch_ids == ("丰南",)
    assert problem.message.startswith("丰南支行的 2 个网点无法分配")
    assert "最近 2 轮内已检查过该支行" in problem.message


def test_outlets_without_any_team_are_reported():
    """With outlets but no inspection team at all, is that said plainly?"""
    plan = pair_peer_checks([], [PeerOutlet("o1", "A")], seed=0)
    assert [p.code for p in plan.problems] == ["no_teams"]


def test_nothing_to_inspect_is_an_empty_ok_plan():
    """With no outlets in scope, is the plan simply empty and ok?"""
    plan = pair_peer_checks([PeerTeam("t", "A")], [], seed=0)
    assert plan.ok and plan.assignments == ()


def test_unbalanceable_loads_are_reported_not_ignored():
    """If the rules hold only with uneven loads, is load balance reported as the problem?"""
    # B's two teams must each take a few outlets, but may only inspect A's single outlet.
    teams = [PeerTeam("a1", "A"), PeerTeam("b1", "B"), PeerTeam("b2", "B")]
    outlets = [PeerOutlet("a-1", "A")] + [PeerOutlet(f"c-{k}", "C") for k in range(5)]
    plan = pair_peer_checks(teams, outlets, seed=0, history=[PastPair(0, "B", "C")])
    assert not plan.ok
    assert [p.code for p in plan.problems] == ["load_balance_impossible"]
    assert "相差不超过 1" in plan.messages[0]


def test_duplicate_ids_are_refused():
    """Are two outlets with the same id refused instead of silently merged?"""
    with pytest.raises(PlanningError, match="网点编号重复"):
        pair_peer_checks([PeerTeam("t", "A")], [PeerOutlet("o", "B"), PeerOutlet("o", "C")],
                         seed=0)


def test_validator_catches_a_hand_edited_plan():
    """Does ``validate_peer_plan`` name self-inspection, reciprocity, repeats and gaps?"""
    teams = [PeerTeam("ta", "A"), PeerTeam("tb", "B")]
    outlets = [PeerOutlet("a1", "A"), PeerOutlet("b1", "B"), PeerOutlet("b2", "B")]
    edited = [PeerAssignment("ta", "a1", "A", "A"), PeerAssignment("ta", "b1", "A", "B"),
              PeerAssignment("tb", "a1", "B", "A"), PeerAssignment("ta", "b1", "A", "B")]
    codes = {p.code for p in validate_peer_plan(edited, teams, outlets,
                                                history=[PastPair(0, "A", "B")])}
    assert codes >= {"own_subbranch", "reciprocal_pair", "recent_pair", "outlet_unassigned",
                     "outlet_assigned_twice", "load_unbalanced"}


def test_national_tree_of_1600_subbranches_plans():
    """Does a national bank (1,600 sub-branches × 10 outlets, recent history) plan in seconds?"""
    shape = random.Random(7)
    teams = [PeerTeam(f"{sb}-{k}", sb) for sb in range(1600) for k in range(shape.randint(1, 2))]
    outlets = [PeerOutlet(sb * 10 + k, sb) for sb in range(1600) for k in range(10)]
    history = [PastPair(0, sb, (sb + 1) % 1600) for sb in range(1600)]
    plan = pair_peer_checks(teams, outlets, seed=2026, history=history)
    assert_every_rule(plan, teams, outlets, history)
    assert len(plan.assignments) == 16000


# --------------------------------------------------------------------------------------------
# Spot-check sampling
# --------------------------------------------------------------------------------------------

candidates_strategy = st.lists(
    st.builds(SpotCheckCandidate, st.integers(0, 10_000), st.booleans(),
              st.none() | st.floats(0, 100), st.none() | st.integers(0, 1000)),
    min_size=1, max_size=40, unique_by=lambda c: c.outlet_id)


@given(candidates_strategy, st.integers(1, 50), st.integers(0, 2**32))
@PROPERTY
def test_draw_never_duplicates_and_respects_size(candidates, size, seed):
    """Does a draw hold ``min(size, candidates)`` distinct candidate outlets?"""
    draw = draw_spot_check_sample(candidates, size=size, seed=seed)
    assert len(draw.selected_ids) == len(set(draw.selected_ids)) == min(size, len(candidates))
    assert set(draw.selected_ids) <= {c.outlet_id for c in candidates}


@given(candidates_strategy, st.integers(1, 50), st.integers(0, 2**32), st.randoms())
@PROPERTY
def test_stored_draw_reproduces_exactly(candidates, size, seed, shuffler):
    """Does a draw stored as JSON-ready data reproduce the same selection, in any row order?"""
    draw = draw_spot_check_sample(candidates, size=size, seed=seed,
                                  weights=SpotCheckWeights(watch_listed=5.0))
    stored = SpotCheckDraw.from_dict(draw.to_dict())
    reordered = list(candidates)
    shuffler.shuffle(reordered)
    assert reproduce(stored, reordered) == draw


def test_watch_listed_outlets_are_drawn_more_often():
    """Over 2,000 seeded draws, are watch-listed outlets picked far more often than others?"""
    candidates = [SpotCheckCandidate(i, watch_listed=i < 3, recent_score=90.0,
                                     days_since_independent_check=30) for i in range(12)]
    picks = Counter(oid for seed in range(2000)
                    for oid in draw_spot_check_sample(candidates, size=2, seed=seed).selected_ids)
    watched = sum(picks[i] for i in range(3)) / 3
    others = sum(picks[i] for i in range(3, 12)) / 9
    assert watched > 2 * others
    assert min(picks[i] for i in range(3, 12)) > 0  # nobody is excluded from the draw


def test_weights_favour_low_scores_and_long_unchecked_outlets():
    """Do a low score and a long (or never) unchecked period raise an outlet's weight?"""
    weights = SpotCheckWeights(base=1, watch_listed=3, low_score=2, check_age=1, age_cap_days=100)
    good = SpotCheckCandidate("good", recent_score=100, days_since_independent_check=0)
    assert weights.weight_for(good) == 1.0
    assert weights.weight_for(SpotCheckCandidate("x", True, 100, 0)) == 4.0
    assert weights.weight_for(SpotCheckCandidate("x", False, 50, 0)) == 2.0
    assert weights.weight_for(SpotCheckCandidate("x", False, 100, 400)) == 2.0
    assert weights.weight_for(SpotCheckCandidate("never")) == 1 + 2 + 1


def test_draw_records_every_candidate_weight():
    """Does the stored draw keep each candidate's computed weight for the audit?"""
    candidates = [SpotCheckCandidate("a", True), SpotCheckCandidate("b", False, 100, 0)]
    draw = draw_spot_check_sample(candidates, size=1, seed="2026Q4")
    assert draw.candidate_weights == {"a": 7.0, "b": 1.0}
    assert draw.seed == "2026Q4" and draw.size == 1


def test_size_larger_than_candidates_returns_all():
    """Asking for more outlets than there are candidates, are all of them drawn?"""
    candidates = [SpotCheckCandidate(i) for i in range(3)]
    draw = draw_spot_check_sample(candidates, size=10, seed=0)
    assert sorted(draw.selected_ids) == [0, 1, 2] and draw.size == 10


@pytest.mark.parametrize("size", [0, -3])
def test_size_below_one_is_refused_in_chinese(size):
    """Is a sample size of zero or less refused with a Chinese message?"""
    with pytest.raises(PlanningError, match="抽查数量必须为正整数"):
        draw_spot_check_sample([SpotCheckCandidate(1)], size=size, seed=0)


def test_weights_round_trip_and_refuse_nonsense():
    """Do weights survive ``to_dict``/``from_dict``, and are unknown or negative values refused?"""
    weights = SpotCheckWeights(base=0.5, watch_listed=4, age_cap_days=365)
    assert SpotCheckWeights.from_dict(weights.to_dict()) == weights
    with pytest.raises(PlanningError, match="未知的抽查权重项"):
        SpotCheckWeights.from_dict({"luck": 1})
    with pytest.raises(PlanningError, match="不能为负数"):
        SpotCheckWeights(low_score=-1)
    with pytest.raises(PlanningError, match="必须大于 0"):
        SpotCheckWeights(base=0)


# --------------------------------------------------------------------------------------------
# Mystery visits
# --------------------------------------------------------------------------------------------

START = date(2026, 10, 1)


@pytest.mark.parametrize(("days_ago", "allowed"), [(0, False), (1, False), (89, False),
                                                   (90, True), (365, True)])
def test_same_shopper_same_outlet_needs_ninety_days(days_ago, allowed):
    """Is a shopper kept away from an outlet they visited fewer than 90 days before?"""
    history = [MysteryVisit("m1", "o1", START - timedelta(days=days_ago))]
    problems = check_mystery_visit("m1", "o1", START, history, min_days_between=90)
    assert (problems == []) is allowed
    if not allowed:
        assert "需间隔至少 90 天" in problems[0]


def test_other_shoppers_and_other_outlets_are_not_affected():
    """Does a recent visit block only the same shopper at the same outlet?"""
    history = [("m1", "o1", START - timedelta(days=3))]
    assert check_mystery_visit("m2", "o1", START, history) == []
    assert check_mystery_visit("m1", "o2", START, history) == []


def test_already_scheduled_later_visit_also_counts():
    """Is a visit already scheduled shortly after the window also too close?"""
    history = [MysteryVisit("m1", "o1", START + timedelta(days=10))]
    assert "已安排暗访" in check_mystery_visit("m1", "o1", START, history)[0]


def test_configurable_gap():
    """Does ``min_days_between`` change the rule (30 days allows a visit 45 days ago)?"""
    history = [MysteryVisit("m1", "o1", START - timedelta(days=45))]
    assert check_mystery_visit("m1", "o1", START, history, min_days_between=30) == []
    assert check_mystery_visit("m1", "o1", START, history, min_days_between=60)


def test_pick_shopper_skips_recent_visitors_and_prefers_the_lightest_load():
    """Is the least-loaded shopper who has not recently visited the outlet chosen?"""
    shoppers = [MysteryShopper("m1", 0), MysteryShopper("m2", 3), MysteryShopper("m3", 1),
                MysteryShopper("m4", 0, frozenset({"o1"}))]
    history = [MysteryVisit("m1", "o1", START - timedelta(days=20))]
    pick = pick_shopper(shoppers, "o1", START, history, seed=1)
    assert pick.shopper_id == "m3" and pick.reason is None
    assert set(pick.rejected) == {"m1", "m4"}


def test_pick_shopper_is_seeded_among_equal_loads():
    """With equal loads, is the choice random but the same for the same seed?"""
    shoppers = [MysteryShopper(f"m{i}") for i in range(6)]
    picks = {pick_shopper(shoppers, "o1", START, [], seed=s).shopper_id for s in range(40)}
    assert len(picks) > 1
    assert (pick_shopper(shoppers, "o1", START, [], seed=9)
            == pick_shopper(list(reversed(shoppers)), "o1", START, [], seed=9))


def test_pick_shopper_gives_a_reason_when_nobody_is_eligible():
    """When every shopper visited the outlet recently, is the answer None with a reason?"""
    shoppers = [MysteryShopper("m1"), MysteryShopper("m2")]
    history = [MysteryVisit(s.id, "o1", START - timedelta(days=10)) for s in shoppers]
    pick = pick_shopper(shoppers, "o1", START, history, seed=0)
    assert pick.shopper_id is None and "没有符合条件的神秘人" in pick.reason
    assert pick_shopper([], "o1", START, [], seed=0).reason == "没有可安排的神秘人。"


# --------------------------------------------------------------------------------------------
# Self-check cycles
# --------------------------------------------------------------------------------------------


@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(0, 800),
       st.sampled_from(["weekly", "monthly", "quarterly"]))
@PROPERTY
def test_cycles_cover_the_period_exactly(start, length, cycle):
    """Do the cycles tile the period day by day, each inside one calendar week/month/quarter?"""
    end = start + timedelta(days=length)
    cycles = self_check_cycles(start, end, cycle)
    assert cycles[0][0] == start and cycles[-1][1] == end
    for (s1, e1), (s2, _) in zip(cycles, cycles[1:]):
        assert s2 == e1 + timedelta(days=1)
    unit = {"weekly": lambda d: d.isocalendar()[:2], "monthly": lambda d: (d.year, d.month),
            "quarterly": lambda d: (d.year, (d.month - 1) // 3)}[cycle]
    for s, e in cycles:
        assert s <= e and unit(s) == unit(e)


def test_monthly_cycles_are_clipped_to_the_period():
    """Does a mid-month period start and end with partial months?"""
    assert self_check_cycles(date(2026, 1, 15), date(2026, 3, 10)) == [
        (date(2026, 1, 15), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 10))]


def test_weekly_and_quarterly_cycles():
    """Do weekly cycles run Monday–Sunday and quarterly ones follow calendar quarters?"""
    assert self_check_cycles(date(2026, 10, 1), date(2026, 10, 12), "weekly") == [
        (date(2026, 10, 1), date(2026, 10, 4)), (date(2026, 10, 5), date(2026, 10, 11)),
        (date(2026, 10, 12), date(2026, 10, 12))]
    assert self_check_cycles(date(2026, 1, 1), date(2026, 12, 31), "quarterly") == [
        (date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 9, 30)), (date(2026, 10, 1), date(2026, 12, 31))]


def test_bad_cycle_or_period_is_refused():
    """Are an unknown cycle name and an end before the start refused in Chinese?"""
    with pytest.raises(PlanningError, match="不支持的自查周期"):
        self_check_cycles(date(2026, 1, 1), date(2026, 2, 1), "daily")
    with pytest.raises(PlanningError, match="不能早于开始日期"):
        self_check_cycles(date(2026, 2, 1), date(2026, 1, 1))
