"""Helpers shared by the tests: filling in forms, making photos."""
from __future__ import annotations

import contextlib
import functools
import io
import random
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from PIL import Image

from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection
from inspect_app.scoring.types import get_response_type


def filler_of(inspection: Inspection) -> str:
    """Username of someone who fills this inspection in."""
    if inspection.team is not None:
        return inspection.team.members[0].username
    return inspection.assignee.username


def passing_answers(form_items: list[dict], fail: tuple[str, ...] = ()) -> dict:
    """Answers that pass every item, except those in ``fail``."""
    answers = {}
    for item in form_items:
        kind, config = item["response_type"], item["config"]
        failing = item["code"] in fail
        note = None
        if kind == "pass_fail":
            value = "fail" if failing else "pass"
        elif kind == "scale":
            value = 0 if failing else config["max"]
        elif kind == "number":
            over = 5 if config.get("direction", "max") == "max" else -1
            value = config["limit"] + over if failing else config["limit"]
        elif kind == "deduction":
            value, note = (item["weight"], "现场发现问题，按标准扣分") if failing else (0, None)
        else:
            value = "无"
        answers[item["code"]] = {"value": value, "note": note}
    return answers


def new_key() -> str:
    return str(uuid.uuid4())


BEIJING = ZoneInfo("Asia/Shanghai")


def visit_times(inspection: Inspection, **minutes: float) -> dict[str, str]:
    """A mystery visit's tapped times, each ``minutes`` after arrival (``ticket=1, called=10``),
    as the phone sends them: the first morning of the visit's window at 09:30 Beijing time —
    within the window and past, whatever day and time the tests run (on a window's first
    morning before then, the visit ends now).

    In the first minutes of a window's first day (just after midnight on the first day of a
    quarter, for the campaign's first visit) a visit that long cannot be over yet: the window
    is then opened a day earlier (committed, leaving the draft's ``version`` as the caller may
    have read it), so the visit fits between its opening and now whatever the time of day."""
    now = datetime.now(BEIJING).replace(second=0, microsecond=0)
    longest = timedelta(minutes=max(minutes.values(), default=0))
    if datetime.combine(inspection.due_start, time(0), tzinfo=BEIJING) + longest > now:
        table = Inspection.__table__
        db.session.execute(sa.update(table).where(table.c.id == inspection.id)
                           .values(due_start=inspection.due_start - timedelta(days=1)))
        db.session.commit()
    opens = datetime.combine(inspection.due_start, time(9, 30), tzinfo=BEIJING)
    arrival = opens if opens + longest <= now else now - longest
    return {name: (arrival + timedelta(minutes=m)).isoformat() for name, m in minutes.items()}


@functools.cache  # the same seeds come back in most tests: drawing one costs 10-20 ms
def jpeg(seed: int = 0, size: tuple[int, int] = (96, 72), *, exif: bool = True) -> bytes:
    """A small, distinct JPEG with camera EXIF (make, model, capture time)."""
    rng = random.Random(seed)
    image = Image.new("RGB", size)
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                   for _ in range(size[0] * size[1])])
    buffer = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F], data[0x0110] = "Apple", "iPhone 15"
        data[0x0132] = "2026:10:15 10:20:30"
        image.save(buffer, "JPEG", exif=data)
    else:
        image.save(buffer, "JPEG")
    return buffer.getvalue()


def needs_photo(item: dict, answers: dict) -> bool:
    """Whether the server wants a photo for ``item`` with these answers (its photo rule)."""
    value = (answers.get(item["code"]) or {}).get("value")
    if item["photo_rule"] == "required":
        return True
    return item["photo_rule"] == "on_fail" and value is not None and get_response_type(
        item["response_type"]).is_failure(value, item["config"],
                                          weight=Decimal(str(item["weight"])))


def attach_photos(client, headers: dict, inspection_id: int, items: list[dict],
                  answers: dict) -> list[dict]:
    """Upload one photo for every item whose photo rule needs one with these answers."""
    uploaded = []
    for index, item in enumerate(items):
        if needs_photo(item, answers):
            response = client.post(
                f"/api/v1/inspections/{inspection_id}/photos", headers=headers,
                data={"client_id": new_key(), "item_code": item["code"],
                      "file": (io.BytesIO(jpeg(inspection_id * 1000 + index)),
                               "p.jpg")},
                content_type="multipart/form-data")
            assert response.status_code == 201, response.get_json()
            uploaded.append(response.get_json())
    return uploaded


def attach_after_photo(client, headers: dict, inspection_id: int, code: str, seed: int = 99):
    """Upload the inspector's after-photo (整改后照片) of a finding fixed on the spot."""
    response = client.post(
        f"/api/v1/inspections/{inspection_id}/photos", headers=headers,
        data={"client_id": new_key(), "item_code": code, "purpose": "after",
              "file": (io.BytesIO(jpeg(seed)), "after.jpg")},
        content_type="multipart/form-data")
    return response


def submit_filled(client, headers: dict, inspection_id: int, *, fail: tuple[str, ...] = (),
                  key: str | None = None, extra: dict | None = None):
    """Fill every item (failing ``fail``), attach the photos it needs, and submit."""
    items = client.get(f"/api/v1/inspections/{inspection_id}",
                       headers=headers).get_json()["checklist"]["items"]
    answers = passing_answers(items, fail=fail)
    attach_photos(client, headers, inspection_id, items, answers)
    return client.post(f"/api/v1/inspections/{inspection_id}/submit",
                       json={"answers": answers, **(extra or {})},
                       headers={**headers, "Idempotency-Key": key or new_key()})


def published_mystery_scored_only(client, headers: dict) -> int:
    """Publish a checklist whose one scored item is for mystery visits only (the rest a text
    note): any other mode's form of it has nothing to score. Returns its id."""
    document = {"name": "仅暗访计分的检查表", "description": "",
                "sections": [{"code": "ENV", "name": "网点颜值靓化"}],
                "items": [{"code": "ENV-01", "section": "ENV", "text": "三秒内招呼", "weight": 3,
                           "response_type": "pass_fail", "modes": ["mystery_visit"]},
                          {"code": "ENV-02", "section": "ENV", "text": "大堂情况", "weight": 1,
                           "response_type": "text"}]}
    created = client.post("/api/v1/checklists", json=document, headers=headers)
    assert created.status_code == 201, created.get_json()
    checklist_id = created.get_json()["id"]
    published = client.post(f"/api/v1/checklists/{checklist_id}/publish", headers=headers)
    assert published.status_code == 200, published.get_json()
    return checklist_id


def draft_with_rules(client, headers: dict, checklist_id: int, scoring_rules: dict) -> int:
    """A draft of the next version, identical but for its scoring rules (set through the API,
    the only place they are edited). Returns its id."""
    draft = client.post(f"/api/v1/checklists/{checklist_id}/versions", json={}, headers=headers)
    assert draft.status_code == 201, draft.get_json()
    document = {key: draft.get_json()[key] for key in ("name", "description", "sections", "items")}
    edited = client.put(f"/api/v1/checklists/{draft.get_json()['id']}", headers=headers,
                        json={**document, "scoring_rules": scoring_rules})
    assert edited.status_code == 200, edited.get_json()
    return draft.get_json()["id"]


@contextlib.contextmanager
def counted_statements(engine: sa.Engine):
    """Collect the SQL statements ``engine`` runs inside the block (a list, filled as they
    run): query budgets are asserted on these, never on time."""
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def second_branch(manager: str = "sjz.fw"):
    """A second branch beside the demo's: 石家庄分行 (SJZ) with 长安支行 (SJZ-CA) and one outlet
    (SJZ-CA-01), and its service manager ``manager`` (password as the demo's). Committed;
    returns the branch."""
    from inspect_app.auth.operations import create_user
    from inspect_app.auth.permissions import Role
    from inspect_app.demo.seed import DEMO_PASSWORD
    from inspect_app.orgs.models import OrgKind
    from inspect_app.orgs.operations import create_unit

    branch = create_unit(kind=OrgKind.branch, code="SJZ", name="石家庄分行")
    chang_an = create_unit(kind=OrgKind.subbranch, code="SJZ-CA", name="长安支行",
                           parent=branch)
    create_unit(kind=OrgKind.outlet, code="SJZ-CA-01", name="长安营业部", parent=chang_an)
    create_user(username=manager, display_name=manager, password=DEMO_PASSWORD,
                grants=[(Role.service_manager, branch)])
    db.session.commit()
    return branch


def demo_branch():
    """The demo's branch, 唐山分行 (TS)."""
    from inspect_app.orgs.models import OrgUnit

    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS"))
