"""Who sees what, mystery-shopper anonymity, and appeals against findings."""
from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import sqlalchemy as sa

from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.inspections.models import Finding, Inspection, InspectionTeam

from ..helpers import (
    attach_photos,
    filler_of,
    new_key,
    passing_answers,
    submit_filled,
    visit_times,
)


def outlet_manager_of(inspection: Inspection) -> str:
    return db.session.scalar(sa.select(User.username).where(
        User.username == f"wd.{inspection.outlet.code.split('-')[1].lower()}"
                         f"{inspection.outlet.code.split('-')[2]}"))


def subbranch_manager_of(inspection: Inspection) -> str:
    from inspect_app.demo.seed import SUBBRANCHES

    code = inspection.outlet.code.split("-")[1]
    return f"zh.{next(p for c, p, *_ in SUBBRANCHES if c == code)}"


def submitted(client, api, first, mode: str, fail=()) -> Inspection:
    inspection = first(mode)
    response = submit_filled(client, api(filler_of(inspection)), inspection.id, fail=fail)
    assert response.status_code == 200, response.get_json()
    return db.session.get(Inspection, inspection.id)


def failing_item(client, api, inspection) -> str:
    items = client.get(f"/api/v1/inspections/{inspection.id}",
                       headers=api(filler_of(inspection))).get_json()["checklist"]["items"]
    return next(i["code"] for i in items if i["response_type"] == "pass_fail" and
                not i["red_line"])


def test_outlet_sees_results_only_after_submission(client, api, first):
    """Is an assigned inspection invisible to the outlet until it is submitted?"""
    spot = first("spot_check")
    manager = api(outlet_manager_of(spot))
    assert client.get(f"/api/v1/inspections/{spot.id}", headers=manager).status_code == 404
    submit_filled(client, api(filler_of(spot)), spot.id)
    assert client.get(f"/api/v1/inspections/{spot.id}", headers=manager).status_code == 200


def test_managers_see_only_their_own_units(client, api, first):
    """Do an outlet manager and a sub-branch manager of other units get 404?"""
    spot = submitted(client, api, first, "spot_check")
    other_outlet = "wd.ln01" if not spot.outlet.code.startswith("TS-LN-01") else "wd.lb01"
    other_subbranch = "zh.lunan" if not spot.outlet.code.startswith("TS-LN") else "zh.lubei"
    for username in (other_outlet, other_subbranch):
        assert client.get(f"/api/v1/inspections/{spot.id}",
                          headers=api(username)).status_code == 404
    assert client.get(f"/api/v1/inspections/{spot.id}",
                      headers=api(subbranch_manager_of(spot))).status_code == 200


def test_inspector_cannot_open_someone_elses_assignment(client, api, first):
    """Is another inspector's assignment "not found" for me?"""
    spot = first("spot_check")
    other = "jc.fenhang2" if spot.assignee.username == "jc.fenhang1" else "jc.fenhang1"
    assert client.get(f"/api/v1/inspections/{spot.id}", headers=api(other)).status_code == 404


def test_peer_inspector_never_opens_their_own_subbranch(client, api, first):
    """Even if put in the team, can an inspector not open a peer check of their own
    sub-branch?"""
    peer = first("peer_check")
    own_inspector = db.session.scalar(sa.select(InspectionTeam).where(
        InspectionTeam.subbranch_id == peer.outlet.parent_id)).members[0]
    peer.team.members.append(own_inspector)  # a mistake in team set-up
    db.session.commit()
    response = client.get(f"/api/v1/inspections/{peer.id}",
                          headers=api(own_inspector.username))
    assert response.status_code == 404
    listed = client.get("/api/v1/inspections?mine=true&per_page=200",
                        headers=api(own_inspector.username)).get_json()["items"]
    assert peer.id not in {item["id"] for item in listed}


def test_mystery_shopper_stays_anonymous_to_the_outlet(client, api, first):
    """Do every outlet-facing answer show only "神秘人" and the visit date — never the name,
    account, scenario or exact times?"""
    mystery = first("mystery_visit")
    shopper = mystery.assignee
    events = visit_times(mystery, arrival=0, ticket=1, called=10, served=11, left=25)
    code = failing_item(client, api, mystery)
    response = submit_filled(client, api(shopper.username), mystery.id, fail=(code,),
                             extra={"events": events})
    assert response.status_code == 200, response.get_json()
    finding = db.session.scalar(sa.select(Finding).where(Finding.inspection_id == mystery.id))
    client.post(f"/api/v1/findings/{finding.id}/appeals",
                json={"category": "facts_wrong", "text": "当日该岗位有人值守，请复核"},
                headers=api(outlet_manager_of(mystery)))
    secrets = [shopper.display_name, shopper.username, events["arrival"][:13], mystery.scenario]
    # the clock times alone, too, but only in what shows this visit: other rows carry today's
    # timestamps (an appeal lodged, another inspection updated), which may read 09:30
    clock = [events[name][11:16] for name in ("arrival", "ticket", "called")] + [
        "T" + events["arrival"][11:13]]
    for username in (outlet_manager_of(mystery), subbranch_manager_of(mystery)):
        headers = api(username)
        pages = [client.get(f"/api/v1/inspections/{mystery.id}", headers=headers),
                 client.get(f"/api/v1/inspections?outlet_id={mystery.outlet_id}",
                            headers=headers),
                 client.get("/api/v1/appeals", headers=headers),
                 client.get(f"/api/v1/inspections/{mystery.id}/photos", headers=headers)]
        for page in pages:
            assert page.status_code == 200, page.get_json()
            text = page.get_data(as_text=True)
            for secret in secrets:
                assert secret not in text, (username, page.request.path, secret)
        detail = pages[0].get_json()
        assert detail["inspector"] == "神秘人" and len(detail["submitted_at"]) == 10
        english = client.get(f"/api/v1/inspections/{mystery.id}?lang=en", headers=headers)
        assert english.get_json()["inspector"] == "Mystery shopper"
        client.get(f"/api/v1/inspections/{mystery.id}?lang=zh", headers=headers)  # back
        # no exact moment of the visit anywhere: submitted, updated, scored, photos uploaded
        listed = next(i for i in pages[1].get_json()["items"] if i["id"] == mystery.id)
        for shown in (detail, listed, pages[3].get_json()):
            text = json.dumps(shown, ensure_ascii=False)
            assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}", text), shown
            for secret in clock:
                assert secret not in text, (username, secret)
    # the service manager, who may, sees who it was
    full = client.get(f"/api/v1/inspections/{mystery.id}", headers=api("fwgl")).get_json()
    assert full["inspector"] == shopper.display_name and full["events"]["called"]


def test_the_shoppers_notes_of_the_visit_stay_with_those_who_know_the_shopper(client, api,
                                                                             first):
    """EFF-09 asks the shopper to write down the times of arrival, ticket and call: does the
    outlet's copy leave out the visit's free-text items (answer, item and photos), while the
    service manager reads them and the scored items stay visible to both?"""
    mystery = first("mystery_visit")
    shopper = api(mystery.assignee.username)
    items = client.get(f"/api/v1/inspections/{mystery.id}",
                       headers=shopper).get_json()["checklist"]["items"]
    notes = [i["code"] for i in items if i["response_type"] == "text"]
    assert "EFF-09" in notes
    answers = passing_answers(items)
    answers["EFF-09"] = {"value": "09:12到店，09:13取号（A058号），09:41叫号", "note": None}
    attach_photos(client, shopper, mystery.id, items, answers)
    response = client.post(f"/api/v1/inspections/{mystery.id}/submit",
                           json={"answers": answers},
                           headers={**shopper, "Idempotency-Key": new_key()})
    assert response.status_code == 200, response.get_json()
    for username in (outlet_manager_of(mystery), subbranch_manager_of(mystery)):
        shown = client.get(f"/api/v1/inspections/{mystery.id}", headers=api(username))
        assert "A058" not in shown.get_data(as_text=True), username
        detail = shown.get_json()
        codes = {i["code"] for i in detail["checklist"]["items"]}
        assert not codes & set(notes) and not set(detail["answers"]) & set(notes)
        assert not set(detail["photos"]) & set(notes)
        assert "ENV-01" in codes and detail["answers"]["ENV-01"]["value"] == "pass"
    full = client.get(f"/api/v1/inspections/{mystery.id}", headers=api("fwgl")).get_json()
    assert full["answers"]["EFF-09"]["value"].startswith("09:12到店")


def test_overturned_appeal_rescores_and_keeps_both_versions(client, api, first):
    """When a reviewer overturns a finding, is the score recomputed with the old one kept?"""
    spot = first("spot_check")
    code = failing_item(client, api, spot)
    result = submit_filled(client, api(filler_of(spot)), spot.id, fail=(code,)).get_json()
    finding_id = result["findings"][0]["id"]
    appeal = client.post(f"/api/v1/findings/{finding_id}/appeals",
                         json={"category": "standard_misapplied", "text": "该标识已按新版设置"},
                         headers=api(outlet_manager_of(spot)))
    assert appeal.status_code == 201, appeal.get_json()
    decided = client.post(f"/api/v1/appeals/{appeal.get_json()['id']}/decide",
                          json={"decision": "overturned", "note": "复核照片后确认合格"},
                          headers=api("fwgl2"))
    assert decided.status_code == 200, decided.get_json()
    detail = client.get(f"/api/v1/inspections/{spot.id}", headers=api("fwgl")).get_json()
    history = detail["score"]["history"]
    assert len(history) == 2 and history[1]["total"] > history[0]["total"]
    assert detail["total"] == history[1]["total"]
    assert detail["findings"][0]["status"] == "overturned"


def test_original_inspector_cannot_decide_the_appeal(client, api, first):
    """Is the inspector who made the finding refused when deciding an appeal against it?"""
    spot = first("spot_check")
    code = failing_item(client, api, spot)
    result = submit_filled(client, api(filler_of(spot)), spot.id, fail=(code,)).get_json()
    appeal = client.post(f"/api/v1/findings/{result['findings'][0]['id']}/appeals",
                         json={"category": "facts_wrong", "text": "请复核此项检查结论"},
                         headers=api(outlet_manager_of(spot))).get_json()
    # make the inspector a reviewer too: still not allowed on their own inspection
    from inspect_app.auth.operations import update_user
    from inspect_app.auth.permissions import Role
    from inspect_app.orgs.models import OrgUnit

    inspector = db.session.get(User, spot.assignee_id)
    branch = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS"))
    update_user(inspector, {"grants": [(Role.inspector, branch), (Role.service_manager, branch)]})
    db.session.commit()
    response = client.post(f"/api/v1/appeals/{appeal['id']}/decide",
                           json={"decision": "overturned", "note": "同意"},
                           headers=api(inspector.username))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "own_inspection"


def test_appeal_window_closes(app, client, api, first):
    """After the configured number of days, is an appeal refused?"""
    spot = first("spot_check")
    code = failing_item(client, api, spot)
    result = submit_filled(client, api(filler_of(spot)), spot.id, fail=(code,)).get_json()
    inspection = db.session.get(Inspection, spot.id)
    inspection.submitted_at -= timedelta(days=app.config.get("APPEAL_DAYS", 7) + 1)
    db.session.commit()
    response = client.post(f"/api/v1/findings/{result['findings'][0]['id']}/appeals",
                           json={"category": "other", "text": "迟到的申诉内容"},
                           headers=api(outlet_manager_of(spot)))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "appeal_window_closed"


def test_only_the_inspected_outlet_may_appeal(client, api, first):
    """Is a sub-branch manager (not the outlet) refused when appealing?"""
    spot = first("spot_check")
    code = failing_item(client, api, spot)
    result = submit_filled(client, api(filler_of(spot)), spot.id, fail=(code,)).get_json()
    response = client.post(f"/api/v1/findings/{result['findings'][0]['id']}/appeals",
                           json={"category": "other", "text": "支行代为申诉"},
                           headers=api(subbranch_manager_of(spot)))
    assert response.status_code == 403


def test_finding_says_whether_the_viewer_may_appeal_it(app, client, api, first):
    """Does each finding tell the viewer, computed on the server, whether they may appeal it
    now — the outlet yes, its sub-branch no; no more once an appeal is pending or the window
    has closed — and where the latest appeal stands?"""
    spot = first("spot_check")
    code = failing_item(client, api, spot)
    submit_filled(client, api(filler_of(spot)), spot.id, fail=(code,))
    url = f"/api/v1/inspections/{spot.id}"
    outlet, subbranch = api(outlet_manager_of(spot)), api(subbranch_manager_of(spot))
    finding = client.get(url, headers=outlet).get_json()["findings"][0]
    assert finding["can_appeal"] is True and finding["appeal"] is None
    assert client.get(url, headers=subbranch).get_json()["findings"][0]["can_appeal"] is False

    client.post(f"/api/v1/findings/{finding['id']}/appeals",
                json={"category": "facts_wrong", "text": "请复核此项检查结论"}, headers=outlet)
    finding = client.get(url, headers=outlet).get_json()["findings"][0]
    assert finding["can_appeal"] is False
    assert finding["appeal"]["status"] == "pending" and finding["appeal"]["status_label"] == "待处理"
    assert finding["appeal"]["category_label"] == "事实认定有误"

    other = first("self_check")
    submit_filled(client, api(filler_of(other)), other.id, fail=(code,))
    inspection = db.session.get(Inspection, other.id)
    inspection.submitted_at -= timedelta(days=app.config.get("APPEAL_DAYS", 7) + 1)
    db.session.commit()
    late = client.get(f"/api/v1/inspections/{other.id}",
                      headers=api(outlet_manager_of(other))).get_json()["findings"][0]
    assert late["can_appeal"] is False


def test_appeal_says_whether_the_viewer_may_decide_it(client, api, first):
    """Is ``can_decide`` true for a reviewer other than the inspector while the appeal is
    pending, and false for the outlet, the inspector and once it is decided?"""
    spot = first("spot_check")
    code = failing_item(client, api, spot)
    result = submit_filled(client, api(filler_of(spot)), spot.id, fail=(code,)).get_json()
    appeal = client.post(f"/api/v1/findings/{result['findings'][0]['id']}/appeals",
                         json={"category": "other", "text": "请复核此项检查结论"},
                         headers=api(outlet_manager_of(spot))).get_json()

    def listed(username):
        page = client.get("/api/v1/appeals?status=pending", headers=api(username)).get_json()
        return next((a for a in page["items"] if a["id"] == appeal["id"]), None)

    assert appeal["can_decide"] is False
    assert listed("fwgl2")["can_decide"] is True
    assert listed("fwgl2")["outlet"]["name"] == spot.outlet.name
    assert listed(outlet_manager_of(spot))["can_decide"] is False
    client.post(f"/api/v1/appeals/{appeal['id']}/decide",
                json={"decision": "upheld", "note": "照片清楚，维持原结论"}, headers=api("fwgl2"))
    assert listed("fwgl2") is None
    decided = client.get("/api/v1/appeals", headers=api("fwgl2")).get_json()["items"][0]
    assert decided["status"] == "upheld" and decided["can_decide"] is False


def test_dates_are_the_banks_as_on_the_pdf(client, api, first):
    """Submitted at 01:30 in Tangshan (17:30 UTC the day before): do the result, its mystery
    view for the outlet and the report PDF all give the bank's date, not the UTC one?"""
    from datetime import UTC, datetime

    from pypdf import PdfReader

    for mode in ("spot_check", "mystery_visit"):
        inspection = submitted(client, api, first, mode)
        inspection.submitted_at = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)
        db.session.commit()
        outlet = api(outlet_manager_of(inspection))
        shown = client.get(f"/api/v1/inspections/{inspection.id}", headers=outlet).get_json()
        assert shown["submitted_on"] == "2026-11-28", mode
        listed = client.get(f"/api/v1/inspections?status=submitted&outlet_id="
                            f"{inspection.outlet_id}", headers=outlet).get_json()["items"]
        assert next(r for r in listed if r["id"] == inspection.id)["submitted_on"] == "2026-11-28"
        if mode == "mystery_visit":
            assert shown["submitted_at"] == "2026-11-28"  # the visit's day, in Tangshan
        pdf = client.get(f"/api/v1/inspections/{inspection.id}/report.pdf", headers=outlet)
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
        assert "2026-11-28" in text and "2026-11-27" not in text, mode


def test_an_outlet_does_not_appeal_the_self_check_it_filled_itself(client, api, first):
    """Is the manager who filled their outlet's self-check refused when appealing its findings
    (and told so by can_appeal), while an independent check's findings stay appealable?"""
    own = first("self_check")
    code = failing_item(client, api, own)
    result = submit_filled(client, api(filler_of(own)), own.id, fail=(code,)).get_json()
    finding_id = result["findings"][0]["id"]
    manager = api(filler_of(own))
    shown = client.get(f"/api/v1/inspections/{own.id}", headers=manager).get_json()
    assert [f["can_appeal"] for f in shown["findings"]] == [False]
    response = client.post(f"/api/v1/findings/{finding_id}/appeals",
                           json={"category": "other", "text": "自己填的也想申诉"}, headers=manager)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "own_inspection"


def test_a_mystery_visit_cannot_be_fixed_on_the_spot(client, api, first):
    """Is a mystery visit's "fixed on the spot" refused (the outlet would learn who visited),
    with nothing submitted?"""
    from ..helpers import new_key, passing_answers

    visit = first("mystery_visit")
    headers = api(filler_of(visit))
    form = client.get(f"/api/v1/inspections/{visit.id}", headers=headers).get_json()
    code = failing_item(client, api, visit)
    body = {"answers": passing_answers(form["checklist"]["items"], fail=(code,)),
            "findings": {code: {"fixed_on_spot": True}}}
    response = client.post(f"/api/v1/inspections/{visit.id}/submit", json=body,
                           headers={**headers, "Idempotency-Key": new_key()})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == "fixed_on_spot_not_allowed"
    assert db.session.get(Inspection, visit.id).status.value in ("assigned", "in_progress")


def test_an_appealed_submission_is_not_sent_back(client, api, first):
    """Once the outlet has appealed a finding, is returning the inspection refused (409) — the
    resubmission would have to drop the appealed finding, so the inspection would be stuck —
    and can the appeal still be decided and the result finalised?"""
    spot = first("spot_check")
    code = failing_item(client, api, spot)
    result = submit_filled(client, api(filler_of(spot)), spot.id, fail=(code,)).get_json()

    def offered():  # what the reviewer's page is told before anyone types a reason
        shown = client.get(f"/api/v1/inspections/{spot.id}", headers=api("fwgl")).get_json()
        return shown["can_review"], shown["can_return"]

    assert offered() == (True, True)
    appeal = client.post(f"/api/v1/findings/{result['findings'][0]['id']}/appeals",
                         json={"category": "standard_misapplied", "text": "该标识已按新版设置"},
                         headers=api(outlet_manager_of(spot)))
    assert appeal.status_code == 201, appeal.get_json()
    assert offered() == (True, False)
    refused = client.post(f"/api/v1/inspections/{spot.id}/return", headers=api("fwgl"),
                          json={"reason": "请补充照片"})
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["code"] == "has_appeals"
    decided = client.post(f"/api/v1/appeals/{appeal.get_json()['id']}/decide",
                          json={"decision": "upheld", "note": "维持原判"}, headers=api("fwgl2"))
    assert decided.status_code == 200, decided.get_json()
    final = client.post(f"/api/v1/inspections/{spot.id}/finalise", headers=api("fwgl"))
    assert final.status_code == 200 and final.get_json()["status"] == "final"


def test_a_resubmission_answers_with_its_own_findings_only(client, api, first):
    """Returned and submitted again with other failures: do the submission's answer and its
    replay list exactly the findings the inspection now holds, not the deleted ones too?"""
    spot = first("spot_check")
    filler = api(filler_of(spot))
    items = client.get(f"/api/v1/inspections/{spot.id}", headers=filler).get_json()[
        "checklist"]["items"]
    codes = [i["code"] for i in items if i["response_type"] == "pass_fail" and not i["red_line"]]
    first_try = submit_filled(client, filler, spot.id, fail=tuple(codes[:2]))
    assert first_try.status_code == 200, first_try.get_json()
    returned = client.post(f"/api/v1/inspections/{spot.id}/return", headers=api("fwgl"),
                           json={"reason": "请核实"})
    assert returned.status_code == 200, returned.get_json()
    again = submit_filled(client, filler, spot.id, fail=(codes[2],))
    assert again.status_code == 200, again.get_json()
    stored = client.get(f"/api/v1/inspections/{spot.id}", headers=api("fwgl")).get_json()
    listed = sorted(f["id"] for f in again.get_json()["findings"])
    assert listed == sorted(f["id"] for f in stored["findings"])
    assert [f["item_code"] for f in again.get_json()["findings"]] == [codes[2]]


def test_a_reviewers_return_note_on_a_mystery_visit_stays_with_those_who_know_the_shopper(
        client, api, first):
    """A reviewer sends a mystery visit back with a note naming the shopper and the visit's
    times: once it is submitted again, does the outlet's and the sub-branch's copy leave the
    note out, while the service manager still reads it?"""
    mystery = first("mystery_visit")
    shopper = mystery.assignee
    events = visit_times(mystery, arrival=0, ticket=1, called=10, served=11, left=25)
    response = submit_filled(client, api(shopper.username), mystery.id,
                             extra={"events": events})
    assert response.status_code == 200, response.get_json()
    note = f"{shopper.display_name}：到达时间 09:30 与叫号系统不符，请核对后重交"
    returned = client.post(f"/api/v1/inspections/{mystery.id}/return", json={"reason": note},
                           headers=api("fwgl"))
    assert returned.status_code == 200, returned.get_json()
    response = submit_filled(client, api(shopper.username), mystery.id,
                             extra={"events": events})
    assert response.status_code == 200, response.get_json()
    for username in (outlet_manager_of(mystery), subbranch_manager_of(mystery)):
        shown = client.get(f"/api/v1/inspections/{mystery.id}", headers=api(username))
        assert shown.get_json()["review_note"] is None, username
        assert shopper.display_name not in shown.get_data(as_text=True), username
    full = client.get(f"/api/v1/inspections/{mystery.id}", headers=api("fwgl")).get_json()
    assert full["review_note"] == note
