"""The inbox narrows by flow and project, orders, pages, and answers htmx with the table alone."""

from __future__ import annotations

from andon.web import inbox

CHANGE = {"title": "Nightly export", "project": "Apollo", "reason": "R", "effort_days": "3",
          "customer_contact": "C"}


def request_changes(auth, *projects: str) -> None:
    """Have engineer1 request one change per project."""
    auth.login("engineer1")
    for number, project in enumerate(projects):
        form = {**CHANGE, "project": project, "title": f"Change {number} of {project}"}
        assert auth.post("/start/change_request", form).status_code == 302


def test_the_inbox_filters_by_project_and_flow_and_keeps_the_filter_in_links(client, auth):
    request_changes(auth, "Apollo", "Borealis")
    auth.login("pm")
    page = client.get("/inbox/").get_data(as_text=True)
    assert "Change 0 of Apollo" in page and "Change 1 of Borealis" in page
    assert '<option value="Apollo"' in page and '<option value="change_request"' in page
    page = client.get("/inbox/?project=Borealis").get_data(as_text=True)
    assert "Change 1 of Borealis" in page and "Change 0 of Apollo" not in page
    assert "/inbox/?view=overdue&amp;project=Borealis" in page
    assert "Change 0 of Apollo" in client.get("/inbox/?flow=change_request").get_data(as_text=True)
    empty = client.get("/inbox/?flow=no_such_flow").get_data(as_text=True)
    assert "No open task matches these filters." in empty


def test_htmx_gets_the_table_alone_and_newest_first_reverses_the_order(client, auth):
    request_changes(auth, "Apollo", "Borealis")
    auth.login("pm")
    table = client.get("/inbox/?sort=newest", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<h1>" not in table and "2 tasks" in table
    assert table.index("Change 1 of Borealis") < table.index("Change 0 of Apollo")
    page = client.get("/inbox/?sort=oldest").get_data(as_text=True)
    assert page.index("Change 0 of Apollo") < page.index("Change 1 of Borealis")


def test_a_long_inbox_is_paged(client, auth, monkeypatch):
    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)
    request_changes(auth, "A", "B", "C")
    auth.login("pm")
    first = client.get("/inbox/?sort=oldest").get_data(as_text=True)
    assert "Change 1 of B" in first and "Change 2 of C" not in first
    assert "page=2" in first and "3 tasks" in first
    second = client.get("/inbox/?sort=oldest&page=2").get_data(as_text=True)
    assert "Change 2 of C" in second and "Change 0 of A" not in second and "Previous" in second
