//! Running a search: the request, the page of hydrated hits with availability, and the facets.
//!
//! One call does everything (STYLE.md, "The boundary"): the query runs once over the index, a
//! filter collector applies "held at / available now at branch X" from the holdings bitmasks, and
//! the top documents, the total and the facet counts are collected in the same pass.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RawRwLock;
use parking_lot::lock_api::ArcRwLockReadGuard;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Collector, Count, FilterCollector, SegmentCollector, TopDocs};
use tantivy::columnar::{Column, ColumnValues, StrColumn};
use tantivy::{DocAddress, DocId, Order, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyDocument};
use tantivy::schema::Value;

use super::document::HitDisplay;
use super::schema::{names, CatalogueFields};
use super::CatalogueError;
use crate::holdings::{BibId, BranchAvailability, Holdings};

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    pub material_type: Vec<FacetCount>,
    pub ndc_class: Vec<FacetCount>,
    /// Decades, as "2020-2029".
    pub year: Vec<FacetCount>,
    pub branch: Vec<FacetCount>,
    /// "available" (a copy can be borrowed now) and "unavailable".
    pub availability: Vec<FacetCount>,
    pub language: Vec<FacetCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub hits: Vec<Hit>,
    pub facets: Option<Facets>,
}

type HoldingsGuard = ArcRwLockReadGuard<RawRwLock, Holdings>;

/// Which records pass the branch/availability filter, decided from the holdings bitmasks.
#[derive(Clone)]
struct HoldingsFilter {
    holdings: Arc<HoldingsGuard>,
    branch_mask: u128,
    available_only: bool,
}

impl HoldingsFilter {
    fn passes(&self, bib_id: u64) -> bool {
        let masks = self.holdings.masks(BibId(bib_id));
        let mask = if self.available_only { masks.available_now } else { masks.holding };
        mask & self.branch_mask != 0
    }
}

/// Counts facet values of the matching documents in the same pass as the top documents.
struct FacetCounter {
    holdings: Arc<HoldingsGuard>,
}

#[derive(Default)]
struct FacetTally {
    material_type: BTreeMap<String, u64>,
    ndc_class: BTreeMap<String, u64>,
    decade: BTreeMap<i64, u64>,
    language: BTreeMap<String, u64>,
    branch: Vec<u64>,
    available: u64,
    unavailable: u64,
}

struct FacetSegmentCounter {
    holdings: Arc<HoldingsGuard>,
    bib_id: Arc<dyn ColumnValues<u64>>,
    year: Column<i64>,
    material_type: Option<StrColumn>,
    ndc_class: Option<StrColumn>,
    language: Option<StrColumn>,
    // Every record has one value of each of these; their term ordinals are read directly per record.
    material_type_ord: Option<Arc<dyn ColumnValues<u64>>>,
    ndc_class_ord: Option<Column<u64>>,
    language_ord: Option<Arc<dyn ColumnValues<u64>>>,
    material_type_ords: Vec<u64>,
    ndc_class_ords: Vec<u64>,
    language_ords: Vec<u64>,
    decade: BTreeMap<i64, u64>,
    branch: Vec<u64>,
    available: u64,
    unavailable: u64,
}

fn count_ord(counts: &mut [u64], ord: Option<u64>) {
    if let Some(count) = ord.and_then(|ord| counts.get_mut(ord as usize)) {
        *count += 1;
    }
}

fn ord_counts(column: &Option<StrColumn>) -> Vec<u64> {
    vec![0; column.as_ref().map_or(0, |column| column.num_terms())]
}

fn single_ord(column: &Option<StrColumn>) -> Option<Arc<dyn ColumnValues<u64>>> {
    column.as_ref().map(|column| column.ords().clone().first_or_default_col(u64::MAX))
}

fn ords_to_values(column: &Option<StrColumn>, counts: Vec<u64>, into: &mut BTreeMap<String, u64>) {
    let Some(column) = column else { return };
    let mut value = String::new();
    for (ord, count) in counts.into_iter().enumerate().filter(|(_, count)| *count > 0) {
        if column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
            *into.entry(value.clone()).or_default() += count;
        }
    }
}

impl Collector for FacetCounter {
    type Fruit = FacetTally;
    type Child = FacetSegmentCounter;

    fn for_segment(&self, _segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<FacetSegmentCounter> {
        let fast = reader.fast_fields();
        let material_type = fast.str(names::MATERIAL_TYPE)?;
        let ndc_class = fast.str(names::NDC_CLASS)?;
        let language = fast.str(names::LANGUAGE)?;
        Ok(FacetSegmentCounter {
            holdings: self.holdings.clone(),
            bib_id: fast.u64(names::BIB_ID)?.first_or_default_col(0),
            year: fast.i64(names::YEAR)?,
            material_type_ord: single_ord(&material_type),
            ndc_class_ord: ndc_class.as_ref().map(|column| column.ords().clone()),
            language_ord: single_ord(&language),
            material_type_ords: ord_counts(&material_type),
            ndc_class_ords: ord_counts(&ndc_class),
            language_ords: ord_counts(&language),
            material_type,
            ndc_class,
            language,
            decade: BTreeMap::new(),
            branch: vec![0; self.holdings.branch_codes().len()],
            available: 0,
            unavailable: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, tallies: Vec<FacetTally>) -> tantivy::Result<FacetTally> {
        let mut merged = FacetTally { branch: vec![0; self.holdings.branch_codes().len()], ..FacetTally::default() };
        for tally in tallies {
            for (into, from) in [
                (&mut merged.material_type, tally.material_type),
                (&mut merged.ndc_class, tally.ndc_class),
                (&mut merged.language, tally.language),
            ] {
                for (value, count) in from {
                    *into.entry(value).or_default() += count;
                }
            }
            for (decade, count) in tally.decade {
                *merged.decade.entry(decade).or_default() += count;
            }
            for (index, count) in tally.branch.into_iter().enumerate() {
                merged.branch[index] += count;
            }
            merged.available += tally.available;
            merged.unavailable += tally.unavailable;
        }
        Ok(merged)
    }
}

impl SegmentCollector for FacetSegmentCounter {
    type Fruit = FacetTally;

    fn collect(&mut self, doc: DocId, _score: Score) {
        count_ord(&mut self.material_type_ords, self.material_type_ord.as_ref().map(|column| column.get_val(doc)));
        count_ord(&mut self.ndc_class_ords, self.ndc_class_ord.as_ref().and_then(|column| column.first(doc)));
        count_ord(&mut self.language_ords, self.language_ord.as_ref().map(|column| column.get_val(doc)));
        if let Some(year) = self.year.first(doc) {
            *self.decade.entry(year.div_euclid(10) * 10).or_default() += 1;
        }
        let masks = self.holdings.masks(BibId(self.bib_id.get_val(doc)));
        let mut holding = masks.holding;
        while holding != 0 {
            let index = holding.trailing_zeros() as usize;
            if let Some(count) = self.branch.get_mut(index) {
                *count += 1;
            }
            holding &= holding - 1;
        }
        if masks.available_now != 0 {
            self.available += 1;
        } else {
            self.unavailable += 1;
        }
    }

    fn harvest(self) -> FacetTally {
        let mut tally = FacetTally {
            decade: self.decade,
            branch: self.branch,
            available: self.available,
            unavailable: self.unavailable,
            ..FacetTally::default()
        };
        ords_to_values(&self.material_type, self.material_type_ords, &mut tally.material_type);
        ords_to_values(&self.ndc_class, self.ndc_class_ords, &mut tally.ndc_class);
        ords_to_values(&self.language, self.language_ords, &mut tally.language);
        tally
    }
}

fn by_count(values: BTreeMap<String, u64>) -> Vec<FacetCount> {
    let mut counts: Vec<FacetCount> = values.into_iter().map(|(value, count)| FacetCount { value, count }).collect();
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    counts
}

impl FacetTally {
    fn into_facets(self, holdings: &Holdings) -> Facets {
        let mut ndc_class: Vec<FacetCount> =
            self.ndc_class.into_iter().map(|(value, count)| FacetCount { value, count }).collect();
        ndc_class.sort_by(|a, b| a.value.cmp(&b.value));
        Facets {
            material_type: by_count(self.material_type),
            ndc_class,
            year: self
                .decade
                .into_iter()
                .rev()
                .map(|(decade, count)| FacetCount { value: format!("{decade}-{}", decade + 9), count })
                .collect(),
            branch: holdings
                .branch_codes()
                .iter()
                .zip(self.branch)
                .filter(|(_, count)| *count > 0)
                .map(|(code, count)| FacetCount { value: code.clone(), count })
                .collect(),
            availability: [("available", self.available), ("unavailable", self.unavailable)]
                .into_iter()
                .filter(|(_, count)| *count > 0)
                .map(|(value, count)| FacetCount { value: value.to_string(), count })
                .collect(),
            language: by_count(self.language),
        }
    }
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
        Some(filter) => searcher.search(
            query,
            &FilterCollector::new(names::BIB_ID.to_string(), move |bib_id: u64| filter.passes(bib_id), collectors),
        )?,
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
