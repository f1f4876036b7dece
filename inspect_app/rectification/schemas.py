"""JSON shapes of rectification items, their actions, counts and export jobs.

Outlet-facing output never reveals a mystery shopper: the inspector is "神秘人" and the
inspection is given by its date only, unless the viewer may see identities.
"""
from __future__ import annotations

import marshmallow as ma
from flask import g
from marshmallow import fields, validate

from ..api.fields import BankDate, Id, Moment, Upload
from ..i18n import N_, Label, translated
from ..inspections.models import AppealStatus, Mode
from ..inspections.schemas import MYSTERY_LABEL, UnitRefSchema
from .models import SEVERITY_LABELS, ClosedReason, RectificationState


def _today():
    from .operations import local_today

    if "rectification_today" not in g:
        g.rectification_today = local_today()
    return g.rectification_today


class PersonSchema(ma.Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


#: Where the outlet's appeal against the item's finding stands, as its rectification item says it.
APPEAL_LABELS = {AppealStatus.pending: N_("申诉处理中"),
                 AppealStatus.upheld: N_("申诉未成立，维持原结论"),
                 AppealStatus.overturned: N_("申诉成立，已撤销")}


class RectificationItemSchema(ma.Schema):
    id = fields.Integer()
    inspection_id = Id()
    finding_id = Id(allow_none=True)
    outlet = fields.Nested(UnitRefSchema)
    subbranch = fields.Function(lambda i: {"id": i.outlet.parent.id, "code": i.outlet.parent.code,
                                           "name": i.outlet.parent.name})
    item_code = fields.String()
    item_text = fields.String()
    standard = fields.String(metadata={"description": "合格标准（检查时的版本）"})
    section = fields.String()
    finding_note = fields.String(allow_none=True)
    severity = fields.String()
    severity_label = fields.Function(lambda i: translated(SEVERITY_LABELS.get(i.severity))
                                     or i.severity)
    red_line = fields.Boolean()
    state = fields.Enum(RectificationState, by_value=True)
    state_label = Label(attribute="state.label")
    overdue = fields.Method("dump_overdue", metadata={"description": "已过期限且仍待整改（按期限推算）"})
    deadline = fields.Date()
    responsible = fields.Nested(PersonSchema, allow_none=True)
    fix_note = fields.String(allow_none=True)
    fix_submitted_at = Moment(allow_none=True)
    rejection_reason = fields.String(allow_none=True)
    rejections = fields.Integer()
    decided_at = Moment(allow_none=True)
    closed_at = Moment(allow_none=True)
    closed_reason = fields.Enum(ClosedReason, by_value=True, allow_none=True)
    closed_reason_label = fields.Function(
        lambda i: translated(i.closed_reason.label) if i.closed_reason else None)
    reinspection_id = Id(allow_none=True)
    appeal = fields.Method("dump_appeal", metadata={
        "description": "对该问题最近一次申诉：status（pending 申诉处理中 / upheld 申诉未成立 / "
                       "overturned 申诉成立）、status_label、decision_note（处理意见）；未申诉为 null。"
                       "申诉处理期间整改期限照常计算"})
    can_submit_fix = fields.Method("dump_can_submit_fix",
                                   metadata={"description": "当前用户能否提交整改（被检查网点）"})
    can_review_fix = fields.Method("dump_can_review_fix", metadata={
        "description": "当前用户能否验收或退回该整改（已提交，且不代表被检查网点）"})
    can_close = fields.Method("dump_can_close", metadata={
        "description": "当前用户能否关闭（销号）该整改（已验收）"})
    mode = fields.Function(lambda i: i.inspection.mode.value)
    mode_label = Label(attribute="inspection.mode.label")
    campaign_id = fields.Function(lambda i: i.inspection.campaign_id)
    inspection_date = fields.Method("dump_inspection_date",
                                    metadata={"description": "检查日期（不含时刻）"})
    inspector = fields.Method("dump_inspector")
    inspection_readable = fields.Method("dump_inspection_readable", metadata={
        "description": "当前用户能否打开该整改项所属的检查结果（/results/<inspection_id>）"})
    version = fields.Integer()
    created_at = Moment()
    updated_at = Moment()

    @ma.post_dump(pass_original=True)
    def hide_visit_times(self, data, item, **kwargs):
        """A mystery visit's item was created when the shopper submitted: for viewers who may
        not know the shopper, every timestamp is cut to its date (no exact visit times)."""
        from ..inspections.access import sees_identity
        from ..inspections.schemas import dates_only

        if not sees_identity(g.user, item.inspection):
            data = dates_only(data)
        return data

    def dump_can_submit_fix(self, item) -> bool:
        from .access import can_submit_fix

        return can_submit_fix(g.user, item)

    def dump_can_review_fix(self, item) -> bool:
        from .access import can_review_fix

        return can_review_fix(g.user, item)

    def dump_can_close(self, item) -> bool:
        from .access import can_close

        return can_close(g.user, item)

    def dump_appeal(self, item):
        appeal = item.latest_appeal
        if appeal is None:
            return None
        return {"status": appeal.status.value,
                "status_label": translated(APPEAL_LABELS[appeal.status]),
                "decision_note": appeal.decision_note}

    def dump_overdue(self, item) -> bool:
        return item.is_overdue(_today())

    def dump_inspection_date(self, item):
        from .operations import local_date

        day = local_date(item.inspection.submitted_at)
        return day.isoformat() if day else None

    def dump_inspection_readable(self, item) -> bool:
        from ..inspections.access import can_read
        from ..inspections.models import RESULT_VISIBLE

        return item.inspection.status in RESULT_VISIBLE and can_read(g.user, item.inspection)

    def dump_inspector(self, item):
        from ..inspections.access import sees_identity
        from .documents import inspector_label

        if not sees_identity(g.user, item.inspection):
            return translated(MYSTERY_LABEL)  # the PDFs keep it in Chinese
        return inspector_label(item.inspection, g.user)


class RectificationDetailSchema(RectificationItemSchema):
    """One item with its before- and after-photos."""

    before_photos = fields.Method("dump_before")
    after_photos = fields.Method("dump_after", metadata={
        "description": "本次整改的照片（被退回过的整改只含退回之后上传的）"})
    earlier_after_photos = fields.Method("dump_earlier", metadata={
        "description": "此前被退回的整改所附的照片"})

    def dump_before(self, item):
        import sqlalchemy as sa

        from ..evidence.models import Photo, PhotoPurpose
        from ..evidence.schemas import PhotoSchema
        from ..extensions import db

        photos = db.session.scalars(sa.select(Photo).where(
            Photo.inspection_id == item.inspection_id, Photo.item_code == item.item_code,
            Photo.purpose == PhotoPurpose.before).order_by(Photo.id)).all()
        return PhotoSchema(many=True).dump(photos)

    def dump_after(self, item):
        return self._after(item)[0]

    def dump_earlier(self, item):
        return self._after(item)[1]

    def _after(self, item) -> tuple[list, list]:
        """Both lists of after-photos, read once per item and request (two fields show them)."""
        from ..evidence.schemas import PhotoSchema
        from .operations import after_photos_by_attempt

        known = g.setdefault("after_photos", {})  # per request: the schema itself is shared
        if id(item) not in known:
            current, earlier = after_photos_by_attempt(item)
            known[id(item)] = (item, PhotoSchema(many=True).dump(current),
                               PhotoSchema(many=True).dump(earlier))
        return known[id(item)][1:]


class RectificationQuerySchema(ma.Schema):
    outlet_id = Id()
    subbranch_id = Id()
    state = fields.List(fields.Enum(RectificationState, by_value=True),
                        metadata={"description": "可多选：?state=open&state=submitted"})
    overdue = fields.Boolean(metadata={"description": "true：只看逾期；false：排除逾期"})
    severity = fields.List(fields.String(validate=validate.OneOf(list(SEVERITY_LABELS))))
    mode = fields.List(fields.Enum(Mode, by_value=True))
    campaign_id = Id()
    inspection_id = Id()
    responsible_id = Id()
    found_from = BankDate(metadata={"description": "检查日期起（含）"})
    found_to = BankDate(metadata={"description": "检查日期止（含）"})
    reviewable = fields.Boolean(metadata={
        "description": "true：只看等我验收的整改（已提交，我可以验收或退回）"})
    closable = fields.Boolean(metadata={
        "description": "true：只看等我关闭（销号）的整改（已验收，我可以关闭）"})
    closed_reason = fields.List(fields.Enum(ClosedReason, by_value=True), metadata={
        "description": "关闭原因，可多选：?closed_reason=withdrawn（申诉成立，已撤销）"})
    closed_from = BankDate(metadata={"description": "关闭日期起（含）"})


class RectificationPageArgsSchema(RectificationQuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class CountsSchema(ma.Schema):
    open = fields.Integer()
    submitted = fields.Integer()
    accepted = fields.Integer()
    closed = fields.Integer()
    overdue = fields.Integer(metadata={"description": "逾期（待整改且已过期限）"})
    total = fields.Integer()


class AfterPhotoFormSchema(ma.Schema):
    client_id = fields.UUID(required=True, metadata={"description": "客户端为这张照片生成的 UUID"})
    client_facts = fields.Raw(load_default=dict, metadata={"description": "拍摄信息（JSON 字符串）"})

    @ma.validates_schema(skip_on_field_errors=True)
    def _facts(self, data, **kwargs):
        from ..evidence.schemas import ClientFactsField

        try:
            data["client_facts"] = ClientFactsField().deserialize(data.get("client_facts") or {})
        except ma.ValidationError as exc:
            raise ma.ValidationError(exc.messages, field_name="client_facts") from exc


class AfterPhotoUploadSchema(AfterPhotoFormSchema):
    """An after-photo upload: the file and its form fields, one multipart body."""

    file = Upload(required=True)


class SubmitFixSchema(ma.Schema):
    note = fields.String(required=True, validate=validate.Length(min=2, max=2000))
    photo_ids = fields.List(Id(), required=True, validate=validate.Length(min=1),
                            metadata={"description": "已上传到该整改项的整改后照片"})


class AcceptSchema(ma.Schema):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class RejectSchema(ma.Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=1000))


class DeadlineSchema(ma.Schema):
    deadline = BankDate(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=2, max=1000))


class ResponsibleSchema(ma.Schema):
    responsible_id = Id(required=True)
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=1000))


class ReinspectionSchema(ma.Schema):
    item_ids = fields.List(Id(), required=True, validate=validate.Length(min=1),
                           metadata={"description": "同一网点的整改项"})
    assignee_id = Id(required=True, metadata={"description": "复查的检查人员"})
    due_start = BankDate(required=True)
    due_end = BankDate(required=True)


class PeriodArgsSchema(ma.Schema):
    period = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$"),
                           metadata={"description": "月份，如 2026-11"})


class CampaignListArgsSchema(ma.Schema):
    subbranch_id = Id(metadata={"description": "只看一个支行"})


class ExportSchema(ma.Schema):
    period = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$"),
                           metadata={"description": "月份，如 2026-11"})


class JobSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    params = fields.Dict()
    status = fields.String(attribute="status.value")
    status_label = fields.String(attribute="status.label")
    done = fields.Integer()
    total = fields.Integer()
    progress = fields.Integer(metadata={"description": "百分比 0–100"})
    #: why the job failed, in the user's language (stored as the Chinese message)
    error = Label(allow_none=True)
    result_name = fields.String(allow_none=True)
    result_size = fields.Integer(allow_none=True)
    download_url = fields.Method("dump_url")
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)

    def dump_url(self, job):
        from flask import url_for

        if job.result_key is None:
            return None
        return url_for("rectification_api.ExportDownload", job_id=job.id)
