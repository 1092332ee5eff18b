"""Taxonomies: administrator-managed, hierarchical, versioned code lists.

A taxonomy file is ``{"key", "title", "codes"}``; each code is ``{"code",
"label": {"zh-CN", "en"}, "children": [...], "retired": true?}``. Codes are
stable: a version may rename or retire a code but never delete one, because
old records keep it. A code under a retired code counts as retired too.
Readers see a code as its path, "Internal › Mechanism › Missing review step",
in their language; reports group by a level of that path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from andon import catalog
from andon.errors import InvalidDefinition, NotFound
from andon.i18n import N_, localize
from andon.jsonfile import parse_json

KIND = "taxonomy"
LOCALES = ("zh-CN", "en")
MAX_DEPTH = 6
MAX_CODES = 2000
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SEPARATOR = " › "
NODE_KEYS = frozenset({"code", "label", "description", "retired", "children"})

Problem = tuple[str, str]


@dataclass(frozen=True)
class Code:
    """One code of a taxonomy, with where it sits in the tree."""

    code: str
    label: dict[str, str]
    parent: str | None
    depth: int
    children: tuple[str, ...]
    retired: bool = False
    description: dict[str, str] | None = None

    def text(self, locale: str) -> str:
        """Return the code's own label in ``locale``."""
        return localize(self.label, locale) or self.code


@dataclass(frozen=True)
class Taxonomy:
    """A checked taxonomy: its codes by code, in tree order."""

    key: str
    title: dict[str, str]
    roots: tuple[str, ...]
    codes: dict[str, Code]

    def get(self, code: str) -> Code | None:
        """Return a code, or None if the taxonomy never had it."""
        return self.codes.get(code)

    def path(self, code: str) -> list[Code]:
        """Return the codes from the root down to ``code`` (empty if unknown)."""
        node, chain = self.codes.get(code), []
        while node is not None:
            chain.append(node)
            node = self.codes.get(node.parent) if node.parent else None
        return chain[::-1]

    def at_level(self, code: str, level: int) -> Code | None:
        """Return the ancestor of ``code`` at ``level`` (1 is the top), or None if shallower."""
        chain = self.path(code)
        return chain[level - 1] if 1 <= level <= len(chain) else None

    def by_level(self, level: int) -> dict[str, str]:
        """Return, for every code at or below ``level``, its ancestor at that level.

        A report groups stored codes by a level of the tree with this mapping
        (e.g. level 2 of the causes: system, mechanism or people).
        """
        mapping = {}
        for node in self.walk():
            ancestor = self.at_level(node.code, level)
            if ancestor is not None:
                mapping[node.code] = ancestor.code
        return mapping

    def is_retired(self, code: str) -> bool:
        """Tell whether a code, or one of its ancestors, is retired."""
        return any(node.retired for node in self.path(code))

    def label(self, code: str, locale: str) -> str:
        """Return the full path of a code in ``locale``; an unknown code is shown as itself."""
        chain = self.path(code)
        return SEPARATOR.join(node.text(locale) for node in chain) if chain else code

    def title_in(self, locale: str) -> str:
        """Return the title in ``locale``."""
        return localize(self.title, locale) or self.key

    def walk(self) -> Iterator[Code]:
        """Yield every code in tree order."""
        return iter(self.codes.values())


def check_taxonomy(data: Any, filename: str) -> dict[str, Any]:
    """Return the taxonomy in canonical form, or raise InvalidDefinition naming every problem."""
    if not isinstance(data, dict):
        _fail(filename, [("$", "The taxonomy must be a JSON object.")])
    problems = _check_envelope(data)
    codes = data.get("codes")
    nodes: list[dict[str, Any]] = []
    if isinstance(codes, list):
        nodes = _check_nodes(codes, "$.codes", 1, {}, problems)
        if not codes:
            problems.append(("$.codes", "Give at least one code."))
    else:
        problems.append(("$.codes", "The codes must be a list of code objects."))
    if problems:
        _fail(filename, problems)
    return {"key": data["key"], "title": dict(data["title"]), "codes": nodes}


def _fail(filename: str, problems: list[Problem]) -> NoReturn:
    """Raise InvalidDefinition for ``filename`` with ``problems``."""
    raise InvalidDefinition(N_("The taxonomy %(file)s is not valid."), problems=problems,
                            file=filename)


def _check_envelope(data: dict[str, Any]) -> list[Problem]:
    """Return problems with the key, the title and unknown top-level entries."""
    problems: list[Problem] = []
    key = data.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        problems.append(("$.key", "The key must be lower-case letters, digits and '_'."))
    problems += _check_label(data.get("title"), "$.title")
    unknown = sorted(set(data) - {"key", "title", "codes"})
    return problems + [(f"$.{name}", "Unknown top-level entry.") for name in unknown]


def _check_label(text: Any, path: str) -> list[Problem]:
    """Return problems with a label: an object with a non-empty text in zh-CN and en."""
    if not isinstance(text, dict):
        return [(path, "Give an object of texts: {\"zh-CN\": ..., \"en\": ...}.")]
    return [(f"{path}[\"{locale}\"]", f"The {locale} text is missing or empty.")
            for locale in LOCALES
            if not isinstance(text.get(locale), str) or not text[locale].strip()]


def _check_nodes(nodes: list[Any], path: str, depth: int, seen: dict[str, str],
                 problems: list[Problem]) -> list[dict[str, Any]]:
    """Check a list of codes and their children; return them in canonical form."""
    result: list[dict[str, Any]] = []
    for index, node in enumerate(nodes):
        where = f"{path}[{index}]"
        if len(seen) >= MAX_CODES:
            problems.append((where, f"The taxonomy has more than {MAX_CODES} codes."))
            return result
        if not isinstance(node, dict):
            problems.append((where, "A code must be a JSON object."))
            continue
        problems += _check_node(node, where, seen)
        children = node.get("children", [])
        canonical = _canonical(node)
        if depth >= MAX_DEPTH and children:
            problems.append((f"{where}.children",
                             f"The tree nests deeper than {MAX_DEPTH} levels."))
        elif isinstance(children, list):
            canonical["children"] = _check_nodes(children, f"{where}.children", depth + 1,
                                                 seen, problems)
        else:
            problems.append((f"{where}.children", "The children must be a list of codes."))
        result.append(canonical)
    return result


def _check_node(node: dict[str, Any], where: str, seen: dict[str, str]) -> list[Problem]:
    """Return problems with one code's own entries, and remember its code."""
    problems: list[Problem] = []
    code = node.get("code")
    if not isinstance(code, str) or not CODE_RE.match(code):
        problems.append((f"{where}.code", "The code must be 1-64 letters, digits, '_', '.' "
                                          "or '-', starting with a letter or digit."))
    elif code in seen:
        problems.append((f"{where}.code", f"The code {code!r} is already used at {seen[code]}."))
    else:
        seen[code] = where
    problems += _check_label(node.get("label"), f"{where}.label")
    if "description" in node and not isinstance(node["description"], dict):
        problems.append((f"{where}.description", "Give an object of texts by locale."))
    if not isinstance(node.get("retired", False), bool):
        problems.append((f"{where}.retired", "Retired must be true or false."))
    return problems + [(f"{where}.{name}", "Unknown entry.")
                       for name in sorted(set(node) - NODE_KEYS)]


def _canonical(node: dict[str, Any]) -> dict[str, Any]:
    """Return one code's entries in canonical form, children left for the caller."""
    canonical: dict[str, Any] = {"code": node.get("code"), "label": node.get("label"),
                                 "retired": node.get("retired", False), "children": []}
    if node.get("description"):
        canonical["description"] = node["description"]
    return canonical


def check_successor(old: Taxonomy, new: dict[str, Any], filename: str) -> None:
    """Refuse a new version that deletes a code of the current one: retire it instead."""
    kept = {node.code for node in build(new).walk()}
    problems = [("$.codes", f"The code {node.code!r} ({node.text('en')}) of the current "
                            "version is missing; old records use it, so keep it and mark it "
                            "\"retired\": true instead.")
                for node in old.walk() if node.code not in kept]
    if problems:
        _fail(filename, problems)


def build(canonical: dict[str, Any]) -> Taxonomy:
    """Return the Taxonomy of a canonical (checked) taxonomy."""
    codes: dict[str, Code] = {}

    def add(nodes: list[dict[str, Any]], parent: str | None, depth: int) -> tuple[str, ...]:
        for node in nodes:
            codes[node["code"]] = Code(
                node["code"], dict(node["label"]), parent, depth,
                tuple(child["code"] for child in node["children"]), bool(node["retired"]),
                node.get("description"))
            add(node["children"], node["code"], depth + 1)
        return tuple(node["code"] for node in nodes)

    roots = add(canonical["codes"], None, 1)
    return Taxonomy(canonical["key"], dict(canonical["title"]), roots, codes)


@lru_cache(maxsize=64)
def _built(compiled: str) -> Taxonomy:
    """Build a taxonomy version once; versions never change."""
    return build(json.loads(compiled))


def compile_canonical(canonical: dict[str, Any]) -> str:
    """Return the compiled JSON of a canonical taxonomy (what fingerprints compare)."""
    return json.dumps(canonical, ensure_ascii=False, sort_keys=True)


def dumps(canonical: dict[str, Any]) -> str:
    """Return a canonical taxonomy as the file an administrator would write."""
    def tidy(node: dict[str, Any]) -> dict[str, Any]:
        out = {"code": node["code"], "label": node["label"]}
        if node.get("description"):
            out["description"] = node["description"]
        if node["retired"]:
            out["retired"] = True
        if node["children"]:
            out["children"] = [tidy(child) for child in node["children"]]
        return out

    data = {"key": canonical["key"], "title": canonical["title"],
            "codes": [tidy(node) for node in canonical["codes"]]}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def deploy_taxonomy(session: Session, source: str, filename: str,
                    user_id: int | None = None) -> tuple[catalog.DefinitionVersion, bool]:
    """Check a taxonomy file and publish it when it changed; codes may not disappear."""
    canonical = check_taxonomy(parse_json(source, filename), filename)
    return publish_canonical(session, canonical, source, filename, user_id)


def publish_canonical(session: Session, canonical: dict[str, Any], source: str,
                      filename: str, user_id: int | None) -> tuple[
                          catalog.DefinitionVersion, bool]:
    """Publish a checked taxonomy as a new version unless its content is unchanged."""
    try:
        check_successor(current(session, canonical["key"]), canonical, filename)
    except NotFound:
        pass
    compiled = compile_canonical(canonical)
    return catalog.publish(session, KIND, canonical["key"], canonical["title"], source,
                           compiled, user_id, fingerprint=compiled)


def current(session: Session, key: str) -> Taxonomy:
    """Return the published version of a taxonomy, or raise NotFound."""
    try:
        version = catalog.current(session, KIND, key)
    except NotFound:
        raise NotFound(N_("There is no taxonomy named %(key)s."), key=key) from None
    return _built(version.compiled)


def at_version(version: catalog.DefinitionVersion) -> Taxonomy:
    """Return the taxonomy as it was in one version."""
    return _built(version.compiled)


def exists(session: Session, key: str) -> bool:
    """Tell whether a taxonomy named ``key`` is published."""
    try:
        current(session, key)
    except NotFound:
        return False
    return True


def label(session: Session, key: str, code: str, locale: str) -> str:
    """Return the full path of a stored code in ``locale``, as every reader should see it."""
    try:
        return current(session, key).label(code, locale)
    except NotFound:
        return code


def path(session: Session, key: str, code: str) -> list[Code]:
    """Return the codes from the root down to a stored code (empty if unknown)."""
    return current(session, key).path(code)


def level(session: Session, key: str, code: str, depth: int) -> str | None:
    """Return the code at ``depth`` (1 is the top) above a stored code, for grouping."""
    node = current(session, key).at_level(code, depth)
    return node.code if node else None


def export(session: Session, key: str) -> str:
    """Return the source of the published version: a file that loads back unchanged."""
    return catalog.current(session, KIND, key).source


def listed(session: Session) -> list[catalog.DefinitionVersion]:
    """Return the published version of every taxonomy."""
    return catalog.published(session, KIND)
