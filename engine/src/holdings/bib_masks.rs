//! The holdings bitmasks of every record, laid out for search, which reads them for every matching
//! record: the branch/availability filter, the branch and availability facets, and each hit.
//!
//! Record ids are dense (PostgreSQL identities), so a record's masks are found through a vector indexed
//! by id; ids beyond [`DENSE_ID_LIMIT`] (imported with foreign numbering) go to a map.
//!
//! The vector holds a number per record, not its masks: the number of a distinct pair of masks, kept
//! once in a small table. A catalogue has millions of records but a few thousand distinct pairs (which
//! branches hold a title's copies, and which of those have one on the shelf), so four bytes a record
//! instead of thirty-two keep the vector of tier L (3M records) within reach of the cache: a broad
//! search reads hundreds of thousands of entries, and with the masks themselves in the vector it spent
//! most of its facet counting waiting for memory. Pairs are never removed from the table; it only
//! grows when a record gets a combination no record had before.

use std::collections::HashMap;

use super::{BibBranchMasks, BibId};

pub(super) const DENSE_ID_LIMIT: u64 = 1 << 26;

/// The number of the empty pair (no copy anywhere), which every record starts with.
const NO_HOLDINGS: u32 = 0;

#[derive(Debug)]
pub(super) struct BibMasks {
    dense: Vec<u32>,
    sparse: HashMap<BibId, u32>,
    distinct: Vec<BibBranchMasks>,
    number_of: HashMap<BibBranchMasks, u32>,
}

impl Default for BibMasks {
    fn default() -> BibMasks {
        BibMasks {
            dense: Vec::new(),
            sparse: HashMap::new(),
            distinct: vec![BibBranchMasks::default()],
            number_of: HashMap::from([(BibBranchMasks::default(), NO_HOLDINGS)]),
        }
    }
}

impl BibMasks {
    #[inline]
    pub(super) fn get(&self, bib_id: BibId) -> BibBranchMasks {
        let number = if bib_id.0 < DENSE_ID_LIMIT {
            self.dense.get(bib_id.0 as usize).copied()
        } else {
            self.sparse.get(&bib_id).copied()
        };
        self.distinct[number.unwrap_or(NO_HOLDINGS) as usize]
    }

    pub(super) fn set(&mut self, bib_id: BibId, masks: BibBranchMasks) {
        let number = self.number(masks);
        if bib_id.0 < DENSE_ID_LIMIT {
            let index = bib_id.0 as usize;
            if index >= self.dense.len() {
                if number == NO_HOLDINGS {
                    return;
                }
                self.dense.resize(index + 1, NO_HOLDINGS);
            }
            self.dense[index] = number;
        } else if number == NO_HOLDINGS {
            self.sparse.remove(&bib_id);
        } else {
            self.sparse.insert(bib_id, number);
        }
    }

    fn number(&mut self, masks: BibBranchMasks) -> u32 {
        if let Some(number) = self.number_of.get(&masks) {
            return *number;
        }
        let number = u32::try_from(self.distinct.len()).expect("fewer than 2^32 distinct pairs of masks");
        self.distinct.push(masks);
        self.number_of.insert(masks, number);
        number
    }

    #[cfg(test)]
    fn distinct_pairs(&self) -> usize {
        self.distinct.len()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn masks(holding: u128, available_now: u128) -> BibBranchMasks {
        BibBranchMasks { holding, available_now }
    }

    #[test]
    fn records_with_the_same_masks_share_one_pair() {
        let mut bib_masks = BibMasks::default();
        for id in 0..1_000 {
            bib_masks.set(BibId(id), masks(1 << (id % 3), if id % 2 == 0 { 1 << (id % 3) } else { 0 }));
        }
        assert_eq!(bib_masks.distinct_pairs(), 1 + 6);
        assert_eq!(bib_masks.get(BibId(4)), masks(0b10, 0b10));
        assert_eq!(bib_masks.get(BibId(5_000)), BibBranchMasks::default(), "a record never set has no holdings");
    }

    #[test]
    fn ids_beyond_the_dense_range_go_to_the_map() {
        let mut bib_masks = BibMasks::default();
        bib_masks.set(BibId(DENSE_ID_LIMIT + 5), masks(1, 1));
        assert_eq!(bib_masks.get(BibId(DENSE_ID_LIMIT + 5)), masks(1, 1));
        assert!(bib_masks.dense.is_empty());
        bib_masks.set(BibId(DENSE_ID_LIMIT + 5), BibBranchMasks::default());
        assert!(bib_masks.sparse.is_empty());
    }

    proptest! {
        #[test]
        fn reads_give_what_was_last_set(
            changes in proptest::collection::vec((0u64..50, 0u128..8, 0u128..8, any::<bool>()), 0..200)
        ) {
            let mut bib_masks = BibMasks::default();
            let mut expected: HashMap<BibId, BibBranchMasks> = HashMap::new();
            for (id, holding, available_now, beyond_dense_range) in changes {
                let bib_id = BibId(if beyond_dense_range { DENSE_ID_LIMIT + id } else { id });
                let set = masks(holding, available_now & holding);
                bib_masks.set(bib_id, set);
                expected.insert(bib_id, set);
            }
            for (bib_id, set) in expected {
                prop_assert_eq!(bib_masks.get(bib_id), set);
            }
        }
    }
}
