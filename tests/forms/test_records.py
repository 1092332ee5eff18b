"""Records of a form: create, edit with optimistic locking, history, queries on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from andon import catalog
from andon.audit import history as audit_history
from andon.errors import Forbidden, InvalidSubmission
from andon.forms.filters import list_records, parse_filters
from andon.forms.jsonsql import field_value
from andon.forms.models import Record
from andon.forms.records import (
    StaleRecord,
    create_record,
    current_form,
    history,
    update_record,
)
from andon.forms.schema import FormSpec


@pytest.fixture
def issue(session, staff, deploy_issue):
    """Publish the issue form; return the demo people."""
    deploy_issue()
    return staff


def make(session, user, **values) -> Record:
    """Create and commit an issue record."""
    record = create_record(session, "issue", {"title": "t", "severity": "low", **values}, user)
    session.commit()
    return record


def titles(session, search="", query=None, sort="-created") -> list[str]:
    """Return the titles of the issues a search, filters and sort find, in order."""
    spec = FormSpec(**catalog.current(session, "form", "issue").content)
    filters, errors = parse_filters(spec, query or {})
    assert errors == {}
    return [r.data["title"] for r in session.scalars(list_records(spec, search, filters, sort))]


def test_a_record_keeps_typed_values_its_form_version_and_a_history(session, issue,
                                                                      deploy_issue):
    record = make(session, issue["engineer1"], title="Disk full", loss=1200.5)
    assert record.data == {"title": "Disk full", "severity": "low", "loss": 1200.5}
    assert record.lock_version == 1
    deploy_issue(lambda d: d["schema"]["properties"]["title"].update(maxLength=5))
    update_record(session, record.id, {**record.data, "title": "Disk nearly full"},
                  issue["engineer1"], expected_version=1)
    session.commit()
    assert record.lock_version == 2  # validated with its own version: maxLength 200
    assert record.form_version.number == 1
    changes = list(session.scalars(history(record.id)))
    assert [(c.kind, c.by.username) for c in changes] == [("updated", "engineer1"),
                                                          ("created", "engineer1")]
    assert changes[0].changes == {"title": ["Disk full", "Disk nearly full"]}
    kinds = [e.kind for e in audit_history(session, "record", record.id)]
    assert kinds == ["record.created", "record.updated"]


def test_invalid_data_names_the_fields_and_stores_nothing(session, issue):
    with pytest.raises(InvalidSubmission) as caught:
        create_record(session, "issue", {"title": "", "loss": -1}, issue["engineer1"])
    assert set(caught.value.errors) == {"title", "severity", "loss"}
    assert caught.value.values == {"title": "", "loss": -1}
    session.rollback()
    assert session.scalar(select(func.count(Record.id))) == 0


def test_a_stale_edit_is_refused_with_the_other_persons_values(session, issue):
    record = make(session, issue["engineer1"], title="Printer jam")
    update_record(session, record.id, {"title": "Printer jam", "severity": "high"},
                  issue["admin"], expected_version=1)
    session.commit()
    with pytest.raises(StaleRecord) as caught:
        update_record(session, record.id, {"title": "Paper jam", "severity": "low"},
                      issue["engineer1"], expected_version=1)
    stale = caught.value
    assert stale.current == {"title": "Printer jam", "severity": "high"}
    assert stale.version == 2 and stale.updated_by == issue["admin"].display_name
    session.rollback()
    assert session.get(Record, record.id).data["title"] == "Printer jam"


def test_only_the_creator_admins_and_named_editors_may_edit(session, issue, deploy_issue):
    record = make(session, issue["engineer1"])
    with pytest.raises(Forbidden):
        update_record(session, record.id, {"title": "x", "severity": "low"},
                      issue["engineer2"], expected_version=1)
    session.rollback()
    deploy_issue(lambda d: d["layout"].update(records={"editors": ["member"]}))
    update_record(session, record.id, {"title": "x", "severity": "low"}, issue["engineer2"],
                  expected_version=1)
    deploy_issue(lambda d: d["layout"].update(records={"readers": ["leader"]}))
    with pytest.raises(Forbidden):
        create_record(session, "issue", {"title": "y", "severity": "low"}, issue["engineer1"])


def test_numbers_filter_and_sort_as_numbers_not_text(session, issue):
    for title, loss in (("nine", 9), ("ten", 10), ("hundred", 100), ("half", 2.5),
                        ("none", None)):
        make(session, issue["engineer1"], title=title,
             **({"loss": loss} if loss is not None else {}))
    assert titles(session, query={"loss.gt": ["9"]}) == ["hundred", "ten"]
    assert titles(session, query={"loss.ge": ["2.5"], "loss.lt": ["10"]}) == ["half", "nine"]
    assert titles(session, query={"loss.eq": ["10.0"]}) == ["ten"]
    assert titles(session, sort="loss") == ["half", "nine", "ten", "hundred", "none"]
    assert titles(session, sort="-loss") == ["hundred", "ten", "nine", "half", "none"]


def test_dates_compare_as_dates(session, issue):
    for title, day in (("march", "2026-03-09"), ("october", "2026-10-01"),
                       ("next year", "2027-01-15")):
        make(session, issue["engineer1"], title=title, found_on=day)
    assert titles(session, query={"found_on.ge": ["2026-03-10"]}) == [
        "next year", "october"]
    assert titles(session, query={"found_on.lt": ["2026-10-01"]}) == ["march"]
    assert titles(session, query={"found_on.eq": ["2026-10-01"]}) == ["october"]
    assert titles(session, sort="found_on") == ["march", "october", "next year"]


def test_options_filter_by_in_and_booleans_by_equals(session, issue):
    make(session, issue["engineer1"], title="a", severity="low", recurring=True)
    make(session, issue["engineer1"], title="b", severity="high", recurring=False)
    make(session, issue["engineer1"], title="c", severity="high")
    assert titles(session, query={"severity.in": ["high"]}) == ["c", "b"]
    assert titles(session, query={"severity.in": ["high", "low"]}) == ["c", "b", "a"]
    assert titles(session, query={"recurring.eq": ["true"]}) == ["a"]
    assert titles(session, query={"recurring.eq": ["false"]}) == ["b"]


def test_search_finds_chinese_text_option_labels_and_is_case_blind(session, issue):
    make(session, issue["engineer1"], title="数据库连接超时", note="Customer in 上海")
    make(session, issue["engineer1"], title="Login page slow", severity="high")
    assert titles(session, "连接") == ["数据库连接超时"]
    assert titles(session, "上海 customer") == ["数据库连接超时"]
    assert titles(session, "LOGIN") == ["Login page slow"]
    assert titles(session, "高") == ["Login page slow"]  # the label of "high" in Chinese
    assert titles(session, "100%") == []
    assert titles(session, query={"title.contains": ["超时"]}) == ["数据库连接超时"]


def test_bad_filter_values_are_named_by_field(session, issue):
    _, spec = current_form(session, "issue", issue["engineer1"])
    filters, errors = parse_filters(spec, {"loss.gt": ["lots"], "found_on.lt": ["soon"],
                                           "severity.in": ["medium"], "title.contains": ["x"]})
    assert set(errors) == {"loss", "found_on", "severity"}
    assert [f.name for f in filters] == ["title"]


def test_a_value_of_another_type_is_null_not_an_error(session, issue):
    record = make(session, issue["engineer1"], title="odd")
    record.data = {**record.data, "loss": "a lot", "found_on": 7}
    session.commit()
    row = session.execute(select(field_value(Record.data, ["loss"], "number"),
                                 field_value(Record.data, ["found_on"], "date"),
                                 field_value(Record.data, ["title"], "text"))).one()
    assert tuple(row) == (None, None, "odd")


def test_an_edit_from_another_connection_makes_an_older_edit_stale(session, engine, issue):
    from andon.database import make_session_factory

    record = make(session, issue["engineer1"], title="Slow build")
    assert session.get(Record, record.id).lock_version == 1  # this session saw version 1
    with make_session_factory(engine)() as other:
        admin = other.get(type(issue["admin"]), issue["admin"].id)
        update_record(other, record.id, {"title": "Slow build", "severity": "high"}, admin,
                      expected_version=1)
        other.commit()
    with pytest.raises(StaleRecord) as caught:
        update_record(session, record.id, {"title": "Fast build", "severity": "low"},
                      issue["engineer1"], expected_version=1)
    assert caught.value.current["severity"] == "high"
