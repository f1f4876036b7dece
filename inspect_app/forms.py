"""What every form posted by one of the product's own pages has in common.

The API validates JSON through its schemas; a page posts ``application/x-www-form-urlencoded``
fields, where nothing is ever "missing": an untouched field arrives as ``""`` and a person's
stray space is part of the value. :class:`PageForm` turns such a post into what its schema
means, so ``required`` and ``load_default`` work on pages as they do in the API.
"""
from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma


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
