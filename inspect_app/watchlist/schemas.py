"""JSON shapes of the watch-list, coaching actions and the managers' figures."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..api.fields import BankDate, Id, Upload
from ..i18n import Label
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
    subbranch_id = Id(metadata={"description": "只看该支行的网点（须在您的范围内，否则 404）；"
                                               "支行排名不受影响"})
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class TrendQuerySchema(ma.Schema):
    unit_id = Id(required=True)
    months = fields.Integer(load_default=12, validate=validate.Range(min=2, max=36))
    end = BankDate()


class BulletinQuerySchema(ma.Schema):
    kind = fields.String(load_default="week", validate=validate.OneOf(["week", "month"]))
    day = BankDate()


# -- managers' figures (answers of /dashboard/* and /bulletins) -------------------------------


def _score(description: str) -> fields.Float:
    return fields.Float(allow_none=True, metadata={"description": description})


class SubbranchRankSchema(ma.Schema):
    """One ranked unit. A unit without a score in the period comes last, without ``rank``. A
    sub-branch manager gets the other sub-branches as ``{"rank": n, "own": false}`` only."""

    rank = fields.Integer(allow_none=True, metadata={"description": "名次（本期无得分的机构没有名次）"})
    own = fields.Boolean(metadata={
        "description": "仅在为 false 时出现：其他支行，支行管理者只能看到其名次"})
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    combined = _score("综合得分（独立检查为主，自查按比例计入）")
    grade = Label(allow_none=True, metadata={"description": "等级（用户所选语言）"})
    count = fields.Integer(metadata={"description": "本期计分的检查次数"})
    self_mean = _score("自查平均分")
    independent_mean = _score("独立检查（互查、抽查、暗访）平均分")
    gap = _score("自查平均分减独立检查平均分（虚高）")


class OutletRankSchema(SubbranchRankSchema):
    subbranch = fields.String(allow_none=True, metadata={"description": "所属支行名称"})
    is_benchmark = fields.Boolean(metadata={"description": "是否标杆网点"})


class StandingSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    rank = fields.Integer(allow_none=True, metadata={"description": "在全行网点中的名次；本期无得分为 null"})
    of = fields.Integer(metadata={"description": "全行本期有得分的网点数"})


class RankingsSchema(ma.Schema):
    period = fields.String(metadata={"description": "期间名称，如“2026年10月”"})
    outlets = fields.List(fields.Nested(OutletRankSchema))
    subbranches = fields.List(fields.Nested(SubbranchRankSchema))
    standing = fields.List(fields.Nested(StandingSchema), metadata={
        "description": "只读单个网点的用户（网点负责人）：本网点在全行的名次，不含其他网点的名称与得分；其他用户为空"})


class FailedItemSchema(ma.Schema):
    item_code = fields.String()
    item_text = fields.String()
    section = fields.String(metadata={"description": "检查项所属部分的代码"})
    failures = fields.Integer(metadata={"description": "本期未通过次数"})
    outlets = fields.Integer(metadata={"description": "涉及网点数"})


class SectionFailuresSchema(ma.Schema):
    section = fields.String()
    failures = fields.Integer()


class FailedItemsSchema(ma.Schema):
    period = fields.String()
    items = fields.List(fields.Nested(FailedItemSchema))
    sections = fields.List(fields.Nested(SectionFailuresSchema))


class ModeComparisonSchema(ma.Schema):
    period = fields.String()
    outlets = fields.List(fields.Nested(OutletRankSchema), metadata={
        "description": "按虚高（自查减独立检查）从大到小"})


class TrendPointSchema(ma.Schema):
    month = fields.String(metadata={"description": "YYYY-MM"})
    combined = _score("综合得分；该月无检查时为 null")
    self_mean = _score("自查平均分")
    independent_mean = _score("独立检查平均分")
    count = fields.Integer()


class TrendUnitSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()


class TrendSchema(ma.Schema):
    unit = fields.Nested(TrendUnitSchema)
    points = fields.List(fields.Nested(TrendPointSchema))
    arrow = fields.String(metadata={"description": "趋势：↑ 上升、↓ 下降、→ 持平或数据不足"})


class BulletinPeriodSchema(ma.Schema):
    start = fields.String(metadata={"description": "YYYY-MM-DD"})
    end = fields.String(metadata={"description": "YYYY-MM-DD"})
    label = fields.String()


class BulletinEventSchema(ma.Schema):
    kind = fields.String(metadata={"description": "entered / exited / …（名单变动）"})
    on = fields.String(metadata={"description": "YYYY-MM-DD"})
    unit = fields.String(metadata={"description": "支行名称"})
    note = fields.String(allow_none=True, metadata={"description": "中文说明"})
    note_data = fields.Dict(allow_none=True, metadata={"description": "规则所写说明的数据"})


class BulletinWatchlistSchema(ma.Schema):
    active = fields.Integer(metadata={"description": "期末（本期进行中则为今天）在册的单位数"})
    events = fields.List(fields.Nested(BulletinEventSchema))


class TiedSchema(ma.Schema):
    rank = fields.Integer(metadata={"description": "排名前列最后一个网点的名次"})
    count = fields.Integer(metadata={"description": "与之并列、未列入排名前列的网点数"})


class BulletinSchema(ma.Schema):
    """The weekly bulletin (周通报) or monthly summary (月总结); its PDF and workbook show the
    same figures."""

    kind = fields.String(metadata={"description": "week / month"})
    title = fields.String()
    audience = fields.String()
    period = fields.Nested(BulletinPeriodSchema)
    inspections = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "本期提交的检查次数，按检查方式（中文名称）"})
    best = fields.List(fields.Nested(OutletRankSchema), metadata={"description": "最好的网点"})
    worst = fields.List(fields.Nested(OutletRankSchema), metadata={
        "description": "最差的网点，最差在前；只含名次低于排名前列所有网点的网点（与前列并列者不算靠后）"})
    tied_with_best = fields.Nested(TiedSchema, allow_none=True, metadata={
        "description": "与排名前列最后一个网点并列、因名额未列出的网点（如另有 26 个网点并列第 1 名）；无则为 null"})
    standing = fields.List(fields.Nested(StandingSchema), metadata={
        "description": "只看单个网点的人（网点负责人）：本网点在全行的名次（此时 best、worst 为空）"})
    benchmarks = fields.List(fields.Nested(OutletRankSchema))
    subbranches = fields.List(fields.Nested(SubbranchRankSchema))
    failed_items = fields.List(fields.Nested(FailedItemSchema))
    gaps = fields.List(fields.Nested(OutletRankSchema), metadata={
        "description": "自查明显高于独立检查的网点"})
    watchlist = fields.Nested(BulletinWatchlistSchema)
