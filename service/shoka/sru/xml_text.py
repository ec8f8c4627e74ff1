"""Writing XML as text: escaping, and dropping what XML 1.0 cannot carry.

SRU responses embed records that are already XML (the stored MARCXML), so responses are assembled as text
rather than as one ElementTree (whose prefix registry is global to the process). Every value from the
catalogue passes through `text` or `attribute` here: MARC-8 records can hold C0 control characters and
stray surrogates that would make the whole response unreadable to a client.
"""

from __future__ import annotations

import re

# C0 controls except tab, newline and carriage return; lone surrogates; the two non-characters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def text(value: object) -> str:
    """Character data: `&`, `<`, `>` escaped, characters XML cannot hold replaced by U+FFFD."""
    cleaned = _NOT_XML.sub("\ufffd", str(value))
    return cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attribute(value: object) -> str:
    """An attribute value for double quotes."""
    return text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


def element(name: str, value: object | None) -> str:
    """`<name>value</name>`, or nothing when there is no value."""
    if value is None or value == "":
        return ""
    return f"<{name}>{text(value)}</{name}>"


def without_declaration(document: str) -> str:
    """The document without a leading `<?xml …?>` declaration, so that it can be embedded in another."""
    stripped = document.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<?xml"):
        end = stripped.find("?>")
        return stripped[end + 2:].lstrip() if end >= 0 else stripped
    return stripped
