"""The shipped default checklist "客户满意银行网点服务检查表" and the checklist validator."""
from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from inspect_app.checklists.validation import FIELD_LABELS, ITEM_FIELDS, checklist_problems

SECTIONS = {"ENV": "网点颜值靓化", "EFF": "网点服务效率", "NORM": "网点服务规范",
            "WARM": "网点服务温度", "O2O": "线上线下一体化"}


def load_default() -> dict[str, Any]:
    """The default checklist as the app loads it (package data)."""
    text = resources.files("inspect_app.checklists").joinpath(
        "data/default_checklist.json").read_text(encoding="utf-8")
    return json.loads(text)


@pytest.fixture
def default() -> dict[str, Any]:
    return load_default()


def paths(data: dict[str, Any]) -> set[tuple[str | int, ...]]:
    return {problem.path for problem in checklist_problems(data)}


# -- the default checklist ---------------------------------------------------------------------

def test_default_checklist_is_valid_and_large_enough(default):
    """Does the shipped checklist pass validation with at least 45 items?"""
    assert checklist_problems(default) == []
    assert default["name"] == "客户满意银行网点服务检查表"
    assert len(default["items"]) >= 45


def test_default_checklist_covers_the_five_areas_in_order(default):
    """Are the five areas of the brief its sections, in order, each with several items?"""
    assert [(s["code"], s["name"]) for s in default["sections"]] == list(SECTIONS.items())
    for code in SECTIONS:
        items = [item for item in default["items"] if item["section"] == code]
        assert len(items) >= 8, code
        assert all(item["code"].startswith(code + "-") for item in items)


def test_default_checklist_has_red_line_items_due_in_one_day(default):
    """Are there red-line items (conduct, absence, leaking data), critical and due in 1 day?"""
    red = [item for item in default["items"] if item["red_line"]]
    assert len(red) >= 3
    assert all(item["severity"] == "critical" and item["deadline_days"] == 1 for item in red)
    texts = "".join(item["text"] for item in red)
    for phrase in ("争吵", "擅离岗位", "泄露客户信息"):
        assert phrase in texts


def test_default_checklist_has_mystery_visit_only_items(default):
    """Do items such as "greeted within 3 seconds" apply only to mystery visits?"""
    mystery = {item["code"]: item["text"] for item in default["items"]
               if item["modes"] == ["mystery_visit"]}
    assert len(mystery) >= 3
    assert any("3秒" in text for text in mystery.values())
    assert any("起身" in text for text in mystery.values())
    assert any("推销" in text for text in mystery.values())


def test_default_checklist_measures_waiting_time_and_open_windows(default):
    """Are waiting time (≤ 15 分钟) and windows opened at peak (a minimum) number items?"""
    numbers = [item for item in default["items"] if item["response_type"] == "number"]
    wait = [i for i in numbers if i["config"].get("unit") == "分钟"]
    assert wait and wait[0]["config"] == {"limit": 15, "direction": "max", "unit": "分钟",
                                          "derived_from": "wait_minutes"}
    assert any(i["config"]["direction"] == "min" and "窗口" in i["text"] for i in numbers)


def test_default_checklist_mixes_response_types_like_cbss(default):
    """Does it use every response type, with CBSS-style point values of 1–5 per item?"""
    types = {item["response_type"] for item in default["items"]}
    assert types == {"pass_fail", "scale", "number", "text", "deduction"}
    assert all(1 <= item["weight"] <= 5 for item in default["items"])
    assert {item["photo_rule"] for item in default["items"]} == {"required", "on_fail", "optional"}


def test_default_checklist_guidance_says_what_pass_means(default):
    """Does every scored item's guidance start with "合格标准："?"""
    for item in default["items"]:
        if item["response_type"] != "text":
            assert item["guidance"].startswith("合格标准："), item["code"]


def test_default_checklist_deadlines_follow_severity(default):
    """Are environment fixes due in 7–15 days and conduct issues in 3?"""
    for item in default["items"]:
        if item["red_line"]:
            continue
        if item["section"] == "ENV" and item["severity"] == "minor" and item["code"] != "ENV-10":
            assert 7 <= item["deadline_days"] <= 15, item["code"]
        if item["section"] == "NORM":
            assert item["deadline_days"] == 3, item["code"]


# -- the validator ------------------------------------------------------------------------------

def test_field_labels_name_every_item_field_in_chinese():
    """Does every item field have its Chinese column header?"""
    assert set(FIELD_LABELS) == set(ITEM_FIELDS)
    assert FIELD_LABELS["weight"] == "分值" and FIELD_LABELS["deadline_days"] == "整改期限(天)"


def test_validator_reports_every_problem_with_its_path(default):
    """Does one bad checklist yield one problem per mistake, each at its item and field?"""
    data = copy.deepcopy(default)
    items = data["items"]
    items[0]["weight"] = 0
    items[1]["code"] = items[0]["code"].lower()          # duplicate, case-insensitively
    items[2]["section"] = "NOPE"
    items[3]["response_type"] = "essay"
    items[4]["photo_rule"] = "always"
    items[5]["modes"] = []
    items[6]["severity"] = "fatal"
    items[7]["deadline_days"] = 366
    items[8]["text"] = "字" * 501
    items[9]["code"] = "ENV 10"
    items[10]["red_line"] = "yes"
    items[11]["guidance"] = "=HYPERLINK(\"http://evil\")"
    items[12]["deadline_days"] = 3.5
    del items[13]["severity"]
    items[14]["colour"] = "red"
    assert paths(data) == {
        ("items", 0, "weight"), ("items", 1, "code"), ("items", 2, "section"),
        ("items", 3, "response_type"), ("items", 4, "photo_rule"), ("items", 5, "modes"),
        ("items", 6, "severity"), ("items", 7, "deadline_days"), ("items", 8, "text"),
        ("items", 9, "code"), ("items", 10, "red_line"), ("items", 11, "guidance"),
        ("items", 12, "deadline_days"), ("items", 13, "severity"), ("items", 14, "colour"),
    }
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in p.message)
               for p in checklist_problems(data))


def test_validator_delegates_config_checks_to_the_response_type(default):
    """Is a bad scale, number or deduction config reported on the item's config?"""
    data = copy.deepcopy(default)
    scale = next(i for i, item in enumerate(data["items"]) if item["response_type"] == "scale")
    number = next(i for i, item in enumerate(data["items"]) if item["response_type"] == "number")
    deduction = next(i for i, item in enumerate(data["items"])
                     if item["response_type"] == "deduction")
    data["items"][scale]["config"] = {"max": 5, "pass_at": 9}
    data["items"][number]["config"] = {"limit": "fifteen"}
    data["items"][deduction]["config"] = {"max_deduction": 50}   # more than the item's points
    data["items"][0]["config"] = "max=5"
    assert paths(data) == {("items", scale, "config"), ("items", number, "config"),
                           ("items", deduction, "config"), ("items", 0, "config")}


@pytest.mark.parametrize("data, path", [
    ({"name": "x", "sections": [{"code": "A", "name": "甲"}], "items": []}, ("items",)),
    ({"name": "", "sections": [{"code": "A", "name": "甲"}], "items": None}, ("name",)),
    ({"name": "x", "sections": [{"code": "A", "name": "甲", "weight": 101}], "items": []},
     ("sections", 0, "weight")),
    ("not a dict", ()),
])
def test_validator_refuses_empty_or_malformed_checklists(data, path):
    """Are a checklist without items, without a name, or not a dict at all refused?"""
    assert path in paths(data)


def test_validator_caps_the_number_of_items(default):
    """Is a checklist of more than 2,000 items refused without checking each one?"""
    data = copy.deepcopy(default)
    data["items"] = [dict(data["items"][0], code=f"X-{n}") for n in range(2001)]
    assert paths(data) == {("items",)}


def test_a_weight_with_more_than_two_decimals_is_refused(default):
    """Is an item's 0.001 points refused by name, instead of being stored as 0 (two decimals)
    and then blocking the publication without saying why?"""
    data = copy.deepcopy(default)
    plain = [i for i, item in enumerate(data["items"]) if item["response_type"] == "pass_fail"]
    data["items"][plain[0]]["weight"] = 0.001
    data["items"][plain[1]]["weight"] = 2.5  # two decimals or fewer are fine
    data["items"][plain[2]]["weight"] = 1.25
    problems = checklist_problems(data)
    assert [p.path for p in problems] == [("items", plain[0], "weight")]
    assert "两位小数" in problems[0].message
