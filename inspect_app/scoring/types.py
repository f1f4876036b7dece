"""Response types: how the answer to one checklist item is checked and scored.

Each type is one class registered by name in :data:`RESPONSE_TYPES` (CTFd's ``UPLOADERS`` pattern),
so a new type is one new class here and nothing else changes. Types only see an answer's value, the
item's JSON config and, for point deductions, the item's weight.

The string ``"na"`` means N.A. (不适用) for every scored type unless its config says
``{"allow_na": false}``; an N.A. answer has no fraction, so the item leaves the denominator.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar, Final, TypeVar

from ..messages import N_, Message, joined
from ._numbers import as_decimal
from .errors import ScoringError, UnknownResponseTypeError

NA: Final = "na"


class _NotGiven:
    """Marks an argument the caller left out (``None`` is a meaningful note)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = _NotGiven()


def is_na(value: object) -> bool:
    """Whether an answer value is the N.A. marker."""
    return isinstance(value, str) and value == NA


class ResponseType:
    """Base class of response types: subclasses fill in the hooks (``_check_value``, ``_ratio``…).

    Public methods take the item's ``config`` as stored (missing optional keys get their defaults)
    and, optionally, the item's ``weight``; ``fraction`` and ``is_failure`` raise
    :class:`ScoringError` for an invalid config or answer rather than guess.
    """

    name: ClassVar[str]
    label_zh: ClassVar[str]
    scored: ClassVar[bool] = True
    #: Config keys that may be left out, with the value they then take.
    optional_config: ClassVar[Mapping[str, Any]] = {}
    #: Config keys that must be present.
    required_config: ClassVar[tuple[str, ...]] = ()

    # -- config --------------------------------------------------------------------------------

    def default_config(self) -> dict[str, Any]:
        """A complete, valid config for a new item of this type."""
        return self.resolve_config({})

    def resolve_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The config with defaults filled in for the optional keys that were left out."""
        defaults = {"allow_na": True} if self.scored else {}
        return {**defaults, **self.optional_config, **config}

    def validate_config(self, config: Any, *, weight: Decimal | None = None) -> list[str]:
        """Chinese messages for what is wrong with ``config`` (empty if it is fine).

        ``weight`` is the item's points; pass it when known so limits can be checked against it.
        """
        if not isinstance(config, Mapping):
            return [Message("题型配置必须是键值对（JSON 对象）")]
        allowed = set(self.resolve_config({})) | set(self.required_config)
        errors = [Message("未知的配置项：%(key)s", key=key) for key in config if key not in allowed]
        errors += [Message("缺少配置项：%(key)s", key=key) for key in self.required_config
                   if key not in config]
        if errors:
            return errors
        resolved = self.resolve_config(config)
        if self.scored and not isinstance(resolved["allow_na"], bool):
            errors.append(Message("是否允许不适用（allow_na）必须是 true 或 false"))
        return errors + self._check_config(resolved, weight)

    # -- answers -------------------------------------------------------------------------------

    def validate_answer(self, value: Any, config: Mapping[str, Any], *,
                        note: str | None | _NotGiven = NOT_GIVEN,
                        weight: Decimal | None = None) -> list[str]:
        """Chinese messages for what is wrong with the answer ``value`` (empty if it is valid).

        Pass ``note`` (even ``None``) to also check the answer's note, e.g. that a deduction
        gives its reason (扣分原因); leave it out to check the value alone, as drafts do.
        """
        config_errors = self.validate_config(config, weight=weight)
        if config_errors:
            return [Message("该项的题型配置有误：%(problems)s", problems=joined(config_errors))]
        resolved = self.resolve_config(config)
        if value is None:
            return [Message("尚未作答")]
        if self.scored and is_na(value):
            return [] if resolved["allow_na"] else [Message("该项不允许选择“不适用”")]
        errors = self._check_value(value, resolved, weight)
        if not errors and not isinstance(note, _NotGiven):
            errors = self._check_note(value, note, resolved)
        return errors

    def ratio(self, value: Any, config: Mapping[str, Any], *,
              weight: Decimal | None = None) -> Fraction | None:
        """Exact share of the item's points earned (0..1); None for N.A. or an unscored type."""
        resolved = self._checked(value, config, weight)
        if not self.scored or is_na(value):
            return None
        return self._ratio(value, resolved, weight)

    def fraction(self, value: Any, config: Mapping[str, Any], *,
                 weight: Decimal | None = None) -> float | None:
        """Share of the item's points earned (0..1); None for N.A. (leaves the denominator)."""
        exact = self.ratio(value, config, weight=weight)
        return None if exact is None else float(exact)

    def is_failure(self, value: Any, config: Mapping[str, Any], *,
                   weight: Decimal | None = None) -> bool:
        """Whether this answer is a finding (整改项); N.A. and unscored types never are."""
        resolved = self._checked(value, config, weight)
        return self.scored and not is_na(value) and self._fails(value, resolved, weight)

    def evaluate(self, value: Any, config: Mapping[str, Any], *,
                 weight: Decimal | None = None) -> tuple[Fraction | None, bool]:
        """``(ratio, is_failure)`` with a single validation; what the engine uses per item."""
        resolved = self._checked(value, config, weight)
        if not self.scored or is_na(value):
            return None, False
        return self._ratio(value, resolved, weight), self._fails(value, resolved, weight)

    def _checked(self, value: Any, config: Mapping[str, Any],
                 weight: Decimal | None) -> dict[str, Any]:
        errors = self.validate_answer(value, config, weight=weight)
        if errors:
            raise ScoringError(errors)
        return self.resolve_config(config)

    # -- hooks for subclasses; ``config`` is resolved and valid, ``value`` is not N.A. ----------

    def _check_config(self, config: dict[str, Any], weight: Decimal | None) -> list[str]:
        return []

    def _check_value(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> list[str]:
        raise NotImplementedError

    def _check_note(self, value: Any, note: str | None, config: dict[str, Any]) -> list[str]:
        return []

    def _ratio(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> Fraction:
        raise NotImplementedError

    def _fails(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> bool:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


#: Every response type by name; add one with :func:`register`.
RESPONSE_TYPES: dict[str, ResponseType] = {}

_T = TypeVar("_T", bound=type[ResponseType])


def register(cls: _T) -> _T:
    """Class decorator: add one instance of a response type to :data:`RESPONSE_TYPES`."""
    if cls.name in RESPONSE_TYPES:
        raise ValueError(f"response type {cls.name!r} is already registered")
    RESPONSE_TYPES[cls.name] = cls()
    return cls


def get_response_type(name: str) -> ResponseType:
    """The response type registered as ``name``; raises :class:`UnknownResponseTypeError`."""
    try:
        return RESPONSE_TYPES[name]
    except (KeyError, TypeError):
        raise UnknownResponseTypeError(Message("未知的题型：%(name)s", name=name)) from None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@register
class PassFail(ResponseType):
    """合格 / 不合格 / 不适用: ``"pass"`` earns the item's points, ``"fail"`` none."""

    name = "pass_fail"
    label_zh = N_("合格/不合格/不适用")

    def _check_value(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> list[str]:
        if isinstance(value, str) and value in ("pass", "fail"):
            return []
        return [Message("请选择“合格”“不合格”或“不适用”") if config["allow_na"]
                else Message("请选择“合格”或“不合格”")]

    def _ratio(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> Fraction:
        return Fraction(1 if value == "pass" else 0)

    def _fails(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> bool:
        return value == "fail"


@register
class Scale(ResponseType):
    """0..max integer rating: earns ``value / max`` of the points; a finding below ``pass_at``."""

    name = "scale"
    label_zh = N_("0–N 分档评分")
    required_config = ("max",)
    #: ``pass_at`` None means "the top of the scale".
    optional_config = {"pass_at": None}

    def default_config(self) -> dict[str, Any]:
        """A five-step scale that passes only at the top."""
        return self.resolve_config({"max": 5})

    def _check_config(self, config: dict[str, Any], weight: Decimal | None) -> list[str]:
        top, pass_at = config["max"], config["pass_at"]
        if not _is_int(top) or top < 1:
            return [Message("满分档（max）必须是不小于 1 的整数")]
        if pass_at is not None and (not _is_int(pass_at) or not 0 <= pass_at <= top):
            return [Message("合格线（pass_at）必须是 0 到 %(max)s 之间的整数", max=top)]
        return []

    def _check_value(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> list[str]:
        if _is_int(value) and 0 <= value <= config["max"]:
            return []
        return [Message("请填写 0 到 %(max)s 之间的整数", max=config["max"])]

    def _ratio(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> Fraction:
        return Fraction(value, config["max"])

    def _fails(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> bool:
        pass_at = config["max"] if config["pass_at"] is None else config["pass_at"]
        return value < pass_at


#: Measures the product derives from a mystery visit's timed events, by name.
DERIVED_MEASURES = {"wait_minutes": "取号至叫号的等候分钟数",
                    "service_minutes": "开始办理至离开的办理分钟数"}


#: The largest measured number an answer may give.
NUMBER_MOST = 1_000_000


@register
class Number(ResponseType):
    """A measured number against a limit, e.g. waiting time ≤ 15 分钟: all points or none.

    ``direction`` ``"max"`` passes when value ≤ limit, ``"min"`` when value ≥ limit.
    """

    name = "number"
    label_zh = N_("数值（限值）")
    required_config = ("limit",)
    #: ``derived_from`` names a measure the product computes itself, e.g. a mystery visit's
    #: waiting minutes from its timed events (see :data:`DERIVED_MEASURES`).
    optional_config = {"direction": "max", "unit": "", "derived_from": None}

    def default_config(self) -> dict[str, Any]:
        """The commonest number item: waiting time of at most 15 minutes."""
        return self.resolve_config({"limit": 15, "unit": "分钟"})

    def _check_config(self, config: dict[str, Any], weight: Decimal | None) -> list[str]:
        errors = []
        if as_decimal(config["limit"]) is None:
            errors.append(Message("限值（limit）必须是数字"))
        if config["direction"] not in ("max", "min"):
            errors.append(Message("方向（direction）必须是 max（不超过限值）或 min（不低于限值）"))
        if not isinstance(config["unit"], str):
            errors.append(Message("单位（unit）必须是文字"))
        if config["derived_from"] not in (None, *DERIVED_MEASURES):
            names = "、".join(f"{k}（{v}）" for k, v in DERIVED_MEASURES.items())
            errors.append(Message("自动取值（derived_from）只能是：%(names)s", names=names))
        return errors

    def _check_value(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> list[str]:
        number = as_decimal(value)
        if number is None:
            if config["unit"]:
                return [Message("请填写数字（单位：%(unit)s）", unit=config["unit"])]
            return [Message("请填写数字")]
        if not 0 <= number <= NUMBER_MOST:
            # what is measured (minutes, people, a share) is never negative, and a figure
            # beyond this is a slip of the finger, not a measure
            return [Message("请填写 0 到 %(most)s 之间的数字", most=NUMBER_MOST)]
        return []

    def _within(self, value: Any, config: dict[str, Any]) -> bool:
        number, limit = as_decimal(value), as_decimal(config["limit"])
        assert number is not None and limit is not None
        return number <= limit if config["direction"] == "max" else number >= limit

    def _ratio(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> Fraction:
        return Fraction(1 if self._within(value, config) else 0)

    def _fails(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> bool:
        return not self._within(value, config)


#: The longest text answer: as long as a note (inspections.schemas.AnswerSchema).
MAX_TEXT_ANSWER = 2000


@register
class Text(ResponseType):
    """Free text (observations, scenario notes): never scored, never a finding."""

    name = "text"
    label_zh = N_("文字记录")
    scored = False

    def _check_value(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> list[str]:
        if not isinstance(value, str):
            return [Message("请填写文字")]
        if len(value) > MAX_TEXT_ANSWER:
            return [Message("最多 %(max)s 个字", max=MAX_TEXT_ANSWER)]
        return []


@register
class Deduction(ResponseType):
    """CBSS1000-style 扣分制: the value is the points deducted, 0..``max_deduction``.

    ``max_deduction`` defaults to the item's weight; earns ``1 - deducted / weight`` of the points,
    and any deduction is a finding that must give its reason in the answer's note.
    """

    name = "deduction"
    label_zh = N_("扣分制")
    optional_config = {"max_deduction": None}

    def _check_config(self, config: dict[str, Any], weight: Decimal | None) -> list[str]:
        raw = config["max_deduction"]
        if raw is None:
            return []
        most = as_decimal(raw)
        if most is None or most < 0:
            return [Message("最高扣分（max_deduction）必须是不小于 0 的数字")]
        if weight is not None and most > weight:
            return [Message("最高扣分（max_deduction）不能超过该项分值 %(weight)s 分", weight=weight)]
        return []

    @staticmethod
    def _most(config: dict[str, Any], weight: Decimal | None) -> Decimal | None:
        raw = config["max_deduction"]
        return weight if raw is None else as_decimal(raw)

    def _check_value(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> list[str]:
        most = self._most(config, weight)
        if most is None:
            return [Message("扣分项缺少分值：请设置该项分值或最高扣分（max_deduction）")]
        deducted = as_decimal(value)
        if deducted is None or not 0 <= deducted <= most:
            return [Message("扣分必须是 0 到 %(most)s 之间的数字", most=most)]
        return []

    def _check_note(self, value: Any, note: str | None, config: dict[str, Any]) -> list[str]:
        deducted = as_decimal(value)
        if deducted and not (isinstance(note, str) and note.strip()):
            return [Message("扣分时必须填写扣分原因")]
        return []

    def _ratio(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> Fraction:
        base = weight if weight is not None else self._most(config, weight)
        deducted = as_decimal(value)
        assert base is not None and deducted is not None
        if base == 0:
            return Fraction(1)
        return max(Fraction(0), 1 - Fraction(deducted) / Fraction(base))

    def _fails(self, value: Any, config: dict[str, Any], weight: Decimal | None) -> bool:
        deducted = as_decimal(value)
        return deducted is not None and deducted > 0


__all__ = [
    "NA", "NOT_GIVEN", "RESPONSE_TYPES", "ResponseType", "get_response_type", "is_na", "register",
    "PassFail", "Scale", "Number", "Text", "Deduction",
]
