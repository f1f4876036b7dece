"""The watch-list rules page: everyone who reads the list sees what each rule says with its
figures; a service manager tunes them there — a new version with a reason, audited."""
from __future__ import annotations

import re

import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.extensions import db
from inspect_app.watchlist.models import WatchlistRuleSet
from inspect_app.watchlist.operations import active_rule_set

from ..helpers import demo_branch


def rules_form(**changes) -> dict:
    """The form as the page fills it for the rules in force, with ``changes`` applied."""
    from inspect_app.watchlist.rules import RULES

    current = active_rule_set(demo_branch())
    form = {"period_days": str(current.period_days), "note": "按季度复盘调整"}
    for raw in current.rules["rules"]:
        if raw["enabled"]:
            form[f"{raw['key']}.enabled"] = "yes"
        form[f"{raw['key']}.unit_kinds"] = raw.get("unit_kinds") or ["outlet", "subbranch"]
        params = {p.name: p for p in RULES[raw["key"]].params}
        for name, value in raw["params"].items():
            form[f"{raw['key']}.{name}"] = f"{value * 100 if params[name].kind == 'share' else value:g}"
    exit_ = current.rules["exit"]
    form["exit.consecutive_passing_checks"] = str(exit_["consecutive_passing_checks"])
    form["exit.passing_score"] = f"{exit_['passing_score']:g}"
    if exit_["require_nothing_overdue"]:
        form["exit.require_nothing_overdue"] = "yes"
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def _token(client) -> str:
    with client.session_transaction() as sess:
        return sess["csrf"]


def _post(client, form: dict):
    return client.post("/manage/rules", data={**form, "csrf_token": _token(client)})


def test_readers_see_every_rule_with_its_figures_and_only_managers_the_form(
        client, login, demo):
    """A sub-branch manager reads the rules (with their thresholds) but gets no form; the
    service manager gets the form, filled with the rules in force."""
    login("zh.lubei", "Demo@2026")
    page = client.get("/manage/rules").get_data(as_text=True)
    assert "独立检查（互查、抽查、暗访）平均得分低于 70 分" in page
    assert "逾期项占未完成整改项的比例达到 30%" in page
    assert "入列后连续 2 次独立检查得分均不低于 80 分，且没有逾期整改项" in page
    assert "（仅适用于网点）" in page  # self-check inflation is judged outlet by outlet
    assert "<form method=\"post\" class=\"stack rules-form\">" not in page
    refused = _post(client, rules_form())
    assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.max(WatchlistRuleSet.version))) is None  # none stored
    client.post("/logout", data={"csrf_token": _token(client)})
    login("fwgl", "Demo@2026")
    page = client.get("/manage/rules").get_data(as_text=True)
    assert 'name="overdue_rectification.share" value="30"' in page
    assert 'name="low_independent_score.threshold" value="70"' in page


def test_a_manager_tunes_the_rules_into_a_new_audited_version(client, login, demo):
    """Lower a threshold, change a share (typed as a percentage), switch a rule off: is it
    version 2 with exactly those values — the outlet-only restriction kept — with the reason
    in the audit log, and does the page say so?"""
    login("fwgl", "Demo@2026")
    response = _post(client, rules_form(**{"low_independent_score.threshold": "65",
                                          "overdue_rectification.share": "25",
                                          "queue_overtime.enabled": None}))
    assert response.status_code == 302 and response.headers["Location"].endswith("saved=2")
    db.session.expire_all()
    saved = active_rule_set(demo_branch())
    assert saved.version == 2
    rules = {r["key"]: r for r in saved.rules["rules"]}
    assert rules["low_independent_score"]["params"]["threshold"] == 65
    assert rules["overdue_rectification"]["params"]["share"] == 0.25
    assert rules["queue_overtime"]["enabled"] is False
    assert rules["self_check_inflation"]["unit_kinds"] == ["outlet"]
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "watchlist_rules.update"))
    assert entry is not None and entry.reason == "按季度复盘调整"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已保存为第 2 版" in page and "平均得分低于 65 分" in page
    assert re.search(r"<strong>排队超时</strong> <span class=\"tag\">未启用</span>", page)


def test_a_wrong_value_is_named_and_nothing_is_saved(client, login, demo):
    """Not a number, out of range, or no reason: is the page back (422) naming the field and
    keeping what was typed, and no version added?"""
    login("fwgl", "Demo@2026")
    response = _post(client, rules_form(**{"low_independent_score.threshold": "七十",
                                          "note": None}))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "「独立检查得分偏低」分数线：请填写数字" in text and "调整原因：请填写调整原因" in text
    assert 'value="七十"' in text
    response = _post(client, rules_form(**{"low_independent_score.threshold": "150"}))
    assert response.status_code == 422
    assert "分数线" in response.get_data(as_text=True) and 'value="150"' in response.get_data(
        as_text=True)
    assert db.session.scalar(sa.select(sa.func.max(WatchlistRuleSet.version))) is None  # none stored


def test_the_rules_in_english(client, login, demo):
    """In English, are the rules, their figures and the exit policy said in English (the API
    keeps its Chinese descriptions)?"""
    login("fwgl", "Demo@2026")
    page = client.get("/manage/rules?lang=en").get_data(as_text=True)
    assert "Independent checks (peer, spot, mystery) average below 70" in page
    assert "Independent checks since listing scoring at least 80, 2 in a row, with " \
        "nothing overdue" in page
    assert "Inflated self-checks</strong>" in page and " (outlets only)</p>" in page
    assert "Overdue share (%)" in page and "Over-time share (%)" in page
    assert "（" not in page and "）" not in page  # no Chinese brackets around English words
    assert "Version 1</strong><br>Default rules</li>" in page
    # the branch's name is the bank's own data, said as it is written
    assert "Watch-list rules · 唐山分行" in page
    assert not re.search(r"[\u4e00-\u9fff]",
                         page.split('<nav class="tabs"')[1].replace("唐山分行", ""))
