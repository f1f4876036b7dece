"""The managers' figures (/dashboard/*, /bulletins) answer in their documented shapes: every
figure the dashboards compute reaches the client, and the OpenAPI document describes it."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from openapi_schema_validator import OAS30Validator, validate

from inspect_app.auth.models import User
from inspect_app.extensions import db
from inspect_app.orgs.models import OrgUnit
from inspect_app.watchlist import dashboards
from inspect_app.watchlist.bulletins import bulletin
from tests.conftest import last_month


def day_and_end():
    """The 15th and the last day of last month: a whole month of the demo's history."""
    end = last_month()[1]
    return end.replace(day=15), end


def raw(value):
    """What the dashboards computed, as JSON carries it."""
    return json.loads(json.dumps(value))


def figures(by: User) -> dict[str, object]:
    """Each endpoint's answer computed directly, without the API's schema."""
    day, end = day_and_end()
    month, quarter = dashboards.period_for("month", day), dashboards.period_for("quarter", day)
    unit = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-LB"))
    points = dashboards.trend(unit, by, end=end, months=4)
    return {
        f"/api/v1/dashboard/rankings?kind=month&day={day}": {
            "period": month.label, "outlets": dashboards.outlet_ranking(month, by),
            "subbranches": dashboards.subbranch_ranking(month, by),
            "standing": dashboards.outlet_standing(month, by)},
        f"/api/v1/dashboard/failed-items?kind=month&day={day}": {
            "period": month.label, "items": dashboards.most_failed_items(month, by, limit=10),
            "sections": dashboards.failures_by_section(month, by)},
        f"/api/v1/dashboard/mode-comparison?kind=quarter&day={day}": {
            "period": quarter.label, "outlets": dashboards.mode_comparison(quarter, by)},
        f"/api/v1/dashboard/trend?unit_id={unit.id}&months=4&end={end}": {
            "unit": {"id": unit.id, "name": unit.name}, "points": points,
            "arrow": dashboards.trend_arrow(points)},
        f"/api/v1/bulletins?kind=week&day={day}": bulletin("week", day, by),
        f"/api/v1/bulletins?kind=month&day={day}": bulletin("month", day, by),
    }


def documented(spec: dict, url: str) -> dict:
    path = url.split("?")[0]
    if path.startswith("/api/v1/dashboard/trend"):
        path = "/api/v1/dashboard/trend"
    schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"]
    return {**schema, "components": spec["components"]}


@pytest.mark.parametrize("username", ["fwgl", "zh.lubei"])
def test_figures_reach_the_client_whole_and_as_documented(client, api, demo, username):
    """For the branch's manager and for a sub-branch manager (who sees other sub-branches by
    rank only): is each answer exactly what the dashboards computed — no figure dropped by the
    response schema — and valid against the documented schema?"""
    headers = api(username)
    spec = client.get("/api/v1/openapi.json").get_json()
    user = db.session.scalar(sa.select(User).where(User.username == username))
    for url, expected in figures(user).items():
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.get_json())
        answer = response.get_json()
        assert answer == raw(expected), url
        validate(answer, documented(spec, url), cls=OAS30Validator,
             format_checker=OAS30Validator.FORMAT_CHECKER)
    day, _ = day_and_end()
    ranks = client.get(f"/api/v1/dashboard/rankings?kind=month&day={day}",
                       headers=headers).get_json()
    assert any(row.get("own") is False for row in ranks["subbranches"]) \
        == (username == "zh.lubei")


def test_grades_are_said_in_english_on_request(client, api, demo):
    """A ranked unit's grade is a label: Chinese by default, English with ``lang=en``."""
    day, _ = day_and_end()
    url = f"/api/v1/dashboard/rankings?kind=month&day={day}"
    chinese = client.get(url, headers=api("fwgl")).get_json()["outlets"][0]["grade"]
    english = client.get(url + "&lang=en", headers=api("fwgl")).get_json()["outlets"][0]["grade"]
    assert (chinese, english) == ("优秀", "Excellent")


def test_an_empty_period_is_documented_too(client, api, demo):
    """A period without scores (ranks are null, other sub-branches by rank only) still
    matches the documented schema, for a sub-branch manager as for the branch. The period is
    a month long before the programme (and the demo's six months of history) began."""
    spec = client.get("/api/v1/openapi.json").get_json()
    for username in ("fwgl", "zh.lubei"):
        url = "/api/v1/dashboard/rankings?kind=month&day=2024-01-15"
        answer = client.get(url, headers=api(username)).get_json()
        assert all(row.get("rank") is None for row in answer["subbranches"])
        validate(answer, documented(spec, url), cls=OAS30Validator,
             format_checker=OAS30Validator.FORMAT_CHECKER)


def test_refusals_document_the_error_body(client):
    """Every documented refusal (4xx) of every operation shows the one error body."""
    spec = client.get("/api/v1/openapi.json").get_json()
    bare = [f"{method.upper()} {path} {status}"
            for path, operations in spec["paths"].items()
            for method, operation in operations.items() if isinstance(operation, dict)
            for status, response in operation.get("responses", {}).items()
            if status.startswith("4") and "$ref" not in response
            and not response.get("content")]
    assert not bare, bare


def test_a_subbranch_filter_narrows_every_figure_and_stays_in_scope(client, api, demo):
    """``subbranch_id`` keeps the outlets of that sub-branch in the rankings, the inflation
    view and the failed items with their areas; a sub-branch outside the reader's scope is
    404, as any unit out of reach."""
    caofeidian = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "TS-CFD"))
    headers = api("fwgl")
    day, _ = day_and_end()
    query = f"kind=quarter&day={day}&subbranch_id={caofeidian.id}"
    ranking = client.get(f"/api/v1/dashboard/rankings?{query}", headers=headers).get_json()
    assert ranking["outlets"] and {r["subbranch"] for r in ranking["outlets"]} == {"曹妃甸支行"}
    assert len(ranking["subbranches"]) == 12  # where it stands among the others
    gaps = client.get(f"/api/v1/dashboard/mode-comparison?{query}", headers=headers).get_json()
    assert {r["subbranch"] for r in gaps["outlets"]} <= {"曹妃甸支行"}
    failed = client.get(f"/api/v1/dashboard/failed-items?{query}&limit=100",
                        headers=headers).get_json()
    per_section: dict[str, int] = {}
    for item in failed["items"]:
        per_section[item["section"]] = per_section.get(item["section"], 0) + item["failures"]
    assert {s["section"]: s["failures"] for s in failed["sections"]} == per_section
    everywhere = client.get(f"/api/v1/dashboard/failed-items?kind=quarter&day={day}",
                            headers=headers).get_json()
    assert sum(s["failures"] for s in failed["sections"]) \
        < sum(s["failures"] for s in everywhere["sections"])
    for path in ("rankings", "mode-comparison", "failed-items"):
        refused = client.get(f"/api/v1/dashboard/{path}?{query}", headers=api("zh.lubei"))
        assert refused.status_code == 404, path
        assert refused.get_json()["error"]["code"] == "org_unit_not_found"
