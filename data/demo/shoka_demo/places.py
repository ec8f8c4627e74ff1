"""Service points: Ichikawa's 16 (addresses from its specification), the bookmobile and, for tier L, the
other members of a prefecture consortium; their shelves, the bookmobile's stations and timetable, vendors, budgets.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

ALL_SHELVES = ("general", "children", "picture", "stacks", "reference", "av", "magazine", "local", "largeprint",
               "teen", "kamishibai")
BRANCH_SHELVES = ("general", "children", "picture", "reference", "av", "magazine", "largeprint", "teen",
                  "kamishibai")
ROOM_SHELVES = ("general", "children", "picture", "magazine", "kamishibai")

SHELF_NAMES = {
    "general": ("一般開架", "General shelves", True),
    "children": ("児童開架", "Children's shelves", True),
    "picture": ("絵本", "Picture books", True),
    "stacks": ("書庫", "Closed stacks", False),
    "reference": ("参考図書", "Reference", True),
    "av": ("AV・視聴覚資料", "Audio-visual", True),
    "magazine": ("雑誌", "Magazines", True),
    "local": ("郷土資料", "Local studies", True),
    "largeprint": ("大活字本", "Large print", True),
    "teen": ("ヤングアダルト", "Young adults", True),
    "kamishibai": ("紙芝居", "Picture-story cards", True),
}


@dataclass(frozen=True, slots=True)
class ServicePoint:
    id: int
    code: str
    name_ja: str
    name_en: str
    kind: str
    address: str
    is_pickup_point: bool
    shelves: tuple[str, ...]
    collection_share: float  # relative share of the items
    patron_share: float  # relative share of the patrons registered here
    weekly_closed: tuple[int, ...] = (1,)  # ISO weekdays: Monday
    stocktake: tuple[int, int, int] | None = None  # (month, week of month, days)
    closes_on_holidays: bool = False  # most libraries open on national holidays; a university does not


def _ichikawa() -> list[ServicePoint]:
    return [
        ServicePoint(1, "central", "中央図書館", "Central Library", "central", "市川市鬼高1丁目1番4号", True,
                     ALL_SHELVES, 30, 25, stocktake=(2, 2, 6)),
        ServicePoint(2, "gyotoku", "行徳図書館", "Gyotoku Library", "branch", "市川市末広1丁目1番31号", True,
                     BRANCH_SHELVES + ("stacks", "local"), 12, 14, stocktake=(6, 2, 5)),
        ServicePoint(3, "ekiminami", "市川駅南口図書館", "Ichikawa Station South Library", "branch",
                     "市川市市川南1丁目10番1号 I-linkタウンいちかわ ザ・タワーズ・ウエスト3階", True,
                     BRANCH_SHELVES, 9, 12, stocktake=(11, 2, 5)),
        ServicePoint(4, "shinotoku", "信篤図書館", "Shinotoku Library", "branch", "市川市高谷1丁目8番1号", True,
                     BRANCH_SHELVES, 6, 6, stocktake=(9, 2, 5)),
        ServicePoint(5, "minamigyotoku", "南行徳図書館", "Minami-Gyotoku Library", "branch",
                     "市川市相之川1丁目2番4号", True, BRANCH_SHELVES, 8, 10, stocktake=(1, 3, 5)),
        ServicePoint(6, "hirata", "平田図書室", "Hirata Library Room", "room", "市川市平田1丁目20番16号", True,
                     ROOM_SHELVES, 2.5, 2, stocktake=(3, 1, 2)),
        ServicePoint(7, "shioyaki", "塩焼市民図書室", "Shioyaki Community Library Room", "room",
                     "市川市塩焼5丁目9番8号 塩焼小学校内", True, ROOM_SHELVES, 2, 2, stocktake=(3, 1, 2)),
        ServicePoint(8, "fukuei", "福栄市民図書室", "Fukuei Community Library Room", "room",
                     "市川市南行徳2丁目2番1号 福栄小学校内", True, ROOM_SHELVES, 2, 2, stocktake=(3, 2, 2)),
        ServicePoint(9, "okashiwa", "大柏市民図書室", "Okashiwa Community Library Room", "room",
                     "市川市大野町2丁目1877番 大柏小学校内", True, ROOM_SHELVES, 2, 2, stocktake=(3, 2, 2)),
        ServicePoint(10, "seibu", "西部公民館図書室", "Seibu Community Centre Library Room", "room",
                     "市川市中国分2丁目13番8号", True, ROOM_SHELVES, 1.5, 2, stocktake=(3, 3, 2)),
        ServicePoint(11, "ono", "大野公民館図書室", "Ono Community Centre Library Room", "room",
                     "市川市南大野2丁目3番19号", True, ROOM_SHELVES, 1.5, 2, stocktake=(3, 3, 2)),
        ServicePoint(12, "soya", "曽谷公民館図書室", "Soya Community Centre Library Room", "room",
                     "市川市曽谷6丁目25番5号", True, ROOM_SHELVES, 1.5, 2, stocktake=(3, 4, 2)),
        ServicePoint(13, "tobu", "東部公民館図書室", "Tobu Community Centre Library Room", "room",
                     "市川市本北方3丁目19番16号", True, ROOM_SHELVES, 1.5, 2, stocktake=(3, 4, 2)),
        # A service window: holds are picked up and books returned here, it keeps no collection.
        ServicePoint(14, "joho-plaza", "いちかわ情報プラザ", "Ichikawa Information Plaza", "room",
                     "市川市南八幡4丁目2番5号 2階窓口", True, (), 0, 1),
        ServicePoint(15, "cuc", "千葉商科大学付属図書館", "Chiba University of Commerce Library", "partner",
                     "市川市国府台1丁目3番1号", True, (), 0, 0, weekly_closed=(7,), closes_on_holidays=True),
        ServicePoint(16, "myoden-kids", "市川市妙典こども地域交流館", "Myoden Children's Community Centre",
                     "children", "市川市本行徳1266番地1", True, ("children", "picture", "kamishibai", "magazine"),
                     1.5, 2, stocktake=(8, 3, 3)),
        ServicePoint(17, "bookmobile", "移動図書館ひまわり号", "Mobile Library Himawari", "bookmobile",
                     "市川市鬼高1丁目1番4号 (中央図書館)", False, ("general", "children", "picture"), 2, 1.5,
                     weekly_closed=(1, 7), stocktake=(12, 1, 5), closes_on_holidays=True),
    ]


# Other cities of a prefecture consortium (tier L): 24 municipal libraries of Chiba prefecture.
CONSORTIUM_CITIES = (
    ("funabashi", "船橋", "Funabashi"), ("matsudo", "松戸", "Matsudo"), ("urayasu", "浦安", "Urayasu"),
    ("narashino", "習志野", "Narashino"), ("yachiyo", "八千代", "Yachiyo"), ("kamagaya", "鎌ケ谷", "Kamagaya"),
    ("kashiwa", "柏", "Kashiwa"), ("nagareyama", "流山", "Nagareyama"), ("abiko", "我孫子", "Abiko"),
    ("noda", "野田", "Noda"), ("sakura", "佐倉", "Sakura"), ("narita", "成田", "Narita"),
    ("yotsukaido", "四街道", "Yotsukaido"), ("inzai", "印西", "Inzai"), ("shiroi", "白井", "Shiroi"),
    ("chiba", "千葉", "Chiba"), ("ichihara", "市原", "Ichihara"), ("kisarazu", "木更津", "Kisarazu"),
    ("kimitsu", "君津", "Kimitsu"), ("sodegaura", "袖ケ浦", "Sodegaura"), ("mobara", "茂原", "Mobara"),
    ("togane", "東金", "Togane"), ("asahi", "旭", "Asahi"), ("choshi", "銚子", "Choshi"),
)


def service_points(extra_branches: int) -> list[ServicePoint]:
    points = _ichikawa()
    for offset, (code, name, name_en) in enumerate(CONSORTIUM_CITIES[:extra_branches]):
        points.append(ServicePoint(
            len(points) + 1, code, f"{name}市立図書館", f"{name_en} City Library", "branch", f"千葉県{name}市", True,
            ALL_SHELVES, 10, 12, stocktake=(1 + offset % 12, 1 + offset % 4, 5)))
    return points


def service_point_rows(points: list[ServicePoint]):
    for sort_order, point in enumerate(points, start=1):
        yield (point.id, point.code, point.name_ja, point.name_en, point.kind, point.address, "",
               point.is_pickup_point, True, sort_order)


def shelf_location_rows(points: list[ServicePoint]):
    """Shelf ids are assigned in order from 1."""
    shelf_id = 0
    for point in points:
        for code in point.shelves:
            shelf_id += 1
            name_ja, name_en, is_open = SHELF_NAMES[code]
            yield (shelf_id, point.id, code, name_ja, name_en, is_open)


def shelf_ids(points: list[ServicePoint]) -> dict[tuple[int, str], int]:
    return {(row[1], row[2]): row[0] for row in shelf_location_rows(points)}


# The bookmobile's stations: (code, name, address, ISO weekday, week of month (0 = every week), arrives, departs).
BOOKMOBILE_STATIONS = (
    ("kokubun-sho", "国分小学校", "市川市国分4丁目", 2, 0, "10:00", "10:50"),
    ("omachi-park", "大町公園前", "市川市大町", 2, 0, "13:30", "14:20"),
    ("wakamiya-danchi", "若宮団地", "市川市若宮2丁目", 3, 0, "10:00", "10:40"),
    ("kitakata-shopping", "北方ショッピングセンター", "市川市北方1丁目", 3, 0, "14:00", "15:00"),
    ("minamiono-jichikai", "南大野自治会館", "市川市南大野3丁目", 4, 1, "10:30", "11:20"),
    ("minamiono-jichikai", "南大野自治会館", "市川市南大野3丁目", 4, 3, "10:30", "11:20"),
    ("inakoshi", "稲越町会集会所", "市川市稲越町", 4, 0, "14:00", "14:40"),
    ("horinouchi", "堀之内貝塚公園", "市川市堀之内2丁目", 5, 0, "10:00", "10:50"),
    ("kashiwai-danchi", "柏井団地", "市川市柏井町1丁目", 5, 0, "13:30", "14:30"),
    ("tajiri-kouen", "田尻公園", "市川市田尻3丁目", 6, 2, "10:00", "11:00"),
    ("tajiri-kouen", "田尻公園", "市川市田尻3丁目", 6, 4, "10:00", "11:00"),
)
BOOKMOBILE_ID = 17


def bookmobile_station_rows():
    seen: dict[str, int] = {}
    for code, name, address, *_schedule in BOOKMOBILE_STATIONS:
        if code not in seen:
            seen[code] = len(seen) + 1
            yield (seen[code], BOOKMOBILE_ID, code, name, address)


def bookmobile_stop_rows():
    station_ids = {row[2]: row[0] for row in bookmobile_station_rows()}
    for stop_id, (code, _name, _address, weekday, week, arrives, departs) in enumerate(BOOKMOBILE_STATIONS, 1):
        yield (stop_id, station_ids[code], weekday, week, datetime.time.fromisoformat(arrives),
               datetime.time.fromisoformat(departs))


VENDORS = (
    (1, "trc", "株式会社図書館流通センター", "csv", "order@trc.example.jp"),
    (2, "kinokuniya", "株式会社紀伊國屋書店", "csv", "library-sales@kinokuniya.example.jp"),
    (3, "maruzen", "丸善雄松堂株式会社", "tsv", "order@maruzen.example.jp"),
    (4, "ichikawa-shoten", "市川市内書店協同組合", "csv", "info@ichikawa-shoten.example.jp"),
)


def vendor_rows():
    yield from VENDORS


def fiscal_year_of(day: datetime.date) -> int:
    """Japanese fiscal years run April–March and are named by the year they start in."""
    return day.year if day.month >= 4 else day.year - 1


def budget_rows(points: list[ServicePoint], reference_date: datetime.date):
    current = fiscal_year_of(reference_date)
    for fiscal_year in (current - 1, current):
        for point in points:
            if point.collection_share <= 0:
                continue
            scale = point.collection_share * 1_000_000
            yield (fiscal_year, point.id, "図書購入費", int(round(scale * (1.0 + 0.02 * (fiscal_year - current)), -3)))
            if "av" in point.shelves:
                yield (fiscal_year, point.id, "視聴覚資料費", int(round(scale * 0.08, -3)))
            if "magazine" in point.shelves:
                yield (fiscal_year, point.id, "雑誌購入費", int(round(scale * 0.05, -3)))
