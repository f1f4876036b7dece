"""Creating, editing, publishing and versioning checklists. Flush, never commit."""
from __future__ import annotations

import json
import uuid
from decimal import Decimal
from importlib import resources
from typing import Any

import sqlalchemy as sa

from ..audit.operations import record
from ..auth.models import User
from ..auth.permissions import Permission
from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_
from ..scoring import DEFAULT_RULES, ScoringError, ScoringRules
from ..watchlist.period_scores import regrade_running
from .changes import compare
from .models import Checklist, ChecklistItem, ChecklistSection, ChecklistStatus
from .validation import checklist_problems

DEFAULT_KEY = "csb-outlet"


def require_manager(by: User | None) -> None:
    """Only service managers and administrators change checklists (None = command line)."""
    if by is not None and not by.can(Permission.checklists_manage):
        raise PermissionDenied(N_("只有服务管理人员和管理员可以维护检查表"))


def problems_as_details(document: dict[str, Any]) -> dict[str, list[str]]:
    """Validation problems of a checklist document keyed by a dotted path (``items.3.weight``)."""
    details: dict[str, list[str]] = {}
    for problem in checklist_problems(document):
        path = ".".join(str(part) for part in problem.path) or "_schema"
        details.setdefault(path, []).append(problem.message)
    return details


def _validated(document: dict[str, Any]) -> dict[str, Any]:
    details = problems_as_details(document)
    if details:
        raise InvalidInput(N_("检查表内容有误，未保存"), code="checklist_invalid", details=details)
    return document


def _rules(rules: dict[str, Any] | None) -> dict[str, Any]:
    if rules is None:
        return DEFAULT_RULES.to_dict()
    try:
        return ScoringRules.from_dict(rules).to_dict()
    except (ScoringError, KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(N_("评分规则有误"), code="scoring_rules_invalid",
                           details={"scoring_rules": [getattr(exc, "message", str(exc))]}) from exc


def _fill(checklist: Checklist, document: dict[str, Any]) -> None:
    """Replace the content of a draft with ``document`` (already validated)."""
    if checklist.id is not None:
        # Delete the old rows first: the new ones reuse their (checklist, code) keys.
        checklist.items.clear()
        checklist.sections.clear()
        db.session.flush()
    checklist.name = document["name"]
    checklist.description = document.get("description") or ""
    checklist.sections = [
        ChecklistSection(code=s["code"], name=s["name"], position=index,
                         weight=None if s.get("weight") is None else Decimal(str(s["weight"])))
        for index, s in enumerate(document.get("sections") or [])]
    checklist.items = [
        ChecklistItem(code=i["code"], section_code=i["section"], position=index, text=i["text"],
                      guidance=i.get("guidance") or "", weight=Decimal(str(i["weight"])),
                      response_type=i["response_type"], config=dict(i.get("config") or {}),
                      photo_rule=i["photo_rule"], red_line=bool(i["red_line"]),
                      modes=list(i["modes"]), severity=i["severity"],
                      deadline_days=int(i["deadline_days"]))
        for index, i in enumerate(document["items"])]


def _summary(checklist: Checklist) -> dict[str, Any]:
    return {"key": checklist.key, "version": checklist.version, "status": checklist.status,
            "name": checklist.name, "items": len(checklist.items)}


def create_draft(document: dict[str, Any], *, by: User | None, key: str | None = None,
                 scoring_rules: dict[str, Any] | None = None) -> Checklist:
    """Start a new standard (version 1) as a draft."""
    require_manager(by)
    _validated(document)
    key = key or f"cl-{uuid.uuid4().hex[:10]}"
    if db.session.scalar(sa.select(Checklist.id).where(Checklist.key == key)):
        raise Conflict(N_("检查表标识 %(key)s 已存在，请基于现有版本创建新版本"), key=key,
                       code="key_taken")
    checklist = Checklist(key=key, version=1, status=ChecklistStatus.draft,
                          scoring_rules=_rules(scoring_rules),
                          created_by_id=by.id if by else None)
    _fill(checklist, document)
    db.session.add(checklist)
    db.session.flush()
    record("checklist.create", checklist, actor=by, after=_summary(checklist))
    return checklist


def update_draft(checklist: Checklist, document: dict[str, Any], *, by: User | None,
                 scoring_rules: dict[str, Any] | None = None) -> Checklist:
    """Replace the content of a draft. Published versions refuse (make a new version)."""
    require_manager(by)
    checklist.ensure_editable()
    _validated(document)
    before = _summary(checklist)
    _fill(checklist, document)
    if scoring_rules is not None:
        checklist.scoring_rules = _rules(scoring_rules)
    db.session.flush()
    record("checklist.update", checklist, actor=by, before=before, after=_summary(checklist))
    return checklist


def current_published(key: str) -> Checklist | None:
    """The standard's newest published version (the one campaigns pick up), if any."""
    return db.session.scalar(
        sa.select(Checklist).where(Checklist.key == key,
                                   Checklist.status == ChecklistStatus.published)
        .order_by(Checklist.version.desc()).limit(1))


def _refuse_if_unchanged(checklist: Checklist) -> None:
    """A draft identical to the published version (items, sections and scoring rules) would
    only add a version that changes nothing: refused, so a slip is not published as news."""
    current = current_published(checklist.key)
    if current is None or current.id == checklist.id:
        return
    if compare(current.to_document(), checklist.to_document(), old_rules=current.scoring_rules,
               new_rules=checklist.scoring_rules).empty:
        raise InvalidInput(N_("该草稿与已发布的第 %(version)s 版完全相同（检查项、分区和评分规则都没有变化），"
                              "不能发布：请先修改草稿"), version=current.version,
                           code="no_changes", details={"published_id": current.id})


def publish(checklist: Checklist, *, by: User | None) -> Checklist:
    """Publish a draft: from now on it never changes and inspections can use it. A draft
    that changes nothing against the published version is refused."""
    require_manager(by)
    _validated(checklist.to_document())
    if checklist.status is ChecklistStatus.draft:
        _refuse_if_unchanged(checklist)
    checklist.publish()
    db.session.flush()
    # its weights and bands grade the periods running now (the ended ones keep theirs)
    regrade_running(db.session.connection(), checklist.published_at)
    record("checklist.publish", checklist, actor=by, after=_summary(checklist))
    return checklist


def retire(checklist: Checklist, *, by: User | None) -> Checklist:
    """Retire a published version: kept for history, no longer offered for new campaigns."""
    require_manager(by)
    checklist.retire()
    db.session.flush()
    record("checklist.retire", checklist, actor=by, after=_summary(checklist))
    return checklist


def new_version(base: Checklist, *, by: User | None,
                document: dict[str, Any] | None = None,
                scoring_rules: dict[str, Any] | None = None) -> Checklist:
    """Make the next version of ``base``'s standard as a draft, copied from ``base`` or
    filled from ``document`` (an import). One draft per standard at a time."""
    require_manager(by)
    if base.status is ChecklistStatus.draft:
        raise Conflict(N_("该检查表本身就是草稿，可直接修改"), code="already_draft")
    draft_id = db.session.scalar(sa.select(Checklist.id).where(
        Checklist.key == base.key, Checklist.status == ChecklistStatus.draft))
    if draft_id is not None:
        raise Conflict(N_("该检查表已有一个草稿版本，请先发布或修改它"), code="draft_exists",
                       details={"draft_id": draft_id})
    document = _validated(document if document is not None else base.to_document())
    latest = db.session.scalar(sa.select(sa.func.max(Checklist.version))
                               .where(Checklist.key == base.key))
    checklist = Checklist(key=base.key, version=latest + 1, status=ChecklistStatus.draft,
                          scoring_rules=_rules(scoring_rules if scoring_rules is not None
                                               else base.scoring_rules),
                          based_on_id=base.id, created_by_id=by.id if by else None)
    _fill(checklist, document)
    db.session.add(checklist)
    db.session.flush()
    record("checklist.new_version", checklist, actor=by,
           after={**_summary(checklist), "based_on": base.id})
    return checklist


def draft_of(key: str) -> Checklist | None:
    """The standard's draft (there is at most one at a time)."""
    return db.session.scalar(sa.select(Checklist).where(
        Checklist.key == key, Checklist.status == ChecklistStatus.draft))


def import_document(document: dict[str, Any], *, base: Checklist | None, by: User | None,
                    replace_draft: bool = False) -> Checklist:
    """An imported workbook as a draft: a new standard (no ``base``), or the next version of
    ``base``'s standard. If that standard already has a draft, the import is refused unless
    ``replace_draft`` says to replace the draft's content (its scoring rules are kept): a
    draft someone is preparing is never overwritten by surprise."""
    require_manager(by)
    if base is None:
        return create_draft(document, by=by)
    draft = draft_of(base.key)
    if draft is None:
        return new_version(base, by=by, document=document)
    if not replace_draft:
        raise Conflict(N_("「%(name)s」已有草稿（第 %(version)s 版，ID %(id)s），导入不会覆盖它。"
                          "要用这个文件替换草稿的内容，请勾选“替换现有草稿”后再导入"
                          "（接口：replace_draft=true）；也可以先发布或修改该草稿"),
                       name=draft.name, version=draft.version, id=draft.id,
                       code="draft_exists", details={"draft_id": draft.id})
    return update_draft(draft, document, by=by)


def get_checklist(checklist_id: int, by: User) -> Checklist:
    """A checklist the user may read: published/retired for everyone, drafts for managers."""
    checklist = db.session.get(Checklist, checklist_id)
    if checklist is None or (checklist.status is ChecklistStatus.draft
                             and not by.can(Permission.checklists_manage)):
        raise NotFound(N_("未找到该检查表"), code="checklist_not_found")
    return checklist


def visible_checklists(by: User) -> sa.Select:
    """Checklists the user may list."""
    query = sa.select(Checklist).order_by(Checklist.key, Checklist.version.desc())
    if not by.can(Permission.checklists_manage):
        query = query.where(Checklist.status != ChecklistStatus.draft)
    return query


def default_document() -> dict[str, Any]:
    """The product's default checklist "客户满意银行网点服务检查表" as a document."""
    text = resources.files("inspect_app.checklists").joinpath(
        "data/default_checklist.json").read_text(encoding="utf-8")
    return json.loads(text)


def ensure_default_checklist() -> Checklist:
    """Load and publish the default checklist unless its standard already exists (demo data)."""
    existing = db.session.scalar(sa.select(Checklist).where(Checklist.key == DEFAULT_KEY)
                                 .order_by(Checklist.version.desc()))
    if existing is not None:
        return existing
    checklist = create_draft(default_document(), by=None, key=DEFAULT_KEY)
    return publish(checklist, by=None)
