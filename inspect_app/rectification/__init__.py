"""Rectification (整改): items created from findings, the outlet's fix, its review, re-inspection,
and the rectification lists (整改清单) as PDFs.

The inspections domain never calls this package: it sends signals, received here (the way
indico's modules connect to its core signals). Receivers run in the sender's transaction.
"""
from __future__ import annotations

from ..inspections import signals


@signals.inspection_submitted.connect
def _on_submitted(inspection, by=None, **_):
    from .operations import close_for_closed_unit, create_rectification_items

    create_rectification_items(inspection, by=by)
    if not inspection.outlet.is_active:
        # a correction of a visit made before its outlet closed (the one result a closed
        # outlet still takes): its findings count, but nothing is left open to fix
        close_for_closed_unit(inspection.outlet, by=by)


@signals.findings_replaced.connect
def _on_findings_replaced(inspection, findings=(), **_):
    from .operations import detach_findings

    detach_findings(inspection, list(findings))


@signals.finding_overturned.connect
def _on_finding_overturned(finding, appeal=None, by=None, **_):
    from .operations import withdraw_overturned

    withdraw_overturned(finding, by=by,
                        note=f"申诉成立（申诉 #{appeal.id}）" if appeal is not None else None)
