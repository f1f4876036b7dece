"""The JSON shapes of org units."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..api.fields import Id, Name, printable
from ..i18n import N_
from .models import AreaType, OrgKind

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$",
                       error=N_("编码只能包含字母、数字、- 和 _，最长 32 位"))


class OrgUnitSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.Enum(OrgKind, by_value=True, required=True)
    code = fields.String(required=True, validate=CODE)
    name = Name(required=True)
    parent_id = Id(allow_none=True, load_default=None)
    area_type = fields.Enum(AreaType, by_value=True, allow_none=True)
    address = fields.String(allow_none=True, validate=[validate.Length(max=255), printable])
    latitude = fields.Decimal(allow_none=True, places=6, as_string=False,
                              validate=validate.Range(min=-90, max=90),
                              metadata={"minimum": -90, "maximum": 90})
    longitude = fields.Decimal(allow_none=True, places=6, as_string=False,
                               validate=validate.Range(min=-180, max=180),
                               metadata={"minimum": -180, "maximum": 180})
    is_benchmark = fields.Boolean(load_default=False)
    is_active = fields.Boolean(dump_only=True)
    path = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @ma.post_dump
    def floats(self, data, **kwargs):
        # Decimals serialise as JSON numbers.
        for key in ("latitude", "longitude"):
            if data.get(key) is not None:
                data[key] = float(data[key])
        return data


class OrgUnitUpdateSchema(ma.Schema):
    code = fields.String(validate=CODE)
    name = Name()
    parent_id = Id(allow_none=True)
    area_type = fields.Enum(AreaType, by_value=True, allow_none=True)
    address = fields.String(allow_none=True, validate=[validate.Length(max=255), printable])
    latitude = fields.Decimal(allow_none=True, places=6,
                              validate=validate.Range(min=-90, max=90),
                              metadata={"minimum": -90, "maximum": 90})
    longitude = fields.Decimal(allow_none=True, places=6,
                               validate=validate.Range(min=-180, max=180),
                               metadata={"minimum": -180, "maximum": 180})
    is_benchmark = fields.Boolean()
    is_active = fields.Boolean()


class OrgUnitQuerySchema(ma.Schema):
    kind = fields.Enum(OrgKind, by_value=True)
    parent_id = Id()
    q = fields.String(validate=validate.Length(max=50))
    include_inactive = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
