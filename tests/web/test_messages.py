"""The page word catalogue: every entry in both languages, every key the templates and pages use exists, and
placeholders match between the languages."""

from __future__ import annotations

import re
from pathlib import Path

from shoka.web.i18n import translator
from shoka.web.messages import MESSAGES

SERVICE = Path(__file__).resolve().parents[2] / "service" / "shoka"
TEMPLATES = [*(SERVICE / "web" / "templates").glob("*.html"), *(SERVICE / "opac" / "templates").glob("*.html")]
SOURCES = [*(SERVICE / "web").glob("*.py"), *(SERVICE / "opac").glob("*.py")]
DYNAMIC_PREFIXES = ("sort_", "weekday_")


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in TEMPLATES:
        keys |= set(re.findall(r"""\bt\(["']([a-z0-9_]+)["']""", path.read_text()))
    for path in SOURCES:
        text = path.read_text()
        keys |= set(re.findall(r"""\bt\(["']([a-z0-9_]+)["']""", text))
        keys |= set(re.findall(r'"(param_[a-z_]+)"', text))
        keys |= set(re.findall(r"""translator\(language\)\(["']([a-z0-9_]+)""", text))
        keys |= set(re.findall(r'done_text\(language, "([a-z_]+)"', text))
    return keys


def test_every_used_key_exists():
    documented_example = {"key"}  # i18n.py explains t("key") in its docstring
    missing = [key for key in used_keys() - documented_example if key not in MESSAGES and not key.endswith("_")]
    assert sorted(missing) == []


def test_every_entry_has_both_languages_with_the_same_placeholders():
    for key, entry in MESSAGES.items():
        assert set(entry) == {"ja", "en"} and entry["ja"] and entry["en"], key
        assert set(re.findall(r"{(\w+)}", entry["ja"])) == set(re.findall(r"{(\w+)}", entry["en"])), key


def test_dynamic_keys_cover_their_values():
    for order in ("relevance", "year_newest", "year_oldest", "title", "author"):
        assert f"sort_{order}" in MESSAGES
    assert all(f"weekday_{day}" in MESSAGES for day in range(1, 8))


def test_translator_fills_values_and_falls_back_to_the_key():
    assert translator("ja")("result_count", total="1,234", first=1, last=20) == "1,234件中 1〜20件目"
    assert translator("en")("result_count", total="1,234", first=1, last=20) == "1–20 of 1,234 results"
    assert translator("en")("no_such_key") == "no_such_key"
