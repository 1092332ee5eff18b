"""Records in and out of spreadsheets: read an .xlsx safely, map its columns, check its rows.

Reading is defensive: only .xlsx (a macro workbook, .xlsm, is refused), a cap on
the file's bytes, on what its zip unpacks to and on its rows; openpyxl opens it
read-only, with cached values instead of formulas and without following
external links. Each row is turned into the strings a form submission would
hold (typed cells first: a date cell in a date field, a number in a number
field) and then read and validated by the same ``validate_submission`` the
record pages use, with the validator compiled once per schema.

Writing sheets (exports, the invalid rows) is ``andon.forms.exports``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO, Any
from zoneinfo import ZoneInfo

from andon.errors import AndonError
from andon.forms.coercion import local_datetime, number_text, option_text, zone_of
from andon.forms.fields import options, supported
from andon.forms.schema import FormSpec, option_values
from andon.forms.validation import validate_submission
from andon.i18n import LOCALES, N_, Message, normalize_locale

MAX_BYTES = 10 * 1024 * 1024
MAX_UNPACKED = 200 * 1024 * 1024
MAX_ROWS = 10_000
MAX_COLUMNS = 500
SCALAR_KINDS = frozenset({"string", "number", "integer", "enum", "boolean"})
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "on", "是", "对", "√"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "off", "否", "不", "×"})
XLSX_MAGIC = b"PK\x03\x04"
BOOLEAN_ERROR = N_("Choose yes or no.")

Cell = str | int | float | bool | date | datetime | time | None
ErrorText = Callable[[str, Message], str]


class SheetRefused(AndonError):
    """A spreadsheet was not read: wrong type, too large, too many rows, or damaged."""


@dataclass
class Sheet:
    """The first worksheet of a workbook: its header row and its data rows by sheet row number."""

    headers: list[str]
    rows: list[tuple[int, list[Cell]]]


@dataclass
class RowResult:
    """One data row: its sheet row number, its cells, the typed data and the errors by field."""

    number: int
    cells: list[Cell]
    data: dict[str, Any]
    errors: dict[str, Message] = field(default_factory=dict)


@dataclass
class Report:
    """What an import would do: the valid rows and the invalid ones with their errors."""

    valid: list[RowResult]
    invalid: list[RowResult]
    unmapped_required: list[str]


def read_sheet(stream: IO[bytes], filename: str, max_rows: int = MAX_ROWS,
               max_bytes: int = MAX_BYTES) -> Sheet:
    """Read the first worksheet of an uploaded .xlsx, or raise SheetRefused saying why."""
    content = _checked_bytes(stream, filename, max_bytes)
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True,
                             keep_links=False, keep_vba=False)
    except Exception:  # openpyxl raises many kinds on damaged files
        raise SheetRefused(N_("“%(file)s” could not be read as an Excel workbook."),
                           file=filename) from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # trust the cells, not the size the file claims
        return _rows_of(sheet, filename, max_rows)
    finally:
        book.close()


def _checked_bytes(stream: IO[bytes], filename: str, max_bytes: int) -> bytes:
    """Return the upload's bytes if it is an .xlsx within the limits; raise SheetRefused if not."""
    lowered = filename.lower()
    if lowered.endswith(".xlsm"):
        raise SheetRefused(N_("“%(file)s” is a workbook with macros (.xlsm), which is not "
                              "accepted. Save it as .xlsx without macros."), file=filename)
    if not lowered.endswith(".xlsx"):
        raise SheetRefused(N_("“%(file)s” is not an .xlsx workbook. Save it from Excel as "
                              "“Excel Workbook (.xlsx)”."), file=filename)
    content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise SheetRefused(N_("“%(file)s” is larger than the limit of %(limit)s MB."),
                           file=filename, limit=max_bytes // (1024 * 1024))
    if not content.startswith(XLSX_MAGIC):
        raise SheetRefused(N_("“%(file)s” could not be read as an Excel workbook."),
                           file=filename)
    _check_archive(content, filename)
    return content


def _check_archive(content: bytes, filename: str) -> None:
    """Refuse a workbook with macros inside or one that unpacks to more than the cap."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        raise SheetRefused(N_("“%(file)s” could not be read as an Excel workbook."),
                           file=filename) from None
    if any(entry.filename.lower().endswith("vbaproject.bin") for entry in entries):
        raise SheetRefused(N_("“%(file)s” is a workbook with macros (.xlsm), which is not "
                              "accepted. Save it as .xlsx without macros."), file=filename)
    if sum(entry.file_size for entry in entries) > MAX_UNPACKED:
        raise SheetRefused(N_("“%(file)s” is larger than the limit of %(limit)s MB."),
                           file=filename, limit=MAX_UNPACKED // (1024 * 1024))


def _rows_of(sheet: Any, filename: str, max_rows: int) -> Sheet:
    """Return the header row and the non-empty data rows; raise SheetRefused above max_rows."""
    rows = sheet.iter_rows(values_only=True)
    first = next(rows, None)
    if first is None or all(_blank(cell) for cell in first):
        raise SheetRefused(N_("“%(file)s” has no header row: its first row must name the "
                              "columns."), file=filename)
    first = _trimmed(first)
    if len(first) > MAX_COLUMNS:
        raise SheetRefused(N_("“%(file)s” has more than %(limit)s columns."), file=filename,
                           limit=MAX_COLUMNS)
    headers = [_header(cell, index) for index, cell in enumerate(first)]
    found: list[tuple[int, list[Cell]]] = []
    for number, values in enumerate(rows, start=2):
        cells = [_cell(value) for value in values[:len(headers)]]
        if all(_blank(cell) for cell in cells):
            continue
        if len(found) == max_rows:
            raise SheetRefused(N_("“%(file)s” has more than %(limit)s rows. Import at most "
                                  "%(limit)s rows at a time: split the sheet into several "
                                  "files."), file=filename, limit=f"{max_rows:,}")
        found.append((number, cells + [None] * (len(headers) - len(cells))))
    return Sheet(headers, found)


def _trimmed(row: Sequence[Any]) -> Sequence[Any]:
    """Return a row without its empty cells at the end."""
    end = len(row)
    while end and _blank(row[end - 1]):
        end -= 1
    return row[:end]


def _header(cell: Any, index: int) -> str:
    """Return a column's header text; an empty header is named by its column letter."""
    if _blank(cell):
        from openpyxl.utils import get_column_letter

        return get_column_letter(index + 1)
    return str(_cell(cell)).strip()


def _cell(value: Any) -> Cell:
    """Return a cell's cached value as a plain Python value; errors like #N/A become text."""
    if value is None or isinstance(value, (str, int, float, bool, date, time)):
        return value
    return str(value)


def _blank(cell: Any) -> bool:
    """Tell whether a cell holds nothing."""
    return cell is None or (isinstance(cell, str) and not cell.strip())


def mappable(spec: FormSpec) -> list[str]:
    """Return the fields a column can be mapped to: the top-level scalar, writable ones."""
    return [name for name, kind, prop in supported(spec)
            if kind in SCALAR_KINDS and not prop.get("readOnly")]


def guess_mapping(spec: FormSpec, headers: Sequence[str]) -> list[str | None]:
    """Return the field of each column: the one whose label (any language) or key it names."""
    names: dict[str, str] = {}
    for name in reversed(mappable(spec)):
        for locale in LOCALES:
            names[spec.label(name, normalize_locale(locale)).strip().casefold()] = name
        names[name.casefold()] = name
    mapping: list[str | None] = []
    for header in headers:
        guess = names.get(header.strip().casefold())
        mapping.append(guess if guess not in mapping else None)
    return mapping


def clean_mapping(spec: FormSpec, mapping: Sequence[str | None]) -> list[str | None]:
    """Return the mapping with unknown fields dropped and each field kept on its first column."""
    allowed, seen = set(mappable(spec)), set()
    result: list[str | None] = []
    for name in mapping:
        keep = name if name in allowed and name not in seen else None
        seen.add(keep)
        result.append(keep)
    return result


def unmapped_required(spec: FormSpec, mapping: Sequence[str | None]) -> list[str]:
    """Return the required fields no column is mapped to, in form order."""
    return [name for name in spec.order() if name in spec.required and name not in mapping]


def check_rows(spec: FormSpec, sheet: Sheet, mapping: Sequence[str | None],
               timezone: str | None = None) -> Report:
    """Read and validate every row as a form submission; nothing is stored."""
    mapping = clean_mapping(spec, mapping)
    converter = _Converter(spec, timezone)
    report = Report([], [], unmapped_required(spec, mapping))
    for number, cells in sheet.rows:
        form, unread = converter.form(mapping, cells)
        data, errors = validate_submission(spec, form, timezone)
        for name in converter.optional_booleans - form.keys():  # no cell: unknown, not "no"
            data.pop(name, None)
        errors.update(unread)
        row = RowResult(number, cells, data, errors)
        (report.invalid if errors else report.valid).append(row)
    return report


class _Converter:
    """Turn one cell into the text a form submission holds for a field."""

    def __init__(self, spec: FormSpec, timezone: str | None) -> None:
        self.zone = zone_of(timezone)
        self.kinds = {name: (kind, prop) for name, kind, prop in supported(spec)}
        self.choices = {name: _choice_texts(spec, name, prop)
                        for name, (kind, prop) in self.kinds.items() if kind == "enum"}
        self.optional_booleans = {name for name, (kind, _) in self.kinds.items()
                                  if kind == "boolean" and name not in spec.required}

    def form(self, mapping: Sequence[str | None], cells: Sequence[Cell]
             ) -> tuple[dict[str, str], dict[str, Message]]:
        """Return a row as a submitted form, and an error per cell that cannot be read."""
        form, unread = {}, {}
        for name, cell in zip(mapping, cells, strict=False):
            if name is None or _blank(cell):
                continue
            try:
                form[name] = self.text(name, cell)
            except ValueError:
                unread[name] = Message(BOOLEAN_ERROR)
        return form, unread

    def text(self, name: str, cell: Cell) -> str:
        """Return a cell as submitted text: typed cells by the field's type, labels as codes."""
        kind, prop = self.kinds[name]
        fmt = prop.get("format")
        if isinstance(cell, bool):
            return "true" if cell else "false"
        if isinstance(cell, datetime):
            return _moment_text(cell, fmt, self.zone)
        if isinstance(cell, date):
            return cell.isoformat()
        if isinstance(cell, time):
            return cell.strftime("%H:%M:%S" if cell.second else "%H:%M")
        if isinstance(cell, (int, float)):
            return number_text(cell) or ""
        text = str(cell).strip()
        if kind == "enum":
            return self.choices[name].get(text.casefold(), text)
        if kind == "boolean":
            return _boolean_text(text)
        return text


def _moment_text(cell: datetime, fmt: Any, zone: ZoneInfo) -> str:
    """Return a date cell as a date for date fields, else a date-time in the reader's zone."""
    if fmt == "date" or (fmt != "date-time" and cell.time() == time(0)):
        return cell.date().isoformat()
    if fmt == "time":
        return cell.strftime("%H:%M")
    return local_datetime(cell.isoformat(), zone).isoformat()


def _choice_texts(spec: FormSpec, name: str, prop: Mapping[str, Any]) -> dict[str, str]:
    """Return {label or code, folded: the option's form text} for an enum field."""
    texts: dict[str, str] = {}
    for locale in LOCALES:
        for value, label in options(prop, spec.field_layout(name), normalize_locale(locale)):
            texts.setdefault(label.strip().casefold(), value)
    texts.update({option_text(v).casefold(): option_text(v) for v in option_values(prop)})
    return texts


def _boolean_text(text: str) -> str:
    """Return a yes/no cell as a checkbox's text; anything else stays to be refused."""
    folded = text.casefold()
    if folded in TRUE_WORDS:
        return "true"
    if folded in FALSE_WORDS:
        return "false"
    raise ValueError(text)  # coercion would read an unknown word as "no": refuse it instead


def error_text(spec: FormSpec, errors: Mapping[str, Message], locale: str,
               translate: Callable[[Message], str]) -> str:
    """Return a row's errors as one line in form order, each named by its field's label."""
    order = {name: index for index, name in enumerate(spec.order())}
    names = sorted(errors, key=lambda name: order.get(name, len(order)))
    return "; ".join(f"{spec.label(name, locale)}: {translate(errors[name])}" for name in names)
