"""What every form posted by one of the product's own pages has in common.

The API validates JSON through its schemas; a page posts ``application/x-www-form-urlencoded``
fields, where nothing is ever "missing": an untouched field arrives as ``""`` and a person's
stray space is part of the value. :class:`PageForm` turns such a post into what its schema
means, so ``required`` and ``load_default`` work on pages as they do in the API.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import marshmallow as ma
from flask_babel import gettext

from .errors import DomainError
from .extensions import db
from .i18n import N_, say, translated

T = TypeVar("T")
R = TypeVar("R")


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


Labels = Mapping[str, str] | Callable[[str], str]


def refusals(messages: dict[str, Any], names: Labels) -> list[str]:
    """A schema's refusals as lines for the page: each field's label (``names`` maps field
    names to catalogue ids, ``NP_`` ones looked up in their context, or says a field's label
    itself), then what is wrong, in the page's language."""
    def label(name: str) -> str:
        return names(name) if callable(names) else translated(names.get(name, name))
    return [gettext("%(label)s：", label=label(name)) + " ".join(_flat(found))
            for name, found in sorted(messages.items())]


#: What a page says above a form its schema refused.
NOT_SAVED = N_("未保存：请检查以下内容")


@dataclass(frozen=True)
class Refused:
    """Why a page's post was not carried out, for the page shown again with what was typed:
    a line above the form, the problems one per line, and the answer's status."""

    error: str | None
    problems: list[str] = field(default_factory=list)
    status: int = 422

    @property
    def shown(self) -> dict[str, Any]:
        """As the pages' render functions take it."""
        return {"error": self.error, "problems": self.problems, "status": self.status}


def carry_out(read: Callable[[], T], run: Callable[[T], R], names: Labels, *,
              invalid: str | None = NOT_SAVED) -> R | Refused:
    """A page's post, as every page takes one: ``read()`` the form, ``run`` the operation on
    what it read and commit. The schema's refusals come back as :class:`Refused` (422, each
    field named by ``names``, under ``invalid``), a refused operation (or a refusal ``read``
    raises before the form, such as a permission) rolled back and said with its status."""
    try:
        result = run(read())
        db.session.commit()
    except ma.ValidationError as exc:
        db.session.rollback()
        return Refused(gettext(invalid) if invalid else None, refusals(exc.messages, names))
    except DomainError as exc:
        db.session.rollback()
        details = [say(d) for d in exc.details] if isinstance(exc.details, list) else []
        return Refused(say(exc.message), details, exc.status)
    return result


def _flat(messages) -> list[str]:
    """A field's messages as text: a list, a dict (a list's items) or one lazy message."""
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    if isinstance(messages, (list, tuple)):
        return [m for value in messages for m in _flat(value)]
    return [say(messages) if isinstance(messages, str) else str(messages)]
