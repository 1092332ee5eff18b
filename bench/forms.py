"""Measure form validation and rendering on a 30-field form, print the figures.

    .venv/bin/python bench/forms.py [--submissions 10000] [--renders 200]

The form has 30 fields: 20 at the top (text, numbers with ranges and steps,
dates, enums, a checkbox group) and a table of order lines (3 rows of 4 fields)
inside a section, plus a condition. Prints the time to validate the
submissions with the validator compiled once and cached by schema hash,
the same with a validator compiled for every submission, their ratio, and the
time to build and draw the whole form (view-models plus ``_fields.html``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from jsonschema import Draft202012Validator

from andon.forms import validation
from andon.forms.fields import build_fields
from andon.forms.schema import FormSpec, check_definition
from andon.forms.shapes import FormValidator
from andon.forms.validation import _compiled, validate, validate_submission

ROOT = Path(__file__).resolve().parent.parent


def thirty_fields() -> FormSpec:
    """Return a form of 30 fields: 20 at the top, a section with a table of 3x4, a condition."""
    props: dict[str, Any] = {}
    for index in range(6):
        props[f"text_{index}"] = {"type": "string", "maxLength": 200, "title": f"Text {index}"}
        props[f"amount_{index}"] = {"type": "number", "minimum": 0, "multipleOf": 0.01}
    for index in range(3):
        props[f"day_{index}"] = {"type": "string", "format": "date"}
        props[f"choice_{index}"] = {"enum": ["a", "b", "c"]}
    props["tags"] = {"type": "array", "uniqueItems": True, "items": {"enum": ["x", "y", "z"]}}
    props["express"] = {"type": "boolean"}
    props["order"] = {"type": "object", "title": "Order", "properties": {"lines": {
        "type": "array", "minItems": 1, "items": {"type": "object", "required": ["item"],
                                                  "properties": {
                                                      "item": {"type": "string"},
                                                      "qty": {"type": "integer", "minimum": 1},
                                                      "price": {"type": "number"},
                                                      "note": {"type": "string"}}}}}}
    schema = {"type": "object", "required": ["text_0", "amount_0"], "properties": props,
              "if": {"properties": {"express": {"const": True}}, "required": ["express"]},
              "then": {"required": ["day_0"]}}
    return check_definition({"key": "bench", "title": "Bench", "schema": schema}, "bench.json")


def submission(index: int) -> dict[str, str]:
    """Return one submitted form; every tenth has mistakes."""
    form = {f"text_{i}": f"value {index}" for i in range(6)}
    form |= {f"amount_{i}": f"{index % 1000}.{i}5" for i in range(6)}
    form |= {f"day_{i}": "2026-11-22" for i in range(3)}
    form |= {f"choice_{i}": "abc"[i] for i in range(3)}
    form |= {"tags[0]": "x", "tags[2]": "z", "express": "on", "order[lines][#]": "3"}
    for row in range(3):
        form |= {f"order[lines][{row}][item]": f"I{row}", f"order[lines][{row}][qty]": "2",
                 f"order[lines][{row}][price]": "9.99", f"order[lines][{row}][note]": ""}
    if index % 10 == 0:
        form |= {"amount_1": "abc", "order[lines][1][qty]": "0"}
    return form


def per_op(seconds: float, count: int) -> str:
    """Return a duration per operation in microseconds or milliseconds."""
    micros = seconds / count * 1e6
    return f"{micros:8.1f} µs" if micros < 1000 else f"{micros / 1000:8.2f} ms"


def bench_validation(spec: FormSpec, count: int) -> tuple[float, float]:
    """Return the seconds to validate ``count`` submissions cached, then compiled each time."""
    forms = [submission(i) for i in range(count)]
    _compiled.cache_clear()
    validation._by_identity.clear()
    began = time.perf_counter()
    for form in forms:
        validate_submission(spec, form)
    cached = time.perf_counter() - began
    began = time.perf_counter()
    for form in forms:
        _compiled.cache_clear()
        validation._by_identity.clear()
        validate_submission(spec, form)
    uncached = time.perf_counter() - began
    return cached, uncached


def bench_check_only(spec: FormSpec, count: int) -> tuple[float, float]:
    """Return the seconds of the jsonschema check alone, cached and compiled each time."""
    data = [validate_submission(spec, submission(i))[0] for i in range(min(count, 1000))]
    began = time.perf_counter()
    for item in data:
        validate(spec, item)
    cached = (time.perf_counter() - began) * count / len(data)
    canonical = json.dumps(spec.schema)
    began = time.perf_counter()
    for item in data:
        list(FormValidator(json.loads(canonical),
                           format_checker=Draft202012Validator.FORMAT_CHECKER).iter_errors(item))
    uncached = (time.perf_counter() - began) * count / len(data)
    return cached, uncached


def bench_render(spec: FormSpec, count: int) -> tuple[float, float, int]:
    """Return seconds per build of the view-models and per drawing of the HTML, and its size."""
    env = Environment(loader=FileSystemLoader(str(ROOT / "platform/web/templates")),
                      autoescape=True)
    page = env.from_string("{% from '_fields.html' import render_fields %}"
                           "{{ render_fields(fields, None) }}")
    form = submission(0)
    _, errors = validate_submission(spec, form)
    began = time.perf_counter()
    for _ in range(count):
        fields = build_fields(spec, "zh_Hans_CN", form, errors, "Asia/Shanghai")
    built = (time.perf_counter() - began) / count
    began = time.perf_counter()
    for _ in range(count):
        html = page.render(fields=fields)
    drawn = (time.perf_counter() - began) / count
    return built, drawn, len(html)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=10000)
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    spec = thirty_fields()
    count = args.submissions
    print(f"form: 30 fields ({len(submission(0))} inputs), {count} submissions, "
          f"1 in 10 invalid")
    cached, uncached = bench_validation(spec, count)
    print(f"validate submission  cached   {cached:7.2f} s total  {per_op(cached, count)} each")
    print(f"validate submission  uncached {uncached:7.2f} s total  "
          f"{per_op(uncached, count)} each  ratio {uncached / cached:5.1f}x")
    check, check_uncached = bench_check_only(spec, count)
    print(f"jsonschema check     cached   {check:7.2f} s total  {per_op(check, count)} each")
    print(f"jsonschema check     uncached {check_uncached:7.2f} s total  "
          f"{per_op(check_uncached, count)} each  ratio {check_uncached / check:5.1f}x")
    built, drawn, size = bench_render(spec, args.renders)
    print(f"render 30-field form view-models {built * 1000:6.2f} ms   "
          f"HTML {drawn * 1000:6.2f} ms   ({size} bytes, {args.renders} renders)")


if __name__ == "__main__":
    main()
