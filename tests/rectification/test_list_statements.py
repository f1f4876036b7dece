"""Lists of rectification items cost the same few SQL statements however many rows they show:
what a row reads beyond its own columns (its inspection and inspector, outlet, sub-branch,
responsible person, the appeals on its finding and on its follow-up's) comes with the list."""
from __future__ import annotations

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.inspections.models import Finding, Inspection, Mode
from inspect_app.rectification.models import RectificationItem

from ..helpers import counted_statements, filler_of, submit_filled
from .conftest import failable_codes, items_of, outlet_manager_of, plan_follow_up
from .test_documents import pdf_text, squeezed


def failed_twice(client, api, inspection: Inspection) -> RectificationItem:
    """Fail one item of ``inspection`` (a spot check), then fail it again on a follow-up of
    its own: the item is open, and its follow-up holds a finding. Returns the item."""
    headers = api(filler_of(inspection))
    codes = failable_codes(client, headers, inspection, 1)
    submitted = submit_filled(client, headers, inspection.id, fail=tuple(codes))
    assert submitted.status_code == 200, submitted.get_json()
    item = items_of(inspection)[0]
    follow_up = plan_follow_up(client, api, item)
    result = submit_filled(client, api("jc.fenhang2"), follow_up, fail=tuple(codes))
    assert result.status_code == 200, result.get_json()
    return db.session.get(RectificationItem, item.id)


def statements(client, url: str, headers: dict) -> int:
    """How many SQL statements a GET of ``url`` runs (a warm-up request first: a token's
    first use notes when it was used)."""
    assert client.get(url, headers=headers).status_code == 200
    with counted_statements(db.engine) as run:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return len([s for s in run if not s.startswith(("BEGIN", "COMMIT"))])


def test_lists_of_items_with_follow_ups_cost_the_same_statements_for_2_or_6_rows(
        client, api, campaign):
    """Items of six spot checks, each at its own outlet with its own inspector and
    responsible person, each failed again on a follow-up (one of whose findings the outlet
    appeals): do the API's list and the campaign's PDF list run as many statements for six
    such items as for two — and do the list and the PDF still show the appeal on the follow-up?"""
    spot_checks = db.session.scalars(sa.select(Inspection).where(
        Inspection.campaign_id == campaign["id"], Inspection.mode == Mode.spot_check)
        .order_by(Inspection.id)).all()[:6]
    assert len({i.outlet_id for i in spot_checks}) == 6
    headers = api("fwgl")
    list_url = f"/api/v1/rectification/items?campaign_id={campaign['id']}"
    pdf_url = f"/api/v1/rectification/lists/campaigns/{campaign['id']}.pdf"

    items = [failed_twice(client, api, inspection) for inspection in spot_checks[:2]]
    few = statements(client, list_url, headers), statements(client, pdf_url, headers)
    items += [failed_twice(client, api, inspection) for inspection in spot_checks[2:]]
    appealed = items[-1]
    finding = db.session.scalar(sa.select(Finding.id).where(
        Finding.inspection_id == appealed.reinspection_id))
    appeal = client.post(f"/api/v1/findings/{finding}/appeals",
                         headers=api(outlet_manager_of(appealed.inspection)),
                         json={"category": "facts_wrong", "text": "复查当日已整改到位，请复核"})
    assert appeal.status_code == 201, appeal.get_json()
    many = statements(client, list_url, headers), statements(client, pdf_url, headers)

    listed = client.get(list_url, headers=headers).get_json()
    assert listed["total"] == 6 and len({i["responsible"]["id"] for i in listed["items"]}) == 6
    appeals = {i["id"]: i["appeal"] for i in listed["items"]}
    assert appeals.pop(appealed.id)["status"] == "pending"
    assert set(appeals.values()) == {None}
    assert many == few, f"2 items: {few}, 6 items: {many} (API list, PDF list)"
    # the PDF says what the API says: the appeal on the follow-up's finding
    assert squeezed(pdf_text(client.get(pdf_url, headers=headers))).count("申诉处理中") == 1
