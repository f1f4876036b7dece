"""Each branch runs its own watch-list with its own rules: one branch's service manager tuning a
threshold never changes which of another branch's units are listed, and cannot tune another
branch's rules at all."""
from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.auth.operations import create_user
from inspect_app.auth.permissions import Role
from inspect_app.demo.seed import DEMO_PASSWORD
from inspect_app.extensions import db
from inspect_app.watchlist import operations
from inspect_app.watchlist.models import EntryStatus, WatchlistEntry, WatchlistRuleSet

from ..helpers import demo_branch, second_branch
from .test_rules_page import rules_form


def _body(rules: dict, **changes) -> dict:
    return {"rules": rules["rules"], "exit": rules["exit"], "period_days": 90,
            "note": "按本行情况调整", **changes}


def _all_rules_off(rules: dict) -> dict:
    tuned = copy.deepcopy(rules)
    for rule in tuned["rules"]:
        rule["enabled"] = False
    return tuned


def _versions() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(WatchlistRuleSet))


def test_a_branchs_manager_tunes_their_branchs_rules_only(client, api, demo):
    """石家庄's service manager turns every rule off: their branch reads the new version, 唐山
    keeps its own rules and version; neither manager can tune (or read) the other's rules, and
    the change is logged under 石家庄 alone."""
    sjz = second_branch("sjz.fw")
    ts = demo_branch()
    theirs = client.get("/api/v1/watchlist/rules", headers=api("sjz.fw")).get_json()
    ours = client.get("/api/v1/watchlist/rules", headers=api("fwgl")).get_json()
    assert theirs["branch"] == {"id": sjz.id, "code": "SJZ", "name": "石家庄分行"}
    assert ours["branch"]["code"] == "TS"
    saved = client.put("/api/v1/watchlist/rules", headers=api("sjz.fw"),
                       json=_body(_all_rules_off(theirs)))
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["branch"]["code"] == "SJZ"
    assert saved.get_json()["version"] == theirs["version"] + 1
    assert not any(rule["enabled"] for rule in saved.get_json()["rules"])
    again = client.get("/api/v1/watchlist/rules", headers=api("fwgl")).get_json()
    assert (again["version"], again["rules"]) == (ours["version"], ours["rules"])
    assert any(rule["enabled"] for rule in operations.active_rule_set(ts).rules["rules"])

    count = _versions()
    for username, other in (("sjz.fw", ts), ("fwgl", sjz)):
        refused = client.put("/api/v1/watchlist/rules", headers=api(username),
                             json=_body(ours, branch_id=other.id))
        assert refused.status_code == 404, refused.get_json()
        assert refused.get_json()["error"]["code"] == "branch_not_found"
        read = client.get(f"/api/v1/watchlist/rules?branch_id={other.id}",
                          headers=api(username))
        assert read.status_code == 404
    assert _versions() == count

    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "watchlist_rules.update")).one()
    assert entry.org_path == sjz.path


def test_the_nightly_evaluation_judges_each_branch_by_its_own_rules(client, api, demo):
    """石家庄 turns every rule off; the nightly evaluation still lists 唐山's units by 唐山's
    rules (each keeps its reasons and 唐山's version), and says which version each branch used.
    Before, 石家庄's change was the bank's: 唐山's units met no rule any more."""
    sjz = second_branch("sjz.fw")
    listed = {entry.unit_id: entry.reasons for entry in db.session.scalars(
        sa.select(WatchlistEntry).where(WatchlistEntry.status == EntryStatus.active))
        if entry.reasons}
    assert listed
    ts_version = operations.active_rule_set(demo_branch()).version
    theirs = client.get("/api/v1/watchlist/rules", headers=api("sjz.fw")).get_json()
    assert client.put("/api/v1/watchlist/rules", headers=api("sjz.fw"),
                      json=_body(_all_rules_off(theirs))).status_code == 200

    result = client.application.test_cli_runner().invoke(args=["watchlist", "evaluate"])
    assert result.exit_code == 0, result.output
    assert f"唐山分行规则第 {ts_version} 版" in result.output
    assert f"石家庄分行规则第 {theirs['version'] + 1} 版" in result.output
    # each branch's auditors read their own list's evaluation, not the other's counts
    evaluated = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "watchlist.evaluate").order_by(AuditEntry.id.desc()).limit(2)).all()
    assert {(e.org_path, e.after["rule_set_version"]) for e in evaluated} == {
        (demo_branch().path, ts_version), (sjz.path, theirs["version"] + 1)}
    db.session.expire_all()
    for unit_id, reasons in listed.items():
        entry = db.session.scalar(sa.select(WatchlistEntry).where(
            WatchlistEntry.unit_id == unit_id, WatchlistEntry.status == EntryStatus.active))
        assert entry is not None and entry.reasons, unit_id
        assert entry.rule_set_version == ts_version


def test_a_manager_of_two_branches_picks_the_branch_to_tune(client, api, login, demo):
    """Someone who runs the list of two branches: the API asks which branch (422) rather than
    tune the first; the page offers both and tunes the one picked."""
    sjz = second_branch("sjz.fw")
    create_user(username="liang.fw", display_name="两行服务管理", password=DEMO_PASSWORD,
                grants=[(Role.service_manager, demo_branch()), (Role.service_manager, sjz)])
    db.session.commit()
    rules = client.get("/api/v1/watchlist/rules", headers=api("liang.fw")).get_json()
    assert rules["branch"]["code"] == "SJZ"  # the first by code, for reading
    count = _versions()
    unsure = client.put("/api/v1/watchlist/rules", headers=api("liang.fw"), json=_body(rules))
    assert unsure.status_code == 422
    assert unsure.get_json()["error"]["code"] == "branch_required"
    assert "石家庄分行" in unsure.get_json()["error"]["message"]
    assert _versions() == count

    login("liang.fw", DEMO_PASSWORD)
    page = client.get(f"/manage/rules?branch={sjz.id}").get_data(as_text=True)
    assert "名单规则 · 石家庄分行" in page and 'id="rules-branch"' in page
    assert f'<option value="{demo_branch().id}">唐山分行</option>' in page
    with client.session_transaction() as sess:
        token = sess["csrf"]
    ts_before = operations.active_rule_set(demo_branch()).version
    saved = client.post(f"/manage/rules?branch={sjz.id}",
                        data={**rules_form(period_days="60"), "csrf_token": token})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert f"branch={sjz.id}" in saved.headers["Location"]
    assert operations.active_rule_set(sjz).period_days == 60
    assert operations.active_rule_set(demo_branch()).version == ts_before


def test_a_version_saved_meanwhile_is_a_conflict_not_an_error(client, api, demo, monkeypatch):
    """Two managers of a branch save at once: the second is told someone else just saved that
    version (409), not a server error, and nothing of theirs is stored."""
    rules = client.get("/api/v1/watchlist/rules", headers=api("fwgl")).get_json()
    assert client.put("/api/v1/watchlist/rules", headers=api("fwgl"),
                      json=_body(rules)).status_code == 200
    stale = db.session.scalar(sa.select(WatchlistRuleSet).where(
        WatchlistRuleSet.version == rules["version"], WatchlistRuleSet.branch_id.is_not(None)))
    # the second manager's request read the rules before the first one's were saved
    monkeypatch.setattr(operations, "active_rule_set", lambda branch: stale)
    count = _versions()
    late = client.put("/api/v1/watchlist/rules", headers=api("fwgl"),
                      json=_body(rules, note="另一位管理员的调整"))
    assert late.status_code == 409, late.get_json()
    assert late.get_json()["error"]["code"] == "rules_changed"
    assert f"第 {rules['version'] + 1} 版" in late.get_json()["error"]["message"]
    assert _versions() == count


@pytest.mark.parametrize("reader", ["zh.lubei", "fwgl"])
def test_readers_see_their_own_branchs_rules(client, login, demo, reader):
    """A reader of the rules page sees their branch named, and that its rules are its own."""
    login(reader, DEMO_PASSWORD)
    page = client.get("/manage/rules").get_data(as_text=True)
    assert "名单规则 · 唐山分行" in page
    assert "这里的规则只用于本分行的网点和支行" in page
    assert 'id="rules-branch"' not in page  # one branch: nothing to pick


def test_a_change_saved_meanwhile_is_not_overwritten_unawares(client, api, login, demo):
    """Two managers open the rules; the first saves. The second's save, made from the version
    they read, is refused (409, naming the version now in force) by the API and the page
    alike — and on the page, where the version in force is shown above their form, saving
    again is theirs to choose."""
    read = client.get("/api/v1/watchlist/rules", headers=api("fwgl")).get_json()
    first = client.put("/api/v1/watchlist/rules", headers=api("fwgl"),
                       json=_body(read, base_version=read["version"], period_days=60))
    assert first.status_code == 200, first.get_json()
    count = _versions()
    late = client.put("/api/v1/watchlist/rules", headers=api("fwgl"),
                      json=_body(read, base_version=read["version"]))
    assert late.status_code == 409, late.get_json()
    assert late.get_json()["error"]["code"] == "rules_changed"
    assert f"第 {read['version'] + 1} 版" in late.get_json()["error"]["message"]
    assert _versions() == count

    login("fwgl", DEMO_PASSWORD)
    page = client.get("/manage/rules").get_data(as_text=True)
    assert f'name="base_version" value="{read["version"] + 1}"' in page
    with client.session_transaction() as sess:
        token = sess["csrf"]
    stale = {**rules_form(), "base_version": str(read["version"]), "csrf_token": token}
    refused = client.post("/manage/rules", data=stale)
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert f"规则刚被他人调整为第 {read['version'] + 1} 版" in text
    assert f'name="base_version" value="{read["version"] + 1}"' in text
    assert _versions() == count
    again = client.post("/manage/rules", data={**stale, "base_version": str(read["version"] + 1)})
    assert again.status_code == 302
    assert _versions() == count + 1


def test_branches_with_periods_of_their_own_share_one_read_of_the_banks_checks(
        client, api, demo):
    """石家庄 counts 60 days, 唐山 90: the nightly evaluation judges each by its own period,
    but reads the bank's checks and findings once, not once per period."""
    from ..helpers import counted_statements

    second_branch("sjz.fw")
    theirs = client.get("/api/v1/watchlist/rules", headers=api("sjz.fw")).get_json()
    assert client.put("/api/v1/watchlist/rules", headers=api("sjz.fw"),
                      json=_body(theirs, period_days=60)).status_code == 200
    listed = {entry.unit_id for entry in db.session.scalars(sa.select(WatchlistEntry).where(
        WatchlistEntry.status == EntryStatus.active))}
    with counted_statements(db.engine) as run:
        report = operations.evaluate()
        db.session.commit()
    assert {code: version for code, _name, version in report.branches} == {
        "TS": operations.active_rule_set(demo_branch()).version, "SJZ": theirs["version"] + 1}
    assert len([s for s in run if "FROM findings" in s]) == 1
    assert listed <= {entry.unit_id for entry in db.session.scalars(sa.select(
        WatchlistEntry).where(WatchlistEntry.status == EntryStatus.active))}


def test_reading_a_new_branchs_rules_writes_nothing_and_tuning_keeps_the_default_on_record(
        client, api, login, demo):
    """A new branch has no version of its own: reading its rules (page and API) stores nothing
    — so a read never waits on the nightly evaluation's writes — and its first tuning stores
    the default it was made from beside the new version, both in its history."""
    sjz = second_branch("sjz.fw")
    mine = sa.select(sa.func.count()).select_from(WatchlistRuleSet).where(
        WatchlistRuleSet.branch_id == sjz.id)
    read = client.get("/api/v1/watchlist/rules", headers=api("sjz.fw")).get_json()
    assert read["version"] == 1
    login("sjz.fw", DEMO_PASSWORD)
    page = client.get("/manage/rules").get_data(as_text=True)
    assert "第 1 版</strong>" in page and "默认规则" in page
    operations.evaluate()
    db.session.commit()
    assert db.session.scalar(mine) == 0
    tuned = client.put("/api/v1/watchlist/rules", headers=api("sjz.fw"),
                       json=_body(read, base_version=1, period_days=45))
    assert tuned.status_code == 200 and tuned.get_json()["version"] == 2
    assert db.session.scalar(mine) == 2
    page = client.get("/manage/rules").get_data(as_text=True)
    assert "第 2 版</strong>" in page and "第 1 版</strong>" in page
