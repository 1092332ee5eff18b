"""Mark user-facing strings in framework-free code for translation.

The domain packages do not import Flask, so they cannot translate. They mark
their messages with ``N_`` so that ``pybabel extract`` finds them, and hand
the untranslated message id with its parameters to the web layer, which
translates it in the reader's language (see ``andon.web.i18n``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOCALES = ("zh_Hans_CN", "en")
DEFAULT_LOCALE = "zh_Hans_CN"


def N_(msgid: str) -> str:
    """Mark a message id for extraction; return it unchanged."""
    return msgid


@dataclass(frozen=True)
class Message:
    """A message id with the named parameters its translation interpolates."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, gettext: Any = None, locale: str = "en") -> str:
        """Return the message in the language of ``gettext``; {en, zh-CN} params in ``locale``."""
        text = gettext(self.msgid) if gettext else self.msgid
        if not self.params:
            return text
        params = {name: localize(value, locale) if isinstance(value, Mapping) else value
                  for name, value in self.params.items()}
        return text % params


def normalize_locale(locale: str) -> str:
    """Return the definition-file spelling (``en``, ``zh-CN``) of a locale."""
    lowered = locale.replace("_", "-").lower()
    if lowered.startswith("zh"):
        return "zh-CN"
    if lowered.startswith("en"):
        return "en"
    return locale


def localize(text: Any, locale: str) -> str:
    """Return the ``locale`` entry of a localized text, falling back to en, zh-CN, any."""
    if isinstance(text, str):
        return text
    if not isinstance(text, Mapping) or not text:
        return ""
    for candidate in (locale, normalize_locale(locale), "en", "zh-CN"):
        if candidate in text:
            return str(text[candidate])
    return str(next(iter(text.values())))


def translator(locale: str | None) -> Callable[[str], str]:
    """Return gettext for a locale from the compiled catalogues, without Flask (for email)."""
    from babel.support import Translations

    folder = Path(__file__).resolve().parent / "translations"
    chosen = locale if locale in LOCALES else DEFAULT_LOCALE
    return Translations.load(str(folder), [chosen]).gettext  # type: ignore[no-any-return]


def in_every_locale(message: Message) -> dict[str, str]:
    """Render a message in each UI language, to store it where it is read later (an event)."""
    return {normalize_locale(locale): message.render(translator(locale), normalize_locale(locale))
            for locale in LOCALES}
