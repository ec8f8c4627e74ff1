"""What a self-check shows its user (the AF screen message), in the terminal's language.

The language comes from the terminal: Japanese (014) unless a patron status or patron information request
asked for English (001). Refusals from the circulation rules carry both languages already; the few refusals
the counter service words in Japanese only are translated here by their stable code.
"""

from __future__ import annotations

import datetime as dt
import enum

from shoka.circulation.decisions import CirculationRefused
from shoka.errors import ShokaError


class Language(enum.Enum):
    JAPANESE = "014"
    ENGLISH = "001"

    @classmethod
    def from_request(cls, code: str, current: Language) -> Language:
        """The language a 23/63 asks for; 000 (unknown) and languages Shoka lacks keep the current one."""
        for language in cls:
            if language.value == code:
                return language
        return current


TEXTS: dict[str, tuple[str, str]] = {
    "login_first": ("先に端末のログインが必要です。", "The terminal must log in first."),
    "malformed": ("メッセージを読み取れませんでした。", "The message could not be read."),
    "unsupported": ("この操作は自動貸出機ではできません。カウンターでお尋ねください。",
                    "This cannot be done at the self-check; please ask at the counter."),
    "system_error": ("ただいま処理できません。カウンターでお尋ねください。",
                     "This cannot be done right now; please ask at the counter."),
    "wrong_password": ("利用者カード番号またはパスワードが違います。", "The card number or password is wrong."),
    "unknown_patron": ("この利用カードは登録されていません。", "This card is not registered."),
    "unknown_item": ("この資料は登録されていません。", "This item is not registered."),
    "already_on_loan": ("この資料はすでに貸出中です。", "This item is already on loan."),
    "not_on_loan": ("この資料は貸出中ではありません。", "This item is not on loan."),
    "unknown_branch": ("この端末の設置館が登録されていません。",
                       "This terminal's branch is not registered."),
    "checkout_done": ("貸出しました。返却期限は{due}です。",
                      "Checked out. Please return it by {due}."),
    "checkin_done": ("返却しました。", "Returned. Thank you."),
    "checkin_hold_ready": ("予約の資料です。予約棚に置いてください。",
                           "On hold for a patron: put it on the hold shelf."),
    "checkin_hold_transit": ("予約の資料です。{branch}へ回送してください。",
                             "On hold for a patron: send it to {branch}."),
    "checkin_transit_home": ("{branch}の資料です。回送してください。",
                             "This item belongs to {branch}: send it there."),
    "renew_done": ("貸出を延長しました。新しい返却期限は{due}です。",
                   "Renewed. Please return it by {due}."),
    "renew_needs_item": ("延長する資料の資料番号が必要です。",
                         "Renewal needs the item's barcode."),
    "session_ended": ("ご利用ありがとうございました。", "Thank you."),
    "item_on_hold_shelf": ("予約の取置中です。", "Waiting on the hold shelf."),
    "item_in_transit": ("回送中です。", "In transit."),
}


def say(language: Language, key: str, **values: object) -> str:
    japanese, english = TEXTS[key]
    return (english if language is Language.ENGLISH else japanese).format(**values)


def due_date_text(due_on: dt.date, language: Language) -> str:
    if language is Language.ENGLISH:
        return due_on.isoformat()
    return f"{due_on.year}年{due_on.month}月{due_on.day}日"


def refusal_text(error: ShokaError, language: Language) -> str:
    """The sentence for a refusal from the counter service, in the terminal's language."""
    if isinstance(error, CirculationRefused):
        if language is Language.ENGLISH and error.message_en:
            return error.message_en
        return error.message
    if error.code in TEXTS:
        return say(language, error.code)
    return error.message if language is Language.JAPANESE else say(language, "system_error")
