"""API: reading the audit log (nobody can write to it through the API)."""
from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView
from marshmallow import fields, validate

from ..api.base import Blueprint
from ..api.fields import Id
from ..api.pagination import page_schema, paginate
from ..auth.models import ApiToken, User
from ..auth.permissions import Permission
from ..auth.session import current_user
from ..checklists.models import Checklist
from ..errors import PermissionDenied
from ..inspections.models import Campaign, InspectionTeam
from ..orgs.models import OrgUnit
from ..watchlist.models import WatchlistRuleSet
from .models import SEVERAL, AuditEntry, AuditEntryUnit
from .operations import object_type_of

blp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit-entries",
                description="操作审计日志（只读）")


#: Objects whose entries hold no inspection result: their contents are shown to every reader
#: of the log. The others (inspections and their scores, findings, appeals, photos, fixes, the
#: watch-list) are results: an administrator, who sees no results, reads that they changed,
#: when and by whom, not what they hold.
#: Named by their models, as :func:`~inspect_app.audit.operations.record` names them.
NOT_RESULTS = frozenset({
    *map(object_type_of, (User, ApiToken, OrgUnit, Checklist, Campaign, InspectionTeam,
                          WatchlistRuleSet)),
    "backup", "unknown"})


def shows_contents(entry: AuditEntry) -> bool:
    """Results are shown to those who may read the results of the entry's unit."""
    if entry.object_type in NOT_RESULTS:
        return True
    paths = current_user().scope_paths(Permission.inspections_read)
    if entry.org_path is None:  # about the whole bank (a watch-list evaluation, queue data)
        return any(path.count("/") == 2 for path in paths)  # a reader of a whole branch
    return any(unit.startswith(p) for unit in entry.org_paths for p in paths)


def readable(by: User) -> sa.ColumnElement[bool]:
    """The entries ``by`` may read: those about the units of their audit scope, and those about
    the whole bank (no unit). Another branch's entries are not theirs to see — nor those about
    a person with roles in it and in another branch, unless they are the reader's branch."""
    paths = by.scope_paths(Permission.audit_read)
    several = sa.select(AuditEntryUnit.entry_id).where(
        sa.or_(sa.false(), *[AuditEntryUnit.org_path.startswith(path) for path in paths]))
    return sa.or_(AuditEntry.org_path.is_(None),
                  *[AuditEntry.org_path.startswith(path) for path in paths],
                  sa.and_(AuditEntry.org_path == SEVERAL, AuditEntry.id.in_(several)))


class AuditEntrySchema(ma.Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_id = Id(allow_none=True)
    actor_name = fields.String()
    action = fields.String()
    action_label = fields.String(attribute="action_words", metadata={
        "description": "操作（用户所选语言），如“改派检查”；没有名称的（旧版本写下的）操作为其代码"})
    object_type = fields.String()
    object_id = fields.String()
    before = fields.Method("dump_before", allow_none=True, metadata={
        "description": "变更前的内容；检查结果类对象（检查、照片、整改、名单等）只对可查看检查结果的人显示，"
                       "其他人为 null（contents_hidden 为 true）"})
    after = fields.Method("dump_after", allow_none=True, metadata={
        "description": "变更后的内容；同 before"})
    contents_hidden = fields.Method("dump_contents_hidden", metadata={
        "description": "before/after 是否因含检查结果而对您隐藏"})
    reason = fields.String(allow_none=True)
    org_path = fields.String(allow_none=True, metadata={
        "description": "所涉机构的路径（如 /1/4/27/）；null 表示全行（检查表、命令行等）；"
                       "空字符串表示涉及多个分行的机构（在多个分行都有角色的人员），见 org_paths"})
    org_paths = fields.List(fields.String(), metadata={
        "description": "所涉全部机构的路径：通常一个；涉及多个分行时每个分行一个；全行为空列表"})
    ip = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)

    def dump_before(self, entry):
        return entry.before if shows_contents(entry) else None

    def dump_after(self, entry):
        return entry.after if shows_contents(entry) else None

    def dump_contents_hidden(self, entry) -> bool:
        return not shows_contents(entry)


class AuditQuerySchema(ma.Schema):
    object_type = fields.String(validate=validate.Length(max=40))
    object_id = fields.String(validate=validate.Length(max=64))
    action = fields.String(validate=validate.Length(max=64))
    actor_id = Id()
    request_id = fields.String(validate=validate.Length(min=1, max=64), metadata={
        "description": "只看某个请求写下的条目：响应头 X-Request-ID、服务器错误页上的“请求编号”或日志行中的编号"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


AuditPage = page_schema(AuditEntrySchema, "AuditEntryPage")


@blp.route("")
class AuditEntries(MethodView):
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPage)
    def get(self, args):
        """Audit entries of my units and of the whole bank, newest first (administrators and
        service managers)."""
        by = current_user()
        if not by.can(Permission.audit_read):
            raise PermissionDenied()
        query = sa.select(AuditEntry).where(readable(by)).order_by(AuditEntry.id.desc())
        for field in ("object_type", "object_id", "action", "actor_id", "request_id"):
            if args.get(field) is not None:
                query = query.where(getattr(AuditEntry, field) == args[field])
        return paginate(query, args)
