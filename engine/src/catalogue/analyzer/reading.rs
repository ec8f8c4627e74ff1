//! Folding for reading (yomi) fields such as NDL's katakana transcriptions (`スグ ツカエル`), on
//! top of the general folding, so that a reader's kana input finds the catalogue's reading however
//! either side spelt it:
//!
//! - voiced and semi-voiced kana lose their marks (が → か, ぱ → は): catalogues record some
//!   readings unvoiced (読本 as トクホン), so どくほん must find it;
//! - small kana become full size (ゃ → や, っ → つ): older catalogues write キヤンプ for キャンプ;
//! - ゐ/ゑ become い/え, the modern spelling readers type;
//! - the long vowel mark ー becomes the vowel it lengthens (カー → かあ), so ビール and びいる agree
//!   while ビル stays different; a ー after ん or at the start is dropped;
//! - spaces and punctuation between kana are ignored (スグ ツカエル = すぐつかえる), so the whole
//!   reading is one bigrammed run; Latin words and digits in a reading stay words.

use super::cjk_bigram::{terms_from_folded, AnalysisMode, LoneCharacters, SeparatorHandling};
use super::kana::{self, COMBINING_SEMI_VOICED_MARK, COMBINING_VOICED_MARK, PROLONGED_SOUND_MARK};
use super::terms::AnalysedTerms;
use super::normalize::{
    composes_with_previous, fold_characters_ignoring, spell_out_iteration_mark, FoldedChar,
};

/// The folded form of a reading, e.g. `スグ ツカエル` → `すく つかえる`, `コーヒー` → `こおひい`.
///
/// Separators are kept in the returned text (the tokenizer ignores them); folding is idempotent.
pub fn fold_reading(text: &str) -> String {
    fold_reading_characters(text)
        .iter()
        .map(|folded| folded.character)
        .collect()
}

/// Folds a reading character by character, keeping the source byte range of each folded character.
pub fn fold_reading_characters(text: &str) -> Vec<FoldedChar> {
    let mut folded: Vec<FoldedChar> = Vec::new();
    // Readings ignore voicing, so dakuten and handakuten in any spelling are dropped before NFKC:
    // dropped afterwards, they could leave neighbours that compose only on a second folding.
    let generally_folded_characters = fold_characters_ignoring(text, is_voiced_sound_mark);
    // What composed with a dropped ー goes with it; left behind it would compose with the
    // character before (iー̀ → ì) when the folded text is folded again.
    let mut dropped_prolonged_sound_mark: Option<(usize, usize)> = None;
    for generally_folded in generally_folded_characters {
        let character = generally_folded.character;
        let source_range = (generally_folded.source_start, generally_folded.source_end);
        if dropped_prolonged_sound_mark == Some(source_range) && composes_with_previous(character) {
            continue;
        }
        dropped_prolonged_sound_mark = None;
        let character = match character {
            COMBINING_VOICED_MARK | COMBINING_SEMI_VOICED_MARK => continue,
            PROLONGED_SOUND_MARK => {
                match folded
                    .last()
                    .and_then(|previous| kana::vowel_of(previous.character))
                {
                    Some(vowel) => vowel,
                    None => {
                        dropped_prolonged_sound_mark = Some(source_range);
                        continue;
                    }
                }
            }
            // A mark the general folding could not spell out may repeat a character only now
            // in place (国ー々 once ー is dropped), and folding must stay idempotent.
            other => fold_reading_kana(spell_out_iteration_mark(other, &folded)),
        };
        folded.push(FoldedChar {
            character,
            ..generally_folded
        });
    }
    folded
}

/// Terms for a reading field.
///
/// The index holds no unigram for a kana inside a longer reading, only the bigrams (and the kana of a
/// one-kana reading), as queries do: a one-kana query matches nearly every reading, so title fields
/// answer it, and those unigrams were a quarter of an index's terms, time a build spent for nothing.
pub(crate) fn reading_terms(text: &str, mode: AnalysisMode) -> AnalysedTerms {
    terms_from_folded(
        &fold_reading_characters(text),
        SeparatorHandling::JoinCjkRuns,
        mode,
        LoneCharacters::OfOneCharacterRuns,
    )
}

/// Dakuten and handakuten, combining, spacing (゛゜) and half-width (ﾞﾟ).
fn is_voiced_sound_mark(character: char) -> bool {
    matches!(character, '\u{3099}'..='\u{309C}' | '\u{FF9E}' | '\u{FF9F}')
}

fn fold_reading_kana(character: char) -> char {
    match kana::full_size(kana::unvoiced(character)) {
        'ゐ' => 'い',
        'ゑ' => 'え',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_texts(text: &str) -> Vec<String> {
        reading_terms(text, AnalysisMode::Querying)
            .into_vec()
            .into_iter()
            .map(|term| term.text)
            .collect()
    }

    #[test]
    fn katakana_half_width_and_hiragana_readings_agree() {
        assert_eq!(fold_reading("サクラ"), "さくら");
        assert_eq!(fold_reading("ｻｸﾗ"), "さくら");
        assert_eq!(query_texts("さくら"), query_texts("サクラ"));
        assert_eq!(query_texts("さくら"), query_texts("ｻｸﾗ"));
    }

    #[test]
    fn spaces_between_words_of_a_reading_do_not_matter() {
        assert_eq!(query_texts("スグ ツカエル"), query_texts("すぐつかえる"));
        assert_eq!(query_texts("スグ・ツカエル"), query_texts("すぐつかえる"));
        assert_eq!(
            query_texts("すぐつかえる"),
            ["すく", "くつ", "つか", "かえ", "える"]
        );
    }

    #[test]
    fn voiced_and_unvoiced_transcriptions_agree() {
        assert_eq!(fold_reading("トクホン"), fold_reading("どくほん"));
        assert_eq!(fold_reading("パン"), "はん");
        assert_eq!(fold_reading("ヴァイオリン"), "うあいおりん");
    }

    #[test]
    fn small_kana_and_old_kana_become_full_size_modern_kana() {
        assert_eq!(fold_reading("キャンプ"), fold_reading("キヤンプ"));
        assert_eq!(fold_reading("ガッコウ"), "かつこう");
        assert_eq!(fold_reading("ｶﾞｯｺｳ"), "かつこう");
        assert_eq!(fold_reading("カ゛ッコウ"), "かつこう");
        assert_eq!(fold_reading("ヰスキー"), fold_reading("イスキー"));
    }

    #[test]
    fn long_vowel_mark_spells_out_the_vowel() {
        assert_eq!(fold_reading("コーヒー"), "こおひい");
        assert_eq!(fold_reading("ビール"), fold_reading("びいる"));
        assert_ne!(fold_reading("ビール"), fold_reading("ビル"));
        assert_eq!(fold_reading("チャー"), "ちやあ");
        assert_eq!(fold_reading("ンー"), "ん");
        assert_eq!(fold_reading("ーあ"), "あ");
    }

    #[test]
    fn a_one_character_reading_is_a_unigram() {
        assert_eq!(query_texts("キ"), ["き"]);
    }

    #[test]
    fn the_index_holds_bigrams_of_a_reading_not_its_kana_one_by_one() {
        let indexed = |text: &str| -> Vec<String> {
            reading_terms(text, AnalysisMode::Indexing).into_vec().into_iter().map(|term| term.text).collect()
        };
        assert_eq!(indexed("サクラ"), ["^さく", "さく", "くら"]);
        assert_eq!(indexed("キ"), ["^き", "き"]);
        assert_eq!(indexed("NHK ブックス"), ["nhk", "^ふつ", "ふつ", "つく", "くす"]);
    }

    #[test]
    fn latin_words_in_readings_stay_words() {
        assert_eq!(query_texts("NHK ブックス"), ["nhk", "ふつ", "つく", "くす"]);
        let positions: Vec<usize> = reading_terms("NHK ブックス", AnalysisMode::Querying)
            .iter()
            .map(|term| term.position)
            .collect();
        assert_eq!(positions, [0, 1, 2, 3]);
    }
}
