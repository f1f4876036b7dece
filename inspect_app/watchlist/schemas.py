"""JSON shapes of the watch-list, coaching actions and the managers' figures."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..api.fields import BankDate, Id, Upload
from .models import ACTION_KINDS, EVENT_LABELS


class UnitSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String(attribute="kind.value")


class EventSchema(ma.Schema):
    kind = fields.String()
    label = fields.Function(lambda e: EVENT_LABELS.get(e.kind, e.kind))
    on = fields.Date()
    hits = fields.List(fields.Dict())
    note = fields.String(allow_none=True, metadata={"description": "中文说明（规则所写或人工填写）"})
    note_data = fields.Dict(allow_none=True, metadata={
        "description": "规则所写说明的数据（命中的规则键、日期、分数）；人工填写的为 null"})
    rule_set_version = fields.Integer(allow_none=True)


class ActionSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(ACTION_KINDS)))
    kind_label = fields.Function(lambda a: ACTION_KINDS[a.kind], dump_only=True)
    held_on = BankDate(required=True)
    people = fields.String(required=True, validate=validate.Length(min=1, max=500))
    notes = fields.String(load_default="", validate=validate.Length(max=5000))
    attachments = fields.List(fields.Dict(), dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class EntrySchema(ma.Schema):
    id = fields.Integer()
    unit = fields.Nested(UnitSchema)
    status = fields.String(attribute="status.value")
    status_label = fields.String(attribute="status.label")
    entered_on = fields.Date()
    exited_on = fields.Date(allow_none=True)
    exit_kind = fields.String(allow_none=True)
    exit_reason = fields.String(allow_none=True)
    exit_note = fields.Dict(allow_none=True, metadata={
        "description": "按规则出列原因的数据；人工出列为 null"})
    reasons = fields.List(fields.Dict())
    days_on_list = fields.Integer()
    open_items = fields.Integer()
    overdue_items = fields.Integer()
    last_independent_score = fields.Float(allow_none=True)
    trend = fields.String()
    rule_set_version = fields.Integer()


class EntryDetailSchema(EntrySchema):
    events = fields.List(fields.Nested(EventSchema))
    actions = fields.List(fields.Nested(ActionSchema))


class EntryQuerySchema(ma.Schema):
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "exited",
                                                                          "all"]))
    kind = fields.String(validate=validate.OneOf(["outlet", "subbranch"]))


class ManualExitSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(min=4, max=2000))


class RulesSchema(ma.Schema):
    version = fields.Integer(dump_only=True)
    rules = fields.List(fields.Dict(), required=True)
    exit = fields.Dict(required=True)
    period_days = fields.Integer(required=True, validate=validate.Range(min=7, max=366))
    note = fields.String(allow_none=True, validate=validate.Length(max=1000))
    descriptions = fields.List(fields.String(), dump_only=True)
    exit_description = fields.String(dump_only=True)


class EvaluateSchema(ma.Schema):
    as_of = BankDate(metadata={"description": "评估日期（默认今天）"})


class EvaluationSchema(ma.Schema):
    as_of = fields.Date()
    rule_set_version = fields.Integer()
    actions = fields.Dict()
    summary = fields.String()


class QueueImportFileSchema(ma.Schema):
    file = Upload(required=True)


class PeriodQuerySchema(ma.Schema):
    kind = fields.String(load_default="month", validate=validate.OneOf(["week", "month",
                                                                        "quarter"]))
    day = BankDate(metadata={"description": "期间内任一天（默认今天）"})
    mode = fields.String(validate=validate.OneOf(["self_check", "peer_check", "spot_check",
                                                  "mystery_visit"]))
    subbranch_id = Id()
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class TrendQuerySchema(ma.Schema):
    unit_id = Id(required=True)
    months = fields.Integer(load_default=12, validate=validate.Range(min=2, max=36))
    end = BankDate()


class BulletinQuerySchema(ma.Schema):
    kind = fields.String(load_default="week", validate=validate.OneOf(["week", "month"]))
    day = BankDate()
