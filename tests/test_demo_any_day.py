"""The demo looks the same whatever day it is seeded: work waiting with time left, two late
outlets, figures on the managers' default pages."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.inspections.models import OPEN, Inspection, InspectionTeam, Mode
from inspect_app.orgs.models import OrgUnit
from inspect_app.rectification.models import RectificationItem, RectificationState

#: Who /tasks shows each mode's work to in the README, and the days left they must have.
DEMO_TASKS = {"wd.lb01": Mode.self_check, "jc.lubei1": Mode.peer_check,
              "jc.fenhang1": Mode.spot_check, "smr1": Mode.mystery_visit}
DAYS_LEFT = 7


def seeded_at(runner, monkeypatch, moment: datetime) -> None:
    """Run ``seed-demo`` with the application's clock (``inspect_app.i18n``) at ``moment``."""
    from inspect_app import i18n

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    monkeypatch.setattr(i18n, "datetime", Clock)
    result = runner.invoke(args=["seed-demo", "--quiet"])
    assert result.exit_code == 0, (result.output, result.exception)


@pytest.mark.parametrize("day", [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 31),
                                 date(2027, 1, 1), date(2027, 2, 28), date(2026, 3, 31)])
def test_the_demo_seeded_on_an_awkward_day_has_work_late_items_and_figures(
        runner, client, login, monkeypatch, day):
    """Seeded on a month's last or first day (10:00 in the bank): does each demo account have a
    task of its mode open now with a week left (none overdue), are exactly the two weak outlets
    late with their fixes while other items fall due in the coming days, and do the service
    manager's rankings and bulletin open (on this month, this week) with results in them?"""
    seeded_at(runner, monkeypatch, datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))

    tasks = db.session.execute(
        sa.select(Inspection.mode, Inspection.due_start, Inspection.due_end,
                  Inspection.assignee_id, Inspection.team_id)
        .where(Inspection.campaign_id.is_not(None), Inspection.status.in_(OPEN))).all()
    assert tasks and all(task.due_end >= day for task in tasks), "overdue demo tasks"
    for username, mode in DEMO_TASKS.items():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        teams = set(db.session.scalars(sa.select(InspectionTeam.id).where(
            InspectionTeam.members.any(User.id == user.id))))
        left = [(task.due_end - day).days for task in tasks if task.mode is mode
                and task.due_start <= day
                and (task.assignee_id == user.id or task.team_id in teams)]
        assert left and max(left) >= DAYS_LEFT, (username, mode, left)

    open_items = db.session.execute(
        sa.select(OrgUnit.code, RectificationItem.deadline)
        .join(OrgUnit, RectificationItem.outlet_id == OrgUnit.id)
        .where(RectificationItem.state != RectificationState.closed)).all()
    assert {code for code, deadline in open_items if deadline < day} == {"TS-CFD-04",
                                                                           "TS-ZH-04"}
    assert any(day <= deadline <= day + timedelta(days=14) for _, deadline in open_items)

    login("fwgl", "Demo@2026")
    for path in ("/manage/rankings", "/manage/bulletin"):
        page = client.get(path).get_data(as_text=True)
        assert f'name="day" value="{day}"' in page, path
        assert 'id="period-empty"' not in page, path


def test_the_demo_seeds_in_a_months_first_minutes(runner, monkeypatch):
    """Seeded at 00:02 in the bank on the 1st (16:02 UTC the day before): this month's checks
    "so far" would end before the month began (the last is dated 5 minutes before the seed).
    Does the seed still succeed, with six whole months of history and nothing dated this month?"""
    from inspect_app.i18n import local_date

    seeded_at(runner, monkeypatch, datetime(2026, 11, 30, 16, 2, tzinfo=UTC))
    submitted = [local_date(moment) for moment in db.session.scalars(
        sa.select(Inspection.submitted_at).where(Inspection.campaign_id.is_(None)))]
    assert submitted and max(submitted) < date(2026, 12, 1)
    assert min(submitted) < date(2026, 6, 8)  # June to November: six whole months
