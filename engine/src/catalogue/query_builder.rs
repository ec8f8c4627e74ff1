//! Turning a parsed query and the advanced-search fields into a tantivy query.
//!
//! A word searched "anywhere" is a disjunction over the record's fields, each with a boost (title and
//! readings first, notes last); the words are then required together. Within a field a CJK word is a
//! phrase of its bigrams (so 東京都 never matches 京都と東京) and a lone character a single term.
//! Reading fields get the reading analysis of the same text, so 宮沢 finds the author and みやざわ
//! finds the reading. An ISBN in any form adds an exact ISBN clause; a query equal to a whole title
//! or reading adds a large boost, so that exact matches come first.

use std::ops::Bound;

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, DisjunctionMaxQuery, EmptyQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query,
    RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use super::analyzer::{query_terms, run_start_query_term, JapaneseFieldKind};
use super::document::{exact_key, exact_reading_key};
use super::isbn::isbn13;
use super::query_syntax::{parse_query, MatchKind, QueryField, QueryNode};
use super::schema::CatalogueFields;
use super::search::SearchRequest;
use super::CatalogueError;

/// Relevance boosts of the fields a word is searched in "anywhere".
const ANYWHERE_FIELD_BOOSTS: [(AnywhereField, f32); 10] = [
    (AnywhereField::Title, 4.0),
    (AnywhereField::TitleReading, 3.0),
    (AnywhereField::Author, 3.0),
    (AnywhereField::AuthorReading, 2.5),
    (AnywhereField::Subtitle, 2.0),
    (AnywhereField::Subject, 1.5),
    (AnywhereField::Series, 1.2),
    (AnywhereField::Publisher, 1.0),
    (AnywhereField::PublisherReading, 1.0),
    (AnywhereField::Notes, 0.5),
];
const EXACT_MATCH_BOOST: f32 = 20.0;
/// Extra weight, relative to the field's boost, when the text begins a run of that field (ねこの森 for ねこ).
const RUN_START_BOOST: f32 = 1.0;
const ISBN_MATCH_BOOST: f32 = 10.0;
/// How much a second-best field adds to the best one's score in a disjunction.
const TIE_BREAKER: f32 = 0.1;

#[derive(Debug, Clone, Copy)]
enum AnywhereField {
    Title,
    TitleReading,
    Subtitle,
    Author,
    AuthorReading,
    Publisher,
    PublisherReading,
    Subject,
    Series,
    Notes,
}

impl AnywhereField {
    fn resolve(self, fields: &CatalogueFields) -> (Field, JapaneseFieldKind) {
        use JapaneseFieldKind::{Reading, Text};
        match self {
            AnywhereField::Title => (fields.title, Text),
            AnywhereField::TitleReading => (fields.title_reading, Reading),
            AnywhereField::Subtitle => (fields.subtitle, Text),
            AnywhereField::Author => (fields.author, Text),
            AnywhereField::AuthorReading => (fields.author_reading, Reading),
            AnywhereField::Publisher => (fields.publisher, Text),
            AnywhereField::PublisherReading => (fields.publisher_reading, Reading),
            AnywhereField::Subject => (fields.subject, Text),
            AnywhereField::Series => (fields.series, Text),
            AnywhereField::Notes => (fields.notes, Text),
        }
    }
}

/// The analysed text in one field: nothing, one term, a phrase, or a phrase ending in a prefix.
fn field_text_query(field: Field, kind: JapaneseFieldKind, text: &str, prefix: bool) -> Option<Box<dyn Query>> {
    let terms = query_terms(text, kind);
    let first_position = terms.first()?.position;
    let mut positioned: Vec<(usize, Term)> = terms
        .iter()
        .map(|term| (term.position - first_position, Term::from_field_text(field, &term.text)))
        .collect();
    if prefix {
        return Some(Box::new(PhrasePrefixQuery::new_with_offset(positioned)));
    }
    if positioned.len() == 1 {
        let (_, term) = positioned.pop()?;
        return Some(Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)));
    }
    Some(Box::new(PhraseQuery::new_with_offset(positioned)))
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    if boost == 1.0 {
        query
    } else {
        Box::new(BoostQuery::new(query, boost))
    }
}

fn disjunction(mut clauses: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    match clauses.len() {
        0 => None,
        1 => clauses.pop(),
        _ => Some(Box::new(DisjunctionMaxQuery::with_tie_breaker(clauses, TIE_BREAKER))),
    }
}

fn year_range(text: &str) -> Result<(Option<i64>, Option<i64>), CatalogueError> {
    let invalid = || CatalogueError::InvalidYear(text.to_string());
    let parse = |part: &str| -> Result<Option<i64>, CatalogueError> {
        let part = part.trim();
        if part.is_empty() {
            return Ok(None);
        }
        part.parse::<i64>().ok().filter(|year| (0..=2999).contains(year)).map(Some).ok_or_else(invalid)
    };
    match text.split_once('-') {
        Some((from, to)) => Ok((parse(from)?, parse(to)?)),
        None => {
            let year = parse(text)?.ok_or_else(invalid)?;
            Ok((Some(year), Some(year)))
        }
    }
}

fn year_range_query(fields: &CatalogueFields, from: Option<i64>, to: Option<i64>) -> Box<dyn Query> {
    let bound = |year: Option<i64>| match year {
        Some(year) => Bound::Included(Term::from_field_i64(fields.year, year)),
        None => Bound::Unbounded,
    };
    Box::new(RangeQuery::new(bound(from), bound(to)))
}

/// A clause matching records where a field's run (a title, a name, a reading) begins with the text.
fn run_start_query(field: Field, kind: JapaneseFieldKind, text: &str, boost: f32) -> Option<Box<dyn Query>> {
    run_start_query_term(text, kind).map(|term| boosted(term_query_with_freqs(field, &term), boost * RUN_START_BOOST))
}

fn term_query_with_freqs(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
}

/// The match itself is required; a run-start match only adds to the score.
fn preferring_run_starts(matching: Option<Box<dyn Query>>, run_starts: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    let matching = matching?;
    match disjunction(run_starts) {
        None => Some(matching),
        Some(preference) => Some(Box::new(BooleanQuery::new(vec![(Occur::Must, matching), (Occur::Should, preference)]))),
    }
}

/// The clauses for one `field:text` match; `None` when the text holds nothing searchable.
fn match_query(
    fields: &CatalogueFields,
    field: QueryField,
    text: &str,
    kind: MatchKind,
) -> Result<Option<Box<dyn Query>>, CatalogueError> {
    use JapaneseFieldKind::{Reading, Text};
    let prefix = kind == MatchKind::Prefix;
    if kind == MatchKind::Exact {
        let keys = [exact_key(text), exact_reading_key(text)];
        let terms = keys.iter().filter(|key| !key.is_empty()).map(|key| Term::from_field_text(fields.exact, key));
        return Ok(Some(Box::new(TermSetQuery::new(terms))));
    }
    let in_fields = |pairs: &[(Field, JapaneseFieldKind, f32)]| {
        let matching = disjunction(
            pairs
                .iter()
                .filter_map(|(field, kind, boost)| field_text_query(*field, *kind, text, prefix).map(|q| boosted(q, *boost)))
                .collect(),
        );
        let run_starts = pairs.iter().filter_map(|(field, kind, boost)| run_start_query(*field, *kind, text, *boost));
        preferring_run_starts(matching, run_starts.collect())
    };
    Ok(match field {
        QueryField::Anywhere => {
            let mut clauses: Vec<Box<dyn Query>> = ANYWHERE_FIELD_BOOSTS
                .iter()
                .filter_map(|(which, boost)| {
                    let (field, analysis) = which.resolve(fields);
                    field_text_query(field, analysis, text, prefix).map(|query| boosted(query, *boost))
                })
                .collect();
            if let Some(isbn) = isbn13(text) {
                clauses.push(boosted(term_query(fields.isbn, &isbn), ISBN_MATCH_BOOST));
            }
            let run_starts = ANYWHERE_FIELD_BOOSTS.iter().filter_map(|(which, boost)| {
                let (field, analysis) = which.resolve(fields);
                run_start_query(field, analysis, text, *boost)
            });
            preferring_run_starts(disjunction(clauses), run_starts.collect())
        }
        QueryField::Title => in_fields(&[(fields.title, Text, 2.0), (fields.subtitle, Text, 1.0), (fields.title_reading, Reading, 1.5)]),
        QueryField::Author => in_fields(&[(fields.author, Text, 1.0), (fields.author_reading, Reading, 1.0)]),
        QueryField::Publisher => in_fields(&[(fields.publisher, Text, 1.0), (fields.publisher_reading, Reading, 1.0)]),
        QueryField::Subject => in_fields(&[(fields.subject, Text, 1.0)]),
        QueryField::Series => in_fields(&[(fields.series, Text, 1.0)]),
        // A malformed ISBN can match no record: say so with an empty result, not an error.
        QueryField::Isbn => Some(match isbn13(text) {
            Some(isbn) => term_query(fields.isbn, &isbn),
            None => Box::new(EmptyQuery),
        }),
        QueryField::Ndc => {
            let notation: String = text.trim().chars().filter(|c| c.is_ascii_digit() || *c == '.').collect();
            let notation = notation.trim_end_matches('.');
            if notation.is_empty() {
                return Err(CatalogueError::InvalidNdc(text.to_string()));
            }
            Some(term_query(fields.ndc_prefix, notation))
        }
        QueryField::Year => {
            let (from, to) = year_range(text)?;
            Some(year_range_query(fields, from, to))
        }
    })
}

fn node_query(fields: &CatalogueFields, node: &QueryNode) -> Result<Option<Box<dyn Query>>, CatalogueError> {
    Ok(match node {
        QueryNode::Match { field, text, kind } => {
            // Unquoted words in one token ("宮沢賢治" or "potter") need all their terms; a phrase too.
            match_query(fields, *field, text, *kind)?
        }
        QueryNode::And(children) => {
            let mut clauses = Vec::new();
            for child in children {
                match child {
                    QueryNode::Not(inner) => {
                        if let Some(query) = node_query(fields, inner)? {
                            clauses.push((Occur::MustNot, query));
                        }
                    }
                    other => {
                        if let Some(query) = node_query(fields, other)? {
                            clauses.push((Occur::Must, query));
                        }
                    }
                }
            }
            boolean(clauses)
        }
        QueryNode::Or(children) => {
            let mut clauses = Vec::new();
            for child in children {
                if let Some(query) = node_query(fields, child)? {
                    clauses.push((Occur::Should, query));
                }
            }
            boolean(clauses)
        }
        QueryNode::Not(inner) => node_query(fields, inner)?.and_then(|query| boolean(vec![(Occur::MustNot, query)])),
    })
}

/// A boolean query; one that only excludes gets "everything" to exclude from.
fn boolean(mut clauses: Vec<(Occur, Box<dyn Query>)>) -> Option<Box<dyn Query>> {
    if clauses.is_empty() {
        return None;
    }
    if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    if clauses.len() == 1 && clauses[0].0 != Occur::MustNot {
        return clauses.pop().map(|(_, query)| query);
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// Words of an advanced-search field, all required: "宮沢 賢治" in the author field.
fn advanced_field(
    fields: &CatalogueFields,
    field: QueryField,
    text: &Option<String>,
) -> Result<Option<Box<dyn Query>>, CatalogueError> {
    let Some(text) = text.as_deref().map(str::trim).filter(|text| !text.is_empty()) else { return Ok(None) };
    let mut clauses = Vec::new();
    let words: Vec<&str> = if matches!(field, QueryField::Isbn | QueryField::Year) { vec![text] } else { text.split_whitespace().collect() };
    for word in words {
        if let Some(query) = match_query(fields, field, word, MatchKind::Word)? {
            clauses.push((Occur::Must, query));
        }
    }
    Ok(boolean(clauses))
}

/// The whole query of a search request: the search box, the advanced fields and the filters.
pub fn build_query(fields: &CatalogueFields, request: &SearchRequest) -> Result<Box<dyn Query>, CatalogueError> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let tree = parse_query(&request.query)?;
    if let Some(tree) = &tree {
        match node_query(fields, tree)? {
            Some(query) => clauses.push((Occur::Must, query)),
            // Words with nothing searchable in them (only punctuation) match no record.
            None => return Ok(Box::new(EmptyQuery)),
        }
        let whole = request.query.trim();
        let simple = matches!(tree, QueryNode::Match { kind: MatchKind::Word | MatchKind::Phrase, .. })
            || matches!(tree, QueryNode::And(children) if children.iter().all(|c| matches!(c, QueryNode::Match { .. })));
        if simple {
            let keys = [exact_key(whole), exact_reading_key(whole)];
            let terms = keys.iter().filter(|key| !key.is_empty()).map(|key| Term::from_field_text(fields.exact, key));
            clauses.push((Occur::Should, boosted(Box::new(TermSetQuery::new(terms)), EXACT_MATCH_BOOST)));
        }
    }
    let advanced = [
        (QueryField::Title, &request.title),
        (QueryField::Author, &request.author),
        (QueryField::Publisher, &request.publisher),
        (QueryField::Subject, &request.subject),
        (QueryField::Isbn, &request.isbn),
        (QueryField::Ndc, &request.ndc),
    ];
    for (field, text) in advanced {
        if let Some(query) = advanced_field(fields, field, text)? {
            clauses.push((Occur::Must, query));
        }
    }
    if request.year_from.is_some() || request.year_to.is_some() {
        clauses.push((Occur::Must, year_range_query(fields, request.year_from, request.year_to)));
    }
    let any_of = |field: Field, values: &[String]| -> Box<dyn Query> {
        Box::new(TermSetQuery::new(values.iter().map(|value| Term::from_field_text(field, value))))
    };
    if !request.material_types.is_empty() {
        clauses.push((Occur::Must, any_of(fields.material_type, &request.material_types)));
    }
    if !request.languages.is_empty() {
        clauses.push((Occur::Must, any_of(fields.language, &request.languages)));
    }
    if !request.ndc_classes.is_empty() {
        clauses.push((Occur::Must, any_of(fields.ndc_class, &request.ndc_classes)));
    }
    if !clauses.iter().any(|(occur, _)| *occur == Occur::Must) {
        // Browsing: no words, only filters or nothing at all.
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}
