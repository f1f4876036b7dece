"""Queue-system CSV import: encodings, delimiters, every problem kind, hostile input."""
import codecs
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_app.watchlist.queue_csv import (
    QueueProblem,
    QueueRow,
    looks_like_formula,
    parse_queue_csv,
    summarize,
    to_csv,
)
from inspect_app.watchlist.rules import QueueStats

#: Small, fast and reproducible: no example database written into the repository.
fast = settings(max_examples=60, deadline=None, database=None)

CHINESE = "网点编码,日期,服务客户数,超时客户数\r\n"
ENGLISH = "outlet_code,date,customers_served,customers_over_limit\n"


def parse(text: str, encoding: str = "utf-8", **kwargs):
    return parse_queue_csv(text.encode(encoding), **kwargs)


def messages(result) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.message_zh) for p in result.problems]


def test_gbk_file_from_chinese_excel():
    """Is a GBK (GB18030) file with Chinese headers and slashed dates read?"""
    result = parse(CHINESE + "TS001,2026/03/01,120,6\r\nTS002,2026/3/2,80,0\r\n", "gbk")
    assert result.ok, result.problems
    assert result.encoding == "gb18030"
    assert result.rows == [QueueRow("TS001", date(2026, 3, 1), 120, 6),
                           QueueRow("TS002", date(2026, 3, 2), 80, 0)]


def test_utf8_with_bom_and_english_headers_in_another_order():
    """Are a BOM, English headers in any order and extra columns fine?"""
    text = "date,备注,customers_over_limit,outlet_code,customers_served\n2026-03-01,好,1,A,10\n"
    result = parse_queue_csv(codecs.BOM_UTF8 + text.encode())
    assert result.ok, result.problems
    assert result.encoding == "utf-8-sig"
    assert result.rows == [QueueRow("A", date(2026, 3, 1), 10, 1)]


def test_tab_separated_and_utf16_from_excel_unicode_text():
    """Are tabs detected, including Excel's UTF-16 "Unicode text" export?"""
    text = CHINESE.replace(",", "\t") + "A\t2026-03-01\t10\t2\n"
    for data in (text.encode(), text.encode("utf-16")):
        result = parse_queue_csv(data)
        assert result.ok and result.delimiter == "\t"
        assert result.rows == [QueueRow("A", date(2026, 3, 1), 10, 2)]


def test_every_row_problem_is_reported_with_its_row_and_column():
    """Does each kind of bad value get its own problem, with file row numbers (header = 1)?"""
    text = (CHINESE
            + "A,2026-13-01,10,1\r\n"      # 2: impossible date
            + "A,01.03.2026,10,1\r\n"      # 3: wrong date format
            + "B,2026-03-01,-5,1\r\n"      # 4: negative
            + "C,2026-03-01,1.5,x\r\n"     # 5: not integers (two problems)
            + "D,2026-03-01,5,6\r\n"       # 6: over limit > served
            + "\r\n"                       # 7: blank line, skipped
            + ",2026-03-01,5,1\r\n"        # 8: empty code
            + "E,2026-03-01\r\n"           # 9: missing cells
            + "F,2026-03-01,5,1\r\n"       # 10: fine
            + "F,2026/3/1,6,1\r\n"         # 11: duplicate of 10
            + "G,2026-03-01,99999999999,1\r\n")  # 12: too large
    result = parse(text)
    found = messages(result)
    assert (2, "date", "日期不存在：2026-13-01") in found
    assert (3, "date", "日期格式应为 YYYY-MM-DD 或 YYYY/MM/DD") in found
    assert (4, "customers_served", "服务客户数不能为负数") in found
    assert (5, "customers_served", "服务客户数必须是整数") in found
    assert (5, "customers_over_limit", "超时客户数必须是整数") in found
    assert (6, "customers_over_limit", "超时客户数（6）不能大于服务客户数（5）") in found
    assert (8, "outlet_code", "网点编码不能为空") in found
    assert (9, "customers_served", "缺少「服务客户数」列的值") in found
    assert (9, "customers_over_limit", "缺少「超时客户数」列的值") in found
    assert (11, None, "与第 10 行重复：网点 F 在 2026-03-01 已有数据") in found
    assert (12, "customers_served", "服务客户数过大（不能超过 10000000）") in found
    assert len(found) == 11
    assert result.rows == [QueueRow("F", date(2026, 3, 1), 5, 1)]


def test_header_problems():
    """Are missing and repeated columns named, and does nothing else get read?"""
    result = parse("outlet_code,日期,date,served\nA,2026-03-01,2026-03-01,1\n")
    assert messages(result) == [
        (1, "date", "表头中「日期」列出现了不止一次（第 3 列）"),
        (1, "customers_over_limit", "表头缺少「超时客户数」列（customers_over_limit）"),
    ]
    assert result.rows == []


@pytest.mark.parametrize("cell", ["=cmd|' /c calc'!A1", "@SUM(A1)", "+1+1", "-2+3", "\t=1",
                                  " =HYPERLINK(\"http://x\")"])
def test_formulas_are_refused_in_any_cell(cell):
    """Is a cell a spreadsheet would run refused, wherever it is, even in an ignored column?"""
    quoted = '"' + cell.replace('"', '""') + '"'
    result = parse(f"outlet_code,date,customers_served,customers_over_limit,note\n"
                   f"{quoted},2026-03-01,1,0,ok\nB,2026-03-01,1,0,{quoted}\n")
    assert [(p.row, p.column) for p in result.problems] == [(2, "outlet_code"), (3, None)]
    assert all("公式" in p.message_zh for p in result.problems)


def test_signed_numbers_are_not_formulas():
    """Is ``-5`` a negative number rather than a formula?"""
    assert not looks_like_formula("-5") and not looks_like_formula("+3.5")
    assert looks_like_formula("-5+cmd") and looks_like_formula("=1")


@pytest.mark.parametrize("data,message", [
    (b"", "文件是空的"),
    (b"\r\n \r\n", "文件是空的"),
    ("网点编码,日期,服务客户数,超时客户数\n".encode(), "文件中没有数据行"),
    (b"\xff\xfe\x00\xd8", "无法识别文件编码"),
])
def test_whole_file_problems(data, message):
    """Do empty, header-only and undecodable files get one clear problem?"""
    result = parse_queue_csv(data)
    assert not result.ok
    assert message in result.problems[0].message_zh


def test_size_and_row_caps():
    """Are a too-large file and too many rows refused without reading everything?"""
    big = parse_queue_csv(b"x" * 101, max_bytes=100)
    assert big.problems == [QueueProblem(None, None, "文件过大（101 字节），上限为 100 字节")]
    text = CHINESE + "".join(f"A,2026-03-{d:02d},10,1\r\n" for d in range(1, 6))
    capped = parse(text, max_rows=3)
    assert messages(capped) == [(5, None, "数据行数超过上限 3 行，之后的内容未读取")]
    assert len(capped.rows) == 3


@fast
@given(st.binary(max_size=400))
def test_never_raises_on_random_bytes(data):
    """Does any byte string give a result (rows or problems) rather than an exception?"""
    result = parse_queue_csv(CHINESE.encode() + data)
    assert result.ok or result.problems


@fast
@given(st.text(max_size=200))
def test_never_raises_on_random_text(text):
    """Does any text, NUL bytes and stray quotes included, give a result?"""
    result = parse(CHINESE + text)
    assert isinstance(result.problems, list)


def test_huge_field_is_a_problem_not_a_crash():
    """Does a field beyond the csv module's limit give a problem?"""
    result = parse(CHINESE + 'A,"' + "x" * 200_000 + '",1,1\n')
    assert not result.ok
    assert result.problems[-1].row == 2


codes_ = st.text(alphabet="ABCDEFGHJK0123456789唐山路南", min_size=1, max_size=8)
rows_ = st.builds(
    lambda code, day, served, share: QueueRow(code, day, served, served * share // 100),
    codes_, st.dates(date(2000, 1, 1), date(2099, 12, 31)), st.integers(0, 100_000),
    st.integers(0, 100))


@fast
@given(st.lists(rows_, max_size=30, unique_by=lambda r: (r.outlet_code, r.day)),
       st.sampled_from(["utf-8-sig", "utf-8", "gb18030"]), st.sampled_from([",", "\t"]),
       st.booleans())
def test_round_trip(rows, encoding, delimiter, chinese):
    """Do rows written as CSV (any encoding, delimiter and header language) read back equal?"""
    data = to_csv(rows, chinese_headers=chinese, encoding=encoding, delimiter=delimiter)
    result = parse_queue_csv(data)
    if not rows:
        assert [p.message_zh for p in result.problems] == ["文件中没有数据行"]
        return
    assert result.ok, result.problems
    assert result.rows == rows


def test_summarize_totals_per_outlet_in_range():
    """Are days outside the range left out, and totals, day counts and last day right?"""
    rows = [QueueRow("B", date(2026, 3, 1), 10, 1), QueueRow("A", date(2026, 3, 2), 100, 10),
            QueueRow("A", date(2026, 3, 5), 50, 0), QueueRow("A", date(2026, 4, 1), 999, 999)]
    stats = summarize(rows, date(2026, 3, 1), date(2026, 3, 31))
    assert list(stats) == ["A", "B"]
    assert stats["A"] == QueueStats(150, 10, 2, date(2026, 3, 5))
    assert stats["A"].over_limit_share == pytest.approx(10 / 150)
    assert summarize(rows, date(2025, 1, 1), date(2025, 1, 2)) == {}


@pytest.mark.parametrize("day", ["9999-12-31", "1999-12-31", "2100/01/01"])
def test_dates_outside_the_products_years_are_refused(day):
    """The same years as every date the API takes: 2000 to 2099."""
    found = messages(parse(CHINESE + f"A,{day},5,1\n"))
    assert (2, "date", "日期应在 2000-01-01 至 2099-12-31 之间") in found
