"""Scoring one inspection: weights, N.A., sections, red lines, grades and output shape."""
import json
from decimal import Decimal

import pytest

from inspect_app.scoring import (
    Answer,
    ChecklistItem,
    ScoringError,
    ScoringRules,
    score_inspection,
    validate_answers,
    validate_item,
)


def item(code, weight=1, section="ENV", response_type="pass_fail", **extra):
    """A checklist item dict as stored in checklist JSON."""
    return {"code": code, "section": section, "weight": weight, "response_type": response_type,
            **extra}


def answers(**values):
    """Answers keyed by code; hyphens in codes are written as underscores."""
    return {code.replace("_", "-"): {"value": value} for code, value in values.items()}


def test_weighted_items_make_the_total():
    """Is the total earned points over possible points, as a percentage?"""
    items = [item("A", 3), item("B", 1)]
    score = score_inspection(items, answers(A="pass", B="fail"))
    assert score.earned == Decimal("3.00")
    assert score.possible == Decimal("4.00")
    assert score.total == Decimal("75.00")
    assert score.grade == "合格"
    assert score.failed_items == ("B",)


def test_na_item_leaves_the_denominator():
    """Does an N.A. item count neither as earned nor as possible?"""
    items = [item("A", 3), item("B", 1)]
    score = score_inspection(items, answers(A="pass", B="na"))
    assert score.total == Decimal("100.00")
    b = score.items[1]
    assert (b.na, b.possible, b.earned, b.failed) == (True, 0, 0, False)


def test_unanswered_item_counts_as_possible_with_nothing_earned():
    """Does an unanswered scored item lower the score without becoming a finding?"""
    score = score_inspection([item("A"), item("B")], answers(A="pass"))
    assert score.total == Decimal("50.00")
    assert not score.items[1].answered
    assert score.failed_items == ()


def test_answer_with_null_value_is_unanswered():
    """Is {"value": null} treated like a missing answer (a draft)?"""
    score = score_inspection([item("A")], {"A": {"value": None, "note": "稍后补"}})
    assert score.total == 0
    assert not score.items[0].answered


def test_all_na_has_no_total_and_no_grade():
    """When every item is N.A., is the total None rather than 100?"""
    score = score_inspection([item("A"), item("B")], answers(A="na", B="na"))
    assert score.total is None
    assert score.grade is None and score.grade_key is None
    assert score.sections[0].percent is None
    assert score.nothing_applicable


def test_one_applicable_item_is_something_to_score():
    """Is an inspection with one scored item answered (and a text note) not 'nothing
    applicable', while one whose only non-N.A. answer is a text note is?"""
    note = item("NOTE", response_type="text")
    some = score_inspection([item("A"), item("B"), note], {**answers(A="na", B="pass"),
                                                           "NOTE": {"value": "无"}})
    assert not some.nothing_applicable and some.total == 100
    none = score_inspection([item("A"), item("B"), note], {**answers(A="na", B="na"),
                                                           "NOTE": {"value": "无"}})
    assert none.nothing_applicable


def test_a_form_of_text_items_only_has_nothing_to_score():
    """A form whose only items are text notes (its scored items belong to other modes): is
    that "nothing to score" — while a form with one scored item, even N.A., is not?"""
    note = item("NOTE", response_type="text")
    only_notes = score_inspection([note], {"NOTE": {"value": "大堂整洁"}})
    assert only_notes.nothing_to_score and only_notes.total is None
    assert not score_inspection([item("A"), note], answers(A="na")).nothing_to_score
    assert score_inspection([item("A", modes=["mystery_visit"]), note], {},
                            mode="self_check").nothing_to_score


def test_invalid_text_answer_is_refused():
    """Is a text item answered with a number refused rather than ignored?"""
    with pytest.raises(ScoringError, match="NOTE：请填写文字"):
        score_inspection([item("NOTE", response_type="text")], {"NOTE": {"value": 3}})


def test_answer_that_is_not_an_object_is_refused():
    """Is a bare value instead of {"value": ...} refused, naming the item?"""
    with pytest.raises(ScoringError, match="A：答案必须是包含 value 的键值对"):
        score_inspection([item("A")], {"A": "pass"})


def test_text_items_are_reported_but_never_scored():
    """Does a text item appear in the result without touching the total?"""
    items = [item("A"), item("NOTE", 5, response_type="text")]
    score = score_inspection(items, {"A": {"value": "pass"}, "NOTE": {"value": "大堂整洁"}})
    assert score.total == 100
    assert score.items[1].scored is False and score.items[1].possible == 0


def test_sections_have_their_own_subtotals():
    """Are section subtotals and percentages reported in checklist order?"""
    items = [item("ENV-01", 2), item("EFF-01", 3, section="EFF"), item("ENV-02", 2)]
    score = score_inspection(items, answers(ENV_01="pass", EFF_01="fail", ENV_02="fail"))
    assert [(s.section, s.earned, s.possible, s.percent) for s in score.sections] == [
        ("ENV", 2, 4, Decimal("50.00")), ("EFF", 0, 3, Decimal("0.00"))]


def test_mixed_types_score_together_like_cbss():
    """Do deduction, scale and number items combine into one weighted total?"""
    items = [
        item("M1-01", 3, response_type="deduction"),
        item("M1-02", 4, response_type="scale", config={"max": 4, "pass_at": 3}),
        item("M2-01", 5, section="EFF", response_type="number",
             config={"limit": 15, "unit": "分钟"}),
    ]
    answered = {"M1-01": {"value": 1, "note": "海报未整合"}, "M1-02": {"value": 3},
                "M2-01": {"value": 12}}
    score = score_inspection(items, answered)
    assert [s.earned for s in score.items] == [2, 3, 5]
    assert score.total == Decimal("83.33")
    assert (score.grade, score.grade_key) == ("良好", "good")
    assert score.failed_items == ("M1-01",)


def test_totals_round_half_up_to_two_places():
    """Is 2/3 reported as 66.67 and 1/8 of a point as 0.13 (half up)?"""
    score = score_inspection([item("A", 2), item("B", 1)], answers(A="pass", B="fail"))
    assert score.total == Decimal("66.67")
    scale = item("S", Decimal("0.25"), response_type="scale", config={"max": 2})
    assert score_inspection([scale], answers(S=1)).items[0].earned == Decimal("0.13")


def test_red_line_failure_caps_the_total():
    """Does a failed red-line item cap an otherwise excellent inspection at 59?"""
    items = [item("A", 10), item("B", 90), item("RL", 1, red_line=True)]
    score = score_inspection(items, answers(A="pass", B="pass", RL="fail"))
    assert score.total == Decimal("59.00")
    assert score.grade == "不合格"
    assert score.red_line_failures == ("RL",)
    applied = score.red_line_applied
    assert (applied.mode, applied.cap, applied.total_before, applied.total_after) == (
        "cap", 59, Decimal("99.01"), Decimal("59.00"))


def test_red_line_cap_keeps_a_lower_total():
    """Does the cap leave a total that is already below it?"""
    items = [item("A", 1), item("RL", 1, red_line=True)]
    score = score_inspection(items, answers(A="fail", RL="fail"))
    assert score.total == 0
    assert score.red_line_applied.total_before == 0


def test_red_line_fail_mode_zeroes_the_total():
    """With the "fail" rule, does a red-line failure set the total to 0 and the grade to 不合格?"""
    rules = ScoringRules.from_dict({"version": "t", "red_line": {"mode": "fail"}})
    items = [item("A", 9), item("RL", 1, red_line=True)]
    score = score_inspection(items, answers(A="pass", RL="fail"), rules)
    assert score.total == 0
    assert (score.grade, score.grade_key) == ("不合格", "fail")
    assert score.red_line_applied.total_before == Decimal("90.00")


def test_red_line_pass_or_na_does_nothing():
    """Is the red-line rule left alone when the red-line item passes or is N.A.?"""
    items = [item("A"), item("RL", red_line=True)]
    for value in ("pass", "na"):
        score = score_inspection(items, answers(A="pass", RL=value))
        assert score.total == 100 and score.red_line_applied is None


def test_zero_point_red_line_still_vetoes_when_nothing_else_counts():
    """Does a failed zero-point red-line item give 0 even when everything else is N.A.?"""
    items = [item("A"), item("RL", 0, red_line=True)]
    score = score_inspection(items, answers(A="na", RL="fail"))
    assert score.total == 0
    assert score.grade_key == "fail"
    assert score.red_line_applied.total_before is None


def test_custom_grade_bands_and_cap():
    """Do custom bands and a custom cap change the grade and the total?"""
    rules = ScoringRules.from_dict({
        "version": "custom",
        "red_line": {"mode": "cap", "cap": 70},
        "grade_bands": [{"key": "a", "label": "达标", "min": 65},
                        {"key": "b", "label": "未达标", "min": 0}],
    })
    items = [item("A", 9), item("RL", 1, red_line=True)]
    score = score_inspection(items, answers(A="pass", RL="fail"), rules)
    assert score.total == 70
    assert (score.grade, score.grade_key, score.rules_version) == ("达标", "a", "custom")


def test_mode_filter_skips_items_for_other_modes():
    """Given a mode, are items that do not apply to it left out?"""
    items = [item("A"), item("GREET", modes=["mystery_visit"])]
    score = score_inspection(items, answers(A="pass"), mode="self_check")
    assert [s.code for s in score.items] == ["A"]
    assert score.total == 100
    with pytest.raises(ScoringError):
        score_inspection(items, {}, mode="audit")


def test_invalid_answers_are_all_reported():
    """Does scoring refuse invalid answers, naming every item at fault?"""
    items = [item("A"), item("B", response_type="scale", config={"max": 3})]
    with pytest.raises(ScoringError) as caught:
        score_inspection(items, answers(A="ok", B=7))
    assert caught.value.messages == ["A：请选择“合格”“不合格”或“不适用”", "B：请填写 0 到 3 之间的整数"]


def test_duplicate_codes_are_refused():
    """Are two items with the same code refused?"""
    with pytest.raises(ScoringError, match="检查项编号重复：A"):
        score_inspection([item("A"), item("A")], {})


def test_answers_for_unknown_codes_are_ignored_when_scoring():
    """Does an answer for an item not in the checklist leave the score alone?"""
    assert score_inspection([item("A")], answers(A="pass", Z="fail")).total == 100


def test_items_and_answers_can_be_dataclasses():
    """Can ChecklistItem and Answer objects be passed instead of dicts?"""
    items = [ChecklistItem("A", "ENV", Decimal("2.5")), ChecklistItem("B", "ENV", "2.5")]
    score = score_inspection(items, {"A": Answer("pass"), "B": Answer("fail")})
    assert score.total == 50


def test_to_dict_is_json_safe():
    """Does to_dict give plain data that json.dumps accepts?"""
    items = [item("A", 3), item("RL", 1, red_line=True)]
    data = score_inspection(items, answers(A="pass", RL="fail")).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["total"] == 59.0
    assert data["red_line_applied"]["mode"] == "cap"
    assert data["items"][0] == {"code": "A", "section": "ENV", "earned": 3.0, "possible": 3.0,
                                "failed": False, "red_line": False, "na": False,
                                "answered": True, "scored": True}


def test_validate_item_reports_every_problem():
    """Does validate_item list each bad field of a spreadsheet row in Chinese?"""
    errors = validate_item({"code": "", "section": "ENV", "weight": -1,
                            "response_type": "scale", "config": {"max": 0},
                            "red_line": "是", "modes": ["audit"]})
    assert errors == ["缺少编号（code）", "分值（weight）必须是不小于 0 的数字",
                      "满分档（max）必须是不小于 1 的整数", "一票否决（red_line）必须是 true 或 false",
                      "未知的检查方式：audit"]
    assert validate_item(item("A", "2.5")) == []
    assert validate_item({**item("A"), "response_type": "emoji"}) == ["未知的题型：emoji"]
    assert validate_item({**item("A"), "response_type": "text", "red_line": True}) == [
        "不计分的题型不能设为一票否决项"]


def test_item_from_dict_ignores_presentation_fields():
    """Does ChecklistItem.from_dict accept stored items with text, guidance and photo rules?"""
    stored = {**item("ENV-03", "2"), "text": "大堂整洁明亮", "guidance": "无杂物", "photo_rule": "on_fail"}
    parsed = ChecklistItem.from_dict(stored)
    assert parsed.weight == Decimal(2)
    assert ChecklistItem.from_dict(parsed.to_dict()) == parsed
    with pytest.raises(ScoringError, match="ENV-03：分值"):
        ChecklistItem.from_dict({**stored, "weight": "两分"})


def test_validate_answers_checks_reasons_and_completeness():
    """Does submission validation require deduction reasons and every scored answer?"""
    items = [item("A"), item("D", 3, response_type="deduction"), item("N", response_type="text"),
             item("C")]
    found = validate_answers(items, {"A": {"value": "pass"}, "D": {"value": 1},
                                     "X": {"value": "pass"}})
    assert found == {"X": ["该检查项不在本次检查的清单中"], "D": ["扣分时必须填写扣分原因"],
                     "C": ["尚未作答"]}
    assert validate_answers(items, {"D": {"value": 1, "note": "地面有污渍"}},
                            require_all=False) == {}


def test_a_draft_checks_values_but_not_reasons():
    """Without ``notes`` (a draft), is a deduction awaiting its reason fine, while one above its
    maximum is still named?"""
    items = [item("D", 3, response_type="deduction"), item("E", 3, response_type="deduction")]
    found = validate_answers(items, {"D": {"value": 1}, "E": {"value": 5}}, require_all=False,
                             notes=False)
    assert found == {"E": ["扣分必须是 0 到 3 之间的数字"]}
