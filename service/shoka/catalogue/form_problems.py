"""Validation errors of the cataloguing forms, per field and in both languages.

A form is checked as a whole: every field with a problem is named at once, so the page can show each message
beside its field and keep everything the cataloguer typed. Scripts get the same errors as `{"code", "message"}`
JSON (422) through the one error mapping.
"""

from __future__ import annotations

import msgspec

from shoka.errors import Unprocessable


class Problem(msgspec.Struct, frozen=True):
    ja: str
    en: str

    def text(self, language: str) -> str:
        return self.en if language == "en" else self.ja


class FormProblems(Unprocessable):
    """The form's fields that cannot be saved as typed, each with what to do."""

    code = "invalid_form"

    def __init__(self, problems: dict[str, Problem]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{field}: {problem.ja} / {problem.en}" for field, problem in problems.items()))


class ProblemCollector:
    """Collects problems field by field; `raise_if_any` raises them together."""

    def __init__(self) -> None:
        self.problems: dict[str, Problem] = {}

    def add(self, field: str, ja: str, en: str) -> None:
        self.problems.setdefault(field, Problem(ja, en))

    def raise_if_any(self) -> None:
        if self.problems:
            raise FormProblems(self.problems)
