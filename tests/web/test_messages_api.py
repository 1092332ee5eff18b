"""The message endpoint: an administrator delivers a message to the flows waiting for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from andon.flows import runtime
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance

DATA = Path(__file__).parent.parent / "data" / "messages"
REQUEST = {"title": "T", "project": "P1", "reason": "R", "effort_days": "3",
           "customer_contact": "Liu Yang"}
URL = "/api/messages/contract_signed"
BODY = {"correlation": {"project_id": "P1"}, "payload": {"signed_by": "Liu Yang"}}


@pytest.fixture
def waiting(session, people) -> int:
    """Start an instance that waits for contract_signed on project P1; return its id."""
    deploy_flow(session, (DATA / "contract.bpmn").read_bytes(), "contract.bpmn")
    instance = runtime.start_instance(session, "contract", people["engineer1"], REQUEST)
    session.commit()
    return instance.id


def post(auth, body, url: str = URL, token: bool = True):
    """Post JSON as the page's script would, with the CSRF token in a header."""
    headers = {"X-CSRFToken": auth.csrf("/settings/")} if token else {}
    return auth.client.post(url, json=body, headers=headers)


def test_an_admin_delivers_a_message_and_the_flow_moves_on(auth, session, waiting):
    auth.login("admin")
    response = post(auth, BODY)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"message": "contract_signed", "delivered": [waiting]}
    session.expire_all()
    instance = session.get(FlowInstance, waiting)
    assert instance.data["contract"] == {"signed_by": "Liu Yang"}
    assert [t.step_id for t in instance.tasks if t.state == "open"] == ["apply"]


def test_a_message_nobody_waits_for_is_a_404_naming_it(auth, session, waiting):
    auth.login("admin")
    response = post(auth, {"correlation": {"project_id": "P2"}, "payload": {}})
    assert response.status_code == 404
    assert response.get_json()["message"] == "contract_signed"
    assert "contract_signed" in response.get_json()["error"]
    response = post(auth, BODY, url="/api/messages/no_such_message")
    assert response.status_code == 404 and "no_such_message" in response.get_json()["error"]
    session.expire_all()
    assert [t.step_id for t in session.get(FlowInstance, waiting).tasks] == ["submit"]


def test_the_answer_speaks_the_callers_language(auth, client, waiting):
    auth.login("admin")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    response = post(auth, {"correlation": {"project_id": "P2"}, "payload": {}})
    assert response.status_code == 404 and "contract_signed" in response.get_json()["error"]


@pytest.mark.parametrize(("body", "complaint"), [
    ("not json", "JSON object"),
    ({"correlation": {"project_id": ["P1"]}, "payload": {}}, "correlation"),
    ({"correlation": {"project_id": "P1"}, "payload": "signed"}, "payload"),
])
def test_a_malformed_message_is_a_400(auth, waiting, body, complaint):
    auth.login("admin")
    response = post(auth, body)
    assert response.status_code == 400 and complaint in response.get_json()["error"]


def test_only_an_admin_may_send_messages(auth, session, waiting):
    auth.login("engineer1")
    assert post(auth, BODY).status_code == 403
    session.expire_all()
    assert session.scalar(select(FlowInstance.data).where(FlowInstance.id == waiting)) \
        .get("contract") is None


def test_a_message_without_the_csrf_token_is_refused(auth, waiting):
    auth.login("admin")
    assert post(auth, BODY, token=False).status_code == 400


def test_an_anonymous_caller_is_sent_to_sign_in(auth, client, waiting):
    response = client.post(URL, json=BODY, headers={"X-CSRFToken": auth.csrf()})
    assert response.status_code == 302 and "/auth/login" in response.location


def test_the_timeline_tells_who_delivered_the_message(auth, client, waiting):
    auth.login("admin")
    post(auth, BODY)
    page = client.get(f"/instances/{waiting}").get_data(as_text=True)
    assert "Admin 管理员 delivered the message “contract_signed”" in page
