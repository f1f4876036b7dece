"""The JSON shapes of checklists. The document schema is the API's only gate for content."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..api.fields import Id, Upload
from ..i18n import N_, Label
from .models import ChecklistStatus
from .validation import MODES, PHOTO_RULES, SEVERITIES

CODE = validate.Regexp(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$", error=N_("编码只能包含字母、数字和连字符"))


class SectionSchema(ma.Schema):
    code = fields.String(required=True, validate=[validate.Length(max=32), CODE])
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    weight = fields.Float(allow_none=True, load_default=None)


class ItemSchema(ma.Schema):
    code = fields.String(required=True, validate=[validate.Length(max=32), CODE])
    section = fields.String(required=True, validate=validate.Length(max=32))
    text = fields.String(required=True, validate=validate.Length(min=1, max=500))
    guidance = fields.String(load_default="", validate=validate.Length(max=2000))
    weight = fields.Float(required=True, allow_nan=False)
    response_type = fields.String(required=True, validate=validate.Length(max=32))
    config = fields.Dict(keys=fields.String(), load_default=dict)
    photo_rule = fields.String(load_default="on_fail", validate=validate.OneOf(PHOTO_RULES))
    red_line = fields.Boolean(load_default=False)
    modes = fields.List(fields.String(validate=validate.OneOf(MODES)),
                        load_default=lambda: list(MODES))
    severity = fields.String(load_default="minor", validate=validate.OneOf(SEVERITIES))
    deadline_days = fields.Integer(load_default=7, strict=True)


class ChecklistDocumentSchema(ma.Schema):
    """A checklist's content: what is imported, exported and edited."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    sections = fields.List(fields.Nested(SectionSchema), required=True)
    items = fields.List(fields.Nested(ItemSchema), required=True,
                        validate=validate.Length(min=1, max=2000))

    @ma.post_load
    def drop_float_noise(self, data, **kwargs):
        # 3.0 → 3: keep whole points whole, as the spreadsheet and the default checklist do.
        for entry in data["items"] + data["sections"]:
            weight = entry.get("weight")
            if isinstance(weight, float) and weight.is_integer():
                entry["weight"] = int(weight)
        return data


class NewVersionSchema(ma.Schema):
    """Body of "new version": empty to copy the base version, or a whole document to import."""

    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000))
    sections = fields.List(fields.Nested(SectionSchema))
    items = fields.List(fields.Nested(ItemSchema), validate=validate.Length(min=1, max=2000))

    @ma.post_load
    def whole_or_nothing(self, data, **kwargs):
        if data and not {"name", "sections", "items"} <= set(data):
            raise ma.ValidationError(N_("导入的检查表需要同时包含 name、sections 和 items"))
        if data:
            data.setdefault("description", "")
            return ChecklistDocumentSchema.drop_float_noise(None, data)
        return data


class ChecklistWriteSchema(ChecklistDocumentSchema):
    """Create or edit a draft; ``key`` names the standard (versions share it)."""

    key = fields.String(validate=[validate.Length(min=2, max=64),
                                  validate.Regexp(r"^[a-z0-9][a-z0-9-]*$",
                                                  error=N_("标识只能包含小写字母、数字和连字符"))])
    scoring_rules = fields.Dict(allow_none=True, load_default=None)


class ChecklistSummarySchema(ma.Schema):
    id = fields.Integer()
    key = fields.String()
    version = fields.Integer()
    name = fields.String()
    status = fields.Enum(ChecklistStatus, by_value=True)
    status_label = Label(attribute="status.label")
    item_count = fields.Function(lambda c: len(c.items))
    based_on_id = Id(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    retired_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ChecklistSchema(ChecklistSummarySchema):
    """A version with its sections and items, in the document shape."""

    description = fields.String()
    scoring_rules = fields.Dict()
    sections = fields.Function(lambda c: c.to_document()["sections"])
    items = fields.Function(lambda c: c.to_document()["items"])


class ChecklistQuerySchema(ma.Schema):
    status = fields.Enum(ChecklistStatus, by_value=True)
    key = fields.String(validate=validate.Length(max=64))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ImportFormSchema(ma.Schema):
    """Form fields sent with an .xlsx upload."""

    base_id = Id(metadata={"description": "基于哪个已发布版本导入为新版本；不填则新建检查表"})
    name = fields.String(validate=validate.Length(min=1, max=200))
    replace_draft = fields.Boolean(load_default=False, metadata={
        "description": "该检查表已有草稿时，用此文件替换草稿的内容；不填则拒绝导入（409 draft_exists）"})


class ImportUploadSchema(ImportFormSchema):
    """An .xlsx upload: the file and its form fields, one multipart body."""

    file = Upload(required=True)
