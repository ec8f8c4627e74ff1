"""Words the OPAC shows for codes: NDC classes, languages, availability and hold states, in both languages."""

from __future__ import annotations

from shoka.web.i18n import Language

NDC_CLASSES: dict[str, tuple[str, str]] = {
    "0": ("総記", "General works"),
    "1": ("哲学・宗教", "Philosophy, religion"),
    "2": ("歴史・地理", "History, geography"),
    "3": ("社会科学", "Social sciences"),
    "4": ("自然科学", "Natural sciences"),
    "5": ("技術・工学", "Technology, engineering"),
    "6": ("産業", "Industry"),
    "7": ("芸術・スポーツ", "Arts, sports"),
    "8": ("言語", "Language"),
    "9": ("文学", "Literature"),
}

LANGUAGES: dict[str, tuple[str, str]] = {
    "jpn": ("日本語", "Japanese"),
    "eng": ("英語", "English"),
    "chi": ("中国語", "Chinese"),
    "zho": ("中国語", "Chinese"),
    "kor": ("韓国・朝鮮語", "Korean"),
    "fre": ("フランス語", "French"),
    "fra": ("フランス語", "French"),
    "ger": ("ドイツ語", "German"),
    "deu": ("ドイツ語", "German"),
    "spa": ("スペイン語", "Spanish"),
    "ita": ("イタリア語", "Italian"),
    "por": ("ポルトガル語", "Portuguese"),
    "rus": ("ロシア語", "Russian"),
    "lat": ("ラテン語", "Latin"),
    "mul": ("多言語", "Multiple languages"),
    "und": ("言語不明", "Undetermined"),
    "zxx": ("言語なし", "No linguistic content"),
}

# MARC language codes as BCP 47 tags, so that screen readers read a title in its own language (WCAG 3.1.2).
LANGUAGE_TAGS = {"jpn": "ja", "eng": "en", "chi": "zh", "zho": "zh", "kor": "ko", "fre": "fr", "fra": "fr",
                 "ger": "de", "deu": "de", "spa": "es", "ita": "it", "por": "pt", "rus": "ru", "lat": "la"}

# The engine's availability codes; Japanese pages show the engine's own label (貸出可, 貸出中, ...).
AVAILABILITY_EN: dict[str, str] = {
    "available": "Available",
    "in_library_only": "Library use only",
    "on_loan": "On loan",
    "reserved": "On hold",
    "in_transit": "In transit",
    "in_preparation": "Being processed",
    "missing": "Missing",
    "no_holding": "Not held",
}

HOLD_STATUSES: dict[str, tuple[str, str]] = {
    "waiting": ("待機中", "Waiting"),
    "in_transit": ("回送中", "In transit"),
    "ready": ("取置中", "Ready for pickup"),
}


def _pick(entry: tuple[str, str] | None, language: Language, fallback: str) -> str:
    if entry is None:
        return fallback
    return entry[1] if language == "en" else entry[0]


def ndc_class_name(code: str, language: Language) -> str:
    return _pick(NDC_CLASSES.get(code), language, code)


def language_name(code: str, language: Language) -> str:
    return _pick(LANGUAGES.get(code), language, code)


def availability_label(status: str, label_ja: str, language: Language) -> str:
    return AVAILABILITY_EN.get(status, status) if language == "en" else label_ja


def hold_status_label(status: str, language: Language) -> str:
    return _pick(HOLD_STATUSES.get(status), language, status)


def content_language(code: str | None) -> str | None:
    return LANGUAGE_TAGS.get(code or "")
