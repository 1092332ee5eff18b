"""Money and percent fields: numbers typed as text, read exactly, shown with their sign.

Money (layout ``{"widget": "money", "currency": "USD"}``, CNY by default; a
nested field names it with ``x-currency``) is stored as a plain JSON number
with at most two decimals: ``1,234.5`` and ``¥1234.50`` both read as
``1234.5``. The text is read as a decimal, so no float ever decides the
cents, and a third decimal is refused rather than rounded away. It is shown as
``¥1,234.50``.

A percent is stored as the number the user typed on the 0–100 scale
(``12.5`` for 12.5 %), not as a fraction: what is typed, stored, exported and
reported is the same figure, drafts and edits need no conversion, and
``minimum``/``maximum`` read as percentages. An expression needing the
fraction divides by 100. It is shown as ``12.5%``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from andon.i18n import N_, Message

DEFAULT_CURRENCY = "CNY"
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
SYMBOLS = {"CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$"}
_NOISE = re.compile(r"[\s,，_¥￥$€£]|HK\$|[A-Z]{3}")
MONEY_ERROR = N_("Enter an amount with at most two decimals, such as 1234.50.")
PERCENT_ERROR = N_("Enter a percentage, such as 12.5.")


def currency(schema: Mapping[str, Any], layout: Mapping[str, Any]) -> str:
    """Return the currency code of a money field: the layout's, x-currency, else CNY."""
    code = layout.get("currency") or schema.get("x-currency")
    return code if isinstance(code, str) and CURRENCY_RE.match(code) else DEFAULT_CURRENCY


def symbol(code: str) -> str:
    """Return the sign written before an amount in ``code`` (the code itself if unknown)."""
    return SYMBOLS.get(code, f"{code} ")


def _decimal(text: str, message: str) -> Decimal:
    """Return ``text`` as a finite decimal; raise ValueError carrying ``message`` if it is not."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(Message(message)) from None
    if not number.is_finite():
        raise ValueError(Message(message))
    return number


def _plain(number: Decimal) -> int | float:
    """Return a decimal as a JSON number: an int when it is whole."""
    return int(number) if number == number.to_integral_value() else float(number)


def read_money(text: str, schema: Mapping[str, Any]) -> int | float:
    """Return a typed amount as a number with at most two decimals; raise ValueError if not."""
    number = _decimal(_NOISE.sub("", text.strip()), MONEY_ERROR)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(Message(MONEY_ERROR))
    return _plain(number)


def read_percent(text: str, schema: Mapping[str, Any]) -> int | float:
    """Return a typed percentage (``12.5`` or ``12.5%``) as the number on the 0–100 scale."""
    return _plain(_decimal(text.strip().rstrip("%％").strip(), PERCENT_ERROR))


def show_money(value: Any, schema: Mapping[str, Any], layout: Mapping[str, Any],
               locale: str) -> str:
    """Return an amount as ``¥1,234.50`` (other values unchanged, as text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol(currency(schema, layout))}{abs(amount):,.2f}"


def show_percent(value: Any, schema: Mapping[str, Any], layout: Mapping[str, Any],
                 locale: str) -> str:
    """Return a percentage as ``12.5%`` (other values unchanged, as text)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    number = Decimal(str(value)).normalize()
    return f"{number:f}%"
