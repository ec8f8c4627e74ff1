"""The password rules for staff accounts, stricter than the general ones (passwords.check_password_rules)
because a staff password opens every patron's record.

A staff password
- has at least 10 and at most 128 characters, and no control characters;
- does not start or end with a space (the general rule);
- does not contain the user name (compared without regard to case), for user names of three characters or more;
- mixes at least two kinds of character: lower-case letters, upper-case letters, digits, and anything else
  (symbols, spaces, kana and kanji);
- has at least five different characters ("aaaaaaaaa1" is not a password).

The staff screens show STAFF_PASSWORD_RULES beside every password form, so the rule people read is this one.
"""

from __future__ import annotations

import unicodedata

from shoka.auth.passwords import WeakPassword, check_password_rules
from shoka.errors import Unprocessable

STAFF_MINIMUM_PASSWORD_LENGTH = 10
STAFF_MAXIMUM_PASSWORD_LENGTH = 128
MINIMUM_CHARACTER_KINDS = 2
MINIMUM_DIFFERENT_CHARACTERS = 5
SHORTEST_USERNAME_CHECKED = 3

# (Japanese, English), in the order they are checked.
STAFF_PASSWORD_RULES = (
    (f"{STAFF_MINIMUM_PASSWORD_LENGTH}文字以上{STAFF_MAXIMUM_PASSWORD_LENGTH}文字以内",
     f"{STAFF_MINIMUM_PASSWORD_LENGTH} to {STAFF_MAXIMUM_PASSWORD_LENGTH} characters"),
    ("先頭と末尾に空白を置かない", "no space at the start or end"),
    ("職員IDを含まない", "must not contain the user name"),
    ("英小文字・英大文字・数字・記号などのうち2種類以上を混ぜる",
     "mix at least two of: lower-case letters, upper-case letters, digits, other characters"),
    (f"{MINIMUM_DIFFERENT_CHARACTERS}種類以上の異なる文字を使う",
     f"at least {MINIMUM_DIFFERENT_CHARACTERS} different characters"),
)


class WeakStaffPassword(Unprocessable):
    code = "weak_password"


def _character_kind(character: str) -> str:
    if character.isascii() and character.islower():
        return "lower"
    if character.isascii() and character.isupper():
        return "upper"
    if character.isdigit():
        return "digit"
    return "other"


def check_staff_password_rules(password: str, username: str) -> None:
    """Raise WeakStaffPassword naming the first rule the password breaks."""
    if not STAFF_MINIMUM_PASSWORD_LENGTH <= len(password) <= STAFF_MAXIMUM_PASSWORD_LENGTH:
        raise WeakStaffPassword(
            f"password: パスワードは{STAFF_MINIMUM_PASSWORD_LENGTH}文字以上{STAFF_MAXIMUM_PASSWORD_LENGTH}文字以内に"
            f"してください。/ The password must have {STAFF_MINIMUM_PASSWORD_LENGTH} to "
            f"{STAFF_MAXIMUM_PASSWORD_LENGTH} characters.")
    if any(unicodedata.category(character) == "Cc" for character in password):
        raise WeakStaffPassword("password: 制御文字は使えません。/ The password must not contain control characters.")
    try:
        check_password_rules(password)
    except WeakPassword:
        raise WeakStaffPassword("password: 先頭と末尾に空白は使えません。/ "
                                "The password must not start or end with a space.") from None
    if len(username) >= SHORTEST_USERNAME_CHECKED and username.casefold() in password.casefold():
        raise WeakStaffPassword("password: 職員IDを含むパスワードは使えません。/ "
                                "The password must not contain the user name.")
    if len({_character_kind(character) for character in password}) < MINIMUM_CHARACTER_KINDS:
        raise WeakStaffPassword("password: 英小文字・英大文字・数字・記号などのうち2種類以上を混ぜてください。/ "
                                "Mix at least two kinds of character (lower-case, upper-case, digits, others).")
    if len(set(password)) < MINIMUM_DIFFERENT_CHARACTERS:
        raise WeakStaffPassword(f"password: {MINIMUM_DIFFERENT_CHARACTERS}種類以上の異なる文字を使ってください。/ "
                                f"Use at least {MINIMUM_DIFFERENT_CHARACTERS} different characters.")
