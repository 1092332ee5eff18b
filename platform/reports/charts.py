"""Visualisations: turn a Result and a definition's visualisation into a chart description.

The description is an Apache ECharts option (plain data, no code), each data
item carrying the link of its drill-down; a KPI is described as its value,
target and trend. The page always shows the table of the same numbers too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import accumulate
from typing import Any

from andon.reports.compiler import Result, ResultColumn

#: from a row's group values and the measure clicked to its drill-down page
Link = Callable[[Mapping[str, str], str], str]
EMPTY = ""


def group_values(result: Result, row: tuple[Any, ...]) -> dict[str, str]:
    """Return a row's group values as a link carries them (empty text for no value)."""
    return {key: EMPTY if value is None else _text(value)
            for key, value in zip(result.group_keys, row, strict=False)}


def _text(value: Any) -> str:
    """Return a group value as text: instants in ISO form."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _shown(column: ResultColumn, value: Any) -> Any:
    """Return a measure's value as a chart plots it: rates as percentages."""
    if value is None:
        return None
    return round(value * 100, 1) if column.type == "rate" else value


def chart(result: Result, visualisation: Mapping[str, Any], link: Link,
          words: Mapping[str, str]) -> dict[str, Any] | None:
    """Return the chart of a result: an ECharts option, a KPI, or None for a table.

    ``words`` gives, in the reader's language, the label of an empty group (``none``)
    and of a burndown's remaining line (``remaining``).
    """
    empty_label = words["none"]
    kind = visualisation["type"]
    if kind == "table" or not result.rows:
        return None
    measures = [c for c in result.columns if not c.group]
    chosen = [c for key in visualisation.get("measures", []) for c in measures if c.key == key]
    chosen = chosen or measures
    index = {c.key: i for i, c in enumerate(result.columns)}
    width = len(result.group_keys)

    def label(row: tuple[Any, ...]) -> str:
        return " / ".join(empty_label if v is None else _text(c.shown(v))
                          for c, v in zip(result.columns, row[:width], strict=False)) or "—"

    def item(row: tuple[Any, ...], column: ResultColumn) -> dict[str, Any]:
        return {"value": _shown(column, row[index[column.key]]),
                "drill": link(group_values(result, row), column.key)}
    if kind == "kpi":
        return _kpi(result, chosen[0], index, label, item)
    if kind == "pie":
        return {"tooltip": {"trigger": "item"}, "legend": {"type": "scroll"},
                "series": [{"type": "pie", "name": chosen[0].label, "radius": "65%",
                            "data": [{**item(row, chosen[0]), "name": label(row)}
                                     for row in result.rows]}]}
    if kind == "stacked_bar" and width >= 2:
        return _stacked(result, chosen[0], index, link, empty_label)
    if kind == "pareto":
        return _pareto(result, chosen[0], label, item)
    if kind == "burndown" and len(chosen) >= 2:
        return _burndown(result, chosen, label, item, words["remaining"])
    series = [{"type": "line" if kind == "line" else "bar", "name": c.label,
               "data": [item(row, c) for row in result.rows]} for c in chosen]
    return _axes([label(row) for row in result.rows], series, chosen)


def _axes(categories: list[str], series: list[dict[str, Any]],
          columns: list[ResultColumn]) -> dict[str, Any]:
    """Return an option with a category x axis and a value y axis."""
    percent = all(c.type == "rate" for c in columns)
    marks = [{"yAxis": _shown(c, c.target), "name": c.label} for c in columns
             if c.target is not None]
    if marks and series:
        series[0]["markLine"] = {"symbol": "none", "data": marks}
    return {"tooltip": {"trigger": "axis"}, "legend": {"type": "scroll"},
            "xAxis": {"type": "category", "data": categories,
                      "axisLabel": {"interval": 0, "width": 140, "overflow": "break"}},
            "yAxis": {"type": "value", **({"max": 100, "name": "%"} if percent else {})},
            "series": series}


def _stacked(result: Result, column: ResultColumn, index: dict[str, int], link: Link,
             empty_label: str) -> dict[str, Any]:
    """Return bars of the first grouping, stacked by the second."""
    def name(value: Any, at: int) -> str:
        return empty_label if value is None else _text(result.columns[at].shown(value))
    categories = list(dict.fromkeys(name(row[0], 0) for row in result.rows))
    stacks = list(dict.fromkeys(name(row[1], 1) for row in result.rows))
    cells = {(name(row[0], 0), name(row[1], 1)): row for row in result.rows}
    series = []
    for stack in stacks:
        data = []
        for category in categories:
            row = cells.get((category, stack))
            data.append(None if row is None else {
                "value": _shown(column, row[index[column.key]]),
                "drill": link(group_values(result, row), column.key)})
        series.append({"type": "bar", "stack": "total", "name": stack, "data": data})
    return _axes(categories, series, [column])


def _pareto(result: Result, column: ResultColumn, label: Callable[..., str],
            item: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Return bars largest first with the cumulative percentage as a line."""
    at = [c.key for c in result.columns].index(column.key)
    rows = sorted(result.rows, key=lambda row: -(row[at] or 0))
    total = sum(row[at] or 0 for row in rows) or 1
    cumulative = [round(100 * part / total, 1)
                  for part in accumulate(row[at] or 0 for row in rows)]
    option = _axes([label(row) for row in rows],
                   [{"type": "bar", "name": column.label, "data": [item(r, column) for r in rows]},
                    {"type": "line", "name": "%", "yAxisIndex": 1, "data": cumulative}],
                   [column])
    option["yAxis"] = [{"type": "value"}, {"type": "value", "max": 100, "name": "%"}]
    return option


def _burndown(result: Result, columns: list[ResultColumn], label: Callable[..., str],
              item: Callable[..., dict[str, Any]], remaining_label: str) -> dict[str, Any]:
    """Return what was added and done per bucket, and what remains as a line."""
    added, done = columns[0], columns[1]
    keys = [c.key for c in result.columns]
    ins = [row[keys.index(added.key)] or 0 for row in result.rows]
    outs = [row[keys.index(done.key)] or 0 for row in result.rows]
    remaining = [a - b for a, b in zip(accumulate(ins), accumulate(outs), strict=True)]
    series: list[dict[str, Any]] = [
        {"type": "bar", "name": c.label, "data": [item(r, c) for r in result.rows]}
        for c in (added, done)]
    series.append({"type": "line", "name": remaining_label, "data": remaining})
    return _axes([label(row) for row in result.rows], series, [added, done])


def _kpi(result: Result, column: ResultColumn, index: dict[str, int],
         label: Callable[..., str], item: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Return a KPI: the latest value, its target, whether it meets it, and the trend.

    With more than one bucket the trend is also a line chart (``option``) against the
    target.
    """
    values = [row[index[column.key]] for row in result.rows]
    latest = next((v for v in reversed(values) if v is not None), None)  # the latest known
    option = None
    if len(result.rows) > 1:
        option = _axes([label(row) for row in result.rows],
                       [{"type": "line", "name": column.label,
                         "data": [item(row, column) for row in result.rows]}], [column])
    return {"kpi": True, "label": column.label, "type": column.type,
            "value": _shown(column, latest), "target": _shown(column, column.target),
            "better": column.better, "met": _met(column, latest), "option": option,
            "trend": [(label(row), _shown(column, v), _met(column, v))
                      for row, v in zip(result.rows, values, strict=True)]}


def _met(column: ResultColumn, value: Any) -> bool | None:
    """Tell whether a value meets its column's target (None without a target or value)."""
    if column.target is None or value is None:
        return None
    return bool(value >= column.target if column.better == "higher" else value <= column.target)
