"""How the watch-list listens to the rest of the product (it depends on them, not back)."""
from __future__ import annotations

from flask import Flask


def _on_finalised(inspection, by=None, **_) -> None:
    """A finalised inspection re-evaluates its outlet and sub-branch at once."""
    from .operations import evaluate

    evaluate(by=None, unit_ids={inspection.outlet_id, inspection.outlet.parent_id})


def init_app(app: Flask) -> None:
    from ..inspections import campaigns
    from ..inspections.signals import inspection_finalised
    from . import period_scores  # noqa: F401 - its session hook keeps ranking figures current
    from .operations import watch_listed_outlet_ids

    inspection_finalised.connect(_on_finalised)
    campaigns.watch_listed_outlet_ids = watch_listed_outlet_ids
