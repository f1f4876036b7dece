"""What a campaign must be before anything is generated for it: a name the list can show, and
(by the same operation for the page, the API and the demo seed) nothing that gives an outlet
work it already has, nor work that was due before it was planned, nor no work at all."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from inspect_app.auth.models import User
from inspect_app.errors import InvalidInput
from inspect_app.extensions import db
from inspect_app.inspections.campaigns import create_campaign
from inspect_app.inspections.models import Campaign, Inspection


def written() -> tuple[int, int]:
    """How many campaigns and inspections there are (the demo has this month's already)."""
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)),
            db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)))


def plan(client, api, demo, **fields):
    """POST a December self-check campaign, with ``fields`` changed."""
    body = {"name": "2026年12月网点自查", "checklist_id": demo.id, "period_start": "2026-12-01",
            "period_end": "2026-12-31", "modes": ["self_check"], "seed": 3,
            "settings": {"self_check": {"cycle": "monthly"}}, **fields}
    return client.post("/api/v1/campaigns", json=body, headers=api("fwgl"))


# -- F1: a name ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["   ", "\u3000\u3000", " \t "])
def test_a_name_of_spaces_only_is_refused_and_nothing_is_created(client, api, demo, name):
    """A name of spaces (half- or full-width) would be listed on 检查计划 as an empty link
    nobody can click: is it refused by the API, as the page refuses it, with nothing written?"""
    before = written()
    response = plan(client, api, demo, name=name)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["details"]["name"] == ["计划名称不能为空"]
    assert written() == before


def test_a_name_is_one_line_and_kept_without_the_spaces_around_it(client, api, demo):
    """Is a name of two lines refused, and one typed with spaces around it kept trimmed?"""
    two_lines = plan(client, api, demo, name="2026年12月\n网点自查")
    assert two_lines.status_code == 422
    assert "name" in two_lines.get_json()["error"]["details"]
    response = plan(client, api, demo, name="  2026年12月网点自查 ")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "2026年12月网点自查"


def test_the_operation_itself_refuses_a_blank_name(demo):
    """Code that plans without a schema (the demo seed, a script) meets the same rule: is a
    blank name refused by create_campaign, saying so in Chinese?"""
    manager = db.session.scalar(sa.select(User).where(User.username == "fwgl"))
    with pytest.raises(InvalidInput) as refused:
        create_campaign({"name": " \u3000", "checklist_id": demo.id, "modes": ["self_check"],
                         "period_start": date(2026, 12, 1), "period_end": date(2026, 12, 31)},
                        by=manager)
    assert refused.value.code == "name_required" and str(refused.value.message) == "计划名称不能为空"
