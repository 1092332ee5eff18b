"""The task page draws read-only fields with the instance's value and leaves hidden ones out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance, Task
from andon.forms.store import deploy_form

DATA = Path(__file__).resolve().parent.parent / "data" / "permissions"
REQUEST = {"title": "Chiller for site B", "cost": "48000", "supplier": "Haier"}


@pytest.fixture
def task_url(session, auth) -> str:
    """Have the project manager request an installation; return the engineers' task page."""
    for name in ("purchase.json", "install.json"):
        deploy_form(session, (DATA / name).read_text(), name)
    deploy_flow(session, (DATA / "install.bpmn").read_bytes(), "install.bpmn")
    session.commit()
    auth.login("pm")
    assert auth.post("/start/perm_install", REQUEST).status_code == 302
    task = session.scalar(select(Task).where(Task.step_id == "install"))
    auth.login("engineer1")
    return f"/tasks/{task.id}"


def tag(page: str, name: str) -> str:
    """Return the input tag named ``name`` on a page."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert match, f"no input {name}"
    return match.group(0)


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_the_task_page_shows_read_only_values_and_hides_hidden_ones(client, task_url,
                                                                    headers) -> None:
    page = client.get(task_url, headers=headers).get_data(as_text=True)
    title = tag(page, "title")
    assert 'value="Chiller for site B"' in title and ("readonly" in title or "disabled" in title)
    assert "readonly" not in tag(page, "supplier") and "disabled" not in tag(page, "supplier")
    assert 'name="cost"' not in page
    assert "Cost" not in page and "48000" not in page and "48,000" not in page
    assert "Haier" in page  # the earlier step is shown, without the hidden value


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_a_forged_post_keeps_the_instance_values(client, auth, session, task_url,
                                                 headers) -> None:
    answer = auth.post(task_url, {"title": "Forged", "cost": "1", "supplier": "Midea",
                                  "notes": "Mounted"}, headers=headers)
    assert answer.status_code == 302
    instance = session.scalar(select(FlowInstance))
    session.refresh(instance)
    assert (instance.data["title"], instance.data["cost"], instance.data["supplier"]) \
        == ("Chiller for site B", 48000, "Midea")


def test_an_invalid_post_shows_the_instance_value_again(client, auth, task_url) -> None:
    answer = auth.post(task_url, {"title": "Forged", "cost": "1", "notes": ""})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'value="Chiller for site B"' in tag(page, "title") and "Forged" not in page
    assert 'name="cost"' not in page
