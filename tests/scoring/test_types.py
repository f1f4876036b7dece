"""Response types: configs, answers, fractions and findings for each registered type."""
from decimal import Decimal

import pytest

from inspect_app.scoring import RESPONSE_TYPES, ResponseType, ScoringError, get_response_type
from inspect_app.scoring.types import register


@pytest.fixture
def pass_fail():
    return get_response_type("pass_fail")


@pytest.fixture
def scale():
    return get_response_type("scale")


@pytest.fixture
def number():
    return get_response_type("number")


@pytest.fixture
def text():
    return get_response_type("text")


@pytest.fixture
def deduction():
    return get_response_type("deduction")


def test_registry_offers_the_five_required_types():
    """Are pass/fail, scale, number, text and deduction all registered by name?"""
    assert {"pass_fail", "scale", "number", "text", "deduction"} <= set(RESPONSE_TYPES)
    for name, kind in RESPONSE_TYPES.items():
        assert kind.name == name
        assert kind.label_zh


def test_unknown_type_is_a_key_error_with_a_chinese_message():
    """Does asking for an unregistered type raise a KeyError-like domain error?"""
    with pytest.raises(KeyError) as caught:
        get_response_type("emoji")
    assert isinstance(caught.value, ScoringError)
    assert str(caught.value) == "未知的题型：emoji"


def test_every_default_config_is_valid():
    """Is each type's default config accepted by its own validator?"""
    for kind in RESPONSE_TYPES.values():
        assert kind.validate_config(kind.default_config()) == []


def test_a_new_type_is_one_registered_class():
    """Can a new response type be added with one class and the register decorator?"""

    class YesNo(ResponseType):
        name = "test_yes_no"
        label_zh = "是/否"

        def _check_value(self, value, config, weight):
            return [] if value in ("yes", "no") else ["请选择是或否"]

        def _ratio(self, value, config, weight):
            return 1 if value == "yes" else 0

        def _fails(self, value, config, weight):
            return value == "no"

    try:
        register(YesNo)
        kind = get_response_type("test_yes_no")
        assert kind.fraction("yes", {}) == 1.0
        assert kind.fraction("na", {}) is None
        assert kind.is_failure("no", {})
        with pytest.raises(ValueError):
            register(YesNo)
    finally:
        RESPONSE_TYPES.pop("test_yes_no", None)


def test_unknown_config_keys_are_reported(pass_fail):
    """Is a misspelt config key flagged rather than silently ignored?"""
    assert pass_fail.validate_config({"alow_na": False}) == ["未知的配置项：alow_na"]
    assert pass_fail.validate_config("pass") == ["题型配置必须是键值对（JSON 对象）"]


def test_allow_na_must_be_a_boolean(pass_fail):
    """Is a non-boolean allow_na refused?"""
    assert pass_fail.validate_config({"allow_na": "no"})


# -- pass_fail ------------------------------------------------------------------------------


def test_pass_fail_scores_all_or_nothing(pass_fail):
    """Does pass earn everything, fail nothing, and N.A. leave the denominator?"""
    assert pass_fail.fraction("pass", {}) == 1.0
    assert pass_fail.fraction("fail", {}) == 0.0
    assert pass_fail.fraction("na", {}) is None
    assert pass_fail.is_failure("fail", {})
    assert not pass_fail.is_failure("pass", {})
    assert not pass_fail.is_failure("na", {})


def test_pass_fail_refuses_other_values(pass_fail):
    """Are values other than pass/fail/na refused with a Chinese message?"""
    for value in ("PASS", True, 1, "", "maybe"):
        assert pass_fail.validate_answer(value, {}) == ["请选择“合格”“不合格”或“不适用”"]
    with pytest.raises(ScoringError):
        pass_fail.fraction("maybe", {})


def test_na_can_be_forbidden(pass_fail):
    """Does allow_na false make N.A. an invalid answer?"""
    assert pass_fail.validate_answer("na", {"allow_na": False}) == ["该项不允许选择“不适用”"]
    assert pass_fail.validate_answer("na", {}) == []


def test_missing_value_is_reported(pass_fail):
    """Is an answer without a value reported as unanswered?"""
    assert pass_fail.validate_answer(None, {}) == ["尚未作答"]


# -- scale ----------------------------------------------------------------------------------


def test_scale_earns_its_share_and_fails_below_pass_at(scale):
    """Does a 0–4 scale passing at 3 score value/max and fail only below 3?"""
    config = {"max": 4, "pass_at": 3}
    assert scale.fraction(3, config) == pytest.approx(0.75)
    assert not scale.is_failure(3, config)
    assert scale.is_failure(2, config)
    assert scale.fraction(0, config) == 0.0


def test_scale_passes_only_at_the_top_by_default(scale):
    """Without pass_at, is anything below max a finding?"""
    assert scale.is_failure(4, {"max": 5})
    assert not scale.is_failure(5, {"max": 5})


@pytest.mark.parametrize("config", [
    {}, {"max": 0}, {"max": 2.5}, {"max": True}, {"max": 5, "pass_at": 6},
    {"max": 5, "pass_at": -1}, {"max": 5, "pass_at": "3"},
])
def test_scale_refuses_bad_configs(scale, config):
    """Are a missing or non-positive max and an out-of-range pass_at refused?"""
    assert scale.validate_config(config)


@pytest.mark.parametrize("value", [-1, 6, 2.5, "3", True])
def test_scale_refuses_values_off_the_scale(scale, value):
    """Are values that are not integers within 0..max refused?"""
    assert scale.validate_answer(value, {"max": 5}) == ["请填写 0 到 5 之间的整数"]


# -- number ---------------------------------------------------------------------------------


def test_waiting_time_passes_at_or_under_the_limit(number):
    """Does a "max" number item pass at the limit and fail above it?"""
    config = {"limit": 15, "direction": "max", "unit": "分钟"}
    assert number.fraction(15, config) == 1.0
    assert number.fraction(15.5, config) == 0.0
    assert number.is_failure(16, config)
    assert not number.is_failure(Decimal("14.9"), config)


def test_minimum_direction_passes_at_or_above_the_limit(number):
    """Does a "min" number item (e.g. windows open at peak ≥ 3) fail below the limit?"""
    config = {"limit": 3, "direction": "min"}
    assert number.fraction(3, config) == 1.0
    assert number.is_failure(2, config)


@pytest.mark.parametrize("config", [
    {}, {"limit": "15"}, {"limit": 15, "direction": "up"}, {"limit": 15, "unit": 1},
    {"limit": float("nan")},
])
def test_number_refuses_bad_configs(number, config):
    """Are a missing or non-numeric limit, a bad direction or unit refused?"""
    assert number.validate_config(config)


def test_number_refuses_non_numbers_and_names_the_unit(number):
    """Is a non-number answer refused with the unit in the message?"""
    config = {"limit": 15, "unit": "分钟"}
    assert number.validate_answer("12", config) == ["请填写数字（单位：分钟）"]
    assert number.validate_answer(float("inf"), config)
    assert number.validate_answer(True, config)


@pytest.mark.parametrize("value", [-5, -0.01, 1_000_001, 10**400])
def test_a_measured_number_is_never_negative_nor_absurd(number, value):
    """Waiting minutes of −5 used to pass a "max" item, and 10⁴⁰⁰ became ``Infinity`` in
    SQLite's JSON: are both refused, while 0 and the bound itself are taken?"""
    config = {"limit": 15, "unit": "分钟"}
    assert number.validate_answer(value, config) == ["请填写 0 到 1000000 之间的数字"]
    assert number.validate_answer(0, config) == number.validate_answer(1_000_000, config) == []


def test_the_form_knows_the_servers_bound_on_numbers():
    """The phone refuses what the server would (offline, before it is queued)."""
    from pathlib import Path

    from inspect_app.scoring.types import NUMBER_MOST

    form = (Path(__file__).resolve().parents[2] / "static/js/form.js").read_text()
    assert f"const NUMBER_MOST = {NUMBER_MOST};" in form


# -- text -----------------------------------------------------------------------------------


def test_text_is_never_scored_nor_a_finding(text):
    """Is a text answer (even "na") outside scoring and never a finding?"""
    assert not text.scored
    assert text.fraction("大堂整洁", {}) is None
    assert text.fraction("na", {}) is None
    assert not text.is_failure("客户投诉", {})


def test_text_refuses_non_strings_and_config(text):
    """Does text accept only strings and no config keys?"""
    assert text.validate_answer(3, {}) == ["请填写文字"]
    assert text.validate_config({"allow_na": True}) == ["未知的配置项：allow_na"]


def test_text_answers_are_as_long_as_a_note_at_most(text):
    """Is a text answer capped like a note (2,000 characters), not stored at any length?"""
    assert text.validate_answer("字" * 2000, {}) == []
    assert text.validate_answer("字" * 2001, {}) == ["最多 2000 个字"]


# -- deduction ------------------------------------------------------------------------------


def test_deduction_earns_what_is_left(deduction):
    """Does deducting 1 of 3 points earn two thirds of the item?"""
    assert deduction.fraction(1, {}, weight=Decimal(3)) == pytest.approx(2 / 3)
    assert deduction.fraction(0, {}, weight=Decimal(3)) == 1.0
    assert deduction.fraction(3, {}, weight=Decimal(3)) == 0.0


def test_any_deduction_is_a_finding(deduction):
    """Is any non-zero deduction a finding and a zero deduction not?"""
    assert deduction.is_failure(0.5, {}, weight=Decimal(2))
    assert not deduction.is_failure(0, {}, weight=Decimal(2))


def test_deduction_is_limited_by_weight_or_max_deduction(deduction):
    """Can one not deduct more than the item's points or its configured maximum?"""
    assert deduction.validate_answer(3.5, {}, weight=Decimal(3)) == ["扣分必须是 0 到 3 之间的数字"]
    assert deduction.validate_answer(2, {"max_deduction": 1}, weight=Decimal(3))
    assert deduction.validate_answer(-1, {}, weight=Decimal(3))
    assert deduction.validate_answer(1, {"max_deduction": 1}, weight=Decimal(3)) == []


def test_deduction_needs_a_weight_or_maximum(deduction):
    """Without the item's weight or a max_deduction, is the answer refused?"""
    assert deduction.validate_answer(1, {})
    assert deduction.fraction(1, {"max_deduction": 2}) == 0.5


def test_max_deduction_cannot_exceed_the_weight(deduction):
    """Is a max_deduction above the item's points a config error?"""
    assert deduction.validate_config({"max_deduction": 5}, weight=Decimal(3))
    assert deduction.validate_config({"max_deduction": -1})
    assert deduction.validate_config({"max_deduction": 2}, weight=Decimal(3)) == []


def test_deduction_needs_a_reason_only_when_note_is_checked(deduction):
    """Is a reason (note) required for a non-zero deduction when the note is checked?"""
    weight = Decimal(3)
    assert deduction.validate_answer(1, {}, weight=weight) == []
    assert deduction.validate_answer(1, {}, note=None, weight=weight) == ["扣分时必须填写扣分原因"]
    assert deduction.validate_answer(1, {}, note="  ", weight=weight)
    assert deduction.validate_answer(1, {}, note="未佩戴工牌", weight=weight) == []
    assert deduction.validate_answer(0, {}, note=None, weight=weight) == []


def test_deduction_of_a_zero_weight_item_keeps_full_marks(deduction):
    """Does a zero-point deduction item avoid dividing by zero?"""
    assert deduction.fraction(0, {}, weight=Decimal(0)) == 1.0
