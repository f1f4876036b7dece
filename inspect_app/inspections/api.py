"""API: campaigns, assignments, filling and submitting inspections, review, appeals."""
from __future__ import annotations

import sqlalchemy as sa
from flask.views import MethodView

from ..api.base import Blueprint
from ..api.pagination import page_schema, paginate
from ..auth.models import User
from ..auth.permissions import Permission
from ..auth.session import current_user
from ..errors import InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_, localized
from ..orgs.models import OrgUnit
from .access import (
    can_read,
    get_inspection,
    given_to,
    unfillable_task_ids,
    visible_inspections,
)
from .campaigns import (
    campaign_counts,
    create_campaign,
    create_team,
    get_campaign,
    peer_pairs,
    update_team,
)
from .models import Appeal, Campaign, Finding, Inspection, InspectionTeam
from .operations import (
    appeal_finding,
    cancel,
    decide_appeal,
    finalise,
    reassign,
    reschedule,
    return_for_correction,
    save_draft,
    submit_idempotently,
)
from .schemas import (
    AppealCreateSchema,
    AppealDecisionSchema,
    AppealQuerySchema,
    AppealSchema,
    CampaignCreateSchema,
    CampaignSchema,
    DraftSchema,
    InspectionQuerySchema,
    InspectionSchema,
    InspectionSummarySchema,
    ReasonSchema,
    ReassignSchema,
    RescheduleSchema,
    SavedDraftSchema,
    SubmissionResultSchema,
    SubmitHeadersSchema,
    SubmitSchema,
    TeamSchema,
    TeamUpdateSchema,
)

blp = Blueprint("inspections_api", __name__, url_prefix="/api/v1",
                description="检查计划、任务分派、填写提交、审核与申诉")

CampaignPage = page_schema(CampaignSchema, "CampaignPage")
InspectionPage = page_schema(InspectionSummarySchema, "InspectionPage")
AppealPage = page_schema(AppealSchema, "AppealPage")


def _with_counts(campaign: Campaign) -> Campaign:
    campaign.counts = campaign_counts(campaign)
    campaign.peer_pairs = [[*pair, count] for pair, count in
                           sorted(peer_pairs([campaign.id]).get(campaign.id, {}).items())]
    return campaign


@blp.route("/campaigns")
class Campaigns(MethodView):
    @blp.arguments(AppealQuerySchema(only=("page", "per_page")), location="query")
    @blp.response(200, CampaignPage)
    def get(self, args):
        """Campaigns I plan (service managers)."""
        by = current_user()
        paths = by.scope_paths(Permission.campaigns_manage)
        if not paths:
            raise PermissionDenied()
        query = (sa.select(Campaign).join(OrgUnit, Campaign.scope_unit_id == OrgUnit.id)
                 .where(sa.or_(*[OrgUnit.path.startswith(p) for p in paths]))
                 .order_by(Campaign.period_start.desc(), Campaign.id.desc()))
        page = paginate(query, args)
        page["items"] = [_with_counts(c) for c in page["items"]]
        return page

    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    def post(self, data):
        """Plan a campaign: the product generates every mode's assignments by its rules."""
        campaign = create_campaign(data, by=current_user())
        db.session.commit()
        return _with_counts(campaign)


@blp.route("/campaigns/<int:campaign_id>")
class CampaignResource(MethodView):
    @blp.response(200, CampaignSchema)
    def get(self, campaign_id):
        """A campaign with its plan (peer pairs, the spot-check draw with seed and weights)."""
        return _with_counts(get_campaign(campaign_id, current_user()))


@blp.route("/teams")
class Teams(MethodView):
    @blp.response(200, TeamSchema(many=True))
    def get(self):
        """Peer-check teams in my scope."""
        by = current_user()
        paths = by.scope_paths(Permission.campaigns_manage) or by.scope_paths(Permission.org_read)
        query = (sa.select(InspectionTeam).join(OrgUnit, InspectionTeam.subbranch_id == OrgUnit.id)
                 .where(sa.or_(sa.false(), *[OrgUnit.path.startswith(p) for p in paths]))
                 .order_by(InspectionTeam.id))
        return db.session.scalars(query).all()

    @blp.arguments(TeamSchema)
    @blp.response(201, TeamSchema)
    def post(self, data):
        """Set up a peer-check team of a sub-branch's inspectors."""
        by = current_user()
        subbranch = db.session.get(OrgUnit, data["subbranch_id"])
        if subbranch is None:
            raise NotFound(N_("未找到该支行"))
        team = create_team(name=data["name"], subbranch=subbranch, members=_members(data),
                           by=by)
        db.session.commit()
        return team


def _members(data: dict) -> list[User]:
    members = [db.session.get(User, uid) for uid in data["member_ids"]]
    if any(m is None for m in members):
        raise InvalidInput(N_("成员不存在"), code="unknown_member")
    return members


@blp.route("/teams/<int:team_id>")
class TeamResource(MethodView):
    @blp.arguments(TeamUpdateSchema)
    @blp.response(200, TeamSchema)
    def patch(self, data, team_id):
        """Rename a team, change its members (the list replaces them) or stand it down
        (``is_active`` false) and up again."""
        by = current_user()
        team = db.session.get(InspectionTeam, team_id)
        if team is None or not by.can(Permission.org_read, team.subbranch):
            raise NotFound(N_("未找到该检查组"), code="team_not_found")
        team = update_team(team, name=data.get("name"), is_active=data.get("is_active"),
                           members=_members(data) if "member_ids" in data else None, by=by)
        db.session.commit()
        return team


@blp.route("/inspections")
class Inspections(MethodView):
    @blp.arguments(InspectionQuerySchema, location="query")
    @blp.response(200, InspectionPage)
    def get(self, args):
        """Inspections I may see; ``mine=true`` for my own assignments."""
        by = current_user()
        query = visible_inspections(by).order_by(*(
            (Inspection.submitted_at.desc().nulls_last(), Inspection.id.desc())
            if args["order"] == "recent" else (Inspection.due_start, Inspection.id)))
        if args["mine"]:
            query = query.where(given_to(by))
            # a task they may no longer fill (a role withdrawn or moved) waits for the planner
            unfillable = unfillable_task_ids(by)
            if unfillable:
                query = query.where(Inspection.id.not_in(unfillable))
        if args.get("status"):
            query = query.where(Inspection.status.in_(args["status"]))
        for field in ("mode", "outlet_id", "campaign_id"):
            if args.get(field) is not None:
                query = query.where(getattr(Inspection, field) == args[field])
        return paginate(query, args)


@blp.route("/inspections/<int:inspection_id>")
class InspectionResource(MethodView):
    @blp.response(200, InspectionSchema)
    def get(self, inspection_id):
        """The form (only the items of its mode), answers, events and score."""
        return get_inspection(inspection_id, current_user())


@blp.route("/inspections/<int:inspection_id>/draft")
class Draft(MethodView):
    @blp.arguments(DraftSchema)
    @blp.response(200, SavedDraftSchema)
    @blp.alt_response(409, description="另一台设备已修改：details.server 为服务器上的版本")
    def put(self, data, inspection_id):
        """Save answers so far (every change). Send the version you started from.

        An answer or visit time that cannot be taken (e.g. a deduction above its maximum, a time
        earlier than the one before it) does not refuse the draft: the rest is saved, and the
        answer lists it under ``problems`` (by item code) or ``event_problems`` (by event)."""
        by = current_user()
        inspection = get_inspection(inspection_id, by)
        saved = save_draft(inspection, version=data["version"], answers=data["answers"],
                           events=data.get("events"), by=by)
        db.session.commit()
        return localized(saved)


@blp.route("/inspections/<int:inspection_id>/submit")
class Submit(MethodView):
    @blp.arguments(SubmitHeadersSchema, location="headers")
    @blp.arguments(SubmitSchema)
    @blp.response(200, SubmissionResultSchema)
    @blp.alt_response(409, description="同一提交编号正在处理中，或该检查已提交")
    @blp.alt_response(422, description="未填完、缺照片，提交编号已用于其他内容，或检查期限尚未开始"
                                       "（not_open_yet：details.opens_on 为可以提交的第一天；草稿照常保存）")
    def post(self, headers, data, inspection_id):
        """Submit once: send a client UUID as ``Idempotency-Key`` (or ``client_submission_id``).
        Replaying the same key and body returns the stored result."""
        by = current_user()
        key = headers.get("idempotency_key") or data.pop("client_submission_id", None)
        data.pop("client_submission_id", None)
        if key is None:
            raise InvalidInput(N_("缺少提交编号（Idempotency-Key）"), code="idempotency_key_required")
        get_inspection(inspection_id, by)
        db.session.rollback()  # end the read so the submission starts a clean transaction
        return submit_idempotently(inspection_id, str(key), data, by=by)


def _review_action(inspection_id: int, action, **kwargs):
    by = current_user()
    inspection = get_inspection(inspection_id, by)
    action(inspection, by=by, **kwargs)
    db.session.commit()
    return inspection


@blp.route("/inspections/<int:inspection_id>/return")
class ReturnForCorrection(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, InspectionSchema)
    def post(self, data, inspection_id):
        """Send a submission back to its inspector for correction, with a reason."""
        return _review_action(inspection_id, return_for_correction, reason=data["reason"])


@blp.route("/inspections/<int:inspection_id>/finalise")
class Finalise(MethodView):
    @blp.response(200, InspectionSchema)
    def post(self, inspection_id):
        """Accept a submission as final."""
        return _review_action(inspection_id, finalise)


@blp.route("/inspections/<int:inspection_id>/reassign")
class Reassign(MethodView):
    @blp.arguments(ReassignSchema)
    @blp.response(200, InspectionSummarySchema)
    @blp.alt_response(409, description="该检查已提交或已取消，不能改派（not_open）")
    @blp.alt_response(422, description="此人（此组）不能执行该任务：assignee_not_allowed（抽查只交给"
                                       "网点所属分行的检查员）、own_subbranch（互查不查本支行）、"
                                       "reciprocal_pair（与本计划中另一支行形成同一轮互查）、"
                                       "recent_pair（该支行配对在最近几轮内已用过）、"
                                       "shopper_visits_too_soon（神秘人与该网点的另一次暗访相隔不足"
                                       "计划规定的天数，details 逐条说明）")
    def post(self, data, inspection_id):
        """Give an open assignment to another person or team (reason is audited)."""
        assignee = db.session.get(User, data["assignee_id"]) if data["assignee_id"] else None
        if data["assignee_id"] and assignee is None:
            raise InvalidInput(N_("该人员不存在"), code="unknown_assignee")
        return _review_action(inspection_id, reassign, assignee=assignee,
                              team_id=data["team_id"], reason=data["reason"])


@blp.route("/inspections/<int:inspection_id>/cancel")
class Cancel(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, InspectionSummarySchema)
    def post(self, data, inspection_id):
        """Cancel an open assignment (reason is audited)."""
        return _review_action(inspection_id, cancel, reason=data["reason"])


@blp.route("/inspections/<int:inspection_id>/reschedule")
class Reschedule(MethodView):
    @blp.arguments(RescheduleSchema)
    @blp.response(200, InspectionSummarySchema)
    @blp.alt_response(409, description="该检查已提交或已取消，不能改期（not_open）")
    @blp.alt_response(422, description="invalid_window（结束早于开始）、outside_period（超出检查计划"
                                       "期间）、shopper_visits_too_soon（暗访改期后离该神秘人对同一"
                                       "网点的另一次暗访太近）")
    def post(self, data, inspection_id):
        """Move an open assignment's window (reason is audited)."""
        return _review_action(inspection_id, reschedule, due_start=data["due_start"],
                              due_end=data["due_end"], reason=data["reason"])


def _finding(finding_id: int, by: User) -> Finding:
    finding = db.session.get(Finding, finding_id)
    if finding is None or not can_read(by, finding.inspection):
        raise NotFound(N_("未找到该问题"), code="finding_not_found")
    return finding


@blp.route("/findings/<int:finding_id>/appeals")
class FindingAppeals(MethodView):
    @blp.arguments(AppealCreateSchema)
    @blp.response(201, AppealSchema)
    def post(self, data, finding_id):
        """Appeal a finding of my outlet (within the appeal window)."""
        by = current_user()
        appeal = appeal_finding(_finding(finding_id, by), category=data["category"],
                                text=data["text"], by=by)
        db.session.commit()
        return appeal


@blp.route("/appeals")
class Appeals(MethodView):
    @blp.arguments(AppealQuerySchema, location="query")
    @blp.response(200, AppealPage)
    def get(self, args):
        """Appeals on inspections I may see."""
        by = current_user()
        visible = visible_inspections(by).with_only_columns(Inspection.id)
        query = (sa.select(Appeal).join(Finding, Appeal.finding_id == Finding.id)
                 .where(Finding.inspection_id.in_(visible)).order_by(Appeal.id.desc()))
        if args.get("status"):
            query = query.where(Appeal.status == args["status"])
        return paginate(query, args)


@blp.route("/appeals/<int:appeal_id>/decide")
class DecideAppeal(MethodView):
    @blp.arguments(AppealDecisionSchema)
    @blp.response(200, AppealSchema)
    def post(self, data, appeal_id):
        """Uphold or overturn (a reviewer who was not the inspector); overturning re-scores."""
        by = current_user()
        appeal = db.session.get(Appeal, appeal_id)
        if appeal is None or not can_read(by, appeal.finding.inspection):
            raise NotFound(N_("未找到该申诉"), code="appeal_not_found")
        decide_appeal(appeal, overturn=data["decision"] == "overturned", note=data["note"],
                      by=by)
        db.session.commit()
        return appeal
