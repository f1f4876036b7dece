"""An inspection filled last month must score exactly as it did: exporting a checklist to a
spreadsheet and importing it back never changes a score."""
from __future__ import annotations

import json
from functools import cache
from importlib import resources

from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_app.checklists.spreadsheet import export_xlsx, import_xlsx
from inspect_app.scoring import DEFAULT_RULES, score_inspection


@cache
def checklists() -> tuple[dict, dict]:
    original = json.loads(resources.files("inspect_app.checklists").joinpath(
        "data/default_checklist.json").read_text(encoding="utf-8"))
    return original, import_xlsx(export_xlsx(original))


def answer_for(item: dict, choice: int) -> dict:
    """One of a few valid answers per response type, picked by ``choice``."""
    config, weight = item["config"], item["weight"]
    options = {
        "pass_fail": ["pass", "fail", "na"],
        "scale": [0, config.get("max", 1), "na"],
        "number": [config.get("limit", 0), config.get("limit", 0) + 3, "na"],
        "deduction": [0, weight, "na"],
        "text": ["无", "现场记录", "na"],
    }[item["response_type"]]
    value = options[choice % len(options)]
    return {"value": value, "note": "扣分原因" if value not in (0, "na") else None}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=5), min_size=60, max_size=60))
def test_scores_are_identical_after_spreadsheet_round_trip(choices):
    """Does every combination of answers score the same on the original and the re-imported
    checklist?"""
    original, reimported = checklists()
    answers = {item["code"]: answer_for(item, choice)
               for item, choice in zip(original["items"], choices)}
    before = score_inspection(original["items"], answers, DEFAULT_RULES)
    after = score_inspection(reimported["items"], answers, DEFAULT_RULES)
    assert before.to_dict() == after.to_dict()
