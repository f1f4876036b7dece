"""API: reading the audit log (nobody can write to it through the API)."""
from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView
from marshmallow import fields, validate

from ..api.base import Blueprint
from ..api.fields import Id
from ..api.pagination import page_schema, paginate
from ..auth.permissions import Permission
from ..auth.session import current_user
from ..errors import PermissionDenied
from .models import AuditEntry

blp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit-entries",
                description="操作审计日志（只读）")


class AuditEntrySchema(ma.Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_id = Id(allow_none=True)
    actor_name = fields.String()
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)
    reason = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)


class AuditQuerySchema(ma.Schema):
    object_type = fields.String(validate=validate.Length(max=40))
    object_id = fields.String(validate=validate.Length(max=64))
    action = fields.String(validate=validate.Length(max=64))
    actor_id = Id()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


AuditPage = page_schema(AuditEntrySchema, "AuditEntryPage")


@blp.route("")
class AuditEntries(MethodView):
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPage)
    def get(self, args):
        """Audit entries, newest first (administrators and service managers)."""
        by = current_user()
        if not by.can(Permission.audit_read):
            raise PermissionDenied()
        query = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
        for field in ("object_type", "object_id", "action", "actor_id"):
            if args.get(field) is not None:
                query = query.where(getattr(AuditEntry, field) == args[field])
        return paginate(query, args)
