"""Measure importing 10,000 rows from an .xlsx and exporting them again, print the figures.

    .venv/bin/python bench/excel.py [--rows 10000] [--database sqlite,postgresql]

Builds a workbook of a 12-field form (text, numbers, dates, options by their
Chinese label, yes/no; every twentieth row has a mistake), then times each
step the import page runs: reading the sheet (openpyxl, read-only), checking
every row (typed cells to submitted text, coercion and the cached validator),
and saving the valid rows (batched inserts of records and their history, one
audit event, one commit). Then it exports every record to .xlsx and .csv the
way the list page does (query, typed values, writing the file).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import scratch_database  # noqa: E402

from andon.database import make_engine, make_session_factory  # noqa: E402
from andon.demo import create_people  # noqa: E402
from andon.forms import excel, exports  # noqa: E402
from andon.forms.filters import list_records  # noqa: E402
from andon.forms.record_imports import check_references, save_rows  # noqa: E402
from andon.forms.records import current_form  # noqa: E402
from andon.forms.store import deploy_form  # noqa: E402
from andon.identity.models import User  # noqa: E402
from andon.migrate import upgrade  # noqa: E402

FORM = """{
  "key": "bench_import", "title": {"en": "Bench import", "zh-CN": "导入基准"},
  "schema": {"type": "object", "required": ["title", "severity"], "properties": {
    "title": {"type": "string", "minLength": 1, "maxLength": 200},
    "project": {"type": "string", "maxLength": 50},
    "severity": {"enum": ["low", "medium", "high"]},
    "category": {"enum": ["system", "mechanism", "people"]},
    "loss": {"type": "number", "minimum": 0},
    "cost": {"type": "number", "minimum": 0, "multipleOf": 0.01},
    "count": {"type": "integer", "minimum": 0},
    "found_on": {"type": "string", "format": "date"},
    "closed_on": {"type": "string", "format": "date"},
    "recurring": {"type": "boolean"},
    "owner_email": {"type": "string", "format": "email"},
    "note": {"type": "string", "maxLength": 2000}}},
  "layout": {"fields": {
    "title": {"label": {"en": "Title", "zh-CN": "标题"}},
    "severity": {"label": {"en": "Severity", "zh-CN": "严重程度"}, "options": {
      "low": {"en": "Low", "zh-CN": "低"}, "medium": {"en": "Medium", "zh-CN": "中"},
      "high": {"en": "High", "zh-CN": "高"}}},
    "loss": {"label": {"en": "Revenue loss", "zh-CN": "收入损失"}}}}
}"""
HEADERS = ["标题", "project", "严重程度", "category", "收入损失", "cost", "count", "found_on",
           "closed_on", "recurring", "owner_email", "note"]


def workbook(rows: int) -> bytes:
    """Return an .xlsx of ``rows`` data rows; every twentieth has a bad number and option."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    start = date(2026, 1, 1)
    for index in range(rows):
        bad = index % 20 == 19
        sheet.append([f"问题 {index}", f"PRJ-{index % 40}", "紧急" if bad else "高低中"[index % 3],
                      ("system", "mechanism", "people")[index % 3],
                      "lots" if bad else index * 1.5, round(index * 0.37, 2), index % 17,
                      start + timedelta(days=index % 300), f"2026-12-{1 + index % 28:02d}",
                      index % 2 == 0, f"owner{index % 50}@example.com",
                      "备注 " * (index % 5)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def timed(name: str, action: Any) -> Any:
    """Run an action, print its time, return its result."""
    began = time.perf_counter()
    result = action()
    print(f"  {name:<36} {(time.perf_counter() - began) * 1000:9.0f} ms")
    return result


def run(url: str, content: bytes) -> None:
    """Import the workbook into a fresh database and export it, printing each step's time."""
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        create_people(session, "bench-password")
        deploy_form(session, FORM, "bench_import.json")
        session.commit()
        user = session.query(User).filter_by(username="engineer1").one()
        spec = current_form(session, "bench_import", user)[1]
        print(f"database: {engine.dialect.name}")
        sheet = timed("read the sheet (parse)",
                      lambda: excel.read_sheet(io.BytesIO(content), "bench.xlsx"))
        mapping = excel.guess_mapping(spec, sheet.headers)
        report = timed("check every row (validate)",
                       lambda: excel.check_rows(spec, sheet, mapping, "Asia/Shanghai"))
        report = timed("check record numbers (none here)",
                       lambda: check_references(session, spec, report, user))
        print(f"  {'':<36} {len(report.valid)} valid, {len(report.invalid)} invalid")

        def insert() -> None:
            save_rows(session, "bench_import", [r.data for r in report.valid], user, "b.xlsx")
            session.commit()

        timed("save the valid rows (insert+commit)", insert)
        records = timed("export: query every record",
                        lambda: list(session.scalars(list_records(spec))))
        rows = timed("export: typed values", lambda: [
            exports.export_row(spec, r.data, "zh-CN", "Asia/Shanghai", str) for r in records])
        headers = exports.headers_of(spec, "zh-CN")
        timed("export: write .xlsx", lambda: exports.write_xlsx(headers, rows))
        timed("export: write .csv", lambda: "".join(exports.write_csv(headers, rows, str)))
    engine.dispose()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database", default="sqlite,postgresql",
                        help="comma separated: sqlite, postgresql")
    args = parser.parse_args()
    content = timed(f"build a workbook of {args.rows:,} rows", lambda: workbook(args.rows))
    print(f"  {'':<36} {len(content) / 1024:.0f} KB")
    for kind in args.database.split(","):
        with scratch_database(kind) as url:
            run(url, content)


if __name__ == "__main__":
    main()
