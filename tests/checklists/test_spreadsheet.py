"""Checklist .xlsx export and import: round trips, precise Chinese errors, hostile files."""
from __future__ import annotations

import io
import json
import re
import time
import zipfile
from importlib import resources
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_app.checklists import spreadsheet
from inspect_app.checklists.spreadsheet import (
    ChecklistImportError,
    ImportProblem,
    export_xlsx,
    format_config,
    import_xlsx,
    parse_config,
)
from inspect_app.checklists.validation import FIELD_LABELS, MODES, checklist_problems

HEADERS = list(FIELD_LABELS.values())
ENGLISH_HEADERS = list(FIELD_LABELS)


def load_default() -> dict[str, Any]:
    text = resources.files("inspect_app.checklists").joinpath(
        "data/default_checklist.json").read_text(encoding="utf-8")
    return json.loads(text)


def workbook_bytes(items: list[list[Any]], *, headers: list[str] = HEADERS,
                   sections: list[list[Any]] | None = None, name: Any = "测试检查表",
                   sheet_names: tuple[str, str, str] = ("检查项", "分区", "说明"),
                   section_headers: tuple[str, ...] = ("编码", "名称", "权重")) -> bytes:
    """A workbook written by hand, as a service manager's own spreadsheet would be."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet_names[0]
    ws.append(headers)
    for row in items:
        ws.append(row)
    ws = wb.create_sheet(sheet_names[1])
    ws.append(list(section_headers))
    for row in sections if sections is not None else [["ENV", "网点颜值靓化", 70],
                                                       ["NORM", "网点服务规范", 30]]:
        ws.append(row)
    ws = wb.create_sheet(sheet_names[2])
    ws.append(["项目", "内容"])
    ws.append(["检查表名称" if sheet_names[2] == "说明" else "name", name])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def good_row(code: str = "ENV-01", **overrides: Any) -> list[Any]:
    row = dict(zip(FIELD_LABELS, [code, "ENV", "大堂整洁", "合格标准：无杂物", 3, "合格/不合格/不适用",
                                  None, "必须", "否", "自查、互查、抽查、暗访", "一般", 7]))
    row.update(overrides)
    return list(row.values())


def problems_of(data: bytes, **kwargs: Any) -> list[ImportProblem]:
    with pytest.raises(ChecklistImportError) as info:
        import_xlsx(data, **kwargs)
    assert info.value.problems
    return info.value.problems


def rewrite_member(data: bytes, name: str, content: bytes) -> bytes:
    """The same xlsx with one zip member replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    assert name in source.namelist()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, content if info.filename == name
                            else source.read(info.filename))
    return out.getvalue()


def sheet_xml(data: bytes, sheet: str = "xl/worksheets/sheet1.xml") -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read(sheet).decode("utf-8")


# -- round trips -------------------------------------------------------------------------------

def test_default_checklist_survives_export_and_import():
    """Does exporting the default checklist and importing it give back an identical dict?"""
    checklist = load_default()
    assert import_xlsx(export_xlsx(checklist)) == checklist


def test_export_is_readable_for_service_managers():
    """Are the sheets, Chinese headers and human-friendly values what a manager expects?"""
    wb = openpyxl.load_workbook(io.BytesIO(export_xlsx(load_default())))
    assert wb.sheetnames == ["检查项", "分区", "说明"]
    items = wb["检查项"]
    assert [c.value for c in items[1]] == HEADERS
    assert items.freeze_panes == "A2"
    assert items.column_dimensions["C"].width >= 30
    rows = {row[0]: row for row in items.iter_rows(min_row=2, values_only=True)}
    wait = rows["EFF-01"]
    assert wait[5] == "数值（限值）" and wait[6] == "limit=15; direction=max; unit=分钟; derived_from=wait_minutes"
    assert rows["NORM-01"][9] == "暗访" and rows["NORM-12"][8] == "是"
    assert rows["ENV-01"][7] == "必须" and rows["ENV-01"][10] == "一般"
    assert rows["ENV-01"][9] == "自查、互查、抽查、暗访"
    validated = {str(dv.sqref).split(":")[0] for dv in items.data_validations.dataValidation}
    assert {"B2", "F2", "H2", "I2", "K2", "E2", "L2"} <= validated
    assert [c.value for c in wb["分区"][1]] == ["编码", "名称", "权重"]
    about = {row[0]: row[1] for row in wb["说明"].iter_rows(values_only=True) if row[0]}
    assert about["检查表名称"] == "客户满意银行网点服务检查表"
    assert "不合格时必须" in about["照片要求（photo_rule）"]
    assert "max=5; pass_at=3" in about["题型参数（config）"]


def test_export_of_text_stored_before_control_characters_were_refused_drops_them():
    """A checklist stored before the API refused control characters still exports (openpyxl
    refuses them in a cell); the text reads back without them, and text that looks like a
    formula stays text."""
    checklist = load_default()
    item = checklist["items"][0]
    item["text"] = "门口\x07整洁"
    item["guidance"] = "=HYPERLINK(\"http://example.com\")"
    workbook = openpyxl.load_workbook(io.BytesIO(export_xlsx(checklist)))
    row = next(row for row in workbook["检查项"].iter_rows(min_row=2) if row[0].value == item["code"])
    cells = {cell.value: cell.data_type for cell in row}
    assert "门口整洁" in cells
    assert cells["=HYPERLINK(\"http://example.com\")"] == "s"


safe_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cn", "Co"),
                           whitelist_characters="\n\t"),
    min_size=1, max_size=40,
).filter(lambda s: s.strip() != "" and not s.startswith("="))
codes = st.from_regex(r"\A[A-Za-z0-9]{1,6}(-[A-Za-z0-9]{1,4})?\Z")
weights = st.one_of(st.integers(1, 100), st.integers(1, 10_000).map(lambda n: n / 100))


@st.composite
def configs(draw: st.DrawFn, response_type: str, weight: float) -> dict[str, Any]:
    allow_na = draw(st.sampled_from([{}, {"allow_na": False}, {"allow_na": True}]))
    if response_type == "scale":
        top = draw(st.integers(1, 10))
        extra = draw(st.sampled_from([{}, {"pass_at": draw(st.integers(0, top))}]))
        return {"max": top, **extra, **allow_na}
    if response_type == "number":
        limit = draw(st.one_of(st.integers(-1000, 1000),
                               st.floats(-1e6, 1e6, allow_nan=False)))
        unit = draw(st.one_of(st.sampled_from(["分钟", "个", "%"]), safe_text))
        return {"limit": limit, "direction": draw(st.sampled_from(["max", "min"])),
                "unit": unit, **allow_na}
    if response_type == "deduction":
        most = draw(st.one_of(st.none(), st.integers(0, int(weight))))
        return ({} if most is None else {"max_deduction": most}) | allow_na
    if response_type == "text":
        return {}
    return allow_na


@st.composite
def section_weights(draw: st.DrawFn, count: int) -> list[Any]:
    """No section weights, or one per section adding up to 100 (in cents, as typed)."""
    if draw(st.booleans()):
        return [None] * count
    cuts = sorted(draw(st.lists(st.integers(1, 9_999), min_size=count - 1, max_size=count - 1,
                                unique=True)))
    bounds = [0, *cuts, 10_000]
    return [(high - low) // 100 if (high - low) % 100 == 0 else (high - low) / 100
            for low, high in zip(bounds, bounds[1:])]


@st.composite
def checklists(draw: st.DrawFn) -> dict[str, Any]:
    section_codes = draw(st.lists(codes, min_size=1, max_size=3, unique_by=str.upper))
    section_weight = draw(section_weights(len(section_codes)))
    sections = [{"code": code, "name": draw(safe_text), "weight": weight}
                for code, weight in zip(section_codes, section_weight)]
    item_codes = draw(st.lists(codes, min_size=1, max_size=6, unique_by=str.upper))
    items = []
    for code in item_codes:
        weight = draw(weights)
        rtype = draw(st.sampled_from(["pass_fail", "scale", "number", "text", "deduction"]))
        items.append({
            "code": code, "section": draw(st.sampled_from(section_codes)),
            "text": draw(safe_text), "guidance": draw(st.one_of(st.just(""), safe_text)),
            "weight": weight, "response_type": rtype, "config": draw(configs(rtype, weight)),
            "photo_rule": draw(st.sampled_from(["required", "on_fail", "optional"])),
            "red_line": draw(st.booleans()),
            "modes": draw(st.lists(st.sampled_from(MODES), min_size=1, unique=True)),
            "severity": draw(st.sampled_from(["minor", "major", "critical"])),
            "deadline_days": draw(st.integers(1, 365)),
        })
    return {"name": draw(safe_text), "description": draw(st.one_of(st.just(""), safe_text)),
            "sections": sections, "items": items}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(checklists())
def test_any_valid_checklist_survives_export_and_import(checklist):
    """Does every valid checklist come back identical after export and import?"""
    assert checklist_problems(checklist) == []
    assert import_xlsx(export_xlsx(checklist)) == checklist


@given(st.dictionaries(st.from_regex(r"\A[a-z_]{1,10}\Z"),
                       st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                                 st.booleans(), st.text(max_size=10)), max_size=4))
def test_config_cell_text_reads_back_identically(config):
    """Does every config written to a cell (key=value or JSON) read back as the same dict?"""
    text = format_config(config)
    assert json.dumps(parse_config(text)) == json.dumps(config)


def test_config_cells_accept_key_value_pairs_and_json():
    """Are "max=5; pass_at=3", full-width separators and JSON all read as the same config?"""
    expected = {"max": 5, "pass_at": 3}
    for text in ("max=5; pass_at=3", "max＝5；pass_at=3", '{"max": 5, "pass_at": 3}',
                 " max=5;pass_at=3; "):
        assert parse_config(text) == expected
    assert parse_config("limit=15; direction=max; unit=分钟") == {
        "limit": 15, "direction": "max", "unit": "分钟"}


# -- headers and friendly values ------------------------------------------------------------------

def test_english_headers_sheet_names_and_keys_are_accepted():
    """Does a workbook with English sheet names, headers and value keys import?"""
    row = ["ENV-01", "ENV", "Lobby is clean", "", 2.5, "scale", '{"max":5,"pass_at":3}',
           "required", "yes", "self_check, mystery_visit", "major", 3]
    data = workbook_bytes([row], headers=ENGLISH_HEADERS,
                          sheet_names=("items", "sections", "about"),
                          section_headers=("code", "name", "weight"), name="English list")
    checklist = import_xlsx(data)
    assert checklist["name"] == "English list"
    assert checklist["items"] == [{
        "code": "ENV-01", "section": "ENV", "text": "Lobby is clean", "guidance": "",
        "weight": 2.5, "response_type": "scale", "config": {"max": 5, "pass_at": 3},
        "photo_rule": "required", "red_line": True, "modes": ["self_check", "mystery_visit"],
        "severity": "major", "deadline_days": 3}]


def test_chinese_values_separators_and_defaults_are_accepted():
    """Are Chinese labels, any mode separator, numeric text and empty optional cells all read?"""
    rows = [
        good_row("ENV-01", modes="暗访，抽查"),
        good_row("ENV-02", modes="自查;互查", weight="2", response_type="0–N 分档评分",
                 config="max=5; pass_at=3"),
        good_row("NORM-01", section="NORM", guidance=None, photo_rule=None, red_line=None,
                 modes=None, severity=None, deadline_days=None, response_type="pass_fail"),
    ]
    items = import_xlsx(workbook_bytes(rows))["items"]
    assert items[0]["modes"] == ["mystery_visit", "spot_check"]
    assert items[1]["modes"] == ["self_check", "peer_check"] and items[1]["weight"] == 2
    assert items[1]["response_type"] == "scale" and items[1]["config"] == {"max": 5, "pass_at": 3}
    assert items[2] == {
        "code": "NORM-01", "section": "NORM", "text": "大堂整洁", "guidance": "", "weight": 3,
        "response_type": "pass_fail", "config": {}, "photo_rule": "on_fail", "red_line": False,
        "modes": list(MODES), "severity": "minor", "deadline_days": 7}


def test_name_and_description_can_come_from_parameters():
    """Can the caller name the checklist when the workbook has no "说明" sheet?"""
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes([good_row()])))
    del wb["说明"]
    buffer = io.BytesIO()
    wb.save(buffer)
    checklist = import_xlsx(buffer.getvalue(), name="季度标准", description="2024 年第三季度")
    assert (checklist["name"], checklist["description"]) == ("季度标准", "2024 年第三季度")


# -- precise errors -------------------------------------------------------------------------------

def test_malformed_spreadsheet_reports_every_problem_with_sheet_row_and_column():
    """Does a bad workbook get one Chinese problem per mistake, at its sheet, row and column?"""
    rows = [
        good_row("ENV-01"),
        good_row("ENV-02", weight="三分"),                       # row 3: text in 分值
        good_row("ENV-03", response_type="问答题"),               # row 4: unknown type
        good_row("ENV-04", section="XYZ"),                       # row 5: unknown section
        good_row("ENV-01"),                                      # row 6: duplicate code
        good_row("ENV-06", deadline_days=0, red_line="可能"),     # row 7: two problems
        good_row("ENV-07", modes="自查、巡查"),                    # row 8: unknown mode
        good_row("ENV-08", response_type="scale", config="max=abc"),  # row 9: bad config
        [None] * 12,                                             # row 10: blank, skipped
        good_row("ENV 09", text=None),                           # row 11: bad code, no text
    ]
    data = workbook_bytes(rows, sections=[["ENV", "网点颜值靓化", None], ["NORM", None, "重"]],
                          name=None)
    found = {(p.sheet, p.row, p.column) for p in problems_of(data)}
    assert found == {
        ("检查项", 3, "分值"), ("检查项", 4, "题型"), ("检查项", 5, "分区编码"),
        ("检查项", 6, "编码"), ("检查项", 7, "整改期限(天)"), ("检查项", 7, "红线项"),
        ("检查项", 8, "适用模式"), ("检查项", 9, "题型参数"), ("检查项", 11, "编码"),
        ("检查项", 11, "检查内容"), ("分区", 3, "名称"), ("分区", 3, "权重"),
        ("说明", 2, "内容"),
    }
    with pytest.raises(ChecklistImportError) as info:
        import_xlsx(data)
    text = str(info.value)
    assert "工作表“检查项”第 3 行“分值”列：必须是数字，不能是“三分”" in text
    assert "巡查" in text and "问答题" in text and "XYZ" in text
    assert info.value.status == 422 and len(info.value.details) == 13


def test_missing_columns_and_sheets_are_named():
    """Are a missing required column and a missing sheet reported by name?"""
    headers = [h for h in HEADERS if h != "分值"]
    row = good_row()
    del row[HEADERS.index("分值")]
    data = workbook_bytes([row], headers=headers)
    assert ("检查项", 1, "分值") in {(p.sheet, p.row, p.column) for p in problems_of(data)}

    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes([good_row()])))
    del wb["分区"]
    buffer = io.BytesIO()
    wb.save(buffer)
    assert [(p.sheet, p.message) for p in problems_of(buffer.getvalue())] == [
        ("分区", "缺少工作表“分区”")]


# -- hostile files ------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"hello, world", b"%PDF-1.7\n...", b"PK\x03\x04broken"])
def test_files_that_are_not_zip_archives_are_refused(data):
    """Is anything that is not a zip refused with a Chinese message?"""
    assert "不是有效的 .xlsx 文件" in problems_of(data)[0].message


def test_a_zip_that_is_not_a_workbook_is_refused():
    """Is a zip without workbook parts refused rather than crashing openpyxl?"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    problems_of(buffer.getvalue())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    assert "xlsx" in problems_of(buffer.getvalue())[0].message


def test_formulas_are_refused_wherever_they_are():
    """Are a formula cell and a text cell starting with "=" both refused at their cell?"""
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes([good_row(), good_row("ENV-02")])))
    wb["检查项"]["E2"] = "=1+2"
    wb["检查项"]["C3"] = "=HYPERLINK(\"http://evil.example\",\"点我\")"
    wb["检查项"]["C3"].data_type = "s"
    wb["说明"]["B2"] = "=A1"
    buffer = io.BytesIO()
    wb.save(buffer)
    problems = problems_of(buffer.getvalue())
    assert {(p.sheet, p.row, p.column) for p in problems} == {
        ("检查项", 2, "分值"), ("检查项", 3, "检查内容"), ("说明", 2, "内容")}
    assert all(p.message.startswith("不允许使用公式") or "不能为空" in p.message
               for p in problems)


def test_sheet_declaring_too_many_rows_is_refused_before_reading():
    """Is a sheet whose dimension claims a million rows refused without iterating it?"""
    data = workbook_bytes([good_row()])
    xml = re.sub(r'<dimension ref="[^"]+"', '<dimension ref="A1:L1000000"', sheet_xml(data))
    assert 'ref="A1:L1000000"' in xml
    problems = problems_of(rewrite_member(data, "xl/worksheets/sheet1.xml", xml.encode()))
    assert problems[0].sheet == "检查项" and "行数过多" in problems[0].message


def test_sheet_lying_about_its_size_is_capped_while_reading():
    """When the dimension lies, does reading stop at the row cap instead of running on?"""
    rows = [good_row(f"E-{n}") for n in range(60)]
    data = workbook_bytes(rows, sections=[["E", "甲", None]])
    xml = re.sub(r'<dimension ref="[^"]+"\s*/>', '<dimension ref="A1:L2"/>', sheet_xml(data))
    assert 'ref="A1:L2"' in xml
    lying = rewrite_member(data, "xl/worksheets/sheet1.xml", xml.encode())
    assert "行数过多" in problems_of(lying, max_rows=50)[0].message

    # One cell far down the sheet: read-only mode would yield a million empty rows before it.
    xml = sheet_xml(data)
    xml = re.sub(r"<sheetData>.*</sheetData>", '<sheetData><row r="1048576"><c r="A1048576" '
                 't="inlineStr"><is><t>x</t></is></c></row></sheetData>', xml, flags=re.S)
    xml = re.sub(r'<dimension ref="[^"]+"\s*/>', "", xml)
    assert "<dimension" not in xml
    start = time.perf_counter()
    problems = problems_of(rewrite_member(data, "xl/worksheets/sheet1.xml", xml.encode()),
                           max_rows=100)
    assert "行数过多" in problems[0].message and time.perf_counter() - start < 2


BILLION_LAUGHS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>"""


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml",
                                    "docProps/core.xml", "[Content_Types].xml"])
def test_billion_laughs_xml_is_refused(member):
    """Is an entity-expansion ("billion laughs") XML part refused, whichever part it is in?"""
    data = rewrite_member(workbook_bytes([good_row()]), member, BILLION_LAUGHS.encode())
    assert "不安全的 XML" in problems_of(data)[0].message


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_billion_laughs_is_refused_by_defusedxml_too(monkeypatch, member):
    """Without the pre-scan, does openpyxl (through defusedxml) still refuse the entities?"""
    monkeypatch.setattr(spreadsheet, "_scan_member", lambda *args: None)
    data = rewrite_member(workbook_bytes([good_row()]), member, BILLION_LAUGHS.encode())
    assert "不安全的 XML" in problems_of(data)[0].message


def test_utf16_xml_cannot_hide_a_doctype():
    """Is an XML part in UTF-16 (where a byte search for <!DOCTYPE would miss) refused?"""
    data = rewrite_member(workbook_bytes([good_row()]), "xl/worksheets/sheet1.xml",
                          BILLION_LAUGHS.replace("UTF-8", "UTF-16").encode("utf-16"))
    problems_of(data)


def test_zip_bomb_is_refused_from_declared_sizes():
    """Is a member that inflates to more than 50 MB refused before it is decompressed?"""
    data = workbook_bytes([good_row()])
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/bomb.bin", b"\0" * (60 * 1024 * 1024))
    assert len(buffer.getvalue()) < 1024 * 1024
    start = time.perf_counter()
    assert "过大" in problems_of(buffer.getvalue())[0].message
    assert time.perf_counter() - start < 1


def test_insanely_compressed_member_is_refused():
    """Is a small but absurdly compressible member (ratio > 200:1) refused as a bomb?"""
    data = rewrite_member(workbook_bytes([good_row()]), "docProps/app.xml",
                          b"<Properties>" + b" " * (4 * 1024 * 1024) + b"</Properties>")
    assert "压缩比" in problems_of(data)[0].message


def test_oversized_upload_is_refused_unread():
    """Is a file larger than the upload limit refused without opening it?"""
    assert "文件过大" in problems_of(b"PK" + b"\0" * spreadsheet.MAX_FILE_BYTES)[0].message
