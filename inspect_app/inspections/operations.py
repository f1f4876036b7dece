"""Filling, submitting, reviewing and appealing inspections. Plain functions; they flush.

:func:`submit_idempotently` is the one exception: it owns its transactions, because an
idempotency key must be claimed (committed) before the work it protects begins.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..audit.operations import record
from ..auth.models import User
from ..db import utcnow
from ..errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_, bank_midnight
from ..messages import Message, joined
from ..orgs.models import OrgUnit
from ..scoring import ScoringError, ScoringRules, score_inspection, validate_answers
from ..scoring.types import DERIVED_MEASURES, get_response_type
from . import signals
from .access import can_review, require_fill
from .models import (
    EDITABLE,
    OPEN,
    REASSIGNABLE,
    Appeal,
    AppealStatus,
    Finding,
    FindingStatus,
    Inspection,
    InspectionAnswer,
    InspectionScore,
    InspectionStatus,
    Mode,
    Submission,
    SubmissionState,
)
from .signals import inspection_finalised
from .visits import VISIT_EVENT_LABELS, VISIT_EVENTS, read_events

#: An in-flight submission older than this is taken to have crashed; a retry may take over.
STALE_SUBMISSION = timedelta(seconds=30)


def item_documents(inspection: Inspection) -> list[dict[str, Any]]:
    """The form's items as plain checklist documents (what the scoring engine takes)."""
    return [item.to_document() for item in inspection.form_items()]


def _rules(inspection: Inspection) -> ScoringRules:
    return ScoringRules.from_dict(inspection.checklist.scoring_rules)


def section_weights(inspection: Inspection) -> dict[str, Decimal] | None:
    """The section weights the inspection's total combines its sections by (None: points)."""
    return inspection.checklist.section_weights()


def _check_answers(inspection: Inspection, answers: dict[str, Any]) -> None:
    """Refuse a submission that is not complete and valid, naming each item (a draft keeps what
    it can instead: see :func:`save_draft`)."""
    problems = validate_answers(item_documents(inspection), answers, require_all=True)
    if problems:
        raise InvalidInput(N_("检查表尚未填写完整或有误"), code="incomplete", details=problems)


# -- mystery visits ------------------------------------------------------------------------


def _read_events(inspection: Inspection, events: dict[str, Any],
                 ) -> tuple[dict[str, datetime], dict[str, list[Message]]]:
    """The visit's times that can be taken, and the problems of the others by event name
    (:func:`.visits.read_events`: in order, within the visit's window, none in the future, none
    hours after the visit began)."""
    return read_events(events, opens=bank_midnight(inspection.due_start), now=utcnow())


def _parse_events(inspection: Inspection, events: dict[str, Any]) -> dict[str, datetime]:
    """Every time of the visit, or a refusal naming each impossible one and why."""
    parsed, problems = _read_events(inspection, events)
    if problems:
        order = {name: number for number, name in enumerate(VISIT_EVENTS)}
        said = [Message("%(event)s：%(problem)s",
                        event=Message(VISIT_EVENT_LABELS.get(name, name)), problem=problem)
                for name, found in sorted(problems.items(), key=lambda p: order.get(p[0], 99))
                for problem in found]
        raise InvalidInput(N_("暗访时间记录有误：%(problems)s"), problems=joined(said),
                           code="events_invalid", details=problems)
    return parsed


def wait_ended(moments: dict[str, Any]) -> str | None:
    """Which time ends the wait: the call, or — a shopper who took a ticket and left without
    ever being called or served — the leaving (they waited that long at least)."""
    if "called" in moments:
        return "called"
    return "left" if "left" in moments and "served" not in moments else None


def derived_measures(moments: dict[str, datetime]) -> dict[str, float]:
    """Waiting and service minutes of a mystery visit, from its tapped timestamps."""
    measures: dict[str, float] = {}
    end = wait_ended(moments)
    if "ticket" in moments and end is not None:
        measures["wait_minutes"] = round(
            (moments[end] - moments["ticket"]).total_seconds() / 60, 1)
    if "served" in moments and "left" in moments:
        measures["service_minutes"] = round(
            (moments["left"] - moments["served"]).total_seconds() / 60, 1)
    assert set(measures) <= set(DERIVED_MEASURES)
    return measures


def _with_derived(inspection: Inspection, answers: dict[str, Any],
                  events: dict[str, Any]) -> dict[str, Any]:
    """Fill number items that take their value from the visit's events (e.g. waiting time)."""
    if not events:
        return answers
    measures = derived_measures(_parse_events(inspection, events))
    answers = dict(answers)
    for item in inspection.form_items():
        source = (item.config or {}).get("derived_from")
        if source in measures:
            previous = answers.get(item.code) or {}
            answers[item.code] = {**previous, "value": measures[source]}
    return answers


# -- drafts ---------------------------------------------------------------------------------


def save_draft(inspection: Inspection, *, version: int, answers: dict[str, Any],
               events: dict[str, Any] | None, by: User) -> dict[str, Any]:
    """Save the answers so far. ``version`` must be the one the device started from: a stale
    device gets 409 with the server's copy and nothing is overwritten.

    One wrong answer never costs the others: every answer (and visit time) that can be taken is
    saved, and those that cannot (a deduction above its maximum, a time out of order or
    impossible, an item not on the form) are left out and returned by item code
    (``problems``) and by event name (``event_problems``), beside the stored draft.
    Submission still refuses them.
    """
    require_fill(by, inspection)
    if inspection.status not in EDITABLE:  # cancelled or submitted: not a copy to choose
        raise Conflict(N_("该检查%(state)s，不能再修改"), state=inspection.status,
                       code="not_editable")
    refuse_if_outlet_closed(inspection)
    if version != inspection.version:
        raise Conflict(N_("该检查已在其他设备上修改，请选择保留哪一份"), code="version_conflict",
                       details={"server": draft_state(inspection)})
    if events is not None and inspection.mode is not Mode.mystery_visit:
        raise InvalidInput(N_("只有暗访记录时间节点"), code="events_not_allowed")
    problems = validate_answers(item_documents(inspection), answers, require_all=False,
                                notes=False)
    event_problems: dict[str, list[Message]] = {}
    if events:
        taken, event_problems = _read_events(inspection, events)
        events = {name: value for name, value in events.items() if name in taken}
    inspection.start()
    inspection.draft = {code: answer for code, answer in answers.items() if code not in problems}
    if events is not None:
        inspection.events = events
    db.session.flush()  # version_id_col: a concurrent save loses with StaleDataError (409)
    return {**draft_state(inspection), "problems": problems, "event_problems": event_problems}


def draft_state(inspection: Inspection) -> dict[str, Any]:
    return {"version": inspection.version, "answers": inspection.draft,
            "events": inspection.events, "status": inspection.status.value,
            "updated_at": inspection.updated_at.isoformat()}


# -- submission -----------------------------------------------------------------------------


def _fails(item, answers: dict[str, Any]) -> bool:
    value = (answers.get(item.code) or {}).get("value")
    return value is not None and value != "na" and get_response_type(
        item.response_type).is_failure(value, item.config, weight=item.weight)


def _photo_problems(inspection: Inspection, answers: dict[str, Any]) -> dict[str, list[Message]]:
    """Items whose photo rule is not met. Photo counts come from the evidence domain."""
    from ..evidence.operations import photo_counts  # evidence depends on inspections, not back

    counts = photo_counts(inspection)
    problems: dict[str, list[Message]] = {}
    for item in inspection.form_items():
        value = (answers.get(item.code) or {}).get("value")
        needs = item.photo_rule == "required" or (
            item.photo_rule == "on_fail" and _fails(item, answers))
        if needs and value != "na" and counts.get(item.code, 0) == 0:
            problems[item.code] = [Message("该项需要拍照留证")]
    return problems


def _unproven_fixes(inspection: Inspection, answers: dict[str, Any],
                    fixes: dict[str, Any]) -> list[str]:
    """Findings said to be fixed on the spot (立查立改) without an after-photo: the finding is
    closed at once, so the photo of the fix is its only proof."""
    from ..evidence.models import PhotoPurpose
    from ..evidence.operations import photo_counts

    claimed = {code for code, fix in fixes.items() if (fix or {}).get("fixed_on_spot")}
    if not claimed:
        return []
    after = photo_counts(inspection, PhotoPurpose.after)
    return [item.code for item in inspection.form_items()
            if item.code in claimed and _fails(item, answers) and not after.get(item.code)]


def submit(inspection: Inspection, payload: dict[str, Any], *, by: User) -> dict[str, Any]:
    """Submit a filled inspection: validate, score, freeze answers, create findings. Not before
    its window opens (``not_open_yet``); its draft is taken before then (:func:`save_draft`).

    ``payload`` holds ``answers`` (code → value/note), mystery ``events`` and per-finding
    ``findings`` (code → ``fixed_on_spot``). Returns the result the client is shown.
    """
    require_fill(by, inspection)
    if inspection.status is InspectionStatus.cancelled:
        raise Conflict(N_("该检查已取消，不能提交"), code="inspection_cancelled")
    if inspection.status not in EDITABLE:
        raise Conflict(N_("该检查%(state)s，不能重复提交"), state=inspection.status,
                       code="already_submitted")
    refuse_if_outlet_closed(inspection)
    # said before anything about the answers: however complete, they wait for the window
    inspection.refuse_before_window()
    events = payload.get("events") or {}
    if events and inspection.mode is not Mode.mystery_visit:
        raise InvalidInput(N_("只有暗访记录时间节点"), code="events_not_allowed")
    if inspection.mode is Mode.mystery_visit and any(
            (fix or {}).get("fixed_on_spot") for fix in (payload.get("findings") or {}).values()):
        # a covert visit cannot ask the outlet to fix anything without giving itself away
        raise InvalidInput(N_("暗访不能立查立改：整改会暴露神秘人身份"), code="fixed_on_spot_not_allowed")
    answers = _with_derived(inspection, payload.get("answers") or {}, events)
    _check_answers(inspection, answers)
    photo_problems = _photo_problems(inspection, answers)
    if photo_problems:
        raise InvalidInput(N_("部分检查项需要拍照留证"), code="photos_missing", details=photo_problems)
    unproven = _unproven_fixes(inspection, answers, payload.get("findings") or {})
    if unproven:
        raise InvalidInput(N_("立查立改的问题需要上传整改后照片：%(items)s"), items="、".join(unproven),
                           code="after_photos_missing",
                           details={code: [Message("立查立改需要整改后照片")] for code in unproven})
    try:
        result = score_inspection(item_documents(inspection), answers, _rules(inspection),
                                  section_weights=section_weights(inspection))
    except ScoringError as exc:
        raise InvalidInput(exc.message, code="answers_invalid", details=exc.messages) from exc
    if result.nothing_to_score:
        raise InvalidInput(N_("该检查表在%(mode)s中没有计分项，无法评分"), mode=inspection.mode,
                           code="nothing_to_score")
    if result.nothing_applicable:
        raise InvalidInput(N_("所有计分项均为不适用，无法评分"), code="nothing_applicable")

    resubmission = inspection.status is InspectionStatus.returned
    if resubmission:
        _discard_previous_submission(inspection)
    inspection.start()
    inspection.submit()
    inspection.submitted_by_id = by.id
    inspection.draft = answers
    inspection.events = events
    by_code = {item.code: item for item in inspection.form_items()}
    for position, item_score in enumerate(result.items):
        answer = answers.get(item_score.code) or {}
        inspection.answers.append(InspectionAnswer(
            item_code=item_score.code, section_code=item_score.section, position=position,
            value=answer.get("value"), note=answer.get("note"),
            earned=item_score.earned, possible=item_score.possible,
            failed=item_score.failed, red_line=item_score.red_line))
    fixes = payload.get("findings") or {}
    for code in result.failed_items:
        item = by_code[code]
        fixed = bool((fixes.get(code) or {}).get("fixed_on_spot"))
        db.session.add(Finding(
            inspection=inspection, outlet_id=inspection.outlet_id, item_code=code,
            item_text=item.text, severity=item.severity, red_line=item.red_line,
            note=(answers.get(code) or {}).get("note"), fixed_on_spot=fixed,
            status=FindingStatus.fixed_on_spot if fixed else FindingStatus.open))
    _store_score(inspection, result.to_dict(), result.total, result.grade, result.grade_key,
                 bool(result.red_line_failures), result.rules_version,
                 "退回修改后重新提交" if resubmission else "提交")
    db.session.flush()
    record("inspection.submit", inspection, actor=by,
           after={"total": inspection.total, "grade": inspection.grade_key,
                  "findings": list(result.failed_items), "late": inspection.submitted_late})
    signals.inspection_submitted.send(inspection, by=by)
    return submission_result(inspection)


def appealed(inspection: Inspection) -> bool:
    """Whether the outlet appealed one of the inspection's findings."""
    return any(finding.appeals for finding in inspection.findings)


#: Why an appealed inspection cannot go back to its inspector (the page says it beforehand).
APPEALED_MESSAGE = N_("该检查已有申诉，不能退回重填")


def _refuse_if_appealed(inspection: Inspection) -> None:
    """An appealed finding is the outlet's case: the submission it belongs to is neither sent
    back nor replaced (the appeal would lose its subject)."""
    if appealed(inspection):
        raise Conflict(APPEALED_MESSAGE, code="has_appeals")


def _discard_previous_submission(inspection: Inspection) -> None:
    """A returned inspection is corrected and submitted again: its answers and findings are
    replaced (the earlier score version stays in history)."""
    _refuse_if_appealed(inspection)
    signals.findings_replaced.send(inspection, findings=list(inspection.findings))
    for finding in list(inspection.findings):
        db.session.delete(finding)
    inspection.answers.clear()
    db.session.flush()
    # the deleted findings are gone from the database, not from the loaded list: the
    # submission's answer (and its replays) must list the new findings only
    db.session.expire(inspection, ["findings"])


def _store_score(inspection: Inspection, detail: dict[str, Any], total: Decimal | None,
                 grade: str | None, grade_key: str | None, red_line: bool, rules_version: str,
                 reason: str) -> InspectionScore:
    score = InspectionScore(number=len(inspection.scores) + 1, total=total, grade=grade,
                            grade_key=grade_key, detail=detail,
                            checklist_id=inspection.checklist_id,
                            rules_version=rules_version, reason=reason)
    inspection.scores.append(score)
    inspection.total, inspection.grade_key, inspection.red_line_failed = total, grade_key, red_line
    return score


def submission_result(inspection: Inspection) -> dict[str, Any]:
    """What a submitting client is told (and what a replay of the same key gets back)."""
    score = inspection.current_score
    return {
        "inspection_id": inspection.id,
        "status": inspection.status.value,
        "total": float(score.total) if score and score.total is not None else None,
        "grade": score.grade if score else None,
        "red_line_failed": inspection.red_line_failed,
        "findings": [{"id": f.id, "item_code": f.item_code, "fixed_on_spot": f.fixed_on_spot}
                     for f in inspection.findings],
        "submitted_at": inspection.submitted_at.isoformat() if inspection.submitted_at else None,
    }


def payload_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(existing: Submission, inspection_id: int, digest: str, by: User) -> dict[str, Any]:
    if (existing.inspection_id != inspection_id or existing.payload_hash != digest
            or existing.user_id != by.id):
        raise InvalidInput(N_("该提交编号已用于另一份内容，请勿重复使用"), code="idempotency_key_reused")
    if existing.state is SubmissionState.done:
        return existing.response
    raise Conflict(N_("该检查正在提交中，请稍后再试"), code="submission_in_progress")


def _locked_inspection(inspection_id: int) -> Inspection | None:
    """The inspection locked FOR UPDATE, as the lock found it. A copy this request read
    earlier (e.g. for the access check) is expired first: another device may have submitted
    meanwhile, and that copy must not be trusted (the session keeps objects across commits).
    Call it with nothing pending on that copy: expiring drops unflushed changes."""
    earlier = db.session.identity_map.get(db.session.identity_key(Inspection, inspection_id))
    if earlier is not None:
        db.session.expire(earlier)
    return db.session.get(Inspection, inspection_id, with_for_update=True)


def submit_idempotently(inspection_id: int, key: str, payload: dict[str, Any], *,
                        by: User) -> dict[str, Any]:
    """Submit once per client key, whatever the network does.

    The same key and payload return the stored result; the same key with another payload is
    refused (422); a retry while the first is still running gets 409. The key is claimed by
    committing a unique row first, so concurrent requests cannot both pass.
    """
    digest = payload_hash(payload)
    existing = db.session.scalar(sa.select(Submission).where(Submission.key == key))
    if existing is not None and existing.state is SubmissionState.in_flight \
            and utcnow() - existing.created_at > STALE_SUBMISSION \
            and existing.payload_hash == digest:
        db.session.delete(existing)  # its request died; this retry takes over
        db.session.commit()
        existing = None
    if existing is not None:
        return _replay(existing, inspection_id, digest, by)
    claim = Submission(key=key, inspection_id=inspection_id, user_id=by.id,
                       payload_hash=digest, state=SubmissionState.in_flight)
    db.session.add(claim)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(sa.select(Submission).where(Submission.key == key))
        return _replay(existing, inspection_id, digest, by)
    try:
        inspection = _locked_inspection(inspection_id)
        if inspection is None:
            raise NotFound(N_("未找到该检查"), code="inspection_not_found")
        response = submit(inspection, payload, by=by)
        claim.state = SubmissionState.done
        claim.response = response
        claim.completed_at = utcnow()
        db.session.commit()
        return response
    except Exception:
        db.session.rollback()
        # Release the key: the client may correct the problem and retry with it.
        db.session.execute(sa.delete(Submission).where(
            Submission.key == key, Submission.state == SubmissionState.in_flight))
        db.session.commit()
        raise


# -- review ---------------------------------------------------------------------------------


def _require_review(inspection: Inspection, by: User) -> None:
    if not can_review(by, inspection):
        raise PermissionDenied(N_("只有服务管理人员可以审核检查"), code="not_reviewer")


def return_for_correction(inspection: Inspection, reason: str, *, by: User) -> Inspection:
    """Send a submission back to its inspector with a reason — not once the outlet has
    appealed one of its findings (the resubmission would have to drop it)."""
    _require_review(inspection, by)
    _refuse_if_appealed(inspection)
    inspection.return_for_correction(reason)
    db.session.flush()
    record("inspection.return", inspection, actor=by, reason=reason)
    return inspection


def finalise(inspection: Inspection, *, by: User) -> Inspection:
    """Accept a submission as final (watch-list evaluation reads final results)."""
    _require_review(inspection, by)
    inspection.finalise()
    db.session.flush()
    record("inspection.finalise", inspection, actor=by, after={"total": inspection.total})
    inspection_finalised.send(inspection, by=by)
    return inspection


# -- assignments ----------------------------------------------------------------------------


def _require_planner(inspection: Inspection, by: User) -> None:
    from ..auth.permissions import Permission

    if not by.can(Permission.campaigns_manage, inspection.outlet):
        raise PermissionDenied(N_("只有服务管理人员可以调整检查任务"), code="not_planner")


def reassign(inspection: Inspection, *, assignee: User | None, team_id: int | None,
             reason: str, by: User) -> Inspection:
    """Give an open assignment, or one sent back for correction, to another person or team;
    the reason goes to the audit log."""
    from .campaigns import check_assignee

    _require_planner(inspection, by)
    if inspection.status not in REASSIGNABLE:
        raise Conflict(N_("已提交的检查不能改派"), code="not_open")
    before = {"assignee_id": inspection.assignee_id, "team_id": inspection.team_id}
    check_assignee(inspection, assignee, team_id)
    inspection.assignee = assignee
    inspection.team_id = team_id
    db.session.expire(inspection, ["team"])  # a team loaded earlier is no longer this one
    db.session.flush()
    record("inspection.reassign", inspection, actor=by, reason=reason, before=before,
           after={"assignee_id": inspection.assignee_id, "team_id": inspection.team_id})
    return inspection


def cancel(inspection: Inspection, *, reason: str, by: User) -> Inspection:
    """Cancel an open assignment (kept, with the reason its inspector is shown, for the
    record)."""
    _require_planner(inspection, by)
    return _cancel(inspection, reason, by)


def _cancel(inspection: Inspection, reason: str, by: User | None) -> Inspection:
    inspection.cancel(reason)
    db.session.flush()
    record("inspection.cancel", inspection, actor=by, reason=reason)
    return inspection


#: The reason the open tasks of a closed outlet are cancelled with, shown to their inspectors
#: as a planner's reason is (stored, as written reasons are, in the bank's language).
CLOSED_UNIT_REASON = "机构已停用"


def cancel_for_closed_unit(unit: OrgUnit, *, by: User | None) -> list[Inspection]:
    """Cancel the open tasks of a unit being closed (deactivated): a closed unit takes no new
    work, so none may bring it findings and rectification items. Each is cancelled as a
    planner cancels one — reason :data:`CLOSED_UNIT_REASON`, an audit entry each — on the
    authority of the closing itself. Only outlets have tasks: closing a sub-branch closes
    none of its outlets (:func:`~inspect_app.orgs.operations.update_unit`), whose tasks stay.

    Tasks submitted or sent back for correction are results already, and stay: a visit made
    while the outlet was open may still be corrected and decided. Each task is
    locked first: a submission under way (it holds the same lock) ends before it, and the
    task is then no longer open."""
    tasks = db.session.scalars(
        sa.select(Inspection).where(Inspection.outlet_id == unit.id,
                                    Inspection.status.in_(OPEN))
        .order_by(Inspection.id).with_for_update()
        .execution_options(populate_existing=True)).all()
    return [_cancel(task, CLOSED_UNIT_REASON, by) for task in tasks]


def refuse_if_outlet_closed(inspection: Inspection) -> None:
    """A closed outlet takes no new results: closing it cancels its open tasks, and this
    refuses anything filled for an open one that escaped (a race with the closing). A task
    sent back for correction is taken: its visit was made while the outlet was open."""
    if inspection.status in OPEN and not inspection.outlet.is_active:
        raise Conflict(N_("该网点已停用，不再接受检查结果"), code="outlet_closed")


def reschedule(inspection: Inspection, *, due_start: date, due_end: date, reason: str,
               by: User) -> Inspection:
    """Move an open assignment's window: within its campaign's period, and for a mystery visit
    no closer to its shopper's other visits of the outlet than planning allows."""
    from .campaigns import check_visit_interval

    _require_planner(inspection, by)
    if inspection.status not in OPEN:
        raise Conflict(N_("已提交的检查不能改期"), code="not_open")
    if due_end < due_start:
        raise InvalidInput(N_("结束日期不能早于开始日期"), code="invalid_window")
    campaign = inspection.campaign
    if campaign and not campaign.period_start <= due_start <= due_end <= campaign.period_end:
        raise InvalidInput(N_("改期后的时间须在检查计划期间（%(start)s 至 %(end)s）内"),
                           start=campaign.period_start.isoformat(),
                           end=campaign.period_end.isoformat(), code="outside_period")
    if inspection.mode is Mode.mystery_visit and inspection.assignee is not None:
        check_visit_interval(inspection, inspection.assignee, due_start)
    before = {"due_start": inspection.due_start, "due_end": inspection.due_end}
    inspection.due_start, inspection.due_end = due_start, due_end
    db.session.flush()
    record("inspection.reschedule", inspection, actor=by, reason=reason, before=before,
           after={"due_start": due_start, "due_end": due_end})
    return inspection


# -- appeals --------------------------------------------------------------------------------


def appeal_refusal(finding: Finding, by: User) -> DomainError | None:
    """Why ``by`` may not appeal ``finding`` now, or None if they may: only the inspected
    outlet, within APPEAL_DAYS of the submission, once at a time, while the finding stands."""
    from ..auth.permissions import Permission

    if not by.can(Permission.appeals_create, finding.outlet):
        return PermissionDenied(N_("只有被检查网点可以申诉"), code="not_outlet")
    inspection = finding.inspection
    if by.id in {inspection.submitted_by_id, inspection.assignee_id}:
        # a self-check filled by the outlet's own manager: their finding, not a verdict
        return PermissionDenied(N_("不能对自己填写的检查申诉"), code="own_inspection")
    days = current_app.config.get("APPEAL_DAYS", 7)
    if inspection.submitted_at is None or utcnow() > inspection.submitted_at + timedelta(days=days):
        return Conflict(N_("已超过申诉期限（提交后 %(days)s 天内）"), days=days,
                        code="appeal_window_closed")
    if finding.status is FindingStatus.overturned:
        return Conflict(N_("该问题已撤销"), code="finding_overturned")
    if any(a.status is AppealStatus.pending for a in finding.appeals):
        return Conflict(N_("该问题已有待处理的申诉"), code="appeal_pending")
    return None


def appeal_finding(finding: Finding, *, category: str, text: str, by: User) -> Appeal:
    """The inspected outlet contests a finding within the appeal window."""
    refusal = appeal_refusal(finding, by)
    if refusal is not None:
        raise refusal
    appeal = Appeal(finding=finding, category=category, text=text, created_by_id=by.id)
    db.session.add(appeal)
    db.session.flush()
    record("appeal.create", appeal, actor=by, after={"finding_id": finding.id,
                                                      "category": category})
    return appeal


def decide_appeal(appeal: Appeal, *, overturn: bool, note: str, by: User) -> Appeal:
    """A reviewer other than the inspector upholds or overturns. Overturning re-scores the
    inspection as if the item had passed; the earlier score version is kept."""
    finding = appeal.finding
    inspection = finding.inspection
    _require_review(inspection, by)
    if is_own_inspection(inspection, by):
        raise PermissionDenied(N_("原检查人员不能处理针对自己的申诉"), code="own_inspection")
    appeal.decide(overturn, note, by)
    if overturn:
        finding.status = FindingStatus.overturned
        _rescore_without(inspection, finding.item_code, appeal)
    db.session.flush()
    if overturn:
        signals.finding_overturned.send(finding, appeal=appeal, by=by)
    record("appeal.decide", appeal, actor=by, reason=note,
           after={"status": appeal.status.value, "total": inspection.total})
    return appeal


def is_own_inspection(inspection: Inspection, by: User) -> bool:
    """Whether ``by`` filled or was given ``inspection`` (they never decide its appeals)."""
    return by.id in {inspection.submitted_by_id, inspection.assignee_id}


def can_decide_appeal(appeal: Appeal, by: User) -> bool:
    """Whether ``by`` may uphold or overturn ``appeal`` now (for the screens)."""
    inspection = appeal.finding.inspection
    return (appeal.status is AppealStatus.pending and can_review(by, inspection)
            and not is_own_inspection(inspection, by))


def _rescore_without(inspection: Inspection, item_code: str, appeal: Appeal) -> None:
    answers = {a.item_code: {"value": a.value, "note": a.note} for a in inspection.answers}
    overturned = {f.item_code for f in inspection.findings
                  if f.status is FindingStatus.overturned} | {item_code}
    items = item_documents(inspection)
    for item in items:
        if item["code"] in overturned:
            answers[item["code"]] = _passing_answer(item)
    # the way the submitted score combined its sections, so that the appeal changes the item
    # and nothing else: a score stored before section weights counted has no such key
    earlier = inspection.current_score
    weighted = earlier is not None and "section_weights" in earlier.detail
    result = score_inspection(items, answers, _rules(inspection),
                              section_weights=section_weights(inspection) if weighted else None)
    by_code = {s.code: s for s in result.items}
    for answer in inspection.answers:
        score = by_code[answer.item_code]
        answer.earned, answer.possible, answer.failed = score.earned, score.possible, score.failed
    _store_score(inspection, result.to_dict(), result.total, result.grade, result.grade_key,
                 bool(result.red_line_failures), result.rules_version,
                 f"申诉成立（申诉 #{appeal.id}，{item_code}）")


def _passing_answer(item: dict[str, Any]) -> dict[str, Any]:
    """The answer that gives an item full points, per response type."""
    kind, config = item["response_type"], item.get("config") or {}
    value: Any = {"pass_fail": "pass", "deduction": 0}.get(kind)
    if kind == "scale":
        value = config.get("max")
    elif kind == "number":
        value = config.get("limit")
    return {"value": value, "note": "申诉成立"}
