"""What a checklist version changes against the one it came from (pure)."""
from __future__ import annotations

import copy

from inspect_app.checklists.changes import FieldChange, compare
from inspect_app.checklists.operations import default_document


def test_nothing_changed_is_empty():
    """Is a copy, or the same weights written as 2 and 2.0, no change at all?"""
    document = default_document()
    same = copy.deepcopy(document)
    same["items"][0]["weight"] = float(same["items"][0]["weight"])
    assert compare(document, same).empty


def test_added_removed_and_changed_items_field_by_field():
    """Are items matched by code (whatever the case and order), and a kept item's changed
    fields — its code's case among them — listed with their old and new values, and the
    sections and name too?"""
    old = default_document()
    new = copy.deepcopy(old)
    first, second, last = new["items"][0], new["items"][1], new["items"][-1]
    first["text"] += "（修订）"
    second.update(weight=second["weight"] + 1, modes=["spot_check"], red_line=True)
    new["items"].remove(last)
    new["items"].append({**copy.deepcopy(first), "code": "NEW-01", "text": "新增检查项"})
    new["items"].reverse()
    second["code"] = second["code"].lower()
    new["name"] = "新名称"
    new["sections"].append({"code": "EXT", "name": "扩展", "weight": None})
    changes = compare(old, new)
    assert not changes.empty
    assert changes.name == FieldChange("name", old["name"], "新名称")
    assert [s["code"] for s in changes.sections_added] == ["EXT"]
    assert [i["code"] for i in changes.items_added] == ["NEW-01"]
    assert [i["code"] for i in changes.items_removed] == [last["code"]]
    by_code = {c.code.upper(): c for c in changes.items_changed}
    assert set(by_code) == {first["code"], second["code"].upper()}
    assert by_code[first["code"]].fields == (
        FieldChange("text", old["items"][0]["text"], first["text"]),)
    assert {f.field for f in by_code[second["code"].upper()].fields} == {
        "code", "weight", "modes", "red_line"}


def test_a_new_order_of_items_or_sections_is_a_change():
    """Items or sections in another order, nothing else changed: is that a change, said as
    such — while items added or removed alone leave the order of the others as it was?"""
    old = default_document()
    items = copy.deepcopy(old)
    items["items"].reverse()
    changes = compare(old, items)
    assert changes.items_reordered and not changes.sections_reordered and not changes.empty
    sections = copy.deepcopy(old)
    sections["sections"].reverse()
    changes = compare(old, sections)
    assert changes.sections_reordered and not changes.items_reordered and not changes.empty
    shorter = copy.deepcopy(old)
    del shorter["items"][1]
    shorter["items"].insert(0, {**copy.deepcopy(old["items"][0]), "code": "NEW-01"})
    assert not compare(old, shorter).items_reordered


def test_a_code_in_another_case_is_a_change():
    """Answers are keyed by the exact code: is ENV-01 written env-01 (item or section) a
    change of its code?"""
    old = default_document()
    new = copy.deepcopy(old)
    new["items"][0]["code"] = new["items"][0]["code"].lower()
    new["sections"][0]["code"] = new["sections"][0]["code"].lower()
    changes = compare(old, new)
    assert changes.items_changed[0].fields == (
        FieldChange("code", old["items"][0]["code"], new["items"][0]["code"]),)
    assert changes.sections_changed[0].fields == (
        FieldChange("code", old["sections"][0]["code"], new["sections"][0]["code"]),)


def rules(**changes):
    """The default scoring rules as a version stores them, with ``changes`` applied."""
    from inspect_app.scoring import DEFAULT_RULES

    stored = DEFAULT_RULES.to_dict()
    stored.update(copy.deepcopy(changes))
    return stored


def test_scoring_rule_changes_are_listed():
    """优秀 from 90 to 95, the red line from a cap of 59 to 判定不合格, 互查 weighing 3 and a new
    rules version: is each one a change, and identical rules none?"""
    from inspect_app.checklists.changes import RuleChange

    document = default_document()
    assert compare(document, document, old_rules=rules(), new_rules=rules()).empty
    bands = copy.deepcopy(rules()["grade_bands"])
    bands[0]["min"] = 95
    new = rules(grade_bands=bands, red_line={"mode": "fail", "cap": None},
                mode_weights={**rules()["mode_weights"], "peer_check": 3}, version="2026.2")
    changes = compare(document, document, old_rules=rules(), new_rules=new)
    assert not changes.empty
    assert changes.rules == (
        RuleChange("grade_band", "excellent", {"key": "excellent", "label": "优秀", "min": 90},
                   {"key": "excellent", "label": "优秀", "min": 95}),
        RuleChange("red_line", None, {"mode": "cap", "cap": 59}, {"mode": "fail", "cap": None}),
        RuleChange("mode_weight", "peer_check", 2, 3),
        RuleChange("version", None, "2026.1", "2026.2"))


def test_grade_bands_added_removed_and_renamed():
    """A band renamed, one dropped and one added: are all three listed, by the band's key?"""
    from inspect_app.checklists.changes import compare_rules

    bands = [{"key": "excellent", "label": "卓越", "min": 90},
             {"key": "pass", "label": "合格", "min": 60}, {"key": "fail", "label": "不合格", "min": 0},
             {"key": "watch", "label": "关注", "min": 40}]
    found = {(c.key, c.old is None, c.new is None)
             for c in compare_rules(rules(), rules(grade_bands=bands))}
    assert found == {("excellent", False, False), ("watch", True, False), ("good", False, True)}
