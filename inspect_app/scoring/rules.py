"""Scoring rules a service manager can tune: red-line handling, grade bands and mode weights.

A rule set is versioned (``"2026.1"``) and every score records the version it was computed with, so
old results stay explainable after the rules change. Rules are stored as JSON; use
:meth:`ScoringRules.from_dict` / :meth:`ScoringRules.to_dict` and :func:`validate_rules` (Chinese
messages) at that edge.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from ..messages import N_, Message
from ._numbers import HUNDRED, ZERO, as_decimal, json_number
from .errors import ScoringError

#: Inspection modes, self-check first; the others are independent of the outlet.
MODES: Final = ("self_check", "peer_check", "spot_check", "mystery_visit")
INDEPENDENT_MODES: Final = MODES[1:]
MODE_LABELS_ZH: Final = {
    "self_check": "自查", "peer_check": "互查", "spot_check": "抽查", "mystery_visit": "暗访",
}

RED_LINE_MODES: Final = ("cap", "fail")


@dataclass(frozen=True)
class RedLineRule:
    """What a failed red-line (一票否决) item does to the inspection total.

    ``"cap"`` limits the total to ``cap`` percent; ``"fail"`` sets it to 0 (the lowest grade).
    """

    mode: str = "cap"
    cap: Decimal | None = Decimal(59)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        cap = json_number(self.cap) if isinstance(self.cap, Decimal) else self.cap
        return {"mode": self.mode, "cap": cap}


@dataclass(frozen=True)
class GradeBand:
    """A grade reached by totals of at least ``min`` percent, e.g. 优秀 from 90."""

    key: str
    label: str
    min: Decimal

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        low = json_number(self.min) if isinstance(self.min, Decimal) else self.min
        return {"key": self.key, "label": self.label, "min": low}


#: Their names are marked for the catalog: pages show a grade in the reader's language.
DEFAULT_GRADE_BANDS: Final = (
    GradeBand("excellent", N_("优秀"), Decimal(90)),
    GradeBand("good", N_("良好"), Decimal(80)),
    GradeBand("pass", N_("合格"), Decimal(60)),
    GradeBand("fail", N_("不合格"), Decimal(0)),
)

#: Independent checks count twice as much as the outlet's own (lenient) self-checks.
DEFAULT_MODE_WEIGHTS: Final = {
    "self_check": Decimal(1), "peer_check": Decimal(2),
    "spot_check": Decimal(2), "mystery_visit": Decimal(2),
}


@dataclass(frozen=True)
class ScoringRules:
    """A versioned rule set; construction validates it and raises :class:`ScoringError`."""

    version: str
    red_line: RedLineRule = field(default_factory=RedLineRule)
    #: Highest band first (sorted on construction); one band must start at 0.
    grade_bands: tuple[GradeBand, ...] = DEFAULT_GRADE_BANDS
    #: Weight of each mode's mean in a period score; modes left out keep their default.
    mode_weights: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_MODE_WEIGHTS),
                                                hash=False)

    def __post_init__(self) -> None:
        errors = validate_rules(self.to_dict())
        if errors:
            raise ScoringError(errors)
        cap = self.red_line.cap
        set_ = object.__setattr__
        set_(self, "red_line", RedLineRule(self.red_line.mode,
                                           None if cap is None else as_decimal(cap)))
        bands = (GradeBand(b.key, b.label, as_decimal(b.min) or ZERO) for b in self.grade_bands)
        set_(self, "grade_bands", tuple(sorted(bands, key=lambda band: band.min, reverse=True)))
        weights = {**DEFAULT_MODE_WEIGHTS, **self.mode_weights}
        set_(self, "mode_weights",
             MappingProxyType({mode: as_decimal(weights[mode]) for mode in MODES}))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoringRules:
        """Build rules from stored JSON; ``version`` is required, missing sections default."""
        errors = validate_rules(data)
        if errors:
            raise ScoringError(errors)
        red_line, bands = data.get("red_line"), data.get("grade_bands")
        return cls(
            version=data["version"],
            red_line=(RedLineRule() if red_line is None else
                      RedLineRule(red_line.get("mode", "cap"), red_line.get("cap"))),
            grade_bands=(DEFAULT_GRADE_BANDS if bands is None else
                         tuple(GradeBand(b["key"], b["label"], b["min"]) for b in bands)),
            mode_weights=dict(data.get("mode_weights") or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data that :meth:`from_dict` reads back to an equal rule set."""
        return {
            "version": self.version,
            "red_line": self.red_line.to_dict(),
            "grade_bands": [band.to_dict() for band in self.grade_bands],
            "mode_weights": {mode: json_number(weight) if isinstance(weight, Decimal) else weight
                             for mode, weight in self.mode_weights.items()},
        }

    def grade_for(self, total: Decimal | None) -> GradeBand | None:
        """The band a total percentage falls in; None when there is no total."""
        if total is None:
            return None
        return next(band for band in self.grade_bands if total >= band.min)


def validate_rules(data: Any) -> list[str]:
    """Chinese messages for what is wrong with a rule dict (empty if it is fine)."""
    if not isinstance(data, Mapping):
        return [Message("评分规则必须是键值对（JSON 对象）")]
    known = ("version", "red_line", "grade_bands", "mode_weights")
    errors = [Message("未知的规则项：%(key)s", key=key) for key in data if key not in known]
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        errors.append(Message("规则版本号（version）不能为空"))
    if data.get("red_line") is not None:
        errors += _red_line_errors(data["red_line"])
    if data.get("grade_bands") is not None:
        errors += _grade_band_errors(data["grade_bands"])
    if data.get("mode_weights") is not None:
        errors += _mode_weight_errors(data["mode_weights"])
    return errors


def _percent(value: Any) -> Decimal | None:
    number = as_decimal(value)
    return number if number is not None and ZERO <= number <= HUNDRED else None


def _red_line_errors(rule: Any) -> list[str]:
    if not isinstance(rule, Mapping):
        return [Message("一票否决规则（red_line）必须是键值对")]
    errors = [Message("一票否决规则中未知的配置项：%(key)s", key=key)
              for key in rule if key not in ("mode", "cap")]
    mode = rule.get("mode", "cap")
    if mode == "cap":
        if _percent(rule.get("cap")) is None:
            errors.append(Message("封顶分（red_line.cap）必须是 0 到 100 之间的数字"))
    elif mode == "fail":
        if rule.get("cap") is not None:
            errors.append(Message("“判定不合格”（fail）方式不使用封顶分（red_line.cap）"))
    else:
        errors.append(Message("一票否决处理方式（red_line.mode）必须是 cap（封顶）或 fail（判定不合格）"))
    return errors


def _grade_band_errors(bands: Any) -> list[str]:
    if not isinstance(bands, list | tuple) or not bands:
        return [Message("等级划分（grade_bands）必须是非空列表")]
    errors: list[str] = []
    keys: set[str] = set()
    lows: set[Decimal] = set()
    for number, band in enumerate(bands, start=1):
        if not isinstance(band, Mapping):
            errors.append(Message("第 %(number)s 个等级必须是键值对", number=number))
            continue
        errors += [Message("第 %(number)s 个等级中未知的配置项：%(key)s", number=number, key=key)
                   for key in band if key not in ("key", "label", "min")]
        key, label, low = band.get("key"), band.get("label"), _percent(band.get("min"))
        if not isinstance(key, str) or not key.strip():
            errors.append(Message("第 %(number)s 个等级缺少标识（key）", number=number))
        elif key in keys:
            errors.append(Message("等级标识重复：%(key)s", key=key))
        else:
            keys.add(key)
        if not isinstance(label, str) or not label.strip():
            errors.append(Message("第 %(number)s 个等级缺少名称（label）", number=number))
        if low is None:
            errors.append(Message("第 %(number)s 个等级的下限（min）必须是 0 到 100 之间的数字",
                                  number=number))
        elif low in lows:
            errors.append(Message("等级下限重复：%(min)s", min=low))
        else:
            lows.add(low)
    if not errors and ZERO not in lows:
        errors.append(Message("必须有一个下限为 0 的等级，否则低分无法评级"))
    return errors


def _mode_weight_errors(weights: Any) -> list[str]:
    if not isinstance(weights, Mapping):
        return [Message("检查方式权重（mode_weights）必须是键值对")]
    errors = []
    for mode, weight in weights.items():
        if mode not in MODES:
            errors.append(Message("未知的检查方式：%(mode)s", mode=mode))
            continue
        number = as_decimal(weight)
        if number is None or number < 0:
            errors.append(Message("检查方式权重（mode_weights.%(mode)s）必须是不小于 0 的数字", mode=mode))
    if not errors:
        merged = {**DEFAULT_MODE_WEIGHTS, **weights}
        if all(as_decimal(weight) == 0 for weight in merged.values()):
            errors.append(Message("至少要有一种检查方式的权重大于 0"))
    return errors


DEFAULT_RULES: Final = ScoringRules(version="2026.1")
