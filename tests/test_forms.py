"""Page forms read a post as a person meant it: blank is left out, spaces do not count."""
from __future__ import annotations

import marshmallow as ma
import pytest
from marshmallow import fields
from werkzeug.datastructures import MultiDict

from inspect_app.forms import PageForm
from inspect_app.inspections.views import CampaignForm, ReassignForm


class Sample(PageForm):
    multiple = ("modes",)

    name = fields.String(required=True)
    size = fields.Integer(load_default=10)
    modes = fields.List(fields.String(), required=True)


def test_blank_fields_are_left_out_and_spaces_do_not_count():
    """Does an untouched field take its default, a padded one lose its spaces, a field the
    form does not know go unnoticed, and every ticked box arrive?"""
    posted = MultiDict([("name", "  路北支行  "), ("size", " "), ("modes", "self_check"),
                        ("modes", " "), ("modes", "spot_check"), ("csrf_token", "x")])
    assert Sample().load(posted) == {"name": "路北支行", "size": 10,
                                     "modes": ["self_check", "spot_check"]}


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_a_blank_required_field_is_missing(blank):
    """Is a field of spaces refused as missing, not taken as a value?"""
    with pytest.raises(ma.ValidationError) as refused:
        Sample().load(MultiDict([("name", blank), ("modes", "self_check")]))
    assert set(refused.value.messages) == {"name"}
    with pytest.raises(ma.ValidationError) as refused:
        Sample().load(MultiDict([("name", "x"), ("modes", blank)]))
    assert set(refused.value.messages) == {"modes"}


def test_the_pages_forms_share_these_rules():
    """A campaign named with spaces only, a reason of spaces: refused as missing?"""
    with pytest.raises(ma.ValidationError) as refused:
        CampaignForm().load(MultiDict([("name", "   "), ("checklist_id", "1"),
                                       ("period_start", "2026-10-01"),
                                       ("period_end", "2026-12-31"), ("modes", "self_check")]))
    assert "name" in refused.value.messages
    with pytest.raises(ma.ValidationError) as refused:
        ReassignForm().load(MultiDict([("reason", "    "), ("assignee_id", "3")]))
    assert set(refused.value.messages) == {"reason"}
