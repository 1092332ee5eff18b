"""The report builder's choices: each applied to a copy and checked, or refused naming its
input, with nothing changed."""

from __future__ import annotations

import pytest

from andon.errors import InvalidSubmission
from andon.reports import builder
from andon.reports.drafts import compare, new_definition

TITLE = {"en": "Late", "zh-CN": "延误"}


def refused(session, definition, action, **form) -> dict[str, str]:
    """Return the inputs a refused choice names, with their messages."""
    before = repr(definition)
    with pytest.raises(InvalidSubmission) as caught:
        builder.apply(session, definition, action, form)
    assert repr(definition) == before  # nothing changed
    return {name: message.render() for name, message in caught.value.errors.items()}


def test_choices_build_a_definition(session):
    made = new_definition("late", TITLE)
    for action, form in (
            ("add_filter", {"filter_field": "hours_late", "filter_op": "between",
                            "filter_value": "1, 48.5"}),
            ("add_filter", {"filter_field": "state", "filter_op": "in",
                            "filter_value": "open,completed"}),
            ("add_group", {"group_field": "completed_at", "group_unit": "month"}),
            ("add_measure", {"measure_agg": "rate", "measure_key": "on_time",
                             "measure_label_en": "On time", "num_field": "on_time",
                             "num_op": "is_true", "den_field": "on_time", "den_op": "not_null",
                             "target_value": "0.9"}),
            ("add_measure", {"measure_agg": "percentile", "measure_field": "hours_taken",
                             "measure_p": "90"}),
            ("add_sort", {"sort_key": "completed_at_month", "sort_dir": "desc"}),
            ("add_parameter", {"param_type": "date_range", "param_field": "completed_at",
                               "param_default": "this_quarter"}),
            ("add_parameter", {"param_type": "flow"}),
            ("visualisation", {"vis_type": "line"}),
            ("limit", {"limit": "50"})):
        made = builder.apply(session, made, action, form)
    assert made["filters"] == [{"field": "hours_late", "op": "between", "value": [1, 48.5]},
                               {"field": "state", "op": "in", "value": ["open", "completed"]}]
    assert made["group_by"] == [{"field": "completed_at", "bucket": "month"}]
    rate, p90 = made["measures"][1:]
    assert rate["numerator"] == [{"field": "on_time", "op": "is_true"}]
    assert rate["denominator"] == [{"field": "on_time", "op": "not_null"}]
    assert rate["target"] == {"value": 0.9, "better": "higher"}
    assert (p90["key"], p90["p"], p90["label"]) == (
        "percentile_hours_taken", 90.0, {"en": "percentile_hours_taken",
                                         "zh-CN": "percentile_hours_taken"})
    assert made["parameters"] == [{"key": "period", "type": "date_range",
                                   "field": "completed_at", "default": "this_quarter"},
                                  {"key": "flow", "type": "flow"}]
    assert (made["visualisation"], made["limit"]) == ({"type": "line"}, 50)
    made = builder.apply(session, made, "remove_filter", {"index": "0"})
    assert [f["field"] for f in made["filters"]] == ["state"]


def test_a_choice_that_does_not_fit_is_refused_naming_its_input(session):
    made = new_definition("late", TITLE)
    assert refused(session, made, "add_filter", filter_field="on_time", filter_op="gt",
                   filter_value="1") == {
        "filter_op": "Not applied: gt does not apply to a boolean field ($.filters[0].op)."}
    assert "filter_value" in refused(session, made, "add_filter", filter_field="state",
                                     filter_op="eq", filter_value="lost")
    assert list(refused(session, made, "add_filter", filter_field="hours_late",
                        filter_op="gt", filter_value="soon")) == ["filter_value"]
    assert list(refused(session, made, "add_group", group_field="state",
                        group_unit="week")) == ["group_unit"]
    assert list(refused(session, made, "add_measure", measure_agg="sum",
                        measure_field="state")) == ["measure_field"]
    assert list(refused(session, made, "add_measure", measure_agg="count",
                        measure_key="count")) == ["measure_key"]
    assert list(refused(session, made, "add_measure", measure_agg="rate", num_field="on_time",
                        num_op="eq", num_value="1")) == ["num_op"]
    assert list(refused(session, made, "add_sort", sort_key="nothing")) == ["sort_key"]
    assert list(refused(session, made, "add_parameter", param_type="date_range",
                        param_field="state")) == ["param_field"]
    assert list(refused(session, made, "visualisation", vis_type="radar")) == ["vis_type"]
    assert list(refused(session, made, "limit", limit="100000")) == ["limit"]
    assert list(refused(session, made, "dataset", dataset="salaries")) == ["dataset"]
    assert set(refused(session, made, "settings", title_en="", title_zh="")) == {
        "title_en", "title_zh"}


def test_versions_compare_path_by_path():
    older = new_definition("late", TITLE)
    newer = {**older, "visualisation": {"type": "pareto"},
             "group_by": [{"field": "cause", "level": 2}]}
    assert compare(older, newer) == [
        ("$.group_by", "[]", '[{"field": "cause", "level": 2}]'),
        ("$.visualisation.type", '"table"', '"pareto"')]


def test_the_chart_plots_the_chosen_measures(session):
    made = builder.apply(session, new_definition("late", TITLE), "add_measure",
                         {"measure_agg": "max", "measure_field": "hours_late"})
    made = builder.apply(session, made, "visualisation",
                         {"vis_type": "bar", "vis_measures": "max_hours_late"})
    assert made["visualisation"] == {"type": "bar", "measures": ["max_hours_late"]}
    assert refused(session, made, "visualisation", vis_type="bar",
                   vis_measures="nothing") == {
        "vis_measures": "Not applied: no measure 'nothing' ($.visualisation.measures[0])."}
