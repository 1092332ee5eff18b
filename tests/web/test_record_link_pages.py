"""Record fields on pages: the search box and its endpoint, bad numbers, links both ways."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from andon.forms.models import Record
from andon.forms.records import create_record
from andon.forms.store import deploy_form
from andon.identity.models import User

HTMX = {"HX-Request": "true"}
DATA = Path(__file__).resolve().parents[1] / "data" / "refs"
ASSIGN = {"key": "assign", "title": {"en": "Assign", "zh-CN": "指派"},
          "schema": {"type": "object", "properties": {"owner": {"type": "string"}}},
          "layout": {"fields": {"owner": {"widget": "user"}}}}
PICK = {"name": "supplier", "input": "input-supplier", "shown": "shown-supplier"}


@pytest.fixture
def linked(session, people):
    """Publish the supplier, vault and order forms with a few records; return their ids."""
    for key in ("supplier", "vault", "order"):
        deploy_form(session, (DATA / f"{key}.json").read_text(), f"{key}.json")
    engineer, leader = people["engineer1"], people["leader"]
    acme = create_record(session, "supplier", {"name": "Acme", "city": "Suzhou"}, engineer)
    bolt = create_record(session, "supplier", {"name": "Bolt", "city": "Wuxi"}, engineer)
    vault = create_record(session, "vault", {"name": "Gold"}, leader)
    order = create_record(session, "order", {"title": "Pumps", "supplier": acme.id,
                                             "vault": vault.id}, leader)
    session.commit()
    return {"acme": acme.id, "bolt": bolt.id, "vault": vault.id, "order": order.id}


def picks(page: str) -> list[tuple[str, str]]:
    """Return (value, label) of the choice buttons a search answered with."""
    return re.findall(r'<button type="button" class="pick" value="([^"]*)".*?>([^<]*)</button>',
                      page, re.S)


def test_the_search_answers_with_matching_records_by_title(client, auth, linked):
    auth.login("engineer1")
    page = client.get("/picks/records/supplier", query_string={**PICK, "supplier": "suz"},
                      headers=HTMX).get_data(as_text=True)
    assert picks(page) == [(str(linked["acme"]), f"#{linked['acme']} Acme · Suzhou")]
    assert 'data-input="input-supplier"' in page and 'data-shown="shown-supplier"' in page
    page = client.get("/picks/records/supplier", query_string={**PICK, "supplier": "zzz"},
                      headers=HTMX).get_data(as_text=True)
    assert picks(page) == [] and "Nothing matches" in page
    assert client.get("/picks/records/vault", query_string={**PICK, "supplier": "gold"},
                      headers=HTMX).status_code == 403
    bad = {**PICK, "input": 'x" onmouseover="alert(1)', "supplier": "acme"}
    assert client.get("/picks/records/supplier", query_string=bad).status_code == 400


def test_the_form_draws_a_search_box_that_asks_the_endpoint(client, auth, linked):
    auth.login("engineer1")
    page = client.get("/records/order/new").get_data(as_text=True)
    field = re.search(r'<div[^>]*id="field-supplier".*?</ul>', page, re.S).group(0)
    assert 'hx-get="/picks/records/supplier"' in field and 'name="supplier"' in field
    assert 'onchange="event.stopPropagation()"' in field


def test_a_bad_record_number_is_refused_naming_the_field_and_kept(client, auth, linked):
    auth.login("engineer1")
    response = auth.post("/records/order/new", {"title": "Valves", "supplier": "Acme"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Type the number of a record" in page and 'value="Acme"' in page
    response = auth.post("/records/order/new", {"title": "Valves",
                                                "supplier": str(linked["vault"])})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"There is no record #{linked['vault']} among the Supplier records" in page
    assert re.search(r'href="#field-supplier"[^>]*>\s*Supplier', page)
    response = auth.post("/records/order/new", {"title": "Valves",
                                                "supplier": f"#{linked['bolt']}"})
    assert response.status_code == 302


def test_the_detail_page_lists_links_both_ways_that_the_reader_may_read(client, auth, linked,
                                                                         session):
    auth.login("leader")
    page = client.get(f"/records/order/{linked['order']}").get_data(as_text=True)
    links_to = page.split('id="links-to"', 1)[1].split("</ul>", 1)[0]
    assert f'href="/records/supplier/{linked["acme"]}"' in links_to
    assert f'href="/records/vault/{linked["vault"]}"' in links_to
    assert f'<a href="/records/supplier/{linked["acme"]}">#{linked["acme"]} Acme · Suzhou</a>' \
        in page.split('id="links-to"', 1)[0]  # the value itself is a link too
    auth.login("engineer1")
    page = client.get(f"/records/order/{linked['order']}").get_data(as_text=True)
    assert "Gold" not in page and f"#{linked['vault']}" in page
    page = client.get(f"/records/supplier/{linked['acme']}").get_data(as_text=True)
    linked_from = page.split('id="linked-from"', 1)[1].split("</ul>", 1)[0]
    assert f'href="/records/order/{linked["order"]}"' in linked_from
    assert "Order, field Supplier" in linked_from
    assert 'id="links-to"' not in page
    page = client.get(f"/records/supplier/{linked['bolt']}").get_data(as_text=True)
    assert "Linked from" not in page
    session.expire_all()
    assert session.scalar(select(Record.data).where(Record.id == linked["order"]))[
        "supplier"] == linked["acme"]


def test_many_users_turn_the_user_picker_into_a_search(client, auth, people, session):
    deploy_form(session, json.dumps(ASSIGN), "assign.json")
    session.commit()
    auth.login("engineer1")
    page = client.get("/records/assign/new").get_data(as_text=True)
    assert '<select id="input-owner"' in page and "/picks/people/user" not in page
    session.add_all(User(username=f"temp{i:02}", display_name=f"Temp {i:02}",
                         password_hash="x") for i in range(60))
    session.commit()
    page = client.get("/records/assign/new").get_data(as_text=True)
    assert '<select id="input-owner"' not in page
    assert 'hx-get="/picks/people/user"' in page and 'name="owner"' in page
    response = auth.post("/records/assign/new", {"owner": "nobody"})
    assert response.status_code == 422 and "no active user named nobody" in response.get_data(
        as_text=True)
    query = {"name": "owner", "input": "input-owner", "shown": "shown-owner", "owner": "li lei"}
    page = client.get("/picks/people/user", query_string=query,
                      headers=HTMX).get_data(as_text=True)
    assert picks(page) == [("engineer1", "李雷 Li Lei")]
    assert client.get("/picks/people/robots", query_string=query).status_code == 404
