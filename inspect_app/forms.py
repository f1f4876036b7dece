"""What every form posted by one of the product's own pages has in common.

The API validates JSON through its schemas; a page posts ``application/x-www-form-urlencoded``
fields, where nothing is ever "missing": an untouched field arrives as ``""`` and a person's
stray space is part of the value. :class:`PageForm` turns such a post into what its schema
means, so ``required`` and ``load_default`` work on pages as they do in the API.
"""
from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma
from flask_babel import gettext

from .i18n import say


class PageForm(ma.Schema):
    """A page's form: fields it does not know are ignored, spaces around a value do not count,
    and an empty field is a field left out. Fields named in :attr:`multiple` (ticked boxes)
    come as a list of every value posted under that name."""

    #: the fields a page posts several times under one name
    multiple: ClassVar[tuple[str, ...]] = ()

    class Meta:
        unknown = ma.EXCLUDE

    @ma.pre_load
    def _from_the_page(self, data, **kwargs) -> dict[str, Any]:
        loaded: dict[str, Any] = {}
        for key in data:
            if key in self.multiple:
                values = data.getlist(key) if hasattr(data, "getlist") else data[key]
                values = [_trimmed(v) for v in ([values] if isinstance(values, str) else values)]
                values = [value for value in values if value not in ("", None)]
                if values:
                    loaded[key] = values
                continue
            value = _trimmed(data[key])
            if value not in ("", None):
                loaded[key] = value
        return loaded


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def refusals(messages: dict[str, Any], names: dict[str, str]) -> list[str]:
    """A schema's refusals as lines for the page: each field's label (``names`` maps field
    names to catalogue ids), then what is wrong, in the page's language."""
    return [gettext("%(label)s：", label=gettext(names.get(name, name))) + " ".join(_flat(found))
            for name, found in sorted(messages.items())]


def _flat(messages) -> list[str]:
    """A field's messages as text: a list, a dict (a list's items) or one lazy message."""
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    if isinstance(messages, (list, tuple)):
        return [m for value in messages for m in _flat(value)]
    return [say(messages) if isinstance(messages, str) else str(messages)]
