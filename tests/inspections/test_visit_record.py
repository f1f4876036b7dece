"""A mystery visit's record — its scenario and timed events — for its reviewers, never for the
outlet side; and the visit times that cannot be, named in a draft and refused at submission."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from pypdf import PdfReader

from inspect_app.extensions import db
from inspect_app.i18n import bank_midnight
from inspect_app.inspections.models import Inspection

from ..helpers import filler_of, new_key, passing_answers, submit_filled, visit_times
from .test_visibility_and_appeals import failing_item, outlet_manager_of, subbranch_manager_of

VISIT = {"arrival": 0, "ticket": 1, "called": 23, "served": 24, "left": 35}


def submitted_visit(client, api, first) -> tuple[Inspection, dict[str, str]]:
    """The first mystery visit, submitted with a finding and its five tapped times."""
    mystery = first("mystery_visit")
    events = visit_times(mystery, **VISIT)
    response = submit_filled(client, api(filler_of(mystery)), mystery.id,
                             fail=(failing_item(client, api, mystery),), extra={"events": events})
    assert response.status_code == 200, response.get_json()
    return db.session.get(Inspection, mystery.id), events


def clock(moment: str) -> str:
    return moment[11:19]  # HH:MM:SS of "YYYY-MM-DDTHH:MM:SS+08:00"


def pdf_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return re.sub(r"\s+", "", "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages))


def test_the_reviewer_reads_the_visits_scenario_and_timed_events(client, api, first):
    """Does the service manager reviewing a mystery visit get its scenario and every timed
    event in the visit's order, with the minutes since the one before and since arrival — and
    the outlet and its sub-branch neither the scenario nor any of the times?"""
    mystery, events = submitted_visit(client, api, first)
    shown = client.get(f"/api/v1/inspections/{mystery.id}", headers=api("fwgl")).get_json()
    assert shown["scenario"] == mystery.scenario
    rows = [(r["event"], r["label"], r["time"], r["since_previous"], r["since_arrival"])
            for r in shown["visit_timeline"]]
    assert rows == [("arrival", "到达网点", clock(events["arrival"]), None, None),
                    ("ticket", "取号", clock(events["ticket"]), 1.0, 1.0),
                    ("called", "叫号", clock(events["called"]), 22.0, 23.0),
                    ("served", "开始办理", clock(events["served"]), 1.0, 24.0),
                    ("left", "离开网点", clock(events["left"]), 11.0, 35.0)]
    english = client.get(f"/api/v1/inspections/{mystery.id}?lang=en", headers=api("fwgl"))
    assert english.get_json()["visit_timeline"][1]["label"] == "Ticket taken"
    shopper = client.get(f"/api/v1/inspections/{mystery.id}", headers=api(filler_of(mystery)))
    assert len(shopper.get_json()["visit_timeline"]) == 5
    for username in (outlet_manager_of(mystery), subbranch_manager_of(mystery)):
        seen = client.get(f"/api/v1/inspections/{mystery.id}", headers=api(username))
        assert seen.status_code == 200
        body = seen.get_json()
        assert body["visit_timeline"] == [] and body["events"] == {}
        assert body["scenario"] is None
        assert clock(events["called"])[:5] not in seen.get_data(as_text=True), username


def test_the_reviewers_report_holds_the_visit_record_and_the_outlets_copy_does_not(
        client, api, first):
    """Does the inspection report PDF of a mystery visit print the scenario and the table of
    its timed events for the service manager — and leave both out of the copies the outlet
    and its sub-branch download?"""
    mystery, events = submitted_visit(client, api, first)
    url = f"/api/v1/inspections/{mystery.id}/report.pdf"
    reviewer = pdf_text(client.get(url, headers=api("fwgl")))
    assert "暗访记录" in reviewer and f"暗访场景：{mystery.scenario}" in reviewer
    assert "距上一节点（分钟）" in reviewer and "距到达（分钟）" in reviewer
    for name in ("到达网点", "取号", "叫号", "开始办理", "离开网点"):
        assert name in reviewer
    assert f"叫号{clock(events['called'])}2223" in reviewer  # 22 min since the ticket, 23 since arrival
    for username in (outlet_manager_of(mystery), subbranch_manager_of(mystery)):
        copy = pdf_text(client.get(url, headers=api(username)))
        assert "暗访记录" not in copy and mystery.scenario not in copy, username
        assert clock(events["called"])[:5] not in copy, username


def test_impossible_visit_times_are_named_in_a_draft_and_refused_at_submission(client, api,
                                                                               first):
    """A call tapped on a phone whose clock runs a day ahead, 'served' five hours after
    arrival and 'left' before the visit's window opened: does a draft name each (keeping the
    possible times), and does the submission refuse them with a message that names them, in
    Chinese and in English?"""
    mystery = first("mystery_visit")
    # a window open since yesterday at least: five hours of a visit fit in the past any day
    mystery.due_start -= timedelta(days=1)
    db.session.commit()
    headers = api(filler_of(mystery))
    state = client.get(f"/api/v1/inspections/{mystery.id}", headers=headers).get_json()
    events = visit_times(mystery, arrival=0, ticket=1, served=300)
    events["called"] = (datetime.now().astimezone() + timedelta(days=1)).isoformat()
    events["left"] = (bank_midnight(mystery.due_start) - timedelta(hours=1)).isoformat()
    opens = mystery.due_start.isoformat()
    expected = {"called": ["时间晚于当前时间，请核对手机时间"],
                "served": ["距到达网点已超过 4 小时"],
                "left": [f"早于暗访期限（{opens} 起）"]}
    saved = client.put(f"/api/v1/inspections/{mystery.id}/draft", headers=headers,
                       json={"version": state["version"], "answers": {}, "events": events})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["event_problems"] == expected
    db.session.expire_all()
    assert set(db.session.get(Inspection, mystery.id).events) == {"arrival", "ticket"}

    body = {"answers": passing_answers(state["checklist"]["items"]), "events": events}
    refused = client.post(f"/api/v1/inspections/{mystery.id}/submit", json=body,
                          headers={**headers, "Idempotency-Key": new_key()})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "events_invalid" and error["details"] == expected
    assert error["message"] == ("暗访时间记录有误：叫号：时间晚于当前时间，请核对手机时间；"
                                "开始办理：距到达网点已超过 4 小时；"
                                f"离开网点：早于暗访期限（{opens} 起）")
    english = client.post(f"/api/v1/inspections/{mystery.id}/submit?lang=en", json=body,
                          headers={**headers, "Idempotency-Key": new_key()}).get_json()["error"]
    assert english["message"].startswith("The visit times are wrong: Called: The time is later")
    assert "More than 4 hours after Arrived at the outlet" in english["message"]
    assert english["details"]["left"] == [f"Before the visit window (opens {opens})"]
    client.get("/api/v1/inspections?lang=zh", headers=headers)
    assert db.session.scalar(sa.select(Inspection.status).where(
        Inspection.id == mystery.id)).value == "in_progress"


def test_a_shopper_who_left_without_being_called_waited_until_leaving(client, api, first):
    """A ticket taken, then 30 minutes without a call and the shopper leaves, never served: is
    the wait (limit 15 minutes) the half hour from the ticket to the leaving — a finding —
    rather than nothing to time? A shopper served without a call still has no wait."""
    from inspect_app.inspections.operations import derived_measures

    mystery = first("mystery_visit")
    events = visit_times(mystery, arrival=0, ticket=1, left=31)
    response = submit_filled(client, api(filler_of(mystery)), mystery.id,
                             extra={"events": events})
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    wait = next(a for a in db.session.get(Inspection, mystery.id).answers
                if a.item_code == "EFF-01")
    assert (wait.value, wait.failed) == (30.0, True)
    moments = {name: datetime.fromisoformat(at) for name, at in
               visit_times(mystery, arrival=0, ticket=1, served=5, left=31).items()}
    assert "wait_minutes" not in derived_measures(moments)
