"""One small real library for the OPAC tests, served by the real server (granian, two workers).

Real records (NDL JAPAN/MARC and the Aozora Bunko list from ../shared/data), four service points, copies in
every availability state, patrons with web passwords (argon2id and legacy hashes) and personal data that must
never appear on a public page, loans (one overdue), holds (waiting, ready) and a reading record. Rows are
written with SQL plus their outbox events, as the circulation service will write them. The server trusts
X-Forwarded-For from 127.0.0.1, so each test can act from its own client address (rate limits are per address),
and addresses in 192.0.2.0/24 are kiosk terminals.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from shoka.audit import Actor
from shoka.auth.passwords import hash_password
from shoka.catalogue.imports import import_aozora_list, import_marc_files
from shoka.clock import library_today
from tests.conftest import RunningServer, create_database_from_template

IMPORTED_AT = dt.datetime(2026, 4, 1, tzinfo=dt.timezone.utc)
KIOSK_NETWORK = "192.0.2.0/24"
STAFF_USER, STAFF_PASSWORD = "counter-kiosk", "counter-password-1"
SECRET_NAME = "秘密山"  # a patron's family name: must never appear on any page
SECRET_PHONE = "047-999-1234"
SECRET_EMAIL = "himitsu@example.jp"
_addresses = itertools.count(10)


@dataclass
class Patron:
    card: str
    password: str
    patron_id: int = 0


@dataclass
class TestLibrary:
    server: RunningServer
    database_url: str
    bibs: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    patrons: dict[str, Patron] = field(default_factory=dict)
    holds: dict[str, int] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.server.base_url


PATRONS = {
    "alice": Patron("1000000001", "alice-password-1"),
    "bob": Patron("1000000002", "bob-password-22"),
    "carol": Patron("1000000003", "carol-legacy-md5"),
    "dave": Patron("1000000004", "dave-legacy-sha256"),
    "erin": Patron("1000000005", "erin-password-55"),
    "frank": Patron("1000000006", "frank-password-6"),
    "grace": Patron("1000000007", "grace-password-7"),
    "heidi": Patron("1000000008", "heidi-password-8"),
    "ivan": Patron("1000000009", "ivan-password-99"),
    "judy": Patron("1000000010", "judy-password-10"),
    "kate": Patron("1000000011", "kate-password-11"),
    "leo": Patron("1000000012", "leo-password-012"),
    "mallory": Patron("1000000013", "mallory-pass-13"),
}

# Real records by title prefix (NDL JAPAN/MARC sample).
BIB_TITLES = {
    "kore_kara": "これからの本の話をしよう", "no_wo_tsukuru": "脳を創る読書", "web_shousetsu": "ウェブ小説の衝撃",
    "denshi_seisaku": "電子書籍の制作と販売", "kindle_unlimited": "キンドル・アンリミテッドの衝撃",
    "digital_kaeru": "デジタルが変える出版と図書館", "amazon_kindle": "Amazon Kindle",
    "business_report": "電子書籍ビジネス調査報告書", "chiteki": "知的財産・コンピュータと法",
    "gakko": "学校図書館における電子書籍利用モデル", "denshi_toshokan": "電子図書館・電子書籍貸出サービス",
}


def next_client_address() -> str:
    """A fresh client address for one test (the server believes X-Forwarded-For from 127.0.0.1)."""
    number = next(_addresses)
    return f"198.51.{100 + number // 250}.{number % 250 + 1}"


def _legacy_hash(scheme: str, password: str, salt: str = "") -> str:
    algorithm = {"legacy_md5": "md5", "legacy_sha256": "sha256"}[scheme]
    digest = hashlib.new(algorithm, (salt + password).encode()).hexdigest()
    return f"{salt}${digest}" if salt else digest.upper()


def build_library(database_url: str, shared_data) -> dict:
    actor = Actor(kind="cli", name="test")
    import_marc_files(database_url, [shared_data / "marc" / "ndl_japanmarc_133.mrc"], dry_run=False,
                      skip_rejects=True, actor=actor, now=IMPORTED_AT)
    import_aozora_list(database_url, shared_data / "aozora" / "list_person_all_utf8_2017.csv", dry_run=False,
                       actor=actor, now=IMPORTED_AT)
    today = library_today()
    ids: dict = {"bibs": {}, "items": {}, "patrons": {}, "holds": {}}
    with psycopg.connect(database_url) as connection:
        places = {}
        for code, name_ja, name_en, kind, pickup, order in [
                ("central", "中央図書館", "Central Library", "central", True, 1),
                ("gyotoku", "行徳図書館", "Gyotoku Library", "branch", True, 2),
                ("minami", "南行徳図書館", "Minami-Gyotoku Library", "branch", True, 3),
                ("bookmobile", "移動図書館", "Bookmobile", "bookmobile", False, 4)]:
            places[code] = connection.execute(
                "INSERT INTO service_point (code, name_ja, name_en, kind, is_pickup_point, sort_order) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                [code, name_ja, name_en, kind, pickup, order]).fetchone()[0]
        connection.execute("INSERT INTO calendar_weekly_closure (service_point_id, iso_weekday) VALUES (%s, 1)",
                           [places["central"]])
        shelves = {}
        for place, code, name_ja, name_en in [("central", "general", "一般書架", "General shelves"),
                                              ("central", "reference", "参考図書", "Reference"),
                                              ("gyotoku", "general", "一般書架", "General shelves")]:
            shelves[(place, code)] = connection.execute(
                "INSERT INTO shelf_location (service_point_id, code, name_ja, name_en) VALUES (%s, %s, %s, %s) "
                "RETURNING id", [places[place], code, name_ja, name_en]).fetchone()[0]
        connection.execute("INSERT INTO patron_category (code, name_ja, name_en) VALUES ('adult', '一般', 'Adult')")
        # One rule for everything: 14 days, 10 items, one renewal, holds kept 7 days on the shelf.
        connection.execute("""INSERT INTO circulation_rule (loan_days, max_items_of_type, max_items_total, max_renewals,
                                  holds_allowed, max_holds, hold_pickup_days) VALUES (14, 10, 10, 1, true, 10, 7)""")
        for key, prefix in BIB_TITLES.items():
            ids["bibs"][key] = connection.execute("SELECT id FROM bib WHERE title LIKE %s ORDER BY id LIMIT 1",
                                                  [prefix + "%"]).fetchone()[0]
        ids["bibs"]["aozora_ginga"] = connection.execute(
            "SELECT id FROM bib WHERE source = 'aozora' AND title = '銀河鉄道の夜' ORDER BY id LIMIT 1").fetchone()[0]

        def item(barcode: str, bib: str, place: str, shelf: str | None = "general", policy: str = "normal",
                 status: str = "available", call_number: str = "023/コ") -> int:
            item_id = connection.execute(
                "INSERT INTO item (barcode, bib_id, service_point_id, shelf_location_id, call_number, material_type, "
                "status, loan_policy, acquired_on) VALUES (%s, %s, %s, %s, %s, 'book', %s, %s, %s) RETURNING id",
                [barcode, ids["bibs"][bib], places[place], shelves.get((place, shelf)), call_number, status, policy,
                 today - dt.timedelta(days=len(ids["items"]))]).fetchone()[0]
            ids["items"][barcode] = item_id
            return item_id

        item("C1001", "kore_kara", "central")
        item("C1002", "kore_kara", "central", "reference", policy="in_library_only")
        item("G1001", "kore_kara", "gyotoku")
        item("C2001", "no_wo_tsukuru", "central", call_number="019/モ")
        item("C3001", "web_shousetsu", "central")
        item("C4001", "denshi_seisaku", "central")
        item("C5001", "kindle_unlimited", "central")
        item("G5001", "kindle_unlimited", "gyotoku", status="in_process")
        item("C6001", "digital_kaeru", "central")
        item("C7001", "amazon_kindle", "central")
        item("C8001", "business_report", "central")
        item("C9001", "chiteki", "central")
        item("M9002", "chiteki", "minami", shelf=None)
        item("C1101", "gakko", "central")
        item("C1201", "denshi_toshokan", "gyotoku", shelf="general")

        for name, patron in PATRONS.items():
            home = places["gyotoku" if name == "bob" else "central"]
            status = "card_lost" if name == "frank" else "active"
            expires = today - dt.timedelta(days=30) if name == "grace" else today + dt.timedelta(days=700)
            patron_id = connection.execute(
                "INSERT INTO patron (card, category, home_service_point_id, expires_on, status, keeps_reading_record, "
                "age_band) VALUES (%s, 'adult', %s, %s, %s, %s, '30-39') RETURNING id",
                [patron.card, home, expires, status, name in ("alice", "ivan")]).fetchone()[0]
            connection.execute(
                "INSERT INTO patron_personal (patron_id, family_name, given_name, family_name_reading, "
                "given_name_reading, phone, email, address) VALUES (%s, %s, %s, 'ヒミツヤマ', 'ハナコ', %s, %s, "
                "'千葉県市川市八幡1-1-1')", [patron_id, SECRET_NAME, name, SECRET_PHONE, SECRET_EMAIL])
            scheme, stored = "argon2id", None
            if name == "carol":
                scheme, stored = "legacy_md5", _legacy_hash("legacy_md5", patron.password, salt="s4lt")
            elif name == "dave":
                scheme, stored = "legacy_sha256", _legacy_hash("legacy_sha256", patron.password)
            connection.execute(
                "INSERT INTO patron_credential (patron_id, password_hash, hash_scheme) VALUES (%s, %s, %s)",
                [patron_id, stored or hash_password(patron.password), scheme])
            ids["patrons"][name] = patron_id

        events: list[tuple[str, int, dict]] = [("item", item_id, {}) for item_id in ids["items"].values()]

        def loan(barcode: str, patron: str, due_in_days: int, *, returned_days_ago: int | None = None,
                 renewals: int = 0) -> int:
            checked_out = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=20)
            returned = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=returned_days_ago)
                        if returned_days_ago is not None else None)
            loan_id = connection.execute(
                "INSERT INTO loan (item_id, patron_id, service_point_id, checked_out_at, due_on, renewals, "
                "returned_at, return_service_point_id, patron_category, patron_age_band, material_type) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'adult', '30-39', 'book') RETURNING id",
                [ids["items"][barcode], ids["patrons"][patron], places["central"], checked_out,
                 today + dt.timedelta(days=due_in_days), renewals, returned,
                 places["central"] if returned else None]).fetchone()[0]
            events.append(("loan", loan_id, {"item_id": ids["items"][barcode]}))
            return loan_id

        def hold(key: str, bib: str, patron: str, pickup: str, *, hours_ago: int, status: str = "waiting",
                 trapped: str | None = None) -> int:
            ready = status == "ready"
            hold_id = connection.execute(
                "INSERT INTO hold (patron_id, bib_id, pickup_service_point_id, placed_at, placed_via, status, "
                "trapped_item_id, ready_at, pickup_by) VALUES (%s, %s, %s, now() - %s * interval '1 hour', 'opac', "
                "%s, %s, %s, %s) RETURNING id",
                [ids["patrons"][patron], ids["bibs"][bib], places[pickup], hours_ago, status,
                 ids["items"][trapped] if trapped else None, dt.datetime.now(dt.timezone.utc) if ready else None,
                 today + dt.timedelta(days=7) if ready else None]).fetchone()[0]
            ids["holds"][key] = hold_id
            events.append(("hold", hold_id, {"item_id": ids["items"][trapped] if trapped else None}))
            return hold_id

        loan("G1001", "bob", 10)
        loan("C2001", "alice", 5)
        loan("C3001", "alice", -3)
        loan("C6001", "alice", 0, returned_days_ago=2)
        loan("C9001", "alice", 0, returned_days_ago=1)
        loan("C8001", "judy", 3)
        loan("C1101", "judy", 2)
        loan("C1201", "kate", 7)
        loan("C4001", "ivan", 0, returned_days_ago=3)
        hold("bob_no_wo", "no_wo_tsukuru", "bob", "gyotoku", hours_ago=30)
        hold("carol_denshi", "denshi_seisaku", "carol", "central", hours_ago=48)
        hold("alice_denshi", "denshi_seisaku", "alice", "central", hours_ago=24)
        hold("alice_ready", "kindle_unlimited", "alice", "central", hours_ago=72, status="ready", trapped="C5001")
        hold("judy_cancel", "amazon_kindle", "judy", "central", hours_ago=10)
        hold("judy_pickup", "business_report", "judy", "central", hours_ago=9)
        hold("judy_trapped", "chiteki", "judy", "minami", hours_ago=8, status="in_transit", trapped="M9002")
        hold("bob_gakko", "gakko", "bob", "central", hours_ago=5)
        for topic, entity_id, payload in events:
            connection.execute("INSERT INTO outbox_event (topic, entity_id, payload) VALUES (%s, %s, %s)",
                               [topic, entity_id, Jsonb(payload)])
    return ids


@pytest.fixture(scope="package")
def library(postgres_maintenance_url, template_database_url, shared_data, tmp_path_factory) -> TestLibrary:
    database_url = create_database_from_template(postgres_maintenance_url, f"shoka_test_{os.getpid()}_opac")
    ids = build_library(database_url, shared_data)
    saved = {name: os.environ.get(name) for name in ("SHOKA_TRUSTED_PROXIES", "SHOKA_KIOSK_ADDRESSES")}
    os.environ.update({"SHOKA_TRUSTED_PROXIES": "127.0.0.1", "SHOKA_KIOSK_ADDRESSES": KIOSK_NETWORK})
    try:
        server = RunningServer(database_url, tmp_path_factory.mktemp("opac-home"))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        server.wait_until_healthy()
        result = server.run_cli("staff", "add", STAFF_USER, "--role", "counter", input_text=STAFF_PASSWORD + "\n")
        assert result.returncode == 0, result.stderr
        patrons = {name: Patron(patron.card, patron.password, ids["patrons"][name]) for name, patron in PATRONS.items()}
        yield TestLibrary(server=server, database_url=database_url, bibs=ids["bibs"], items=ids["items"],
                          patrons=patrons, holds=ids["holds"])
    finally:
        server.stop()


_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


class Browser:
    """An httpx client that behaves like a browser: keeps cookies, sends forms with the page's CSRF token."""

    def __init__(self, library: TestLibrary, *, address: str | None = None, language: str | None = None) -> None:
        self.address = address or next_client_address()
        headers = {"X-Forwarded-For": self.address, "Accept": "text/html"}
        self.client = httpx.Client(base_url=library.base_url, headers=headers, follow_redirects=False, timeout=30)
        self.library = library
        self.language = language

    def get(self, path: str, **parameters) -> httpx.Response:
        return self.client.get(path, params=parameters or None)

    def csrf_token(self, path: str = "/login") -> str:
        match = _CSRF.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, data: dict, *, token_from: str = "/login") -> httpx.Response:
        return self.client.post(path, data={**data, "_csrf_token": self.csrf_token(token_from)})

    def login(self, patron: Patron, next_path: str | None = None) -> httpx.Response:
        data = {"card": patron.card, "password": patron.password}
        if next_path:
            data["next"] = next_path
        return self.post("/login", data)

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def browser(library):
    client = Browser(library)
    yield client
    client.close()


def eventually(check, timeout_seconds: float = 10.0):
    import time

    deadline = time.monotonic() + timeout_seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


# --- A small HTML tree, enough to check the documented markup without a third-party parser. ---------------
from html.parser import HTMLParser  # noqa: E402

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attributes: dict[str, str | None], parent: "Node | None") -> None:
        self.tag, self.attributes, self.parent = tag, attributes, parent
        self.children: list["Node | str"] = []

    @property
    def classes(self) -> set[str]:
        return set((self.attributes.get("class") or "").split())

    def get(self, name: str, default=None):
        return self.attributes.get(name, default)

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def find_all(self, tag: str | None = None, cls: str | None = None, **attributes) -> list["Node"]:
        found = []
        for child in self.children:
            if isinstance(child, str):
                continue
            if ((tag is None or child.tag == tag) and (cls is None or cls in child.classes)
                    and all(child.attributes.get(name.rstrip("_").replace("_", "-")) == value
                            for name, value in attributes.items())):
                found.append(child)
            found.extend(child.find_all(tag, cls, **attributes))
        return found

    def find(self, tag: str | None = None, cls: str | None = None, **attributes) -> "Node | None":
        matches = self.find_all(tag, cls, **attributes)
        return matches[0] if matches else None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse_html(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    return builder.root
