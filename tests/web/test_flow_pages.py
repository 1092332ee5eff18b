"""A change request through the pages, with and without htmx."""

from __future__ import annotations

import re

from sqlalchemy import select

from andon.flows.models import FlowInstance, Task

REQUEST = {"title": "Nightly export", "project": "PRJ-7", "reason": "The customer asked",
           "scope_change": "One more job", "effort_days": "12", "cost_impact": "5000",
           "schedule_impact_days": "2", "customer_contact": "Liu Yang"}


def field_html(page: str, name: str) -> str:
    """Return the HTML of one field's wrapper div."""
    match = re.search(rf'<div[^>]*id="field-{name}".*?</div>\s*(?=<div[^>]*id="field-|<button)',
                      page, re.S)
    assert match, f"no field {name}"
    return match.group(0)


def start(auth, **changes) -> int:
    """Start a change request as the signed-in user; return the instance id."""
    response = auth.post("/start/change_request", {**REQUEST, **changes})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.location.rsplit("/", 1)[1])


def requested(auth, session, **changes) -> tuple[int, Task]:
    """Have engineer1 request a change; return the instance id and its review task."""
    auth.login("engineer1")
    instance_id = start(auth, **changes)
    return instance_id, open_task(session, instance_id)


def open_task(session, instance_id: int) -> Task:
    """Return the open task of an instance."""
    session.expire_all()
    return session.scalar(select(Task).where(Task.instance_id == instance_id,
                                             Task.state == "open"))


def test_invalid_start_form_shows_errors_by_the_fields_and_keeps_input(client, auth, session):
    auth.login("engineer1")
    auth.post("/auth/language", {"locale": "en", "next": "/"})
    response = auth.post("/start/change_request", {**REQUEST, "effort_days": "abc",
                                                   "title": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a number." in field_html(page, "effort_days")
    assert 'value="abc"' in field_html(page, "effort_days")
    assert "This field is required." in field_html(page, "title")
    assert "The customer asked" in field_html(page, "reason")
    assert 'value="Liu Yang"' in field_html(page, "customer_contact")
    assert "field-error" not in field_html(page, "project")
    assert session.scalar(select(FlowInstance.id)) is None


def test_errors_are_shown_in_chinese_too(client, auth):
    auth.login("engineer1")
    auth.post("/auth/language", {"locale": "zh_Hans_CN", "next": "/"})
    page = auth.post("/start/change_request", {**REQUEST, "effort_days": "-1"}).get_data(
        as_text=True)
    assert "请输入大于或等于 0 的值。" in field_html(page, "effort_days")


def test_change_request_goes_from_engineer_to_pm_to_director(client, auth, session):
    auth.login("engineer1")
    instance_id = start(auth)
    assert "Nightly export" in client.get(f"/instances/{instance_id}").get_data(as_text=True)

    auth.login("pm")
    inbox = client.get("/inbox/").get_data(as_text=True)
    review = open_task(session, instance_id)
    assert f"/tasks/{review.id}" in inbox
    page = client.get(f"/tasks/{review.id}").get_data(as_text=True)
    assert "The customer asked" in page and 'name="decision"' in page
    response = auth.post(f"/tasks/{review.id}", {"decision": "approve", "comment": "Fine"})
    assert response.location == "/inbox/"
    assert f"/tasks/{review.id}" not in client.get("/inbox/").get_data(as_text=True)

    auth.login("director")
    approval = open_task(session, instance_id)
    assert approval.step_id == "director_approval"
    auth.post(f"/tasks/{approval.id}", {"decision": "approve"})
    session.expire_all()
    assert session.get(FlowInstance, instance_id).status == "completed"

    auth.login("engineer1")
    auth.post("/auth/language", {"locale": "en", "next": "/"})
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Completed" in page
    timeline = page[page.index("Timeline"):]
    assert timeline.index("李雷 Li Lei started") < timeline.index("王芳 Wang Fang completed") \
        < timeline.index("陈静 Chen Jing completed") < timeline.index("The flow ended")


def test_someone_who_may_not_act_gets_a_403_and_nothing_changes(client, auth, session):
    instance_id, review = requested(auth, session)
    auth.login("engineer2")
    assert client.get(f"/tasks/{review.id}").status_code == 403
    response = auth.post(f"/tasks/{review.id}", {"decision": "approve"})
    assert response.status_code == 403
    assert client.get(f"/instances/{instance_id}").status_code == 403
    assert open_task(session, instance_id).id == review.id


def test_the_second_to_complete_a_task_is_told_who_was_first(client, auth, session, people):
    people["engineer2"].groups.append(people["pm"].groups[0])
    session.commit()
    instance_id, review = requested(auth, session, effort_days="3")
    auth.login("engineer2")
    colleague_token = auth.csrf()  # the colleague has the task open too
    colleague_cookies = client.get_cookie("session").value

    auth.login("pm")
    pm_token = auth.csrf()
    auth.post(f"/tasks/{review.id}", {"decision": "approve"})
    again = client.post(f"/tasks/{review.id}", data={"decision": "reject", "csrf_token": pm_token})
    assert again.status_code == 409
    assert "You have already completed this task" in again.get_data(as_text=True)

    client.set_cookie("session", colleague_cookies)
    late = client.post(f"/tasks/{review.id}", data={"decision": "reject",
                                                    "csrf_token": colleague_token})
    assert late.status_code == 409
    assert "already completed by 王芳 Wang Fang" in late.get_data(as_text=True)
    session.expire_all()
    assert session.get(FlowInstance, instance_id).data["outcome"] == "approved"


def test_invalid_task_form_keeps_the_task_and_the_comment(client, auth, session):
    instance_id, review = requested(auth, session)
    auth.login("pm")
    response = auth.post(f"/tasks/{review.id}", {"comment": "Need to think"})
    assert response.status_code == 422
    assert "Need to think" in field_html(response.get_data(as_text=True), "comment")
    assert open_task(session, instance_id).id == review.id


def test_claiming_makes_a_group_task_mine(client, auth, session):
    instance_id, review = requested(auth, session)
    auth.login("pm")
    assert auth.post(f"/tasks/{review.id}/claim").status_code == 302
    assert open_task(session, instance_id).assignee.username == "pm"


def test_inbox_badge_is_a_fragment_for_htmx(client, auth):
    auth.login("engineer1")
    start(auth)
    auth.login("pm")
    response = client.get("/inbox/count", headers={"HX-Request": "true"})
    assert response.get_data(as_text=True).strip().startswith('<span class="badge"')
    assert ">1<" in response.get_data(as_text=True)


def test_boosted_error_pages_are_whole_pages_and_fragments_are_not(client, auth):
    auth.login("engineer1")
    boosted = client.get("/admin/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    fragment = client.get("/admin/", headers={"HX-Request": "true"})
    assert "<html" in boosted.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert fragment.status_code == boosted.status_code == 403


def test_leader_reads_open_tasks_by_step(client, auth):
    auth.login("engineer1")
    start(auth)
    start(auth, title="Second")
    auth.login("leader")
    auth.post("/auth/language", {"locale": "en", "next": "/"})
    assert "Open tasks by step" in client.get("/reports/").get_data(as_text=True)
    page = client.get("/reports/open_tasks_by_step").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>",
                      page, re.S)
    # a count is a link to the tasks behind it
    assert [(flow.strip(), step.strip(), re.sub("<[^>]+>", "", count).strip())
            for flow, step, count in rows] == [("Change request", "Project manager review", "2")]
    assert "How it is computed" in page


def test_members_cannot_open_the_leaders_report(client, auth):
    auth.login("engineer1")
    assert "Open tasks by step" not in client.get("/reports/").get_data(as_text=True)
    assert client.get("/reports/open_tasks_by_step").status_code == 403


def test_a_huge_submission_is_refused_and_nothing_is_saved(client, auth, session):
    auth.login("engineer1")
    response = auth.post("/start/change_request", {**REQUEST, "reason": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert session.scalar(select(FlowInstance.id)) is None


def test_a_long_text_over_the_forms_limit_names_the_field(client, auth):
    auth.login("engineer1")
    response = auth.post("/start/change_request", {**REQUEST, "title": "t" * 201})
    assert response.status_code == 422
    assert "Enter at most 200 characters" in field_html(response.get_data(as_text=True), "title")


def test_records_list_only_what_the_reader_is_involved_in(client, auth):
    auth.login("engineer1")
    start(auth, title="Mine alone")
    auth.login("engineer2")
    assert "Mine alone" not in client.get("/instances/").get_data(as_text=True)
    auth.login("pm")
    assert "Mine alone" in client.get("/instances/").get_data(as_text=True)
    auth.login("leader")
    assert "Mine alone" in client.get("/instances/").get_data(as_text=True)


def test_the_timeline_reads_in_chinese(client, auth, session):
    auth.login("engineer1")
    instance_id = start(auth, effort_days="3")
    auth.login("pm")
    auth.post(f"/tasks/{open_task(session, instance_id).id}", {"decision": "reject"})
    auth.login("engineer1")
    auth.post("/auth/language", {"locale": "zh_Hans_CN", "next": "/"})
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    timeline = page[page.index("时间线"):]
    assert "李雷 Li Lei 发起了变更申请（版本 1）" in timeline
    assert "王芳 Wang Fang 完成了步骤“项目经理审核”：驳回" in timeline
    assert "流程结束：变更已驳回" in timeline
