"""The JSON shapes of people, roles and tokens."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..api.fields import Id, Name
from ..i18n import N_, Label
from .permissions import Permission, Role


class TokenRequestSchema(ma.Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    label = fields.String(validate=validate.Length(max=100))


class GrantSchema(ma.Schema):
    role = fields.Enum(Role, by_value=True, required=True)
    org_unit_id = Id(required=True)
    org_unit_code = fields.String(dump_only=True, attribute="org_unit.code")
    org_unit_name = fields.String(dump_only=True, attribute="org_unit.name")
    role_label = Label(dump_only=True, attribute="role.label")


class UserSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    username = fields.String(required=True,
                             validate=validate.Regexp(r"^[A-Za-z0-9._-]{2,64}$",
                                                      error=N_("用户名只能包含字母、数字、点、- 和 _")))
    # one line: a name is printed in lists, PDFs and a download's file name
    display_name = Name(required=True)
    phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    password = fields.String(load_only=True, required=True, validate=validate.Length(max=256))
    is_active = fields.Boolean(dump_only=True)
    grants = fields.List(fields.Nested(GrantSchema), required=True,
                         validate=validate.Length(min=1, error=N_("至少需要一个角色")))
    last_login_at = fields.DateTime(dump_only=True, allow_none=True)
    locked_until = fields.Method("dump_locked_until", dump_only=True, allow_none=True,
                                 metadata={"type": "string", "format": "date-time",
                                           "description": "登录锁定到何时（连续输错密码）；未锁定为 null。"
                                                          "重设密码即解除锁定"})
    created_at = fields.DateTime(dump_only=True)

    def dump_locked_until(self, user) -> str | None:
        from ..db import utcnow

        return user.locked_until.isoformat() if user.is_locked(utcnow()) else None

    @ma.post_dump(pass_original=True)
    def hide_covert_grants(self, data, user, **kwargs):
        """A mystery shopper's role is left out for a viewer who may not know it."""
        from flask import g, has_request_context

        from .operations import shown_grants

        viewer = g.get("user") if has_request_context() else None
        if viewer is not None and "grants" in data:
            shown = {id(grant) for grant in shown_grants(viewer, user)}
            data["grants"] = [dumped for dumped, grant in zip(data["grants"], user.grants,
                                                              strict=True)
                              if id(grant) in shown]
        return data


class UserUpdateSchema(ma.Schema):
    display_name = Name()
    phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    password = fields.String(load_only=True, validate=validate.Length(max=256))
    is_active = fields.Boolean()
    grants = fields.List(fields.Nested(GrantSchema),
                         validate=validate.Length(min=1, error=N_("至少需要一个角色")))


class UserQuerySchema(ma.Schema):
    q = fields.String(validate=validate.Length(max=50))
    role = fields.Enum(Role, by_value=True)
    include_inactive = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class MeSchema(UserSchema):
    permissions = fields.Method("dump_permissions")

    def dump_permissions(self, user) -> list[str]:
        return sorted(p.value for p in user.permissions())


class TokenSchema(ma.Schema):
    token = fields.String(required=True, metadata={"description": "只显示这一次，请妥善保存"})
    token_type = fields.String(dump_default="Bearer")
    expires_at = fields.DateTime(required=True)
    user = fields.Nested(MeSchema, required=True)


class TokenInfoSchema(ma.Schema):
    id = fields.Integer()
    label = fields.String(allow_none=True)
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)


PERMISSION_NAMES = [p.value for p in Permission]
