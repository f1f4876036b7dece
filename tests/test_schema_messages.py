"""marshmallow's own refusals come in the user's language too: Chinese by default, marshmallow's
English wording once the user chose English — not English for everyone."""
from __future__ import annotations

import inspect

import marshmallow as ma
import pytest
from marshmallow import fields, validate

from inspect_app.forms import refusals
from inspect_app.schema_messages import CHINESE, schema_message

#: Messages marshmallow raises only while *writing* out data (dumping), never when reading a
#: request: no user can meet them.
DUMPING_ONLY = {'"{input}" cannot be formatted as a {obj_type}.',
                '"{input}" cannot be formatted as a date.',
                "{input!r} cannot be formatted as a timedelta."}


def marshmallow_defaults() -> set[str]:
    """Every default message of the installed marshmallow, as a user can meet it: temporal
    fields' ``{obj_type}`` and ``{awareness}`` and Range's comparisons filled in."""
    found: set[str] = set()
    for cls in vars(fields).values():
        if inspect.isclass(cls) and issubclass(cls, fields.Field):
            for klass in cls.__mro__:
                found.update(getattr(klass, "default_error_messages", {}).values())
    found.update(ma.Schema._default_error_messages.values())
    for cls in vars(validate).values():
        if inspect.isclass(cls) and issubclass(cls, validate.Validator) \
                and cls is not validate.Range:
            found.update(value for name, value in vars(cls).items() if isinstance(value, str)
                         and (name.startswith("message") or name == "default_message"))
    found -= DUMPING_ONLY
    temporal = {m for m in found if "{obj_type}" in m}
    found -= temporal
    for message in temporal:
        for obj_type in ("datetime", "time", "date"):
            if "{awareness}" not in message:
                found.add(message.format(obj_type=obj_type))
            elif obj_type != "date":  # a date has no time zone
                found.update(message.format(obj_type=obj_type, awareness=awareness)
                             for awareness in ("naive", "aware"))
    r = validate.Range
    lows, highs = (r.message_gte, r.message_gt), (r.message_lte, r.message_lt)
    for low in lows:
        found.add(r.message_min.format(min_op=low))
        for high in highs:
            found.add(r.message_all.format(min_op=low, max_op=high))
    for high in highs:
        found.add(r.message_max.format(max_op=high))
    return {m.replace("{{", "{").replace("}}", "}") for m in found}


def test_every_marshmallow_message_has_its_chinese():
    """Does every refusal the installed marshmallow can give a reader have a Chinese version
    (an upgrade that adds or rewords one fails here)?"""
    missing = sorted(marshmallow_defaults() - set(CHINESE))
    assert not missing, f"add these to inspect_app/schema_messages.py: {missing}"


@pytest.mark.parametrize(("text", "template", "params"), [
    ("Missing data for required field.", "此项必填", {}),
    ("Length must be between 1 and 200.", "长度应在 %(min)s 到 %(max)s 之间",
     {"min": "1", "max": "200"}),
    ("Must be one of: a, b.", "必须是以下之一：%(choices)s", {"choices": "a, b"}),
    ("Must be greater than or equal to 1 and less than or equal to 2147483647.",
     "应在 %(min)s 到 %(max)s 之间", {"min": "1", "max": "2147483647"}),
])
def test_a_marshmallow_text_is_read_back_with_its_values(text, template, params):
    message = schema_message(text)
    assert (message.template, message.params) == (template, params)


def test_other_text_is_left_alone():
    """A project message, a user's words or a near miss is no marshmallow message."""
    assert schema_message("请填写原因") is None
    assert schema_message("Missing data for required field") is None  # no full stop
    assert schema_message("Not a valid integer. Really.") is None


def refused_campaign(client, headers, query=""):
    response = client.post(f"/api/v1/campaigns{query}", headers=headers, json={
        "name": "", "bogus": 1, "checklist_id": "x", "modes": ["nope"],
        "period_start": "2026-13-01"})
    assert response.status_code == 422, response.get_json()
    return response.get_json()["error"]["details"]


def test_api_refusals_are_chinese_by_default(client, api):
    """Do a bearer-token client's field refusals come in Chinese, values in place?"""
    details = refused_campaign(client, api("fwgl"))
    assert details == {
        "bogus": ["不认识的字段"],
        "checklist_id": ["应为整数"],
        "modes": {"0": ["必须是以下之一：self_check, peer_check, spot_check, mystery_visit"]},
        "name": ["计划名称不能为空"],
        "period_end": ["此项必填"],
        "period_start": ["不是有效的日期"],
    }


def test_api_refusals_are_marshmallows_english_in_english(client, api):
    details = refused_campaign(client, api("fwgl"), "?lang=en")
    assert details == {
        "bogus": ["Unknown field."],
        "checklist_id": ["Not a valid integer."],
        "modes": {"0": ["Must be one of: self_check, peer_check, spot_check, mystery_visit."]},
        "name": ["The campaign name must not be empty"],
        "period_end": ["Missing data for required field."],
        "period_start": ["Not a valid date."],
    }


def test_nested_refusals_in_a_draft_are_chinese(client, api, first):
    """Deep inside a draft's answers too (an unknown key of one answer, a version that is no
    number)."""
    spot = first("spot_check")
    response = client.put(f"/api/v1/inspections/{spot.id}/draft", headers=api("fwgl"),
                          json={"version": "a", "answers": {"ENV-05": {"value": 9, "zz": 1}}})
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert details == {"answers": {"ENV-05": {"value": {"zz": ["不认识的字段"]}}},
                       "version": ["应为整数"]}


def test_page_refusals_say_marshmallows_messages_in_the_pages_language(app):
    """A page form's lines (:func:`refusals`) say marshmallow's messages in Chinese, and in
    English on an English page."""
    errors = {"count": ["Not a valid integer."], "when": ["Missing data for required field."]}
    names = {"count": "数量", "when": "日期"}
    # each in its own application context: the language chosen is kept there
    with app.app_context(), app.test_request_context("/"):
        assert refusals(errors, names) == ["数量：应为整数", "日期：此项必填"]
    with app.app_context(), app.test_request_context("/?lang=en"):
        lines = refusals(errors, names)
    assert lines[1].endswith("Missing data for required field.")
    assert lines[0].endswith("Not a valid integer.")
