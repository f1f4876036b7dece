"""Queue-system data import (排队系统数据): one CSV row per outlet per day.

The queue system exports, per outlet and day, the customers served and those who waited over the
limit. Service managers open that export in Excel and save it again, so the file arrives as UTF-8
(with or without BOM), GB18030/GBK (Chinese Excel's "CSV"), or UTF-16 with tabs (Excel's
"Unicode text"); comma- or tab-separated; headers in Chinese or English.

:func:`parse_queue_csv` never raises on what it is given: it returns the rows it could read and
**every** problem it found (row numbers as in the file, the header being row 1). The caller refuses
a file with any problem and writes nothing, so the problem list is complete rather than first-error.
:func:`summarize` turns rows into :class:`~inspect_app.watchlist.rules.QueueStats` per outlet.
Pure: no Flask, no database.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from ..api.fields import EARLIEST, LATEST, NOT_ONE_LINE
from ..messages import N_, Message
from .rules import QueueStats

#: Column keys in order, with their Chinese labels.
COLUMNS: Final = ("outlet_code", "date", "customers_served", "customers_over_limit")
COLUMN_LABELS_ZH: Final = {"outlet_code": N_("网点编码"), "date": N_("日期"),
                           "customers_served": N_("服务客户数"),
                           "customers_over_limit": N_("超时客户数")}
#: Header spellings accepted for each column (compared after trimming, lower-casing and removing
#: spaces, underscores and hyphens).
HEADER_ALIASES: Final = {
    "outlet_code": ("网点编码", "网点代码", "网点号", "outletcode", "outlet"),
    "date": ("日期", "date", "day"),
    "customers_served": ("服务客户数", "customersserved", "served"),
    "customers_over_limit": ("超时客户数", "customersoverlimit", "overlimit"),
}

DEFAULT_MAX_ROWS: Final = 200_000
DEFAULT_MAX_BYTES: Final = 20 * 1024 * 1024
#: Larger counts are surely typing errors (and keep sums small).
MAX_COUNT: Final = 10_000_000
MAX_CODE_LENGTH: Final = 64

_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")
_INT = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ODD = re.compile("[^\x00-\x7f\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\ufeff]")


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One outlet's queue figures for one day."""

    outlet_code: str
    day: date
    customers_served: int
    customers_over_limit: int
    #: the row in the file (header = 1), so a later check (an unknown outlet) can name it;
    #: not part of the figures, so two equal rows compare equal wherever they were read
    row: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class QueueProblem:
    """One problem: the row as in the file (header = 1; None for the whole file), the column key
    (None for the whole row) and a Chinese message."""

    row: int | None
    column: str | None
    message_zh: str

    def to_dict(self) -> dict:
        """Plain JSON data."""
        return {"row": self.row, "column": self.column, "message_zh": self.message_zh}


@dataclass(frozen=True, slots=True)
class QueueImport:
    """The result of reading a file: the valid rows and every problem found."""

    rows: list[QueueRow] = field(default_factory=list)
    problems: list[QueueProblem] = field(default_factory=list)
    #: the encoding the file was read with, e.g. ``utf-8-sig`` or ``gb18030``
    encoding: str | None = None
    #: ``","`` or ``"\t"``
    delimiter: str | None = None

    @property
    def ok(self) -> bool:
        """True when the file has no problem at all and may be stored."""
        return not self.problems


def _decode(data: bytes) -> tuple[str, str] | None:
    """The text and the encoding used, or None when no supported encoding fits.

    Without a BOM, short GBK text is sometimes valid UTF-8 as well ("山" is C9 BD in GBK, which
    UTF-8 reads as "ɽ"), so when both decode, the one with fewer characters that cannot belong in
    this file wins, UTF-8 on a tie.
    """
    if data.startswith(codecs.BOM_UTF8):
        return _try(data, "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _try(data, "utf-16")
    utf8, gbk = _try(data, "utf-8"), _try(data, "gb18030")
    if utf8 is None or gbk is None:
        return utf8 or gbk
    return gbk if _oddness(gbk[0]) < _oddness(utf8[0]) else utf8


def _try(data: bytes, encoding: str) -> tuple[str, str] | None:
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        return None


def _oddness(text: str) -> int:
    """How many characters are neither ASCII nor Chinese (CJK ideographs and punctuation,
    full-width forms): mojibake from the wrong encoding is full of them."""
    return len(_ODD.findall(text))


def _normal_header(cell: str) -> str:
    return re.sub(r"[\s_\-\ufeff]", "", cell).lower()


def looks_like_formula(value: str) -> bool:
    """Whether a spreadsheet would run ``value`` as a formula (``=cmd|' /c calc'!A1``, ``@SUM``,
    ``+1+1``…); a plain signed number such as ``-5`` is not one."""
    text = value.strip()
    if not text:
        return False
    if text[0] in "=@" or value[:1] in ("\t", "\r"):
        return True
    return text[0] in "+-" and not _NUMBER.fullmatch(text)


def _parse_date(text: str) -> tuple[date | None, str | None]:
    match = _DATE.fullmatch(text)
    if not match:
        return None, Message("日期格式应为 YYYY-MM-DD 或 YYYY/MM/DD")
    try:
        day = date(int(match[1]), int(match[3]), int(match[4]))
    except ValueError:
        return None, Message("日期不存在：%(date)s", date=text)
    if not EARLIEST <= day <= LATEST:  # as every date the API takes
        return None, Message("日期应在 2000-01-01 至 2099-12-31 之间")
    return day, None


def _parse_count(text: str, label: str) -> tuple[int | None, str | None]:
    column = Message(label)
    if not text:
        return None, Message("%(column)s不能为空", column=column)
    if not _INT.fullmatch(text):
        return None, Message("%(column)s必须是整数", column=column)
    if len(text) > 12:
        return None, Message("%(column)s过大", column=column)
    value = int(text)
    if value < 0:
        return None, Message("%(column)s不能为负数", column=column)
    if value > MAX_COUNT:
        return None, Message("%(column)s过大（不能超过 %(max)s）", column=column, max=MAX_COUNT)
    return value, None


def parse_queue_csv(data: bytes, *, max_rows: int = DEFAULT_MAX_ROWS,
                    max_bytes: int = DEFAULT_MAX_BYTES) -> QueueImport:
    """Read queue-system CSV data and return its valid rows and **all** problems.

    Headers: 网点编码/outlet_code, 日期/date, 服务客户数/customers_served,
    超时客户数/customers_over_limit, in any order; other columns are ignored (but checked for
    formulas). Checks: encoding, size (``max_bytes``) and data-row count (``max_rows``; reading
    stops there), required columns, formulas in any cell, outlet code, date (YYYY-MM-DD or
    YYYY/MM/DD), non-negative integer counts, over-limit ≤ served, and duplicate (outlet, day)
    rows. Never raises for bad input.
    """
    problems: list[QueueProblem] = []
    if not isinstance(data, (bytes, bytearray)):
        return QueueImport(problems=[QueueProblem(None, None, Message("上传内容必须是文件"))])
    if len(data) > max_bytes:
        return QueueImport(problems=[QueueProblem(
            None, None, Message("文件过大（%(size)s 字节），上限为 %(max)s 字节", size=len(data),
                                max=max_bytes))])
    decoded = _decode(bytes(data))
    if decoded is None:
        return QueueImport(problems=[QueueProblem(
            None, None, Message("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件"))])
    text, encoding = decoded
    text = text.lstrip("\ufeff")
    if not text.strip():
        return QueueImport(problems=[QueueProblem(None, None, Message("文件是空的"))],
                           encoding=encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)

    rows: list[QueueRow] = []
    columns: dict[str, int] | None = None
    seen: dict[tuple[str, date], int] = {}
    data_rows = 0
    line = 1
    try:
        for cells in reader:
            row_number, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            for index, cell in enumerate(cells):
                if looks_like_formula(cell):
                    column = None
                    if columns is not None:
                        column = next((k for k, i in columns.items() if i == index), None)
                    problems.append(QueueProblem(
                        row_number, column, Message("第 %(column)s 列包含公式或以 =、+、-、@ 开头的内容，"
                                                    "出于安全原因不予接受", column=index + 1)))
            if columns is None:
                columns = _read_header(cells, problems, row_number)
                if columns is None:
                    return QueueImport(problems=problems, encoding=encoding, delimiter=delimiter)
                continue
            data_rows += 1
            if data_rows > max_rows:
                problems.append(QueueProblem(
                    row_number, None, Message("数据行数超过上限 %(max)s 行，之后的内容未读取",
                                              max=max_rows)))
                break
            row = _read_row(cells, columns, problems, row_number)
            if row is None:
                continue
            key = (row.outlet_code, row.day)
            if key in seen:
                problems.append(QueueProblem(
                    row_number, None, Message("与第 %(row)s 行重复：网点 %(outlet)s 在 %(date)s 已有数据",
                                              row=seen[key], outlet=row.outlet_code,
                                              date=row.day.isoformat())))
                continue
            seen[key] = row_number
            rows.append(row)
    except csv.Error as exc:
        problems.append(QueueProblem(line, None, Message("第 %(row)s 行无法按 CSV 格式读取（%(error)s），"
                                                         "之后的内容未读取", row=line, error=exc)))
    if columns is None:
        problems.append(QueueProblem(None, None, Message("文件没有表头行")))
    elif data_rows == 0 and not problems:
        problems.append(QueueProblem(None, None, Message("文件中没有数据行")))
    return QueueImport(rows=rows, problems=problems, encoding=encoding, delimiter=delimiter)


def _read_header(cells: list[str], problems: list[QueueProblem],
                 row_number: int) -> dict[str, int] | None:
    """Column positions by key, or None (with problems added) when the header is unusable."""
    lookup = {alias: key for key, aliases in HEADER_ALIASES.items() for alias in aliases}
    columns: dict[str, int] = {}
    before = len(problems)
    for index, cell in enumerate(cells):
        key = lookup.get(_normal_header(cell))
        if key is None:
            continue
        if key in columns:
            problems.append(QueueProblem(row_number, key, Message(
                "表头中「%(label)s」列出现了不止一次（第 %(column)s 列）",
                label=Message(COLUMN_LABELS_ZH[key]), column=index + 1)))
        else:
            columns[key] = index
    for key in COLUMNS:
        if key not in columns:
            problems.append(QueueProblem(
                row_number, key, Message("表头缺少「%(label)s」列（%(key)s）",
                                         label=Message(COLUMN_LABELS_ZH[key]), key=key)))
    return None if len(problems) > before else columns


def _read_row(cells: list[str], columns: dict[str, int], problems: list[QueueProblem],
              row_number: int) -> QueueRow | None:
    """The row, or None with its problems added."""
    values: dict[str, object] = {}
    found = False
    for key in COLUMNS:
        index = columns[key]
        raw = cells[index] if index < len(cells) else None
        label = COLUMN_LABELS_ZH[key]
        if raw is None:
            problems.append(QueueProblem(row_number, key, Message("缺少「%(label)s」列的值",
                                                                  label=Message(label))))
            found = True
            continue
        if looks_like_formula(raw):
            found = True  # already reported for the cell
            continue
        text = raw.strip()
        error: Message | None = None
        if key == "outlet_code":
            if not text:
                error = Message("网点编码不能为空")
            elif len(text) > MAX_CODE_LENGTH or NOT_ONE_LINE.search(text):
                error = Message("网点编码无效（最多 %(max)s 个字符，不能含控制字符）",
                                max=MAX_CODE_LENGTH)
            values[key] = text
        elif key == "date":
            values[key], error = _parse_date(text) if text else (None, Message("日期不能为空"))
        else:
            values[key], error = _parse_count(text, label)
        if error:
            problems.append(QueueProblem(row_number, key, error))
            found = True
    if found:
        return None
    served, over = values["customers_served"], values["customers_over_limit"]
    if over > served:  # type: ignore[operator]
        problems.append(QueueProblem(row_number, "customers_over_limit",
                                     Message("超时客户数（%(over)s）不能大于服务客户数（%(served)s）",
                                             over=over, served=served)))
        return None
    return QueueRow(values["outlet_code"], values["date"], served, over,  # type: ignore[arg-type]
                    row=row_number)


def to_csv(rows: Iterable[QueueRow], *, chinese_headers: bool = True,
           encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    """Write rows in the format :func:`parse_queue_csv` reads (also a template for users).

    ``utf-8-sig`` (UTF-8 with BOM) is what Excel opens correctly on Chinese Windows.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([COLUMN_LABELS_ZH[k] for k in COLUMNS] if chinese_headers else COLUMNS)
    for row in rows:
        writer.writerow([row.outlet_code, row.day.isoformat(), row.customers_served,
                         row.customers_over_limit])
    return out.getvalue().encode(encoding)


def summarize(rows: Iterable[QueueRow], start: date, end: date) -> dict[str, QueueStats]:
    """Totals per outlet code over the days ``start``–``end`` (both included), sorted by code.

    Outlets without rows in the range are absent; ``last_day`` is the latest day with data.
    """
    served: dict[str, int] = {}
    over: dict[str, int] = {}
    days: dict[str, set[date]] = {}
    for row in rows:
        if start <= row.day <= end:
            served[row.outlet_code] = served.get(row.outlet_code, 0) + row.customers_served
            over[row.outlet_code] = over.get(row.outlet_code, 0) + row.customers_over_limit
            days.setdefault(row.outlet_code, set()).add(row.day)
    return {code: QueueStats(served[code], over[code], len(days[code]), max(days[code]))
            for code in sorted(served)}
