"""The time Andon reads: the real clock, or a fixed one in tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_fixed: datetime | None = None
_offset = timedelta(0)


def now() -> datetime:
    """Return the current time, aware, in UTC."""
    return _fixed if _fixed is not None else datetime.now(UTC) + _offset


def move(offset: timedelta) -> None:
    """Run the whole process ahead of (or behind) the real time, for demos and tests."""
    global _offset
    _offset = offset


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Make now() return a fixed time inside the block (for tests; not thread-safe)."""
    global _fixed
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    previous, _fixed = _fixed, at.astimezone(UTC)
    try:
        yield
    finally:
        _fixed = previous
