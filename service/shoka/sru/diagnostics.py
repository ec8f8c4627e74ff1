"""SRU diagnostics (https://www.loc.gov/standards/sru/diagnostics/diagnosticsList.html): the numbered
reasons an SRU server gives instead of an HTTP error.

Code that finds something wrong with a request raises `SruDiagnostic`; the endpoint turns it into a
well-formed SRU response carrying the diagnostic (`info:srw/diagnostic/1/N`, the standard message and
details naming the parameter, index or value at fault). Bad input never becomes an HTTP 500.
"""

from __future__ import annotations

from dataclasses import dataclass

DIAGNOSTIC_URI_PREFIX = "info:srw/diagnostic/1/"

STANDARD_MESSAGES: dict[int, str] = {
    1: "General system error",
    2: "System temporarily unavailable",
    4: "Unsupported operation",
    5: "Unsupported version",
    6: "Unsupported parameter value",
    7: "Mandatory parameter not supplied",
    8: "Unsupported parameter",
    10: "Query syntax error",
    15: "Unsupported context set",
    16: "Unsupported index",
    19: "Unsupported relation",
    20: "Unsupported relation modifier",
    22: "Unsupported combination of relation and index",
    27: "Empty term unsupported",
    28: "Masking character not supported",
    31: "Anchoring character not supported",
    36: "Term in invalid format for index or relation",
    37: "Unsupported boolean operator",
    38: "Too many boolean operators in query",
    46: "Unsupported boolean modifier",
    48: "Query feature unsupported",
    61: "First record position out of range",
    63: "System error in retrieving records",
    64: "Record temporarily unavailable",
    66: "Unknown schema for retrieval",
    67: "Record not available in this schema",
    71: "Unsupported record packing",
    72: "XPath retrieval unsupported",
    80: "Sort not supported",
    84: "Too many sort keys to sort",
    88: "Unsupported path for sort",
    90: "Unsupported direction value",
    110: "Stylesheets not supported",
}


@dataclass(frozen=True)
class Diagnostic:
    number: int
    details: str = ""
    message: str = ""

    @property
    def uri(self) -> str:
        return f"{DIAGNOSTIC_URI_PREFIX}{self.number}"

    @property
    def text(self) -> str:
        """The human-readable message: the explanation given, or the standard one for the number."""
        return self.message or STANDARD_MESSAGES.get(self.number, "Diagnostic")


class SruDiagnostic(Exception):
    """A fatal diagnostic: the request cannot be answered with records."""

    def __init__(self, number: int, details: str = "", message: str = "") -> None:
        self.diagnostic = Diagnostic(number, details, message or STANDARD_MESSAGES.get(number, ""))
        super().__init__(f"{self.diagnostic.uri}: {self.diagnostic.text} ({details})")
