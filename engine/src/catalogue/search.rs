//! Running a search: the request, the page of hydrated hits with availability, and the facets.
//!
//! One call does everything (STYLE.md, "The boundary"): the query runs once over the index, a
//! filter collector applies "held at / available now at branch X" from the holdings bitmasks
//! (`holdings_filter`), and the top documents, the total and the facet counts (`facets`) are
//! collected in the same pass.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::schema::Value;
use tantivy::{DocAddress, Order, Score, Searcher, TantivyDocument};

use super::document::HitDisplay;
pub use super::facets::{FacetCount, Facets};
use super::facets::{FacetCounter, FacetTally, HoldingsGuard};
use super::holdings_filter::HoldingsFilter;
use super::schema::{names, CatalogueFields};
use super::CatalogueError;
use crate::holdings::{BibId, BranchAvailability};

pub const SMALLEST_PAGE: u32 = 10;
pub const LARGEST_PAGE: u32 = 100;
/// Results beyond this rank are not paged through; deep pages cost the same as a full sort.
pub const DEEPEST_RESULT: u32 = 10_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    #[default]
    Relevance,
    YearNewest,
    YearOldest,
    /// Japanese order of the title reading (読み).
    Title,
    /// Japanese order of the first author's reading.
    Author,
}

fn default_page() -> u32 {
    1
}

fn default_per_page() -> u32 {
    20
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// The search box (see `query_syntax`); empty means "browse", with the filters only.
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub publisher: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub isbn: Option<String>,
    #[serde(default)]
    pub ndc: Option<String>,
    #[serde(default)]
    pub year_from: Option<i64>,
    #[serde(default)]
    pub year_to: Option<i64>,
    #[serde(default)]
    pub material_types: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub ndc_classes: Vec<String>,
    /// Only records with a copy at this branch (or, with `available_only`, one borrowable there now).
    #[serde(default)]
    pub branch: Option<String>,
    /// Only records with a copy that can be borrowed now (at `branch`, or anywhere).
    #[serde(default)]
    pub available_only: bool,
    #[serde(default)]
    pub sort: SortOrder,
    #[serde(default = "default_page")]
    pub page: u32,
    #[serde(default = "default_per_page")]
    pub per_page: u32,
    #[serde(default = "default_true")]
    pub with_facets: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub bib_id: BibId,
    pub score: Option<f32>,
    #[serde(flatten)]
    pub display: HitDisplay,
    /// Per branch holding a copy, the best state of its copies (貸出可, 貸出中, ...).
    pub availability: Vec<BranchAvailability>,
    pub available_now: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub hits: Vec<Hit>,
    pub facets: Option<Facets>,
}

/// Validates paging; returns (offset, limit).
pub fn page_window(request: &SearchRequest) -> Result<(usize, usize), CatalogueError> {
    if !(SMALLEST_PAGE..=LARGEST_PAGE).contains(&request.per_page) {
        return Err(CatalogueError::InvalidPageSize { given: request.per_page, min: SMALLEST_PAGE, max: LARGEST_PAGE });
    }
    let page = request.page.max(1);
    let offset = (page - 1) as u64 * request.per_page as u64;
    if offset >= DEEPEST_RESULT as u64 {
        return Err(CatalogueError::PageTooDeep { page, max_results: DEEPEST_RESULT });
    }
    Ok((offset as usize, request.per_page as usize))
}

/// The top documents (with their score when ranked by it), the total, and the facet counts.
type Collected = (Vec<(Option<f32>, DocAddress)>, u64, Option<FacetTally>);

/// Runs the collectors for one sort order; the top documents come back with their score if ranked by it.
fn collect<TopC>(
    searcher: &Searcher,
    query: &dyn tantivy::query::Query,
    filter: Option<HoldingsFilter>,
    top: TopC,
    facets: Option<FacetCounter>,
) -> tantivy::Result<Collected>
where
    TopC: Collector,
    TopC::Fruit: IntoScoredAddresses,
{
    let collectors = (top, Count, facets);
    let (top, count, tally) = match filter {
        Some(filter) => searcher.search(query, &filter.around(collectors))?,
        None => searcher.search(query, &collectors)?,
    };
    Ok((top.into_scored_addresses(), count as u64, tally))
}

/// The fruits of the different top-document collectors, as (score if relevance-ranked, address).
pub trait IntoScoredAddresses {
    fn into_scored_addresses(self) -> Vec<(Option<f32>, DocAddress)>;
}

impl IntoScoredAddresses for Vec<(Score, DocAddress)> {
    fn into_scored_addresses(self) -> Vec<(Option<f32>, DocAddress)> {
        self.into_iter().map(|(score, address)| (Some(score), address)).collect()
    }
}

impl IntoScoredAddresses for Vec<(Option<i64>, DocAddress)> {
    fn into_scored_addresses(self) -> Vec<(Option<f32>, DocAddress)> {
        self.into_iter().map(|(_, address)| (None, address)).collect()
    }
}

impl IntoScoredAddresses for Vec<(Option<String>, DocAddress)> {
    fn into_scored_addresses(self) -> Vec<(Option<f32>, DocAddress)> {
        self.into_iter().map(|(_, address)| (None, address)).collect()
    }
}

/// Searches and hydrates one page. `holdings` is held for reading during the whole search.
pub fn run_search(
    searcher: &Searcher,
    fields: &CatalogueFields,
    query: &dyn tantivy::query::Query,
    request: &SearchRequest,
    holdings: HoldingsGuard,
) -> Result<SearchPage, CatalogueError> {
    let (offset, limit) = page_window(request)?;
    let holdings = Arc::new(holdings);
    let filter = if request.branch.is_some() || request.available_only {
        let branch_mask = match &request.branch {
            Some(code) => {
                let index = holdings.branch_index(code).ok_or_else(|| CatalogueError::UnknownBranch(code.clone()))?;
                1u128 << index.0
            }
            None => u128::MAX,
        };
        Some(HoldingsFilter { holdings: holdings.clone(), branch_mask, available_only: request.available_only })
    } else {
        None
    };
    let facets = request.with_facets.then(|| FacetCounter { holdings: holdings.clone() });
    let window = TopDocs::with_limit(limit).and_offset(offset);
    let (addresses, total, tally) = match request.sort {
        SortOrder::Relevance => collect(searcher, query, filter, window.order_by_score(), facets)?,
        SortOrder::YearNewest => {
            collect(searcher, query, filter, window.order_by_fast_field::<i64>(names::YEAR, Order::Desc), facets)?
        }
        SortOrder::YearOldest => {
            collect(searcher, query, filter, window.order_by_fast_field::<i64>(names::YEAR, Order::Asc), facets)?
        }
        SortOrder::Title => {
            collect(searcher, query, filter, window.order_by_string_fast_field(names::TITLE_SORT, Order::Asc), facets)?
        }
        SortOrder::Author => {
            collect(searcher, query, filter, window.order_by_string_fast_field(names::AUTHOR_SORT, Order::Asc), facets)?
        }
    };
    let mut hits = Vec::with_capacity(addresses.len());
    for (score, address) in addresses {
        let document: TantivyDocument = searcher.doc(address)?;
        let bib_id = document.get_first(fields.bib_id).and_then(|value| value.as_u64()).map(BibId).ok_or_else(|| {
            CatalogueError::Malformed { what: "index document", reason: "no bib_id".to_string() }
        })?;
        let display_bytes = document.get_first(fields.display).and_then(|value| value.as_bytes()).unwrap_or_default();
        let display: HitDisplay = serde_json::from_slice(display_bytes)
            .map_err(|error| CatalogueError::Malformed { what: "stored display values", reason: error.to_string() })?;
        hits.push(Hit {
            bib_id,
            score,
            display,
            availability: holdings.branch_availability(bib_id, false),
            available_now: holdings.masks(bib_id).available_now != 0,
        });
    }
    Ok(SearchPage {
        total,
        page: request.page.max(1),
        per_page: request.per_page,
        hits,
        facets: tally.map(|tally| tally.into_facets(&holdings)),
    })
}
