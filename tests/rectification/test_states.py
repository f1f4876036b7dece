"""The rectification state machine on its own: legal moves, refused moves, derived overdue."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from inspect_app.errors import IllegalTransition
from inspect_app.rectification.models import ClosedReason, RectificationItem, RectificationState

PERSON = SimpleNamespace(id=7)


def item(state: RectificationState = RectificationState.open, **fields) -> RectificationItem:
    return RectificationItem(state=state, deadline=date(2026, 12, 1), rejections=0, **fields)


def test_open_submitted_accepted_closed_is_the_happy_path():
    """Does an item go open → submitted → accepted → closed (accepted)?"""
    it = item()
    it.submit_fix("已整改", PERSON)
    it.accept(PERSON)
    it.close(ClosedReason.accepted)
    assert it.state is RectificationState.closed and it.closed_reason is ClosedReason.accepted


def test_rejection_reopens_and_counts():
    """Does a rejection put the item back to open with its reason and count it?"""
    it = item()
    it.submit_fix("已整改", PERSON)
    it.reject("照片不清晰", PERSON)
    assert it.state is RectificationState.open and it.rejections == 1
    assert it.rejection_reason == "照片不清晰"


@pytest.mark.parametrize("move", ["accept", "reject", "close_accepted"])
def test_an_open_item_cannot_be_decided(move):
    """Is deciding or closing-as-accepted an item nobody fixed refused?"""
    it = item()
    with pytest.raises(IllegalTransition):
        {"accept": lambda: it.accept(PERSON), "reject": lambda: it.reject("x", PERSON),
         "close_accepted": lambda: it.close(ClosedReason.accepted)}[move]()


def test_a_closed_item_cannot_be_submitted_or_closed_again():
    """Are moves out of closed refused (except a failed re-inspection reopening it)?"""
    it = item()
    it.close(ClosedReason.fixed_on_spot)
    with pytest.raises(IllegalTransition):
        it.submit_fix("再次提交", PERSON)
    with pytest.raises(IllegalTransition):
        it.close(ClosedReason.withdrawn)
    it.reopen("复查未通过")
    assert it.state is RectificationState.open and it.closed_reason is None


@pytest.mark.parametrize("reason", [ClosedReason.withdrawn, ClosedReason.corrected])
def test_a_withdrawn_item_is_never_reopened(reason):
    """Does an item withdrawn (an appeal upheld, or the inspector's correction) stay closed?"""
    it = item()
    it.close(reason)
    with pytest.raises(IllegalTransition):
        it.reopen("复查未通过")


def test_overdue_is_derived_from_deadline_and_state():
    """Is only an open item past its deadline overdue — not a submitted or closed one?"""
    today = date(2026, 12, 2)
    assert item().is_overdue(today)
    assert not item().is_overdue(date(2026, 12, 1))
    assert not item(RectificationState.submitted).is_overdue(today)
    assert not item(RectificationState.closed).is_overdue(today)
