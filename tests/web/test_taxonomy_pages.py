"""Taxonomies through the pages: the admin tree and its edits, and a picker in a flow's forms."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from andon import catalog
from andon.flows.models import Task
from andon.loader import load_folder

ROOT = Path(__file__).resolve().parents[2]
HX = {"HX-Request": "true"}
PAGE = "/admin/taxonomies/faults"


@pytest.fixture
def faults(auth, session):
    """Load the small fault flow, its forms and taxonomy next to the shipped definitions."""
    assert all(r.error is None for r in load_folder(session, ROOT / "tests" / "data" / "taxonomy"))
    session.commit()
    return auth


def text(response) -> str:
    """Return a response's HTML with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def field_html(page: str, name: str) -> str:
    """Return the HTML of one form field's wrapper div."""
    match = re.search(rf'<div[^>]*id="field-{name}".*?</div>\s*(?=<div[^>]*id="field-|<button)',
                      page, re.S)
    assert match, f"no field {name}"
    return match.group(0)


def test_admins_see_every_taxonomy_and_its_tree_with_retired_marks(client, faults):
    faults.login("admin")
    listing = text(client.get("/admin/taxonomies/"))
    assert "Cause classification" in listing and "Fault causes" in listing
    page = text(client.get(PAGE))
    assert "<code>int.mechanism.review</code> 缺少评审环节 · Missing review step" in page
    old = re.search(r'<li id="code-int.mechanism.old" class="retired">.*?</li>', page, re.S)
    assert old and "retired" in old.group(0) and "Restore" in old.group(0)
    assert "version 1" in page and "Loaded from a file" in page
    assert "Internal › Mechanism" not in page  # the tree shows codes, not paths
    causes = text(client.get("/admin/taxonomies/causes"))
    assert "Customer requirement change" in causes and "客户需求变更" in causes


def test_people_who_are_not_admins_cannot_open_or_change_taxonomies(client, faults):
    faults.login("engineer1")
    assert client.get("/admin/taxonomies/").status_code == 403
    refused = faults.post(f"{PAGE}/codes/int.people/retire")
    assert refused.status_code == 403
    faults.login("admin")
    assert "<code>int.people</code>" in text(client.get(PAGE))
    assert "Retired int.people" not in text(client.get(PAGE))


def test_adding_a_code_without_htmx_redirects_with_the_new_version(client, faults, session):
    faults.login("admin")
    response = faults.post(f"{PAGE}/codes", {"parent": "int.mechanism",
                                              "code": "int.mechanism.handover",
                                              "label_zh-CN": "交接不完整",
                                              "label_en": "Incomplete handover"},
                           follow_redirects=True)
    page = text(response)
    assert response.status_code == 200
    assert "Code int.mechanism.handover added. Now version 2." in page
    assert "<code>int.mechanism.handover</code> 交接不完整 · Incomplete handover" in page
    assert re.search(r"<td>2</td>\s*<td>Published</td>\s*<td>Added int.mechanism.handover</td>"
                     r"\s*<td>Admin 管理员</td>", page)
    assert catalog.current(session, "taxonomy", "faults").number == 2


def test_edits_through_htmx_return_only_the_tree(client, faults):
    faults.login("admin")
    renamed = faults.post(f"{PAGE}/codes/int.people/label",
                          {"label_zh-CN": "人员因素", "label_en": "People factors"}, headers=HX)
    page = text(renamed)
    assert renamed.status_code == 200 and "<html" not in page
    assert page.lstrip().startswith('<section class="card taxonomy" id="taxonomy-tree"')
    assert "Code int.people renamed. Now version 2." in page
    assert "<code>int.people</code> 人员因素 · People factors" in page
    retired = text(faults.post(f"{PAGE}/codes/int.people/retire", headers=HX))
    assert "Code int.people retired. Old records keep it" in retired
    assert '<li id="code-int.people" class="retired">' in retired
    restored = text(faults.post(f"{PAGE}/codes/int.people/restore", headers=HX))
    assert "Code int.people can be chosen again. Now version 4." in restored
    assert '<li id="code-int.people">' in restored


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_a_duplicate_code_is_refused_by_name_and_the_typed_labels_stay(client, faults, session,
                                                                       headers):
    faults.login("admin")
    response = faults.post(f"{PAGE}/codes", {"parent": "ext", "code": "int.people",
                                              "label_zh-CN": "", "label_en": "Partners"},
                           headers=headers)
    page = text(response)
    assert response.status_code == 422
    assert ('The code int.people is already used for "People".' in page)
    assert "Enter the label in this language." in page
    form = re.search(r'<details class="edit" open>.*?</details>', page, re.S)
    assert form and 'value="int.people"' in form.group(0) and 'value="Partners"' in form.group(0)
    assert ("<html" in page) == (not headers)
    assert catalog.current(session, "taxonomy", "faults").number == 1


def test_retiring_a_code_twice_or_an_unknown_code_says_which(client, faults):
    faults.login("admin")
    again = faults.post(f"{PAGE}/codes/int.mechanism.old/retire", headers=HX)
    assert again.status_code == 422
    assert "int.mechanism.old is already retired." in text(again)
    missing = faults.post(f"{PAGE}/codes/nope/retire", headers=HX)
    assert missing.status_code == 404
    assert "The taxonomy faults has no code nope." in text(missing)


def test_the_download_is_the_file_that_loads_back_unchanged(client, faults):
    faults.login("admin")
    response = client.get("/admin/taxonomies/causes/export")
    assert response.headers["Content-Disposition"] == 'attachment; filename="causes.json"'
    shipped = (ROOT / "definitions" / "taxonomies" / "causes.json").read_text(encoding="utf-8")
    assert response.get_data(as_text=True) == shipped


# The picker in a flow's forms


def test_the_start_form_offers_causes_grouped_by_path_without_retired_ones(client, faults):
    faults.login("engineer1")
    page = text(client.get("/start/fault"))
    cause = field_html(page, "cause")
    assert '<optgroup label="Internal › Mechanism">' in cause
    assert '<option value="int.mechanism.review">Missing review step</option>' in cause
    assert "int.mechanism.old" not in cause
    area = field_html(page, "area")
    assert '<optgroup label="Internal">' in area and 'value="int.mechanism"' in area
    assert "int.mechanism.review" not in area


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_a_retired_or_unknown_code_is_refused_and_what_was_typed_stays(client, faults, session,
                                                                      headers):
    faults.login("engineer1")
    response = faults.post("/start/fault", {"summary": "Export late", "cause": "int.mechanism.old",
                                            "area": "made.up"}, headers=headers)
    page = text(response)
    assert response.status_code == 422
    assert ("Internal › Mechanism › Old process is retired and can no longer be chosen"
            in field_html(page, "cause"))
    assert "made.up is not in the list" in field_html(page, "area")
    assert 'value="Export late"' in field_html(page, "summary")
    assert session.scalar(select(Task.id)) is None


def test_a_stored_code_reads_as_its_path_and_stays_readable_once_retired(client, faults,
                                                                         session):
    faults.login("engineer1")
    started = faults.post("/start/fault", {"summary": "Export late",
                                           "cause": "int.mechanism.review",
                                           "area": "int.mechanism"})
    assert started.status_code == 302
    instance = started.location
    page = text(client.get(instance))
    assert "<dd>Internal › Mechanism › Missing review step</dd>" in page
    assert "<dd>Internal › Mechanism</dd>" in page
    faults.post("/auth/language", {"locale": "zh_Hans_CN", "next": "/"})
    assert "<dd>内部原因 › 机制 › 缺少评审环节</dd>" in text(client.get(instance))
    faults.post("/auth/language", {"locale": "en", "next": "/"})
    faults.login("admin")
    faults.post(f"{PAGE}/codes/int.mechanism.review/retire")
    faults.login("engineer1")
    assert "<dd>Internal › Mechanism › Missing review step (retired)</dd>" in text(
        client.get(instance))
    check = session.scalar(select(Task).where(Task.step_id == "check"))
    task_page = text(client.get(f"/tasks/{check.id}"))
    assert "Missing review step (retired)" in task_page
    assert 'value="int.mechanism.review"' not in field_html(task_page, "cause")
    refused = faults.post(f"/tasks/{check.id}", {"cause": "int.mechanism.review"})
    assert refused.status_code == 422
    assert "is retired and can no longer be chosen" in field_html(text(refused), "cause")
    done = faults.post(f"/tasks/{check.id}", {"cause": "ext.customer.change"})
    assert done.status_code == 302
    assert "<dd>External › Customer › Customer requirement change</dd>" in text(
        client.get(instance))


def test_a_draft_with_a_retired_code_shows_it_marked_and_selected(client, faults, session):
    faults.login("engineer1")
    faults.post("/start/fault", {"summary": "S", "cause": "int.people", "area": "int.people"})
    check = session.scalar(select(Task).where(Task.step_id == "check"))
    faults.post(f"/tasks/{check.id}/draft", {"cause": "int.mechanism.old"})
    cause = field_html(text(client.get(f"/tasks/{check.id}")), "cause")
    assert re.search(r'<option value="int.mechanism.old" selected>\s*Old process \(retired\)',
                     cause)
    assert "Internal › Mechanism › Old process" in cause


def test_a_step_sent_back_may_keep_its_retired_code_but_not_choose_another(client, faults,
                                                                           session):
    faults.login("engineer1")
    faults.post("/start/fault", {"summary": "S", "cause": "int.people", "area": "int.people"})
    check = session.scalar(select(Task).where(Task.step_id == "check"))
    sent = faults.post(f"/tasks/{check.id}/send-back", {"step": "report", "reason": "Recheck"})
    assert sent.status_code == 302
    faults.login("admin")
    faults.post(f"{PAGE}/codes/int.people/retire")
    faults.login("engineer1")
    session.expire_all()
    report = session.scalar(select(Task).where(Task.step_id == "report", Task.state == "open"))
    page = text(client.get(f"/tasks/{report.id}"))
    assert re.search(r'<option value="int.people" selected>\s*People \(retired\)',
                     field_html(page, "cause"))
    other = faults.post(f"/tasks/{report.id}", {"summary": "S", "cause": "int.people",
                                                 "area": "ext.customer"})
    assert other.status_code == 302  # the retired cause came back unchanged
    check = session.scalar(select(Task).where(Task.step_id == "check", Task.state == "open"))
    refused = faults.post(f"/tasks/{check.id}", {"cause": "int.people"})
    assert refused.status_code == 422  # this step never held it: a new choice
