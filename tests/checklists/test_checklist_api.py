"""Checklists through the API: versions, immutability, import and export, permissions."""
from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.auth.permissions import Role
from inspect_app.checklists.models import Checklist, ChecklistImmutable, ChecklistStatus
from inspect_app.checklists.operations import default_document, ensure_default_checklist
from inspect_app.checklists.spreadsheet import export_xlsx
from inspect_app.extensions import db


@pytest.fixture
def manager(make_user, token_for):
    make_user("fwgl", (Role.service_manager, "TS"))
    return token_for("fwgl")


@pytest.fixture
def published(org):
    checklist = ensure_default_checklist()
    db.session.commit()
    return checklist


def small_document(**changes):
    document = {
        "name": "小型检查表", "description": "测试",
        "sections": [{"code": "ENV", "name": "网点颜值靓化"}],
        "items": [
            {"code": "ENV-01", "section": "ENV", "text": "大堂整洁", "weight": 3,
             "response_type": "pass_fail"},
            {"code": "EFF-01", "section": "ENV", "text": "等候时间", "weight": 5,
             "response_type": "number", "config": {"limit": 15, "direction": "max", "unit": "分钟"},
             "modes": ["mystery_visit"], "red_line": True, "severity": "critical",
             "deadline_days": 1},
        ],
    }
    document.update(changes)
    return document


def test_manager_creates_edits_and_publishes_a_draft(client, manager):
    """Can a service manager create a draft, edit it, and publish it?"""
    created = client.post("/api/v1/checklists", json={**small_document(), "key": "mini"},
                          headers=manager)
    assert created.status_code == 201, created.get_json()
    checklist = created.get_json()
    assert checklist["status"] == "draft" and checklist["version"] == 1
    assert checklist["items"][1]["config"]["limit"] == 15
    edited = client.put(f"/api/v1/checklists/{checklist['id']}",
                        json=small_document(name="小型检查表（修订）"), headers=manager)
    assert edited.status_code == 200 and edited.get_json()["name"] == "小型检查表（修订）"
    published = client.post(f"/api/v1/checklists/{checklist['id']}/publish", headers=manager)
    assert published.status_code == 200 and published.get_json()["status"] == "published"


def test_published_version_is_immutable(client, manager, published):
    """Is editing a published checklist refused, by the API and by the model itself?"""
    response = client.put(f"/api/v1/checklists/{published.id}", json=small_document(),
                          headers=manager)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "checklist_immutable"
    published.items[0].weight = 99
    with pytest.raises(ChecklistImmutable):
        db.session.flush()
    db.session.rollback()


def test_new_version_copies_and_leaves_the_old_one_untouched(client, manager, published):
    """Does a new version start as an identical draft, while v1 stays as it was?"""
    response = client.post(f"/api/v1/checklists/{published.id}/versions", json={},
                           headers=manager)
    assert response.status_code == 201, response.get_json()
    draft = response.get_json()
    assert draft["version"] == 2 and draft["status"] == "draft"
    assert draft["items"] == client.get(f"/api/v1/checklists/{published.id}",
                                        headers=manager).get_json()["items"]
    second = client.post(f"/api/v1/checklists/{published.id}/versions", json={},
                         headers=manager)
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "draft_exists"


def test_retire_only_published(client, manager, published):
    """Can a published version be retired, and is retiring twice refused?"""
    assert client.post(f"/api/v1/checklists/{published.id}/retire",
                       headers=manager).status_code == 200
    again = client.post(f"/api/v1/checklists/{published.id}/retire", headers=manager)
    assert again.status_code == 409


def test_invalid_document_names_each_problem(client, manager):
    """Does a bad checklist get a 422 naming the item field at fault, in Chinese?"""
    bad = small_document()
    bad["items"][0]["section"] = "NOPE"
    bad["items"][1]["config"] = {"limit": 15, "direction": "sideways"}
    response = client.post("/api/v1/checklists", json=bad, headers=manager)
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert "items.0.section" in details and "items.1.config" in details
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Checklist)) == 0


def test_inspector_reads_published_but_not_drafts_and_cannot_change(client, org, manager,
                                                                    published, make_user,
                                                                    token_for):
    """May an inspector read published checklists only, and change none?"""
    draft = client.post(f"/api/v1/checklists/{published.id}/versions", json={},
                        headers=manager).get_json()
    make_user("jc1", (Role.inspector, "TS-LB"))
    inspector = token_for("jc1")
    listed = client.get("/api/v1/checklists", headers=inspector).get_json()
    assert [c["status"] for c in listed["items"]] == ["published"]
    assert client.get(f"/api/v1/checklists/{draft['id']}", headers=inspector).status_code == 404
    assert client.get(f"/api/v1/checklists/{published.id}",
                      headers=inspector).status_code == 200
    refused = client.post("/api/v1/checklists", json=small_document(), headers=inspector)
    assert refused.status_code == 403


def test_spreadsheet_round_trip_through_the_api(client, manager, published):
    """Can the default checklist be exported, edited in a spreadsheet, imported as a new version
    and published — with everything else identical?"""
    exported = client.get(f"/api/v1/checklists/{published.id}/export.xlsx", headers=manager)
    assert exported.status_code == 200
    assert "filename*=UTF-8''" in exported.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(exported.data))
    sheet = workbook["检查项"]
    headers = [cell.value for cell in sheet[1]]
    sheet.cell(row=2, column=headers.index("分值") + 1, value=4)
    buffer = io.BytesIO()
    workbook.save(buffer)
    imported = client.post("/api/v1/checklists/import", headers=manager,
                           data={"base_id": str(published.id),
                                 "file": (io.BytesIO(buffer.getvalue()), "标准.xlsx")},
                           content_type="multipart/form-data")
    assert imported.status_code == 201, imported.get_json()
    draft = imported.get_json()
    assert draft["version"] == 2 and draft["items"][0]["weight"] == 4
    original = published.to_document()
    assert draft["items"][1:] == original["items"][1:]
    assert client.post(f"/api/v1/checklists/{draft['id']}/publish",
                       headers=manager).status_code == 200


def test_malformed_spreadsheet_changes_nothing(client, manager, published):
    """Does a spreadsheet with errors get precise Chinese problems and write nothing?"""
    document = default_document()
    data = export_xlsx(document)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook["检查项"]
    headers = [cell.value for cell in sheet[1]]
    sheet.cell(row=3, column=headers.index("分值") + 1, value="三分")
    sheet.cell(row=5, column=headers.index("题型") + 1, value="猜谜")
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Checklist))
    response = client.post("/api/v1/checklists/import", headers=manager,
                           data={"base_id": str(published.id),
                                 "file": (io.BytesIO(buffer.getvalue()), "bad.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    problems = response.get_json()["error"]["details"]
    assert {(p["sheet"], p["row"], p["column"]) for p in problems} >= {
        ("检查项", 3, "分值"), ("检查项", 5, "题型")}
    assert all(p["message"] for p in problems)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Checklist)) == before


def test_json_export_imports_as_a_new_version(client, manager, published):
    """Does the JSON export go back in as a new version with identical content?"""
    exported = client.get(f"/api/v1/checklists/{published.id}/export.json",
                          headers=manager).get_json()
    response = client.post(f"/api/v1/checklists/{published.id}/versions", json=exported,
                           headers=manager)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["items"] == exported["items"]


def test_default_checklist_is_seeded_published(runner):
    """Does seed-demo load the default checklist, published, with at least 40 items?"""
    runner.invoke(args=["seed-demo", "--quiet"])
    checklist = db.session.scalar(sa.select(Checklist))
    assert checklist.status is ChecklistStatus.published and len(checklist.items) >= 40
    assert checklist.name == "客户满意银行网点服务检查表"


def test_checklist_changes_are_audited(client, manager, published):
    """Do publishing and versioning leave audit entries?"""
    client.post(f"/api/v1/checklists/{published.id}/versions", json={}, headers=manager)
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"checklist.create", "checklist.publish", "checklist.new_version"} <= actions


def test_publishing_a_draft_that_changes_nothing_is_refused(client, manager, published):
    """A new version copied and published as it is: a 422 in the error contract, naming the
    published version, the draft left a draft? And once its rules change, is it published?"""
    draft = client.post(f"/api/v1/checklists/{published.id}/versions", json={},
                        headers=manager).get_json()
    refused = client.post(f"/api/v1/checklists/{draft['id']}/publish", headers=manager)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "no_changes" and "第 1 版完全相同" in error["message"]
    assert db.session.get(Checklist, draft["id"]).status is ChecklistStatus.draft
    rules = {**draft["scoring_rules"], "red_line": {"mode": "fail"}}
    document = {key: draft[key] for key in ("name", "description", "sections", "items")}
    assert client.put(f"/api/v1/checklists/{draft['id']}", headers=manager,
                      json={**document, "scoring_rules": rules}).status_code == 200
    assert client.post(f"/api/v1/checklists/{draft['id']}/publish",
                       headers=manager).status_code == 200


@pytest.mark.parametrize("change", ["items", "sections", "code"])
def test_a_draft_that_only_reorders_or_recases_is_a_change_and_is_published(
        client, manager, published, change):
    """Items or sections in another order (the order the form, the PDF and the spreadsheet
    show), or a code in another case (answers are keyed by the exact code): is such a draft
    published (200), not refused as "完全相同"?"""
    document = published.to_document()
    if change == "code":
        document["items"][0]["code"] = document["items"][0]["code"].lower()
    else:
        document[change].reverse()
    draft = client.post(f"/api/v1/checklists/{published.id}/versions", json=document,
                        headers=manager)
    assert draft.status_code == 201, draft.get_json()
    response = client.post(f"/api/v1/checklists/{draft.get_json()['id']}/publish",
                           headers=manager)
    assert response.status_code == 200, response.get_json()


def _upload(client, manager, data: bytes, **form):
    return client.post("/api/v1/checklists/import", headers=manager,
                       data={**form, "file": (io.BytesIO(data), "标准.xlsx")},
                       content_type="multipart/form-data")


def test_importing_onto_a_standard_with_a_draft_needs_replace_draft(client, manager, published):
    """A standard with a draft: is an import refused (409 draft_exists, with the draft's id and
    how to replace it) and the draft left as it was; and with replace_draft=true, is the
    draft's content replaced, no new version made?"""
    draft = client.post(f"/api/v1/checklists/{published.id}/versions", json={},
                        headers=manager).get_json()
    workbook = openpyxl.load_workbook(io.BytesIO(export_xlsx(published.to_document())))
    sheet = workbook["检查项"]
    sheet.cell(row=2, column=[c.value for c in sheet[1]].index("检查内容") + 1, value="导入的新内容")
    buffer = io.BytesIO()
    workbook.save(buffer)
    for base_id in (published.id, draft["id"]):
        refused = _upload(client, manager, buffer.getvalue(), base_id=str(base_id))
        assert refused.status_code == 409
        error = refused.get_json()["error"]
        assert error["code"] == "draft_exists" and error["details"]["draft_id"] == draft["id"]
        assert f"ID {draft['id']}" in error["message"] and "replace_draft=true" in error["message"]
        db.session.expire_all()
        assert db.session.get(Checklist, draft["id"]).items[0].text != "导入的新内容"
    replaced = _upload(client, manager, buffer.getvalue(), base_id=str(published.id),
                       replace_draft="true")
    assert replaced.status_code == 201, replaced.get_json()
    assert replaced.get_json()["id"] == draft["id"]
    assert replaced.get_json()["items"][0]["text"] == "导入的新内容"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Checklist)) == 2
