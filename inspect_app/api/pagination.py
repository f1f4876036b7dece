"""Page-numbered listing: API collections (``?page=&per_page=`` → ``{items, total, …}``) and the
management pages' pagers (:func:`page_of`)."""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import marshmallow as ma
import sqlalchemy as sa

from ..extensions import db


class PageArgsSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A response schema for one page of ``item_schema`` objects."""
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "total": ma.fields.Integer(required=True),
        "page": ma.fields.Integer(required=True),
        "per_page": ma.fields.Integer(required=True),
    }, name=name)


def paginate(query: sa.Select, args: dict) -> dict:
    """Run ``query`` for the requested page, with the total count of the whole query."""
    page, per_page = args.get("page", 1), args.get("per_page", 50)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return {"items": items, "total": total, "page": page, "per_page": per_page}


class Page(NamedTuple):
    """One page of a listing shown in HTML, with what its pager needs."""

    rows: list[Any]
    total: int
    #: The page shown: the one asked for, kept within 1…pages.
    page: int
    pages: int


def page_of(query: sa.Select, page: int, per_page: int) -> Page:
    """Rows of ``query`` on page ``page`` (clamped: a page past the end, e.g. after a filter or
    a deletion, shows the last one rather than nothing), with the count of all of them."""
    total = db.session.scalar(query.with_only_columns(sa.func.count()).order_by(None))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(rows), total, page, pages)
