"""The words of the federated-search page, Japanese first and English second, side by side."""

from __future__ import annotations

FEDERATED_PAGE_TEXT: dict[str, dict[str, str]] = {
    "page_title": {"ja": "横断検索", "en": "Search other libraries"},
    "intro": {"ja": "この図書館と連携先の図書館の蔵書をまとめて検索します。結果は3秒以内に表示します。",
              "en": "Searches this library and its partner libraries at once; results appear within 3 seconds."},
    "search_label": {"ja": "キーワード（書名・著者名・ISBN など）", "en": "Keywords (title, author, ISBN …)"},
    "search": {"ja": "横断検索", "en": "Search"},
    "records_per_library": {"ja": "各図書館の表示件数", "en": "Records per library"},
    "libraries_heading": {"ja": "検索した図書館", "en": "Libraries searched"},
    "library": {"ja": "図書館", "en": "Library"},
    "status": {"ja": "状態", "en": "Status"},
    "hits": {"ja": "件数", "en": "Hits"},
    "time": {"ja": "応答時間", "en": "Response time"},
    "status_ok": {"ja": "応答あり", "en": "Answered"},
    "status_timeout": {"ja": "時間切れ", "en": "Timed out"},
    "status_error": {"ja": "エラー", "en": "Error"},
    "not_answered": {"ja": "次の図書館からは結果を得られませんでした：", "en": "No results came from:"},
    "results_heading": {"ja": "検索結果", "en": "Results"},
    "results_count": {"ja": "{count}件（同じ資料はまとめて表示）", "en": "{count} records (duplicates merged)"},
    "no_results": {"ja": "該当する資料は見つかりませんでした。", "en": "Nothing was found."},
    "held_by": {"ja": "所蔵館", "en": "Held by"},
    "open_record": {"ja": "詳細", "en": "Details"},
    "isbn": {"ja": "ISBN", "en": "ISBN"},
    "elapsed": {"ja": "検索時間 {ms} ミリ秒", "en": "Search took {ms} ms"},
    "reason_timeout": {"ja": "{seconds}秒以内に応答がありませんでした", "en": "no answer within {seconds} s"},
}


def federated_page_translator(language: str):
    chosen = "en" if language == "en" else "ja"

    def translate(key: str, **values: object) -> str:
        entry = FEDERATED_PAGE_TEXT.get(key)
        text = entry[chosen] if entry else key
        return text.format(**values) if values else text

    return translate
