"""Visit times that cannot be — ahead of the clock, before the visit's window, hours after
arrival — named in a draft and refused at submission."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.i18n import bank_midnight
from inspect_app.inspections.models import Inspection

from ..helpers import filler_of, new_key, passing_answers, visit_times


def test_impossible_visit_times_are_named_in_a_draft_and_refused_at_submission(client, api,
                                                                               first):
    """A call tapped on a phone whose clock runs a day ahead, 'served' five hours after
    arrival and 'left' before the visit's window opened: does a draft name each (keeping the
    possible times), and does the submission refuse them with a message that names them, in
    Chinese and in English?"""
    mystery = first("mystery_visit")
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
