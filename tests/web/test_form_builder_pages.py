"""The form builder's pages: create, edit by actions, conflicts, publish, versions, retire."""

from __future__ import annotations

import html
import json
import re

from sqlalchemy import select

from andon import catalog
from andon.forms.store import deploy_form

BUILDER = "/admin/forms/"
PAGE = "/admin/forms/visit_report/"


def text(response) -> str:
    """Return a response's HTML with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def revision(page: str) -> str:
    """Return the draft revision the builder page carries."""
    match = re.search(r'name="revision" value="(\d+)"', page)
    assert match, "no revision on the page"
    return match.group(1)


def act(auth, client, data: dict[str, str], url: str = PAGE):
    """Post one builder action with the revision the page shows now."""
    current = revision(text(client.get(url)))
    return auth.post(url, {"revision": current, **data}, follow_redirects=True)


def panel(client, path: str, url: str = PAGE) -> dict[str, str]:
    """Return the inputs of a field's property panel as the page fills them."""
    page = text(client.get(url, query_string={"field": path}))
    form = page.split('<section class="panel card"', 1)[1].split("</form>", 1)[0]
    values = dict(re.findall(r'<input id="panel-([a-z_]+)" name="[a-z_]+" value="([^"]*)"', form))
    values |= dict(re.findall(r'<textarea id="panel-([a-z_]+)"[^>]*>([^<]*)</textarea>', form))
    values |= {name: "on" for name in re.findall(r'name="([a-z_]+)" value="on" checked', form)}
    return values


def start(auth, client) -> None:
    """Sign in as the admin and create the visit report form."""
    auth.login("admin")
    created = auth.post(BUILDER, {"key": "visit_report", "title_en": "Visit report",
                                  "title_zh": "拜访报告"})
    assert created.status_code == 302 and created.headers["Location"].endswith(PAGE)


def test_a_form_is_built_published_and_used_for_records(auth, client, session):
    start(auth, client)
    page = text(client.get(PAGE))
    assert "No fields yet" in page and "Visit report" in page
    for kind in ("text", "date", "select", "money", "table"):
        added = act(auth, client, {"action": "add", "kind": kind})
        assert added.status_code == 200
    page = text(added)
    assert [*re.findall(r'data-path="([^"]+)"', page)] == \
        ["text_1", "date_1", "select_1", "money_1", "table_1"]
    # Into the selected table go its columns.
    act(auth, client, {"action": "add", "kind": "text", "into": "table_1"})
    act(auth, client, {"action": "add", "kind": "integer", "into": "table_1"})
    values = panel(client, "text_1")
    assert values["label_en"] == "Text" and values["label_zh"] == "文本"
    renamed = act(auth, client, {"action": "update", "path": "text_1", **values,
                                 "name": "customer", "label_en": "Customer",
                                 "label_zh": "客户", "required": "on"})
    assert renamed.request.args["field"] == "customer"
    act(auth, client, {"action": "up", "path": "date_1"})
    act(auth, client, {"action": "remove", "path": "money_1"})
    page = text(client.get(PAGE))
    assert re.findall(r'data-path="([^"]+)"', page) == \
        ["date_1", "customer", "select_1", "table_1", "table_1/text_1", "table_1/integer_1"]
    preview = page.split('id="builder-preview"', 1)[1]
    assert 'id="input-customer"' in preview and "table_1[0]" not in preview

    # The preview checks typed values without saving anything.
    tried = auth.post(f"{PAGE}try", {"customer": "", "date_1": "31/02"})
    assert tried.status_code == 422
    assert "These values would be refused" in text(tried)

    published = act(auth, client, {"action": "publish"})
    assert "Version 1 of the form is published" in text(published)
    assert catalog.draft(session, "form", "visit_report") is None
    version = catalog.current(session, "form", "visit_report")
    assert version.created_by.username == "admin"

    # The published form makes records, refusing a bad value by its label.
    new = auth.post("/records/visit_report/new", {"customer": "", "date_1": "2026-11-20",
                                                  "select_1": "option_1"})
    assert new.status_code == 422 and "Customer" in text(new)
    made = auth.post("/records/visit_report/new", {"customer": "ACME", "date_1": "2026-11-20",
                                                   "select_1": "option_1", "table_1[#]": "1",
                                                   "table_1[0][text_1]": "Demo",
                                                   "table_1[0][integer_1]": "3"})
    assert made.status_code == 302


def test_a_refused_property_edit_keeps_what_was_typed_and_saves_nothing(auth, client, session):
    start(auth, client)
    act(auth, client, {"action": "add", "kind": "number"})
    before = catalog.draft(session, "form", "visit_report").source
    values = panel(client, "number_1")
    refused = act(auth, client, {"action": "update", "path": "number_1", **values,
                                 "name": "Bad Name", "minimum": "ten", "label_en": "Budget"})
    assert refused.status_code == 422
    page = text(refused)
    assert "Nothing was changed" in page
    assert 'id="panel-name" name="name" value="Bad Name" aria-invalid="true"' in page
    assert 'value="ten"' in page and 'value="Budget"' in page
    session.expire_all()
    assert catalog.draft(session, "form", "visit_report").source == before


def test_an_edit_on_a_stale_draft_gets_a_conflict_and_the_newer_draft_is_kept(
        auth, client, session):
    start(auth, client)
    act(auth, client, {"action": "add", "kind": "text"})
    stale = revision(text(client.get(PAGE)))  # a second tab (or administrator) reads this
    act(auth, client, {"action": "add", "kind": "date"})  # the first one saves meanwhile
    late = auth.post(PAGE, {"revision": stale, "action": "remove", "path": "text_1"})
    assert late.status_code == 409
    page = text(late)
    assert "Someone else saved this draft" in page
    assert 'data-path="text_1"' in page and 'data-path="date_1"' in page


def test_publishing_a_broken_draft_lists_the_problems_and_keeps_the_draft(auth, client, session):
    start(auth, client)
    act(auth, client, {"action": "add", "kind": "text"})
    draft = json.loads(catalog.draft(session, "form", "visit_report").source)
    draft["schema"]["properties"]["text_1"]["maxLength"] = -1
    applied = act(auth, client, {"action": "json", "json": json.dumps(draft)})
    assert "The JSON was applied" in text(applied)
    refused = act(auth, client, {"action": "publish"})
    assert refused.status_code == 422
    page = text(refused)
    assert "Not published: fix these first" in page
    assert "$.schema.properties.text_1.maxLength" in page
    assert catalog.draft(session, "form", "visit_report") is not None
    assert catalog.versions_of(session, "form", "visit_report") == []

    broken = act(auth, client, {"action": "json", "json": '{"key": "visit_report",\n "x": }'})
    assert broken.status_code == 422
    assert "line 2" in text(broken) and '"x": }' in text(broken)


def test_versions_compare_export_retire_and_reactivate(auth, client, session, people):
    auth.login("admin")
    page = text(client.get(f"{BUILDER}change_request/"))  # the shipped form, unchanged
    assert "Project" in page and "based on version 1" in page
    assert "No changes yet" in page and 'value="publish"' not in page
    assert catalog.draft(session, "form", "change_request") is None  # looking saves nothing
    act_page = "/admin/forms/change_request/"
    values = panel(client, "project", act_page)
    act(auth, client, {"action": "update", "path": "project", **values,
                       "label_en": "Client project"}, act_page)
    act(auth, client, {"action": "add", "kind": "date"}, act_page)
    page = text(act(auth, client, {"action": "publish"}, act_page))
    assert "Version 2 of the form is published" in page
    assert "Added" in page and "date_1" in page
    assert "Client project" in page and "Label (English)" in page
    assert "published version 2" in page  # the history

    exported = client.get(f"{act_page}versions/2.json")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="change_request.json"'
    again, changed = deploy_form(session, exported.get_data(as_text=True), "change_request.json")
    assert (again.number, changed) == (2, False)

    retired = auth.post(f"{act_page}retire", follow_redirects=True)
    assert "The form is retired" in text(retired)
    assert client.get("/records/change_request").status_code == 404
    listing = text(client.get(BUILDER))
    assert re.search(r"change_request</code></td>\s*<td><span class=\"tag status-retired\">",
                     listing)
    back = auth.post(f"{act_page}reactivate", follow_redirects=True)
    assert "Version 2 of the form is published again" in text(back)
    assert session.scalar(select(catalog.DefinitionVersion.status).where(
        catalog.DefinitionVersion.number == 2,
        catalog.DefinitionVersion.title["en"].as_string() == "Change request")) == "published"


def test_members_cannot_open_the_builder(auth, client):
    auth.login("engineer1")
    assert client.get(BUILDER).status_code == 403
    assert auth.post(BUILDER, {"key": "x", "title_en": "X"}).status_code == 403
