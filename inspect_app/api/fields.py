"""Input fields shared by the API's and the pages' schemas."""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from ..i18n import N_

#: The dates anyone could mean in this product. Outside them a date is a slip of the keyboard
#: (year 1 or 9999), and the arithmetic on it — a period's end, a ZIP's timestamp, a bind in
#: the bank's time zone — would fail instead of answering.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


#: The largest id a table holds (a 32-bit PostgreSQL ``integer``; the ``int`` route converter
#: keeps the same bound, inspect_app/security.py).
MAX_ID = 2**31 - 1


def _first(bound: validate.Validator, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with ``bound`` checked before the field's own ``validate`` (one or a list)."""
    given = kwargs.pop("validate", None)
    own = [] if given is None else list(given) if isinstance(given, (list, tuple)) else [given]
    return {**kwargs, "validate": [bound, *own]}


class Id(fields.Integer):
    """A record's id given in a query or a body: 1 to :data:`MAX_ID`. A larger one would be
    refused by PostgreSQL ("out of range") and merely not found by SQLite; now both databases
    answer the same 422, and the OpenAPI document states the bounds."""

    def __init__(self, **kwargs):
        super().__init__(**_first(validate.Range(
            min=1, max=MAX_ID, error=N_("编号必须是 1 到 2147483647 之间的整数")), kwargs))


#: The one way a date is written in a request.
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class BankDate(fields.Date):
    """A date written ``YYYY-MM-DD`` between :data:`EARLIEST` and :data:`LATEST` (422
    otherwise). Python would also read ``20261231`` or ``2026-W52``: the OpenAPI document
    promises the one form, so only that one is taken."""

    def __init__(self, **kwargs):
        super().__init__(**_first(validate.Range(
            min=EARLIEST, max=LATEST, error=N_("日期应在 2000-01-01 至 2099-12-31 之间")), kwargs))

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


#: C0 control characters but tab and line breaks, and DEL: never typed, never printable, and
#: they break what carries a name further (a spreadsheet cell).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: What a one-line name may not hold: every control character, line breaks and tabs too (a
#: download's file name goes into a header).
NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def printable(value: str) -> None:
    """Validator: refuse text holding control characters."""
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError(N_("不能包含不可见的控制字符"))


def one_line(value: str) -> None:
    """Validator: refuse line breaks, tabs and control characters."""
    if NOT_ONE_LINE.search(value):
        raise ValidationError(N_("只能是一行文字，不能包含换行或不可见的控制字符"))


class TrimmedText(fields.String):
    """Text whose surrounding spaces do not count (as on the pages' forms, PageForm): the
    validators see it trimmed, and it is stored trimmed. With ``blank_is_missing`` a value of
    spaces alone is refused as the field left out (its ``required`` message), as a page refuses
    an untouched field."""

    def __init__(self, *, blank_is_missing: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.blank_is_missing = blank_is_missing

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if self.blank_is_missing and not text:
            raise self.make_error("required")
        return text


class Name(fields.String):
    """A one-line name (of a unit, a team …): ``1..max_length`` characters, no line breaks or
    control characters."""

    def __init__(self, max_length: int = 100, **kwargs):
        super().__init__(validate=[validate.Length(min=1, max=max_length), one_line], **kwargs)


class Upload(fields.Field):
    """A multipart part that is a file (a text part of the same name is refused, 422)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update({"type": "string", "format": "binary"})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ValidationError(N_("请上传文件"))
        return value


class Moment(fields.DateTime):
    """A moment, ISO 8601 — or only its date (``YYYY-MM-DD``) where the reader may not know a
    mystery shopper: a visit's exact times would tell who it was. Documented as a string of
    either form (``format: date-time`` would promise the time)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault(
            "description", "时刻（ISO 8601）；暗访对看不到神秘人身份的人只给日期（YYYY-MM-DD）")
        super().__init__(*args, **kwargs)


#: Half of a UTF-16 surrogate pair: JSON can spell one (``"\\ud800"``), but no text holding
#: it can be encoded, so neither database nor page could take it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable(value: Any) -> str | None:
    """What no database stores, anywhere in a decoded JSON value (or plain text), keys
    included: ``"nul_character"`` for a NUL character (PostgreSQL refuses it, SQLite would
    keep it), ``"lone_surrogate"`` for half a surrogate pair; None when there is neither.
    Iterative: a deeply nested value cannot exhaust the stack."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "nul_character"
            if LONE_SURROGATE.search(item):
                return "lone_surrogate"
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


#: What :func:`unstorable` finds, said to the user.
UNSTORABLE = {"nul_character": N_("内容不能包含空字符（\\0）"),
              "lone_surrogate": N_("内容包含无效的字符（不成对的代理字符）")}
