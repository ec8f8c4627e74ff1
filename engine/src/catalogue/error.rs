//! The catalogue's errors, each a distinct case the service maps to an HTTP status once.

use super::query_syntax::QuerySyntaxError;

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The search text is unusable (too long, too many terms).
    #[error(transparent)]
    QuerySyntax(#[from] QuerySyntaxError),
    /// A year or year range that is not YYYY, YYYY-YYYY, YYYY- or -YYYY.
    #[error("year {0:?} is not a year or a range such as 1990-2000")]
    InvalidYear(String),
    /// An NDC value with no class digits in it.
    #[error("NDC {0:?} is not a class number such as 913 or 913.6")]
    InvalidNdc(String),
    /// Page size outside the allowed range.
    #[error("per_page must be between {min} and {max}, not {given}")]
    InvalidPageSize { given: u32, min: u32, max: u32 },
    /// A page beyond the deepest the engine serves (narrow the search instead).
    #[error("page {page} is too deep: at most the first {max_results} results can be paged through")]
    PageTooDeep { page: u32, max_results: u32 },
    /// A branch code the engine does not know.
    #[error("unknown branch {0:?}")]
    UnknownBranch(String),
    /// The index folder holds an index of another shape (built by another version).
    #[error("the index at {path} does not match this version's schema ({reason}); run `shoka reindex`")]
    IncompatibleIndex { path: String, reason: String },
    /// This process does not hold the index writer.
    #[error("this catalogue was opened read-only")]
    ReadOnly,
    /// A failure inside the search library or its index folder.
    #[error("search index failure: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// A document or request that could not be decoded.
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
}
