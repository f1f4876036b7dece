"""Checklists as .xlsx workbooks: export for service managers, import of their edited files.

The layout is documented in ``docs/checklist-spreadsheet.md``: a sheet "检查项" (one row per item),
a sheet "分区" (one row per section) and a sheet "说明" (name, description, how to fill in).

Import treats the file as hostile. Before openpyxl sees it, the zip's declared sizes, member count
and compression ratios are checked and every member is scanned for DTDs/entities (billion laughs);
openpyxl then reads it in read-only mode with defusedxml, iteration stops at the row cap whatever
the sheet's dimension claims, and formulas are refused. Every content problem is collected with its
sheet, row and column, and nothing is returned unless the whole checklist is valid.
"""
from __future__ import annotations

import io
import json
import logging
import math
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from inspect_app.api.workbooks import append_row
from inspect_app.errors import InvalidInput
from inspect_app.i18n import N_
from inspect_app.messages import Message

from .validation import (
    FIELD_LABELS,
    MODE_LABELS,
    MODES,
    PHOTO_RULE_LABELS,
    SECTION_FIELD_LABELS,
    SEVERITY_LABELS,
    checklist_problems,
)

log = logging.getLogger(__name__)

ITEMS_SHEET = "检查项"
SECTIONS_SHEET = "分区"
ABOUT_SHEET = "说明"
#: Sheet names accepted on import, Chinese first.
SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    ITEMS_SHEET: (ITEMS_SHEET, "items"),
    SECTIONS_SHEET: (SECTIONS_SHEET, "sections"),
    ABOUT_SHEET: (ABOUT_SHEET, "about"),
}

#: Other names managers use for the response types; each type's ``label_zh`` and key work too.
_RESPONSE_TYPE_ALIASES: dict[str, str] = {
    "合格/不合格": "pass_fail", "是否合格": "pass_fail", "评分": "scale", "分档评分": "scale",
    "数值": "number", "数字": "number", "文字": "text", "文本": "text", "扣分": "deduction",
}
_MODE_ALIASES: dict[str, str] = {
    "循环自查": "self_check", "互访互查": "peer_check", "分行抽查": "spot_check",
    "暗查": "mystery_visit", "神秘人暗访": "mystery_visit", "神秘人暗查": "mystery_visit",
}
_PHOTO_ALIASES: dict[str, str] = {"必须拍照": "required", "不合格时拍照": "on_fail", "否": "optional"}
_TRUE = {"是", "y", "yes", "true", "1", "√", "红线"}
_FALSE = {"否", "n", "no", "false", "0", "×"}
_MODE_SPLIT_RE = re.compile(r"[、,，;；/\s]+")
_CONFIG_SPLIT_RE = re.compile(r"[;；\n]")
_CONFIG_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$")

#: Defaults for optional item columns left empty (or absent).
ITEM_DEFAULTS: dict[str, Any] = {
    "guidance": "", "config": {}, "photo_rule": "on_fail", "red_line": False,
    "modes": list(MODES), "severity": "minor", "deadline_days": 7,
}
REQUIRED_ITEM_FIELDS = ("code", "section", "text", "weight", "response_type")
REQUIRED_SECTION_FIELDS = ("code", "name")

#: Hostile-file limits checked on the zip before openpyxl parses anything.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_MEMBERS = 500
MAX_RATIO = 200
MAX_CELL_CHARS = 5000
_ITEM_COLUMNS_READ = 40
_SCAN_CHUNK = 1024 * 1024
_EXCEL_MAX_ROWS = 1_048_576


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong in an imported workbook: where (sheet, row, column header) and what."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"工作表“{self.sheet}”"
        if self.row is not None:
            where += f"第 {self.row} 行"
        if self.column:
            where += f"“{self.column}”列"
        return f"{where}：{self.message}"


class ChecklistImportError(InvalidInput):
    """The workbook was refused; :attr:`problems` lists everything found wrong, in Chinese."""

    code = "checklist_import_invalid"
    message = N_("检查表文件有误，未导入任何内容")

    def __init__(self, problems: list[ImportProblem]):
        super().__init__(details=[asdict(p) for p in problems])
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join([f"{self.message}（共 {len(self.problems)} 处问题）："]
                         + [str(p) for p in self.problems])


class _Formula:
    """Marks a cell that held a formula (its value is never used)."""


_FORMULA = _Formula()


class _CellError(ValueError):
    """A cell value that cannot be read as its column's type; ``message`` says why."""

    def __init__(self, message: Message):
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------------------------
# Cell values ↔ Python values
# --------------------------------------------------------------------------------------------

def _format_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _parse_scalar(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if _INT_RE.match(text):
        return int(text)
    if _FLOAT_RE.match(text):
        return float(text)
    return text


def format_config(config: dict[str, Any]) -> str:
    """Write a response-type config for a cell: "" for none, ``max=5; pass_at=3`` when that reads
    back identically, compact JSON otherwise."""
    if not config:
        return ""
    text = "; ".join(f"{key}={_format_scalar(value)}" for key, value in config.items())
    try:
        if json.dumps(parse_config(text)) == json.dumps(config):
            return text
    except _CellError:
        pass
    return json.dumps(config, ensure_ascii=False, separators=(",", ":"))


def _reject_constant(name: str) -> Any:
    raise _CellError(Message("题型参数不能包含 %(name)s", name=name))


def parse_config(text: str) -> dict[str, Any]:
    """Read a config cell: empty, JSON object, or ``key=value`` pairs separated by ; or ；."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            if isinstance(exc, _CellError):
                raise
            raise _CellError(Message("题型参数不是有效的 JSON")) from None
        if not isinstance(value, dict):
            raise _CellError(Message("题型参数必须是 JSON 对象"))
        return value
    config: dict[str, Any] = {}
    for part in _CONFIG_SPLIT_RE.split(text):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.replace("＝", "=").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _CONFIG_KEY_RE.match(key):
            raise _CellError(Message("题型参数“%(part)s”格式不正确，应写作 键=值，如 max=5; pass_at=3",
                                      part=part))
        if key in config:
            raise _CellError(Message("题型参数“%(key)s”重复", key=key))
        config[key] = _parse_scalar(value)
    return config


def _text(value: Any) -> str:
    """A cell as text; numbers typed into text columns are accepted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise _CellError(Message("应填写文字"))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise _CellError(Message("应填写文字"))


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _CellError(Message("必须是数字，不能是“%(value)s”", value=value))
    if isinstance(value, str):
        text = value.strip()
        if _INT_RE.match(text):
            return int(text)
        if _FLOAT_RE.match(text):
            value = float(text)
        else:
            raise _CellError(Message("必须是数字，不能是“%(value)s”", value=text))
    if isinstance(value, float) and not math.isfinite(value):
        raise _CellError(Message("必须是有限的数字"))
    return value


def _integer(value: Any) -> int:
    number = _number(value)
    if isinstance(number, float):
        if not number.is_integer():
            raise _CellError(Message("必须是整数，不能是“%(value)s”", value=number))
        return int(number)
    return number


def _choice(labels: dict[str, str], aliases: dict[str, str], what: str) -> Callable[[Any], str]:
    lookup = {label: key for key, label in labels.items()} | aliases
    lookup |= {key.lower(): key for key in labels}

    def parse(value: Any) -> str:
        text = _text(value).strip()
        key = lookup.get(text) or lookup.get(text.lower())
        if key is None:
            raise _CellError(Message("%(what)s“%(value)s”无效，可选：%(choices)s",
                                     what=Message(what), value=text,
                                     choices="、".join(labels.values())))
        return key
    return parse


def response_type_labels() -> dict[str, str]:
    """Chinese label of every registered response type (its ``label_zh``, else its key)."""
    from inspect_app.scoring.types import RESPONSE_TYPES

    return {key: getattr(rtype, "label_zh", key) for key, rtype in RESPONSE_TYPES.items()}


def _response_type(value: Any) -> str:
    aliases = {label: key for label, key in _RESPONSE_TYPE_ALIASES.items()
               if key in response_type_labels()}
    return _choice(response_type_labels(), aliases, N_("题型"))(value)


def _red_line(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _CellError(Message("只能填“是”或“否”，不能是“%(value)s”", value=text))


_mode = _choice(MODE_LABELS, _MODE_ALIASES, N_("适用模式"))


def _modes(value: Any) -> list[str]:
    parts = [p for p in _MODE_SPLIT_RE.split(_text(value).strip()) if p]
    return [_mode(part) for part in parts]


def _config(value: Any) -> dict[str, Any]:
    return parse_config(_text(value))


#: How each item column's cell is read.
_ITEM_PARSERS: dict[str, Callable[[Any], Any]] = {
    "code": lambda v: _text(v).strip(),
    "section": lambda v: _text(v).strip(),
    "text": _text,
    "guidance": _text,
    "weight": _number,
    "response_type": _response_type,
    "config": _config,
    "photo_rule": _choice(PHOTO_RULE_LABELS, _PHOTO_ALIASES, N_("照片要求")),
    "red_line": _red_line,
    "modes": _modes,
    "severity": _choice(SEVERITY_LABELS, {}, N_("严重程度")),
    "deadline_days": _integer,
}
_SECTION_PARSERS: dict[str, Callable[[Any], Any]] = {
    "code": lambda v: _text(v).strip(),
    "name": _text,
    "weight": _number,
}


def _item_cells(item: dict[str, Any], type_labels: dict[str, str]) -> list[Any]:
    """An item as the cell values of one row of the items sheet."""
    rtype = item["response_type"]
    return [
        item["code"], item["section"], item["text"], item["guidance"] or None, item["weight"],
        type_labels.get(rtype, rtype), format_config(item["config"]) or None,
        PHOTO_RULE_LABELS[item["photo_rule"]], "是" if item["red_line"] else "否",
        "、".join(MODE_LABELS[m] for m in item["modes"]), SEVERITY_LABELS[item["severity"]],
        item["deadline_days"],
    ]


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="B22222")
_WRAP = Alignment(wrap_text=True, vertical="top")
_ITEM_WIDTHS = (10, 10, 40, 60, 7, 11, 26, 14, 8, 24, 10, 13)


def _header(ws: Worksheet, headers: list[str], widths: tuple[int, ...]) -> None:
    append_row(ws, headers)
    for index, cell in enumerate(ws[1], start=1):
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        ws.column_dimensions[get_column_letter(index)].width = widths[index - 1]
    ws.freeze_panes = "A2"


def _list_validation(ws: Worksheet, column: int, values: list[str] | str, last_row: int,
                     prompt: str) -> None:
    formula = values if isinstance(values, str) else '"' + ",".join(values) + '"'
    dv = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                        errorTitle="无效的值", error=prompt, promptTitle="请选择", prompt=prompt,
                        showInputMessage=True)
    ws.add_data_validation(dv)
    letter = get_column_letter(column)
    dv.add(f"{letter}2:{letter}{last_row}")


def _about_rows(checklist: dict[str, Any]) -> list[list[Any]]:
    type_labels = "、".join(f"{label}（{key}）" for key, label in response_type_labels().items())
    return [
        ["项目", "内容"],
        ["检查表名称", checklist["name"]],
        ["检查表说明", checklist.get("description") or None],
        [],
        ["填写说明", "“检查项”表每行一个检查项，“分区”表每行一个分区，行的先后顺序即显示顺序。"
                   "表头可用中文或英文（括号内）。不允许使用公式。导入时会先检查全部内容，"
                   "有任何错误都不会导入。"],
        ["编码（code）", "必填。英文字母、数字和连字符，最长 32 个字符，如 ENV-03；不能重复。"],
        ["分区编码（section）", "必填。须是“分区”表中已有的编码。"],
        ["检查内容（text）", "必填，最多 500 字。"],
        ["合格标准（guidance）", "选填，最多 2000 字，写明怎样算合格，如“合格标准：……”。"],
        ["分值（weight）", "必填。大于 0、不超过 100 的数字，如 2 或 2.5。"],
        ["题型（response_type）", "必填。可选：" + type_labels + "。"],
        ["题型参数（config）", "按题型填写，写作 键=值，多个用分号隔开，也可填 JSON 对象；不需要参数时留空。"
                           "0–N 分档评分：max=5; pass_at=3（满分档与合格线）；"
                           "数值（限值）：limit=15; direction=max; unit=分钟（direction=max 表示不超过限值"
                           "为合格，min 表示不低于限值为合格）；扣分制：可填 max_deduction=3（不超过分值）；"
                           "计分题型都可加 allow_na=false，表示不允许选择“不适用”。"],
        ["照片要求（photo_rule）", "必须、不合格时必须、可选；留空为“不合格时必须”。"],
        ["红线项（red_line）", "是、否（一票否决项填“是”）；留空为“否”。"],
        ["适用模式（modes）", "自查、互查、抽查、暗访中的一个或多个，用顿号、逗号或分号隔开；"
                          "留空为全部四种。仅暗访适用的项只填“暗访”。"],
        ["严重程度（severity）", "一般、较重、严重；留空为“一般”。"],
        ["整改期限(天)（deadline_days）", "1 到 365 的整数；留空为 7 天。"],
        ["分区表", "编码（code）必填、名称（name）必填、权重（weight）选填：留空表示总分按检查项分值合计；"
                "填写时每个分区都要填，合计为 100，总分按权重合并各分区的得分率。"],
    ]


def export_xlsx(checklist: dict[str, Any]) -> bytes:
    """Write a checklist dict (the shared contract shape) as an .xlsx workbook and return its bytes.

    The workbook has the sheets "检查项", "分区" and "说明" described in
    ``docs/checklist-spreadsheet.md``; :func:`import_xlsx` reads it back to an identical dict.
    """
    wb = openpyxl.Workbook()
    items_ws = wb.active
    items_ws.title = ITEMS_SHEET
    _header(items_ws, list(FIELD_LABELS.values()), _ITEM_WIDTHS)
    type_labels = response_type_labels()
    for item in checklist["items"]:
        append_row(items_ws, _item_cells(item, type_labels))
        for cell in items_ws[items_ws.max_row][2:4]:
            cell.alignment = _WRAP
    last = len(checklist["items"]) + 200
    columns = {field: index for index, field in enumerate(FIELD_LABELS, start=1)}
    n_sections = len(checklist["sections"])
    _list_validation(items_ws, columns["section"], f"'{SECTIONS_SHEET}'!$A$2:$A${n_sections + 50}",
                     last, "请选择“分区”表中的分区编码")
    _list_validation(items_ws, columns["response_type"], list(type_labels.values()), last,
                     "请选择题型")
    _list_validation(items_ws, columns["photo_rule"], list(PHOTO_RULE_LABELS.values()), last,
                     "请选择照片要求")
    _list_validation(items_ws, columns["red_line"], ["是", "否"], last, "红线项请选择“是”或“否”")
    _list_validation(items_ws, columns["severity"], list(SEVERITY_LABELS.values()), last,
                     "请选择严重程度")
    for field, kind, low, high, message in (
            ("weight", "decimal", "0", "100", "分值须是大于 0、不超过 100 的数字"),
            ("deadline_days", "whole", "1", "365", "整改期限须是 1 到 365 的整数")):
        dv = DataValidation(type=kind, operator="between", formula1=low, formula2=high,
                            allow_blank=True, showErrorMessage=True, error=message)
        items_ws.add_data_validation(dv)
        letter = get_column_letter(columns[field])
        dv.add(f"{letter}2:{letter}{last}")
    last_column = get_column_letter(len(FIELD_LABELS))
    items_ws.auto_filter.ref = f"A1:{last_column}{len(checklist['items']) + 1}"

    sections_ws = wb.create_sheet(SECTIONS_SHEET)
    _header(sections_ws, list(SECTION_FIELD_LABELS.values()), (10, 24, 8))
    for section in checklist["sections"]:
        append_row(sections_ws, [section["code"], section["name"], section.get("weight")])

    about_ws = wb.create_sheet(ABOUT_SHEET)
    for row in _about_rows(checklist):
        append_row(about_ws, row)
    about_ws.column_dimensions["A"].width = 28
    about_ws.column_dimensions["B"].width = 100
    for row in about_ws.iter_rows(min_row=1):
        for cell in row:
            cell.alignment = _WRAP
    for cell in about_ws[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Import: archive checks, reading, building
# --------------------------------------------------------------------------------------------

def _refuse(message: str, sheet: str = Message("（整个文件）")) -> ChecklistImportError:
    return ChecklistImportError([ImportProblem(sheet, None, None, Message(message))])


_FORBIDDEN_MARKUP = tuple(
    marker.encode(encoding) for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be"))
_WIDE_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<", b"\x00\x00")


def _check_archive(data: bytes, max_rows: int) -> None:
    """Refuse anything that is not a zip of sane size before openpyxl parses a byte of it."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(Message("文件过大（超过 %(mb)s MB）", mb=MAX_FILE_BYTES // 1024 // 1024))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse(N_("不是有效的 .xlsx 文件（无法作为 Excel 工作簿打开）")) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise _refuse(N_("文件结构异常（压缩包内文件过多），已拒绝"))
        total = sum(info.file_size for info in members)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise _refuse(Message("文件解压后过大（超过 %(mb)s MB），疑似压缩炸弹，已拒绝",
                                  mb=MAX_UNCOMPRESSED_BYTES // 1024 // 1024))
        for info in members:
            ratio_limit = MAX_RATIO * max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and info.file_size > ratio_limit:
                raise _refuse(N_("文件压缩比异常，疑似压缩炸弹，已拒绝"))
        if "[Content_Types].xml" not in archive.namelist():
            raise _refuse(N_("不是有效的 .xlsx 文件（缺少工作簿内容）"))
        max_cells = (max_rows + 1) * _ITEM_COLUMNS_READ * 2
        for info in members:
            _scan_member(archive, info, max_cells)


def _scan_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_cells: int) -> None:
    """Refuse a member holding a DTD or entity declaration, wide-encoded XML, or too many cells."""
    tail = b""
    cells = 0
    is_sheet = info.filename.startswith("xl/worksheets/")
    is_media = info.filename.startswith("xl/media/")
    try:
        with archive.open(info) as member:
            first = True
            while chunk := member.read(_SCAN_CHUNK):
                if first and chunk.startswith(_WIDE_STARTS) and not is_media:
                    raise _refuse(N_("文件包含不支持的 XML 编码，已拒绝"))
                first = False
                window = tail + chunk
                if any(marker in window for marker in _FORBIDDEN_MARKUP):
                    raise _refuse(N_("文件包含不安全的 XML 内容（DTD/实体声明），已拒绝"))
                if is_sheet:
                    cells += chunk.count(b"<c ") + chunk.count(b"<c>")
                    if cells > max_cells:
                        raise _refuse(N_("工作表单元格过多，已拒绝"))
                tail = chunk[-32:]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        # NotImplementedError: unsupported compression; RuntimeError: encrypted member.
        raise _refuse(N_("文件已损坏，无法读取")) from None


Rows = list[tuple[int, list[Any]]]


def _read_rows(ws: Any, sheet: str, max_rows: int, max_col: int) -> Rows:
    """Non-empty rows of a read-only sheet as (row number, values); formulas become _FORMULA.

    Refuses a sheet whose dimension claims too many rows, and stops at the cap anyway in case the
    dimension lies (or is missing)."""
    declared = ws.max_row
    if declared is not None and declared > max_rows + 1:
        raise _refuse(Message("行数过多（%(rows)s 行），最多允许 %(max_rows)s 行", rows=declared,
                              max_rows=max_rows), sheet)
    rows: Rows = []
    # An explicit max_row: openpyxl would otherwise stop at the declared dimension and silently
    # drop the rows of a file whose dimension is too small.
    for number, row in enumerate(ws.iter_rows(max_row=_EXCEL_MAX_ROWS, max_col=max_col), start=1):
        if number > max_rows + 1:
            raise _refuse(Message("行数过多，最多允许 %(max_rows)s 行", max_rows=max_rows), sheet)
        values: list[Any] = []
        for cell in row:
            value = cell.value
            if cell.data_type == "f" or (isinstance(value, str) and value.startswith("=")):
                value = _FORMULA
            elif isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                value = value[:MAX_CELL_CHARS + 1]
            values.append(value)
        if any(v is not None and not (isinstance(v, str) and not v.strip()) for v in values):
            rows.append((number, values))
    return rows


def _find_sheet(wb: Any, canonical: str) -> Any:
    names = {name.strip().lower(): name for name in wb.sheetnames}
    for alias in SHEET_ALIASES[canonical]:
        if alias.lower() in names:
            return wb[names[alias.lower()]]
    return None


def _read_workbook(data: bytes, max_rows: int) -> dict[str, Rows | None]:
    """Read the three sheets' rows; a missing sheet is None."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False,
                                keep_links=False)
    try:
        sheets: dict[str, Rows | None] = {}
        for canonical, max_col in ((ITEMS_SHEET, _ITEM_COLUMNS_READ), (SECTIONS_SHEET, 10),
                                   (ABOUT_SHEET, 2)):
            ws = _find_sheet(wb, canonical)
            sheets[canonical] = None if ws is None else _read_rows(ws, canonical, max_rows,
                                                                    max_col)
        return sheets
    finally:
        wb.close()


def _header_aliases(labels: dict[str, str]) -> dict[str, str]:
    aliases = {label: field for field, label in labels.items()}
    aliases |= {field.lower(): field for field in labels}
    if "deadline_days" in labels:
        aliases |= {"整改期限（天）": "deadline_days", "整改期限": "deadline_days"}
    return aliases


def _read_table(rows: Rows, sheet: str, labels: dict[str, str],
                parsers: dict[str, Callable[[Any], Any]], required: tuple[str, ...],
                defaults: dict[str, Any], problems: list[ImportProblem],
                ) -> tuple[list[dict[str, Any]], list[int], dict[str, str], set[tuple[int, str]]]:
    """Turn a sheet's rows into records.

    Returns the records, their row numbers, the header text used for each field, and the
    (record index, field) pairs whose cell already has a reported problem."""
    if not rows:
        problems.append(ImportProblem(sheet, 1, None, Message("缺少表头行")))
        return [], [], {}, set()
    header_row, header_values = rows[0]
    aliases = _header_aliases(labels)
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    for index, value in enumerate(header_values):
        if value is None:
            continue
        if value is _FORMULA:
            problems.append(ImportProblem(sheet, header_row, get_column_letter(index + 1),
                                          Message("不允许使用公式")))
            continue
        text = str(value).strip()
        field = aliases.get(text) or aliases.get(text.lower())
        if field is None:
            continue  # extra columns (remarks etc.) are ignored, as documented
        if field in columns:
            problems.append(ImportProblem(sheet, header_row, text, Message("表头重复")))
            continue
        columns[field], headers[field] = index, text
    for field in required:
        if field not in columns:
            problems.append(ImportProblem(sheet, header_row, labels[field],
                                          Message("缺少必填列“%(column)s”",
                                                  column=labels[field])))
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    bad: set[tuple[int, str]] = set()
    for number, values in rows[1:]:
        record: dict[str, Any] = {}
        for field, parse in parsers.items():
            column = columns.get(field)
            value = values[column] if column is not None and column < len(values) else None
            header = headers.get(field, labels[field])
            if value is _FORMULA:
                problems.append(ImportProblem(sheet, number, header, Message("不允许使用公式")))
                bad.add((len(records), field))
                record[field] = None
                continue
            if value is None or (isinstance(value, str) and not value.strip()):
                if field in defaults:
                    default = defaults[field]
                    record[field] = list(default) if isinstance(default, list) else \
                        dict(default) if isinstance(default, dict) else default
                elif field in required:
                    if column is not None:
                        problems.append(ImportProblem(sheet, number, header, Message("不能为空")))
                    bad.add((len(records), field))
                    record[field] = "" if field != "weight" else None
                else:
                    record[field] = None
                continue
            try:
                record[field] = parse(value)
            except _CellError as exc:
                problems.append(ImportProblem(sheet, number, header, exc.message))
                bad.add((len(records), field))
                record[field] = None
        records.append(record)
        numbers.append(number)
    return records, numbers, headers, bad


def _read_about(rows: Rows | None, problems: list[ImportProblem],
                ) -> tuple[str | None, str | None, int | None, int | None]:
    name = description = None
    name_row = description_row = None
    for number, values in rows or []:
        key = values[0] if values else None
        value = values[1] if len(values) > 1 else None
        if not isinstance(key, str):
            continue
        key = key.strip().lower()
        if key in ("检查表名称", "name"):
            field = "name"
        elif key in ("检查表说明", "description"):
            field = "description"
        else:
            continue
        if value is _FORMULA:
            problems.append(ImportProblem(ABOUT_SHEET, number, "内容", Message("不允许使用公式")))
            value = None
        try:
            text = _text(value)
        except _CellError as exc:
            problems.append(ImportProblem(ABOUT_SHEET, number, "内容", exc.message))
            text = ""
        if field == "name":
            name, name_row = text, number
        else:
            description, description_row = text, number
    return name, description, name_row, description_row


def _caused_by_defusedxml(exc: BaseException | None) -> bool:
    """Whether defusedxml refused some XML, anywhere in the chain (openpyxl re-raises it)."""
    seen = 0
    while exc is not None and seen < 10:
        if type(exc).__module__.startswith("defusedxml"):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def import_xlsx(data: bytes, *, max_rows: int = 5000, name: str | None = None,
                description: str | None = None) -> dict[str, Any]:
    """Read a checklist workbook and return the checklist dict (the shared contract shape).

    ``name`` and ``description`` override the "说明" sheet. Raises :class:`ChecklistImportError`
    with every problem found (sheet, row, column header, Chinese message) if anything is wrong,
    including hostile files (not a zip, zip bombs, DTD/entity XML, huge sheets, formulas); nothing
    is returned unless the whole checklist is valid.
    """
    _check_archive(data, max_rows)
    with warnings.catch_warnings():
        # openpyxl warns about features of other tools' files it drops (extensions, styles);
        # they must not turn a readable file into a refusal when warnings are errors.
        warnings.simplefilter("ignore")
        try:
            sheets = _read_workbook(data, max_rows)
        except ChecklistImportError:
            raise
        except Exception as exc:  # noqa: BLE001 - a third-party parser fed untrusted bytes
            if _caused_by_defusedxml(exc):
                raise _refuse(N_("文件包含不安全的 XML 内容（DTD/实体声明），已拒绝")) from None
            log.info("checklist workbook refused: %s: %s", type(exc).__name__, exc)
            raise _refuse(N_("不是有效的 .xlsx 文件，或文件已损坏")) from None

    problems: list[ImportProblem] = []
    for canonical, rows in sheets.items():
        if rows is None and not (canonical == ABOUT_SHEET and name is not None):
            problems.append(ImportProblem(canonical, None, None,
                                          Message("缺少工作表“%(sheet)s”", sheet=canonical)))
    item_rows, section_rows = sheets[ITEMS_SHEET], sheets[SECTIONS_SHEET]
    items, item_numbers, item_headers, item_bad = _read_table(
        item_rows or [], ITEMS_SHEET, FIELD_LABELS, _ITEM_PARSERS, REQUIRED_ITEM_FIELDS,
        ITEM_DEFAULTS, problems) if item_rows is not None else ([], [], {}, set())
    sections, section_numbers, section_headers, section_bad = _read_table(
        section_rows or [], SECTIONS_SHEET, SECTION_FIELD_LABELS, _SECTION_PARSERS,
        REQUIRED_SECTION_FIELDS, {}, problems) if section_rows is not None else ([], [], {}, set())
    sheet_name, sheet_description, name_row, description_row = _read_about(
        sheets[ABOUT_SHEET], problems)
    checklist = {
        "name": name if name is not None else (sheet_name or ""),
        "description": description if description is not None else (sheet_description or ""),
        "sections": sections,
        "items": items,
    }
    if item_rows is None or section_rows is None:
        raise ChecklistImportError(problems)

    locations = {
        "items": (ITEMS_SHEET, item_numbers, item_headers, FIELD_LABELS, item_bad),
        "sections": (SECTIONS_SHEET, section_numbers, section_headers, SECTION_FIELD_LABELS,
                     section_bad),
    }
    for problem in checklist_problems(checklist):
        path = problem.path
        if path and path[0] in ("name", "description"):
            row = (name_row if name is None else None) if path[0] == "name" else \
                (description_row if description is None else None)
            problems.append(ImportProblem(ABOUT_SHEET, row, "内容", problem.message))
            continue
        sheet, numbers, headers, labels, bad = locations[str(path[0])]
        if len(path) == 1:
            problems.append(ImportProblem(sheet, None, None, problem.message))
            continue
        index = int(path[1])
        field = str(path[2]) if len(path) > 2 else None
        if field is not None and (index, field) in bad:
            continue  # the cell's own problem was already reported
        column = headers.get(field, labels.get(field, field)) if field else None
        problems.append(ImportProblem(sheet, numbers[index], column, problem.message))
    if problems:
        sheet_order = {ITEMS_SHEET: 0, SECTIONS_SHEET: 1, ABOUT_SHEET: 2}
        column_order = {label: index for index, label in enumerate(FIELD_LABELS.values())}
        problems.sort(key=lambda p: (sheet_order.get(p.sheet, 3), p.row or 0,
                                     column_order.get(p.column or "", 99)))
        raise ChecklistImportError(problems)
    return checklist
