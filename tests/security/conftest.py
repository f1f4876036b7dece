"""Subjects for the security tests: one object of every kind at "my" unit and at another one.

The ``world`` fixture starts from the demo branch and a campaign, then makes, for each kind of
inspection a role can own (a spot check of 路北支行营业室 TS-LB-01 vs. one of a 路南 outlet; a
mystery visit of each; a peer check by the 路北 team vs. one by the 路南 team), an *open*
assignment and a *submitted* one with a failed item (so a finding), a GPS-tagged photo and, on
the spot checks, an appeal by the outlet.
"""
from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa

from inspect_app.auth.models import ApiToken, User
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.inspections.models import (
    Finding,
    Inspection,
    InspectionStatus,
    InspectionTeam,
    Mode,
)
from inspect_app.orgs.models import OrgUnit

from ..conftest import this_quarter
from ..evidence.images import jpeg as exif_jpeg
from ..evidence.images import make_exif
from ..helpers import demo_branch, filler_of, passing_answers, visit_times

#: The demo accounts the matrix runs as (see README's table).
ROLES = ("admin", "fwgl", "zh.lubei", "wd.lb01", "jc.lubei1", "jc.fenhang1", "smr1")

#: Which subject is "own" and which "other" for each role: the spot checks of TS-LB-01 (an
#: outlet of 路北, assigned to jc.fenhang1) vs TS-LN-01 (路南, jc.fenhang2) by default; a
#: mystery shopper's own visit vs another shopper's; a peer inspector's team vs another team.
SUBJECT_PAIRS = {
    "admin": ("spot_lb", "spot_ln"),
    "fwgl": ("spot_lb", "spot_ln"),
    "zh.lubei": ("spot_lb", "spot_ln"),
    "wd.lb01": ("spot_lb", "spot_ln"),
    "jc.fenhang1": ("spot_lb", "spot_ln"),
    "smr1": ("myst_lb", "myst_ln"),
    "jc.lubei1": ("peer_mine", "peer_other"),
}

#: Where the shopper's GPS points: the outlet's own coordinates are not needed for the test.
PHOTO_GPS = (39.6301, 118.1802)


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _unit(code: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))


def _team(subbranch_code: str) -> InspectionTeam:
    return db.session.scalar(sa.select(InspectionTeam).join(
        OrgUnit, InspectionTeam.subbranch_id == OrgUnit.id).where(OrgUnit.code == subbranch_code)
        .order_by(InspectionTeam.id))


def upload_photo(client, headers, inspection_id: int, item_code: str, seed: int) -> dict:
    data = exif_jpeg(160, 120, seed=seed, exif=make_exif(lat=PHOTO_GPS[0], lon=PHOTO_GPS[1],
                                                         taken="2026:10:15 10:20:30"))
    response = client.post(f"/api/v1/inspections/{inspection_id}/photos", headers=headers,
                           data={"client_id": str(uuid.uuid4()), "item_code": item_code,
                                 "file": (io.BytesIO(data), "p.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def world(client, api, campaign):
    """Ids of every subject the authorisation tests address (see the module docstring)."""
    spec = {
        "spot_lb": dict(mode=Mode.spot_check, outlet="TS-LB-01", assignee="jc.fenhang1"),
        "spot_ln": dict(mode=Mode.spot_check, outlet="TS-LN-01", assignee="jc.fenhang2"),
        "myst_lb": dict(mode=Mode.mystery_visit, outlet="TS-LB-01", assignee="smr1",
                        scenario="开户咨询"),
        "myst_ln": dict(mode=Mode.mystery_visit, outlet="TS-LN-01", assignee="smr2",
                        scenario="开户咨询"),
        "peer_mine": dict(mode=Mode.peer_check, outlet="TS-LN-02", team="TS-LB"),
        "peer_other": dict(mode=Mode.peer_check, outlet="TS-LB-02", team="TS-LN"),
    }
    # this quarter, the campaign's period: a window any assignment of it may be moved within
    start, end = this_quarter()
    made: dict[str, dict[str, int]] = {"open": {}, "done": {}}
    for name, fields in spec.items():
        for state in ("open", "done"):
            inspection = Inspection(
                campaign_id=campaign["id"], checklist_id=campaign["checklist_id"],
                mode=fields["mode"], outlet_id=_unit(fields["outlet"]).id,
                due_start=start, due_end=end,
                status=InspectionStatus.assigned, draft={}, events={},
                assignee_id=_user(fields["assignee"]).id if "assignee" in fields else None,
                team_id=_team(fields["team"]).id if "team" in fields else None,
                scenario=fields.get("scenario"))
            db.session.add(inspection)
            db.session.flush()
            made[state][name] = inspection.id
    db.session.commit()

    world: dict = {"inspection_open": made["open"], "inspection_done": made["done"],
                   "photo_open": {}, "photo_done": {}, "finding": {}, "appeal": {},
                   "campaign": campaign["id"], "checklist": campaign["checklist_id"],
                   "window": (start, end)}
    for index, name in enumerate(spec):
        for state in ("open", "done"):
            inspection = db.session.get(Inspection, made[state][name])
            headers = api(filler_of(inspection))
            items = client.get(f"/api/v1/inspections/{inspection.id}",
                               headers=headers).get_json()["checklist"]["items"]
            fail = next(i["code"] for i in items
                        if i["response_type"] == "pass_fail" and not i["red_line"])
            photo = upload_photo(client, headers, inspection.id, fail, seed=100 * index
                                 + (state == "done"))
            world[f"photo_{state}"][name] = photo["id"]
            if state == "open":
                continue
            answers = passing_answers(items, fail=(fail,))
            from ..helpers import attach_photos
            attach_photos(client, headers, inspection.id,
                          [i for i in items if i["code"] != fail], answers)
            events = {}
            if fields_mode(spec[name]) is Mode.mystery_visit:
                events = visit_times(inspection, arrival=0, ticket=1, called=9, served=10,
                                     left=25)
            response = client.post(f"/api/v1/inspections/{inspection.id}/submit",
                                   json={"answers": answers, "events": events},
                                   headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
            assert response.status_code == 200, response.get_json()
            finding = db.session.scalar(sa.select(Finding).where(
                Finding.inspection_id == inspection.id, Finding.item_code == fail))
            world["finding"][name] = finding.id
    # Each inspected outlet appeals its finding.
    for name, manager in (("spot_lb", "wd.lb01"), ("spot_ln", "wd.ln01"), ("myst_lb", "wd.lb01"),
                          ("myst_ln", "wd.ln01"), ("peer_mine", "wd.ln02"),
                          ("peer_other", "wd.lb02")):
        response = client.post(f"/api/v1/findings/{world['finding'][name]}/appeals",
                               json={"category": "facts_wrong", "text": "现场情况与记录不符，请复核"},
                               headers=api(manager))
        assert response.status_code == 201, response.get_json()
        world["appeal"][name] = response.get_json()["id"]
    _rectification_and_watchlist(world)
    return world


def _rectification_and_watchlist(world: dict) -> None:
    """The rectification item each submitted inspection's failed item opened (the submissions
    above went through the API, so the items exist), an export job of two service managers
    and a watch-list entry of 路北支行营业室 TS-LB-01 ("own") and of 路南 TS-LN-01 ("other")."""
    from flask import current_app

    from inspect_app.evidence.operations import storage
    from inspect_app.i18n import local_today
    from inspect_app.rectification.models import RectificationItem
    from inspect_app.reports.jobs import JobStatus, ReportJob
    from inspect_app.watchlist.models import EntryStatus, WatchlistEntry
    from inspect_app.watchlist.operations import active_rule_set

    world["item"] = {}
    for name, finding_id in world["finding"].items():
        item = db.session.scalar(sa.select(RectificationItem).where(
            RectificationItem.finding_id == finding_id))
        assert item is not None, f"no rectification item for {name}'s finding"
        world["item"][name] = item.id
    # The matrix's own export runs here, not in a child process, so it is done at once. The
    # subjects are finished jobs made directly (rendering every sub-branch's list is slow).
    current_app.config["REPORT_JOBS_SYNC"] = True
    world["job"] = {}
    for username in ("fwgl", "fwgl2"):
        data = _empty_zip()
        job = ReportJob(kind="rectification_lists_zip", params={"period": "2025-01"},
                        status=JobStatus.done, created_by_id=_user(username).id,
                        result_key=storage().put(data, content_type="application/zip"),
                        result_name="整改清单_2025-01.zip", result_type="application/zip",
                        result_size=len(data))
        db.session.add(job)
        db.session.flush()
        world["job"][username] = job.id
    version = active_rule_set(demo_branch()).version
    world["entry"] = {}
    # entered today: the exit policy counts the independent checks dated after the entry, so
    # no evaluation the matrix runs takes them off the list (the demo's history has this
    # month's checks, enough for an outlet that entered weeks ago to leave by rule)
    today = local_today()
    for code in ("TS-LB-01", "TS-LN-01"):
        entry = WatchlistEntry(unit_id=_unit(code).id, status=EntryStatus.active,
                               entered_on=today, reasons=[],
                               rule_set_version=version, last_evaluated_on=today)
        db.session.add(entry)
        db.session.flush()
        world["entry"][code] = entry.id
    db.session.commit()


def _empty_zip() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    return buffer.getvalue()


def fields_mode(fields: dict) -> Mode:
    return fields["mode"]


@pytest.fixture
def spare_tokens(client):
    """Factory: an extra API token of ``username`` (a subject for token revocation)."""

    def make(username: str) -> int:
        response = client.post("/api/v1/auth/token",
                               json={"username": username, "password": DEMO_PASSWORD,
                                     "label": "spare"})
        assert response.status_code == 201, response.get_json()
        return db.session.scalar(sa.select(ApiToken.id).where(ApiToken.label == "spare")
                                 .join(User).where(User.username == username))

    return make
