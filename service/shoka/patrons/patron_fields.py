"""What a valid patron record is: the fields staff type at registration, in the edit form and in a bulk CSV,
normalised the way a Japanese counter expects, and field-level errors in both languages.

Normalisation: NFKC first (full-width digits and letters, half-width ｶﾀｶﾅ, the ideographic space), then per
field: readings become katakana (ひらがな typed at the counter is folded) with single spaces between words;
phone numbers keep their hyphens but are compared by digits; postal codes become 123-4567.

Age band: computed from the birth date on the day of registration or edit (statistics keep the band, never the
date). Card expiry: a new card, and a renewal, runs for the category's `card_years` (patron_category) from
the day it starts; 29 February becomes 28 February in a year without it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping

import msgspec

CARD_PATTERN = re.compile(r"^[0-9A-Za-z-]{1,32}$")  # the patron.card CHECK: existing cards keep their form
_POSTAL_CODE = re.compile(r"^([0-9]{3})-?([0-9]{4})$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9()\- ]+$")
_FLEXIBLE_DATE = re.compile(r"^([0-9]{4})(?:[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})|([0-9]{2})([0-9]{2}))$")
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)} | {0x309D: 0x30FD, 0x309E: 0x30FE}
# Katakana, the long vowel mark, the middle dot and iteration marks; words separated by single spaces.
_KATAKANA_READING = re.compile(r"^[\u30A1-\u30FA\u30FC\u30FB\u30FD\u30FE]+( [\u30A1-\u30FA\u30FC\u30FB\u30FD\u30FE]+)*$")
OLDEST_BIRTH_DATE = dt.date(1900, 1, 1)

FIELD_LIMITS = {"family_name": 100, "given_name": 100, "family_name_reading": 100, "given_name_reading": 100,
                "address": 200, "email": 254, "phone": 30, "staff_note": 1000, "postal_code": 10}
AGE_BANDS = ("0-6", "7-12", "13-15", "16-18", "19-29", "30-39", "40-49", "50-59", "60-69", "70+", "unknown")


class FieldProblem(msgspec.Struct, frozen=True):
    """One field's error, in both languages (the page shows the one it speaks)."""

    ja: str
    en: str


FieldErrors = dict[str, FieldProblem]


class PersonalDetails(msgspec.Struct, frozen=True):
    """The personal part of a patron (table patron_personal), normalised."""

    family_name: str
    given_name: str
    family_name_reading: str
    given_name_reading: str
    birth_date: dt.date | None
    postal_code: str
    address: str
    phone: str
    email: str
    staff_note: str


class MembershipDetails(msgspec.Struct, frozen=True):
    """The non-personal part staff set (table patron): category, home branch, expiry, reading record."""

    category: str
    home_branch: str
    expires_on: dt.date | None  # None: the category's default from today
    keeps_reading_record: bool


def normalise(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def to_katakana(text: str) -> str:
    """A reading as typed (ひらがな, ｶﾀｶﾅ, full-width spaces) in katakana with single spaces between words."""
    return " ".join(normalise(text).translate(_HIRAGANA_TO_KATAKANA).split())


def reading_search_key(text: str) -> str:
    """A reading for prefix search: katakana without any spaces (catalogues and people space words differently)."""
    return to_katakana(text).replace(" ", "")


def normalise_card(text: str) -> str:
    return normalise(text).replace(" ", "")


def phone_digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", normalise(text))


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without it
        return day.replace(year=day.year + years, day=28)


def default_expiry(start: dt.date, card_years: int) -> dt.date:
    return add_years(start, card_years)


def renewed_expiry(current_expiry: dt.date, today: dt.date, card_years: int) -> dt.date:
    """A renewal extends by the category's period from today or from the current expiry, whichever is later."""
    return add_years(max(today, current_expiry), card_years)


def age_band(birth_date: dt.date | None, today: dt.date) -> str:
    if birth_date is None:
        return "unknown"
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    if age <= 6:
        return "0-6"
    for upper, band in ((12, "7-12"), (15, "13-15"), (18, "16-18"), (29, "19-29")):
        if age <= upper:
            return band
    return "70+" if age >= 70 else f"{age // 10 * 10}-{age // 10 * 10 + 9}"


def parse_date(text: str) -> dt.date | None:
    """2010-04-01, 2010/4/1 (as Excel writes it) or 20100401 (fastest at the desk); None when it is no date."""
    match = _FLEXIBLE_DATE.match(normalise(text))
    if match is None:
        return None
    year, month, day = match.group(1), match.group(2) or match.group(4), match.group(3) or match.group(5)
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def check_card(card: str) -> FieldProblem | None:
    if not card:
        return FieldProblem("利用者カード番号を入力してください。", "Enter the card number.")
    if not CARD_PATTERN.match(card):
        return FieldProblem("カード番号は半角英数字とハイフン（32文字まで）で入力してください。",
                            "A card number has letters, digits and hyphens only (up to 32).")
    return None


def check_reading(value: str, *, required: bool) -> tuple[str, FieldProblem | None]:
    reading = to_katakana(value)
    if not reading:
        return reading, (FieldProblem("フリガナを入力してください。", "Enter the reading (furigana).") if required else None)
    if not _KATAKANA_READING.match(reading):
        return reading, FieldProblem("フリガナはカタカナ（またはひらがな）で入力してください。",
                                     "Write the reading in katakana (or hiragana).")
    return reading, None


def check_phone(value: str) -> tuple[str, FieldProblem | None]:
    phone = " ".join(normalise(value).split())
    if not phone:
        return "", None
    digits = phone_digits(phone)
    valid_domestic = not phone.startswith("+") and digits.startswith("0") and 10 <= len(digits) <= 11
    valid_international = phone.startswith("+") and 8 <= len(digits) <= 15
    if not _PHONE_CHARACTERS.match(phone) or not (valid_domestic or valid_international):
        return phone, FieldProblem("電話番号は0から始まる10〜11桁の数字（ハイフン可）で入力してください。",
                                   "A phone number has 10 or 11 digits starting with 0 (hyphens allowed), "
                                   "or starts with + for a number abroad.")
    return phone, None


def check_postal_code(value: str) -> tuple[str, FieldProblem | None]:
    text = normalise(value).replace("〒", "").strip()
    if not text:
        return "", None
    match = _POSTAL_CODE.match(text)
    if match is None:
        return text, FieldProblem("郵便番号は7桁の数字（例: 272-0015）で入力してください。",
                                  "A postal code has 7 digits (for example 272-0015).")
    return f"{match.group(1)}-{match.group(2)}", None


def check_email(value: str) -> tuple[str, FieldProblem | None]:
    email = normalise(value)
    if not email:
        return "", None
    if len(email) > FIELD_LIMITS["email"] or not _EMAIL.match(email):
        return email, FieldProblem("メールアドレスの形式が正しくありません（例: name@example.jp）。",
                                   "This is not an e-mail address (for example name@example.jp).")
    return email, None


def check_birth_date(value: str, today: dt.date) -> tuple[dt.date | None, FieldProblem | None]:
    if not normalise(value):
        return None, None
    birth_date = parse_date(value)
    if birth_date is None:
        return None, FieldProblem("生年月日は 2010-04-01 の形式で入力してください。",
                                  "Write the birth date as 2010-04-01.")
    if birth_date > today:
        return None, FieldProblem("生年月日に未来の日付は指定できません。", "The birth date cannot be in the future.")
    if birth_date < OLDEST_BIRTH_DATE:
        return None, FieldProblem("生年月日が古すぎます。確認してください。", "The birth date is too far in the past.")
    return birth_date, None


def check_expiry(value: str, today: dt.date, *, allow_past: bool) -> tuple[dt.date | None, FieldProblem | None]:
    if not normalise(value):
        return None, None
    expires_on = parse_date(value)
    if expires_on is None:
        return None, FieldProblem("有効期限は 2028-03-31 の形式で入力してください。", "Write the expiry as 2028-03-31.")
    if not allow_past and expires_on < today:
        return None, FieldProblem("有効期限に過去の日付は指定できません。", "The expiry cannot be in the past.")
    if expires_on > add_years(today, 10):
        return None, FieldProblem("有効期限は10年以内にしてください。", "The expiry must be within ten years.")
    return expires_on, None


def _too_long(field: str, value: str) -> FieldProblem | None:
    limit = FIELD_LIMITS.get(field)
    if limit is not None and len(value) > limit:
        return FieldProblem(f"{limit}文字以内で入力してください。", f"Use at most {limit} characters.")
    return None


def check_personal(form: Mapping[str, str], today: dt.date) -> tuple[PersonalDetails, FieldErrors]:
    """The personal fields of a registration or edit form; every problem is reported, not just the first."""
    errors: FieldErrors = {}
    family_name = " ".join(normalise(form.get("family_name")).split())
    if not family_name:
        errors["family_name"] = FieldProblem("氏名（姓）を入力してください。", "Enter the family name.")
    given_name = " ".join(normalise(form.get("given_name")).split())
    family_reading, problem = check_reading(form.get("family_name_reading", ""), required=True)
    if problem:
        errors["family_name_reading"] = problem
    given_reading, problem = check_reading(form.get("given_name_reading", ""), required=False)
    if problem:
        errors["given_name_reading"] = problem
    birth_date, problem = check_birth_date(form.get("birth_date", ""), today)
    if problem:
        errors["birth_date"] = problem
    postal_code, problem = check_postal_code(form.get("postal_code", ""))
    if problem:
        errors["postal_code"] = problem
    phone, problem = check_phone(form.get("phone", ""))
    if problem:
        errors["phone"] = problem
    email, problem = check_email(form.get("email", ""))
    if problem:
        errors["email"] = problem
    address = " ".join(normalise(form.get("address")).split())
    staff_note = (form.get("staff_note") or "").strip()
    details = PersonalDetails(family_name=family_name, given_name=given_name, family_name_reading=family_reading,
                              given_name_reading=given_reading, birth_date=birth_date, postal_code=postal_code,
                              address=address, phone=phone, email=email, staff_note=staff_note)
    for field in FIELD_LIMITS:
        value = getattr(details, field)
        if field not in errors and (problem := _too_long(field, value)):
            errors[field] = problem
    return details, errors


def check_membership(form: Mapping[str, str], *, categories: Mapping[str, object], branches: Mapping[str, object],
                     today: dt.date, allow_past_expiry: bool) -> tuple[MembershipDetails, FieldErrors]:
    errors: FieldErrors = {}
    category = normalise(form.get("category"))
    if category not in categories:
        errors["category"] = FieldProblem("利用者区分を選んでください。", "Choose a category.")
    home_branch = normalise(form.get("home_branch"))
    if home_branch not in branches:
        errors["home_branch"] = FieldProblem("登録館を選んでください。", "Choose the home branch.")
    expires_on, problem = check_expiry(form.get("expires_on", ""), today, allow_past=allow_past_expiry)
    if problem:
        errors["expires_on"] = problem
    keeps = form.get("keeps_reading_record", "") in ("1", "on", "true", "yes")
    return MembershipDetails(category=category, home_branch=home_branch, expires_on=expires_on,
                             keeps_reading_record=keeps), errors
