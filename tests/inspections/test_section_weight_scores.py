"""Section weights (分区权重) in real inspections: a checklist whose sections carry weights is
scored by them at submission, and stored scores never shift afterwards."""
from __future__ import annotations

import io
from decimal import Decimal
from fractions import Fraction

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection, InspectionScore, Mode

from ..conftest import this_quarter
from ..helpers import filler_of, submit_filled
from .test_visibility_and_appeals import outlet_manager_of

WEIGHTS = {"ENV": 10, "EFF": 40, "NORM": 20, "WARM": 20, "O2O": 10}


@pytest.fixture
def weighted_spot_check(client, api, demo):
    """A spot check of a published version whose five sections carry the weights above."""
    manager = api("fwgl")
    document = client.get(f"/api/v1/checklists/{demo.id}/export.json", headers=manager).get_json()
    for section in document["sections"]:
        section["weight"] = WEIGHTS[section["code"]]
    draft = client.post(f"/api/v1/checklists/{demo.id}/versions", json=document, headers=manager)
    assert draft.status_code == 201, draft.get_json()
    published = client.post(f"/api/v1/checklists/{draft.get_json()['id']}/publish",
                            headers=manager)
    assert published.status_code == 200, published.get_json()
    start, end = this_quarter()  # a period not yet over, its spot check open today
    body = {"name": "分区权重抽查", "checklist_id": draft.get_json()["id"],
            "period_start": start.isoformat(), "period_end": end.isoformat(),
            "modes": ["spot_check"],
            "seed": 3, "settings": {"spot_check": {"size": 1}}}
    campaign = client.post("/api/v1/campaigns", json=body, headers=manager)
    assert campaign.status_code == 201, campaign.get_json()
    return db.session.scalar(sa.select(Inspection).where(
        Inspection.campaign_id == campaign.get_json()["id"], Inspection.mode == Mode.spot_check))


def _failing(client, api, inspection, sections=("EFF", "EFF", "NORM")) -> list[str]:
    """Codes of plain pass/fail items to fail: two efficiency items and one conduct item."""
    items = client.get(f"/api/v1/inspections/{inspection.id}",
                       headers=api(filler_of(inspection))).get_json()["checklist"]["items"]
    chosen = []
    for section in sections:
        chosen.append(next(i["code"] for i in items if i["section"] == section
                           and i["response_type"] == "pass_fail" and not i["red_line"]
                           and i["code"] not in chosen))
    return chosen


def _expected(detail: dict) -> tuple[Fraction, Fraction]:
    """The weighted total and the points total from the stored section subtotals."""
    sections = [s for s in detail["sections"] if s["possible"]]
    weighted = sum(Fraction(WEIGHTS[s["section"]]) * Fraction(str(s["earned"]))
                   / Fraction(str(s["possible"])) * 100 for s in sections) \
        / sum(WEIGHTS[s["section"]] for s in sections)
    points = Fraction(str(detail["earned"])) / Fraction(str(detail["possible"])) * 100
    return weighted, points


def test_a_submitted_inspection_is_scored_by_its_section_weights(client, api,
                                                                 weighted_spot_check):
    """Failing items in the heavy 效率 section: is the stored total the weighted mean of the
    section percentages (with the weights kept in the score), not the points total?"""
    spot = weighted_spot_check
    fail = _failing(client, api, spot)
    response = submit_filled(client, api(filler_of(spot)), spot.id, fail=tuple(fail))
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    spot = db.session.get(Inspection, spot.id)
    detail = spot.current_score.detail
    weighted, points = _expected(detail)
    assert abs(Fraction(spot.total) - weighted) < Fraction(1, 200)
    assert abs(weighted - points) > 1  # the two ways really differ here
    assert detail["section_weights"] == WEIGHTS
    assert {s["section"]: s["weight"] for s in detail["sections"]} == WEIGHTS
    shown = client.get(f"/api/v1/inspections/{spot.id}", headers=api("fwgl")).get_json()
    assert shown["total"] == float(spot.total)
    assert [s["weight"] for s in shown["score"]["sections"]] == list(WEIGHTS.values())
    report = client.get(f"/api/v1/inspections/{spot.id}/report.pdf", headers=api("fwgl"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(report.data)).pages)
    assert "权重" in text  # the report's section table has the weights column


def test_an_appeal_rescores_the_way_the_submission_was_scored(client, api,
                                                              weighted_spot_check):
    """A score stored before section weights counted (no weights in its detail) is appealed
    after: does the new score version change only by the overturned item, still by points,
    instead of jumping to the weighted method?"""
    spot = weighted_spot_check
    fail = _failing(client, api, spot)
    result = submit_filled(client, api(filler_of(spot)), spot.id, fail=tuple(fail)).get_json()
    score = db.session.scalar(sa.select(InspectionScore).where(
        InspectionScore.inspection_id == spot.id))
    # what a score written by the earlier release looks like: points total, no weights key
    legacy = {k: v for k, v in score.detail.items() if k != "section_weights"}
    legacy["sections"] = [{k: v for k, v in s.items() if k != "weight"}
                          for s in legacy["sections"]]
    points = Fraction(str(legacy["earned"])) / Fraction(str(legacy["possible"])) * 100
    db.session.execute(sa.update(InspectionScore).where(InspectionScore.id == score.id)
                       .values(detail=legacy, total=Decimal(str(round(float(points), 2)))))
    db.session.execute(sa.update(Inspection).where(Inspection.id == spot.id)
                       .values(total=Decimal(str(round(float(points), 2)))))
    db.session.commit()
    finding = next(f for f in result["findings"] if f["item_code"] == fail[0])
    appeal = client.post(f"/api/v1/findings/{finding['id']}/appeals",
                         json={"category": "standard_misapplied", "text": "高峰时已开足窗口"},
                         headers=api(outlet_manager_of(spot)))
    assert appeal.status_code == 201, appeal.get_json()
    decided = client.post(f"/api/v1/appeals/{appeal.get_json()['id']}/decide",
                          json={"decision": "overturned", "note": "复核后确认合格"},
                          headers=api("fwgl2"))
    assert decided.status_code == 200, decided.get_json()
    db.session.expire_all()
    spot = db.session.get(Inspection, spot.id)
    first, second = spot.scores
    assert first.detail == legacy  # the stored score is never recomputed
    expected = Fraction(str(second.detail["earned"])) / Fraction(str(second.detail["possible"]))
    assert abs(Fraction(second.total) - expected * 100) < Fraction(1, 200)
    assert "section_weights" not in second.detail or second.detail["section_weights"] is None


def test_an_appeal_of_a_weighted_score_stays_weighted(client, api, weighted_spot_check):
    """And a score that was weighted at submission: is its appeal re-score weighted too?"""
    spot = weighted_spot_check
    fail = _failing(client, api, spot)
    result = submit_filled(client, api(filler_of(spot)), spot.id, fail=tuple(fail)).get_json()
    finding = next(f for f in result["findings"] if f["item_code"] == fail[0])
    appeal = client.post(f"/api/v1/findings/{finding['id']}/appeals",
                         json={"category": "standard_misapplied", "text": "高峰时已开足窗口"},
                         headers=api(outlet_manager_of(spot))).get_json()
    client.post(f"/api/v1/appeals/{appeal['id']}/decide",
                json={"decision": "overturned", "note": "复核后确认合格"}, headers=api("fwgl2"))
    db.session.expire_all()
    second = db.session.get(Inspection, spot.id).scores[1]
    weighted, _ = _expected(second.detail)
    assert abs(Fraction(second.total) - weighted) < Fraction(1, 200)
    assert second.detail["section_weights"] == WEIGHTS


def test_the_demo_history_scores_weighted_checklists_like_the_engine(client, api, demo,
                                                                     weighted_spot_check):
    """The bulk history writer sums scores itself: does it give a weighted checklist's
    inspections the engine's totals?"""
    from datetime import date

    from inspect_app.demo.history import OutletProfile, generate
    from inspect_app.orgs.models import OrgKind, OrgUnit
    from inspect_app.scoring import ScoringRules, score_inspection

    checklist = weighted_spot_check.checklist
    outlets = db.session.scalars(sa.select(OrgUnit.id).where(OrgUnit.kind == OrgKind.outlet)
                                 .order_by(OrgUnit.id).limit(3)).all()
    start = (db.session.scalar(sa.select(sa.func.max(Inspection.id))) or 0) + 1
    profiles = {outlet: OutletProfile(base=0.6) for outlet in outlets}
    written = generate([(outlet, None) for outlet in outlets], checklist,
                       start=date(2025, 1, 1), months=2, seed=11, profiles=profiles,
                       assignee_id=weighted_spot_check.assignee_id)
    db.session.commit()
    generated = db.session.scalars(sa.select(Inspection).where(Inspection.id >= start)).all()
    assert len(generated) == written > 0
    differs = 0
    for inspection in generated:
        answers = {a.item_code: {"value": a.value, "note": "扣分" if a.failed else None}
                   for a in inspection.answers}
        items = [i.to_document() for i in inspection.form_items()]
        result = score_inspection(items, answers,
                                  ScoringRules.from_dict(checklist.scoring_rules),
                                  section_weights=checklist.section_weights())
        assert result.total == inspection.total, inspection.id
        by_points = score_inspection(items, answers,
                                     ScoringRules.from_dict(checklist.scoring_rules))
        differs += by_points.total != result.total
    assert differs  # the weights mattered for some of them
