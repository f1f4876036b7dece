"""Period scores: per-mode means, the weighted combination and the self-check gap."""
import datetime as dt
from decimal import Decimal

import pytest

from inspect_app.scoring import ScoringError, ScoringRules, period_score


def record(mode, total, date="2026-03-01"):
    """A finished inspection as the period score reads it."""
    return {"mode": mode, "total": total, "date": date}


def test_each_mode_is_reported_separately():
    """Are mean and count given for each mode, including modes with no inspections?"""
    result = period_score([record("self_check", 90), record("self_check", 100),
                           record("spot_check", 70)])
    assert (result.mode("self_check").count, result.mode("self_check").mean) == (2, 95)
    assert (result.mode("spot_check").count, result.mode("spot_check").mean) == (1, 70)
    assert (result.mode("peer_check").count, result.mode("peer_check").mean) == (0, None)
    assert [m.mode for m in result.modes] == [
        "self_check", "peer_check", "spot_check", "mystery_visit"]


def test_independent_checks_weigh_twice_a_self_check_by_default():
    """Is the combined score the mode means weighted 1 (self) to 2 (independent)?"""
    result = period_score([record("self_check", 100), record("mystery_visit", 70)])
    assert result.combined == Decimal("80.00")
    assert (result.grade, result.grade_key) == ("良好", "good")


def test_custom_mode_weights_change_the_combination():
    """Do rule mode weights decide how much each mode counts, with weight 0 left out?"""
    rules = ScoringRules.from_dict({"version": "t", "mode_weights": {"self_check": 0}})
    inspections = [record("self_check", 100), record("peer_check", 60), record("spot_check", 80)]
    assert period_score(inspections, rules).combined == Decimal("70.00")
    only_self = period_score([record("self_check", 100)], rules)
    assert only_self.combined is None and only_self.grade is None


def test_mode_means_not_inspections_are_weighted():
    """Do many self-checks not drown out one independent check?"""
    inspections = [record("self_check", 100)] * 10 + [record("spot_check", 40)]
    assert period_score(inspections).combined == Decimal("60.00")


def test_inflated_self_check_shows_as_a_positive_gap():
    """Is the self-check mean minus the pooled independent mean reported?"""
    result = period_score([record("self_check", 98), record("peer_check", 70),
                           record("mystery_visit", 60), record("mystery_visit", 80)])
    assert result.independent_mean == Decimal("70.00")
    assert result.self_vs_independent_gap == Decimal("28.00")


def test_gap_is_none_without_both_sides():
    """Is the gap None when either self-checks or independent checks are missing?"""
    assert period_score([record("self_check", 90)]).self_vs_independent_gap is None
    assert period_score([record("spot_check", 90)]).self_vs_independent_gap is None


def test_empty_period_has_no_score():
    """Does a period without inspections have no combined score, grade or dates?"""
    result = period_score([])
    assert (result.combined, result.grade, result.count, result.first_date) == (None, None, 0, None)


def test_unscored_inspections_are_counted_but_not_averaged():
    """Are all-N.A. inspections (total None) left out of the means but counted?"""
    result = period_score([record("spot_check", None), record("spot_check", 80)])
    assert (result.count, result.unscored, result.mode("spot_check").mean) == (1, 1, 80)


def test_date_window_filters_inspections():
    """Do start and end (inclusive) keep only the inspections in the period?"""
    inspections = [record("spot_check", 50, "2026-01-31"), record("spot_check", 80, "2026-02-01"),
                   record("spot_check", 90, dt.date(2026, 2, 28)),
                   record("spot_check", 10, dt.datetime(2026, 3, 1, 9, 30))]
    result = period_score(inspections, start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 28))
    assert result.combined == Decimal("85.00")
    assert (result.first_date, result.last_date) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))


@pytest.mark.parametrize(("bad", "message"), [
    (record("audit", 80), "未知的检查方式：audit"),
    (record("spot_check", 120), "检查得分（total）必须是 0 到 100 之间的数字"),
    (record("spot_check", 80, "yesterday"), "检查日期（date）必须是 YYYY-MM-DD 格式的日期"),
])
def test_bad_records_are_refused(bad, message):
    """Are unknown modes, out-of-range totals and bad dates refused in Chinese?"""
    with pytest.raises(ScoringError) as caught:
        period_score([bad])
    assert message in caught.value.messages


def test_period_to_dict_is_plain_data():
    """Does to_dict give floats and ISO dates?"""
    data = period_score([record("self_check", 90), record("spot_check", 75.5)]).to_dict()
    assert data["combined"] == 80.33
    assert data["self_vs_independent_gap"] == 14.5
    assert data["first_date"] == "2026-03-01"
    assert data["modes"][0] == {"mode": "self_check", "label_zh": "自查", "count": 1,
                                "mean": 90.0, "weight": 1.0}


def test_combined_mean_rounds_half_up_like_the_period_score():
    """Do per-mode means combined elsewhere (the dashboards' SQL sums) round a combined score
    of exactly x.xx5 half up, as :func:`period_score` does — 97.01, not the 97.00 a binary
    float's ``round`` gives?"""
    from fractions import Fraction

    from inspect_app.scoring import DEFAULT_RULES, combined_mean

    means = {"peer_check": Fraction(9700, 100), "spot_check": Fraction(9701, 100)}
    engine = period_score([record("peer_check", Decimal("97.00")),
                           record("spot_check", Decimal("97.01"))])
    assert engine.combined == Decimal("97.01")
    assert combined_mean(means, DEFAULT_RULES.mode_weights) == 97.01
    assert combined_mean({"spot_check": 97.005}, DEFAULT_RULES.mode_weights) == 97.01
