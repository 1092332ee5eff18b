"""Refuse `pattern` regular expressions that can take exponential time (ReDoS).

jsonschema checks ``pattern`` with Python's backtracking ``re``, which cannot be
interrupted: one submission of thirty characters against ``(a+)+$`` would hold
a worker for minutes. An administrator's pattern is therefore parsed when the
definition is saved and refused when it has one of the two shapes that
backtrack catastrophically:

- a repetition inside an unbounded repetition (star height above one), such as
  ``(a+)+``, ``(\\w+\\s?)*`` or ``(?:x*y?)*``;
- alternatives that can start with the same character inside an unbounded
  repetition, such as ``(a|ab)*`` or ``(\\d|\\d\\d)+``.

This is the rule of safe-regex and similar linters: conservative (a few
harmless patterns are refused too, with the way to rewrite them said), never
permissive for these shapes. Bounded repetitions (``{2,5}``) are allowed.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from andon.i18n import N_

# The regular-expression parser of the standard library (what re.compile runs first).
parser: Any = importlib.import_module("re._parser")
C: Any = importlib.import_module("re._constants")

UNBOUNDED_OVER = 10  # a repetition allowing more than this many times counts as unbounded
REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT)
CLASSES = {C.CATEGORY_DIGIT: "digit", C.CATEGORY_WORD: "word", C.CATEGORY_SPACE: "space"}
# Which built-in classes can share a character.
DISJOINT = {frozenset({"digit", "space"}), frozenset({"word", "space"})}
ANY = "any"

NESTED = N_("The pattern repeats a repetition, such as (a+)+: it can take exponential time "
          "on some inputs. Repeat a single item instead, e.g. [a-z ]+ for ([a-z]+ ?)+.")
OVERLAP = N_("The pattern repeats alternatives that can start alike, such as (a|ab)*: it can "
           "take exponential time on some inputs. Make each alternative start differently.")


def backtracking_problem(pattern: str) -> str | None:
    """Return why the pattern may backtrack catastrophically, or None if it is safe."""
    try:
        parsed = parser.parse(pattern)
    except re.error:
        return None  # not compiling is reported on its own
    return _check(list(parsed), None)


Items = list[tuple[Any, Any]]


def _check(items: Items, delimiters: list[set[Any]] | None) -> str | None:
    """Walk parsed items; say what is wrong with the first risky repetition found.

    ``delimiters`` is None outside unbounded repetitions; inside one, it lists the
    first-character sets of the single characters every iteration must match. A
    varying repetition inside is safe when some delimiter cannot be part of it:
    ``(-[a-z]+)*`` is linear, ``([a-z]+-?)*`` is not.
    """
    for op, arg in items:
        found: str | None = None
        if op in REPEATS and op != C.POSSESSIVE_REPEAT:
            low, high, body = arg
            body = list(body)
            if delimiters is not None and high != low and not any(
                    not _meet(_chars(body), delimiter) for delimiter in delimiters):
                return NESTED
            unbounded = high is C.MAXREPEAT or high > UNBOUNDED_OVER
            found = _check(body, _mandatory(body) if unbounded else delimiters)
        elif op == C.SUBPATTERN:
            found = _check(list(arg[-1]), delimiters)
        elif op == C.BRANCH:
            branches = [list(branch) for branch in arg[1]]
            starts = [_first(branch) for branch in branches]
            if delimiters is not None and any(
                    _meet(a, b) for i, a in enumerate(starts) for b in starts[i + 1:]):
                return OVERLAP
            found = next((problem for branch in branches
                          if (problem := _check(branch, delimiters))), None)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            found = _check(list(arg[1]), delimiters)
        if found:
            return found
    return None


def _mandatory(items: Items) -> list[set[Any]]:
    """Return the first-character sets of the single characters ``items`` always match."""
    found = []
    for op, arg in items:
        if op in (C.LITERAL, C.IN):
            found.append(_first([(op, arg)]))
        elif op == C.SUBPATTERN:
            found += _mandatory(list(arg[-1]))
        elif op in REPEATS and arg[0] > 0 and len(arg[2]) == 1:
            found += _mandatory(list(arg[2]))
    return found


def _chars(items: Items) -> set[Any]:
    """Return the characters a body can match, when it is made of single characters."""
    found: set[Any] = set()
    for op, arg in items:
        if op in (C.LITERAL, C.IN):
            found |= _first([(op, arg)])
        elif op == C.SUBPATTERN:
            found |= _chars(list(arg[-1]))
        elif op in REPEATS:
            found |= _chars(list(arg[2]))
        elif op == C.BRANCH:
            found = found.union(*(_chars(list(branch)) for branch in arg[1]))
        else:
            return {ANY}
    return found


def _first(items: Items) -> set[Any]:
    """Return what the first character may be: code points and class names (or ANY)."""
    if not items:
        return {ANY}  # an empty alternative matches with anything after it
    op, arg = items[0]
    if op == C.LITERAL:
        return {arg}
    if op == C.IN:
        found: set[Any] = set()
        for kind, value in arg:
            if kind == C.LITERAL:
                found.add(value)
            elif kind == C.RANGE:
                found.update(range(value[0], min(value[1], value[0] + 256) + 1))
            elif kind == C.CATEGORY and value in CLASSES:
                found.add(CLASSES[value])
            else:
                return {ANY}
        return found
    if op == C.SUBPATTERN:
        return _first(list(arg[-1]) + items[1:])
    if op == C.BRANCH:
        return set().union(*(_first(list(branch)) for branch in arg[1]))
    if op in REPEATS and arg[0] > 0:
        return _first(list(arg[2]))
    return {ANY}


def _meet(one: set[Any], other: set[Any]) -> bool:
    """Tell whether two first-character sets can share a character."""
    if ANY in one or ANY in other:
        return True
    if one & other:
        return True
    for a in one:
        for b in other:
            if isinstance(a, str) and isinstance(b, str):
                if frozenset({a, b}) not in DISJOINT:
                    return True
            elif isinstance(a, str) or isinstance(b, str):
                name, code = (a, b) if isinstance(a, str) else (b, a)
                if _in_class(chr(code), name):
                    return True
    return False


def _in_class(char: str, name: str) -> bool:
    """Tell whether a character belongs to a built-in class."""
    if name == "digit":
        return char.isdigit()
    if name == "space":
        return char.isspace()
    return char.isalnum() or char == "_"
