"""Section weights (分区权重): a checklist whose sections carry weights combines the sections'
percentages by those weights instead of adding up the items' points."""
import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_app.scoring import ScoringError, ScoringRules, score_inspection, total_percent

#: The reviewer's mystery visit: ENV 100 %, EFF 68.75 %, NORM 95.35 %, WARM 96 %, O2O 100 %.
SECTIONS = {"ENV": (20, 20), "EFF": (16, 11), "NORM": (43, 41), "WARM": (25, 24),
            "O2O": (12, 12)}


def visit():
    """Items and answers giving the sections above: (possible, earned) points each."""
    items, answers = [], {}
    for section, (possible, earned) in SECTIONS.items():
        items.append({"code": f"{section}-01", "section": section, "weight": earned,
                      "response_type": "pass_fail"})
        answers[f"{section}-01"] = {"value": "pass"}
        if possible > earned:
            items.append({"code": f"{section}-02", "section": section,
                          "weight": possible - earned, "response_type": "pass_fail"})
            answers[f"{section}-02"] = {"value": "fail"}
    return items, answers


def test_equal_section_weights_make_the_mean_of_the_section_percentages():
    """With five sections weighing 20 each, is the total the mean of the five section
    percentages (92.02), not the raw points 108/116 (93.10)?"""
    items, answers = visit()
    by_points = score_inspection(items, answers)
    assert by_points.total == Decimal("93.10")
    weighted = score_inspection(items, answers, section_weights={s: 20 for s in SECTIONS})
    assert [s.percent for s in weighted.sections] == [
        Decimal("100.00"), Decimal("68.75"), Decimal("95.35"), Decimal("96.00"),
        Decimal("100.00")]
    assert weighted.total == Decimal("92.02")
    assert weighted.grade == "优秀"
    # the raw points are still reported as they are
    assert (weighted.earned, weighted.possible) == (Decimal("108.00"), Decimal("116.00"))


def test_unequal_section_weights_weigh_the_sections():
    """Does a section weighing 40 count four times as much as one weighing 10?"""
    items, answers = visit()
    weights = {"ENV": 10, "EFF": 40, "NORM": 20, "WARM": 20, "O2O": 10}
    score = score_inspection(items, answers, section_weights=weights)
    exact = sum(Fraction(weights[s]) * Fraction(earned, possible) * 100
                for s, (possible, earned) in SECTIONS.items()) / 100
    assert score.total == Decimal("85.77") and abs(Fraction(score.total) - exact) < Fraction(1, 200)
    assert [s.weight for s in score.sections] == [10, 40, 20, 20, 10]


def test_a_section_with_nothing_to_score_leaves_the_weighted_denominator():
    """A section whose items are all N.A.: is it left out of the weights, as an N.A. item is
    left out of the points, instead of counting as 0 %?"""
    items, answers = visit()
    answers.update({"EFF-01": {"value": "na"}, "EFF-02": {"value": "na"}})
    weights = {s: 20 for s in SECTIONS}
    score = score_inspection(items, answers, section_weights=weights)
    assert score.sections[1].percent is None
    exact = (100 + Fraction(41, 43) * 100 + 96 + 100) / 4
    assert abs(Fraction(score.total) - exact) < Fraction(1, 200)
    assert score.total == Decimal("97.84")


def test_sections_the_mode_does_not_hold_leave_the_weighted_denominator():
    """A self-check form without the mystery-only section: do the other sections share the
    total, by their own weights?"""
    items = [{"code": "ENV-01", "section": "ENV", "weight": 2, "response_type": "pass_fail"},
             {"code": "EFF-01", "section": "EFF", "weight": 2, "response_type": "pass_fail",
              "modes": ["mystery_visit"]}]
    score = score_inspection(items, {"ENV-01": {"value": "pass"}}, mode="self_check",
                             section_weights={"ENV": 30, "EFF": 70})
    assert score.total == 100 and [s.section for s in score.sections] == ["ENV"]


def test_everything_na_still_has_no_total_with_weights():
    """Is an inspection where everything is N.A. still unscored when sections are weighted?"""
    items, answers = visit()
    answers = {code: {"value": "na"} for code in answers}
    score = score_inspection(items, answers, section_weights={s: 20 for s in SECTIONS})
    assert score.total is None and score.grade is None


def test_the_red_line_rule_applies_to_the_weighted_total():
    """Is the weighted total what the red-line cap limits, and reported as the figure before
    the cap?"""
    items, answers = visit()
    items.append({"code": "NORM-RL", "section": "NORM", "weight": 1,
                  "response_type": "pass_fail", "red_line": True})
    answers["NORM-RL"] = {"value": "fail"}
    weights = {s: 20 for s in SECTIONS}
    score = score_inspection(items, answers, section_weights=weights)
    norm = Fraction(41, 44) * 100
    before = (100 + Fraction(11, 16) * 100 + norm + 96 + 100) / 5
    assert score.red_line_applied.total_before == Decimal("91.59")
    assert abs(Fraction(score.red_line_applied.total_before) - before) < Fraction(1, 200)
    assert score.total == Decimal("59.00")
    failing = ScoringRules.from_dict({"version": "t", "red_line": {"mode": "fail"}})
    assert score_inspection(items, answers, failing, section_weights=weights).total == 0


def test_without_section_weights_nothing_changes():
    """No weights, or none given: is the total the items' points, as before?"""
    items, answers = visit()
    plain = score_inspection(items, answers)
    for none in (None, {}):
        score = score_inspection(items, answers, section_weights=none)
        assert score.total == plain.total == Decimal("93.10")
        assert all(s.weight is None for s in score.sections)
        assert score.to_dict()["section_weights"] is None


def test_a_section_the_weights_leave_out_is_refused():
    """Weights for some sections only: is that refused, naming the section, rather than
    scoring it somehow?"""
    items, answers = visit()
    with pytest.raises(ScoringError, match="O2O"):
        score_inspection(items, answers, section_weights={"ENV": 25, "EFF": 25, "NORM": 25,
                                                          "WARM": 25})
    with pytest.raises(ScoringError, match="ENV"):
        score_inspection(items, answers, section_weights={**{s: 20 for s in SECTIONS},
                                                          "ENV": 0})


def test_the_result_says_which_weights_it_used():
    """Do the sections and the plain data carry the weights, for the result page and for a
    later re-score?"""
    items, answers = visit()
    score = score_inspection(items, answers, section_weights={s: 20 for s in SECTIONS})
    data = json.loads(json.dumps(score.to_dict()))
    assert data["section_weights"] == {s: 20 for s in SECTIONS}
    assert data["sections"][1] == {"section": "EFF", "earned": 11, "possible": 16,
                                   "percent": 68.75, "weight": 20}


def test_total_percent_is_what_bulk_writers_use():
    """Does the helper the demo history uses give the engine's exact total?"""
    totals = {s: (Fraction(earned), Fraction(possible)) for s, (possible, earned)
              in SECTIONS.items()}
    assert total_percent(totals) == Fraction(108, 116) * 100
    equal = total_percent(totals, {s: 20 for s in SECTIONS})
    items, answers = visit()
    assert score_inspection(items, answers, section_weights={s: 20 for s in SECTIONS}).total \
        == Decimal("92.02")
    assert abs(equal - Fraction("92.02")) < Fraction(1, 200)
    assert total_percent({"ENV": (Fraction(0), Fraction(0))}, {"ENV": 100}) is None


fast = settings(max_examples=80, deadline=None, database=None)


@fast
@given(st.lists(st.tuples(st.integers(1, 20), st.integers(0, 20), st.integers(1, 50)),
                min_size=1, max_size=5))
def test_a_weighted_total_lies_between_the_lowest_and_highest_section(sections):
    """Whatever the weights, is the weighted total never below the worst section nor above the
    best one?"""
    items, answers, weights = [], {}, {}
    for number, (possible, earned, weight) in enumerate(sections):
        earned = min(earned, possible)
        code = f"S{number}"
        weights[code] = weight
        items.append({"code": f"{code}-01", "section": code, "weight": possible,
                      "response_type": "deduction"})
        answers[f"{code}-01"] = {"value": possible - earned, "note": "扣分"}
    score = score_inspection(items, answers, section_weights=weights)
    percents = [s.percent for s in score.sections]
    assert min(percents) <= score.total <= max(percents)
