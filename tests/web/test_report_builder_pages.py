"""The report builder's pages: create, choose step by step, refusals, conflicts, publish,
versions, and the cause a late task's page asks for."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

from andon import catalog, clock
from andon.flows import runtime
from andon.flows.models import Task

BUILDER = "/admin/reports/"
PAGE = "/admin/reports/late_by_cause/"
REQUEST = {"title": "T", "project": "P", "reason": "R", "effort_days": "20",
           "customer_contact": "C"}


def text(response) -> str:
    """Return a response's HTML with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def revision(page: str) -> str:
    """Return the draft revision the builder page carries."""
    match = re.search(r'name="revision" value="(\d+)"', page)
    assert match, "no revision on the page"
    return match.group(1)


def act(auth, client, data: dict[str, str]):
    """Post one builder choice with the revision the page shows now."""
    current = revision(text(client.get(PAGE)))
    return auth.post(PAGE, {"revision": current, **data}, follow_redirects=True)


def draft_of(session) -> dict:
    """Return the saved draft's definition."""
    session.expire_all()
    return json.loads(catalog.draft(session, "report", "late_by_cause").source)


def late_review(session, people, cause: str | None) -> Task:
    """Complete a change request's review a day late with a cause; return the task."""
    now = clock.now()
    with clock.frozen(now - timedelta(days=5)):
        instance = runtime.start_instance(session, "change_request", people["engineer1"],
                                          REQUEST)
    task = next(t for t in instance.tasks if t.state == "open")
    if cause is not None:
        runtime.complete_task(session, task.id, people["pm"], {"decision": "approve"},
                              cause=cause)
    session.commit()
    return task


def test_a_report_is_built_choice_by_choice_and_published(auth, client, session, people):
    late_review(session, people, "external.system.contract_terms")
    late_review(session, people, "internal.people.overload")
    auth.login("admin")
    created = auth.post(BUILDER, {"key": "late_by_cause", "title_en": "Late by cause",
                                  "title_zh": "延误原因"})
    assert created.status_code == 302
    for choice in ({"action": "dataset", "dataset": "tasks"},
                   {"action": "add_filter", "filter_field": "overdue", "filter_op": "is_true"},
                   {"action": "add_group", "group_field": "cause", "group_unit": "level1"},
                   {"action": "visualisation", "vis_type": "pareto"}):
        assert act(auth, client, choice).status_code == 200
    definition = draft_of(session)
    assert definition["filters"] == [{"field": "overdue", "op": "is_true"}]
    assert definition["group_by"] == [{"field": "cause", "level": 1}]
    page = text(client.get(PAGE))
    assert "Live preview" in page and "Grouped by: Cause at level 1" in page
    assert "External" in page and "Internal" in page and '"type": "bar"' in page

    refused = act(auth, client, {"action": "add_filter", "filter_field": "overdue",
                                 "filter_op": "eq", "filter_value": "x"})
    assert refused.status_code == 422
    assert "eq does not apply to a boolean field" in text(refused)
    refused = act(auth, client, {"action": "add_group", "group_field": "step",
                                 "group_unit": "level2"})
    assert refused.status_code == 422 and "'step' holds no taxonomy codes" in text(refused)
    assert draft_of(session)["group_by"] == [{"field": "cause", "level": 1}]

    stale = auth.post(PAGE, {"revision": "1", "action": "limit", "limit": "5"})
    assert stale.status_code == 409 and "Someone else saved this draft" in text(stale)

    published = act(auth, client, {"action": "publish"})
    assert published.status_code == 200 and "Version 1 of the report is published" in \
        text(published)
    shown = client.get("/reports/late_by_cause")
    assert shown.status_code == 200 and "External" in text(shown)


def test_publishing_lists_problems_by_json_path(auth, client, session, people):
    auth.login("admin")
    auth.post(BUILDER, {"key": "late_by_cause", "title_en": "L", "title_zh": "L"})
    body = draft_of(session)
    body["sort"] = [{"key": "nowhere"}]
    current = revision(text(client.get(PAGE)))
    applied = auth.post(PAGE, {"revision": current, "action": "json",
                               "json": json.dumps(body)}, follow_redirects=True)
    assert applied.status_code == 200
    failed = act(auth, client, {"action": "publish"})
    assert failed.status_code == 422
    assert "$.sort[0].key" in text(failed) and "not shown" in text(failed)


def test_versions_compare_two_published_versions(auth, client, session, people):
    auth.login("admin")
    auth.post(BUILDER, {"key": "late_by_cause", "title_en": "L", "title_zh": "L"})
    act(auth, client, {"action": "publish"})
    act(auth, client, {"action": "visualisation", "vis_type": "bar"})
    act(auth, client, {"action": "publish"})
    page = text(client.get(PAGE.rstrip("/") + "/versions"))
    assert "$.visualisation.type" in page and '"table"' in page and '"bar"' in page


def test_only_admins_and_designers_build_reports(auth, client):
    auth.login("engineer1")
    assert client.get(BUILDER).status_code == 403


def test_the_task_page_asks_why_a_late_task_is_late(auth, client, session, people):
    task = late_review(session, people, None)
    auth.login("pm")
    url = f"/tasks/{task.id}"
    page = text(client.get(url))
    assert "Why is this task late?" in page and 'name="cause"' in page
    refused = auth.post(url, {"decision": "approve", "cause_note": "Waiting on client"})
    assert refused.status_code == 422
    page = text(refused)
    assert "Choose why this task is late (Cause)." in page and "Waiting on client" in page
    done = auth.post(url, {"decision": "approve", "cause": "external.system.contract_terms",
                           "cause_note": "Waiting on client"})
    assert done.status_code == 302
    session.expire_all()
    stored = session.get(Task, task.id)
    assert (stored.cause, stored.cause_note) == ("external.system.contract_terms",
                                                 "Waiting on client")
    shown = client.get(url)  # a completed task's page, as a drill-down links to it
    assert shown.status_code == 200 and "Cause of the delay: External › System" in text(shown)
    timeline = text(client.get(f"/instances/{stored.instance_id}"))
    assert "said why step “Project manager review” is late: External › System" in timeline


def test_a_task_on_time_asks_no_cause(auth, client, session, people):
    instance = runtime.start_instance(session, "change_request", people["engineer1"], REQUEST)
    session.commit()
    task = next(t for t in instance.tasks if t.state == "open")
    auth.login("pm")
    assert "Why is this task late?" not in text(client.get(f"/tasks/{task.id}"))


