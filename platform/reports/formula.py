"""A report's formula (口径) in plain words, generated from its definition.

Each measure gets a line ("On-time rate = number of Tasks where Completed on
time is yes, divided by number of Tasks where Task state is Completed"), then
the filters, the reader's parameters, the grouping and each KPI target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel import Locale
from babel.lists import format_list
from babel.numbers import format_decimal

from andon.i18n import N_, localize
from andon.reports.datasets import Dataset, dataset
from andon.reports.definition import ReportSpec, level_of

Translate = Callable[[str], str]
AGGREGATE_TEXT = {
    "count": N_("number of %(what)s"), "count_distinct": N_("number of distinct %(what)s"),
    "sum": N_("total %(what)s"), "avg": N_("average %(what)s"),
    "min": N_("smallest %(what)s"), "max": N_("largest %(what)s"),
    "min datetime": N_("earliest %(what)s"), "max datetime": N_("latest %(what)s"),
    "percentile": N_("percentile %(p)s of %(what)s"),
}
OPERATOR_TEXT = {
    "eq": N_("is"), "ne": N_("is not"), "lt": N_("is below"), "le": N_("is at most"),
    "gt": N_("is above"), "ge": N_("is at least"), "in": N_("is one of"),
    "is_null": N_("is empty"), "not_null": N_("is not empty"),
    "between": N_("is between"), "not_in": N_("is none of"), "contains": N_("contains"),
    "is_true": N_("is yes"), "is_false": N_("is no"),
}
BUCKETS = {"day": N_("day"), "week": N_("week"), "month": N_("month"),
           "quarter": N_("quarter")}
PARAMETERS = {"date_range": N_("%(field)s within the period the reader chooses"),
              "flow": N_("%(field)s as the reader chooses"),
              "project": N_("%(field)s as the reader chooses"),
              "org_unit": N_("%(field)s as the reader chooses")}


def formula(spec: ReportSpec, locale: str, translate: Translate,
            source: Dataset | None = None) -> list[str]:
    """Describe in plain words how each number is computed (the report's 口径)."""
    source = source or dataset(spec.body["dataset"], locale)
    if source is None:  # a records dataset read without a session: say what we can
        return [localize(m["label"], locale) for m in spec.body["measures"]]
    lines = [f"{localize(m['label'], locale)} = {measure_text(source, m, locale, translate)}"
             for m in spec.body["measures"]]
    where = [condition_text(source, c, locale, translate)
             for c in spec.body.get("filters", [])]
    where += [translate(PARAMETERS[p["type"]]) % {"field": _parameter_field(source, p, translate)}
              for p in spec.body.get("parameters", [])]
    if where:
        lines.append(translate(N_("Only where: %(conditions)s"))
                     % {"conditions": listed(where, locale)})
    by = [grouping_text(source, name, unit, translate) for _, name, unit in spec.groups]
    if by:
        lines.append(translate(N_("Grouped by: %(fields)s")) % {"fields": listed(by, locale)})
    lines += [_target_text(m, locale, translate) for m in spec.body["measures"] if "target" in m]
    return lines


def grouping_text(source: Dataset, name: str, unit: str | None, translate: Translate) -> str:
    """Say one grouping: "Step", "Completed by month" or "Cause at level 2"."""
    label = translate(source.fields[name].label)
    if unit is None:
        return label
    if level_of(unit) is not None:
        return translate(N_("%(field)s at level %(level)s")) % {"field": label,
                                                                "level": level_of(unit)}
    return translate(N_("%(field)s by %(unit)s")) % {"field": label,
                                                     "unit": translate(BUCKETS[unit])}


def _parameter_field(source: Dataset, parameter: dict[str, Any], translate: Translate) -> str:
    """Return what a parameter narrows: a date range's field, else the parameter's name."""
    from andon.reports.parameters import LABELS

    if parameter["type"] != "date_range":
        return translate(LABELS[parameter["type"]])
    return translate(source.fields[parameter["field"]].label)


def _target_text(measure: dict[str, Any], locale: str, translate: Translate) -> str:
    """Say a KPI's target, e.g. "Target for On-time rate: at least 90%"."""
    target = measure["target"]
    value = _number(target["value"], measure["agg"] == "rate", locale)
    text = N_("at most %(value)s") if target.get("better") == "lower" else N_("at least %(value)s")
    return translate(N_("Target for %(measure)s: %(target)s")) % {
        "measure": localize(measure["label"], locale),
        "target": translate(text) % {"value": value}}


def _number(value: float, ratio: bool, locale: str) -> str:
    """Return a number as the locale writes it, a ratio as a percentage."""
    code = locale.replace("-", "_")
    if ratio:
        return format_decimal(value * 100, "#,##0.#", locale=code) + "%"
    return format_decimal(value, "#,##0.##", locale=code)


def measure_text(source: Dataset, measure: dict[str, Any], locale: str,
                 translate: Translate) -> str:
    """Say what one measure computes, e.g. "earliest Created" or a rate's two counts."""
    agg = measure["agg"]
    if agg == "rate":
        # the numerator only ever counts rows of the denominator; saying so twice reads badly
        top = _counted(source, [*measure.get("where", []), *measure["numerator"]], locale,
                       translate)
        bottom = _counted(source, measure.get("denominator", []), locale, translate)
        return translate(N_("%(top)s divided by %(bottom)s")) % {"top": top, "bottom": bottom}
    what = source.fields[measure["field"]] if "field" in measure else None
    kind = f"{agg} {what.type}" if what else agg
    text = translate(AGGREGATE_TEXT.get(kind, AGGREGATE_TEXT[agg])) % {
        "what": translate(what.label if what else source.label), "p": measure.get("p", "")}
    if measure.get("where"):
        text = _with_where(text, source, measure["where"], locale, translate)
    if "bucket_on" in measure:
        text += " " + translate(N_("(counted on %(field)s)")) % {
            "field": translate(source.fields[measure["bucket_on"]].label)}
    return text


def _counted(source: Dataset, conditions: list[dict[str, Any]], locale: str,
             translate: Translate) -> str:
    """Say "number of Tasks where …" for a list of conditions."""
    text = translate(AGGREGATE_TEXT["count"]) % {"what": translate(source.label)}
    return _with_where(text, source, conditions, locale, translate) if conditions else text


def _with_where(text: str, source: Dataset, conditions: list[dict[str, Any]], locale: str,
                translate: Translate) -> str:
    """Append "where A and B" to a measure's words."""
    said = [condition_text(source, c, locale, translate) for c in conditions]
    return translate(N_("%(what)s where %(conditions)s")) % {
        "what": text, "conditions": listed(said, locale)}


def condition_text(source: Dataset, condition: dict[str, Any], locale: str,
                   translate: Translate) -> str:
    """Say what one filter keeps, e.g. "Task state is Open"."""
    field = source.fields[condition["field"]]
    values = condition.get("value")
    values = values if isinstance(values, list) else [] if values is None else [values]
    shown = [translate(field.choices[str(v)]) if str(v) in field.choices else str(v)
             for v in values]
    style = "standard" if condition["op"] == "between" else "or"
    return " ".join([translate(field.label), translate(OPERATOR_TEXT[condition["op"]]),
                     listed(shown, locale, style) if shown else ""]).strip()


def listed(items: list[str], locale: str, style: str = "standard") -> str:
    """Join items as the locale lists things ("A, B and C", "A、B和C")."""
    return format_list(items, style=style,  # type: ignore[arg-type]
                       locale=Locale.parse(locale, sep="-") if "-" in locale else locale)
