"""Section weights (分区权重) are checked the same way wherever a checklist comes in (API, Excel
import, standards page): every section has one or none does, and they add up to 100."""
from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from inspect_app.auth.permissions import Role
from inspect_app.checklists.models import Checklist
from inspect_app.checklists.spreadsheet import export_xlsx
from inspect_app.checklists.validation import checklist_problems
from inspect_app.extensions import db


def document(*weights):
    """A small checklist with one section per weight given."""
    codes = ["ENV", "EFF", "NORM"][:len(weights)]
    return {
        "name": "分区权重测试", "description": "",
        "sections": [{"code": code, "name": f"分区{code}", "weight": weight}
                     for code, weight in zip(codes, weights)],
        "items": [{"code": f"{code}-01", "section": code, "text": "大堂整洁", "guidance": "",
                   "weight": 2, "response_type": "pass_fail", "config": {},
                   "photo_rule": "optional", "red_line": False,
                   "modes": ["self_check", "peer_check", "spot_check", "mystery_visit"],
                   "severity": "minor", "deadline_days": 7} for code in codes],
    }


def messages(problems):
    return {(".".join(map(str, p.path)), str(p.message)) for p in problems}


@pytest.mark.parametrize("weights", [(None, None, None), (50, 30, 20), (33.33, 33.33, 33.34),
                                     (100,)])
def test_no_weights_or_weights_adding_up_to_100_are_accepted(weights):
    """None at all, or shares (decimals too) that add up to exactly 100: accepted?"""
    assert checklist_problems(document(*weights)) == []


def test_weights_must_add_up_to_100_and_the_message_says_the_sum():
    """Weights of 50 + 60 + 40: is that refused with "合计应为 100，当前为 150"?"""
    assert messages(checklist_problems(document(50, 60, 40))) == {
        ("sections", "分区权重合计应为 100，当前为 150")}
    assert messages(checklist_problems(document(33.3, 33.3, 33.3))) == {
        ("sections", "分区权重合计应为 100，当前为 99.9")}


def test_weights_are_given_for_every_section_or_none():
    """One section without a weight among weighted ones: is that section named, rather than
    scored by a rule nobody chose?"""
    problems = messages(checklist_problems(document(60, None, 40)))
    assert problems == {("sections.1.weight",
                         "分区权重未填写：其他分区填写了权重，权重要么每个分区都填，要么都不填")}


@pytest.fixture
def manager(make_user, token_for):
    make_user("fwgl", (Role.service_manager, "TS"))
    return token_for("fwgl")


def test_the_api_refuses_weights_that_do_not_add_up(client, manager):
    """Creating a checklist through the API with weights adding up to 150: a 422 in the error
    contract, the sum named, nothing saved? And 100: saved with its weights?"""
    response = client.post("/api/v1/checklists", json=document(50, 60, 40), headers=manager)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "checklist_invalid" and error["message"]
    assert error["details"]["sections"] == ["分区权重合计应为 100，当前为 150"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Checklist)) == 0
    partial = client.post("/api/v1/checklists", json=document(60, None, 40), headers=manager)
    assert partial.status_code == 422
    assert "sections.1.weight" in partial.get_json()["error"]["details"]
    good = client.post("/api/v1/checklists", json=document(50, 30, 20), headers=manager)
    assert good.status_code == 201, good.get_json()
    assert [s["weight"] for s in good.get_json()["sections"]] == [50, 30, 20]


def _workbook(*weights) -> bytes:
    data = export_xlsx(document(*[None] * len(weights)))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for row, weight in enumerate(weights, start=2):
        wb["分区"].cell(row, 3).value = weight
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_imported_workbook_is_checked_the_same_way(client, manager):
    """A workbook whose 分区 sheet leaves one weight empty and one whose weights add up to
    150: does the import name the cell, or the sheet with the sum, and write nothing?"""
    partial = client.post("/api/v1/checklists/import", headers=manager,
                          data={"file": (io.BytesIO(_workbook(60, None, 40)), "标准.xlsx")},
                          content_type="multipart/form-data")
    assert partial.status_code == 422
    problems = partial.get_json()["error"]["details"]
    assert [(p["sheet"], p["row"], p["column"]) for p in problems] == [("分区", 3, "权重")]
    too_much = client.post("/api/v1/checklists/import", headers=manager,
                           data={"file": (io.BytesIO(_workbook(50, 60, 40)), "标准.xlsx")},
                           content_type="multipart/form-data")
    assert too_much.status_code == 422
    assert [(p["sheet"], p["row"], p["message"]) for p in too_much.get_json()["error"]
            ["details"]] == [("分区", None, "分区权重合计应为 100，当前为 150")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Checklist)) == 0


def test_the_standards_page_says_why_in_the_readers_language(client, login, demo):
    """On the 检查标准 page: is the sum named in Chinese, and in English for an English
    reader?"""
    login("fwgl", "Demo@2026")
    with client.session_transaction() as sess:
        csrf = sess["csrf"]
    page = client.post("/manage/standards/import", content_type="multipart/form-data", data={
        "csrf_token": csrf, "base_id": "",
        "file": (io.BytesIO(_workbook(50, 60, 40)), "标准.xlsx")})
    assert page.status_code == 422
    assert "工作表“分区”：分区权重合计应为 100，当前为 150" in page.get_data(as_text=True)
    client.get("/?lang=en")
    english = client.post("/manage/standards/import", content_type="multipart/form-data", data={
        "csrf_token": csrf, "base_id": "",
        "file": (io.BytesIO(_workbook(50, 60, 40)), "标准.xlsx")}).get_data(as_text=True)
    assert "must add up to 100; they add up to 150" in english
