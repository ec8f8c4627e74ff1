//! The catalogue: how bibliographic records are analysed, indexed and searched.
//!
//! - [`analyzer`]: the Japanese analysis shared by the index and the query side (tantivy tokenizers).
//! - [`isbn`]: ISBN-10 / ISBN-13 normalisation, so both forms find the same book.
//! - [`schema`] and [`document`]: the index's fields and how a record becomes an index document.
//! - [`query_syntax`] and [`query_builder`]: the search box language and the tantivy query it becomes.
//! - [`search`]: one search — hits hydrated with availability, the total and the facets in one pass
//!   (counted by `facets`).
//! - [`index`]: the index itself (writer, commits with the outbox position, reloads).

pub mod analyzer;
pub mod document;
mod error;
mod facets;
mod holdings_filter;
pub mod index;
pub mod isbn;
pub mod query_builder;
pub mod query_syntax;
pub mod schema;
pub mod search;

pub use document::{BibDocument, Contributor, HitDisplay};
pub use error::CatalogueError;
pub use index::CatalogueIndex;
pub use search::{Facets, Hit, SearchPage, SearchRequest, SortOrder};
