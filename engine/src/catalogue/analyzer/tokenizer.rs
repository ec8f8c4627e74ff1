//! The tantivy side of the analyzer: a [`Tokenizer`] that runs the Japanese analysis of one field
//! kind and mode and hands the terms to tantivy as a token stream.
//!
//! The whole analysis (folding, segmentation, bigrams) happens up front ([`super::analyse`]) rather than
//! as a chain of tantivy token filters, because folding changes character counts (ｶﾞ → が,
//! ㍿ → 株式会社) and iteration marks look back across characters, which a filter over finished
//! tokens cannot do.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::terms::AnalysedTerms;
use super::{analyse_into_buffer, AnalysisMode, JapaneseFieldKind};

/// A tantivy tokenizer for one Japanese field kind, in indexing or querying mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JapaneseTokenizer {
    field_kind: JapaneseFieldKind,
    mode: AnalysisMode,
}

impl JapaneseTokenizer {
    pub fn new(field_kind: JapaneseFieldKind, mode: AnalysisMode) -> JapaneseTokenizer {
        JapaneseTokenizer { field_kind, mode }
    }
}

impl Tokenizer for JapaneseTokenizer {
    type TokenStream<'a> = AnalysedTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> AnalysedTokenStream {
        AnalysedTokenStream {
            terms: analyse_into_buffer(text, self.field_kind, self.mode),
            advanced: 0,
            token: Token::default(),
        }
    }
}

/// The terms of one analysed text, handed out one by one in a single token that each `advance`
/// refills (tantivy copies what it needs before asking for the next), as tantivy's own tokenizers do.
pub struct AnalysedTokenStream {
    terms: AnalysedTerms,
    /// How many times `advance` returned true; the current token holds term `advanced - 1`.
    advanced: usize,
    /// The current term; before the first `advance`, an empty token, which the tantivy contract does
    /// not forbid callers from asking for.
    token: Token,
}

impl TokenStream for AnalysedTokenStream {
    fn advance(&mut self) -> bool {
        let Some(term) = self.terms.get(self.advanced) else { return false };
        self.token.text.clear();
        self.token.text.push_str(term.text);
        self.token.position = term.position;
        self.token.offset_from = term.source_start;
        self.token.offset_to = term.source_end;
        self.token.position_length = 1;
        self.advanced += 1;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::TextAnalyzer;

    use super::*;

    fn tokens(
        field_kind: JapaneseFieldKind,
        mode: AnalysisMode,
        text: &str,
    ) -> Vec<(String, usize, usize, usize)> {
        let mut analyzer = TextAnalyzer::from(JapaneseTokenizer::new(field_kind, mode));
        let mut stream = analyzer.token_stream(text);
        let mut collected = Vec::new();
        while let Some(token) = stream.next() {
            collected.push((
                token.text.clone(),
                token.position,
                token.offset_from,
                token.offset_to,
            ));
        }
        collected
    }

    #[test]
    fn token_stream_carries_text_positions_and_offsets() {
        assert_eq!(
            tokens(JapaneseFieldKind::Text, AnalysisMode::Querying, "東京都"),
            [("東京".to_string(), 0, 0, 6), ("京都".to_string(), 1, 3, 9)]
        );
    }

    #[test]
    fn empty_text_gives_an_empty_stream() {
        assert!(tokens(JapaneseFieldKind::Reading, AnalysisMode::Indexing, "").is_empty());
        assert!(tokens(JapaneseFieldKind::Text, AnalysisMode::Indexing, " 、。").is_empty());
    }

    #[test]
    fn the_tokenizer_can_be_reused_for_several_texts() {
        let mut tokenizer = JapaneseTokenizer::new(JapaneseFieldKind::Text, AnalysisMode::Indexing);
        let mut first = tokenizer.token_stream("猫");
        assert!(first.advance());
        assert_eq!(first.token().text, "^猫", "the run-start term comes first");
        let mut second = tokenizer.token_stream("犬");
        assert!(second.advance());
        assert_eq!(second.token().text, "^犬");
        assert!(second.advance());
        assert_eq!(second.token().text, "犬");
        assert!(!second.advance());
    }
}
