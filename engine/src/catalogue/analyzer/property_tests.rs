//! Property tests of the whole analyzer: it never panics, positions are usable for phrase queries,
//! folding is idempotent, katakana and hiragana agree, and any text finds itself.

use proptest::prelude::*;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use super::{analyse, fold_reading, fold_text, AnalysisMode, JapaneseFieldKind, JapaneseTokenizer, RUN_START_MARK};

const FIELD_KINDS: [JapaneseFieldKind; 2] = [JapaneseFieldKind::Text, JapaneseFieldKind::Reading];

/// Text that exercises the Japanese paths: kana of both kinds, half-width katakana, marks, a few
/// kanji including variants and iteration marks, Latin, digits, punctuation and spaces.
fn japanese_like_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "[\u{3041}-\u{30FF}\u{FF61}-\u{FF9F}\u{4E00}-\u{4E2F}國學髙﨑佐木々〻ゝゞヽヾー゛゜\u{3099}\u{309A}a-zA-Zé0-9Ａ-Ｚ ・、。「」\u{3000}]{0,40}",
    )
    .expect("the pattern is a valid regex")
}

/// Text dense in characters that compose or decompose under normalisation: combining marks, Hangul
/// jamo, Indic vowel signs, half-width voiced marks, ヷ..ヺ, ヵヶ, iteration marks, Turkish İ.
fn composition_heavy_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "[\u{0300}-\u{0345}\u{1100}-\u{1112}\u{1161}-\u{1175}\u{11A8}-\u{11C2}\u{3131}-\u{318E}\u{0BC6}\u{0BBE}\u{0B95}\u{0CC6}\u{0CD5}\u{0CC2}\u{0C95}\u{FF9E}\u{FF9F}\u{3099}\u{309A}゛゜ヷヸヹヺヵヶゕゖワカかうウ々ゝゞヽヾ〻ー國佐İIaeoAE ]{0,24}",
    )
    .expect("the pattern is a valid regex")
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        japanese_like_text(),
        composition_heavy_text()
    ]
}

/// Kana strings written once in hiragana and once in katakana.
fn hiragana_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![8 => proptest::char::range('\u{3041}', '\u{3096}'), 1 => Just('ー'), 1 => Just(' ')], 0..30)
        .prop_map(|characters| characters.into_iter().collect())
}

fn as_katakana(hiragana: &str) -> String {
    hiragana
        .chars()
        .map(|character| match character {
            '\u{3041}'..='\u{3096}' => char::from_u32(character as u32 + 0x60).unwrap_or(character),
            other => other,
        })
        .collect()
}

fn texts_and_positions(
    text: &str,
    field_kind: JapaneseFieldKind,
    mode: AnalysisMode,
) -> Vec<(String, usize)> {
    analyse(text, field_kind, mode)
        .into_iter()
        .map(|term| (term.text, term.position))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn analysis_never_panics_and_offsets_are_char_boundaries(text in any_text()) {
        for field_kind in FIELD_KINDS {
            for mode in [AnalysisMode::Indexing, AnalysisMode::Querying] {
                for term in analyse(&text, field_kind, mode) {
                    prop_assert!(!term.text.is_empty());
                    prop_assert!(term.source_start < term.source_end);
                    prop_assert!(text.get(term.source_start..term.source_end).is_some());
                }
            }
        }
    }

    #[test]
    fn query_positions_strictly_increase(text in any_text()) {
        for field_kind in FIELD_KINDS {
            let positions: Vec<usize> =
                analyse(&text, field_kind, AnalysisMode::Querying).iter().map(|term| term.position).collect();
            prop_assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{:?}", positions);
        }
    }

    #[test]
    fn index_positions_never_decrease_and_each_term_strictly_increases(text in any_text()) {
        for field_kind in FIELD_KINDS {
            let terms = texts_and_positions(&text, field_kind, AnalysisMode::Indexing);
            prop_assert!(terms.windows(2).all(|pair| pair[0].1 <= pair[1].1));
            // A unigram and a bigram may share a position; the same term never appears twice at one.
            let mut seen = std::collections::HashSet::new();
            for term in &terms {
                prop_assert!(seen.insert(term.clone()), "{:?} twice", term);
            }
        }
    }

    #[test]
    fn folding_is_idempotent(text in any_text()) {
        let folded = fold_text(&text);
        prop_assert_eq!(fold_text(&folded), folded.clone());
        let folded_reading = fold_reading(&text);
        prop_assert_eq!(fold_reading(&folded_reading), folded_reading.clone());
    }

    #[test]
    fn analysing_folded_text_gives_the_same_terms(text in any_text()) {
        for mode in [AnalysisMode::Indexing, AnalysisMode::Querying] {
            prop_assert_eq!(
                texts_and_positions(&fold_text(&text), JapaneseFieldKind::Text, mode),
                texts_and_positions(&text, JapaneseFieldKind::Text, mode)
            );
            prop_assert_eq!(
                texts_and_positions(&fold_reading(&text), JapaneseFieldKind::Reading, mode),
                texts_and_positions(&text, JapaneseFieldKind::Reading, mode)
            );
        }
    }

    #[test]
    fn katakana_and_hiragana_analyse_the_same(hiragana in hiragana_text()) {
        let katakana = as_katakana(&hiragana);
        for field_kind in FIELD_KINDS {
            for mode in [AnalysisMode::Indexing, AnalysisMode::Querying] {
                prop_assert_eq!(
                    texts_and_positions(&hiragana, field_kind, mode),
                    texts_and_positions(&katakana, field_kind, mode)
                );
            }
        }
    }

    #[test]
    fn readings_index_their_query_terms_and_run_starts_only(text in any_text()) {
        // No unigram of a kana inside a longer reading (see reading.rs): what a reading query can look
        // for is all a reading field holds, besides the run-start terms.
        let indexed: Vec<(String, usize)> = texts_and_positions(&text, JapaneseFieldKind::Reading, AnalysisMode::Indexing)
            .into_iter()
            .filter(|(term, _)| !term.starts_with(RUN_START_MARK))
            .collect();
        prop_assert_eq!(indexed, texts_and_positions(&text, JapaneseFieldKind::Reading, AnalysisMode::Querying));
    }

    #[test]
    fn the_tokenizer_hands_tantivy_exactly_the_analysed_terms(text in any_text()) {
        // The token stream refills one token per term; nothing of a longer term may stay behind.
        for field_kind in FIELD_KINDS {
            for mode in [AnalysisMode::Indexing, AnalysisMode::Querying] {
                let mut analyzer = TextAnalyzer::from(JapaneseTokenizer::new(field_kind, mode));
                let mut stream = analyzer.token_stream(&text);
                let mut tokens = Vec::new();
                while stream.advance() {
                    let token = stream.token();
                    tokens.push((token.text.clone(), token.position, token.offset_from, token.offset_to));
                }
                let expected: Vec<(String, usize, usize, usize)> = analyse(&text, field_kind, mode)
                    .into_iter()
                    .map(|term| (term.text, term.position, term.source_start, term.source_end))
                    .collect();
                prop_assert_eq!(tokens, expected);
            }
        }
    }

    #[test]
    fn every_query_term_is_in_the_index_at_its_position(text in any_text()) {
        for field_kind in FIELD_KINDS {
            let indexed = texts_and_positions(&text, field_kind, AnalysisMode::Indexing);
            for term in texts_and_positions(&text, field_kind, AnalysisMode::Querying) {
                prop_assert!(indexed.contains(&term), "{:?} missing from {:?}", term, indexed);
            }
        }
    }
}
