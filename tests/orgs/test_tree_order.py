"""Organisation lists read as the tree, by code: not in the order the units were created."""
from __future__ import annotations

import re

import pytest

from inspect_app.auth.permissions import Role

#: Codes as a reader expects them: each unit after its parent, siblings by code.
TREE = ["TS", "TS-KP", "TS-KP-01", "TS-LB", "TS-LB-00", "TS-LB-01", "TS-LB-02", "TS-LN",
        "TS-LN-01", "TS-LN-02"]


@pytest.fixture
def late_units(org, make_unit):
    """Units created after the others, whose codes sort before theirs (开平 before 路北, an
    outlet 00 before 01) and whose ids reach two digits (``/1/2/10/`` < ``/1/2/3/``)."""
    kaiping = make_unit("subbranch", "TS-KP", "开平支行", parent=org["TS"], area_type=None)
    outlet = make_unit("outlet", "TS-KP-01", "开平网点1", parent=kaiping, latitude=39.6,
                       longitude=118.2)
    zero = make_unit("outlet", "TS-LB-00", "路北网点0", parent=org["TS-LB"], latitude=39.6,
                     longitude=118.2)
    assert zero.id >= 10
    return {unit.code: unit for unit in (kaiping, outlet, zero)} | org


def test_org_list_reads_as_the_tree_by_code(runner, late_units):
    """Does ``flask org list`` print the tree with siblings by code, not by database id?"""
    listing = runner.invoke(args=["org", "list"]).output
    assert [line.split()[0] for line in listing.splitlines()] == TREE, listing


def test_unit_choices_on_pages_read_as_the_tree(client, late_units, make_user, login):
    """Are the 机构 choices of 人员管理 (the list and a person's page) and the scopes of 检查计划
    in tree order by code?"""
    ids = {unit.id: code for code, unit in late_units.items()}
    make_user("admin", (Role.admin, "TS"))
    manager = make_user("fwgl", (Role.service_manager, "TS"))
    login("admin")
    for page in ("/manage/people", f"/manage/people/{manager.id}"):
        html = client.get(page).get_data(as_text=True)
        select = html.split('name="org_unit_id"', 1)[1].split("</select>", 1)[0]
        assert [ids[int(i)] for i in re.findall(r'<option value="(\d+)"', select)] == TREE
    login("fwgl")
    html = client.get("/manage/campaigns").get_data(as_text=True)
    select = html.split('name="scope_unit_id"', 1)[1].split("</select>", 1)[0]
    assert [ids[int(i)] for i in re.findall(r'<option value="(\d+)"', select)] == [
        code for code in TREE if code.count("-") < 2]


def test_the_api_lists_units_as_the_tree_page_by_page(client, late_units, make_user, token_for):
    """Does ``GET /api/v1/org-units`` list units in tree order by code, as the pages and the
    CLI do — also across pages, filtered by kind, and for a sub-branch manager's scope — and
    does its OpenAPI description say so?"""
    make_user("admin", (Role.admin, "TS"))
    headers = token_for("admin")

    def codes(query: str, who: dict = headers) -> list[str]:
        response = client.get(f"/api/v1/org-units?{query}", headers=who)
        assert response.status_code == 200, response.get_json()
        return [unit["code"] for unit in response.get_json()["items"]]

    assert codes("") == TREE
    assert codes("per_page=4") + codes("per_page=4&page=2") + codes("per_page=4&page=3") == TREE
    assert codes("kind=outlet") == [code for code in TREE if code.count("-") == 2]
    make_user("zh.lubei", (Role.subbranch_manager, "TS-LB"))
    assert codes("", token_for("zh.lubei")) == ["TS-LB", "TS-LB-00", "TS-LB-01", "TS-LB-02"]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "siblings by code" in spec["paths"]["/api/v1/org-units"]["get"]["description"]
