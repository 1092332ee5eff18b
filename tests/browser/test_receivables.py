"""An operator imports orders, a late delivery becomes an exception, dispatched and located."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from .conftest import follow, run_worker_once
from .test_change_approval import login, logout

LATER = {"ANDON_CLOCK_OFFSET": "P10D", "ANDON_DEFAULT_LOCALE": "en"}
HEADERS = ["Customer", "Order number", "Order date", "Order amount", "Currency", "Status",
           "Delivery owner", "Delivery confirmation owner", "Billing owner",
           "Reconciliation owner", "Invoicing owner", "Invoice acceptance owner",
           "Payment owner"]
OWNERS = ["engineer1", "pm", "engineer2", "engineer2", "pm", "pm", "pm"]


def orders_sheet(folder: Path) -> Path:
    """Write the operator's order list: two good orders and one with a bad amount."""
    book = Workbook()
    for row in (HEADERS,
                ["华东电网 East China Grid", "SO-2026-0301", date(2026, 3, 2), 128000, "CNY",
                 "Open", *OWNERS],
                ["南方航空 China Southern", "SO-2026-0302", date(2026, 3, 3), 56000, "CNY",
                 "Open", *OWNERS],
                ["上汽 SAIC", "SO-2026-0303", date(2026, 3, 3), "lots", "CNY", "Open", *OWNERS]):
        book.active.append(row)
    path = folder / "orders.xlsx"
    book.save(path)
    return path


def import_orders(page: Page, sheet: Path, shot) -> None:
    """Import the order list as the project manager; each order starts its flow."""
    follow(page, page.locator("header nav").get_by_role("link", name="Records"))
    follow(page, page.get_by_role("link", name="Customer order"))
    follow(page, page.get_by_role("link", name="Import from Excel"))
    expect(page.locator("#import-starts")).to_contain_text("Order to cash")
    expect(page.locator("#import-template")).to_be_visible()
    page.locator("#import-sheet").set_input_files(sheet)
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page).to_have_url(re.compile(r"/import/[\w-]+$"))
    page.get_by_role("button", name="Check rows").click()
    report = page.locator("#import-result")
    expect(report).to_contain_text("2 valid rows")
    expect(report.locator(".import-errors")).to_contain_text("Order amount")
    shot(page, "orders-import-report")
    page.get_by_role("button", name="Import 2 valid rows").click()
    expect(page.locator(".flash").first).to_contain_text("2 records imported")


@pytest.mark.browser
def test_an_operator_imports_orders_dispatches_and_locates_an_exception(
        page: Page, serve, demo, passwords, shot, tmp_path):
    page.context.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(serve(worker=False))
    login(page, "pm", passwords["pm"])
    import_orders(page, orders_sheet(tmp_path), shot)
    logout(page)

    later = serve(worker=False, **LATER)  # ten days on: both deliveries are late
    run_worker_once(demo, **LATER)  # the escalation raises the exceptions
    run_worker_once(demo, **LATER)  # and records them
    page.goto(later)
    login(page, "engineer1", passwords["engineer1"])
    row = page.locator("table.list tbody tr").filter(has_text="Locate the cause").filter(
        has_text="SO-2026-0301")
    expect(row).to_have_count(1)
    shot(page, "exception-inbox-engineer1")
    follow(page, row.get_by_role("link").first)
    page.get_by_text("Transfer to someone else").click()
    page.locator("#transfer-to").select_option("engineer2")
    page.locator("#transfer-reason").fill("Han Meimei ran this delivery")
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.locator(".flash")).to_have_text("The task was transferred.")
    logout(page)

    login(page, "engineer2", passwords["engineer2"])
    row = page.locator("table.list tbody tr").filter(has_text="Locate the cause").filter(
        has_text="SO-2026-0301")
    follow(page, row.get_by_role("link").first)
    page.locator("#input-cause").select_option("external.mechanism.delivery_signoff_delay")
    page.locator("#input-finding").fill("The customer's site manager was away")
    page.locator("#input-owner").select_option("engineer2")
    shot(page, "exception-classify-engineer2")
    instance = page.locator("main a[href*='/instances/']").first.get_attribute("href")
    page.get_by_role("button", name="Complete").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    page.goto(later.rstrip("/") + instance)
    expect(page.locator("main")).to_contain_text("handed step “Locate the cause” to 韩梅梅")
    shot(page, "exception-timeline")
    logout(page)

    run_worker_once(demo, **LATER)  # records the cause
    login(page, "leader", passwords["leader"])
    page.goto(later + "reports/receivables_overdue_by_cause")
    table = page.locator("main table").last
    shot(page, "report-overdue-by-cause")
    expect(table.locator("tbody tr").first).to_contain_text(
        re.compile(r"Customer slow to sign for or confirm the delivery\s+128000\s+1"))
    expect(table.locator("tbody tr").nth(1)).to_contain_text(re.compile(r"56000\s+1"))
    page.goto(later + "reports/receivables_located_rate")
    expect(page.locator("main")).to_contain_text("Problem located rate")
    shot(page, "report-located-rate")
