"""The watch-list over real data: entering and leaving by rule, history, coaching, queue data,
rules tuning, and the managers' figures and bulletins."""
from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from inspect_app.audit.models import AuditEntry
from inspect_app.extensions import db
from inspect_app.i18n import local_today
from inspect_app.orgs.models import OrgUnit
from inspect_app.watchlist.dashboards import period_for
from inspect_app.watchlist.models import EntryStatus, QueueDay, WatchlistEntry, WatchlistEvent
from inspect_app.watchlist.operations import evaluate
from inspect_app.watchlist.reasons import reasons_while_listed

from ..helpers import demo_branch, filler_of, second_branch, submit_filled


def unit(code: str) -> OrgUnit:
    return db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))


def test_demo_list_entered_and_left_by_rule_with_reasons_and_coaching(client, api, demo):
    """Does the demo show units that entered and left by rule, each with figures and a
    coaching timeline?"""
    entries = client.get("/api/v1/watchlist?status=all", headers=api("fwgl")).get_json()
    exited = [e for e in entries if e["status"] == "exited" and e["exit_kind"] == "rule"]
    active = [e for e in entries if e["status"] == "active"]
    assert exited and active, [(e["unit"]["name"], e["status"]) for e in entries]
    assert all(r["explanation_zh"] and r["figures"] for e in active for r in e["reasons"])
    assert "独立检查" in exited[0]["exit_reason"]
    detail = client.get(f"/api/v1/watchlist/{exited[0]['id']}", headers=api("fwgl")).get_json()
    assert [e["kind"] for e in detail["events"]][:1] == ["entered"]
    assert detail["events"][-1]["kind"] == "exited"
    assert {a["kind_label"] for a in detail["actions"]} >= {"送教上门", "驻点辅导"}


def test_evaluation_is_deterministic(demo):
    """Does evaluating again on the same day change nothing?"""
    before = db.session.scalar(sa.select(sa.func.count()).select_from(WatchlistEvent))
    report = evaluate(local_today())
    db.session.commit()
    assert "enter" not in report.actions and "exit" not in report.actions
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WatchlistEvent)) == before


def test_finalising_a_poor_inspection_puts_the_outlet_on_the_list(client, api, campaign):
    """When a reviewer finalises a poor independent check, does the outlet enter at once?

    The rule judges the mean of the period's independent checks, so the outlet is one of the
    campaign's with none in the period yet (the demo's history has some for most outlets,
    this month's included): its poor check is its period's mean."""
    from inspect_app.inspections.models import Inspection, Mode
    from inspect_app.watchlist.operations import active_rule_set, gather_facts

    facts = {f.unit_id: f for f in gather_facts(local_today(), active_rule_set(demo_branch()))}
    listed = set(db.session.scalars(sa.select(WatchlistEntry.unit_id).where(
        WatchlistEntry.status == EntryStatus.active)))
    checks = db.session.scalars(sa.select(Inspection).where(
        Inspection.campaign_id == campaign["id"], Inspection.mode != Mode.self_check)).all()
    check = next((task for task in sorted(checks, key=lambda t: (t.mode != Mode.spot_check, t.id))
                 if not facts[task.outlet_id].period_independent
                 and task.outlet_id not in listed), None)  # a spot check's if one will do
    assert check is not None, "no outlet of the campaign's checks is without one in the period"
    items = client.get(f"/api/v1/inspections/{check.id}",
                       headers=api(filler_of(check))).get_json()["checklist"]["items"]
    failing = tuple(i["code"] for i in items if i["response_type"] == "pass_fail"
                    and not i["red_line"])
    assert submit_filled(client, api(filler_of(check)), check.id, fail=failing).status_code == 200
    assert client.post(f"/api/v1/inspections/{check.id}/finalise",
                       headers=api("fwgl")).status_code == 200
    entry = db.session.scalar(sa.select(WatchlistEntry).where(
        WatchlistEntry.unit_id == check.outlet_id, WatchlistEntry.status == EntryStatus.active))
    assert entry is not None
    assert "low_independent_score" in {r["rule_key"] for r in entry.reasons}


def test_an_item_a_self_check_found_not_applicable_was_not_passed_by_it(client, api, campaign):
    """自查虚高 counts items the outlet passed itself and an independent check then failed: is
    an item its self-check answered 不适用 left out of what it passed (a later failure of it is
    no reversal), while the items it did pass are in?"""
    from inspect_app.inspections.models import Inspection, InspectionStatus, Mode
    from inspect_app.watchlist.operations import _checks_by_outlet

    from ..helpers import attach_photos, new_key, passing_answers

    own = db.session.scalar(sa.select(Inspection).where(
        Inspection.campaign_id == campaign["id"], Inspection.mode == Mode.self_check)
        .order_by(Inspection.id))
    headers = api(filler_of(own))
    items = client.get(f"/api/v1/inspections/{own.id}", headers=headers).get_json()
    items = items["checklist"]["items"]
    answers = passing_answers(items)
    skipped, kept = [i["code"] for i in items if i["response_type"] == "pass_fail"
                     and i["photo_rule"] == "optional"][:2]
    answers[skipped] = {"value": "na", "note": None}
    attach_photos(client, headers, own.id, items, answers)
    submitted = client.post(f"/api/v1/inspections/{own.id}/submit", json={"answers": answers},
                            headers={**headers, "Idempotency-Key": new_key()})
    assert submitted.status_code == 200, submitted.get_json()
    db.session.execute(sa.update(Inspection).where(Inspection.id == own.id)
                       .values(status=InspectionStatus.final))
    db.session.commit()
    checks = _checks_by_outlet(local_today() - timedelta(days=1), local_today())
    mine = next(c for c in checks[own.outlet_id].self if c.ref == f"{own.id:012d}")
    assert kept in mine.passed_items and skipped not in mine.passed_items


def test_manual_exit_needs_a_reason_and_is_kept_in_history(client, api, demo):
    """Can a service manager take a unit off the list with a written reason, kept in history?"""
    active = client.get("/api/v1/watchlist", headers=api("fwgl")).get_json()[0]
    refused = client.post(f"/api/v1/watchlist/{active['id']}/exit", json={"reason": ""},
                          headers=api("fwgl"))
    assert refused.status_code == 422
    done = client.post(f"/api/v1/watchlist/{active['id']}/exit",
                       json={"reason": "经现场复核，问题已全部整改"}, headers=api("fwgl"))
    assert done.status_code == 200 and done.get_json()["exit_kind"] == "manual"
    assert done.get_json()["events"][-1]["note"] == "经现场复核，问题已全部整改"
    assert db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "watchlist.manual_exit"))


def test_a_unit_off_the_list_shows_why_it_left_not_rules_it_meets(client, login, api, demo):
    """An entry that left the list — by rule, or by hand — keeps the rules it met while listed:
    does its page say why it left (when, how, the reason) and show those rules as past, not
    under 命中规则 as if it still met them? And the list: the exit, not the old rules?"""
    left = db.session.scalars(sa.select(WatchlistEntry).where(
        WatchlistEntry.status == EntryStatus.exited, WatchlistEntry.exit_kind == "rule")).first()
    assert left is not None and left.exit_note["key"] == "exited"
    assert reasons_while_listed(left)  # its last reasons, or those the history last named
    active = db.session.scalars(sa.select(WatchlistEntry).where(
        WatchlistEntry.status == EntryStatus.active).order_by(WatchlistEntry.id)).first()
    assert client.post(f"/api/v1/watchlist/{active.id}/exit", headers=api("fwgl"),
                       json={"reason": "经现场复核，问题已全部整改"}).status_code == 200
    login("fwgl", "Demo@2026")
    for entry, how, reason in ((left, "按规则出列", left.exit_reason),
                               (active, "人工出列", "经现场复核，问题已全部整改")):
        page = client.get(f"/manage/watchlist/{entry.id}").get_data(as_text=True)
        card = page.split("<h2>辅导与跟进</h2>")[0]
        assert "<h2>命中规则</h2>" not in card
        assert f"<h2>出列原因</h2>\n  <p class=\"reason exit-reason\">{entry.exited_on} {how}：" \
            f"{reason}</p>" in card
        met = reasons_while_listed(entry)
        assert "<h2>在册期间命中规则</h2>" in card and met[0]["label_zh"] in card
    listing = client.get("/manage/watchlist?status=exited").get_data(as_text=True)
    shown = listing.split(f'href="/manage/watchlist/{left.id}"')[1].split("</li>")[0]
    assert f"{left.exited_on} 按规则出列：{left.exit_reason}" in shown
    assert reasons_while_listed(left)[0]["explanation_zh"] not in shown
    english = client.get(f"/manage/watchlist/{left.id}?lang=en").get_data(as_text=True)
    assert "<h2>Why it left the list</h2>" in english and "Rules met while listed" in english
    assert "No rule met any more, and the latest independent checks since listing (" in english


def test_coaching_actions_form_a_timeline(client, api, demo):
    """Does a logged 约谈 appear on the entry's timeline?"""
    active = client.get("/api/v1/watchlist", headers=api("fwgl")).get_json()[0]
    response = client.post(f"/api/v1/watchlist/{active['id']}/actions", headers=api("fwgl"),
                           json={"kind": "interview", "held_on": local_today().isoformat(),
                                 "people": "张丽、支行负责人", "notes": "约谈支行负责人"})
    assert response.status_code == 201, response.get_json()
    detail = client.get(f"/api/v1/watchlist/{active['id']}", headers=api("fwgl")).get_json()
    assert "约谈" in {a["kind_label"] for a in detail["actions"]}


def test_rules_are_readable_tunable_versioned_and_audited(client, api, demo):
    """Are the rules described in Chinese, and does tuning add a version with an audit entry?"""
    current = client.get("/api/v1/watchlist/rules", headers=api("fwgl")).get_json()
    assert any("独立检查" in d for d in current["descriptions"])
    rules = current["rules"]
    for rule in rules:
        if rule["key"] == "low_independent_score":
            rule["params"]["threshold"] = 75
    tuned = client.put("/api/v1/watchlist/rules", headers=api("fwgl"),
                       json={"rules": rules, "exit": current["exit"], "period_days": 60,
                             "note": "提高门槛"})
    assert tuned.status_code == 200, tuned.get_json()
    assert tuned.get_json()["version"] == current["version"] + 1
    assert any("75" in d for d in tuned.get_json()["descriptions"])
    bad = client.put("/api/v1/watchlist/rules", headers=api("fwgl"),
                     json={"rules": [{"key": "no_such_rule"}], "exit": {}, "period_days": 60})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]
    assert client.put("/api/v1/watchlist/rules", headers=api("zh.lubei"),
                      json={"rules": rules, "exit": current["exit"],
                            "period_days": 60}).status_code == 403


def test_queue_data_import_puts_overtime_outlets_on_the_list(client, api, demo):
    """Does importing queue data with many over-time waits put that outlet on the list, and
    does a bad file change nothing?"""
    outlet = unit("TS-KP-02")
    lines = ["网点编码,日期,服务客户数,超时客户数"]
    for back in range(1, 11):
        lines.append(f"TS-KP-02,{(local_today() - timedelta(days=back)).isoformat()},200,60")
    data = ("\n".join(lines) + "\n").encode()
    response = client.post("/api/v1/queue-data", headers=api("fwgl"),
                           data={"file": (io.BytesIO(data), "queue.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    entry = db.session.scalar(sa.select(WatchlistEntry).where(
        WatchlistEntry.unit_id == outlet.id, WatchlistEntry.status == EntryStatus.active))
    assert entry and "queue_overtime" in {r["rule_key"] for r in entry.reasons}
    bad = "网点编码,日期,服务客户数,超时客户数\nTS-KP-02,2026-13-01,10,20\n".encode()
    refused = client.post("/api/v1/queue-data", headers=api("fwgl"),
                          data={"file": (io.BytesIO(bad), "bad.csv")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and len(refused.get_json()["error"]["details"]) >= 1


def test_another_branchs_manager_cannot_import_queue_data_for_our_outlets(client, api, demo):
    """石家庄分行's service manager uploads a queue file naming a 唐山分行 outlet: is it refused
    as an unknown outlet would be (422, nothing written), so no branch can put another's outlet
    on its list or hide its waits?"""
    second_branch("sjz.fw")
    outlet = unit("TS-KP-02")
    day = (local_today() - timedelta(days=1)).isoformat()
    data = f"网点编码,日期,服务客户数,超时客户数\nTS-KP-02,{day},200,190\n".encode()
    response = client.post("/api/v1/queue-data", headers=api("sjz.fw"),
                           data={"file": (io.BytesIO(data), "queue.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["details"][0]["message"] == "网点编码 TS-KP-02 不存在"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QueueDay).where(
        QueueDay.outlet_id == outlet.id, QueueDay.customers_over_limit == 190)) == 0


def test_rankings_trend_and_items_show_real_figures(client, api, demo):
    """Do rankings, most-failed items and trends return real figures from the history?"""
    last_month = (local_today().replace(day=1) - timedelta(days=1)).isoformat()
    headers = api("fwgl")
    ranking = client.get(f"/api/v1/dashboard/rankings?kind=month&day={last_month}",
                         headers=headers).get_json()
    scored = [r for r in ranking["outlets"] if r["combined"] is not None]
    assert len(scored) > 50 and scored[0]["combined"] >= scored[-1]["combined"]
    assert any(r["is_benchmark"] for r in ranking["outlets"])
    items = client.get(f"/api/v1/dashboard/failed-items?kind=quarter&day={last_month}",
                       headers=headers).get_json()
    assert items["items"] and items["items"][0]["failures"] >= items["items"][-1]["failures"]
    gaps = client.get(f"/api/v1/dashboard/mode-comparison?kind=quarter&day={last_month}",
                      headers=headers).get_json()["outlets"]
    assert gaps[0]["name"] == "遵化支行" or gaps[0]["gap"] > 10  # the inflated outlet leads
    trend = client.get(f"/api/v1/dashboard/trend?unit_id={unit('TS-GY-03').id}&months=6",
                       headers=headers).get_json()
    values = [p["combined"] for p in trend["points"] if p["combined"] is not None]
    assert len(values) >= 4 and values[-1] > values[0]  # the improving outlet improves


def test_a_closed_outlet_leaves_its_subbranchs_trend_as_its_ranking(client, api, demo):
    """路北支行 closes one of its outlets: the sub-branch's figures pool its outlets of today, in
    the ranking of last month — does its trend say the same of that month (the same mean from
    the same inspections), not the old figure beside the new one?"""
    headers = api("fwgl")
    end = local_today().replace(day=1) - timedelta(days=1)
    lubei = unit("TS-LB")

    def both() -> tuple[dict, dict]:
        ranked = client.get(f"/api/v1/dashboard/rankings?kind=month&day={end}",
                            headers=headers).get_json()["subbranches"]
        row = next(r for r in ranked if r["id"] == lubei.id)
        points = client.get(f"/api/v1/dashboard/trend?unit_id={lubei.id}&months=2&end={end}",
                            headers=headers).get_json()["points"]
        return row, points[-1]

    row, point = both()
    assert (row["combined"], row["count"]) == (point["combined"], point["count"])
    closed = unit("TS-LB-03")
    assert client.patch(f"/api/v1/org-units/{closed.id}", json={"is_active": False},
                        headers=api("admin")).status_code == 200
    after, point = both()
    assert after["count"] < row["count"]  # its inspections of that month left the figures
    assert (after["combined"], after["count"]) == (point["combined"], point["count"])


def test_subbranch_manager_sees_own_details_and_only_the_rank_of_others(client, api, demo):
    """Does a sub-branch manager see their own sub-branch and only the ranks of others?"""
    last_month = (local_today().replace(day=1) - timedelta(days=1)).isoformat()
    ranking = client.get(f"/api/v1/dashboard/rankings?kind=quarter&day={last_month}",
                         headers=api("zh.lubei")).get_json()
    named = [r for r in ranking["subbranches"] if r.get("name")]
    assert [r["name"] for r in named] == ["路北支行"]
    assert len(ranking["subbranches"]) == 12
    assert {r["subbranch"] for r in ranking["outlets"]} == {"路北支行"}
    entries = client.get("/api/v1/watchlist?status=all", headers=api("zh.lubei")).get_json()
    assert all(e["unit"]["code"].startswith("TS-LB") for e in entries)


def test_sub_branches_are_ranked_within_their_own_branch(client, api, login, demo):
    """A second branch joins the bank: do its service manager's rankings (API, page, bulletin)
    show its own sub-branches only — not 唐山分行's names and scores — and do 唐山分行's
    readers neither see nor count the newcomer's?"""
    second_branch("sjz.fw")
    last_month = (local_today().replace(day=1) - timedelta(days=1)).isoformat()
    url = f"/api/v1/dashboard/rankings?kind=month&day={last_month}"

    theirs = client.get(url, headers=api("sjz.fw")).get_json()["subbranches"]
    assert [r.get("name") for r in theirs] == ["长安支行"]
    ours = client.get(url, headers=api("fwgl")).get_json()["subbranches"]
    assert len(ours) == 12 and "长安支行" not in {r.get("name") for r in ours}
    assert len(client.get(url, headers=api("zh.lubei")).get_json()["subbranches"]) == 12
    bulletin = client.get(f"/api/v1/bulletins?kind=month&day={last_month}",
                          headers=api("sjz.fw")).get_json()
    assert "路北支行" not in str(bulletin) and "唐山" not in str(bulletin)
    login("sjz.fw", "Demo@2026")
    page = client.get(f"/manage/rankings?kind=month&day={last_month}").get_data(as_text=True)
    assert "长安支行" in page and "路北支行" not in page


def test_equal_scores_share_a_rank_and_a_checked_score_heads_the_tie(client, api, demo):
    """Outlets whose scores read the same share a rank (1, 1, 3 …), and within a tie one
    confirmed by independent checks comes before a self-check alone, so the best list does not
    reward an unchecked self-assessment."""
    last_month = (local_today().replace(day=1) - timedelta(days=1)).isoformat()
    scored = [r for r in client.get(f"/api/v1/dashboard/rankings?kind=month&day={last_month}",
                                    headers=api("fwgl")).get_json()["outlets"]
              if r["combined"] is not None]
    assert len({r["rank"] for r in scored}) < len(scored)  # the demo has ties
    for position, (a, b) in enumerate(zip(scored, scored[1:]), start=2):
        if f"{a['combined']:.2f}" == f"{b['combined']:.2f}":
            assert b["rank"] == a["rank"], (a, b)
            assert not (a["independent_mean"] is None and b["independent_mean"] is not None)
        else:
            assert b["rank"] == position and a["combined"] > b["combined"], (a, b)


def test_an_outlet_manager_sees_their_sub_branch_and_their_place_in_the_branch(client, api,
                                                                              login, demo):
    """An outlet manager's rankings: their own sub-branch named with its figures (the others
    by rank only, none a link they cannot open), and their outlet's place among all the
    branch's outlets, without any other outlet."""
    last_month = (local_today().replace(day=1) - timedelta(days=1)).isoformat()
    url = f"/api/v1/dashboard/rankings?kind=month&day={last_month}"
    full = client.get(url, headers=api("fwgl")).get_json()
    scored = [r for r in full["outlets"] if r["combined"] is not None]
    mine = next(r for r in full["outlets"] if r["code"] == "TS-LB-01")
    own = client.get(url, headers=api("wd.lb01")).get_json()
    assert [r["id"] for r in own["outlets"]] == [mine["id"]]
    assert own["standing"] == [{"id": mine["id"], "name": mine["name"], "rank": mine["rank"],
                                "of": len(scored)}]
    named = [r for r in own["subbranches"] if r.get("name")]
    assert [r["name"] for r in named] == ["路北支行"] and named[0]["combined"] is not None
    assert full["standing"] == []

    login("wd.lb01", "Demo@2026")
    page = client.get(f"/manage/rankings?kind=month&day={last_month}").get_data(as_text=True)
    assert f"{mine['name']}：全行 {len(scored)} 个网点中排第 {mine['rank']} 名" in page
    assert "路北支行" in page and f"/manage/trend/{named[0]['id']}" not in page
    # their one outlet is not shown as a "best" (or "worst") outlet, whatever its place
    assert "排名前列网点" not in page and "排名靠后网点" not in page


def test_an_outlet_managers_bulletin_gives_their_place_not_a_best_list_of_one(client, api,
                                                                             login, demo):
    """The bulletin of an outlet manager: their outlet's place in the branch — on the page, in
    the PDF and the workbook — never their one outlet listed under 排名前列."""
    last_month = (local_today().replace(day=1) - timedelta(days=1)).isoformat()
    query = f"kind=month&day={last_month}"
    ranking = client.get(f"/api/v1/dashboard/rankings?{query}", headers=api("fwgl")).get_json()
    mine = next(r for r in ranking["outlets"] if r["code"] == "TS-LB-01")
    of = sum(1 for r in ranking["outlets"] if r["combined"] is not None)
    said = f"{mine['name']}：全行 {of} 个网点中排第 {mine['rank']} 名"
    headers = api("wd.lb01")
    data = client.get(f"/api/v1/bulletins?{query}", headers=headers).get_json()
    assert data["best"] == data["worst"] == []
    assert data["standing"] == [{"id": mine["id"], "name": mine["name"], "rank": mine["rank"],
                                 "of": of}]
    pdf = client.get(f"/api/v1/bulletins.pdf?{query}", headers=headers)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert said in text.replace("\n", "") and "排名前列" not in text
    xlsx = client.get(f"/api/v1/bulletins.xlsx?{query}", headers=headers)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data))["本网点名次"]
    assert [c.value for c in sheet[2]] == [mine["name"], mine["rank"], of]
    login("wd.lb01", "Demo@2026")
    page = client.get(f"/manage/bulletin?{query}").get_data(as_text=True)
    assert said in page and "排名前列" not in page
    assert client.get(f"/api/v1/bulletins?{query}", headers=api("fwgl")).get_json()["best"]


def test_bulletins_export_as_pdf_and_xlsx(client, api, demo):
    """Do the weekly bulletin and monthly summary export as a Chinese PDF and a workbook?"""
    last_month = (local_today().replace(day=1) - timedelta(days=1)).isoformat()
    headers = api("fwgl")
    pdf = client.get(f"/api/v1/bulletins.pdf?kind=month&day={last_month}", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "服务质量月总结" in text and "排名" in text and "支行" in text
    week = client.get(f"/api/v1/bulletins.pdf?kind=week&day={last_month}", headers=headers)
    week_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(week.data)).pages)
    period = client.get(f"/api/v1/bulletins?kind=week&day={last_month}",
                        headers=headers).get_json()["period"]
    span = f"{period['start']} 至 {period['end']}"
    assert span in period["label"] and f"（{span}）" not in week_text  # said once, not twice
    xlsx = client.get(f"/api/v1/bulletins.xlsx?kind=week&day={last_month}", headers=headers)
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert {"概况", "排名前列", "失分最多项", "名单变化"} <= set(workbook.sheetnames)


def test_a_bulletin_counts_the_watch_list_as_it_stood_when_its_period_ended(client, api, demo):
    """Does each month's bulletin count the units listed on its last day — none before the
    first entry, not today's list — and does its workbook name the list's changes in Chinese
    and its PDF write scores as the pages do?"""
    headers = api("fwgl")
    entries = db.session.scalars(sa.select(WatchlistEntry)).all()
    today = local_today()
    day, counts = min(e.entered_on for e in entries).replace(day=1) - timedelta(days=1), []
    while day <= today:
        last = min(period_for("month", day).end, today)
        listed = sum(1 for e in entries
                     if e.entered_on <= last and (e.exited_on is None or e.exited_on > last))
        data = client.get(f"/api/v1/bulletins?kind=month&day={day}", headers=headers).get_json()
        assert data["watchlist"]["active"] == listed, day
        counts.append(listed)
        day = period_for("month", day).end + timedelta(days=1)
    assert counts[0] == 0 and len(set(counts)) > 1

    changed = next(d for d in (period_for("month", e.entered_on).start for e in entries))
    xlsx = client.get(f"/api/v1/bulletins.xlsx?kind=month&day={changed}", headers=headers)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data))["名单变化"]
    kinds = {row[3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert kinds and kinds <= {"列入名单", "原因变化", "按规则出列", "人工出列"}, kinds
    pdf = client.get(f"/api/v1/bulletins.pdf?kind=month&day={changed}", headers=headers)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    data = client.get(f"/api/v1/bulletins?kind=month&day={changed}", headers=headers).get_json()
    assert f"期末在册名单 {data['watchlist']['active']} 个" in text
    best = data["best"][0]["combined"]
    assert f"{best:.2f}" in text


def test_manager_pages_render_on_a_phone(client, login, demo):
    """Do the managers' pages render in Chinese, with charts as inline SVG?"""
    login("fwgl", "Demo@2026")
    for path in ("/manage/watchlist", "/manage/rankings", "/manage/bulletin?kind=month",
                 "/manage/watchlist?status=all"):
        page = client.get(path)
        assert page.status_code == 200, path
    last_month = (local_today().replace(day=1) - timedelta(days=1)).isoformat()
    rankings = client.get(f"/manage/rankings?kind=quarter&day={last_month}").get_data(as_text=True)
    assert rankings.count("<svg") == 4 and "支行排名" in rankings
    assert "失分最多的检查项" in rankings and "built-in method" not in rankings
    entry = db.session.scalar(sa.select(WatchlistEntry).order_by(WatchlistEntry.id))
    detail = client.get(f"/manage/watchlist/{entry.id}").get_data(as_text=True)
    assert entry.unit.name in detail and "名单历史" in detail


def test_spot_checks_weigh_watch_listed_outlets_more(client, api, demo):
    """Does the spot-check draw give watch-listed outlets a higher weight?"""
    body = {"name": "抽查", "checklist_id": demo.id, "period_start": local_today().isoformat(),
            "period_end": (local_today() + timedelta(days=30)).isoformat(),
            "modes": ["spot_check"], "seed": 5, "settings": {"spot_check": {"size": 5}}}
    campaign = client.post("/api/v1/campaigns", json=body, headers=api("fwgl")).get_json()
    weights = dict((int(k), v) for k, v in campaign["plan"]["spot_check"]["draw"]
                   ["candidate_weights"])
    from inspect_app.watchlist.operations import watch_listed_outlet_ids

    listed = watch_listed_outlet_ids()
    assert listed
    assert min(weights[i] for i in listed) > 3  # base + the watch-list bonus


def test_history_generator_scores_like_the_engine(demo):
    """Does the synthetic history give each inspection the score the engine would?"""
    from inspect_app.inspections.models import Inspection, InspectionAnswer
    from inspect_app.scoring import ScoringRules, score_inspection

    sample = db.session.scalars(sa.select(Inspection).where(Inspection.campaign_id.is_(None))
                                .order_by(Inspection.id).limit(25)).all()
    for inspection in sample:
        answers = {a.item_code: {"value": a.value, "note": "扣分" if a.failed else None}
                   for a in db.session.scalars(sa.select(InspectionAnswer).where(
                       InspectionAnswer.inspection_id == inspection.id))}
        items = [i.to_document() for i in inspection.form_items()]
        result = score_inspection(items, answers,
                                  ScoringRules.from_dict(inspection.checklist.scoring_rules))
        assert result.total == inspection.total, inspection.id


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])
def test_managers_days_are_the_banks_not_the_servers(app, client, login, api, demo,
                                                      monkeypatch, zone):
    """Is "today" on the managers' pages and in the dashboards the bank's calendar day, not the
    server's UTC one? (26 hours apart, the two zones never share a date, so at least one of
    them differs from UTC whenever this runs.)"""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import inspect_app.watchlist.api as watchlist_api

    app.config["BABEL_DEFAULT_TIMEZONE"] = zone
    bank_today = datetime.now(ZoneInfo(zone)).date()
    headers = api("fwgl")  # before the session sign-in (a token request carries no CSRF token)
    login("fwgl", "Demo@2026")
    # an entry still on the list: only those take follow-ups (the demo's first may have left)
    entry = db.session.scalar(sa.select(WatchlistEntry).where(
        WatchlistEntry.status == EntryStatus.active).order_by(WatchlistEntry.id))
    page = client.get(f"/manage/watchlist/{entry.id}").get_data(as_text=True)
    assert f'name="held_on" value="{bank_today.isoformat()}"' in page  # coaching logged today
    seen = []
    monkeypatch.setattr(watchlist_api.dashboards, "period_for",
                        lambda kind, day: seen.append(day) or period_for(kind, day))
    assert client.get("/api/v1/dashboard/rankings?kind=week", headers=headers).status_code == 200
    assert seen == [bank_today]


def test_the_inflation_chart_marks_the_gap_the_rules_act_on(client, login, demo):
    """The 自查虚高 rule tuned to a 分差 of 8: does the rankings page's self-vs-independent
    chart mark gaps over 8 (not a fixed 15) and say so with its unit — whole, in English too?"""
    import copy
    import re

    from inspect_app.auth.models import User
    from inspect_app.demo.seed import DEMO_PASSWORD
    from inspect_app.watchlist.operations import active_rule_set, update_rules

    current = active_rule_set(demo_branch())
    tuned = copy.deepcopy(current.rules)
    for rule in tuned["rules"]:
        if rule["key"] == "self_check_inflation":
            rule["params"]["gap"] = 8
    manager = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    update_rules({"rules": tuned["rules"], "exit": tuned["exit"]},
                 branch=demo_branch(), period_days=current.period_days, note="分差调为 8 分", by=manager)
    db.session.commit()
    login("fwgl", DEMO_PASSWORD)
    last_month = (local_today().replace(day=1) - timedelta(days=1)).isoformat()
    page = client.get(f"/manage/rankings?kind=quarter&day={last_month}").get_data(as_text=True)
    assert "▲ 自查高出独立检查超过 8 分</text>" in page
    english = client.get(f"/manage/rankings?kind=quarter&day={last_month}&lang=en")
    assert re.search(r"<text[^>]*>▲ Self-check − [^<…]+ &gt; 8 points</text>",
                     english.get_data(as_text=True))


def test_outlets_sharing_a_name_are_told_apart_on_the_charts(app):
    """Two outlets called 文化路分理处 in one branch: does each chart label say which
    sub-branch it is, while a unique name stays short (the same row twice is one outlet)?"""
    from inspect_app.watchlist.views import _unit_labels

    rows = [{"id": 1, "name": "文化路分理处", "subbranch": "路北支行"},
            {"id": 2, "name": "文化路分理处", "subbranch": "遵化支行"},
            {"id": 3, "name": "石门分理处", "subbranch": "遵化支行"}]
    with app.test_request_context("/"):
        label = _unit_labels([*rows, rows[2]])
        assert [label(r) for r in rows] == ["文化路分理处（路北支行）", "文化路分理处（遵化支行）",
                                            "石门分理处"]
