"""The JSON shapes of campaigns, inspections, findings and appeals.

Two views of an inspection exist: the full one (its inspector, reviewers) and the outlet's view.
For a mystery visit the outlet's view names "神秘人" and the visit date only — never the
shopper, their account or exact times.
"""
from __future__ import annotations

import re
from datetime import datetime

import marshmallow as ma
from flask_babel import gettext
from marshmallow import fields, validate

from ..api.fields import BankDate, Id, Name, TrimmedText, one_line
from ..i18n import N_, Label, bank_timezone, local_date, translated
from ..scoring.rules import MODES
from ..scoring.types import RESPONSE_TYPES
from .models import (
    APPEAL_CATEGORIES,
    EDITABLE,
    AppealStatus,
    FindingStatus,
    InspectionStatus,
    Mode,
)
from .visits import VISIT_EVENTS, visit_timeline

MYSTERY_LABEL = N_("神秘人")  # said in the viewer's language: translated(MYSTERY_LABEL)
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _local_day(moment: str) -> str:
    """The bank's calendar date of an ISO date-time (as on the PDFs), or its first 10
    characters when it carries no offset."""
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return moment[:10]
    return local_date(parsed).isoformat() if parsed.tzinfo else moment[:10]


def dates_only(data):
    """``data`` with every ISO date-time string in it cut to its date, however deeply nested.

    For those who may not know a mystery shopper: any exact moment of a visit (submitted,
    updated, scored, a photo uploaded) would tell the outlet when the shopper was there, so
    whatever a schema dumps for them keeps the day only — fields added later included."""
    if isinstance(data, str):
        return _local_day(data) if _MOMENT.match(data) else data
    if isinstance(data, dict):
        return {key: dates_only(value) for key, value in data.items()}
    if isinstance(data, list):
        return [dates_only(value) for value in data]
    return data


# Each mode's settings, typed here; what a value means (a known cycle, weights that keep every
# outlet in the draw) is the planner's rule and its message (planning.py).
_WEIGHT = fields.Float(validate=validate.Range(min=0, max=1000))


class SelfCheckSettings(ma.Schema):
    cycle = fields.String(metadata={"description": "weekly、monthly 或 quarterly"})


class PeerCheckSettings(ma.Schema):
    no_repeat_cycles = fields.Integer(validate=validate.Range(min=0, max=24),
                                      metadata={"description": "最近几轮内不重复检查同一支行"})
    outlets_per_team = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=1000))


class SpotCheckSettings(ma.Schema):
    size = fields.Integer(validate=validate.Range(min=1, max=10000),
                          metadata={"description": "抽查网点数"})
    weights = fields.Dict(keys=fields.String(), values=_WEIGHT,
                          metadata={"description": "base、watch_listed、low_score、check_age、"
                                                   "age_cap_days"})


class MysteryVisitSettings(ma.Schema):
    count = fields.Integer(validate=validate.Range(min=1, max=10000),
                           metadata={"description": "暗访网点数"})
    scenarios = fields.List(fields.String(validate=validate.Length(min=1, max=200)),
                            validate=validate.Length(max=50))
    min_days_between = fields.Integer(validate=validate.Range(min=0, max=3650),
                                      metadata={"description": "同一神秘人再访同一网点的最少间隔天数"})


class CampaignSettingsSchema(ma.Schema):
    self_check = fields.Nested(SelfCheckSettings)
    peer_check = fields.Nested(PeerCheckSettings)
    spot_check = fields.Nested(SpotCheckSettings)
    mystery_visit = fields.Nested(MysteryVisitSettings)


#: The longest campaign: a year (a self-check cycle of each week of it is ~53 per outlet).
MAX_CAMPAIGN_DAYS = 366


#: A campaign's name: one line of text, and not only spaces (the list links it by its name).
CAMPAIGN_NAME_REQUIRED = N_("计划名称不能为空")


class CampaignCreateSchema(ma.Schema):
    name = TrimmedText(required=True, validate=[
        validate.Length(min=1, error=CAMPAIGN_NAME_REQUIRED), validate.Length(max=200), one_line])
    checklist_id = Id(required=True)
    scope_unit_id = Id(metadata={"description": "范围（默认整个分行）"})
    period_start = BankDate(required=True)
    period_end = BankDate(required=True)
    modes = fields.List(fields.String(validate=validate.OneOf(MODES)), required=True,
                        validate=validate.Length(min=1, max=len(MODES)))
    seed = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=2**62),
                          metadata={"description": "随机种子；不填则自动生成并保存"})
    settings = fields.Nested(CampaignSettingsSchema, load_default=dict,
                             metadata={"description": "各模式参数"})

    @ma.validates("modes")
    def modes_once(self, modes: list[str], **kwargs) -> None:
        if len(set(modes)) != len(modes):
            raise ma.ValidationError(gettext("每种检查方式只能选一次"))

    @ma.validates_schema
    def period_at_most_a_year(self, data: dict, **kwargs) -> None:
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and (end - start).days >= MAX_CAMPAIGN_DAYS:
            raise ma.ValidationError(gettext("检查计划的期间不能超过一年"), "period_end")


class CampaignSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String()
    checklist_id = Id()
    scope_unit_id = Id()
    period_start = fields.Date()
    period_end = fields.Date()
    modes = fields.List(fields.String())
    seed = fields.Integer()
    settings = fields.Dict()
    plan = fields.Dict()
    counts = fields.Dict(metadata={"description": "各模式、各状态的任务数"})
    peer_pairs = fields.List(fields.List(fields.Integer()), metadata={
        "description": "互查的支行配对 [检查方支行, 被检查方支行, 网点数]，按当前未取消的任务计算"
                       "（改派后随之变化；plan.peer_check.pairs 是制定时的结果）"})
    created_at = fields.DateTime()


class UnitRefSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class OutletRefSchema(UnitRefSchema):
    address = fields.String(allow_none=True, metadata={"description": "网点地址"})


class TeamRefSchema(ma.Schema):
    name = fields.String()
    members = fields.List(fields.String(), metadata={"description": "组员姓名"})


class InspectionSummarySchema(ma.Schema):
    id = fields.Integer()
    campaign_id = Id(allow_none=True)
    mode = fields.Enum(Mode, by_value=True)
    mode_label = Label(attribute="mode.label")
    status = fields.Enum(InspectionStatus, by_value=True)
    status_label = Label(attribute="status.label")
    outlet = fields.Nested(OutletRefSchema)
    subbranch = fields.Function(lambda i: {"id": i.outlet.parent.id, "code": i.outlet.parent.code,
                                           "name": i.outlet.parent.name})
    inspector = fields.Method("dump_inspector")
    team = fields.Method("dump_team", allow_none=True, metadata={
        "type": "object", "description": "互查小组及其组员姓名（name, members）；其他任务为 null"})
    due_start = fields.Date(allow_none=True, metadata={
        "description": "检查期限起；暗访对看不到神秘人身份的人为 null"})
    due_end = fields.Date(allow_none=True)
    scenario = fields.String(allow_none=True)
    checklist_id = Id()
    version = fields.Integer()
    total = fields.Float(allow_none=True)
    grade_key = fields.String(allow_none=True)
    red_line_failed = fields.Boolean()
    submitted_at = fields.Method("dump_submitted_at")
    submitted_on = fields.Method("dump_submitted_on", metadata={
        "description": "提交日期（分行所在时区，与 PDF 一致）"})
    submitted_late = fields.Boolean(allow_none=True, metadata={
        "description": "是否在检查期限（due_end）之后提交（逾期提交）"})
    cancel_reason = fields.String(allow_none=True, metadata={
        "description": "已取消的任务：计划人员取消时填写的原因；暗访对看不到神秘人身份的人为 null"})
    updated_at = fields.Method("dump_updated_at", metadata={
        "type": "string", "description": "最后修改时间（ISO 8601）；暗访对看不到神秘人身份的人只给日期"})

    def dump_updated_at(self, inspection):
        return inspection.updated_at.isoformat() if inspection.updated_at else None

    def identity_visible(self, inspection) -> bool:
        return self.context_user_sees(inspection)

    def context_user_sees(self, inspection) -> bool:
        from flask import g

        from .access import sees_identity

        return sees_identity(g.user, inspection)

    def dump_inspector(self, inspection):
        if not self.identity_visible(inspection):
            return translated(MYSTERY_LABEL)
        if inspection.team is not None:
            return inspection.team.name
        return inspection.assignee.display_name if inspection.assignee else None

    def dump_team(self, inspection):
        if inspection.team is None or not self.identity_visible(inspection):
            return None
        return TeamRefSchema().dump({"name": inspection.team.name, "members": [
            member.display_name for member in inspection.team.members]})

    def dump_submitted_at(self, inspection):
        if inspection.submitted_at is None:
            return None
        if not self.identity_visible(inspection):
            return self.dump_submitted_on(inspection)  # the visit date only
        return inspection.submitted_at.isoformat()

    def dump_submitted_on(self, inspection):
        day = local_date(inspection.submitted_at)
        return day.isoformat() if day else None

    @ma.post_dump(pass_original=True)
    def hide_mystery_details(self, data, inspection, **kwargs):
        if not self.identity_visible(inspection):
            data["scenario"] = None
            data["due_start"] = data["due_end"] = data["submitted_late"] = None
            data["cancel_reason"] = None  # a planner's words about a covert visit
            if "review_note" in data:  # a reviewer's words to the shopper
                data["review_note"] = None
            data = dates_only(data)  # score history, photos, updated_at: the day only
        return data


#: A finding's state while its rectification item is under way (a closed one says why).
FIX_LABELS = {"open": N_("待整改"), "submitted": N_("整改待验收"), "accepted": N_("整改已验收"),
              "closed": N_("已关闭")}


class AppealStateSchema(ma.Schema):
    """Where the latest appeal against a finding stands (shown under the finding)."""

    id = fields.Integer()
    category = fields.String()
    category_label = fields.Function(lambda a: gettext(APPEAL_CATEGORIES[a.category]))
    text = fields.String()
    status = fields.Enum(AppealStatus, by_value=True)
    status_label = Label(attribute="status.label")
    decision_note = fields.String(allow_none=True)


class FindingSchema(ma.Schema):
    id = fields.Integer()
    inspection_id = Id()
    item_code = fields.String()
    item_text = fields.String()
    severity = fields.String()
    red_line = fields.Boolean()
    note = fields.String(allow_none=True)
    fixed_on_spot = fields.Boolean()
    status = fields.Enum(FindingStatus, by_value=True)
    status_label = fields.Method("dump_status_label", metadata={
        "description": "问题的现状：待整改、整改待验收、整改已验收、验收通过（已关闭）、立查立改、"
                       "申诉成立已撤销……（有整改项时按整改项）"})
    rectification_state = fields.Method("dump_rectification_state", metadata={
        "description": "其整改项的状态（open / submitted / accepted / closed）；没有整改项为 null"})
    can_appeal = fields.Method("dump_can_appeal", metadata={
        "description": "当前用户现在能否对该问题申诉（被检查网点、申诉期内、无待处理申诉）"})
    appeal = fields.Method("dump_appeal", metadata={"description": "最近一次申诉及其结果"})

    def dump_status_label(self, finding) -> str:
        from ..rectification.models import RectificationState

        item = finding.rectification
        if finding.status is not FindingStatus.open or item is None:
            return translated(finding.status.label)
        if item.state is RectificationState.closed and item.closed_reason is not None:
            return translated(item.closed_reason.label)
        return translated(FIX_LABELS[item.state.value])

    def dump_rectification_state(self, finding) -> str | None:
        item = finding.rectification
        return item.state.value if item is not None else None

    def dump_can_appeal(self, finding) -> bool:
        from flask import g

        from .operations import appeal_refusal

        return appeal_refusal(finding, g.user) is None

    def dump_appeal(self, finding):
        return AppealStateSchema().dump(finding.appeals[-1]) if finding.appeals else None


class InspectionSchema(InspectionSummarySchema):
    """One inspection with its form (the items of its mode), answers, events and score."""

    checklist = fields.Method("dump_checklist")
    answers = fields.Method("dump_answers")
    events = fields.Method("dump_events")
    visit_timeline = fields.Method("dump_visit_timeline", metadata={
        "description": "暗访的时间记录，按到访顺序：event、label、at、date、time（分行时区）、"
                       "since_previous 与 since_arrival（分钟）；只给能看到神秘人身份的人，其余为 []"})
    score = fields.Method("dump_score")
    findings = fields.List(fields.Nested(FindingSchema))
    review_note = fields.String(allow_none=True)
    photos = fields.Method("dump_photos", metadata={"description": "各检查项的照片"})
    can_review = fields.Method("dump_can_review", metadata={
        "description": "当前用户现在能否审核（定稿或退回）该检查：已提交且在其审核范围内"})
    can_return = fields.Method("dump_can_return", metadata={
        "description": "当前用户现在能否退回该检查修改：能审核，且其问题尚无申诉（有申诉的检查只能定稿）"})
    can_fill = fields.Method("dump_can_fill", metadata={
        "description": "当前用户现在能否填写、提交该检查：尚待填写，分派给本人（或本人所在的检查组），"
                       "且本人仍可执行（角色未被收回或调往别处；否则等待改派）"})

    def dump_can_review(self, inspection) -> bool:
        from flask import g

        from .access import can_review

        return inspection.status is InspectionStatus.submitted and can_review(g.user, inspection)

    def dump_can_return(self, inspection) -> bool:
        from .operations import appealed

        return self.dump_can_review(inspection) and not appealed(inspection)

    def dump_can_fill(self, inspection) -> bool:
        from flask import g

        from .access import can_fill

        return inspection.status in EDITABLE and can_fill(g.user, inspection)

    def hidden_items(self, inspection) -> frozenset[str]:
        """Items left out of this viewer's copy (a mystery shopper's notes of the visit)."""
        from flask import g

        from .access import shopper_notes

        return shopper_notes(g.user, inspection)

    def dump_photos(self, inspection):
        from ..evidence.operations import photos_by_item
        from ..evidence.schemas import PhotoSchema

        schema = PhotoSchema(many=True)
        hidden = self.hidden_items(inspection)
        return {code: schema.dump(photos) for code, photos in photos_by_item(inspection).items()
                if code not in hidden}

    def dump_checklist(self, inspection):
        checklist = inspection.checklist
        hidden = self.hidden_items(inspection)
        return {"id": checklist.id, "name": checklist.name, "version": checklist.version,
                "sections": [s.to_document() for s in checklist.sections],
                "items": [{**item.to_document(),
                           "scored": RESPONSE_TYPES[item.response_type].scored}
                          for item in inspection.form_items() if item.code not in hidden]}

    def dump_answers(self, inspection):
        hidden = self.hidden_items(inspection)
        if inspection.answers:
            return {a.item_code: {"value": a.value, "note": a.note, "failed": a.failed,
                                  "earned": float(a.earned), "possible": float(a.possible)}
                    for a in inspection.answers if a.item_code not in hidden}
        return {code: answer for code, answer in (inspection.draft or {}).items()
                if code not in hidden}

    def dump_events(self, inspection):
        return inspection.events if self.identity_visible(inspection) else {}

    def dump_visit_timeline(self, inspection):
        if inspection.mode is not Mode.mystery_visit or not self.identity_visible(inspection):
            return []
        return [{**row, "label": translated(row["label"])}
                for row in visit_timeline(inspection.events or {}, bank_timezone())]

    def dump_score(self, inspection):
        score = inspection.current_score
        if score is None:
            return None
        return {"number": score.number, "total": float(score.total) if score.total is not None
                else None, "grade": score.grade, "grade_key": score.grade_key,
                "grade_label": translated(score.grade),
                "reason": score.reason, "rules_version": score.rules_version,
                # each section's points and percentage, and its weight where the checklist
                # weighs its sections (absent from scores stored before weights counted)
                "sections": score.detail.get("sections"),
                "red_line_failures": score.detail.get("red_line_failures"),
                # what the red-line rule did: its mode and cap, the total before and after
                "red_line_applied": score.detail.get("red_line_applied"),
                "history": [{"number": s.number, "total": float(s.total) if s.total is not None
                             else None, "grade": s.grade, "reason": s.reason,
                             "created_at": s.created_at.isoformat()}
                            for s in inspection.scores]}


class InspectionQuerySchema(ma.Schema):
    mine = fields.Boolean(load_default=False, metadata={"description": "只看分派给我的"})
    status = fields.List(fields.Enum(InspectionStatus, by_value=True))
    mode = fields.Enum(Mode, by_value=True)
    outlet_id = Id()
    campaign_id = Id()
    order = fields.String(load_default="due", validate=validate.OneOf(["due", "recent"]),
                          metadata={"description": "due：按检查期限（默认）；recent：最近提交的在前"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AnswerSchema(ma.Schema):
    value = fields.Raw(allow_none=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class EventsField(fields.Dict):
    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(validate=validate.OneOf(VISIT_EVENTS)),
                         values=fields.String(validate=validate.Length(max=40)), **kwargs)


class DraftSchema(ma.Schema):
    version = fields.Integer(required=True, metadata={"description": "开始编辑时的版本号"})
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=32)),
                          values=fields.Nested(AnswerSchema), required=True)
    events = EventsField(allow_none=True, load_default=None)


class DraftStateSchema(ma.Schema):
    version = fields.Integer()
    status = fields.String()
    answers = fields.Dict()
    events = fields.Dict()
    updated_at = fields.String()


class SavedDraftSchema(DraftStateSchema):
    """The draft as stored, and what of the one sent could not be taken (left out of it)."""

    problems = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "未能保存的答案：{检查项编号: [原因…]}，其余答案已保存"})
    event_problems = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "未能保存的暗访时间：{时间节点: [原因…]}，其余时间已保存"})


class FindingInputSchema(ma.Schema):
    fixed_on_spot = fields.Boolean(load_default=False)


class SubmitSchema(ma.Schema):
    answers = fields.Dict(keys=fields.String(validate=validate.Length(max=32)),
                          values=fields.Nested(AnswerSchema), required=True)
    events = EventsField(load_default=dict)
    findings = fields.Dict(keys=fields.String(validate=validate.Length(max=32)),
                           values=fields.Nested(FindingInputSchema), load_default=dict,
                           metadata={"description": "立查立改：{item_code: {fixed_on_spot: true}}"})
    client_submission_id = fields.UUID(metadata={"description": "与 Idempotency-Key 头相同的作用"})


class SubmitHeadersSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # every other request header

    idempotency_key = fields.UUID(data_key="Idempotency-Key")


class SubmissionResultSchema(ma.Schema):
    inspection_id = Id()
    status = fields.String()
    total = fields.Float(allow_none=True)
    grade = fields.String(allow_none=True)
    #: said at each answer, so a replayed (stored) result speaks the replaying request's language
    grade_label = fields.Function(lambda result: translated(result.get("grade")),
                                  metadata={"description": "等级（按用户语言）"})
    red_line_failed = fields.Boolean()
    findings = fields.List(fields.Dict())
    submitted_at = fields.String(allow_none=True)


class ReasonSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=1000))


class ReassignSchema(ReasonSchema):
    assignee_id = Id(allow_none=True, load_default=None)
    team_id = Id(allow_none=True, load_default=None)


class RescheduleSchema(ReasonSchema):
    due_start = BankDate(required=True)
    due_end = BankDate(required=True)


class AppealCreateSchema(ma.Schema):
    category = fields.String(required=True, validate=validate.OneOf(list(APPEAL_CATEGORIES)))
    text = fields.String(required=True, validate=validate.Length(min=5, max=2000))


class AppealDecisionSchema(ma.Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["upheld", "overturned"]))
    note = fields.String(required=True, validate=validate.Length(min=2, max=2000))


class AppealSchema(AppealStateSchema):
    """An appeal as its reviewer sees it: the state, plus the finding and its outlet."""

    finding_id = Id()
    inspection_id = fields.Function(lambda a: a.finding.inspection_id)
    item_code = fields.Function(lambda a: a.finding.item_code)
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    outlet = fields.Function(lambda a: UnitRefSchema().dump(a.finding.outlet))
    item_text = fields.Function(lambda a: a.finding.item_text)
    finding_note = fields.Function(lambda a: a.finding.note)
    can_decide = fields.Method("dump_can_decide", metadata={
        "description": "当前用户能否处理该申诉（审核人员、非原检查人员、待处理）"})

    def dump_can_decide(self, appeal) -> bool:
        from flask import g

        from .operations import can_decide_appeal

        return can_decide_appeal(appeal, g.user)


class AppealQuerySchema(ma.Schema):
    status = fields.Enum(AppealStatus, by_value=True)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


#: A team of nobody would be given peer checks nobody can fill.
TEAM_NEEDS_MEMBERS = N_("检查组至少要有一名成员")


class TeamSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    name = Name(required=True)
    subbranch_id = Id(required=True)
    member_ids = fields.List(Id(), required=True, load_only=True,
                             validate=validate.Length(min=1, error=TEAM_NEEDS_MEMBERS))
    members = fields.Function(lambda t: [{"id": u.id, "username": u.username,
                                          "display_name": u.display_name} for u in t.members],
                              dump_only=True)
    is_active = fields.Boolean(dump_only=True)


class TeamUpdateSchema(ma.Schema):
    """A change to a team: any of its name, its members (the list replaces them) and whether it
    is active (false: stood down, its open peer checks wait to be given to another team)."""

    name = Name()
    member_ids = fields.List(Id(), validate=validate.Length(min=1, error=TEAM_NEEDS_MEMBERS))
    is_active = fields.Boolean()
