"""Read JSON definition files with errors that name the file, line and column."""

from __future__ import annotations

import json
from typing import Any

from andon.errors import InvalidDefinition
from andon.i18n import N_

MAX_BYTES = 1024 * 1024


def parse_json(source: str, filename: str) -> Any:
    """Parse JSON text, or raise InvalidDefinition naming where it breaks."""
    if len(source.encode()) > MAX_BYTES:
        raise InvalidDefinition(N_("%(file)s is larger than %(limit)s bytes."),
                                file=filename, limit=MAX_BYTES)
    try:
        return json.loads(source)
    except json.JSONDecodeError as error:
        raise InvalidDefinition(
            N_("%(file)s is not valid JSON."),
            problems=[(f"{filename}: line {error.lineno} column {error.colno}", error.msg)],
            file=filename) from None
