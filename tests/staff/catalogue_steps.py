"""Steps shared by the cataloguing tests: submitting a page's form as a browser would (every field with the value
the page shows, changed where the test says), and waiting for search to follow a change."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import httpx

SEARCH_WAIT_SECONDS = 5.0


class _FormFields(HTMLParser):
    """The successful controls of one form, in document order (names may repeat, as the author rows do)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._template_depth = 0

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        if tag == "form" and attributes.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "template":
            self._template_depth += 1
        if self._template_depth:
            return
        name = attributes.get("name")
        if tag == "input" and name and attributes.get("type") not in ("submit", "button", "file"):
            if attributes.get("type") in ("radio", "checkbox") and "checked" not in attributes:
                return
            self.fields.append((name, attributes.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((attributes.get("value", ""), "selected" in attributes))

    def handle_data(self, data):
        if self._textarea is not None:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "template" and self._template_depth:
            self._template_depth -= 1
        elif tag == "textarea" and self._textarea is not None:
            name, value = self.fields[-1]
            # A browser drops the one newline that may follow <textarea>.
            self.fields[-1] = (name, value[1:] if value.startswith("\n") else value)
            self._textarea = None
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected]
            first = self._options[0][0] if self._options else ""
            self.fields.append((self._select, chosen[0] if chosen else first))
            self._select = None
        elif tag == "form" and self.inside:
            self.inside = False


def form_fields(html: str, form_id: str) -> dict[str, list[str]]:
    parser = _FormFields(form_id)
    parser.feed(html)
    fields: dict[str, list[str]] = {}
    for name, value in parser.fields:
        if name != "_csrf_token":
            fields.setdefault(name, []).append(value)
    assert fields, f"no form {form_id!r} on the page"
    return fields


def changed(fields: dict[str, list[str]], **values: str | list[str]) -> dict[str, list[str]]:
    return {**fields, **{name: value if isinstance(value, list) else [value] for name, value in values.items()}}


def bib_id_of(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text[-2000:]
    return int(re.search(r"/staff/catalogue/bibs/(\d+)", response.headers["location"]).group(1))


def create_record(client, **values: str | list[str]) -> int:
    """A record made through the new-record form, as a cataloguer fills it in."""
    fields = form_fields(client.get("/staff/catalogue/new").text, "record-form")
    return bib_id_of(client.post("/staff/catalogue/bibs", changed(fields, intent="save-form", **values),
                                 token_from="/staff/catalogue/new"))


def search_until(base_url: str, predicate, **parameters) -> tuple[dict, float]:
    """Polls GET /api/v1/search until `predicate(page)` holds; returns the page and the seconds it took."""
    started = time.monotonic()
    while True:
        page = httpx.get(f"{base_url}/api/v1/search", params=parameters, timeout=10).json()
        elapsed = time.monotonic() - started
        if predicate(page) or elapsed > SEARCH_WAIT_SECONDS:
            return page, elapsed
        time.sleep(0.05)


def hit_ids(page: dict) -> list[int]:
    return [hit["bib_id"] for hit in page.get("hits", [])]
