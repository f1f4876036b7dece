"""What a version changes against the one it came from, for a service manager about to publish.

Pure: two checklist documents (:meth:`Checklist.to_document`) in, a :class:`Changes` out. Items and
sections are matched by code whatever its case; an item whose code is kept but whose fields differ
is *changed*, field by field (its code's case among them: answers are keyed by the exact code).
The items or the sections in another order are a change too (the form, the PDF and the
spreadsheet show them in order), said once for each, not item by item. Given both versions'
scoring rules (``Checklist.scoring_rules``), rule changes are listed too: grade bands by key,
the red-line rule, mode weights and the rules' version.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .validation import MODES

#: The item fields compared, in the order the spreadsheet has them.
ITEM_FIELDS = ("code", "section", "text", "guidance", "weight", "response_type", "config",
               "photo_rule", "red_line", "modes", "severity", "deadline_days")


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ItemChange:
    code: str
    text: str
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class RuleChange:
    """One scoring rule that differs: ``kind`` is ``grade_band``, ``red_line``, ``mode_weight``
    or ``version``; ``key`` the band's or mode's key (None for the others); ``old``/``new`` the
    band (``{"key", "label", "min"}``), rule (``{"mode", "cap"}``), weight or version — None
    for a band added or removed."""

    kind: str
    key: str | None
    old: Any
    new: Any


@dataclass(frozen=True)
class Changes:
    name: FieldChange | None = None
    description: FieldChange | None = None
    sections_added: tuple[dict[str, Any], ...] = ()
    sections_removed: tuple[dict[str, Any], ...] = ()
    sections_changed: tuple[ItemChange, ...] = ()
    items_added: tuple[dict[str, Any], ...] = ()
    items_removed: tuple[dict[str, Any], ...] = ()
    items_changed: tuple[ItemChange, ...] = field(default=())
    rules: tuple[RuleChange, ...] = ()
    #: Whether the sections (the items) both versions have come in another order.
    sections_reordered: bool = False
    items_reordered: bool = False

    @property
    def empty(self) -> bool:
        return not (self.name or self.description or self.sections_added
                    or self.sections_removed or self.sections_changed or self.items_added
                    or self.items_removed or self.items_changed or self.rules
                    or self.sections_reordered or self.items_reordered)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, (int, float)) and isinstance(new, (int, float)) \
            and not isinstance(old, bool) and not isinstance(new, bool):
        return float(old) == float(new)
    return old == new


def _by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["code"].upper(): row for row in rows}


def _changed(old_rows: list[dict[str, Any]], new_rows: list[dict[str, Any]],
             fields: tuple[str, ...], label: str) -> tuple[tuple, tuple, tuple[ItemChange, ...]]:
    old, new = _by_code(old_rows), _by_code(new_rows)
    added = tuple(row for code, row in new.items() if code not in old)
    removed = tuple(row for code, row in old.items() if code not in new)
    changed = []
    for code, row in new.items():
        if code in old:
            before = old[code]
            diffs = tuple(FieldChange(name, before.get(name), row.get(name)) for name in fields
                          if not _same(before.get(name), row.get(name)))
            if diffs:
                changed.append(ItemChange(row["code"], row.get(label, ""), diffs))
    return added, removed, tuple(changed)


def _reordered(old_rows: list[dict[str, Any]], new_rows: list[dict[str, Any]]) -> bool:
    """Whether the rows kept (by code) come in another order; rows added or removed alone
    leave the others' order as it was."""
    old, new = _by_code(old_rows), _by_code(new_rows)
    return [code for code in old if code in new] != [code for code in new if code in old]


def _red_line(rules: dict[str, Any]) -> dict[str, Any]:
    rule = rules.get("red_line") or {}
    mode = rule.get("mode", "cap")
    return {"mode": mode, "cap": rule.get("cap") if mode == "cap" else None}


def _mode_order(mode: str) -> tuple[int, str]:
    # the modes' own order, whatever order a JSON column gives the keys back in
    return (MODES.index(mode) if mode in MODES else len(MODES), mode)


def compare_rules(old: dict[str, Any], new: dict[str, Any]) -> tuple[RuleChange, ...]:
    """What ``new`` changes against ``old`` (both scoring-rule dicts, as stored with a version):
    grade bands (highest first, then any removed), the red-line rule, mode weights, version."""
    changes: list[RuleChange] = []
    old_bands = {b["key"]: b for b in old.get("grade_bands") or []}
    new_bands = {b["key"]: b for b in new.get("grade_bands") or []}
    for key, band in sorted(new_bands.items(), key=lambda pair: -float(pair[1]["min"])):
        before = old_bands.get(key)
        if before is None or before.get("label") != band.get("label") \
                or not _same(before.get("min"), band.get("min")):
            changes.append(RuleChange("grade_band", key, before, band))
    changes += [RuleChange("grade_band", key, band, None) for key, band in old_bands.items()
                if key not in new_bands]
    before, after = _red_line(old), _red_line(new)
    if before["mode"] != after["mode"] or not _same(before["cap"], after["cap"]):
        changes.append(RuleChange("red_line", None, before, after))
    old_weights, new_weights = old.get("mode_weights") or {}, new.get("mode_weights") or {}
    for mode in sorted({*new_weights, *old_weights}, key=_mode_order):
        if not _same(old_weights.get(mode), new_weights.get(mode)):
            changes.append(RuleChange("mode_weight", mode, old_weights.get(mode),
                                      new_weights.get(mode)))
    if old.get("version") != new.get("version"):
        changes.append(RuleChange("version", None, old.get("version"), new.get("version")))
    return tuple(changes)


def compare(old: dict[str, Any], new: dict[str, Any], *, old_rules: dict[str, Any] | None = None,
            new_rules: dict[str, Any] | None = None) -> Changes:
    """What ``new`` changes against ``old`` (both checklist documents), and — given both
    versions' scoring rules — what their rules change."""
    s_added, s_removed, s_changed = _changed(old.get("sections") or [],
                                             new.get("sections") or [],
                                             ("code", "name", "weight"), "name")
    i_added, i_removed, i_changed = _changed(old["items"], new["items"], ITEM_FIELDS, "text")
    return Changes(
        name=None if old["name"] == new["name"] else FieldChange("name", old["name"],
                                                                  new["name"]),
        description=None if (old.get("description") or "") == (new.get("description") or "")
        else FieldChange("description", old.get("description"), new.get("description")),
        sections_added=s_added, sections_removed=s_removed, sections_changed=s_changed,
        items_added=i_added, items_removed=i_removed, items_changed=i_changed,
        sections_reordered=_reordered(old.get("sections") or [], new.get("sections") or []),
        items_reordered=_reordered(old["items"], new["items"]),
        rules=(compare_rules(old_rules, new_rules)
               if old_rules is not None and new_rules is not None else ()))
