"""The Simplified Chinese catalogue is complete, keeps every placeholder and matches the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "platform" / "translations"
ZH_PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"

# A python-format placeholder with a name: %(name)s, %(line)d, %(limit)05.2f ...
PLACEHOLDER = re.compile(r"%\((?P<name>[^)]*)\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z]")


def _read(path: Path) -> Catalog:
    """Read a .po or .pot file with Babel."""
    with path.open("rb") as handle:
        return read_po(handle)


def _texts(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    """Return the singular and plural forms of a msgid or msgstr as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _messages(catalog: Catalog) -> list[Message]:
    """Return the catalogue's messages without the header entry."""
    return [message for message in catalog if message.id]


def _label(message: Message) -> str:
    """Return the msgid to show in an assertion message."""
    return _texts(message.id)[0]


@pytest.fixture(scope="module")
def zh_catalog() -> Catalog:
    """The zh_Hans_CN catalogue as Babel reads it."""
    return _read(ZH_PO)


def test_every_message_is_translated_and_not_fuzzy(zh_catalog: Catalog) -> None:
    messages = _messages(zh_catalog)
    assert messages, f"{ZH_PO} holds no messages"
    untranslated = [_label(m) for m in messages
                    if not _texts(m.string) or not all(s.strip() for s in _texts(m.string))]
    fuzzy = [_label(m) for m in messages if m.fuzzy]
    assert not untranslated, f"Untranslated in {ZH_PO.name}: {untranslated}"
    assert not fuzzy, f"Marked fuzzy in {ZH_PO.name}: {fuzzy}"
    assert not zh_catalog.fuzzy, f"The header of {ZH_PO.name} is marked fuzzy"


def test_placeholders_match_the_msgid(zh_catalog: Catalog) -> None:
    wrong = []
    for message in _messages(zh_catalog):
        wanted = {p.group(0) for text in _texts(message.id) for p in PLACEHOLDER.finditer(text)}
        for translation in _texts(message.string):
            found = {p.group(0) for p in PLACEHOLDER.finditer(translation)}
            if translation and found != wanted:
                wrong.append(f"{_label(message)!r}: expected {sorted(wanted)}, "
                             f"got {sorted(found)} in {translation!r}")
    assert not wrong, "Placeholders differ from the msgid:\n" + "\n".join(wrong)


def test_placeholder_check_notices_a_broken_placeholder() -> None:
    """Guard the regular expression itself: a changed name or type must not pass."""
    def tokens(text: str) -> set[str]:
        return {p.group(0) for p in PLACEHOLDER.finditer(text)}

    msgid = "%(actor)s started %(flow)s (line %(line)d)"
    assert tokens(msgid) == {"%(actor)s", "%(flow)s", "%(line)d"}
    assert tokens("%(actor)s 发起了 %(flow)s（第 %(line)s 行）") != tokens(msgid)
    assert tokens("%(actor)s 发起了 %(flows)s（第 %(line)d 行）") != tokens(msgid)
    assert tokens("%(actor)s 发起了（第 %(line)d 行）") != tokens(msgid)


def test_catalogue_is_up_to_date_with_the_code(zh_catalog: Catalog, tmp_path: Path) -> None:
    template = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    command = [str(pybabel)] if pybabel.exists() else [
        sys.executable, "-c", "from babel.messages.frontend import main; main()"]
    result = subprocess.run(
        [*command, "extract", "-F", "babel.cfg", "-k", "N_", "-o", str(template),
         "--no-location", "."],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, f"pybabel extract failed:\n{result.stderr}"
    extracted = _messages(_read(template))
    assert extracted, "pybabel extract found no messages; is babel.cfg still right?"
    missing = [_label(m) for m in extracted if m.id not in zh_catalog]
    assert not missing, (
        f"{len(missing)} message(s) in the code are missing from {ZH_PO.name}; "
        f"run `make messages` to update the catalogues, then translate them: {missing}"
    )
