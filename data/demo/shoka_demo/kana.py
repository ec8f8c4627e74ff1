"""Katakana readings: romanisation the way NDL writes it, author marks, hiragana.

NDL romanises readings in modified Hepburn without macrons: long vowels are written once (トウキョウ → Tokyo,
ジュウゴサイ → Jugosai), the mark ー is dropped, particles follow the reading (ワ → wa, オ → o).
"""

from __future__ import annotations

_DIGRAPHS = {
    "キャ": "kya", "キュ": "kyu", "キョ": "kyo", "シャ": "sha", "シュ": "shu", "ショ": "sho", "シェ": "she",
    "チャ": "cha", "チュ": "chu", "チョ": "cho", "チェ": "che", "ニャ": "nya", "ニュ": "nyu", "ニョ": "nyo",
    "ヒャ": "hya", "ヒュ": "hyu", "ヒョ": "hyo", "ミャ": "mya", "ミュ": "myu", "ミョ": "myo", "リャ": "rya",
    "リュ": "ryu", "リョ": "ryo", "ギャ": "gya", "ギュ": "gyu", "ギョ": "gyo", "ジャ": "ja", "ジュ": "ju",
    "ジョ": "jo", "ジェ": "je", "ビャ": "bya", "ビュ": "byu", "ビョ": "byo", "ピャ": "pya", "ピュ": "pyu",
    "ピョ": "pyo", "ティ": "ti", "ディ": "di", "トゥ": "tu", "ドゥ": "du", "デュ": "dyu", "ファ": "fa",
    "フィ": "fi", "フェ": "fe", "フォ": "fo", "ウィ": "wi", "ウェ": "we", "ウォ": "wo", "ヴァ": "va",
    "ヴィ": "vi", "ヴェ": "ve", "ヴォ": "vo", "ツァ": "tsa", "イェ": "ye",
}

_SINGLE = {
    "ア": "a", "イ": "i", "ウ": "u", "エ": "e", "オ": "o", "カ": "ka", "キ": "ki", "ク": "ku", "ケ": "ke",
    "コ": "ko", "サ": "sa", "シ": "shi", "ス": "su", "セ": "se", "ソ": "so", "タ": "ta", "チ": "chi", "ツ": "tsu",
    "テ": "te", "ト": "to", "ナ": "na", "ニ": "ni", "ヌ": "nu", "ネ": "ne", "ノ": "no", "ハ": "ha", "ヒ": "hi",
    "フ": "fu", "ヘ": "he", "ホ": "ho", "マ": "ma", "ミ": "mi", "ム": "mu", "メ": "me", "モ": "mo", "ヤ": "ya",
    "ユ": "yu", "ヨ": "yo", "ラ": "ra", "リ": "ri", "ル": "ru", "レ": "re", "ロ": "ro", "ワ": "wa", "ヰ": "i",
    "ヱ": "e", "ヲ": "o", "ン": "n", "ガ": "ga", "ギ": "gi", "グ": "gu", "ゲ": "ge", "ゴ": "go", "ザ": "za",
    "ジ": "ji", "ズ": "zu", "ゼ": "ze", "ゾ": "zo", "ダ": "da", "ヂ": "ji", "ヅ": "zu", "デ": "de", "ド": "do",
    "バ": "ba", "ビ": "bi", "ブ": "bu", "ベ": "be", "ボ": "bo", "パ": "pa", "ピ": "pi", "プ": "pu", "ペ": "pe",
    "ポ": "po", "ヴ": "vu", "ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o", "ャ": "ya", "ュ": "yu",
    "ョ": "yo", "ヮ": "wa", "ヵ": "ka", "ヶ": "ke",
}

# Small kana are written full-size in an author mark (ョ → ヨ), voiced kana keep their mark as NDL-style labels do.
_SMALL_TO_FULL = str.maketrans("ァィゥェォャュョッヮヵヶ", "アイウエオヤユヨツワカケ")
_LONG_VOWELS = (("ou", "o"), ("oo", "o"), ("uu", "u"))


def romanise_word(word: str) -> str:
    """One katakana word in NDL's romanisation; characters that are not katakana pass through."""
    output: list[str] = []
    index = 0
    while index < len(word):
        pair = word[index:index + 2]
        character = word[index]
        if pair in _DIGRAPHS:
            output.append(_DIGRAPHS[pair])
            index += 2
            continue
        if character == "ッ":
            following = word[index + 1:index + 3]
            syllable = _DIGRAPHS.get(following) or _SINGLE.get(following[:1], "")
            if syllable:
                output.append("t" if syllable.startswith("ch") else syllable[0])
            index += 1
            continue
        if character == "ー":
            index += 1
            continue
        output.append(_SINGLE.get(character, character))
        index += 1
    text = "".join(output)
    for long_vowel, short_vowel in _LONG_VOWELS:
        text = text.replace(long_vowel, short_vowel)
    return text


def romanise(reading: str) -> str:
    """A spaced katakana reading (ワガハイ ワ ネコ デ アル) as NDL romanises it (Wagahai wa neko de aru)."""
    words = [romanise_word(word) for word in reading.replace(",", " ").split()]
    text = " ".join(word for word in words if word)
    return text[:1].upper() + text[1:]


def author_mark(reading: str) -> str:
    """The first kana of a reading, full-size, for a call number's author mark (図書記号)."""
    for character in reading:
        if "ァ" <= character <= "ヶ":
            return character.translate(_SMALL_TO_FULL)
        if character.isascii() and character.isalpha():
            return character.upper()
    return "ー"


def katakana_to_hiragana(text: str) -> str:
    return "".join(chr(ord(character) - 0x60) if "ァ" <= character <= "ヶ" else character for character in text)
