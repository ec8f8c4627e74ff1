//! Japanese analysis for the catalogue: the same folding and tokenization on the index and the
//! query side, so a reader finds a record however either side spelt it.
//!
//! # Field kinds and tokenizer names
//!
//! | field kind | index tokenizer | query tokenizer | for |
//! |---|---|---|---|
//! | [`JapaneseFieldKind::Text`] | `ja_text` | `ja_text_query` | titles, authors, publishers, subjects, notes |
//! | [`JapaneseFieldKind::Reading`] | `ja_reading` | `ja_reading_query` | readings (yomi): `スグ ツカエル` |
//!
//! Register them on an index with [`register_japanese_tokenizers`], set the index tokenizer on the
//! field (`TextFieldIndexing::set_tokenizer(JapaneseFieldKind::Text.index_tokenizer_name())`, with
//! positions), and build queries from [`query_terms`].
//!
//! # What the analysis does
//!
//! 1. Folding ([`fold_text`]): NFKC, lower case, Latin diacritics, old and variant kanji
//!    (國 → 国, a curated table of 500+ pairs, see `engine/data/VARIANT_KANJI.md`), katakana →
//!    hiragana, iteration marks (佐々木 → 佐佐木, いすゞ → いすず).
//! 2. Reading fields also fold voicing, small kana and ー, and ignore spaces ([`fold_reading`]).
//! 3. Tokenization: CJK runs become overlapping bigrams at character positions (東京都 → 東京@0
//!    京都@1), Latin and digit runs become words. A phrase query over a query's terms therefore
//!    matches 東京都の歴史 but not 京都と東京.
//!
//! # Lone characters
//!
//! The index also holds a unigram for every CJK character of a text field, at the same
//! position as the bigram that starts with it (東@0 東京@0 京@1 京都@1 都@2). So:
//!
//! - a one-character query (猫) is a single term lookup, and finds 猫の事務所 and 黒猫 alike
//!   (a prefix query on bigrams would miss 黒猫, where 猫 ends the run);
//! - longer queries use bigrams only ([`AnalysisMode::Querying`]): fewer, more selective postings,
//!   and the extra unigrams in the index never break a phrase because they share its positions;
//! - one field per kind is enough; no separate unigram field has to be kept in step.
//!
//! Reading fields are the exception: they index the kana of a one-kana reading only, not every kana
//! of a longer one. A one-kana query matches nearly every reading, so only title and other text
//! fields answer it; leaving those unigrams out of readings spares a build a quarter of its terms.
//!
//! Feeding the index tokenizer to tantivy's `QueryParser` still gives correct phrase matches (the
//! query then carries unigrams and a run-start term at the positions of its bigrams), but anchors
//! the query at a run start; [`query_terms`] and the `*_query` tokenizers are the query path.
//!
//! # Run starts
//!
//! Indexing also emits, for each CJK run, its first bigram marked with [`RUN_START_MARK`]
//! (`^ねこ` for ねこの森). The query side adds it as an optional clause, so that records whose
//! words *begin* with the query rank above those that merely contain it (ねこの森 above かねこ).

mod char_class;
mod cjk_bigram;
mod common_characters;
mod kana;
mod normalize;
mod reading;
mod terms;
mod tokenizer;
mod variant_kanji;

#[cfg(test)]
mod property_tests;

use tantivy::tokenizer::TokenizerManager;

pub use cjk_bigram::AnalysisMode;
pub use terms::AnalysedTerm;
use terms::AnalysedTerms;
pub use normalize::{fold_characters, fold_text, FoldedChar};
pub use reading::{fold_reading, fold_reading_characters};
pub use tokenizer::{AnalysedTokenStream, JapaneseTokenizer};
pub use variant_kanji::{
    parse_variant_kanji_table, standard_kanji_for, variant_kanji_pairs, VariantKanjiPair,
    VariantKanjiSource, VariantKanjiTableError,
};

/// Tokenizer name for indexing general text fields.
pub const JA_TEXT_TOKENIZER: &str = "ja_text";
/// Tokenizer name for analysing queries against general text fields.
pub const JA_TEXT_QUERY_TOKENIZER: &str = "ja_text_query";
/// Tokenizer name for indexing reading (yomi) fields.
pub const JA_READING_TOKENIZER: &str = "ja_reading";
/// Tokenizer name for analysing queries against reading (yomi) fields.
pub const JA_READING_QUERY_TOKENIZER: &str = "ja_reading_query";

/// The two kinds of Japanese field, which fold and tokenize differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JapaneseFieldKind {
    /// Titles, names, publishers, subjects, notes: general folding, runs end at punctuation.
    Text,
    /// Readings (yomi) in kana: general folding plus voicing, small kana and ー folding, and
    /// spaces ignored, so `スグ ツカエル`, `すぐつかえる` and `スク゛ツカエル` agree.
    Reading,
}

impl JapaneseFieldKind {
    /// The tokenizer name to set on a field of this kind in the schema.
    pub fn index_tokenizer_name(self) -> &'static str {
        match self {
            JapaneseFieldKind::Text => JA_TEXT_TOKENIZER,
            JapaneseFieldKind::Reading => JA_READING_TOKENIZER,
        }
    }

    /// The tokenizer name that analyses user queries for a field of this kind.
    pub fn query_tokenizer_name(self) -> &'static str {
        match self {
            JapaneseFieldKind::Text => JA_TEXT_QUERY_TOKENIZER,
            JapaneseFieldKind::Reading => JA_READING_QUERY_TOKENIZER,
        }
    }
}

/// Registers `ja_text`, `ja_text_query`, `ja_reading` and `ja_reading_query` on a tantivy
/// tokenizer manager (usually `index.tokenizers()`), replacing any earlier registration.
pub fn register_japanese_tokenizers(manager: &TokenizerManager) {
    for field_kind in [JapaneseFieldKind::Text, JapaneseFieldKind::Reading] {
        manager.register(
            field_kind.index_tokenizer_name(),
            JapaneseTokenizer::new(field_kind, AnalysisMode::Indexing),
        );
        manager.register(
            field_kind.query_tokenizer_name(),
            JapaneseTokenizer::new(field_kind, AnalysisMode::Querying),
        );
    }
}

/// Marks a term that starts a run of CJK characters (between punctuation or spaces in text fields; a
/// whole reading in reading fields). The index holds `^` + the run's first bigram (or lone character) beside the plain
/// terms, so a query can prefer records where its words *begin* a run: ねこ ranks ねこの森 above かねこ.
/// `^` never occurs inside an analysed term, which holds letters, digits and CJK characters only.
pub const RUN_START_MARK: char = '^';

/// Analyses `text` for a field kind: the terms, in order, with positions and source byte offsets.
/// In indexing mode each CJK run also gets its run-start term (see [`RUN_START_MARK`]).
pub fn analyse(text: &str, field_kind: JapaneseFieldKind, mode: AnalysisMode) -> Vec<AnalysedTerm> {
    analyse_into_buffer(text, field_kind, mode).into_vec()
}

/// The run-start term a query's first word would match, if it has any term.
pub fn run_start_query_term(text: &str, field_kind: JapaneseFieldKind) -> Option<String> {
    query_terms(text, field_kind).first().map(|term| format!("{RUN_START_MARK}{}", term.text))
}

/// [`analyse`], with the terms' texts in one buffer (what the tokenizer hands to tantivy).
pub(crate) fn analyse_into_buffer(text: &str, field_kind: JapaneseFieldKind, mode: AnalysisMode) -> AnalysedTerms {
    match field_kind {
        JapaneseFieldKind::Text => cjk_bigram::terms_from_folded(
            &fold_characters(text),
            cjk_bigram::SeparatorHandling::EndCjkRun,
            mode,
            cjk_bigram::LoneCharacters::for_mode(mode),
        ),
        JapaneseFieldKind::Reading => reading::reading_terms(text, mode),
    }
}

/// The terms a query for `text` must match in a field of this kind, with their positions.
///
/// - No terms: nothing searchable (only punctuation); match nothing rather than everything.
/// - One term: a term query (a lone kanji or kana finds its unigram in the index).
/// - Several terms: a phrase query with these positions (`PhraseQuery::new_with_offset`) requires
///   them in this order, as in 東京都; the positions leave gaps where the query had punctuation, so
///   "ハリー・ポッター" also matches "ハリーポッター". To search words anywhere rather than as a
///   phrase, split the user's input on whitespace first and call this once per word.
pub fn query_terms(text: &str, field_kind: JapaneseFieldKind) -> Vec<AnalysedTerm> {
    analyse(text, field_kind, AnalysisMode::Querying)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_starts_are_marked_in_the_index_only() {
        let indexed: Vec<String> =
            analyse("ねこの森、かねこ", JapaneseFieldKind::Text, AnalysisMode::Indexing).into_iter().map(|t| t.text).collect();
        assert!(indexed.contains(&"^ねこ".to_string()) && indexed.contains(&"^かね".to_string()));
        assert!(!indexed.contains(&"^ねこの".to_string()) && indexed.iter().filter(|t| t.starts_with('^')).count() == 2);
        assert!(query_terms("ねこ", JapaneseFieldKind::Text).iter().all(|t| !t.text.starts_with('^')));
        assert_eq!(run_start_query_term("ネコ", JapaneseFieldKind::Reading).as_deref(), Some("^ねこ"));
    }

    fn texts(text: &str, field_kind: JapaneseFieldKind) -> Vec<String> {
        query_terms(text, field_kind)
            .into_iter()
            .map(|term| term.text)
            .collect()
    }

    #[test]
    fn names_in_old_and_new_spellings_analyse_alike() {
        assert_eq!(
            texts("佐々木", JapaneseFieldKind::Text),
            texts("佐佐木", JapaneseFieldKind::Text)
        );
        assert_eq!(
            texts("國學院", JapaneseFieldKind::Text),
            texts("国学院", JapaneseFieldKind::Text)
        );
        assert_eq!(
            texts("髙橋", JapaneseFieldKind::Text),
            texts("高橋", JapaneseFieldKind::Text)
        );
    }

    #[test]
    fn mixed_titles_tokenize_into_words_and_bigrams() {
        assert_eq!(
            texts(
                "「ハリー・ポッター」と賢者の石 Harry Potter",
                JapaneseFieldKind::Text
            ),
            [
                "はり", "りー", "ぽっ", "った", "たー", "と賢", "賢者", "者の", "の石", "harry",
                "potter"
            ]
        );
    }

    #[test]
    fn text_fields_keep_voicing_and_reading_fields_fold_it() {
        assert_ne!(
            texts("がっこう", JapaneseFieldKind::Text),
            texts("かっこう", JapaneseFieldKind::Text)
        );
        assert_eq!(
            texts("トクホン", JapaneseFieldKind::Reading),
            texts("どくほん", JapaneseFieldKind::Reading)
        );
    }

    #[test]
    fn tokenizer_names_are_registered() {
        let manager = TokenizerManager::new();
        register_japanese_tokenizers(&manager);
        for name in [
            JA_TEXT_TOKENIZER,
            JA_TEXT_QUERY_TOKENIZER,
            JA_READING_TOKENIZER,
            JA_READING_QUERY_TOKENIZER,
        ] {
            assert!(manager.get(name).is_some(), "{name} is not registered");
        }
        let mut reading = manager.get(JA_READING_QUERY_TOKENIZER).expect("registered");
        let mut stream = reading.token_stream("ｻｸﾗ");
        let mut terms = Vec::new();
        while let Some(token) = stream.next() {
            terms.push(token.text.clone());
        }
        assert_eq!(terms, ["さく", "くら"]);
    }
}
