//! Which kind of token a folded character belongs to: a CJK run (bigrammed), a word (Latin, digits,
//! Hangul and other space-separated scripts), a combining mark that rides on the character before it,
//! or a separator.
//!
//! Classification runs on folded text, so katakana has already become hiragana and full-width
//! letters have become ASCII.

use unicode_normalization::char::is_combining_mark;

/// The role a folded character plays in tokenization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CharacterClass {
    /// Kanji, kana and the marks written inside Japanese words (々, 〆, ー): bigrammed.
    Cjk,
    /// Letters and digits of scripts that separate words with spaces: whole words.
    Word,
    /// A combining mark: part of the character before it; dropped when nothing precedes it.
    CombiningMark,
    /// Spaces, punctuation, symbols: ends the current run or word.
    Separator,
}

/// Classifies one folded character.
pub(crate) fn classify(character: char) -> CharacterClass {
    if is_cjk(character) {
        return CharacterClass::Cjk;
    }
    if is_combining_mark(character) {
        return CharacterClass::CombiningMark;
    }
    if character.is_alphanumeric() {
        return CharacterClass::Word;
    }
    CharacterClass::Separator
}

/// True for Han ideographs, including the extension planes and the twelve compatibility
/// ideographs (﨑, 﨔, ...) that NFKC keeps.
pub(crate) fn is_han(character: char) -> bool {
    matches!(character,
        '\u{3400}'..='\u{4DBF}'      // Extension A
        | '\u{4E00}'..='\u{9FFF}'    // Unified ideographs
        | '\u{F900}'..='\u{FAFF}'    // Compatibility ideographs
        | '\u{20000}'..='\u{3FFFF}') // Extensions B.. and the compatibility supplement
}

/// True for characters written inside Japanese words, which have no spaces between them.
fn is_cjk(character: char) -> bool {
    is_han(character)
        || matches!(character,
            '々' | '〆' | '〇' | '〻'
            | '\u{2E80}'..='\u{2FDF}'    // CJK and Kangxi radicals that NFKC leaves alone
            | '\u{3041}'..='\u{3096}'    // Hiragana letters
            | 'ゝ' | 'ゞ' | 'ゟ'
            | '\u{30A1}'..='\u{30FA}'    // Katakana letters left unfolded (none in practice)
            | 'ー' | 'ヽ' | 'ヾ' | 'ヿ'
            | '\u{31F0}'..='\u{31FF}'    // Katakana phonetic extensions (Ainu small kana)
            | '\u{1B000}'..='\u{1B16F}') // Kana supplement: hentaigana and archaic kana
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_characters_are_cjk() {
        for character in ['東', 'さ', 'ゔ', 'ー', '々', '〆', '𠮷', '﨑'] {
            assert_eq!(classify(character), CharacterClass::Cjk, "{character}");
        }
    }

    #[test]
    fn latin_digits_and_hangul_are_words() {
        for character in ['a', 'z', '7', 'é', '한', 'ж'] {
            assert_eq!(classify(character), CharacterClass::Word, "{character}");
        }
    }

    #[test]
    fn punctuation_and_spaces_separate() {
        for character in [
            ' ', '・', '、', '。', '「', '」', '-', '/', '〜', '\u{3000}',
        ] {
            assert_eq!(
                classify(character),
                CharacterClass::Separator,
                "{character:?}"
            );
        }
    }

    #[test]
    fn dakuten_is_a_combining_mark() {
        assert_eq!(classify('\u{3099}'), CharacterClass::CombiningMark);
        assert_eq!(classify('\u{0301}'), CharacterClass::CombiningMark);
    }
}
