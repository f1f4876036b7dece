"""Validation of a checklist held as plain data (the dict shape shared by the API, the spreadsheet
import and the default checklist).

Everything here is pure: no Flask, no database. :func:`checklist_problems` returns *all* the
problems it finds, each with a path into the data (``("items", 3, "weight")``) and a Chinese
:class:`~inspect_app.messages.Message` (said in the reader's language where it is shown), so the spreadsheet import can point at a sheet, row and column and the API at a field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..messages import N_, Message

#: The inspection modes an item can apply to, in their canonical order.
MODES: tuple[str, ...] = ("self_check", "peer_check", "spot_check", "mystery_visit")
PHOTO_RULES: tuple[str, ...] = ("required", "on_fail", "optional")
SEVERITIES: tuple[str, ...] = ("minor", "major", "critical")

MODE_LABELS: dict[str, str] = {
    "self_check": N_("自查"), "peer_check": N_("互查"), "spot_check": N_("抽查"),
    "mystery_visit": N_("暗访"),
}
PHOTO_RULE_LABELS: dict[str, str] = {
    "required": N_("必须"), "on_fail": N_("不合格时必须"), "optional": N_("可选"),
}
SEVERITY_LABELS: dict[str, str] = {"minor": N_("一般"), "major": N_("较重"), "critical": N_("严重")}

#: Chinese column header of every item field; the spreadsheet uses these, and so do messages.
FIELD_LABELS: dict[str, str] = {
    "code": N_("编码"),
    "section": N_("分区编码"),
    "text": N_("检查内容"),
    "guidance": N_("合格标准"),
    "weight": N_("分值"),
    "response_type": N_("题型"),
    "config": N_("题型参数"),
    "photo_rule": N_("照片要求"),
    "red_line": N_("红线项"),
    "modes": N_("适用模式"),
    "severity": N_("严重程度"),
    "deadline_days": N_("整改期限(天)"),
}
#: Chinese header of every section field.
SECTION_FIELD_LABELS: dict[str, str] = {"code": "编码", "name": "名称", "weight": "权重"}
#: Chinese label of the checklist's own fields.
CHECKLIST_FIELD_LABELS: dict[str, str] = {"name": "检查表名称", "description": "检查表说明"}

ITEM_FIELDS: tuple[str, ...] = tuple(FIELD_LABELS)
SECTION_FIELDS: tuple[str, ...] = tuple(SECTION_FIELD_LABELS)

MAX_ITEMS = 2000
MAX_SECTIONS = 200
MAX_CODE = 32
MAX_NAME = 200
MAX_SECTION_NAME = 100
MAX_TEXT = 500
MAX_GUIDANCE = 2000
MAX_DESCRIPTION = 5000
MAX_WEIGHT = 100
MAX_DEADLINE_DAYS = 365

CODE_RE = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$")
# Characters a spreadsheet (XML 1.0) cannot hold, plus CR, which XML turns into LF: text with them
# could not survive an export and re-import unchanged.
_BAD_CHARS_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a checklist: where it is (a path into the data) and what."""

    path: tuple[str | int, ...]
    message: Message


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value \
        and value not in (float("inf"), float("-inf"))


def _check_text(problems: list[Problem], path: tuple[str | int, ...], label: str, value: Any,
                max_len: int, *, required: bool) -> None:
    """Append problems for a text field: type, blank, length, control characters, leading '='."""
    field = Message(label)
    if not isinstance(value, str):
        problems.append(Problem(path, Message("%(field)s必须是文字", field=field)))
        return
    if not value.strip():
        if required:
            problems.append(Problem(path, Message("%(field)s不能为空", field=field)))
        return
    if len(value) > max_len:
        problems.append(Problem(path, Message("%(field)s不能超过 %(max)s 个字（现有 %(length)s 个）",
                                              field=field, max=max_len, length=len(value))))
    if _BAD_CHARS_RE.search(value):
        problems.append(Problem(path, Message("%(field)s包含不可见的控制字符", field=field)))
    if value.startswith("="):
        problems.append(Problem(path, Message("%(field)s不能以“=”开头（电子表格会把它当作公式）",
                                              field=field)))


def _check_code(problems: list[Problem], path: tuple[str | int, ...], label: str,
                value: Any) -> bool:
    """Append problems for a code; return whether it is well formed."""
    field = Message(label)
    if not isinstance(value, str) or not value:
        problems.append(Problem(path, Message("%(field)s不能为空", field=field)))
        return False
    if len(value) > MAX_CODE:
        problems.append(Problem(path, Message("%(field)s不能超过 %(max)s 个字符", field=field,
                                              max=MAX_CODE)))
        return False
    if not CODE_RE.match(value):
        problems.append(Problem(path, Message(
            "%(field)s“%(value)s”格式不正确：只能使用英文字母、数字和连字符，如 ENV-03",
            field=field, value=value)))
        return False
    return True


def _check_weight(problems: list[Problem], path: tuple[str | int, ...], label: str,
                  value: Any) -> None:
    if not _is_number(value):
        problems.append(Problem(path, Message("%(field)s必须是数字", field=Message(label))))
    elif not 0 < value <= MAX_WEIGHT:
        problems.append(Problem(path, Message("%(field)s必须大于 0 且不超过 %(max)s",
                                              field=Message(label), max=MAX_WEIGHT)))
    elif Decimal(repr(value)).as_tuple().exponent < -2:
        # stored with two decimals: 0.001 would silently become 0 (and then refuse to publish)
        problems.append(Problem(path, Message("%(field)s最多保留两位小数", field=Message(label))))


def _section_problems(data: dict[str, Any], problems: list[Problem]) -> set[str]:
    """Check the sections; return the codes of the well-formed ones."""
    sections = data.get("sections")
    codes: set[str] = set()
    if not isinstance(sections, list):
        problems.append(Problem(("sections",), Message("分区列表缺失或格式不正确")))
        return codes
    if not sections:
        problems.append(Problem(("sections",), Message("至少需要一个分区")))
    if len(sections) > MAX_SECTIONS:
        problems.append(Problem(("sections",), Message("分区不能超过 %(max)s 个",
                                                      max=MAX_SECTIONS)))
        return codes
    seen: set[str] = set()
    for index, section in enumerate(sections):
        if not isinstance(section, dict):
            problems.append(Problem(("sections", index), Message("分区格式不正确")))
            continue
        for key in section:
            if key not in SECTION_FIELDS:
                problems.append(Problem(("sections", index, str(key)),
                                        Message("未知字段“%(key)s”", key=key)))
        code = section.get("code")
        if _check_code(problems, ("sections", index, "code"), N_("分区编码"), code):
            folded = code.upper()
            if folded in seen:
                problems.append(Problem(("sections", index, "code"), Message(
                    "分区编码“%(code)s”重复（每个分区的编码必须唯一）", code=code)))
            else:
                seen.add(folded)
                codes.add(code)
        _check_text(problems, ("sections", index, "name"), N_("分区名称"), section.get("name"),
                    MAX_SECTION_NAME, required=True)
        if section.get("weight") is not None:
            _check_weight(problems, ("sections", index, "weight"), N_("分区权重"),
                          section["weight"])
    _section_weight_problems(sections, problems)
    return codes


#: What the section weights must add up to: they are the sections' shares of the total.
SECTION_WEIGHT_SUM = 100


def _section_weight_problems(sections: list[Any], problems: list[Problem]) -> None:
    """Section weights make the total a weighted mean of the section percentages (scoring
    engine): every section has one or none does, and they are shares that add up to 100."""
    rows = [(index, s) for index, s in enumerate(sections) if isinstance(s, dict)]
    weighted = [(index, s["weight"]) for index, s in rows if s.get("weight") is not None]
    if not weighted:
        return
    missing = [index for index, s in rows if s.get("weight") is None]
    for index in missing:
        problems.append(Problem(("sections", index, "weight"), Message(
            "分区权重未填写：其他分区填写了权重，权重要么每个分区都填，要么都不填")))
    if missing or not all(_is_number(weight) for _, weight in weighted):
        return
    total = sum((Decimal(repr(weight)) for _, weight in weighted), Decimal(0))
    if total != SECTION_WEIGHT_SUM:
        problems.append(Problem(("sections",), Message(
            "分区权重合计应为 %(expected)s，当前为 %(total)s", expected=SECTION_WEIGHT_SUM,
            total=format(total.normalize(), "f"))))  # 150, not 150.0 nor 1.5E+2


def _config_problems(response_type: str, config: Any, weight: Any) -> list[Message]:
    """Ask the response-type registry whether a config is valid for the type (and the item's
    points, which e.g. bound a deduction)."""
    # Imported here: the scoring package owns the registry and may import checklists itself.
    from inspect_app.scoring.types import RESPONSE_TYPES

    rtype = RESPONSE_TYPES[response_type]
    if not isinstance(config, dict):
        return [Message("题型参数格式不正确")]
    try:
        points = Decimal(repr(weight)) if _is_number(weight) and weight > 0 else None
        return list(rtype.validate_config(config, weight=points))
    except (TypeError, ValueError, KeyError, AttributeError):
        # A config of the wrong shape must be a user error, not a server error.
        return [Message("题型参数格式不正确")]


def _item_problems(index: int, item: Any, section_codes: set[str], known_types: set[str],
                   problems: list[Problem]) -> None:
    path = ("items", index)
    if not isinstance(item, dict):
        problems.append(Problem(path, Message("检查项格式不正确")))
        return
    for key in item:
        if key not in ITEM_FIELDS:
            problems.append(Problem(path + (str(key),), Message("未知字段“%(key)s”", key=key)))
    for key in ITEM_FIELDS:
        if key not in item:
            problems.append(Problem(path + (key,), Message("缺少“%(field)s”",
                                                          field=Message(FIELD_LABELS[key]))))

    if "code" in item:
        _check_code(problems, path + ("code",), N_("编码"), item["code"])
    if "section" in item:
        section = item["section"]
        if not isinstance(section, str) or not section:
            problems.append(Problem(path + ("section",), Message("分区编码不能为空")))
        elif section not in section_codes:
            problems.append(Problem(path + ("section",),
                                    Message("分区“%(section)s”不存在", section=section)))
    if "text" in item:
        _check_text(problems, path + ("text",), N_("检查内容"), item["text"], MAX_TEXT,
                    required=True)
    if "guidance" in item:
        _check_text(problems, path + ("guidance",), N_("合格标准"), item["guidance"], MAX_GUIDANCE,
                    required=False)
    if "weight" in item:
        _check_weight(problems, path + ("weight",), N_("分值"), item["weight"])
    if "response_type" in item:
        rtype = item["response_type"]
        if not isinstance(rtype, str) or rtype not in known_types:
            known = "、".join(sorted(known_types))
            problems.append(Problem(path + ("response_type",), Message(
                "题型“%(type)s”不存在（可选：%(choices)s）", type=rtype, choices=known)))
        elif "config" in item:
            for message in _config_problems(rtype, item["config"], item.get("weight")):
                problems.append(Problem(path + ("config",), message))
    if "photo_rule" in item and item["photo_rule"] not in PHOTO_RULES:
        problems.append(Problem(path + ("photo_rule",), Message(
            "照片要求只能是：%(choices)s", choices="、".join(PHOTO_RULE_LABELS.values()))))
    if "red_line" in item and not isinstance(item["red_line"], bool):
        problems.append(Problem(path + ("red_line",), Message("红线项只能是“是”或“否”")))
    if "modes" in item:
        modes = item["modes"]
        if not isinstance(modes, list):
            problems.append(Problem(path + ("modes",), Message("适用模式格式不正确")))
        elif not modes:
            problems.append(Problem(path + ("modes",), Message("适用模式不能为空")))
        else:
            unknown = [m for m in modes if m not in MODES]
            if unknown:
                problems.append(Problem(path + ("modes",), Message(
                    "未知的适用模式：%(mode)s（可选：%(choices)s）", mode=unknown[0],
                    choices="、".join(MODE_LABELS.values()))))
            elif len(set(modes)) != len(modes):
                problems.append(Problem(path + ("modes",), Message("适用模式有重复")))
    if "severity" in item and item["severity"] not in SEVERITIES:
        problems.append(Problem(path + ("severity",), Message(
            "严重程度只能是：%(choices)s", choices="、".join(SEVERITY_LABELS.values()))))
    if "deadline_days" in item:
        days = item["deadline_days"]
        if not isinstance(days, int) or isinstance(days, bool):
            problems.append(Problem(path + ("deadline_days",), Message("整改期限必须是整数天数")))
        elif not 1 <= days <= MAX_DEADLINE_DAYS:
            problems.append(Problem(path + ("deadline_days",), Message(
                "整改期限必须在 1 到 %(max)s 天之间", max=MAX_DEADLINE_DAYS)))


def checklist_problems(data: Any) -> list[Problem]:
    """Return every problem found in a checklist dict; an empty list means it is valid.

    Items and sections must have exactly the fields of the shared contract (unknown fields are
    problems, so nothing is silently dropped by an export); unknown top-level keys are ignored.
    """
    from inspect_app.scoring.types import RESPONSE_TYPES

    problems: list[Problem] = []
    if not isinstance(data, dict):
        return [Problem((), Message("检查表格式不正确"))]
    _check_text(problems, ("name",), N_("检查表名称"), data.get("name"), MAX_NAME,
                required=True)
    if data.get("description") is not None:
        _check_text(problems, ("description",), N_("检查表说明"), data["description"],
                    MAX_DESCRIPTION, required=False)
    section_codes = _section_problems(data, problems)

    items = data.get("items")
    if not isinstance(items, list):
        problems.append(Problem(("items",), Message("检查项列表缺失或格式不正确")))
        return problems
    if not items:
        problems.append(Problem(("items",), Message("至少需要一个检查项")))
        return problems
    if len(items) > MAX_ITEMS:
        problems.append(Problem(("items",), Message("检查项不能超过 %(max)s 个（现有 %(count)s 个）",
                                                   max=MAX_ITEMS, count=len(items))))
        return problems
    known_types = set(RESPONSE_TYPES)
    seen: set[str] = set()
    for index, item in enumerate(items):
        _item_problems(index, item, section_codes, known_types, problems)
        code = item.get("code") if isinstance(item, dict) else None
        if isinstance(code, str) and CODE_RE.match(code):
            folded = code.upper()
            if folded in seen:
                problems.append(Problem(("items", index, "code"), Message(
                    "编码“%(code)s”重复（每个检查项的编码必须唯一）", code=code)))
            else:
                seen.add(folded)
    return problems
