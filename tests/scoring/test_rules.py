"""Scoring rules: defaults, validation messages and JSON round trips."""
from decimal import Decimal

import pytest

from inspect_app.scoring import (
    DEFAULT_RULES,
    MODES,
    GradeBand,
    ScoringError,
    ScoringRules,
    validate_rules,
)


def test_default_rules_match_the_brief():
    """Do defaults cap red-line failures at 59, grade at 90/80/60 and favour independent checks?"""
    assert DEFAULT_RULES.version == "2026.1"
    assert (DEFAULT_RULES.red_line.mode, DEFAULT_RULES.red_line.cap) == ("cap", Decimal(59))
    assert [(b.label, b.min) for b in DEFAULT_RULES.grade_bands] == [
        ("优秀", 90), ("良好", 80), ("合格", 60), ("不合格", 0)]
    assert dict(DEFAULT_RULES.mode_weights) == {
        "self_check": 1, "peer_check": 2, "spot_check": 2, "mystery_visit": 2}


@pytest.mark.parametrize(("total", "key"), [
    ("100", "excellent"), ("90", "excellent"), ("89.99", "good"), ("80", "good"),
    ("79.99", "pass"), ("60", "pass"), ("59.99", "fail"), ("0", "fail"),
])
def test_grade_band_boundaries(total, key):
    """Is each band reached exactly at its lower bound?"""
    assert DEFAULT_RULES.grade_for(Decimal(total)).key == key


def test_no_total_has_no_grade():
    """Does a missing total get no grade?"""
    assert DEFAULT_RULES.grade_for(None) is None


def test_rules_round_trip_through_json_data():
    """Does from_dict(to_dict()) give back an equal rule set, custom or default?"""
    custom = ScoringRules(
        version="2026.2",
        red_line=ScoringRules.from_dict({"version": "x", "red_line": {"mode": "fail"}}).red_line,
        grade_bands=(GradeBand("top", "标杆", Decimal("95.5")), GradeBand("rest", "其他", Decimal(0))),
        mode_weights={"self_check": Decimal("0.5"), "mystery_visit": 3},
    )
    for rules in (DEFAULT_RULES, custom):
        assert ScoringRules.from_dict(rules.to_dict()) == rules
    assert custom.to_dict()["mode_weights"] == {
        "self_check": 0.5, "peer_check": 2, "spot_check": 2, "mystery_visit": 3}


def test_bands_are_sorted_highest_first():
    """Are bands given in any order sorted so the highest is tried first?"""
    rules = ScoringRules.from_dict({"version": "1", "grade_bands": [
        {"key": "low", "label": "差", "min": 0}, {"key": "high", "label": "好", "min": 70}]})
    assert [b.key for b in rules.grade_bands] == ["high", "low"]
    assert rules.grade_for(Decimal(75)).label == "好"


def test_missing_sections_take_defaults():
    """Does a rule dict with only a version get the default red line, bands and weights?"""
    rules = ScoringRules.from_dict({"version": "2026.3"})
    assert rules.red_line == DEFAULT_RULES.red_line
    assert rules.grade_bands == DEFAULT_RULES.grade_bands
    assert rules.mode_weights == DEFAULT_RULES.mode_weights


@pytest.mark.parametrize(("data", "message"), [
    ({}, "规则版本号（version）不能为空"),
    ({"version": "1", "colour": "red"}, "未知的规则项：colour"),
    ({"version": "1", "red_line": {"mode": "warn"}},
     "一票否决处理方式（red_line.mode）必须是 cap（封顶）或 fail（判定不合格）"),
    ({"version": "1", "red_line": {"mode": "cap"}}, "封顶分（red_line.cap）必须是 0 到 100 之间的数字"),
    ({"version": "1", "red_line": {"mode": "cap", "cap": 120}},
     "封顶分（red_line.cap）必须是 0 到 100 之间的数字"),
    ({"version": "1", "red_line": {"mode": "fail", "cap": 59}},
     "“判定不合格”（fail）方式不使用封顶分（red_line.cap）"),
    ({"version": "1", "grade_bands": []}, "等级划分（grade_bands）必须是非空列表"),
    ({"version": "1", "grade_bands": [{"key": "a", "label": "甲", "min": 50}]},
     "必须有一个下限为 0 的等级，否则低分无法评级"),
    ({"version": "1", "grade_bands": [{"key": "a", "label": "甲", "min": 0},
                                      {"key": "a", "label": "乙", "min": 50}]}, "等级标识重复：a"),
    ({"version": "1", "grade_bands": [{"key": "a", "label": "甲", "min": 0},
                                      {"key": "b", "label": "乙", "min": 0}]}, "等级下限重复：0"),
    ({"version": "1", "grade_bands": [{"key": "a", "label": "", "min": 0}]}, "第 1 个等级缺少名称（label）"),
    ({"version": "1", "mode_weights": {"selfcheck": 1}}, "未知的检查方式：selfcheck"),
    ({"version": "1", "mode_weights": {"self_check": -1}},
     "检查方式权重（mode_weights.self_check）必须是不小于 0 的数字"),
    ({"version": "1", "mode_weights": {m: 0 for m in MODES}},
     "至少要有一种检查方式的权重大于 0"),
    ([], "评分规则必须是键值对（JSON 对象）"),
])
def test_bad_rule_dicts_are_refused_in_chinese(data, message):
    """Is each kind of bad rule dict reported with its Chinese message, and refused by from_dict?"""
    assert message in validate_rules(data)
    with pytest.raises(ScoringError) as caught:
        ScoringRules.from_dict(data)
    assert message in caught.value.messages


def test_constructing_bad_rules_directly_is_refused():
    """Does building ScoringRules in code run the same validation?"""
    with pytest.raises(ScoringError):
        ScoringRules(version="")


def test_default_mode_weights_cannot_be_mutated():
    """Are the shared default rules protected from accidental edits?"""
    with pytest.raises(TypeError):
        DEFAULT_RULES.mode_weights["self_check"] = Decimal(5)  # type: ignore[index]
