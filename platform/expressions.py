"""Evaluate administrator-typed expressions without giving them Python's power.

Text is parsed with :mod:`ast` and the tree is walked by hand; only the node
types and functions listed here exist. There is no attribute access, no import,
no loop and no ``eval``: a ``__class__`` escape has nothing to stand on. Size,
depth, step count, exponents and produced sequences are bounded. Dates,
date-times and durations come from :mod:`andon.temporal`. docs/expressions.md
describes the language.
"""

from __future__ import annotations

import ast
import copy
import functools
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from andon import temporal
from andon.errors import AndonError
from andon.i18n import N_

MAX_LENGTH = 2000
MAX_SCRIPT_LENGTH = 20000
MAX_NODES = 400
MAX_DEPTH = 40
MAX_STEPS = 10000
MAX_EXPONENT = 256
MAX_INT_BITS = 4096
MAX_SEQUENCE = 10000

_SCALARS = (str, int, float, bool, type(None))
_ORDERED = (*_SCALARS, *temporal.TEMPORAL)

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
    ast.Invert: operator.invert,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_ALLOWED = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.List, ast.Tuple, ast.Dict,
    ast.Subscript, ast.Slice, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.And, ast.Or,
    ast.Compare, ast.IfExp, ast.Call, *_BINARY, *_UNARY, *_COMPARE,
)
_CONSTRUCTS = {
    ast.Attribute: "attribute access", ast.Lambda: "lambda", ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension", ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression", ast.NamedExpr: "assignment expression (:=)",
    ast.JoinedStr: "f-string", ast.Starred: "unpacking (*)", ast.Set: "set literal",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Compare: "comparison",
    ast.Subscript: "subscript", ast.Slice: "slice", ast.Name: "name",
}
_SYMBOLS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.UAdd: "+", ast.USub: "-", ast.Not: "not", ast.Invert: "~",
}

NOT_ALLOWED = N_("%(construct)s is not allowed (line %(line)d, column %(column)d)")
NAME_NOT_ALLOWED = N_("Name '%(name)s' is not allowed (line %(line)d, column %(column)d)")
UNKNOWN_NAME = N_("Unknown name '%(name)s' (line %(line)d, column %(column)d)")


class ExpressionError(AndonError):
    """An expression or script is malformed, not allowed, or failed to evaluate."""


def _scalar(name: str, value: Any, allowed: tuple[type, ...] = _SCALARS) -> Any:
    """Return ``value`` if it is a plain scalar, else refuse it for function ``name``."""
    if not isinstance(value, allowed):
        raise TypeError(f"{name}() takes a number, text, boolean or None")
    return value


def _min_max(pick: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``min`` or ``max`` restricted to scalar, date and duration items."""
    def call(*args: Any) -> Any:
        items = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
        return pick([_scalar(pick.__name__, item, _ORDERED) for item in items])
    return call


def _str(value: Any) -> str:
    """Return a scalar as text; dates and durations as ISO 8601."""
    return str(temporal.to_json(_scalar("str", value, _ORDERED)))


def _round(value: Any, digits: int | None = None) -> Any:
    """Round a number to at most 20 digits either side of the point."""
    if digits is not None and abs(int(digits)) > 20:
        raise ValueError("round() takes at most 20 digits")
    return round(value, digits)


def _text(name: str, method: Callable[[str], str]) -> Callable[[Any], str]:
    """Return a one-argument text function that refuses non-text."""
    def call(value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"{name}() takes text")
        return method(value)
    return call


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "abs": abs, "min": _min_max(min), "max": _min_max(max), "round": _round,
    "sum": lambda items: sum(_scalar("sum", i) for i in items),
    "int": int, "float": float, "bool": bool,
    "str": _str,
    "lower": _text("lower", str.lower), "upper": _text("upper", str.upper),
    **temporal.FUNCTIONS,
}


def _fail(msgid: str, node: ast.AST | None, **params: Any) -> ExpressionError:
    """Build an error located at ``node`` (1-based line and column)."""
    line = getattr(node, "lineno", 1)
    column = getattr(node, "col_offset", 0) + 1
    return ExpressionError(msgid, line=line, column=column, **params)


def _construct(node: ast.AST) -> str:
    """Name the construct a node stands for, as a reader would say it."""
    if isinstance(node, ast.Attribute):
        return f"attribute access '.{node.attr}'"
    if isinstance(node, ast.Constant):
        return f"constant of type {type(node.value).__name__}"
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return f"operator '{_SYMBOLS.get(type(node.op), '?')}'"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return f"{node.func.id}()"
    return _CONSTRUCTS.get(type(node), type(node).__name__)


def _refused(node: ast.AST, construct: str | None = None) -> ExpressionError:
    """Build the error for a construct that is not allowed."""
    return _fail(NOT_ALLOWED, node, construct=construct or _construct(node))


def _check_node(node: ast.AST) -> None:
    """Refuse a node outside the whitelist, a bad call or a dunder name."""
    if not isinstance(node, _ALLOWED) or (
            isinstance(node, ast.Constant) and not isinstance(node.value, _SCALARS)):
        raise _refused(node)
    if isinstance(node, ast.Dict) and None in node.keys:
        raise _refused(node, "unpacking (**)")
    if isinstance(node, ast.Call):
        _check_call(node)
    if isinstance(node, ast.Name) and node.id.startswith("__"):
        raise _fail(NAME_NOT_ALLOWED, node, name=node.id)


def _check_call(node: ast.Call) -> None:
    """Allow only positional calls to a whitelisted function by its bare name."""
    if not isinstance(node.func, ast.Name):
        raise _refused(node.func)
    name = node.func.id
    if name not in FUNCTIONS:
        raise _fail(N_("Calling '%(name)s' is not allowed (line %(line)d, column %(column)d)"),
                    node, name=name)
    if node.keywords:
        raise _refused(node, f"keyword arguments to {name}()")


def _validate(root: ast.AST) -> None:
    """Check node count, depth and whitelist, without recursion."""
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _fail(N_("The expression is too complex: more than %(limit)d parts"),
                        None, limit=MAX_NODES)
        if depth > MAX_DEPTH:
            raise _fail(N_("The expression is nested too deeply (line %(line)d, column "
                           "%(column)d)"), node)
        _check_node(node)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check_names(root: ast.AST, names: frozenset[str]) -> None:
    """Refuse names that are neither in ``names`` nor a called function."""
    called = {id(n.func) for n in ast.walk(root) if isinstance(n, ast.Call)}
    for node in ast.walk(root):
        if isinstance(node, ast.Name) and id(node) not in called and node.id not in names:
            raise _fail(UNKNOWN_NAME, node, name=node.id)


def _parse(text: Any, mode: str, limit: int) -> ast.AST:
    """Parse ``text`` or raise an ExpressionError with its line and column."""
    if not isinstance(text, str):
        raise ExpressionError(N_("An expression must be text"))
    if len(text) > limit:
        raise ExpressionError(N_("The expression is too long: %(length)d characters, "
                                 "at most %(limit)d"), length=len(text), limit=limit)
    try:
        return ast.parse(text.strip() if mode == "eval" else text, mode=mode)
    except SyntaxError as err:
        raise ExpressionError(N_("Syntax error: %(detail)s (line %(line)d, column %(column)d)"),
                              detail=err.msg, line=err.lineno or 1,
                              column=err.offset or 1) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(N_("The expression is nested too deeply")) from None


@functools.lru_cache(maxsize=512)
def _compile(expression: str) -> ast.Expression:
    """Parse and validate one expression (cached by text)."""
    tree = _parse(expression, "eval", MAX_LENGTH)
    _validate(tree)
    assert isinstance(tree, ast.Expression)
    return tree


class _Evaluator:
    """Walk a validated tree over a context, counting steps."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.context = context
        self.steps = 0

    def visit(self, node: ast.AST) -> Any:
        """Evaluate one node."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _fail(N_("The expression takes too many steps (line %(line)d, "
                           "column %(column)d)"), node)
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise _refused(node)
        try:
            return method(node)
        except (TypeError, ValueError, ArithmeticError, LookupError) as err:
            raise _fail(N_("%(construct)s failed: %(detail)s (line %(line)d, column "
                           "%(column)d)"), node, construct=_construct(node),
                        detail=str(err) or type(err).__name__) from None

    def visit_Expression(self, node: ast.Expression) -> Any:
        return self.visit(node.body)

    def visit_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id not in self.context:
            raise _fail(UNKNOWN_NAME, node, name=node.id)
        return self.context[node.id]

    def visit_List(self, node: ast.List) -> list[Any]:
        return [self.visit(item) for item in node.elts]

    def visit_Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return tuple(self.visit(item) for item in node.elts)

    def visit_Dict(self, node: ast.Dict) -> dict[Any, Any]:
        keys = [self.visit(key) for key in node.keys if key is not None]
        return dict(zip(keys, (self.visit(value) for value in node.values), strict=True))

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        container = self.visit(node.value)
        if not isinstance(container, (dict, list, tuple, str)):
            raise TypeError(f"{type(container).__name__} cannot be indexed")
        return container[self.visit(node.slice)]

    def visit_Slice(self, node: ast.Slice) -> slice:
        parts = (node.lower, node.upper, node.step)
        return slice(*(None if part is None else self.visit(part) for part in parts))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        return _bounded(_UNARY[type(node.op)](self.visit(node.operand)))

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        _precheck(node.op, left, right)
        return _bounded(_BINARY[type(node.op)](left, right))

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        value: Any = None
        for item in node.values:
            value = self.visit(item)
            if bool(value) == isinstance(node.op, ast.Or):
                return value
        return value

    def visit_Compare(self, node: ast.Compare) -> bool:
        left = self.visit(node.left)
        for op, item in zip(node.ops, node.comparators, strict=True):
            right = self.visit(item)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body if self.visit(node.test) else node.orelse)

    def visit_Call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)
        args = [self.visit(arg) for arg in node.args]
        return _bounded(FUNCTIONS[node.func.id](*args))


def _precheck(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too large to build."""
    if isinstance(op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
        raise ValueError(f"exponent larger than {MAX_EXPONENT}")
    if isinstance(op, ast.Mod) and isinstance(left, str):
        raise TypeError("text formatting with % is not supported")
    if isinstance(op, (ast.Add, ast.Sub)):
        temporal.add(left, right)
    seq, count = (left, right) if isinstance(right, int) else (right, left)
    if isinstance(op, ast.Mult) and isinstance(seq, (str, list, tuple)) \
            and isinstance(count, int) and len(seq) * count > MAX_SEQUENCE:
        raise ValueError(f"result longer than {MAX_SEQUENCE}")


def _bounded(value: Any) -> Any:
    """Return ``value`` unless it is an oversized number or sequence."""
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise OverflowError("number too large")
    if isinstance(value, (str, list, tuple, dict)) and len(value) > MAX_SEQUENCE:
        raise ValueError(f"result longer than {MAX_SEQUENCE}")
    return value


def _tree(expression: Any) -> ast.Expression:
    """Return the validated tree of ``expression``."""
    if not isinstance(expression, str):
        raise ExpressionError(N_("An expression must be text"))
    return _compile(expression)


def evaluate(expression: str, context: Mapping[str, Any], zone: Any = None) -> Any:
    """Evaluate ``expression`` with names from ``context``; today() and now() in ``zone``.

    Without a zone they are in the installation's (ANDON_TIMEZONE).
    """
    tree = _tree(expression)
    with temporal.local_time(zone):
        return _Evaluator(context).visit(tree)


def check(expression: str, names: Iterable[str] | None = None) -> None:
    """Raise ExpressionError unless ``expression`` parses, is allowed and uses known names."""
    tree = _tree(expression)
    if names is not None:
        _check_names(tree, frozenset(names))


def _assignments(script: Any) -> list[tuple[str, ast.expr]]:
    """Parse a script made only of ``name = expression`` lines into (name, tree) pairs."""
    tree = _parse(script, "exec", MAX_SCRIPT_LENGTH)
    assert isinstance(tree, ast.Module)
    pairs: list[tuple[str, ast.expr]] = []
    last_line = 0
    for stmt in tree.body:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else None
        if len(getattr(stmt, "targets", ())) != 1 or not isinstance(target, ast.Name) \
                or stmt.lineno == last_line:
            raise _fail(N_("Only lines of the form 'name = expression' are allowed, one per "
                           "line (line %(line)d, column %(column)d)"), stmt)
        if target.id.startswith("_"):
            raise _fail(NAME_NOT_ALLOWED, target, name=target.id)
        assert isinstance(stmt, ast.Assign)
        _validate(stmt.value)
        pairs.append((target.id, stmt.value))
        last_line = stmt.lineno
    return pairs


def check_assignments(script: str, names: Iterable[str] | None = None) -> None:
    """Raise ExpressionError unless ``script`` is valid for :func:`run_assignments`."""
    known = None if names is None else set(names)
    for name, value in _assignments(script):
        if known is not None:
            _check_names(value, frozenset(known))
            known.add(name)


def run_assignments(script: str, context: Mapping[str, Any],
                    zone: Any = None) -> dict[str, Any]:
    """Run ``name = expression`` lines in order; return the assigned names and JSON values.

    Later lines see a date as a date; the results hold it as ISO 8601 text, like a
    form's date field, so task data stays JSON.
    """
    results: dict[str, Any] = {}
    scope = dict(context)
    evaluator = _Evaluator(scope)
    with temporal.local_time(zone):
        for name, value in _assignments(script):
            scope[name] = copy.deepcopy(evaluator.visit(value))
            results[name] = temporal.to_json(scope[name])
    return results
