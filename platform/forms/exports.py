"""Write records to spreadsheets: list exports to .xlsx and .csv, and an import's invalid rows.

Exports write fields in form order under their labels in the reader's
language, typed: numbers as numbers, dates as dates (date-times in the
reader's time zone), yes/no as booleans in .xlsx and as words in .csv.
Options are written as their labels (what people read); an import accepts an
option's label in either language or its stored code, so an exported sheet
can be imported again. CSV starts with a UTF-8 byte order mark so that Excel
reads Chinese correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from andon.errors import AndonError
from andon.forms.coercion import local_datetime, number_text, zone_of
from andon.forms.excel import RowResult, Sheet
from andon.forms.fields import display, supported
from andon.forms.schema import FormSpec
from andon.i18n import N_

MAX_EXPORT_ROWS = 100_000


class ExportTooLarge(AndonError):
    """A list has more records than one export holds."""


def check_size(count: int) -> None:
    """Raise ExportTooLarge, naming the count and the cap, if a list is too long to export."""
    if count > MAX_EXPORT_ROWS:
        raise ExportTooLarge(N_("This list has %(count)s records; an export holds at most "
                                "%(limit)s. Narrow it with a search or filters."),
                             count=f"{count:,}", limit=f"{MAX_EXPORT_ROWS:,}")

def invalid_workbook(sheet: Sheet, rows: Iterable[RowResult], errors_header: str,
                     describe: Callable[[RowResult], str]) -> bytes:
    """Return an .xlsx of the given rows as they were uploaded, with an errors column added."""
    return write_xlsx([*sheet.headers, errors_header],
                      ([*row.cells, describe(row)] for row in rows))


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """Return a one-sheet .xlsx with a bold header row; dates get a date format."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    bold = Font(bold=True)
    titles = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    for row in rows:
        sheet.append([_written(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _written(sheet: Any, value: Any) -> Any:
    """Return a value for a write-only sheet: dates and date-times with a readable format."""
    if isinstance(value, (date, datetime)):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, datetime) else "yyyy-mm-dd"
        return cell
    return value


def export_row(spec: FormSpec, data: Mapping[str, Any], locale: str, timezone: str | None,
               translate: Callable[[str], str]) -> list[Any]:
    """Return a record's values typed for a sheet: numbers, dates, booleans; options by label."""
    zone = zone_of(timezone)
    shown = display(spec, locale, data, translate)
    row: list[Any] = []
    for (name, kind, prop), (_, text) in zip(supported(spec), shown, strict=True):
        value = data.get(name)
        if value is None:
            row.append(None)
        elif kind in ("number", "integer") and isinstance(value, (int, float)):
            row.append(value)
        elif kind == "boolean" and isinstance(value, bool):
            row.append(value)
        elif kind == "string" and isinstance(value, str):
            row.append(_typed_text(value, prop.get("format"), zone))
        else:
            row.append(text)
    return row


def _typed_text(value: str, fmt: Any, zone: ZoneInfo) -> Any:
    """Return a stored date as a date and a date-time as a local date-time; other text as is."""
    try:
        if fmt == "date":
            return date.fromisoformat(value)
        if fmt == "date-time":
            return local_datetime(value, zone).astimezone(zone).replace(tzinfo=None)
    except ValueError:
        return value
    return value


def headers_of(spec: FormSpec, locale: str) -> list[str]:
    """Return the export's column headers: every field's label in form order."""
    return [spec.label(name, locale) for name, _, _ in supported(spec)]


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]],
              translate: Callable[[str], str]) -> Iterator[str]:
    """Yield CSV text, UTF-8 BOM first so Excel reads Chinese; dates ISO, yes/no as words."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_text(value, translate) for value in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_text(value: Any, translate: Callable[[str], str]) -> str:
    """Return one exported value as CSV text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return translate(N_("Yes") if value else N_("No"))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return number_text(value) or ""
    return str(value)
