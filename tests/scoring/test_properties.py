"""Properties of the scoring engine that must hold for any checklist and answers."""
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_app.scoring import (
    DEFAULT_RULES,
    MODES,
    ChecklistItem,
    ScoringRules,
    get_response_type,
    period_score,
    score_inspection,
)

#: Small, fast and reproducible: no example database written into the repository.
fast = settings(max_examples=80, deadline=None, database=None)

weights = st.integers(0, 2000).map(lambda cents: Decimal(cents) / 100)


@st.composite
def item_and_value(draw, code):
    """One item (of any type) and a valid answer value for it, "na", or None (unanswered)."""
    weight = draw(weights)
    kind = draw(st.sampled_from(["pass_fail", "scale", "number", "deduction", "text"]))
    config: dict = {}
    if kind == "pass_fail":
        values = st.sampled_from(["pass", "fail"])
    elif kind == "scale":
        top = draw(st.integers(1, 5))
        config = {"max": top, "pass_at": draw(st.integers(0, top))}
        values = st.integers(0, top)
    elif kind == "number":
        config = {"limit": draw(st.integers(0, 30)),
                  "direction": draw(st.sampled_from(["max", "min"]))}
        values = st.integers(0, 400).map(lambda tenths: tenths / 10)
    elif kind == "deduction":
        values = st.integers(0, int(weight * 100)).map(lambda cents: Decimal(cents) / 100)
    else:
        values = st.sampled_from(["", "大堂整洁", "na"])
    item = ChecklistItem(code=code, section=draw(st.sampled_from(["ENV", "EFF", "NRM"])),
                         weight=weight, response_type=kind, config=config,
                         red_line=draw(st.booleans()))
    value = draw(st.one_of(st.none(), st.just("na"), values))
    return item, value


@st.composite
def inspections(draw, min_items=1, max_items=8):
    """A checklist and its answers (unanswered items have no entry)."""
    count = draw(st.integers(min_items, max_items))
    pairs = [draw(item_and_value(f"I{n:02d}")) for n in range(count)]
    items = [item for item, _ in pairs]
    answers = {item.code: {"value": value} for item, value in pairs if value is not None}
    return items, answers


@st.composite
def rule_sets(draw):
    """Any valid rule set: red-line mode and cap, 1–4 grade bands, mode weights."""
    mode = draw(st.sampled_from(["cap", "fail"]))
    red_line = {"mode": mode, "cap": draw(st.integers(0, 100))} if mode == "cap" else {"mode": mode}
    lows = draw(st.lists(st.integers(1, 100), max_size=3, unique=True))
    bands = [{"key": f"b{low}", "label": f"{low} 分以上", "min": low} for low in [0, *lows]]
    mode_weights = {mode: draw(st.integers(1, 5)) for mode in MODES}
    return ScoringRules.from_dict({"version": draw(st.sampled_from(["2026.1", "2026.2"])),
                                   "red_line": red_line, "grade_bands": bands,
                                   "mode_weights": mode_weights})


def expected_total(items, answers):
    """Independent oracle: the exact weighted mean of item fractions, or None if nothing counts."""
    earned = possible = Fraction(0)
    for item in items:
        value = answers.get(item.code, {}).get("value")
        kind = get_response_type(item.response_type)
        if not kind.scored:
            continue
        ratio = Fraction(0) if value is None else kind.ratio(value, item.config, weight=item.weight)
        if ratio is not None:
            earned += Fraction(item.weight) * ratio
            possible += Fraction(item.weight)
    return earned / possible * 100 if possible else None


@fast
@given(inspections(), rule_sets())
def test_total_is_always_between_0_and_100(inspection, rules):
    """Whatever the answers and rules, is every percentage within 0–100 (or None)?"""
    score = score_inspection(*inspection, rules)
    assert score.total is None or 0 <= score.total <= 100
    for section in score.sections:
        assert section.percent is None or 0 <= section.percent <= 100
    for item in score.items:
        assert 0 <= item.earned <= item.possible


@fast
@given(inspections())
def test_total_is_the_weighted_mean_of_item_fractions(inspection):
    """Without a red-line failure, is the total exactly the weighted mean, rounded to cents?"""
    items, answers = inspection
    score = score_inspection(items, answers)
    if score.red_line_failures:
        return
    expected = expected_total(items, answers)
    if expected is None:
        assert score.total is None
    else:
        assert abs(Fraction(score.total) - expected) <= Fraction(1, 200)


@fast
@given(inspections(min_items=2), st.data())
def test_marking_an_item_na_is_like_removing_it(inspection, data):
    """Does marking one item N.A. leave every other item's points alone, as if it were removed?"""
    items, answers = inspection
    target = data.draw(st.sampled_from([i for i in items]))
    with_na = score_inspection(items, {**answers, target.code: {"value": "na"}})
    removed = score_inspection([i for i in items if i is not target], answers)
    before = score_inspection(items, answers)

    others = [s for s in with_na.items if s.code != target.code]
    assert [(s.earned, s.possible) for s in others] == [
        (s.earned, s.possible) for s in removed.items]
    assert [(s.earned, s.possible) for s in others] == [
        (s.earned, s.possible) for s in before.items if s.code != target.code]
    assert (with_na.total, with_na.earned, with_na.possible) == (
        removed.total, removed.earned, removed.possible)


@fast
@given(inspections(), st.data(), rule_sets())
def test_turning_a_fail_into_a_pass_never_lowers_the_score(inspection, data, rules):
    """Can correcting one pass/fail item from fail to pass ever lower the total?"""
    items, answers = inspection
    flip = ChecklistItem("FLIP", "ENV", data.draw(weights), red_line=data.draw(st.booleans()))
    failed = score_inspection([*items, flip], {**answers, "FLIP": {"value": "fail"}}, rules)
    passed = score_inspection([*items, flip], {**answers, "FLIP": {"value": "pass"}}, rules)
    if passed.total is None:
        # A zero-point veto with nothing else to score: the fix leaves no score, not a lower one.
        assert failed.possible == 0
    elif failed.total is not None:
        assert passed.total >= failed.total


@fast
@given(inspections(), st.integers(0, 5), st.data())
def test_a_higher_rating_never_lowers_the_score(inspection, low, data):
    """Does raising a scale answer by any amount never lower the total?"""
    items, answers = inspection
    rating = ChecklistItem("RATE", "NRM", data.draw(weights), "scale", {"max": 5})
    high = data.draw(st.integers(low, 5))
    lower = score_inspection([*items, rating], {**answers, "RATE": {"value": low}})
    higher = score_inspection([*items, rating], {**answers, "RATE": {"value": high}})
    if lower.total is not None:
        assert higher.total >= lower.total


@fast
@given(inspections(), weights, st.sampled_from(["cap", "fail"]), st.integers(0, 100))
def test_a_red_line_failure_always_triggers_its_rule(inspection, weight, mode, cap):
    """Does any failed red-line item cap or fail the total, whatever else was answered?"""
    items, answers = inspection
    rule = {"mode": "cap", "cap": cap} if mode == "cap" else {"mode": "fail"}
    rules = ScoringRules.from_dict({"version": "p", "red_line": rule})
    veto = ChecklistItem("VETO", "NRM", weight, red_line=True)
    score = score_inspection([*items, veto], {**answers, "VETO": {"value": "fail"}}, rules)

    assert "VETO" in score.red_line_failures
    assert score.red_line_applied is not None and score.red_line_applied.mode == mode
    assert score.total is not None
    if mode == "cap":
        assert score.total <= cap
        before = score.red_line_applied.total_before
        assert score.total == min(before if before is not None else Decimal(0), Decimal(cap))
    else:
        assert score.total == 0 and score.grade_key == "fail"


@fast
@given(inspections())
def test_grade_always_matches_the_total(inspection):
    """Is the grade the default band of the reported total, and None only without a total?"""
    score = score_inspection(*inspection)
    band = DEFAULT_RULES.grade_for(score.total)
    assert (score.grade, score.grade_key) == ((band.label, band.key) if band else (None, None))


@fast
@given(rule_sets())
def test_any_rule_set_survives_a_json_round_trip(rules):
    """Does every valid rule set come back equal from to_dict/from_dict?"""
    assert ScoringRules.from_dict(rules.to_dict()) == rules


@fast
@given(st.lists(st.tuples(st.sampled_from(MODES), st.integers(0, 10000)), max_size=12),
       rule_sets())
def test_combined_period_score_lies_between_the_mode_means(records, rules):
    """Is the weighted combination never outside the range of the mode means?"""
    inspections_ = [{"mode": mode, "total": Decimal(total) / 100, "date": "2026-04-01"}
                    for mode, total in records]
    result = period_score(inspections_, rules)
    means = [m.mean for m in result.modes if m.mean is not None]
    if means:
        assert min(means) - Decimal("0.01") <= result.combined <= max(means) + Decimal("0.01")
    else:
        assert result.combined is None
