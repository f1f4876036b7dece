"""The one error the scoring engine raises.

The engine is pure (no Flask import), so it cannot raise the app's ``DomainError``; operations that
call it turn a :class:`ScoringError` into ``InvalidInput(exc.message, details=exc.messages)``.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..messages import Message, joined


class ScoringError(ValueError):
    """An item, answer or rule set that cannot be scored; ``messages`` are for users
    (:class:`~inspect_app.messages.Message`, Chinese text said in the reader's language)."""

    code = "invalid_scoring_input"

    def __init__(self, messages: str | Iterable[str]):
        self.messages: list[str] = [messages] if isinstance(messages, str) else list(messages)
        self.message: Message = joined(self.messages)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class UnknownResponseTypeError(ScoringError, KeyError):
    """No response type is registered under the requested name."""

    code = "unknown_response_type"
