"""A result says how its score was made: section subtotals, and the score before a red-line
cap, in the API and on the inspection report (PDF)."""
from __future__ import annotations

import io
import re

from pypdf import PdfReader

from inspect_app.extensions import db
from inspect_app.inspections.models import Inspection

from ..helpers import filler_of, submit_filled


def red_line_spot_check(client, api, first) -> Inspection:
    """A spot check passing everything but the red-line item NORM-12 (capped at 59)."""
    spot = first("spot_check")
    response = submit_filled(client, api(filler_of(spot)), spot.id, fail=("NORM-12",))
    assert response.status_code == 200, response.get_json()
    return db.session.get(Inspection, spot.id)


def test_the_api_gives_the_score_before_the_red_line_cap(client, api, first):
    """Does a capped result carry the red-line outcome (cap, and the total before and after)
    next to its section subtotals?"""
    spot = red_line_spot_check(client, api, first)
    score = client.get(f"/api/v1/inspections/{spot.id}", headers=api("fwgl")).get_json()["score"]
    applied = score["red_line_applied"]
    assert (applied["mode"], applied["cap"], applied["total_after"]) == ("cap", 59, 59.0)
    assert applied["total_before"] > 90  # one item of many failed
    assert score["sections"][0]["section"] == "ENV" and score["sections"][0]["percent"] == 100


def test_an_uncapped_result_has_nothing_before_the_cap(client, api, first):
    """Without a red-line failure, is there no red-line outcome to show?"""
    spot = first("spot_check")
    assert submit_filled(client, api(filler_of(spot)), spot.id).status_code == 200
    score = client.get(f"/api/v1/inspections/{spot.id}", headers=api("fwgl")).get_json()["score"]
    assert score["red_line_applied"] is None


def test_the_inspection_report_prints_the_score_before_the_cap(client, api, first):
    """Does the PDF report say "原始得分 …，触发红线封顶 59" beside the capped total?"""
    spot = red_line_spot_check(client, api, first)
    before = spot.current_score.detail["red_line_applied"]["total_before"]
    response = client.get(f"/api/v1/inspections/{spot.id}/report.pdf", headers=api("fwgl"))
    assert response.status_code == 200
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(
        io.BytesIO(response.data)).pages))
    assert f"原始得分{before:.2f}，触发红线封顶59" in text
    assert "59" in text and "不合格" in text
