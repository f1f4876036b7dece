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
    fields listed with their old and new values — and the sections and name too?"""
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
        "weight", "modes", "red_line"}
