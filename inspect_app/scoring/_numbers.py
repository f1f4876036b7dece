"""Exact arithmetic for points and percentages.

Points are ``Decimal`` (a weight of 2.5 stays 2.5); intermediate sums and ratios are ``Fraction``
so nothing drifts; every reported figure is rounded once, half up, to two decimal places.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def as_decimal(value: object, *, allow_str: bool = False) -> Decimal | None:
    """Return ``value`` as a finite Decimal, or None if it is not a number (bools are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr() keeps what the user typed: 0.1 becomes Decimal("0.1"), not its binary expansion.
        number = Decimal(repr(value))
    elif isinstance(value, str) and allow_str:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def cents(value: Fraction | Decimal | int) -> Decimal:
    """Round an exact number half up (away from zero) to two decimal places."""
    exact = Fraction(value)
    hundredths = int(abs(exact) * 100 + Fraction(1, 2))
    return Decimal(hundredths if exact >= 0 else -hundredths).scaleb(-2)


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an int when it is whole, else a float."""
    return int(value) if value == value.to_integral_value() else float(value)
