"""Taxonomies: the checker, versions that never lose a code, retired codes, loading, fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from andon import catalog
from andon.errors import InvalidDefinition, InvalidSubmission, NotFound
from andon.forms import taxonomies, taxonomy_edits
from andon.forms.fields import build_fields
from andon.forms.nodes import walk
from andon.forms.store import deploy_form, form_spec_at
from andon.forms.taxonomy_fields import pickers, readable, validate_codes
from andon.loader import load_folder

ROOT = Path(__file__).resolve().parents[2]
CAUSES = ROOT / "definitions" / "taxonomies" / "causes.json"
DATA = ROOT / "tests" / "data" / "taxonomy"


def node(code: str, en: str = "", zh: str = "", **extra) -> dict:
    """Return one code entry of a taxonomy file."""
    return {"code": code, "label": {"zh-CN": zh or f"{en or code}（中）", "en": en or code},
            **extra}


def tree(*codes: dict, key: str = "small") -> dict:
    """Return a taxonomy file's content."""
    return {"key": key, "title": {"zh-CN": "小", "en": "Small"}, "codes": list(codes)}


def problems(data: object) -> list[tuple[str, str]]:
    """Return the (path, message) problems the checker finds."""
    with pytest.raises(InvalidDefinition) as raised:
        taxonomies.check_taxonomy(data, "t.json")
    return raised.value.problems


def deploy(session, data: dict, user_id=None):
    """Load a taxonomy from its content as a file would."""
    return taxonomies.deploy_taxonomy(session, json.dumps(data, ensure_ascii=False), "t.json",
                                      user_id)


def load_faults(session) -> None:
    """Load the small test taxonomy alone."""
    source = (DATA / "taxonomies" / "faults.json").read_text(encoding="utf-8")
    taxonomies.deploy_taxonomy(session, source, "faults.json")


# The checker: every problem with its JSON path


def test_checker_names_duplicate_codes_anywhere_in_the_tree():
    data = tree(node("a", children=[node("b"), node("c", children=[node("a")])]), node("b"))
    found = dict(problems(data))
    assert found["$.codes[0].children[1].children[0].code"] == (
        "The code 'a' is already used at $.codes[0].")
    assert found["$.codes[1].code"] == "The code 'b' is already used at $.codes[0].children[0]."


def test_checker_names_missing_labels_titles_and_bad_entries():
    data = tree(node("a", children=[{"code": "b", "label": {"en": "B"}}]),
                {"code": "bad code!", "label": "x", "colour": "red"})
    data["title"] = {"en": "Only English"}
    data["owner"] = "me"
    found = problems(data)
    paths = [path for path, _ in found]
    assert '$.title["zh-CN"]' in paths
    assert '$.codes[0].children[0].label["zh-CN"]' in paths
    assert "$.codes[1].code" in paths and "$.codes[1].label" in paths
    assert "$.codes[1].colour" in paths and "$.owner" in paths


def test_checker_caps_depth_and_size():
    deep = node("l1")
    cursor = deep
    for level in range(2, taxonomies.MAX_DEPTH + 2):
        cursor["children"] = [node(f"l{level}")]
        cursor = cursor["children"][0]
    found = dict(problems(tree(deep)))
    path = "$.codes[0]" + ".children[0]" * (taxonomies.MAX_DEPTH - 1) + ".children"
    assert found[path] == f"The tree nests deeper than {taxonomies.MAX_DEPTH} levels."
    many = tree(*[node(f"c{i}") for i in range(taxonomies.MAX_CODES + 1)])
    assert problems(many)[-1] == (f"$.codes[{taxonomies.MAX_CODES}]",
                                  f"The taxonomy has more than {taxonomies.MAX_CODES} codes.")


def test_checker_refuses_an_empty_or_shapeless_taxonomy():
    assert ("$.codes", "Give at least one code.") in problems(tree())
    assert problems([]) == [("$", "The taxonomy must be a JSON object.")]


# The shipped cause classification


def test_shipped_causes_are_external_internal_then_system_mechanism_people():
    data = taxonomies.check_taxonomy(json.loads(CAUSES.read_text()), "causes.json")
    causes = taxonomies.build(data)
    assert [causes.codes[c].label["en"] for c in causes.roots] == ["External", "Internal"]
    for root in causes.roots:
        second = [causes.codes[c].label for c in causes.codes[root].children]
        assert [s["en"] for s in second] == ["System", "Mechanism", "People"]
        assert [s["zh-CN"] for s in second] == ["制度", "机制", "人员"]
    leaves = [c for c in causes.walk() if not c.children]
    assert len(leaves) >= 40 and all(c.depth == 3 for c in leaves)
    assert causes.label("internal.mechanism.missing_review", "en") == (
        "Internal › Mechanism › Missing review step")
    assert causes.label("external.mechanism.requirement_change", "zh-CN") == (
        "外部原因 › 机制 › 客户需求变更")


def test_a_file_round_trips_through_export_unchanged(session):
    taxonomies.deploy_taxonomy(session, CAUSES.read_text(encoding="utf-8"), "causes.json")
    assert taxonomies.export(session, "causes") == CAUSES.read_text(encoding="utf-8")
    version, created = taxonomies.deploy_taxonomy(session, taxonomies.export(session, "causes"),
                                                  "causes.json")
    assert (version.number, created) == (1, False)
    canonical = taxonomies.check_taxonomy(json.loads(CAUSES.read_text()), "causes.json")
    assert taxonomies.dumps(canonical) == CAUSES.read_text(encoding="utf-8")


def test_loading_puts_taxonomies_before_the_forms_that_use_them(session):
    results = load_folder(session, DATA)
    assert [(r.kind, r.key, r.error) for r in results] == [
        ("taxonomy", "faults", None), ("form", "fault_check", None),
        ("form", "fault_report", None), ("flow", "fault", None)]


def test_a_form_naming_a_missing_taxonomy_is_refused_with_the_path(session):
    source = (DATA / "forms" / "fault_report.json").read_text()
    with pytest.raises(InvalidDefinition) as raised:
        deploy_form(session, source, "fault_report.json")
    assert ("$.layout.fields.cause.taxonomy",
            "There is no taxonomy named 'faults'; load it first (definitions/taxonomies/).") in (
        raised.value.problems)
    load_faults(session)
    spoiled = json.loads(source)
    spoiled["schema"]["properties"]["cause"] = {"type": "integer"}
    spoiled["layout"]["fields"]["area"]["levels"] = 0
    with pytest.raises(InvalidDefinition) as raised:
        deploy_form(session, json.dumps(spoiled), "fault_report.json")
    assert dict(raised.value.problems) == {
        "$.layout.fields.cause": "A taxonomy field must be a property of type string.",
        "$.layout.fields.area.levels": "Levels must be a whole number from 1 to 6."}


# Versions: a code is never deleted, only retired


def test_a_version_that_deletes_a_code_is_refused_and_the_published_one_stays(session):
    deploy(session, tree(node("a", children=[node("a1"), node("a2")])))
    with pytest.raises(InvalidDefinition) as raised:
        deploy(session, tree(node("a", children=[node("a1")])))
    assert raised.value.problems[0][0] == "$.codes"
    assert "'a2'" in raised.value.problems[0][1] and "retired" in raised.value.problems[0][1]
    assert taxonomies.current(session, "small").get("a2") is not None
    version, created = deploy(session, tree(node("a", children=[node("a1"),
                                                                 node("a2", retired=True)])))
    assert (version.number, created) == (2, True)
    assert taxonomies.current(session, "small").is_retired("a2")
    assert catalog.current(session, "taxonomy", "small").number == 2


def test_loading_the_same_content_again_makes_no_version(session):
    deploy(session, tree(node("a")))
    spaced = json.dumps(tree(node("a")), indent=8)
    version, created = taxonomies.deploy_taxonomy(session, spaced, "t.json")
    assert (version.number, created) == (1, False)


def test_levels_and_paths_let_reports_group_by_a_level(session):
    load_faults(session)
    assert taxonomies.level(session, "faults", "int.mechanism.review", 1) == "int"
    assert taxonomies.level(session, "faults", "int.mechanism.review", 2) == "int.mechanism"
    assert taxonomies.level(session, "faults", "int.people", 3) is None
    assert [c.code for c in taxonomies.path(session, "faults", "ext.customer.change")] == [
        "ext", "ext.customer", "ext.customer.change"]
    assert taxonomies.label(session, "faults", "int.mechanism.review", "zh-CN") == (
        "内部原因 › 机制 › 缺少评审环节")
    assert taxonomies.label(session, "faults", "gone", "en") == "gone"
    with pytest.raises(NotFound):
        taxonomies.current(session, "nothing")


# Form fields: what may be chosen, what stays, what readers see


@pytest.fixture
def faults(session):
    """Load the small test taxonomy, its forms and flow; return the report form's spec."""
    assert all(r.error is None for r in load_folder(session, DATA))
    return form_spec_at(session, catalog.current(session, "form", "fault_report").id)


def test_new_values_must_be_offered_codes_that_are_not_retired(session, faults):
    assert validate_codes(session, faults, {"cause": "int.mechanism.review",
                                            "area": "int.mechanism"}) == {}
    errors = validate_codes(session, faults, {"cause": "int.mechanism.old", "area": "int"})
    assert errors["cause"].msgid.startswith("%(label)s is retired")
    assert errors["cause"].render(locale="en") == (
        "Internal › Mechanism › Old process is retired and can no longer be chosen; "
        "choose another.")
    assert errors["area"].render(locale="en") == (
        "Choose a more specific entry under Internal.")
    nonsense = validate_codes(session, faults, {"cause": "made.up", "area": "int.mechanism.review"})
    assert nonsense["cause"].render(locale="en") == (
        "made.up is not in the list; choose one of the listed options.")
    assert "area" in nonsense  # level 3 is below the two levels the area field offers


def test_a_retired_code_already_stored_is_kept_when_saved_unchanged(session, faults):
    stored = {"cause": "int.mechanism.old"}
    assert validate_codes(session, faults, stored, previous=stored) == {}
    assert "cause" in validate_codes(session, faults, {"cause": "int.mechanism.old"},
                                     previous={"cause": "int.mechanism.review"})


def test_the_picker_groups_choices_by_path_and_shows_a_stored_retired_code(session, faults):
    fields = pickers(session, faults, build_fields(faults, "en", {}, {}), "en")
    cause = next(f for f in fields if f.name == "cause")
    assert cause.widget == "taxonomy"
    assert [(group, [c.code for c in choices]) for group, choices in cause.extra["groups"]] == [
        ("External › Customer", ["ext.customer.change", "ext.customer.acceptance"]),
        ("Internal › Mechanism", ["int.mechanism.review"]),
        ("Internal", ["int.people"])]
    area = next(f for f in fields if f.name == "area")
    assert [[c.code for c in choices] for _, choices in area.extra["groups"]] == [
        ["ext.customer"], ["int.mechanism", "int.people"]]
    old = pickers(session, faults, build_fields(faults, "zh-CN", {"cause": "int.mechanism.old"},
                                                {}), "zh-CN")[1]
    assert ("内部原因 › 机制", ["int.mechanism.review", "int.mechanism.old"]) in [
        (group, [c.code for c in choices]) for group, choices in old.extra["groups"]]
    assert old.extra["shown"] == "内部原因 › 机制 › 旧流程"


def test_readers_see_the_path_in_their_language_with_retired_codes_marked(session, faults):
    data = {"summary": "Late", "cause": "int.mechanism.old", "area": "ext.customer"}
    assert readable(session, faults, data, "en") == {
        "summary": "Late", "cause": "Internal › Mechanism › Old process (retired)",
        "area": "External › Customer"}
    assert readable(session, faults, data, "zh-CN", lambda s: {
        "%(label)s (retired)": "%(label)s（已停用）"}.get(s, s))["cause"] == (
        "内部原因 › 机制 › 旧流程（已停用）")


# Administrators' edits: each a version with who, names the code on error


def test_each_edit_publishes_a_version_recording_who_and_what(session, staff):
    admin = staff["admin"]
    deploy(session, tree(node("a", "Alpha")))
    taxonomy_edits.add_code(session, "small", "a", "a.one", {"zh-CN": "一", "en": "One"}, admin)
    taxonomy_edits.rename_code(session, "small", "a.one", {"zh-CN": "壹", "en": "First"}, admin)
    taxonomy_edits.set_retired(session, "small", "a.one", True, admin)
    version = taxonomy_edits.set_retired(session, "small", "a.one", False, admin)
    assert version.number == 5 and version.created_by_id == admin.id
    current = taxonomies.current(session, "small")
    assert current.label("a.one", "en") == "Alpha › First" and not current.is_retired("a.one")
    history = taxonomy_edits.history(session, "small")
    assert [(c.number, c.action, c.code) for c in history] == [
        (5, "restored", "a.one"), (4, "retired", "a.one"), (3, "renamed", "a.one"),
        (2, "added", "a.one"), (1, "loaded", "")]
    assert history[0].by == admin and history[-1].by is None
    exported = taxonomies.export(session, "small")
    assert taxonomies.deploy_taxonomy(session, exported, "small.json")[1] is False


def test_edits_refuse_bad_input_naming_the_code_and_change_nothing(session, staff):
    admin = staff["admin"]
    deploy(session, tree(node("a", "Alpha", children=[node("a.one", "One")])))
    with pytest.raises(InvalidSubmission) as raised:
        taxonomy_edits.add_code(session, "small", None, "a.one", {"zh-CN": "", "en": "Again"},
                                admin)
    errors = raised.value.errors
    assert errors["code"].render(locale="en") == 'The code a.one is already used for "One".'
    assert errors["label_zh-CN"].msgid == "Enter the label in this language."
    assert raised.value.values["label_en"] == "Again"
    with pytest.raises(InvalidSubmission) as raised:
        taxonomy_edits.set_retired(session, "small", "a", False, admin)
    assert raised.value.errors["code"].render(locale="en") == "a is not retired."
    with pytest.raises(NotFound) as missing:
        taxonomy_edits.rename_code(session, "small", "zzz", {"zh-CN": "z", "en": "z"}, admin)
    assert "zzz" in str(missing.value)
    assert catalog.current(session, "taxonomy", "small").number == 1


def test_a_field_may_offer_inner_codes_and_stop_at_a_level(session):
    from andon.forms.taxonomy_fields import Hint

    load_faults(session)
    faults = taxonomies.current(session, "faults")
    anything = Hint("faults", leaf_only=False)
    assert [c.code for c in faults.walk() if anything.offers(faults, c.code)] == list(
        faults.codes)
    top = Hint("faults", levels=1)
    assert [c.code for c in faults.walk() if top.offers(faults, c.code)] == ["ext", "int"]
    assert faults.by_level(2) == {
        "ext.customer": "ext.customer", "ext.customer.change": "ext.customer",
        "ext.customer.acceptance": "ext.customer", "int.mechanism": "int.mechanism",
        "int.mechanism.review": "int.mechanism", "int.mechanism.old": "int.mechanism",
        "int.people": "int.people"}


def test_renaming_to_the_same_labels_or_adding_under_a_retired_code_is_refused(session, staff):
    admin = staff["admin"]
    load_faults(session)
    with pytest.raises(InvalidSubmission) as raised:
        taxonomy_edits.rename_code(session, "faults", "int.people",
                                   {"zh-CN": "人员", "en": "People"}, admin)
    assert raised.value.errors["label_en"].render(locale="en") == (
        "These are already the labels of int.people; nothing was changed.")
    with pytest.raises(InvalidSubmission) as raised:
        taxonomy_edits.add_code(session, "faults", "int.mechanism.old", "int.mechanism.old.x",
                                {"zh-CN": "x", "en": "x"}, admin)
    assert raised.value.errors["parent"].render(locale="en") == (
        "int.mechanism.old is retired; restore it before adding codes under it.")
    assert catalog.current(session, "taxonomy", "faults").number == 1


# A table column may be a taxonomy field too (the retrospective's cases)


def fault_log(taxonomy: str = "faults") -> str:
    """Return a form whose table has a taxonomy column."""
    return json.dumps({
        "key": "fault_log", "title": {"en": "Fault log", "zh-CN": "故障记录"},
        "schema": {"type": "object", "properties": {"lines": {"type": "array", "items": {
            "type": "object", "properties": {
                "what": {"type": "string"},
                "cause": {"type": "string", "x-widget": "taxonomy", "x-taxonomy": taxonomy,
                          "x-levels": 3}}}}}},
        "layout": {"order": ["lines"]}})


def test_a_table_column_is_checked_picked_and_read_as_a_taxonomy_field(session, faults):
    with pytest.raises(InvalidDefinition) as raised:
        deploy_form(session, fault_log("nowhere"), "fault_log.json")
    assert "$.schema.properties.lines.items.properties.cause.taxonomy" in dict(
        raised.value.problems)
    version = deploy_form(session, fault_log(), "fault_log.json")[0]
    spec = form_spec_at(session, version.id)
    rows = {"lines": [{"what": "a", "cause": "int.mechanism.review"},
                      {"what": "b", "cause": "made.up"},
                      {"what": "c", "cause": "int.mechanism.old"}]}
    errors = validate_codes(session, spec, rows)
    assert sorted(errors) == ["lines[1][cause]", "lines[2][cause]"]
    assert list(validate_codes(session, spec, rows, previous=rows)) == ["lines[1][cause]"]
    fields = pickers(session, spec, build_fields(spec, "en", rows, {}), "en")
    cell = next(f for f in walk(list(fields))
                if getattr(f, "name", "") == "lines[0][cause]" and f.node == "field")
    assert cell.extra["shown"] == "Internal › Mechanism › Missing review step"
    assert ("Internal › Mechanism", ["int.mechanism.review"]) in [
        (group, [c.code for c in choices]) for group, choices in cell.extra["groups"]]
    assert readable(session, spec, rows, "en")["lines"][2]["cause"] == (
        "Internal › Mechanism › Old process (retired)")
