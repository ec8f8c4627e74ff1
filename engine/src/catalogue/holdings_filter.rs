//! The "held at / available now at branch X" filter of a search: a collector around the others (top
//! documents, total, facets) that passes them only the matches whose holdings bitmasks qualify.
//!
//! Matches are checked a block at a time, for the reasons facets are counted that way (see
//! `facets.rs`): a block's bib ids are read with one fast-field call and its masks loaded in one tight
//! loop, so their cache misses overlap; the documents that pass go on in their original order.

use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::facets::{first_values, HoldingsGuard};
use super::schema::names;
use crate::holdings::{BibBranchMasks, BibId};

/// Matches checked together; as `facets.rs`.
const BLOCK_SIZE: usize = 128;

/// Which records pass the branch/availability filter, decided from the holdings bitmasks.
#[derive(Clone)]
pub(crate) struct HoldingsFilter {
    pub(crate) holdings: Arc<HoldingsGuard>,
    /// The branch asked for, or every branch.
    pub(crate) branch_mask: u128,
    /// A copy that can be borrowed now, rather than any copy.
    pub(crate) available_only: bool,
}

impl HoldingsFilter {
    fn passes(&self, masks: &BibBranchMasks) -> bool {
        let mask = if self.available_only { masks.available_now } else { masks.holding };
        mask & self.branch_mask != 0
    }

    /// `inner`, seeing only the matches that pass this filter.
    pub(crate) fn around<C: Collector>(self, inner: C) -> FilteredByHoldings<C> {
        FilteredByHoldings { filter: self, inner }
    }
}

pub(crate) struct FilteredByHoldings<C> {
    filter: HoldingsFilter,
    inner: C,
}

pub(crate) struct FilteredSegmentCollector<S> {
    filter: HoldingsFilter,
    bib_id: Column<u64>,
    inner: S,
    /// The matches of the block being filled, and scratch space for checking it.
    block: Vec<(DocId, Score)>,
    documents: Vec<DocId>,
    bib_ids: Vec<Option<u64>>,
    masks: Vec<BibBranchMasks>,
}

impl<C: Collector> Collector for FilteredByHoldings<C> {
    type Fruit = C::Fruit;
    type Child = FilteredSegmentCollector<C::Child>;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<Self::Child> {
        Ok(FilteredSegmentCollector {
            filter: self.filter.clone(),
            bib_id: reader.fast_fields().u64(names::BIB_ID)?,
            inner: self.inner.for_segment(segment, reader)?,
            block: Vec::with_capacity(BLOCK_SIZE),
            documents: Vec::with_capacity(BLOCK_SIZE),
            bib_ids: vec![None; BLOCK_SIZE],
            masks: Vec::with_capacity(BLOCK_SIZE),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(&self, fruits: Vec<<C::Child as SegmentCollector>::Fruit>) -> tantivy::Result<C::Fruit> {
        self.inner.merge_fruits(fruits)
    }
}

impl<S: SegmentCollector> FilteredSegmentCollector<S> {
    fn pass_block(&mut self) {
        if self.block.is_empty() {
            return;
        }
        self.documents.clear();
        self.documents.extend(self.block.iter().map(|(doc, _)| *doc));
        let bib_ids = &mut self.bib_ids[..self.documents.len()];
        first_values(&self.bib_id, &self.documents, bib_ids);
        self.masks.clear();
        self.masks.extend(bib_ids.iter().map(|bib_id| {
            bib_id.map_or_else(BibBranchMasks::default, |id| self.filter.holdings.masks(BibId(id)))
        }));
        for ((doc, score), masks) in self.block.iter().zip(&self.masks) {
            if self.filter.passes(masks) {
                self.inner.collect(*doc, *score);
            }
        }
        self.block.clear();
    }
}

impl<S: SegmentCollector> SegmentCollector for FilteredSegmentCollector<S> {
    type Fruit = S::Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.block.push((doc, score));
        if self.block.len() == BLOCK_SIZE {
            self.pass_block();
        }
    }

    fn harvest(mut self) -> S::Fruit {
        self.pass_block();
        self.inner.harvest()
    }
}
