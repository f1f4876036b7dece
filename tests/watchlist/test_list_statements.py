"""The watch-list's list costs the same few SQL statements however many entries it shows: what
a row says beyond its own columns (its figures, trend, last score, its branch's exit policy)
is read for the whole list."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.orgs.models import OrgKind, OrgUnit
from inspect_app.watchlist.models import EntryStatus, WatchlistEntry, WatchlistEvent

from ..helpers import counted_statements


def _statements(client, url: str, headers: dict) -> tuple[int, int]:
    """How many SQL statements a GET of ``url`` runs: in all, and on the watch-list rules."""
    assert client.get(url, headers=headers).status_code == 200  # a token's first use writes
    with counted_statements(db.engine) as run:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    run = [s for s in run if not s.startswith(("BEGIN", "COMMIT"))]
    return len(run), len([s for s in run if "watchlist_rule_sets" in s])


def _exited(outlets: list[OrgUnit]) -> None:
    """A stay on the list, listed and taken off by hand, for each of ``outlets``."""
    day = local_today() - timedelta(days=30)
    for outlet in outlets:
        entry = WatchlistEntry(unit_id=outlet.id, status=EntryStatus.exited, entered_on=day,
                               entry_kind="manual", entry_reason="测试列入", reasons=[],
                               rule_set_version=1, last_evaluated_on=day,
                               exited_on=day + timedelta(days=5), exit_kind="manual",
                               exit_reason="测试出列")
        entry.events.append(WatchlistEvent(kind="manual_entry", on=day, note="测试列入"))
        db.session.add(entry)
    db.session.commit()


def test_the_list_of_past_stays_costs_the_same_for_2_or_8_of_them(client, api, demo):
    """Entries of outlets and sub-branches taken off the list, each with its figures, trend and
    last independent score, and — having no progress of its own — the exit policy of its
    branch's rules: does the list run as many statements for eight as for two, the rules
    read once?"""
    outlets = db.session.scalars(sa.select(OrgUnit).where(OrgUnit.kind == OrgKind.outlet)
                                 .order_by(OrgUnit.id)).all()
    subbranches = db.session.scalars(sa.select(OrgUnit).where(
        OrgUnit.kind == OrgKind.subbranch).order_by(OrgUnit.id)).all()
    headers = api("fwgl")
    url = "/api/v1/watchlist?status=exited"
    _exited([outlets[0], subbranches[0]])
    few = _statements(client, url, headers)
    _exited([*outlets[1:4], *subbranches[1:4]])
    assert _statements(client, url, headers) == few
    assert few[1] == 1  # the branch's newest version
