"""CC from the task page: the copied person is told, sees the flow, and the timeline says so."""

from __future__ import annotations

from sqlalchemy import select

from andon.flows.models import Task

REQUEST = {"title": "Nightly export", "project": "P", "reason": "The customer asked",
           "effort_days": "12", "customer_contact": "C"}


def test_copy_someone_from_the_task_page(client, auth, session):
    auth.login("engineer1")
    instance_id = int(auth.post("/start/change_request", REQUEST).location.rsplit("/", 1)[1])
    session.expire_all()
    review = session.scalar(select(Task).where(Task.instance_id == instance_id,
                                               Task.state == "open"))
    auth.login("director")
    assert client.get(f"/instances/{instance_id}").status_code == 403
    auth.login("pm")
    assert "Copy someone (CC)" in client.get(f"/tasks/{review.id}").get_data(as_text=True)
    done = auth.post(f"/tasks/{review.id}/cc", {"to": "director", "note": "Budget impact"},
                     follow_redirects=True)
    assert "陈静 Chen Jing is copied and can follow this flow." in done.get_data(as_text=True)

    auth.login("director")
    notes = client.get("/notifications/").get_data(as_text=True)
    assert "王芳 Wang Fang copied you on “Project manager review” of “Nightly export”: " \
           "Budget impact" in notes
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "王芳 Wang Fang copied 陈静 Chen Jing on step “Project manager review”: " \
           "Budget impact" in page
    assert "Copy someone (CC)" not in client.get(f"/tasks/{review.id}").get_data(as_text=True)
