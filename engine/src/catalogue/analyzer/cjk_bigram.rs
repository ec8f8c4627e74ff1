//! Splits folded text into CJK runs and words, and turns them into terms with positions:
//! overlapping character bigrams for CJK runs, whole words for Latin and digits.
//!
//! Positions count characters inside CJK runs: the character at index `i` of a run starting at
//! position `p` sits at `p + i`, and the bigram starting there shares that position. A word takes
//! one position. So 東京都 gives 東京@0 京都@1, a phrase query over a query's bigrams matches the
//! same characters in the same order, and 京都と東京 (東京@3) does not match 東京都.
//!
//! Lone characters ([`LoneCharacters`]): when indexing text fields, every CJK character is also
//! emitted as a unigram at its own position, so a one-character query (猫) is a single term lookup
//! that finds 猫の事務所 and 黒猫. When querying, and when indexing readings, only bigrams are
//! emitted, plus the unigram of a one-character run; the unigrams in the index sit at the same
//! positions as the bigrams and never disturb phrase matching.

use super::char_class::{classify, CharacterClass};
use super::normalize::FoldedChar;
use super::terms::AnalysedTerms;

/// Words longer than this many bytes (base64 blobs, run-together data) are not searchable terms;
/// they are dropped on both sides but keep their position so phrases around them still line up.
const LONGEST_WORD_BYTES: usize = 100;
/// Combining marks kept on one CJK character; a stack longer than this is noise, not text.
const MOST_MARKS_PER_CHARACTER: usize = 4;

/// Whether terms are produced for the index or for a query; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnalysisMode {
    /// Bigrams, the run-start term of each CJK run, and the lone characters of the field kind.
    Indexing,
    /// Bigrams only, and the unigram of a CJK run of one character.
    Querying,
}

/// A CJK character with any combining marks it carries (わ゙), and where it came from: its text is a byte
/// range of its run's text, so a run costs two allocations however long it is, and a bigram is the
/// slice from one character's start to the next one's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CjkCharacter {
    text_start: usize,
    text_end: usize,
    source_start: usize,
    source_end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    CjkRun {
        text: String,
        characters: Vec<CjkCharacter>,
    },
    Word {
        text: String,
        source_start: usize,
        source_end: usize,
    },
}

/// How separators between CJK characters are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeparatorHandling {
    /// Spaces and punctuation end a CJK run (general text: 東京、大阪 are two runs).
    EndCjkRun,
    /// Spaces and punctuation between CJK characters are ignored (readings: スグ ツカエル is one run).
    JoinCjkRuns,
}

/// Which CJK characters also get a unigram of their own, besides the bigrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoneCharacters {
    /// Every character: text fields in the index, so that a one-character query (猫) finds 黒猫.
    Every,
    /// Only the character of a one-character run: queries, and reading fields in the index.
    OfOneCharacterRuns,
}

impl LoneCharacters {
    /// The lone characters of a text field: every one in the index; in a query, only a one-character
    /// run's (the query's bigrams say the rest).
    pub(crate) fn for_mode(mode: AnalysisMode) -> LoneCharacters {
        match mode {
            AnalysisMode::Indexing => LoneCharacters::Every,
            AnalysisMode::Querying => LoneCharacters::OfOneCharacterRuns,
        }
    }
}

/// Analyses folded characters into terms with positions.
pub(crate) fn terms_from_folded(
    folded: &[FoldedChar],
    separators: SeparatorHandling,
    mode: AnalysisMode,
    lone_characters: LoneCharacters,
) -> AnalysedTerms {
    emit_terms(&segment(folded, separators), mode, lone_characters)
}

fn segment(folded: &[FoldedChar], separators: SeparatorHandling) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut current: Option<Segment> = None;
    // A combining mark only rides on a character directly before it, never across a separator.
    let mut previous_was_separator = true;
    for folded_character in folded {
        let FoldedChar {
            character,
            source_start,
            source_end,
        } = *folded_character;
        match classify(character) {
            CharacterClass::Cjk => {
                if !matches!(current, Some(Segment::CjkRun { .. })) {
                    segments.extend(current.take());
                    current = Some(Segment::CjkRun { text: String::new(), characters: Vec::new() });
                }
                if let Some(Segment::CjkRun { text, characters }) = &mut current {
                    let text_start = text.len();
                    text.push(character);
                    characters.push(CjkCharacter { text_start, text_end: text.len(), source_start, source_end });
                }
                previous_was_separator = false;
            }
            CharacterClass::Word => {
                match &mut current {
                    Some(Segment::Word {
                        text,
                        source_end: word_end,
                        ..
                    }) => {
                        text.push(character);
                        *word_end = source_end;
                    }
                    _ => {
                        segments.extend(current.take());
                        current = Some(Segment::Word {
                            text: character.to_string(),
                            source_start,
                            source_end,
                        });
                    }
                }
                previous_was_separator = false;
            }
            CharacterClass::CombiningMark => {
                if previous_was_separator {
                    continue;
                }
                match &mut current {
                    Some(Segment::Word {
                        text,
                        source_end: word_end,
                        ..
                    }) => {
                        text.push(character);
                        *word_end = source_end;
                    }
                    Some(Segment::CjkRun { text, characters }) => {
                        // The last character's text ends the run's text, so its marks go on the end.
                        if let Some(last) = characters.last_mut() {
                            if text[last.text_start..].chars().count() <= MOST_MARKS_PER_CHARACTER {
                                text.push(character);
                                last.text_end = text.len();
                            }
                            last.source_end = last.source_end.max(source_end);
                        }
                    }
                    None => {}
                }
            }
            CharacterClass::Separator => {
                previous_was_separator = true;
                let keep_run_open = separators == SeparatorHandling::JoinCjkRuns
                    && matches!(current, Some(Segment::CjkRun { .. }));
                if !keep_run_open {
                    segments.extend(current.take());
                }
            }
        }
    }
    segments.extend(current);
    segments
}

fn emit_terms(segments: &[Segment], mode: AnalysisMode, lone_characters: LoneCharacters) -> AnalysedTerms {
    let mut terms = AnalysedTerms::default();
    let mut next_position = 0;
    for segment in segments {
        match segment {
            Segment::Word {
                text,
                source_start,
                source_end,
            } => {
                if text.len() <= LONGEST_WORD_BYTES {
                    terms.push(None, text, next_position, *source_start, *source_end);
                }
                next_position += 1;
            }
            Segment::CjkRun { text, characters } => {
                if mode == AnalysisMode::Indexing {
                    // The marked first bigram (or lone character); see `RUN_START_MARK` in the module above.
                    let first = &characters[0];
                    let last = characters.get(1).unwrap_or(first);
                    let marked = &text[first.text_start..last.text_end];
                    terms.push(Some(super::RUN_START_MARK), marked, next_position, first.source_start, last.source_end);
                }
                emit_cjk_run(text, characters, next_position, lone_characters, &mut terms);
                next_position += characters.len();
            }
        }
    }
    terms
}

fn emit_cjk_run(
    text: &str,
    run: &[CjkCharacter],
    first_position: usize,
    lone_characters: LoneCharacters,
    terms: &mut AnalysedTerms,
) {
    let emit_unigrams = lone_characters == LoneCharacters::Every || run.len() == 1;
    for (index, character) in run.iter().enumerate() {
        let position = first_position + index;
        if emit_unigrams {
            let unigram = &text[character.text_start..character.text_end];
            terms.push(None, unigram, position, character.source_start, character.source_end);
        }
        if let Some(next) = run.get(index + 1) {
            let bigram = &text[character.text_start..next.text_end];
            terms.push(None, bigram, position, character.source_start, next.source_end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::normalize::fold_characters;
    use super::*;

    /// Every term's text and position, run-start terms included.
    fn texts_and_positions(
        text: &str,
        separators: SeparatorHandling,
        mode: AnalysisMode,
        lone_characters: LoneCharacters,
    ) -> Vec<(String, usize)> {
        terms_from_folded(&fold_characters(text), separators, mode, lone_characters)
            .into_vec()
            .into_iter()
            .map(|term| (term.text, term.position))
            .collect()
    }

    fn terms(text: &str, mode: AnalysisMode) -> Vec<(String, usize)> {
        // Run-start terms have their own test in the module above; they are left out here.
        texts_and_positions(text, SeparatorHandling::EndCjkRun, mode, LoneCharacters::for_mode(mode))
            .into_iter()
            .filter(|(term, _)| !term.starts_with(super::super::RUN_START_MARK))
            .collect()
    }

    fn owned(expected: &[(&str, usize)]) -> Vec<(String, usize)> {
        expected
            .iter()
            .map(|(text, position)| (text.to_string(), *position))
            .collect()
    }

    #[test]
    fn cjk_runs_become_bigrams_with_character_positions() {
        assert_eq!(
            terms("東京都", AnalysisMode::Querying),
            owned(&[("東京", 0), ("京都", 1)])
        );
        assert_eq!(
            terms("東京都", AnalysisMode::Indexing),
            owned(&[("東", 0), ("東京", 0), ("京", 1), ("京都", 1), ("都", 2)])
        );
    }

    #[test]
    fn a_lone_character_is_a_unigram() {
        assert_eq!(terms("猫", AnalysisMode::Querying), owned(&[("猫", 0)]));
        assert_eq!(terms("猫", AnalysisMode::Indexing), owned(&[("猫", 0)]));
        assert_eq!(
            terms("犬 と 猫", AnalysisMode::Querying),
            owned(&[("犬", 0), ("と", 1), ("猫", 2)])
        );
    }

    #[test]
    fn an_index_without_lone_characters_keeps_those_of_one_character_runs() {
        let indexed = texts_and_positions(
            "黒猫 と 犬",
            SeparatorHandling::EndCjkRun,
            AnalysisMode::Indexing,
            LoneCharacters::OfOneCharacterRuns,
        );
        assert_eq!(
            indexed,
            owned(&[("^黒猫", 0), ("黒猫", 0), ("^と", 2), ("と", 2), ("^犬", 3), ("犬", 3)])
        );
    }

    #[test]
    fn latin_and_digit_runs_are_words() {
        assert_eq!(
            terms("Harry Potter", AnalysisMode::Indexing),
            owned(&[("harry", 0), ("potter", 1)])
        );
        assert_eq!(
            terms("2024年版 MP3", AnalysisMode::Querying),
            owned(&[("2024", 0), ("年版", 1), ("mp3", 3)])
        );
    }

    #[test]
    fn punctuation_separates_runs_but_positions_keep_counting() {
        assert_eq!(
            terms("「ハリー・ポッター」", AnalysisMode::Querying),
            owned(&[
                ("はり", 0),
                ("りー", 1),
                ("ぽっ", 3),
                ("った", 4),
                ("たー", 5)
            ])
        );
    }

    #[test]
    fn offsets_cover_the_source_characters() {
        let text = "猫の事務所";
        let analysed = terms_from_folded(
            &fold_characters(text),
            SeparatorHandling::EndCjkRun,
            AnalysisMode::Querying,
            LoneCharacters::OfOneCharacterRuns,
        );
        let covered: Vec<&str> = analysed
            .iter()
            .map(|term| &text[term.source_start..term.source_end])
            .collect();
        assert_eq!(covered, ["猫の", "の事", "事務", "務所"]);
    }

    #[test]
    fn combining_marks_stay_on_their_character_and_stray_ones_vanish() {
        assert_eq!(
            terms("わ\u{3099}い", AnalysisMode::Querying),
            owned(&[("わ\u{3099}い", 0)])
        );
        assert_eq!(
            terms("\u{3099}あ", AnalysisMode::Querying),
            owned(&[("あ", 0)])
        );
        assert_eq!(
            terms("あ \u{3099}", AnalysisMode::Querying),
            owned(&[("あ", 0)])
        );
    }

    #[test]
    fn overlong_words_are_dropped_but_keep_their_position() {
        let text = format!("{} 猫", "a".repeat(LONGEST_WORD_BYTES + 1));
        assert_eq!(terms(&text, AnalysisMode::Querying), owned(&[("猫", 1)]));
    }

    #[test]
    fn readings_join_runs_across_separators() {
        let analysed = texts_and_positions(
            "すぐ つかえる",
            SeparatorHandling::JoinCjkRuns,
            AnalysisMode::Querying,
            LoneCharacters::OfOneCharacterRuns,
        );
        assert_eq!(
            analysed,
            owned(&[
                ("すぐ", 0),
                ("ぐつ", 1),
                ("つか", 2),
                ("かえ", 3),
                ("える", 4)
            ])
        );
    }
}
