"""Japanese first, English second: choosing the page language and the words the layout needs.

The language comes from `?lang=en|ja` (remembered in a cookie) or the cookie alone; Japanese otherwise. Page
texts live in the templates as `t("key")` look-ups of the catalogue below, so both languages stay side by side.
"""

from __future__ import annotations

from typing import Literal

from litestar import Request

Language = Literal["ja", "en"]
LANGUAGE_COOKIE = "shoka_lang"

MESSAGES: dict[str, dict[Language, str]] = {
    "library_system": {"ja": "書架 図書館システム", "en": "Shoka Library System"},
    "skip_to_content": {"ja": "本文へ移動", "en": "Skip to main content"},
    "search": {"ja": "検索", "en": "Search"},
    "search_label": {"ja": "キーワード（書名・著者名・出版者・件名・ISBN）",
                     "en": "Keywords (title, author, publisher, subject, ISBN)"},
    "search_placeholder": {"ja": "例：銀河鉄道の夜　みやざわけんじ", "en": "e.g. Night on the Galactic Railroad"},
    "login": {"ja": "ログイン", "en": "Log in"},
    "logout": {"ja": "ログアウト", "en": "Log out"},
    "new_arrivals": {"ja": "新着資料", "en": "New arrivals"},
    "no_new_arrivals": {"ja": "新着資料はまだありません。", "en": "No new arrivals yet."},
    "service_points": {"ja": "図書館・図書室のご案内", "en": "Libraries and service points"},
    "closed_weekly": {"ja": "休館日", "en": "Closed"},
    "language_switch": {"ja": "English", "en": "日本語"},
    "error_title": {"ja": "エラー", "en": "Error"},
    "back_to_top": {"ja": "トップへ戻る", "en": "Back to the top page"},
    "weekday_1": {"ja": "月曜日", "en": "Monday"},
    "weekday_2": {"ja": "火曜日", "en": "Tuesday"},
    "weekday_3": {"ja": "水曜日", "en": "Wednesday"},
    "weekday_4": {"ja": "木曜日", "en": "Thursday"},
    "weekday_5": {"ja": "金曜日", "en": "Friday"},
    "weekday_6": {"ja": "土曜日", "en": "Saturday"},
    "weekday_7": {"ja": "日曜日", "en": "Sunday"},
    "year_end_closure": {"ja": "年末年始（12月29日〜1月3日）は休館します。",
                         "en": "Closed for the New Year holidays (29 December – 3 January)."},
}


def request_language(request: Request) -> Language:
    requested = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    return "en" if requested == "en" else "ja"


def translator(language: Language):
    def translate(key: str) -> str:
        entry = MESSAGES.get(key)
        return entry[language] if entry else key

    return translate
