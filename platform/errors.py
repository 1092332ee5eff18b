"""Exceptions the domain raises; the web layer maps them to pages and codes."""

from __future__ import annotations

from typing import Any

from andon.i18n import N_, Message


class AndonError(Exception):
    """A domain error with a translatable message."""

    def __init__(self, msgid: str, **params: Any) -> None:
        self.message = Message(msgid, params)
        super().__init__(self.message.render())


class NotFound(AndonError):
    """The thing asked for does not exist."""


class Forbidden(AndonError):
    """The user may not do this."""


class Conflict(AndonError):
    """Someone else changed the thing first."""


class InvalidDefinition(AndonError):
    """A form, flow or report definition is not acceptable.

    ``problems`` lists ``(location, message)`` pairs, where location names the
    file and the element id, JSON path or line.
    """

    def __init__(self, msgid: str, problems: list[tuple[str, str]] | None = None,
                 **params: Any) -> None:
        self.problems = problems or []
        super().__init__(msgid, **params)

    def __str__(self) -> str:
        lines = [self.message.render()]
        lines += [f"  {where}: {what}" for where, what in self.problems]
        return "\n".join(lines)


class InvalidSubmission(AndonError):
    """Submitted form data failed validation; ``errors`` maps field to Message."""

    def __init__(self, errors: dict[str, Any], values: Any) -> None:
        self.errors = errors
        self.values = values
        super().__init__(N_("Please correct the fields marked below."))


class Undelivered(AndonError):
    """Something could not be sent or done now; ``temporary`` says whether trying later may help.

    The worker retries a temporary failure with backoff and shows a lasting one.
    """

    def __init__(self, msgid: str, *, temporary: bool = False, **params: Any) -> None:
        super().__init__(msgid, **params)
        self.temporary = temporary


class StaleInstance(Conflict):
    """Someone changed the same flow instance at the same time."""
