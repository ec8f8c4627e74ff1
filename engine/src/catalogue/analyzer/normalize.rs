//! Character folding shared by every Japanese field, applied identically to indexed text and to
//! queries so that spelling differences a reader does not care about disappear:
//!
//! 1. invisible characters (variation selectors, zero-width spaces, soft hyphens) are dropped;
//! 2. NFKC: full-width Latin → ASCII, half-width katakana → katakana (ｻｸﾗ → サクラ, ｶﾞ → ガ), ㍿ → 株式会社;
//! 3. lower case, and Latin diacritics removed (Pokémon → pokemon);
//! 4. old and variant kanji → the modern form (國 → 国, see [`super::variant_kanji`]);
//! 5. katakana → hiragana (サクラ → さくら, ヴ → ゔ, ヶ → け);
//! 6. iteration marks spelt out: 々 repeats the previous kanji (佐々木 → 佐佐木), ゝ/ヽ repeat the
//!    previous kana, ゞ/ヾ repeat it voiced (いすゞ → いすず).
//!
//! Each folded character remembers the byte range of the source text it came from, so tokens can
//! carry offsets into the original text for highlighting.

use unicode_normalization::char::{
    canonical_combining_class, decompose_compatible, is_combining_mark,
};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::char_class::is_han;
use super::common_characters::{fold_common_character, is_common_character};
use super::kana::{
    self, KanaReplacement, COMBINING_SEMI_VOICED_MARK, COMBINING_VOICED_MARK,
    HIRAGANA_ITERATION_MARK, VOICED_HIRAGANA_ITERATION_MARK,
};
use super::variant_kanji::standard_kanji_for;

/// One character of folded text and the byte range of the source text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldedChar {
    pub character: char,
    pub source_start: usize,
    pub source_end: usize,
}

/// The folded form of `text` (see the module documentation), e.g. `ｻｸﾗ` → `さくら`, `佐々木` → `佐佐木`.
///
/// Folding is idempotent: folding folded text changes nothing.
pub fn fold_text(text: &str) -> String {
    fold_characters(text)
        .iter()
        .map(|folded| folded.character)
        .collect()
}

/// Folds `text` character by character, keeping the source byte range of each folded character.
pub fn fold_characters(text: &str) -> Vec<FoldedChar> {
    fold_characters_ignoring(text, |_| false)
}

/// [`fold_characters`], treating the characters `is_ignored` picks like invisible ones: they are
/// gone before NFKC, so the characters around them compose as if they had never been there.
pub(crate) fn fold_characters_ignoring(
    text: &str,
    is_ignored: impl Fn(char) -> bool,
) -> Vec<FoldedChar> {
    let mut folded = Vec::with_capacity(text.len());
    // NFKC has to see a base character together with the marks that may compose with it (ｶ + ﾞ),
    // but running it per chunk rather than over the whole text keeps track of source offsets.
    let mut chunk = String::new();
    let mut chunk_start = 0;
    let mut chunk_end = 0;
    for (offset, source_character) in text.char_indices() {
        if is_invisible(source_character) || is_ignored(source_character) {
            continue;
        }
        let character = spacing_voiced_mark_as_combining(source_character);
        if !chunk.is_empty() && !composes_with_previous(character) {
            fold_chunk(&chunk, chunk_start, chunk_end, &mut folded);
            chunk.clear();
        }
        if chunk.is_empty() {
            chunk_start = offset;
        }
        chunk.push(character);
        chunk_end = offset + source_character.len_utf8();
    }
    if !chunk.is_empty() {
        fold_chunk(&chunk, chunk_start, chunk_end, &mut folded);
    }
    folded
}

/// Characters that change nothing a reader sees and would otherwise split words: variation selectors
/// (葛󠄀 is 葛), zero-width spaces and joiners, bidirectional controls, soft hyphens, byte-order marks.
fn is_invisible(character: char) -> bool {
    matches!(character,
        '\u{00AD}'
        | '\u{180B}'..='\u{180D}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}')
}

/// The spacing dakuten ゛ and handakuten ゜ (typed after kana on old systems: か゛) act as their
/// combining forms, so か゛ folds like が. NFKC alone would turn them into a space plus a mark.
fn spacing_voiced_mark_as_combining(character: char) -> char {
    match character {
        '\u{309B}' => COMBINING_VOICED_MARK,
        '\u{309C}' => COMBINING_SEMI_VOICED_MARK,
        other => other,
    }
}

/// True when `character` may combine with what precedes it under NFKC: combining marks (including
/// half-width ﾞ ﾟ, which decompose to one), Hangul vowel and final jamo, and the few other
/// characters whose NFC quick check answers "maybe".
pub(crate) fn composes_with_previous(character: char) -> bool {
    !is_common_character(character) && composes_with_previous_generally(character)
}

pub(super) fn composes_with_previous_generally(character: char) -> bool {
    let mut first_of_decomposition = None;
    decompose_compatible(character, |decomposed| {
        first_of_decomposition.get_or_insert(decomposed);
    });
    let first = first_of_decomposition.unwrap_or(character);
    canonical_combining_class(first) != 0
        || matches!(first, '\u{1160}'..='\u{11FF}')
        || is_nfc_quick(std::iter::once(first)) == IsNormalized::Maybe
}

/// Folds one chunk (a base character and what composes with it) and appends the result.
fn fold_chunk(chunk: &str, source_start: usize, source_end: usize, folded: &mut Vec<FoldedChar>) {
    let mut characters = chunk.chars();
    if let (Some(only), None) = (characters.next(), characters.next()) {
        if let Some(character) = fold_common_character(only) {
            folded.push(FoldedChar { character, source_start, source_end });
            return;
        }
    }
    fold_chunk_generally(chunk, source_start, source_end, folded);
}

/// [`fold_chunk`] for any chunk: every folding step, in order.
pub(super) fn fold_chunk_generally(chunk: &str, source_start: usize, source_end: usize, folded: &mut Vec<FoldedChar>) {
    let compatibility_composed: String = chunk.nfkc().collect();
    let lower_cased: String = compatibility_composed
        .chars()
        .flat_map(char::to_lowercase)
        .collect();
    // Lower-casing can leave text that is no longer NFKC (a few letters lower-case to decomposed
    // sequences), and folding must be idempotent, so normalise once more.
    let recomposed: String = lower_cased.nfkc().collect();
    let without_latin_diacritics = strip_latin_diacritics(recomposed);
    let mut kana_and_kanji_folded = String::with_capacity(without_latin_diacritics.len());
    for character in without_latin_diacritics.chars() {
        push_folded_kana_and_kanji(character, &mut kana_and_kanji_folded);
    }
    // A mark NFKC could not compose may compose once its base is folded (ヵ + ﾞ: ヵ゙ has no
    // precomposed form, か + ゙ is が); compose again so folding folded text changes nothing.
    let composed: String = if kana_and_kanji_folded.chars().any(is_combining_mark) {
        kana_and_kanji_folded.nfc().collect()
    } else {
        kana_and_kanji_folded
    };
    for character in composed.chars() {
        let character = spell_out_iteration_mark(character, folded);
        folded.push(FoldedChar {
            character,
            source_start,
            source_end,
        });
    }
}

/// Removes combining marks from Latin letters (é → e), leaving marks on other scripts, above all
/// the dakuten on kana, untouched.
fn strip_latin_diacritics(text: String) -> String {
    if !text.chars().any(is_latin_letter)
        || text
            .chars()
            .all(|character| !has_canonical_marks(character))
    {
        return text;
    }
    let mut stripped = String::with_capacity(text.len());
    let mut base_is_latin = false;
    for character in text.nfd() {
        if canonical_combining_class(character) == 0 {
            base_is_latin = is_latin_letter(character);
        } else if base_is_latin {
            continue;
        }
        stripped.push(character);
    }
    stripped.nfc().collect()
}

fn has_canonical_marks(character: char) -> bool {
    canonical_combining_class(character) != 0 || character.nfd().nth(1).is_some()
}

fn is_latin_letter(character: char) -> bool {
    character.is_ascii_alphabetic()
        || matches!(character, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}')
}

/// Applies the kanji and kana steps (variant kanji, katakana → hiragana) to one character that has
/// been through NFKC and lower-casing.
fn push_folded_kana_and_kanji(character: char, folded: &mut String) {
    let character = standard_kanji_for(character).unwrap_or(character);
    match kana::katakana_as_hiragana(character) {
        Some(KanaReplacement::One(hiragana)) => folded.push(hiragana),
        Some(KanaReplacement::WithVoicedMark(hiragana)) => {
            folded.push(hiragana);
            folded.push(COMBINING_VOICED_MARK);
        }
        None => folded.push(character),
    }
}

/// Replaces an iteration mark by the character it repeats, given the folded text before it. A mark
/// with nothing suitable before it (々 at the start of a title) is kept, so it still matches itself.
pub(crate) fn spell_out_iteration_mark(character: char, folded_before: &[FoldedChar]) -> char {
    // The character a mark repeats is the last base character: a stray combining mark (髙ﾞ々) must
    // not hide it, or dropping that mark later (readings do) would change the result.
    let previous = folded_before
        .iter()
        .rev()
        .map(|previous| previous.character)
        .find(|previous| !is_combining_mark(*previous));
    match (character, previous) {
        ('々' | '〻', Some(previous)) if is_han(previous) => previous,
        (HIRAGANA_ITERATION_MARK, Some(previous)) if kana::is_hiragana_letter(previous) => {
            kana::unvoiced(previous)
        }
        (VOICED_HIRAGANA_ITERATION_MARK, Some(previous)) if kana::is_hiragana_letter(previous) => {
            kana::voiced(previous)
        }
        _ => character,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfkc_folds_full_and_half_width() {
        assert_eq!(fold_text("ＨＡＲＲＹ　Ｐｏｔｔｅｒ"), "harry potter");
        assert_eq!(fold_text("ｻｸﾗ"), "さくら");
        assert_eq!(fold_text("ｶﾞｯｺｳ"), "がっこう");
        assert_eq!(fold_text("ﾊﾟﾝ"), "ぱん");
        assert_eq!(fold_text("㍿"), "株式会社");
        assert_eq!(fold_text("１２３"), "123");
    }

    #[test]
    fn case_and_latin_diacritics_fold() {
        assert_eq!(fold_text("Pokémon CAFÉ"), "pokemon cafe");
        assert_eq!(fold_text("İstanbul"), "istanbul");
        assert_eq!(fold_text("Straße"), "straße");
    }

    #[test]
    fn katakana_becomes_hiragana() {
        assert_eq!(fold_text("サクラ"), "さくら");
        assert_eq!(fold_text("ヴァイオリン"), "ゔぁいおりん");
        assert_eq!(fold_text("ハリー・ポッター"), "はりー・ぽったー");
        assert_eq!(fold_text("霞ヶ関"), fold_text("霞ケ関"));
    }

    #[test]
    fn dakuten_typed_separately_composes() {
        assert_eq!(fold_text("か\u{3099}"), "が");
        assert_eq!(fold_text("か゛"), "が");
        assert_eq!(fold_text("ハ゜ン"), "ぱん");
        assert_eq!(fold_text("ヷ"), fold_text("ワ゛"));
    }

    #[test]
    fn kanji_iteration_mark_repeats_the_previous_kanji() {
        assert_eq!(fold_text("佐々木"), "佐佐木");
        assert_eq!(fold_text("佐々木"), fold_text("佐佐木"));
        assert_eq!(fold_text("時々々"), "時時時");
        assert_eq!(fold_text("々"), "々");
        assert_eq!(fold_text("あ々"), "あ々");
    }

    #[test]
    fn kana_iteration_marks_repeat_the_previous_kana() {
        assert_eq!(fold_text("こゝろ"), "こころ");
        assert_eq!(fold_text("いすゞ"), "いすず");
        assert_eq!(fold_text("ミスヾ"), "みすず");
        assert_eq!(fold_text("バヽ"), "ばは");
        assert_eq!(fold_text("ゝ"), "ゝ");
    }

    #[test]
    fn old_and_variant_kanji_fold_to_modern_forms() {
        assert_eq!(fold_text("國學院"), "国学院");
        assert_eq!(fold_text("髙﨑"), "高崎");
        assert_eq!(fold_text("渡邉"), fold_text("渡辺"));
        assert_eq!(fold_text("齊藤"), "斉藤");
        assert_ne!(fold_text("齋藤"), fold_text("齊藤"));
    }

    #[test]
    fn compatibility_ideographs_fold_through_nfkc() {
        assert_eq!(fold_text("\u{FA19}"), "神");
        assert_eq!(fold_text("\u{2F00}"), "一");
    }

    #[test]
    fn invisible_characters_are_dropped() {
        assert_eq!(fold_text("葛\u{E0100}飾"), "葛飾");
        assert_eq!(fold_text("東\u{200B}京"), "東京");
        assert_eq!(fold_text("\u{FEFF}abc"), "abc");
    }

    #[test]
    fn offsets_point_into_the_source_text() {
        let text = "ｻｸﾗ佐々木";
        let folded = fold_characters(text);
        let sources: Vec<&str> = folded
            .iter()
            .map(|f| &text[f.source_start..f.source_end])
            .collect();
        assert_eq!(sources, ["ｻ", "ｸ", "ﾗ", "佐", "々", "木"]);
        let folded = fold_characters("ｶﾞ");
        assert_eq!(
            (folded.len(), folded[0].source_start, folded[0].source_end),
            (1, 0, 6)
        );
    }

    #[test]
    fn folding_is_idempotent_on_examples() {
        for text in [
            "ｻｸﾗ",
            "佐々木",
            "いすゞ",
            "Pokémon",
            "ヷ",
            "㍿",
            "か゛",
            "ㄱㅏ",
            "髙ﾞ々",
        ] {
            let once = fold_text(text);
            assert_eq!(fold_text(&once), once, "{text}");
        }
    }
}
