"""What a version changes against the one it came from, for a service manager about to publish.

Pure: two checklist documents (:meth:`Checklist.to_document`) in, a :class:`Changes` out. Items and
sections are matched by code; an item whose code is kept but whose fields differ is *changed*,
field by field. Order alone is not a change worth reviewing and is left out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The item fields compared, in the order the spreadsheet has them.
ITEM_FIELDS = ("section", "text", "guidance", "weight", "response_type", "config", "photo_rule",
               "red_line", "modes", "severity", "deadline_days")


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
class Changes:
    name: FieldChange | None = None
    description: FieldChange | None = None
    sections_added: tuple[dict[str, Any], ...] = ()
    sections_removed: tuple[dict[str, Any], ...] = ()
    sections_changed: tuple[ItemChange, ...] = ()
    items_added: tuple[dict[str, Any], ...] = ()
    items_removed: tuple[dict[str, Any], ...] = ()
    items_changed: tuple[ItemChange, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.name or self.description or self.sections_added
                    or self.sections_removed or self.sections_changed or self.items_added
                    or self.items_removed or self.items_changed)


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


def compare(old: dict[str, Any], new: dict[str, Any]) -> Changes:
    """What ``new`` changes against ``old`` (both checklist documents)."""
    s_added, s_removed, s_changed = _changed(old.get("sections") or [],
                                             new.get("sections") or [], ("name", "weight"),
                                             "name")
    i_added, i_removed, i_changed = _changed(old["items"], new["items"], ITEM_FIELDS, "text")
    return Changes(
        name=None if old["name"] == new["name"] else FieldChange("name", old["name"],
                                                                  new["name"]),
        description=None if (old.get("description") or "") == (new.get("description") or "")
        else FieldChange("description", old.get("description"), new.get("description")),
        sections_added=s_added, sections_removed=s_removed, sections_changed=s_changed,
        items_added=i_added, items_removed=i_removed, items_changed=i_changed)
