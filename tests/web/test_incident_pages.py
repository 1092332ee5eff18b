"""The incident panel on an instance page and its retry button, with and without htmx."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from andon import clock, jobs
from andon.config import Config
from andon.database import make_session_factory
from andon.flows import runtime
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance
from andon.worker import handlers, run_once

DATA = Path(__file__).parent.parent / "data" / "connectors"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
REQUEST = {"title": "Retro", "project": "Apollo", "reason": "R", "effort_days": "3",
           "customer_contact": "C"}
HTMX = {"HX-Request": "true"}


@pytest.fixture
def failed(session, people, engine, tmp_path) -> int:
    """Start a retrospective whose action items cannot start: an incident at once."""
    xml = (DATA / "action_items.bpmn").read_text().replace("'effort_days': 1",
                                                           "'effort_days': 'many'")
    with clock.frozen(T0):
        deploy_flow(session, xml.encode(), "action_items.bpmn")
        instance = runtime.start_instance(session, "retro_actions", people["engineer1"], REQUEST)
    session.commit()
    work = handlers(Config.from_env({}, instance_path=tmp_path))
    with clock.frozen(T0):
        run_once(make_session_factory(engine), work, T0)
    session.expire_all()
    assert instance.status == "failed"
    return instance.id


def service_items(session, instance_id: int) -> list[str]:
    """Return the states of an instance's service work items."""
    session.expire_all()
    return [item.state for item in session.scalars(select(jobs.WorkItem).where(
        jobs.WorkItem.instance_id == instance_id, jobs.WorkItem.kind == "service"))]


def test_the_panel_names_the_step_the_error_and_the_attempts(client, auth, failed):
    auth.login("admin")
    page = client.get(f"/instances/{failed}").get_data(as_text=True)
    assert "Incident: an automatic step failed" in page
    assert "Track each action item" in page and "effort_days" in page
    assert "Attempts: 1" in page and "last tried on" in page
    assert f'hx-post="/instances/{failed}/retry"' in page
    assert "Retry the failed step" not in page  # one retry button, in the panel
    assert "Step “Track each action item” failed after 1 attempts" in page  # the timeline


def test_the_starter_sees_the_incident_but_no_retry_button(client, auth, failed):
    auth.login("engineer1")
    page = client.get(f"/instances/{failed}").get_data(as_text=True)
    assert "Incident: an automatic step failed" in page
    assert f'/instances/{failed}/retry' not in page
    assert "An administrator can retry it once its cause is fixed." in page


def test_retry_without_htmx_queues_the_step_and_clears_the_panel(client, auth, session, failed):
    auth.login("admin")
    response = auth.post(f"/instances/{failed}/retry")
    assert response.status_code == 302 and response.location.endswith(f"/instances/{failed}")
    page = client.get(response.location).get_data(as_text=True)
    assert "The flow was retried." in page and "Incident: an automatic step failed" not in page
    assert session.get(FlowInstance, failed).status == "running"
    assert set(service_items(session, failed)) == {"pending"}


def test_retry_with_htmx_returns_the_panel_alone(client, auth, session, failed):
    auth.login("admin")
    response = auth.post(f"/instances/{failed}/retry", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="incident"')
    assert "<html" not in html and "The failed steps were queued again." in html
    assert "Retry</button>" not in html
    assert set(service_items(session, failed)) == {"pending"}


def test_a_refused_retry_with_htmx_says_why_and_keeps_the_incident(client, auth, session,
                                                                  failed):
    auth.login("engineer1")
    html = auth.post(f"/instances/{failed}/retry", headers=HTMX).get_data(as_text=True)
    assert "Only an administrator may do this." in html
    assert "Incident: an automatic step failed" in html
    assert session.get(FlowInstance, failed).status == "failed"
    assert "failed" in service_items(session, failed)


def test_a_flow_started_by_another_links_to_it(client, auth, session, people, engine, tmp_path):
    with clock.frozen(T0):
        deploy_flow(session, (DATA / "action_items.bpmn").read_bytes(), "action_items.bpmn")
        retro = runtime.start_instance(session, "retro_actions", people["engineer1"], REQUEST)
    session.commit()
    work = handlers(Config.from_env({}, instance_path=tmp_path))
    with clock.frozen(T0):
        run_once(make_session_factory(engine), work, T0)
    session.expire_all()
    child = session.scalar(select(FlowInstance).where(
        FlowInstance.parent_id == retro.id, FlowInstance.title == "Fix the deploy script"))
    auth.login("engineer1")
    page = client.get(f"/instances/{child.id}").get_data(as_text=True)
    assert f'started from <a href="/instances/{retro.id}">Retro</a>' in page
