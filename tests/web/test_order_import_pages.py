"""Orders imported from Excel start their order-to-cash flow; rows that cannot are refused."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance
from andon.forms.models import Record
from andon.forms.store import deploy_form

ROOT = Path(__file__).resolve().parent.parent.parent
HEADERS = ["Customer", "Order number", "Order date", "Order amount", "Currency", "Status",
           "Delivery owner", "Delivery confirmation owner", "Billing owner",
           "Reconciliation owner", "Invoicing owner", "Invoice acceptance owner",
           "Payment owner"]
OWNERS = ["engineer1", "engineer1", "engineer2", "engineer2", "pm", "pm", "pm"]


def xlsx(*rows) -> bytes:
    """Return an .xlsx holding the rows (the first is the header row)."""
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SHEET = xlsx(HEADERS,
             ["华东电网 East China Grid", "SO-2026-0101", datetime(2026, 3, 2), 128000, "CNY",
              "Open", *OWNERS],
             ["南方电网 China Southern Grid", "SO-2026-0102", "2026-03-03", "¥56,000.50", "CNY",
              "Open", *OWNERS],
             ["Bad amount", "SO-2026-0103", "2026-03-04", "abc", "CNY", "Open", *OWNERS],
             ["Unknown owner", "SO-2026-0104", "2026-03-04", 900, "CNY", "Open", "engineer1",
              "engineer1", "nobody", "engineer2", "pm", "pm", "pm"])


def counts(session) -> tuple[int, int]:
    """Return how many orders and order-to-cash instances exist."""
    session.expire_all()
    orders = session.scalar(select(func.count(Record.id)).where(Record.form_key == "order"))
    flows = session.scalar(select(func.count(FlowInstance.id)))
    return orders, flows


def check(auth, client, content: bytes = SHEET) -> tuple[str, str]:
    """Upload a sheet, keep the guessed mapping; return the mapping URL and the report page."""
    mapping_url = auth.post("/records/order/import",
                            {"sheet": (io.BytesIO(content), "orders.xlsx")},
                            content_type="multipart/form-data").headers["Location"]
    page = client.get(mapping_url).get_data(as_text=True)
    chosen = dict(re.findall(r'name="(column-\d+)">.*?<option value="(\w+)" selected>', page,
                             re.S))
    assert len(chosen) == len(HEADERS)  # every column recognised by its label
    report = auth.post(mapping_url, chosen).headers["Location"]
    return mapping_url, client.get(report).get_data(as_text=True)


def test_the_template_has_every_column_and_an_example_row(client, auth, session):
    auth.login("pm")
    page = client.get("/records/order/import").get_data(as_text=True)
    assert "Each imported record starts the flow “Order to cash”" in page
    download = client.get("/records/order/import/template.xlsx")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    rows = list(load_workbook(io.BytesIO(download.data)).active.iter_rows(values_only=True))
    assert set(HEADERS) <= set(rows[0]) and "SO-2026-0001" in rows[1]


def test_imported_orders_each_start_their_flow_and_bad_rows_are_named(client, auth, session):
    auth.login("pm")
    mapping_url, page = check(auth, client)
    assert "2 valid rows" in page and "2 invalid rows" in page
    errors = re.findall(r"<td>(\d+)</td>\s*<td><ul><li>(.*?):", page)
    assert errors == [("4", "Order amount"), ("5", "Billing owner")]
    assert counts(session) == (0, 0)
    response = auth.post(mapping_url + "/confirm")
    assert response.status_code == 302
    orders = {r.data["order_number"]: r.id
              for r in session.scalars(select(Record).where(Record.form_key == "order"))}
    assert set(orders) == {"SO-2026-0101", "SO-2026-0102"}
    started = list(session.scalars(select(FlowInstance)))
    assert sorted(i.data["order"] for i in started) == sorted(orders.values())
    assert {i.started_by.username for i in started} == {"pm"}
    tasks = [t for i in started for t in i.tasks if t.state == "open"]
    assert {(t.step_id, t.assignee.username) for t in tasks} == {("delivery", "engineer1")}


def test_rows_whose_flow_cannot_start_are_refused_and_nothing_is_imported(
        client, auth, session):
    start = json.loads((ROOT / "definitions" / "forms" / "order_start.json").read_text())
    start["schema"]["required"].append("project")  # the sheet has no project column
    deploy_form(session, json.dumps(start), "order_start.json", None)
    deploy_flow(session, (ROOT / "definitions" / "flows" / "order_to_cash.bpmn").read_bytes(),
                "order_to_cash.bpmn", None, {})
    session.commit()
    auth.login("pm")
    mapping_url, page = check(auth, client)
    assert "0 valid rows" in page and "4 invalid rows" in page
    assert "<td>2</td>" in page and "Project: This field is required." in page
    auth.post(mapping_url + "/confirm")
    assert counts(session) == (0, 0)


def test_an_order_created_on_its_page_starts_its_flow_or_is_not_kept(client, auth, session):
    auth.login("pm")
    form = {"customer": "华东电网 East China Grid", "order_number": "SO-2026-0201",
            "order_date": "2026-03-02", "amount": "128000", "currency": "CNY",
            "status": "open", **dict(zip([f"{s}_owner" for s in (
                "delivery", "confirmation", "billing", "reconciliation", "invoicing",
                "acceptance", "payment")], OWNERS, strict=True))}
    refused = auth.post("/records/order/new", {**form, "billing_owner": "nobody"})
    assert refused.status_code == 422
    assert counts(session) == (0, 0)
    response = auth.post("/records/order/new", form)
    assert response.status_code == 302
    (instance,) = session.scalars(select(FlowInstance))
    assert response.headers["Location"].endswith(f"/records/order/{instance.data['order']}")
    assert instance.title.startswith(f"#{instance.data['order']} 华东电网")
