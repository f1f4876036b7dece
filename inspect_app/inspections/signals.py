"""Signals the inspections domain sends, so other domains react without being called by name.

Receivers run inside the sender's transaction (they flush, never commit): what they write is
committed, or rolled back, together with the inspection change that caused it.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent after a submission's answers, score and findings are flushed.
#: ``sender``: the :class:`~inspect_app.inspections.models.Inspection`; ``by``: the user.
inspection_submitted = _signals.signal("inspection-submitted")

#: Sent before a returned inspection's findings are deleted to make way for its corrected
#: submission. ``sender``: the inspection; ``findings``: the findings about to go.
findings_replaced = _signals.signal("findings-replaced")

#: Sent after an appeal overturned a finding. ``sender``: the finding; ``appeal``, ``by``.
finding_overturned = _signals.signal("finding-overturned")

#: Sent after a reviewer finalised an inspection. ``sender``: the inspection; ``by``: the user.
inspection_finalised = _signals.signal("inspection-finalised")
