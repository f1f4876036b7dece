"""The 整改清单 page says what each sub-branch's monthly list holds, and what it leaves to the
lists of earlier months, so nobody downloads an empty list without knowing why."""
from __future__ import annotations

import io
import re
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.i18n import bank_timezone, local_today
from inspect_app.inspections.models import Inspection
from inspect_app.orgs.models import OrgKind, OrgUnit
from inspect_app.rectification.models import ClosedReason, RectificationItem, RectificationState

from .conftest import items_of


def total(client, headers, **query) -> int:
    args = "&".join(f"{k}={v}" for k, values in query.items()
                    for v in (values if isinstance(values, list) else [values]))
    response = client.get(f"/api/v1/rectification/items?{args}&per_page=1", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["total"]


def test_each_subbranch_shows_this_months_items_and_the_earlier_ones_still_owed(
        client, api, login, failed_inspection):
    """Do the counts beside each sub-branch's PDF agree with the items the API lists: found
    in the month (and still owed), and found earlier but still open or awaiting acceptance?"""
    inspection, _ = failed_inspection(count=2)  # found this month
    earlier = db.session.scalar(sa.select(RectificationItem).join(
        Inspection, RectificationItem.inspection_id == Inspection.id).where(
        RectificationItem.state == RectificationState.open,
        Inspection.submitted_at < datetime.combine(local_today().replace(day=1), time.min,
                                                   tzinfo=bank_timezone()))
        .order_by(RectificationItem.id))
    earlier.state = RectificationState.submitted  # fixed, awaiting acceptance: still owed
    # one of this month's is withdrawn (the inspector's correction): not counted as found, as
    # the list's PDF leaves it out of its total
    gone = items_of(inspection)[0]
    gone.state, gone.closed_reason = RectificationState.closed, ClosedReason.corrected
    db.session.commit()
    withdrawn = {inspection.outlet.parent_id: 1}
    headers = api("fwgl")
    today = local_today()  # the demo's history leaves items of earlier months open
    first = today.replace(day=1)
    month, start, end = f"{first:%Y-%m}", first.isoformat(), today.isoformat()
    before = (first - timedelta(days=1)).isoformat()
    login("fwgl", "Demo@2026")
    html = client.get(f"/manage/lists?period={month}").get_data(as_text=True)
    subbranches = db.session.scalars(sa.select(OrgUnit).where(
        OrgUnit.kind == OrgKind.subbranch, OrgUnit.is_active)).all()
    checked_earlier = checked_found = False
    for unit in subbranches:
        row = html.split(f'data-list-unit="{unit.id}"')[1].split("</li>")[0]
        found = total(client, headers, subbranch_id=unit.id, found_from=start, found_to=end)
        found -= withdrawn.get(unit.id, 0)  # as the list counts them: withdrawn ones apart
        owed = total(client, headers, subbranch_id=unit.id, found_from=start, found_to=end,
                     state=["open", "submitted"])
        earlier = total(client, headers, subbranch_id=unit.id, state=["open", "submitted"],
                        found_to=before)
        if found:
            assert f"本月发现 {found} 项（未完成 {owed} 项）" in row, row
            checked_found = True
        else:
            assert "本月无整改项" in row, row
        if earlier:
            overdue = total(client, headers, subbranch_id=unit.id, state=["open", "submitted"],
                            found_to=before, overdue="true")
            assert re.search(rf"往期未完成 {earlier} 项（逾期 {overdue} 项）", row), row
            checked_earlier = True
        else:
            assert "往期未完成" not in row
    assert checked_earlier, "the demo should leave some items of earlier months open"
    assert checked_found, "this month's inspection should show in its sub-branch's figures"


def test_a_past_months_list_says_that_month_and_its_overdue_items(client, api, login, demo):
    """Looking back at last month: does each sub-branch (in code order) say 该月, not 本月, and
    how many of that month's items are now overdue — as the API counts them?"""
    headers = api("fwgl")
    end = local_today().replace(day=1) - timedelta(days=1)
    start = end.replace(day=1)
    login("fwgl", "Demo@2026")
    html = client.get(f"/manage/lists?period={start:%Y-%m}").get_data(as_text=True)
    main = html.split("<main")[1]
    assert "本月" not in main
    subbranches = db.session.scalars(sa.select(OrgUnit).where(
        OrgUnit.kind == OrgKind.subbranch, OrgUnit.is_active).order_by(OrgUnit.code)).all()
    shown = [int(i) for i in re.findall(r'data-list-unit="(\d+)"', main)]
    assert shown == [unit.id for unit in subbranches]
    checked_overdue = False
    for unit in subbranches:
        row = main.split(f'data-list-unit="{unit.id}"')[1].split("</li>")[0]
        query = {"subbranch_id": unit.id, "found_from": start.isoformat(),
                 "found_to": end.isoformat()}
        found, late = total(client, headers, **query), total(client, headers, overdue="true",
                                                             **query)
        assert (f"该月发现 {found} 项" if found else "该月无整改项") in row, row
        assert (f"其中逾期 {late} 项" in row) == bool(late), row
        checked_overdue |= bool(late)
    assert checked_overdue, "the demo leaves some of last month's items overdue"


def test_the_monthly_pdf_lists_the_earlier_items_still_owed(client, api, demo):
    """A sub-branch that still owes items found in earlier months: does this month's PDF list
    them (overdue first, with found month, deadline and state) and count them in its summary,
    as the 整改清单 page counts them — instead of certifying "本期无整改项"?"""
    from pypdf import PdfReader

    from inspect_app.auth.models import User
    from inspect_app.rectification.documents import subbranch_list
    from inspect_app.rectification.operations import list_figures

    viewer = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    today = local_today()
    start = today.replace(day=1)
    figures = list_figures(viewer, start, today, today)
    unit_id = max(figures, key=lambda u: (figures[u]["overdue"], figures[u]["earlier"]))
    owed = figures[unit_id]
    assert owed["earlier"] and owed["overdue"], "the demo leaves overdue items of earlier months"
    unit = db.session.get(OrgUnit, unit_id)
    context = subbranch_list(unit, viewer, start, today).context
    earlier = context["earlier"]
    assert (earlier["total"], earlier["overdue"]) == (owed["earlier"], owed["overdue"])
    assert (context["summary"]["earlier"], context["summary"]["earlier_overdue"]) == (
        owed["earlier"], owed["overdue"])
    flags = [row["overdue"] for row in earlier["items"]]
    assert flags == sorted(flags, reverse=True)  # overdue first
    assert all(row["found_month"] < f"{start:%Y-%m}" for row in earlier["items"])
    assert {row["state"] for row in earlier["items"]} <= {"待整改", "已提交", "已退回，待整改"}

    response = client.get(f"/api/v1/rectification/lists/subbranches/{unit.id}.pdf"
                          f"?period={start:%Y-%m}", headers=api("fwgl"))
    assert response.status_code == 200
    text = re.sub(r"\s+", "", "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages))
    assert "往期未完成整改项" in text
    assert f"共{owed['earlier']}项，其中逾期{owed['overdue']}项" in text
    first = earlier["items"][0]
    assert re.sub(r"\s+", "", f"{first['item_code']}{first['item_text']}")[:20] in text
