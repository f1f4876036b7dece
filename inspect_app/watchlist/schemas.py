"""JSON shapes of the watch-list, coaching actions and the managers' figures."""
from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from ..api.fields import BankDate, Id, TrimmedText, Upload
from ..i18n import N_, Label
from ..orgs.models import OrgKind
from .models import ACTION_KINDS, EVENT_LABELS
from .reasons import exit_condition, exit_steps, status_note

#: What the API and the pages' forms (which are built on these schemas) say about the same
#: input; a message with figures is lazy, so its figures go into the reader's language.
REQUIRED = N_("必填")
REASON_REQUIRED = N_("请填写原因")
PICK_ONE = N_("请从列表中选择")
BAD_DATE = N_("日期格式不正确")
LENGTH = _l("长度须在 {min} 到 {max} 个字之间")
AT_MOST = _l("不能超过 {max} 个字")


def subbranch_of(unit) -> str | None:
    """An outlet's sub-branch name (outlet names repeat across sub-branches); None otherwise."""
    if unit.kind is OrgKind.outlet and unit.parent is not None:
        return unit.parent.name
    return None


class UnitSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String(attribute="kind.value")
    subbranch = fields.Function(subbranch_of, allow_none=True, metadata={
        "type": "string",
        "description": "网点所属支行名称（同名网点以此区分）；支行为 null"})


class EventSchema(ma.Schema):
    kind = fields.String(metadata={"description": "entered / manual_entry / reasons_changed / "
                                                  "exited / manual_exit"})
    label = fields.Function(lambda e: EVENT_LABELS.get(e.kind, e.kind))
    on = fields.Date()
    hits = fields.List(fields.Dict())
    note = fields.String(allow_none=True, metadata={"description": "中文说明（规则所写或人工填写）"})
    note_data = fields.Dict(allow_none=True, metadata={
        "description": "规则所写说明的数据（命中的规则键、日期、分数）；人工填写的为 null"})
    rule_set_version = fields.Integer(allow_none=True)


class ActionSchema(ma.Schema):
    """A follow-up, as the API and the entry page's 记录跟进 form read it (spaces around a value
    do not count; people only spaces are no people)."""

    id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(ACTION_KINDS),
                                                                error=PICK_ONE),
                         error_messages={"required": PICK_ONE})
    kind_label = fields.Function(lambda a: ACTION_KINDS[a.kind], dump_only=True)
    held_on = BankDate(required=True, error_messages={"required": REQUIRED, "invalid": BAD_DATE},
                       metadata={"description": "跟进日期：不早于列入名单的日期，不晚于今天"})
    people = TrimmedText(required=True, blank_is_missing=True,
                         validate=validate.Length(min=1, max=500, error=LENGTH),
                         error_messages={"required": REQUIRED})
    notes = TrimmedText(load_default="", validate=validate.Length(max=5000, error=AT_MOST))
    attachments = fields.List(fields.Dict(), dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    client_id = fields.String(load_default=None, validate=validate.Length(min=8, max=64,
                                                                        error=LENGTH),
                              metadata={"description": "发送方为这条记录生成的编号（如 UUID）："
                                                       "重发同一编号只返回原记录，不会重复记录"})


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
    entry_kind = fields.String(metadata={"description": "rule（按规则列入）或 manual（人工列入）"})
    entry_reason = fields.String(allow_none=True, metadata={"description": "人工列入的原因"})
    reasons = fields.List(fields.Dict(), metadata={
        "description": "最近一次评估（last_evaluated_on）命中的规则及当时的数据；已不再命中规则但"
                       "尚未满足出列条件时为空。列入时的原因见 events 中 entered 一条的 hits"})
    last_evaluated_on = fields.Date()
    status_note = fields.Function(status_note, allow_none=True, metadata={
        "type": "string",
        "description": "在册但已不再命中规则时的说明（用户所选语言），如“已不再命中规则，待满足出列条件”"})
    exit_progress = fields.Dict(allow_none=True, metadata={
        "description": "出列进度的数据：needed 需连续达标次数、score 分数线、passing 已连续达标次数、"
                       "totals 入列后最近的独立检查得分、overdue 逾期整改项、rules 仍命中的规则；"
                       "尚未评估时为 null"})
    exit_condition = fields.Function(exit_condition, metadata={
        "type": "string", "description": "出列条件（用户所选语言）"})
    exit_steps = fields.Function(exit_steps, metadata={
        "type": "array", "items": {"type": "string"},
        "description": "离出列还差什么（用户所选语言），如“还需 1 次 ≥80 分的独立检查”；已出列为空"})
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


def reason_field(description: str) -> TrimmedText:
    """A written reason (人工列入, 人工出列): 4 to 2,000 characters, spaces around it not
    counted, spaces alone refused as no reason at all."""
    return TrimmedText(required=True, blank_is_missing=True,
                       validate=validate.Length(min=4, max=2000, error=LENGTH),
                       error_messages={"required": REASON_REQUIRED},
                       metadata={"description": description})


class ManualExitSchema(ma.Schema):
    """人工出列, as the API and the entry page's form read it."""

    reason = reason_field("出列原因（4 到 2000 个字，前后空格不计）")


class ManualEntrySchema(ma.Schema):
    """人工列入 through the API: the unit and a written reason."""

    unit_id = Id(required=True, metadata={"description": "要列入名单的网点或支行"})
    reason = reason_field("列入原因（4 到 2000 个字，前后空格不计）")


class BranchSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class RulesQuerySchema(ma.Schema):
    branch_id = Id(metadata={"description": "哪个分行的规则（默认：读者所在分行）"})


class RulesSchema(ma.Schema):
    branch_id = Id(load_only=True, metadata={
        "description": "调整哪个分行的规则；只管理一个分行的名单时可省略"})
    branch = fields.Nested(BranchSchema, dump_only=True,
                           metadata={"description": "规则所属分行（各分行的规则各自调整）"})
    version = fields.Integer(dump_only=True, metadata={"description": "该分行规则的版本号"})
    base_version = fields.Integer(load_only=True, metadata={
        "description": "调整所依据的版本号（读取时的 version）；他人已另存新版本时返回 409"})
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
    rule_set_version = fields.Integer(allow_none=True, metadata={
        "description": "所用规则的版本（只评估了一个分行时；否则见 rule_set_versions）"})
    rule_set_versions = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "各分行所用规则的版本，按分行编码"})
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
    failures = fields.Integer(metadata={"description": "本期失分次数"})
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
    kind = fields.String(metadata={"description": "entered / manual_entry / reasons_changed / "
                                                  "exited / manual_exit（名单变动）"})
    label = Label(metadata={"description": "变动类型（用户所选语言），如“人工出列”"})
    on = fields.String(metadata={"description": "YYYY-MM-DD"})
    unit = fields.String(metadata={"description": "单位名称"})
    subbranch = fields.String(allow_none=True, metadata={
        "description": "网点所属支行名称；支行为 null"})
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
