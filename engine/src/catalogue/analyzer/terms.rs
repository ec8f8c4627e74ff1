//! The terms one text analyses into, as the analysis produces them: every term's text in one buffer,
//! beside its position and source range.
//!
//! A title or a reading makes a few dozen terms; a string each was a good part of an index build's
//! allocations, and tantivy copies each term's bytes into its own buffer anyway. The tokenizer hands
//! the terms out of the buffer one by one; [`AnalysedTerm`] is the owned form for everyone else.

/// One term produced by the analyzer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysedTerm {
    /// The term text, as stored in the index.
    pub text: String,
    /// Position for phrase queries (see the module documentation of `cjk_bigram`).
    pub position: usize,
    /// Byte range in the analysed text this term covers, for highlighting.
    pub source_start: usize,
    pub source_end: usize,
}

/// A term of [`AnalysedTerms`], borrowing its text from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TermRef<'a> {
    pub(crate) text: &'a str,
    pub(crate) position: usize,
    pub(crate) source_start: usize,
    pub(crate) source_end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TermSpan {
    text_start: usize,
    text_end: usize,
    position: usize,
    source_start: usize,
    source_end: usize,
}

/// The terms of one analysed text, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AnalysedTerms {
    text: String,
    spans: Vec<TermSpan>,
}

impl AnalysedTerms {
    /// Appends a term whose text is `mark` (if any) followed by `text`.
    pub(crate) fn push(&mut self, mark: Option<char>, text: &str, position: usize, source_start: usize, source_end: usize) {
        let text_start = self.text.len();
        self.text.extend(mark);
        self.text.push_str(text);
        self.spans.push(TermSpan { text_start, text_end: self.text.len(), position, source_start, source_end });
    }

    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(crate) fn get(&self, index: usize) -> Option<TermRef<'_>> {
        self.spans.get(index).map(|span| TermRef {
            text: &self.text[span.text_start..span.text_end],
            position: span.position,
            source_start: span.source_start,
            source_end: span.source_end,
        })
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = TermRef<'_>> {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    pub(crate) fn into_vec(self) -> Vec<AnalysedTerm> {
        self.iter()
            .map(|term| AnalysedTerm {
                text: term.text.to_string(),
                position: term.position,
                source_start: term.source_start,
                source_end: term.source_end,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_keep_their_text_position_and_source_in_order() {
        let mut terms = AnalysedTerms::default();
        terms.push(Some('^'), "東京", 0, 0, 6);
        terms.push(None, "東京", 0, 0, 6);
        terms.push(None, "京都", 1, 3, 9);
        assert_eq!(terms.len(), 3);
        assert_eq!(terms.get(0).map(|term| term.text), Some("^東京"));
        assert_eq!(terms.get(3), None);
        let owned = terms.into_vec();
        assert_eq!(owned[2], AnalysedTerm { text: "京都".into(), position: 1, source_start: 3, source_end: 9 });
    }
}
