"""The plain data the engine scores: checklist items and answers, built from stored JSON."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..messages import Message
from ._numbers import as_decimal, json_number
from .errors import ScoringError
from .rules import MODES
from .types import RESPONSE_TYPES, ResponseType, get_response_type


@dataclass(frozen=True)
class ChecklistItem:
    """One item of a checklist version, reduced to what scoring needs.

    ``weight`` is the item's points (a ``Decimal``; ints, floats and numeric strings are accepted
    and converted); ``modes`` are the inspection modes the item applies to.
    """

    code: str
    section: str
    weight: Decimal
    response_type: str = "pass_fail"
    config: Mapping[str, Any] = field(default_factory=dict, hash=False)
    #: A failure vetoes the whole inspection (一票否决).
    red_line: bool = False
    modes: tuple[str, ...] = MODES

    def __post_init__(self) -> None:
        weight = as_decimal(self.weight, allow_str=True)
        if weight is None or weight < 0:
            raise ScoringError(Message("%(code)s：%(message)s", code=self.code,
                                       message=Message("分值（weight）必须是不小于 0 的数字")))
        object.__setattr__(self, "weight", weight)
        object.__setattr__(self, "modes", tuple(self.modes))

    @property
    def kind(self) -> ResponseType:
        """The item's response type (raises for an unknown name)."""
        return get_response_type(self.response_type)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChecklistItem:
        """Build an item from checklist JSON, ignoring keys scoring does not use (text…)."""
        errors = validate_item(data)
        if errors:
            code = data.get("code") if isinstance(data, Mapping) else None
            raise ScoringError([Message("%(code)s：%(message)s", code=code, message=e) if code else e
                                for e in errors])
        return cls(
            code=data["code"],
            section=data["section"],
            weight=data["weight"],
            response_type=data.get("response_type", "pass_fail"),
            config=dict(data.get("config") or {}),
            red_line=data.get("red_line", False),
            modes=tuple(data.get("modes", MODES)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The scoring fields as plain JSON data."""
        return {
            "code": self.code, "section": self.section, "weight": json_number(self.weight),
            "response_type": self.response_type, "config": dict(self.config),
            "red_line": self.red_line, "modes": list(self.modes),
        }


def validate_item(data: Any) -> list[str]:
    """Chinese messages for what is wrong with an item dict's scoring fields (empty if fine).

    Checks the response-type config against the item's weight too, so importers can call this
    once per spreadsheet row.
    """
    if not isinstance(data, Mapping):
        return [Message("检查项必须是键值对（JSON 对象）")]
    errors = []
    for key, missing in (("code", Message("缺少编号（code）")),
                         ("section", Message("缺少所属模块（section）"))):
        if not isinstance(data.get(key), str) or not data[key].strip():
            errors.append(missing)
    weight = as_decimal(data.get("weight"), allow_str=True)
    if weight is None or weight < 0:
        errors.append(Message("分值（weight）必须是不小于 0 的数字"))
    name = data.get("response_type", "pass_fail")
    if not isinstance(name, str) or name not in RESPONSE_TYPES:
        errors.append(Message("未知的题型：%(name)s", name=name))
    else:
        config = data.get("config")
        errors += get_response_type(name).validate_config({} if config is None else config,
                                                          weight=weight)
    red_line = data.get("red_line", False)
    if not isinstance(red_line, bool):
        errors.append(Message("一票否决（red_line）必须是 true 或 false"))
    elif red_line and name in RESPONSE_TYPES and not RESPONSE_TYPES[name].scored:
        errors.append(Message("不计分的题型不能设为一票否决项"))
    modes = data.get("modes", MODES)
    if not isinstance(modes, list | tuple) or not modes:
        errors.append(Message("适用检查方式（modes）必须是非空列表"))
    else:
        errors += [Message("未知的检查方式：%(mode)s", mode=mode) for mode in modes
                   if mode not in MODES]
    return errors


@dataclass(frozen=True)
class Answer:
    """An inspector's answer to one item: a value (``"na"`` for N.A.) and an optional note."""

    value: Any = None
    note: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | Answer) -> Answer:
        """Build an answer from ``{"value": ..., "note": ...}`` (an Answer passes through)."""
        if isinstance(data, Answer):
            return data
        if not isinstance(data, Mapping):
            raise ScoringError(Message("答案必须是包含 value 的键值对"))
        note = data.get("note")
        if note is not None and not isinstance(note, str):
            raise ScoringError(Message("备注（note）必须是文字"))
        return cls(value=data.get("value"), note=note)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {"value": self.value, "note": self.note}
