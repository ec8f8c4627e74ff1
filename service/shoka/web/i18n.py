"""Japanese first, English second: choosing the page language and looking up the words pages need.

The language comes from `?lang=en|ja` (remembered in a cookie) or the cookie alone; Japanese otherwise. Page
texts live in the templates as `t("key")` look-ups of the catalogue in messages.py, so both languages stay side
by side; `t("key", name=value)` fills `{name}` placeholders.
"""

from __future__ import annotations

from typing import Literal

from litestar.connection import ASGIConnection

from shoka.web.messages import MESSAGES

Language = Literal["ja", "en"]
LANGUAGE_COOKIE = "shoka_lang"


def request_language(request: ASGIConnection) -> Language:
    requested = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    return "en" if requested == "en" else "ja"


def translator(language: Language):
    def translate(key: str, **values: object) -> str:
        entry = MESSAGES.get(key)
        if entry is None:
            return key
        text = entry[language]
        return text.format(**values) if values else text

    return translate


__all__ = ["LANGUAGE_COOKIE", "Language", "MESSAGES", "request_language", "translator"]
