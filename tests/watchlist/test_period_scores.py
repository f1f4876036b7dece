"""The per-period ranking figures stay equal to a fresh computation through every change."""
from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.inspections.models import RESULT_VISIBLE, Finding, FindingStatus, Inspection, Mode
from inspect_app.orgs.models import OrgKind, OrgUnit
from inspect_app.scoring import DEFAULT_RULES, combined_mean
from inspect_app.watchlist import dashboards
from inspect_app.watchlist.models import PeriodScore
from inspect_app.watchlist.period_scores import (
    differences,
    figures,
    period_end,
    period_start,
    refresh,
    refresh_failures,
)

from ..helpers import counted_statements, filler_of, submit_filled


def consistent() -> list[str]:
    return differences(db.session.connection())


def outlet_row(client, headers, outlet_id: int, kind: str = "month") -> dict:
    ranking = client.get(f"/api/v1/dashboard/rankings?kind={kind}&day={local_today()}",
                         headers=headers).get_json()
    return next(r for r in ranking["outlets"] if r["id"] == outlet_id)


def test_figures_combine_modes_like_the_scoring_engine():
    """Are self-check, independent mean, gap and grade derived from per-mode sums?"""
    combined, grade, count, self_mean, independent, gap = figures(
        {"self_check": (190.0, 2), "spot_check": (80.0, 1), "mystery_visit": (140.0, 2)})
    assert (count, self_mean, independent, gap) == (5, 95.0, 73.33, 21.67)
    weights = {mode: float(w) for mode, w in DEFAULT_RULES.mode_weights.items()}
    assert combined == combined_mean({"self_check": 95.0, "spot_check": 80.0,
                                      "mystery_visit": 70.0}, weights)
    assert independent < combined < self_mean
    assert grade == DEFAULT_RULES.grade_for(Decimal(str(combined))).label
    low = figures({"spot_check": (59.0, 1)})
    assert low[0] == 59.0 and low[2] == 1 and low[5] is None
    assert low[1] == DEFAULT_RULES.grade_for(Decimal("59")).label != grade


def test_period_means_round_half_up_like_the_scoring_engine():
    """Four independent checks of 100, 97.67, 94.66 and 95.69 average exactly 97.005: do the
    dashboards' figures say 97.01 — half up, as the engine's period score does — and agree
    with it on every figure, not 97.00 from a binary float's ``round``?"""
    from inspect_app.scoring import period_score

    totals = {"peer_check": ["100", "97.67"], "spot_check": ["94.66", "95.69"],
              "self_check": ["98.01", "99.00"]}
    engine = period_score({"mode": mode, "total": Decimal(t), "date": "2026-05-10"}
                          for mode, values in totals.items() for t in values)
    combined, _, count, self_mean, independent, gap = figures(
        {mode: (sum(float(t) for t in values), len(values)) for mode, values in totals.items()})
    assert independent == 97.01 == float(engine.independent_mean)
    assert (combined, self_mean, gap, count) == (
        float(engine.combined), float(engine.mode("self_check").mean),
        float(engine.self_vs_independent_gap), 6)
    alone = figures({"peer_check": (197.67, 2), "spot_check": (190.35, 2)})
    assert (alone[0], alone[4]) == (97.01, 97.01)


def test_an_outlets_month_of_97_005_reads_97_01_everywhere(client, api, login, demo):
    """An outlet whose independent checks of a month average exactly 97.005: do the ranking
    API, the trend API and the trend page all say 97.01 (half up, as the engine rounds)?"""
    from collections import defaultdict

    from inspect_app.i18n import local_date

    scored = db.session.scalars(sa.select(Inspection).where(
        Inspection.status.in_(RESULT_VISIBLE), Inspection.total.is_not(None),
        Inspection.mode != Mode.self_check, Inspection.scores_the_outlet())
        .order_by(Inspection.id)).all()
    groups = defaultdict(list)
    for inspection in scored:
        day = local_date(inspection.submitted_at)
        groups[(inspection.outlet_id, day.year, day.month)].append(inspection)
    (outlet_id, year, month), checks = next(
        (key, group) for key, group in groups.items()
        if len(group) % 2 == 0 and date(key[1], key[2], 1) < local_today().replace(day=1))
    for index, inspection in enumerate(checks):  # 97.00, 97.01, … : exactly 97.005
        inspection.total = Decimal("97.00") if index % 2 else Decimal("97.01")
    db.session.commit()
    headers = api("fwgl")
    day = date(year, month, 15)
    row = next(r for r in client.get(f"/api/v1/dashboard/rankings?kind=month&day={day}",
                                     headers=headers).get_json()["outlets"]
               if r["id"] == outlet_id)
    assert row["independent_mean"] == 97.01
    end = period_end("month", date(year, month, 1)) - timedelta(days=1)
    points = client.get(f"/api/v1/dashboard/trend?unit_id={outlet_id}&months=2&end={end}",
                        headers=headers).get_json()["points"]
    assert points[-1]["independent_mean"] == 97.01
    login("fwgl", "Demo@2026")
    page = client.get(f"/manage/trend/{outlet_id}?day={end}").get_data(as_text=True)
    assert f"<td>{year}-{month:02d}</td>" in page or f"{year}年{month}月" in page
    assert "97.01" in page and consistent() == []


@pytest.mark.parametrize(("kind", "day", "start", "end"), [
    ("week", date(2026, 11, 26), date(2026, 11, 23), date(2026, 11, 30)),
    ("month", date(2026, 12, 31), date(2026, 12, 1), date(2027, 1, 1)),
    ("quarter", date(2026, 11, 5), date(2026, 10, 1), date(2027, 1, 1)),
])
def test_periods_are_weeks_months_and_quarters(kind, day, start, end):
    assert period_start(kind, day) == start and period_end(kind, start) == end


def test_demo_history_figures_match_a_fresh_computation(demo):
    """Does the seeded history (written in bulk, past the ORM) have its figures?"""
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PeriodScore)) > 1000
    assert consistent() == []


def test_figures_follow_submission_return_and_finalisation(client, api, first):
    """Does every score change show in the ranking at once, and nothing drift?"""
    spot = first("spot_check")
    headers = api("fwgl")
    before = outlet_row(client, headers, spot.outlet_id)
    items = client.get(f"/api/v1/inspections/{spot.id}",
                       headers=api(filler_of(spot))).get_json()["checklist"]["items"]
    failing = tuple(i["code"] for i in items if i["response_type"] == "pass_fail"
                    and not i["red_line"])[:6]
    assert submit_filled(client, api(filler_of(spot)), spot.id, fail=failing).status_code == 200
    submitted = outlet_row(client, headers, spot.outlet_id)
    assert submitted["count"] == before["count"] + 1
    assert submitted["independent_mean"] is not None
    assert consistent() == []

    response = client.post(f"/api/v1/inspections/{spot.id}/return",
                           json={"reason": "照片不清晰，请补拍"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert outlet_row(client, headers, spot.outlet_id)["count"] == before["count"]
    assert consistent() == []

    assert submit_filled(client, api(filler_of(spot)), spot.id).status_code == 200
    assert client.post(f"/api/v1/inspections/{spot.id}/finalise",
                       headers=headers).status_code == 200
    final = outlet_row(client, headers, spot.outlet_id, kind="quarter")
    assert final["count"] >= 1 and consistent() == []
    subbranches = client.get(f"/api/v1/dashboard/rankings?kind=week&day={local_today()}",
                             headers=headers).get_json()["subbranches"]
    assert any(r["count"] for r in subbranches)


@pytest.mark.parametrize("loaded", [True, False], ids=["loaded", "not-loaded"])
def test_an_outlet_moving_to_another_subbranch_takes_its_figures_along(demo, loaded):
    """Are both sub-branches' pooled figures recomputed when an outlet moves — also when the
    change is made on a row not read first (a script's bulk fix)?"""
    outlet = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB-01"))
    target = db.session.scalar(sa.select(OrgUnit).where(
        OrgUnit.kind == OrgKind.subbranch, OrgUnit.id != outlet.parent_id).order_by(OrgUnit.code))
    if not loaded:
        db.session.expire(outlet)
    outlet.parent_id = target.id
    db.session.commit()
    assert consistent() == []
    outlet.is_active = False
    db.session.commit()
    assert consistent() == []


def test_recomputing_more_periods_runs_no_more_statements(demo):
    """Are the figures of one outlet rewritten with the same few statements whether one day or
    days in several months changed (per table one delete, one read, one insert; one read of
    the rules in force), and still right?"""
    from collections import Counter

    outlet = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB-01"))
    days = [date(2026, 3, 2), date(2026, 4, 15), date(2026, 5, 20), date(2026, 6, 30)]
    for touched in (days[:1], days):
        conn = db.session.connection()
        with counted_statements(db.engine) as statements:
            refresh(conn, [(outlet.id, day) for day in touched])
            refresh_failures(conn, [(outlet.id, "ENV-01", day) for day in touched])
        kinds = Counter(" ".join(s.split()[:3]) for s in statements
                        if "pg_advisory_xact_lock" not in s)
        assert max(kinds.values()) == 1 and len(kinds) <= 9, kinds
    db.session.commit()
    assert consistent() == []


def test_rebuild_command_checks_and_repairs(runner, demo):
    """Does ``watchlist rebuild-scores --check`` notice rows changed by hand, and rebuild fix them?"""
    ok = runner.invoke(args=["watchlist", "rebuild-scores", "--check"])
    assert ok.exit_code == 0, ok.output
    db.session.execute(sa.update(PeriodScore).where(PeriodScore.mode == "")
                       .values(combined=PeriodScore.combined - 5))
    db.session.commit()
    broken = runner.invoke(args=["watchlist", "rebuild-scores", "--check"])
    assert broken.exit_code != 0 and "rebuild-scores" in broken.output
    rebuilt = runner.invoke(args=["watchlist", "rebuild-scores"])
    assert rebuilt.exit_code == 0 and "已重建" in rebuilt.output
    assert consistent() == []


def live_failures(period) -> dict[str, tuple[int, int]]:
    """Per item: failures and outlets counted straight from the findings."""
    start, end = period.bounds
    rows = db.session.execute(
        sa.select(Finding.item_code, sa.func.count(), sa.func.count(sa.distinct(Finding.outlet_id)))
        .join(Inspection, Finding.inspection_id == Inspection.id)
        .where(Finding.created_at >= start, Finding.created_at < end,
               Finding.status != FindingStatus.overturned,
               Inspection.status.in_(RESULT_VISIBLE))
        .group_by(Finding.item_code)).all()
    return {code: (n, outlets) for code, n, outlets in rows}


def test_branch_failed_items_equal_a_live_count(demo):
    """Does the branch-wide view read kept counts equal to counting the findings?"""
    manager = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    period = dashboards.period_for("quarter", local_today().replace(day=1) - timedelta(days=1))
    kept = dashboards.most_failed_items(period, manager, limit=1000)
    assert kept and {r["item_code"]: (r["failures"], r["outlets"]) for r in kept} \
        == live_failures(period)
    assert [r["failures"] for r in kept] == sorted((r["failures"] for r in kept), reverse=True)
    subbranch = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    narrow = dashboards.most_failed_items(period, manager, subbranch_id=subbranch.id)
    assert narrow and all(r["failures"] <= dict((k["item_code"], k["failures"]) for k in kept)
                          [r["item_code"]] for r in narrow)


def test_failed_items_follow_findings_and_overturned_appeals(client, api, first):
    """Does a new finding count at once, and an overturned one stop counting?"""
    spot = first("spot_check")
    manager = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    period = dashboards.period_for("month", local_today())
    items = client.get(f"/api/v1/inspections/{spot.id}",
                       headers=api(filler_of(spot))).get_json()["checklist"]["items"]
    code = next(i["code"] for i in items if i["response_type"] == "pass_fail"
                and not i["red_line"])
    before = live_failures(period).get(code, (0, 0))[0]
    result = submit_filled(client, api(filler_of(spot)), spot.id, fail=(code,)).get_json()
    counted = {r["item_code"]: r["failures"]
               for r in dashboards.most_failed_items(period, manager, limit=1000)}
    assert counted[code] == before + 1 and consistent() == []
    outlet_manager = db.session.scalar(sa.select(User.username).where(
        User.username == f"wd.{spot.outlet.code.split('-')[1].lower()}"
                         f"{spot.outlet.code.split('-')[2]}"))
    appeal = client.post(f"/api/v1/findings/{result['findings'][0]['id']}/appeals",
                         json={"category": "standard_misapplied", "text": "该标识已按新版设置"},
                         headers=api(outlet_manager))
    assert appeal.status_code == 201, appeal.get_json()
    decided = client.post(f"/api/v1/appeals/{appeal.get_json()['id']}/decide",
                          json={"decision": "overturned", "note": "复核照片后确认合格"},
                          headers=api("fwgl2"))
    assert decided.status_code == 200, decided.get_json()
    counted = {r["item_code"]: r["failures"]
               for r in dashboards.most_failed_items(period, manager, limit=1000)}
    assert counted.get(code, 0) == before and consistent() == []


def test_rankings_show_organisation_changes_at_once(client, api, demo):
    """Are a renamed, newly flagged and a deactivated outlet shown as such in the very next
    ranking (the organisation is kept between requests while it is unchanged)?"""
    headers = api("fwgl")
    url = f"/api/v1/dashboard/rankings?kind=quarter&day={local_today()}"
    first = {r["code"]: r for r in client.get(url, headers=headers).get_json()["outlets"]}
    outlet = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB-02"))
    gone = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB-03"))
    assert "TS-LB-03" in first and not first["TS-LB-02"]["is_benchmark"]
    outlet.name, outlet.is_benchmark = "路北支行新华道网点", True
    gone.is_active = False
    db.session.commit()
    after = {r["code"]: r for r in client.get(url, headers=headers).get_json()["outlets"]}
    assert after["TS-LB-02"]["name"] == "路北支行新华道网点" and after["TS-LB-02"]["is_benchmark"]
    assert "TS-LB-03" not in after


@pytest.mark.parametrize("size,best,worst", [
    (1, [1], []), (2, [1], [2]), (3, [1, 2], [3]), (5, [1, 2, 3], [5, 4]),
    (9, [1, 2, 3, 4, 5], [9, 8, 7, 6]), (10, [1, 2, 3, 4, 5], [10, 9, 8, 7, 6]),
    (40, [1, 2, 3, 4, 5], [40, 39, 38, 37, 36])])
def test_best_and_worst_never_show_one_outlet_twice(size, best, worst):
    """Does a small branch's best-and-worst view (抓两头带中间) keep each outlet on one side,
    and put the lower half of a short ranking among the worst, not the best?"""
    ranking = [{"rank": n, "combined": 100 - n} for n in range(1, size + 1)]
    top, bottom = dashboards.best_and_worst(ranking)
    assert [r["rank"] for r in top] == best and [r["rank"] for r in bottom] == worst


@pytest.mark.parametrize("combined,marked", [(100.0, False), (80.0, False), (79.99, True),
                                             (45.0, True), (None, False)])
def test_only_units_below_good_are_marked_for_attention(combined, marked):
    """Is 重点关注 kept for units below 良好, not for the bottom of a list of 100s?"""
    assert dashboards.needs_attention({"combined": combined}, DEFAULT_RULES) is marked


def test_a_published_versions_weights_and_bands_grade_the_running_periods(client, api, login,
                                                                          demo, first):
    """A new version in which self-checks weigh nothing and 优秀 starts at 99, 良好 at 97: once
    published, are the running month's figures combined and graded by it — the stored rows (as
    a fresh computation makes them), the ranking and the trend's grade lines alike — while last
    month, ended under the old rules, keeps its figures?"""
    from inspect_app.scoring import ScoringRules

    from ..helpers import draft_with_rules

    today = local_today()
    this_month, last_month = period_start("month", today), period_start(
        "month", period_start("month", today) - timedelta(days=1))

    def rows(start):
        return {row.unit_id: (row.combined, row.grade) for row in db.session.scalars(
            sa.select(PeriodScore).where(PeriodScore.period_kind == "month",
                                         PeriodScore.period_start == start,
                                         PeriodScore.mode == "",
                                         PeriodScore.unit_kind == "outlet"))}

    # an outlet whose month mixes its own check (all passed) with a spot check that failed some
    spot = first("spot_check")
    own = db.session.scalar(sa.select(Inspection).where(
        Inspection.campaign_id == spot.campaign_id, Inspection.outlet_id == spot.outlet_id,
        Inspection.mode == Mode.self_check))
    items = client.get(f"/api/v1/inspections/{spot.id}",
                       headers=api(filler_of(spot))).get_json()["checklist"]["items"]
    failing = tuple(i["code"] for i in items if i["response_type"] == "pass_fail"
                    and not i["red_line"])[:6]
    assert submit_filled(client, api(filler_of(spot)), spot.id, fail=failing).status_code == 200
    assert submit_filled(client, api(filler_of(own)), own.id).status_code == 200
    outlet_id = spot.outlet_id
    before, earlier = rows(this_month), rows(last_month)
    assert earlier, "the demo has last month's figures"
    stored = dict(demo.scoring_rules)
    new_rules = {**stored, "version": "2026.9",
                 "mode_weights": {**stored["mode_weights"], "self_check": 0},
                 "grade_bands": [{"key": "excellent", "label": "优秀", "min": 99},
                                 {"key": "good", "label": "良好", "min": 97},
                                 {"key": "pass", "label": "合格", "min": 60},
                                 {"key": "fail", "label": "不合格", "min": 0}]}
    headers = api("fwgl")
    draft_id = draft_with_rules(client, headers, demo.id, new_rules)
    assert rows(this_month) == before  # a draft changes nothing
    published = client.post(f"/api/v1/checklists/{draft_id}/publish", headers=headers)
    assert published.status_code == 200, published.get_json()

    db.session.expire_all()
    rules = ScoringRules.from_dict(new_rules)
    now = rows(this_month)
    assert now.keys() == before.keys()
    for unit_id, (combined, grade) in now.items():
        assert grade == rules.grade_for(Decimal(str(combined))).label, unit_id
    # self-checks weigh nothing now: the outlet's combined score changed with them
    assert now[outlet_id] != before[outlet_id]
    assert outlet_row(client, headers, outlet_id)["grade"] == now[outlet_id][1]
    login("fwgl", "Demo@2026")  # the trend draws the grade lines of the month it ends in
    page = client.get(f"/manage/trend/{outlet_id}").get_data(as_text=True)
    assert "参考线：合格 60，良好 97，优秀 99" in page
    assert rows(last_month) == earlier
    assert consistent() == []


def test_periods_are_the_banks_days_not_utc_days(client, api, demo):
    """A result submitted at 01:30 Beijing time on the 1st of last month (17:30 UTC on the day
    before) is dated the 1st on its page: does it count in that month too — in the rankings,
    the trend, the bulletin's counts and the stored figures — and not in the month before?
    (Counted against the demo's history, which fills both months: last month, not a fixed one,
    so that the history is there whatever the day.)"""
    from datetime import UTC, datetime

    from inspect_app.i18n import bank_midnight
    from inspect_app.inspections.models import Inspection, InspectionStatus

    today = local_today()
    first = period_start("month", period_start("month", today) - timedelta(days=1))
    before = period_start("month", first - timedelta(days=1))  # the month before
    middle = (before + timedelta(days=14)).isoformat()
    # an old result, moved: from a month (and week) other than these two
    inspection = db.session.scalar(sa.select(Inspection).where(
        Inspection.status == InspectionStatus.final, Inspection.total.is_not(None),
        Inspection.scores_the_outlet(),
        Inspection.submitted_at < bank_midnight(before - timedelta(days=7)))
        .order_by(Inspection.id))
    assert inspection is not None, "the demo's history goes back further than two months"
    headers = api("fwgl")

    def count_in(kind: str, day: str) -> int:
        ranking = client.get(f"/api/v1/dashboard/rankings?kind={kind}&day={day}",
                             headers=headers).get_json()
        return next((r["count"] for r in ranking["outlets"] if r["id"] == inspection.outlet_id),
                    0)

    def trend_end() -> tuple[str, int]:
        trend = client.get(f"/api/v1/dashboard/trend?unit_id={inspection.outlet_id}&months=2"
                           f"&end={period_end('month', first) - timedelta(days=1)}",
                           headers=headers).get_json()
        return [(p["month"], p["count"]) for p in trend["points"]][-1]

    def bulletin_count() -> int:
        return sum(client.get(f"/api/v1/bulletins?kind=month&day={first}",
                              headers=headers).get_json()["inspections"].values())

    was = {"month": count_in("month", first.isoformat()), "week": count_in("week", first.isoformat()),
           "earlier": count_in("month", middle), "trend": trend_end(),
           "bulletin": bulletin_count()}
    assert was["trend"][0] == first.strftime("%Y-%m")

    # not loaded since the requests above: the flush still learns the month it leaves
    assert "submitted_at" in sa.inspect(inspection).expired_attributes
    inspection.submitted_at = datetime.combine(first - timedelta(days=1), time(17, 30),
                                               tzinfo=UTC)
    db.session.commit()
    assert consistent() == []
    shown = client.get(f"/api/v1/inspections/{inspection.id}", headers=headers).get_json()
    assert shown["submitted_on"] == first.isoformat()

    assert count_in("month", first.isoformat()) == was["month"] + 1
    assert count_in("week", first.isoformat()) == was["week"] + 1
    assert count_in("month", middle) == was["earlier"]  # not in the UTC day's month
    assert trend_end() == (was["trend"][0], was["trend"][1] + 1)
    assert bulletin_count() == was["bulletin"] + 1
    stored = {start: db.session.scalar(sa.select(PeriodScore.inspections).where(
        PeriodScore.period_kind == "month", PeriodScore.period_start == start,
        PeriodScore.unit_id == inspection.outlet_id, PeriodScore.mode == "")) or 0
        for start in (first, before)}
    assert stored == {first: was["month"] + 1, before: was["earlier"]}


def test_a_result_sent_back_counts_no_failures_until_resubmitted(client, api, first):
    """Scores leave out a result sent back for correction: do its failed items too, in the
    branch's kept counts and in a sub-branch's live count, and count again once resubmitted?"""
    spot = first("spot_check")
    manager = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    period = dashboards.period_for("month", local_today())
    items = client.get(f"/api/v1/inspections/{spot.id}",
                       headers=api(filler_of(spot))).get_json()["checklist"]["items"]
    code = next(i["code"] for i in items if i["response_type"] == "pass_fail"
                and not i["red_line"])

    def counted() -> tuple[int, int]:
        return tuple(next((r["failures"] for r in dashboards.most_failed_items(
            period, manager, limit=1000, **narrow) if r["item_code"] == code), 0)
            for narrow in ({}, {"subbranch_id": spot.outlet.parent_id}))

    before = counted()
    inspector = api(filler_of(spot))
    assert submit_filled(client, inspector, spot.id, fail=(code,)).status_code == 200
    assert counted() == (before[0] + 1, before[1] + 1)
    response = client.post(f"/api/v1/inspections/{spot.id}/return",
                           json={"reason": "照片不清晰，请补拍"}, headers=api("fwgl"))
    assert response.status_code == 200, response.get_json()
    assert counted() == before and consistent() == []
    assert submit_filled(client, inspector, spot.id, fail=(code,)).status_code == 200
    assert counted() == (before[0] + 1, before[1] + 1) and consistent() == []
