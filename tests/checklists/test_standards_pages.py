"""The standards pages: a service manager exports a checklist, edits it in a spreadsheet,
imports it as a draft, reviews what it changes and publishes it — without the API."""
from __future__ import annotations

import io
import re

import openpyxl
import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.checklists.models import Checklist, ChecklistStatus
from inspect_app.extensions import db

from ..helpers import draft_with_rules


def _csrf(client) -> str:
    with client.session_transaction() as sess:
        return sess["csrf"]


def _post(client, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": _csrf(client)},
                       content_type="multipart/form-data")


def _edited(workbook: bytes, edit) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    sheet = wb["检查项"]
    headers = [cell.value for cell in sheet[1]]
    edit(sheet, {name: index for index, name in enumerate(headers)})
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _import(client, data: bytes, base_id: int | str = ""):
    return _post(client, "/manage/standards/import",
                 {"file": (io.BytesIO(data), "标准.xlsx"), "base_id": str(base_id)})


def test_a_manager_imports_an_edited_workbook_reviews_and_publishes_it(client, login, demo):
    """Export → edit two items and delete one in the spreadsheet → import: is it a draft of the
    next version, does its page say exactly what changed, does publishing need the tick, and
    is it published (and audited) with it?"""
    login("fwgl", "Demo@2026")
    page = client.get("/manage/standards").get_data(as_text=True)
    assert demo.name in page and "第 1 版" in page and "已发布" in page
    export = client.get(f"/api/v1/checklists/{demo.id}/export.xlsx")
    assert export.status_code == 200
    first, second, last = demo.items[0], demo.items[1], demo.items[-1]

    def edit(sheet, column):
        sheet.cell(2, column["检查内容"] + 1).value = first.text + "（修订）"
        sheet.cell(3, column["分值"] + 1).value = float(second.weight) + 1
        sheet.delete_rows(sheet.max_row)

    response = _import(client, _edited(export.data, edit), base_id=demo.id)
    assert response.status_code == 302
    draft = db.session.get(Checklist, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert (draft.key, draft.version, draft.status) == (demo.key, 2, ChecklistStatus.draft)
    page = client.get(f"/manage/standards/{draft.id}").get_data(as_text=True)
    assert "与第 1 版相比" in page and "修改 2 项" in page and "删除 1 项" in page
    assert f"<strong>{last.code}</strong> {last.text}" in page
    assert f"<del>{first.text}</del> → <ins>{first.text}（修订）</ins>" in page
    weight = f"{float(second.weight):g}"
    assert f"<del>{weight}</del> → <ins>{float(second.weight) + 1:g}</ins>" in page

    refused = _post(client, f"/manage/standards/{draft.id}/publish", {})
    assert refused.status_code == 422 and "请先勾选确认" in refused.get_data(as_text=True)
    assert db.session.get(Checklist, draft.id).status is ChecklistStatus.draft
    done = _post(client, f"/manage/standards/{draft.id}/publish", {"confirm": "yes"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Checklist, draft.id).status is ChecklistStatus.published
    assert db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "checklist.publish", AuditEntry.object_id == str(draft.id)))
    # the earlier version stays usable until it is retired — on its own page, with the tick
    retired = _post(client, f"/manage/standards/{demo.id}/retire", {"confirm": "yes"})
    assert retired.status_code == 302
    db.session.expire_all()
    assert db.session.get(Checklist, demo.id).status is ChecklistStatus.retired


def test_a_broken_workbook_shows_every_problem_and_changes_nothing(client, login, demo):
    """A weight that is not a number and an unknown section: does the page list both with
    sheet, row and column, answer 422, and leave the checklists as they were?"""
    login("fwgl", "Demo@2026")
    export = client.get(f"/api/v1/checklists/{demo.id}/export.xlsx").data

    def edit(sheet, column):
        sheet.cell(2, column["分值"] + 1).value = "两分"
        sheet.cell(4, column["分区编码"] + 1).value = "NOPE"

    before = db.session.scalar(sa.select(sa.func.count()).select_from(Checklist))
    response = _import(client, _edited(export, edit), base_id=demo.id)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    problems = re.findall(r"<li>(工作表.*?)</li>", text)
    assert any("第 2 行“分值”列" in p for p in problems), problems
    assert any("第 4 行“分区编码”列" in p for p in problems), problems
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Checklist)) == before
    client.get("/?lang=en")  # the session's language from now on
    english = _import(client, _edited(export, edit), base_id=demo.id).get_data(as_text=True)
    assert re.search(r"<li>Sheet “检查项”, row 2, column “分值”: [A-Z][^<]*</li>", english), \
        re.findall(r"<li>Sheet.*?</li>", english)
    client.get("/?lang=zh")
    empty = _post(client, "/manage/standards/import", {"base_id": str(demo.id)})
    assert empty.status_code == 422 and "请选择要导入的 .xlsx 文件" in empty.get_data(
        as_text=True)


def test_a_refused_import_reloaded_or_reopened_is_the_standards_page(client, login, demo):
    """A refused import is shown at the form's address: opened as a page (reopened, or from
    the history), does it lead to the standards page at the import form rather than 405 — and
    so do the addresses of 发布 and 停用, to the version's page?"""
    login("fwgl", "Demo@2026")
    refused = _post(client, "/manage/standards/import", {"base_id": str(demo.id)})
    assert refused.status_code == 422
    opened = client.get("/manage/standards/import")
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/manage/standards#import"
    for action in ("publish", "retire"):
        opened = client.get(f"/manage/standards/{demo.id}/{action}")
        assert opened.status_code == 303, action
        assert opened.headers["Location"] == f"/manage/standards/{demo.id}", action


def test_importing_onto_a_draft_needs_the_replace_tick_and_a_new_file_starts_a_checklist(
        client, login, demo):
    """A second import onto a standard that has a draft: is it refused without 替换现有草稿,
    saying a draft exists (with a link to it) and how to replace it, the draft untouched?
    With the tick, does it replace the draft's content (no third version)? And a file imported
    as a new checklist: version 1 of a new standard?"""
    login("fwgl", "Demo@2026")
    export = client.get(f"/api/v1/checklists/{demo.id}/export.xlsx").data
    draft_id = int(_import(client, export, base_id=demo.id).headers["Location"].rsplit("/", 1)[1])
    page = client.get("/manage/standards").get_data(as_text=True)
    assert f'<option value="{draft_id}">「{demo.name}」（已有草稿：第 2 版）</option>' in page
    assert 'name="replace_draft"' in page

    def edit(sheet, column):
        sheet.cell(2, column["检查内容"] + 1).value = "第二次导入"

    edited = _edited(export, edit)
    for base_id in (draft_id, demo.id):  # the draft itself, or the version it came from
        refused = _import(client, edited, base_id=base_id)
        assert refused.status_code == 409
        text = refused.get_data(as_text=True)
        assert f"「{demo.name}」已有草稿（第 2 版，ID {draft_id}），导入不会覆盖它" in text
        assert "请勾选“替换现有草稿”后再导入" in text
        assert f'href="/manage/standards/{draft_id}">打开该草稿</a>' in text
        db.session.expire_all()
        assert db.session.get(Checklist, draft_id).items[0].text == demo.items[0].text

    again = _post(client, "/manage/standards/import", {
        "file": (io.BytesIO(edited), "标准.xlsx"), "base_id": str(demo.id),
        "replace_draft": "yes"})
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/{draft_id}")
    db.session.expire_all()
    versions = db.session.scalars(sa.select(Checklist.version).where(
        Checklist.key == demo.key)).all()
    assert sorted(versions) == [1, 2]
    assert db.session.get(Checklist, draft_id).items[0].text == "第二次导入"
    new = _post(client, "/manage/standards/import",
                {"file": (io.BytesIO(export), "x.xlsx"), "base_id": "", "name": "网点自查简表"})
    checklist = db.session.get(Checklist, int(new.headers["Location"].rsplit("/", 1)[1]))
    assert (checklist.name, checklist.version) == ("网点自查简表", 1)
    assert checklist.key != demo.key
    assert "这是该检查表的第一个版本。" in client.get(
        f"/manage/standards/{checklist.id}").get_data(as_text=True)


def test_only_those_who_maintain_standards_reach_the_pages(client, login, demo):
    """An outlet manager is refused, a visitor is sent to sign in, the administrator (who reads
    no reports) finds the page in the menu, and a service manager in the managers' tabs."""
    assert client.get("/manage/standards").status_code == 302
    login("wd.lb01", "Demo@2026")
    assert client.get("/manage/standards").status_code == 403
    assert client.get(f"/manage/standards/{demo.id}").status_code == 403
    client.post("/logout", data={"csrf_token": _csrf(client)})
    login("admin", "Demo@2026")
    home = client.get("/manage/standards").get_data(as_text=True)
    assert 'href="/manage/standards">检查标准</a>' in home
    assert "/manage/watchlist" not in home  # no tabs for reports the administrator cannot read
    client.post("/logout", data={"csrf_token": _csrf(client)})
    login("fwgl", "Demo@2026")
    tabs = client.get("/manage/watchlist").get_data(as_text=True)
    assert 'href="/manage/standards">检查标准</a>' in tabs


def test_a_post_without_the_forms_token_changes_nothing(client, login, demo):
    """Cross-site: is a publish or retire without the session's CSRF token refused?"""
    login("fwgl", "Demo@2026")
    response = client.post(f"/manage/standards/{demo.id}/retire", data={"confirm": "yes"})
    assert response.status_code in (400, 403)
    db.session.expire_all()
    assert db.session.get(Checklist, demo.id).status is ChecklistStatus.published


def test_the_pages_in_english(client, login, demo):
    """In English, do the labels, statuses, field names and values read in English (the
    bank's own texts — checklist names, item texts — stay as written)?"""
    login("fwgl", "Demo@2026")
    page = client.get("/manage/standards?lang=en").get_data(as_text=True)
    assert "Standards" in page and "Version 1" in page and "Published" in page
    assert "Import a spreadsheet" in page
    detail = client.get(f"/manage/standards/{demo.id}?lang=en").get_data(as_text=True)
    assert "This is the checklist’s first version." in detail
    assert "<span>Photo rule: Required when failed</span>" in detail
    assert "Pass / fail / N.A." in detail and "Retire" in detail


def test_a_version_shows_its_scoring_rules_and_what_a_draft_changes_in_them(client, login,
                                                                            api, demo):
    """A draft whose only changes are 优秀 from 90 to 95 and the red line from a cap of 59 to
    判定不合格: does its page show its rules, and list both changes (not "内容没有变化") before
    the manager ticks 我已核对 — in English too?"""
    stored = dict(demo.scoring_rules)
    bands = [dict(band) for band in stored["grade_bands"]]
    next(band for band in bands if band["key"] == "excellent")["min"] = 95
    draft_id = draft_with_rules(client, api("fwgl"), demo.id, {**stored, "grade_bands": bands,
                                                               "red_line": {"mode": "fail"}})
    login("fwgl", "Demo@2026")
    published = client.get(f"/manage/standards/{demo.id}").get_data(as_text=True)
    rules = published.split('id="scoring-rules"', 1)[1].split("</section>", 1)[0]
    assert "优秀 90 分及以上；良好 80 分及以上；合格 60 分及以上；不合格 低于 60 分" in rules
    assert "封顶 59 分" in rules and "按检查项分值合计（未设分区权重）" in rules
    assert "自查 1；互查 2；抽查 2；暗访 2" in rules

    page = client.get(f"/manage/standards/{draft_id}").get_data(as_text=True)
    assert "内容没有变化" not in page
    changes = page.split("与第 1 版相比", 1)[1].split("</section>", 1)[0]
    assert "<strong>等级</strong> <del>优秀 90 分及以上</del> → <ins>优秀 95 分及以上</ins>" in changes
    assert "<strong>红线项（一票否决）</strong> <del>封顶 59 分</del> → <ins>判定不合格（0 分）</ins>" \
        in changes
    english = client.get(f"/manage/standards/{draft_id}?lang=en").get_data(as_text=True)
    assert "<del>Excellent from 90</del> → <ins>Excellent from 95</ins>" in english
    assert "<del>Capped at 59</del> → <ins>Failed (0)</ins>" in english


def test_a_section_weight_change_is_named_as_such(client, login, api, demo):
    """Weights given to the five sections: does the change list say 权重 — → 20 per section,
    and the items list each section's weight?"""
    headers = api("fwgl")
    document = client.get(f"/api/v1/checklists/{demo.id}/export.json", headers=headers).get_json()
    for section in document["sections"]:
        section["weight"] = 20
    draft = client.post(f"/api/v1/checklists/{demo.id}/versions", json=document, headers=headers)
    assert draft.status_code == 201, draft.get_json()
    login("fwgl", "Demo@2026")
    page = client.get(f"/manage/standards/{draft.get_json()['id']}").get_data(as_text=True)
    assert "分区 ENV：权重 <del>—</del> → <ins>20</ins>" in page
    assert '网点颜值靓化 <span class="muted">权重 20</span>' in page
    assert "按分区权重合并各分区得分率" in page


def test_a_draft_that_only_reorders_says_so_and_is_published(client, login, api, demo):
    """The items and the sections put in another order, nothing else: does the draft's page
    say both orders changed (not "内容没有变化"), and is it published?"""
    headers = api("fwgl")
    document = client.get(f"/api/v1/checklists/{demo.id}/export.json", headers=headers).get_json()
    document["items"].reverse()
    document["sections"].reverse()
    draft = client.post(f"/api/v1/checklists/{demo.id}/versions", json=document, headers=headers)
    assert draft.status_code == 201, draft.get_json()
    draft_id = draft.get_json()["id"]
    login("fwgl", "Demo@2026")
    page = client.get(f"/manage/standards/{draft_id}").get_data(as_text=True)
    changes = page.split("与第 1 版相比", 1)[1].split("</section>", 1)[0]
    assert "分区顺序已调整。" in changes and "检查项顺序已调整。" in changes
    assert "内容没有变化" not in changes
    published = _post(client, f"/manage/standards/{draft_id}/publish", {"confirm": "yes"})
    assert published.status_code == 302
    db.session.expire_all()
    assert db.session.get(Checklist, draft_id).status is ChecklistStatus.published


def test_a_draft_that_changes_nothing_is_not_published(client, login, api, demo):
    """A draft copied from version 1 and left as it is: is 发布 refused with a message saying
    it is the same as the published version, and nothing published?"""
    draft = client.post(f"/api/v1/checklists/{demo.id}/versions", json={}, headers=api("fwgl"))
    draft_id = draft.get_json()["id"]
    login("fwgl", "Demo@2026")
    page = client.get(f"/manage/standards/{draft_id}").get_data(as_text=True)
    assert "内容没有变化。" in page
    refused = _post(client, f"/manage/standards/{draft_id}/publish", {"confirm": "yes"})
    assert refused.status_code == 422
    assert "该草稿与已发布的第 1 版完全相同（检查项、分区和评分规则都没有变化），不能发布：请先修改草稿" \
        in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Checklist, draft_id).status is ChecklistStatus.draft
