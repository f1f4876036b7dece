"""The test databases themselves: a test of a planned campaign starts on a copy where it is
planned, unless a fixture of its own may change the demo data first (tests/conftest.py)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.inspections.models import Campaign, Inspection, InspectionStatus, Mode


def _tasks(campaign: dict) -> dict[str, int]:
    return dict(db.session.execute(
        sa.select(Inspection.mode, sa.func.count()).where(Inspection.campaign_id == campaign["id"])
        .group_by(Inspection.mode)).all())


def _assigned_to(username: str, campaign: dict) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Inspection).join(
        User, User.id == Inspection.assignee_id).where(
        Inspection.campaign_id == campaign["id"], User.username == username))


def test_a_campaign_test_starts_where_the_campaign_is_planned(app, campaign):
    """Does the copy hold the campaign the fixture returns, with its tasks, and the demo's own
    self-checks of this month cancelled as planning it does?"""
    assert app.extensions["test_template"] == "campaign"
    assert db.session.get(Campaign, campaign["id"]).name == campaign["name"]
    assert {Mode(mode).value: n for mode, n in _tasks(campaign).items()} == {
        mode: sum(counts.values()) for mode, counts in campaign["counts"].items()}
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(Inspection).where(
        Inspection.campaign_id != campaign["id"], Inspection.mode == Mode.self_check,
        Inspection.status.in_([InspectionStatus.assigned, InspectionStatus.in_progress])))
    # the branch's inspector has spot checks in it (the next test's plan is made without him)
    assert _assigned_to("jc.fenhang1", campaign)


@pytest.fixture
def inspector_gone(demo):
    """Changes the demo data before the campaign is planned: an inspector leaves."""
    user = db.session.scalar(sa.select(User).where(User.username == "jc.fenhang1"))
    user.is_active = False
    db.session.commit()
    return user


def test_a_fixture_that_changes_the_demo_data_first_is_seen_by_the_plan(app, inspector_gone,
                                                                        campaign):
    """A fixture not known to leave the database alone runs before the campaign is planned,
    as it always did: is the plan made in the test, without the inspector who left?"""
    assert app.extensions["test_template"] == "demo"
    assert _tasks(campaign)
    assert not _assigned_to(inspector_gone.username, campaign)
