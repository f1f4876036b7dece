"""Messages for people, written in Chinese and said again in the reader's language where shown.

Chinese is the source language: a message's catalogue id is its Chinese text, with named
placeholders for what varies (``"行数过多，最多允许 %(max_rows)s 行"``), never an f-string. A
:class:`Message` is that text filled in — a ``str``, so code, logs and tests that compare or join
it see the Chinese as before — that also keeps its id and values, so the place that shows it
(:func:`inspect_app.i18n.localized`) can say it in English instead. This module imports no Flask,
so the pure core (scoring, planning, the watch-list rules) builds its messages with it too.

``scripts/i18n.sh`` extracts the first argument of ``Message(...)`` (as it does ``N_(...)``).
"""
from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any


def N_(message: str) -> str:
    """Mark a message or label for the catalogue where it is defined; it is translated where it
    is shown (``_()`` in templates, :class:`~inspect_app.i18n.Label` in the API, an error's
    message when the error is serialised). Chinese is the source language: the text itself is
    the message id, so code that needs the Chinese (PDFs, spreadsheets) uses it as it is."""
    return message


class InContext(str):
    """A message catalogued under a context (:func:`NP_`): the Chinese text, which remembers
    where it is said, so that :func:`~inspect_app.i18n.translated` says it with
    ``pgettext``."""

    context: str


def NP_(context: str, message: str) -> InContext:
    """:func:`N_` for a message whose translation depends on where it is shown: the catalogue
    holds it under ``context``, apart from the same Chinese text used elsewhere — 登录 on a
    button is "Sign in", in the audit log "Signed in"; 验收通过 on a button "Accept", as an
    item's state "Accepted". The text remembers its context (:class:`InContext`)."""
    text = InContext(message)
    text.context = context
    return text


class Message(str):
    """A Chinese message that remembers its catalogue id (``template``) and values (``params``).

    A value that is itself a :class:`Message`, or an enum with a ``label`` (a state, a mode), is
    said in the reader's language too; any other value (a number, a code, a person's name) is
    shown as it is.
    """

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Message:
        if isinstance(template, Message) and not params:
            return template  # already a message: keep what it knows
        text = template % {k: chinese(v) for k, v in params.items()} if params else template
        message = super().__new__(cls, text)
        message.template, message.params = str(template), params
        return message

    def __reduce__(self):
        return _rebuild, (type(self), self.template, self.params)


def _rebuild(cls: type[Message], template: str, params: dict[str, Any]) -> Message:
    return cls(template, **params)


def chinese(value: Any) -> Any:
    """A message's value as the Chinese text shows it: an enum by its label."""
    return value.label if isinstance(value, Enum) and hasattr(value, "label") else value


def joined(messages: Iterable[str], separator: str = Message("；")) -> Message:
    """Several messages said as one, e.g. every problem found (``"；"`` between them in Chinese,
    ``"; "`` in English)."""
    parts = list(messages)
    if len(parts) == 1 and isinstance(parts[0], Message):
        return parts[0]
    # The template is no catalogue id (it has nothing to translate): only its parts and the
    # separator are said in the reader's language.
    values: dict[str, Any] = {f"part{i}": part for i, part in enumerate(parts)}
    values["separator"] = Message(separator)
    template = "%(separator)s".join(f"%(part{i})s" for i in range(len(parts)))
    return Message(template, **values)
