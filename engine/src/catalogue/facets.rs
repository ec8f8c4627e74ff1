//! Facet counts of a search: material type, NDC class, decade, language from the index's fast fields,
//! branch and availability from the holdings bitmasks, over every matching record, in the same pass
//! as the top documents and the total.
//!
//! Matches are counted a block at a time. A broad query (two kana at tier L) matches hundreds of
//! thousands of records, and counting them one by one spent most of the search waiting: on a virtual
//! call and a decode per fast field and record, and on memory for each record's holdings masks (an
//! entry among millions, rarely in the cache). With a block, each fast field is read with one call for
//! the block, and the block's masks are loaded in one tight loop whose cache misses the CPU overlaps
//! instead of paying for one after the other. The counts are exact.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::lock_api::ArcRwLockReadGuard;
use parking_lot::RawRwLock;
use serde::{Deserialize, Serialize};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::schema::names;
use crate::holdings::{BibBranchMasks, BibId, Holdings};

/// Matching documents counted together; big enough to overlap many cache misses, small enough for
/// the block's buffers to stay in the first-level cache.
const BLOCK_SIZE: usize = 128;
/// Decades of the years 0..=2999 (what `year:` accepts) are counted in an array; others in a map.
const ARRAY_DECADES: usize = 300;

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

pub(crate) type HoldingsGuard = ArcRwLockReadGuard<RawRwLock, Holdings>;

/// Counts facet values of the matching documents in the same pass as the top documents.
pub(crate) struct FacetCounter {
    pub(crate) holdings: Arc<HoldingsGuard>,
}

#[derive(Default)]
pub(crate) struct FacetTally {
    material_type: BTreeMap<String, u64>,
    ndc_class: BTreeMap<String, u64>,
    decade: BTreeMap<i64, u64>,
    language: BTreeMap<String, u64>,
    branch: Vec<u64>,
    available: u64,
    unavailable: u64,
}

/// A string fast field counted by term ordinal (ordinals are per segment; harvest turns them into values).
struct OrdinalCounts {
    column: StrColumn,
    ords: Column<u64>,
    counts: Vec<u64>,
}

impl OrdinalCounts {
    fn new(column: Option<StrColumn>) -> Option<OrdinalCounts> {
        column.map(|column| OrdinalCounts { ords: column.ords().clone(), counts: vec![0; column.num_terms()], column })
    }

    fn count_block(&mut self, block: &[DocId], ords: &mut [Option<u64>]) {
        first_values(&self.ords, block, ords);
        for ord in ords.iter().flatten() {
            if let Some(count) = self.counts.get_mut(*ord as usize) {
                *count += 1;
            }
        }
    }

    fn into_values(self, into: &mut BTreeMap<String, u64>) {
        let mut value = String::new();
        for (ord, count) in self.counts.into_iter().enumerate().filter(|(_, count)| *count > 0) {
            if self.column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                *into.entry(value.clone()).or_default() += count;
            }
        }
    }
}

pub(crate) struct FacetSegmentCounter {
    holdings: Arc<HoldingsGuard>,
    bib_id: Column<u64>,
    year: Column<i64>,
    material_type: Option<OrdinalCounts>,
    ndc_class: Option<OrdinalCounts>,
    language: Option<OrdinalCounts>,
    decades: Vec<u64>,
    other_decades: BTreeMap<i64, u64>,
    branch: Vec<u64>,
    available: u64,
    unavailable: u64,
    /// The documents of the block being filled, and scratch space for counting it.
    block: Vec<DocId>,
    values: Vec<Option<u64>>,
    years: Vec<Option<i64>>,
    masks: Vec<BibBranchMasks>,
}

/// The first value of each document of `block` (`None` for a document without one). `first_vals`
/// reads a column every document has a value of straight from its values, with one call per block.
pub(crate) fn first_values<T>(column: &Column<T>, block: &[DocId], values: &mut [Option<T>])
where
    T: PartialOrd + Copy + std::fmt::Debug + Send + Sync + 'static,
{
    // `first_vals` leaves the slot of a document without a value as it was.
    values.fill(None);
    column.first_vals(block, values);
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
            bib_id: fast.u64(names::BIB_ID)?,
            year: fast.i64(names::YEAR)?,
            material_type: OrdinalCounts::new(material_type),
            ndc_class: OrdinalCounts::new(ndc_class),
            language: OrdinalCounts::new(language),
            decades: vec![0; ARRAY_DECADES],
            other_decades: BTreeMap::new(),
            branch: vec![0; self.holdings.branch_codes().len()],
            available: 0,
            unavailable: 0,
            block: Vec::with_capacity(BLOCK_SIZE),
            values: vec![None; BLOCK_SIZE],
            years: vec![None; BLOCK_SIZE],
            masks: Vec::with_capacity(BLOCK_SIZE),
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

impl FacetSegmentCounter {
    fn count_block(&mut self) {
        let documents = self.block.len();
        if documents == 0 {
            return;
        }
        let block = &self.block[..];
        let values = &mut self.values[..documents];
        first_values(&self.bib_id, block, values);
        // Independent loads, one after the other: their cache misses overlap.
        self.masks.clear();
        self.masks.extend(values.iter().map(|bib_id| bib_id.map_or_else(BibBranchMasks::default, |id| self.holdings.masks(BibId(id)))));
        for masks in &self.masks {
            let mut holding = masks.holding;
            while holding != 0 {
                if let Some(count) = self.branch.get_mut(holding.trailing_zeros() as usize) {
                    *count += 1;
                }
                holding &= holding - 1;
            }
        }
        let available = self.masks.iter().filter(|masks| masks.available_now != 0).count() as u64;
        self.available += available;
        self.unavailable += documents as u64 - available;
        for counts in [&mut self.material_type, &mut self.ndc_class, &mut self.language].into_iter().flatten() {
            counts.count_block(block, values);
        }
        let years = &mut self.years[..documents];
        first_values(&self.year, block, years);
        for year in years.iter().flatten() {
            let decade = year.div_euclid(10);
            match usize::try_from(decade).ok().and_then(|index| self.decades.get_mut(index)) {
                Some(count) => *count += 1,
                None => *self.other_decades.entry(decade * 10).or_default() += 1,
            }
        }
        self.block.clear();
    }
}

impl SegmentCollector for FacetSegmentCounter {
    type Fruit = FacetTally;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.block.push(doc);
        if self.block.len() == BLOCK_SIZE {
            self.count_block();
        }
    }

    fn harvest(mut self) -> FacetTally {
        self.count_block();
        let mut decade = self.other_decades;
        for (index, count) in self.decades.into_iter().enumerate().filter(|(_, count)| *count > 0) {
            decade.insert(index as i64 * 10, count);
        }
        let mut tally = FacetTally {
            decade,
            branch: self.branch,
            available: self.available,
            unavailable: self.unavailable,
            ..FacetTally::default()
        };
        for (counts, into) in [
            (self.material_type, &mut tally.material_type),
            (self.ndc_class, &mut tally.ndc_class),
            (self.language, &mut tally.language),
        ] {
            if let Some(counts) = counts {
                counts.into_values(into);
            }
        }
        tally
    }
}

fn by_count(values: BTreeMap<String, u64>) -> Vec<FacetCount> {
    let mut counts: Vec<FacetCount> = values.into_iter().map(|(value, count)| FacetCount { value, count }).collect();
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    counts
}

impl FacetTally {
    pub(crate) fn into_facets(self, holdings: &Holdings) -> Facets {
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
