//! The characters nearly all catalogue text is made of — ASCII, hiragana, katakana and the common kanji
//! blocks — folded without the general path of [`super::normalize`].
//!
//! The general path runs NFKC, lower-casing, NFKC again, the Latin diacritic check and NFC on every
//! character, allocating a string at each step: it was most of the time an index build spent outside
//! tantivy. For these characters the outcome is known in advance: NFKC leaves them alone, nothing
//! composes with them from the left, and folding maps each to exactly one character. The tests below
//! check that claim against the general path for every character of the ranges, so the shortcut can
//! never fold differently from it.

use super::kana::{self, KanaReplacement};
use super::variant_kanji::standard_kanji_for;

/// True for a character in the ranges this module folds: such a character never composes with the one
/// before it under NFKC, and (unless [`fold_common_character`] says otherwise) folds on its own.
pub(crate) fn is_common_character(character: char) -> bool {
    matches!(character,
        '\u{0000}'..='\u{007F}'      // ASCII
        | 'ぁ'..='ゖ'                // hiragana letters, small and voiced ones included
        | 'ァ'..='ヶ'                // katakana letters (ヷ..ヺ need a combining mark: general path)
        | '・' | 'ー'
        | '\u{3400}'..='\u{4DBF}'    // CJK Extension A
        | '\u{4E00}'..='\u{9FFF}')   // CJK Unified Ideographs
}

/// What folding makes of `character` when it stands alone (no combining mark follows it), if it is a
/// common character; `None` sends it down the general path.
pub(crate) fn fold_common_character(character: char) -> Option<char> {
    if !is_common_character(character) {
        return None;
    }
    if character.is_ascii() {
        return Some(character.to_ascii_lowercase());
    }
    let character = standard_kanji_for(character).unwrap_or(character);
    match kana::katakana_as_hiragana(character) {
        Some(KanaReplacement::One(hiragana)) => Some(hiragana),
        Some(KanaReplacement::WithVoicedMark(_)) => None,
        None => Some(character),
    }
}

#[cfg(test)]
mod tests {
    use super::super::normalize::{composes_with_previous_generally, fold_chunk_generally, FoldedChar};
    use super::*;

    fn common_characters() -> impl Iterator<Item = char> {
        (0..=0x10FFFF_u32).filter_map(char::from_u32).filter(|character| is_common_character(*character))
    }

    #[test]
    fn nothing_composes_with_a_common_character_from_the_left() {
        for character in common_characters() {
            assert!(!composes_with_previous_generally(character), "{character:?} composes with what precedes it");
        }
    }

    #[test]
    fn common_characters_fold_as_the_general_path_folds_them() {
        let mut checked = 0;
        for character in common_characters() {
            let mut generally: Vec<FoldedChar> = Vec::new();
            fold_chunk_generally(&character.to_string(), 0, character.len_utf8(), &mut generally);
            let general: Vec<char> = generally.iter().map(|folded| folded.character).collect();
            match fold_common_character(character) {
                Some(folded) => {
                    assert_eq!(general, [folded], "{character:?}");
                    checked += 1;
                }
                None => assert_ne!(general.len(), 1, "{character:?} could take the shortcut"),
            }
        }
        assert!(checked > 27_000, "only {checked} characters take the shortcut");
    }

    #[test]
    fn examples_of_the_shortcut() {
        assert_eq!(fold_common_character('A'), Some('a'));
        assert_eq!(fold_common_character('サ'), Some('さ'));
        assert_eq!(fold_common_character('ヶ'), Some('け'));
        assert_eq!(fold_common_character('國'), Some('国'));
        assert_eq!(fold_common_character('ヷ'), None, "わ plus a combining dakuten");
        assert_eq!(fold_common_character('々'), None, "iteration marks depend on what precedes them");
        assert_eq!(fold_common_character('Ａ'), None, "full-width letters go through NFKC");
    }
}
