//! Hold targeting: which free copy fills which waiting hold, and the pick lists that follow from it.
//!
//! Targeting is a pure function of the current state, computed per title on demand — after every event
//! the next question gets the new answer, with no batch job. For one title the waiting holds that may
//! be filled today are taken in FIFO order (placed_at, then hold id) and matched with the copies
//! standing free on shelves:
//!
//! 1. Which holds are served: walking the queue, an item-level hold is served when its copy is free, a
//!    title-level hold when a free copy remains for it; so no later hold is served ahead of an earlier
//!    one that a copy could fill.
//! 2. Which copy each served title-level hold gets: first, in queue order, a copy standing at its own
//!    pickup branch (no transit needed); then a copy at the patron's home branch; then the first
//!    branch in display order (the calendar's order). Between copies at one branch the lowest item id
//!    wins, except that a copy being checked in comes before the copies on that branch's shelf.
//!
//! The pick list of a branch is the matches whose copy stands at that branch. Its cost is one walk over
//! the titles that have open holds, each with its queue and its copies — never over the collection.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::date::Date;
use super::decisions::Desk;
use super::state::{Hold, HoldId, HoldStatus, PatronId};
use crate::holdings::{BibId, ItemHolding, ItemId};

/// A copy free to fill a hold, and where it stands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FreeCopy<'a> {
    pub item: &'a ItemHolding,
    pub branch: &'a str,
}

/// The copy to pull from a shelf for a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickTarget {
    pub item_id: ItemId,
    pub branch: String,
}

/// One line of a branch's pick list: a copy on this branch's shelves to pull for a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PickEntry {
    pub hold_id: HoldId,
    pub bib_id: BibId,
    pub item_id: ItemId,
    pub barcode: String,
    pub call_number: String,
    pub shelf_location: String,
    pub patron_id: PatronId,
    pub pickup_branch: String,
    pub placed_at: String,
}

impl<'a> Desk<'a> {
    /// The title's waiting holds that may be filled today, in FIFO order.
    pub(crate) fn eligible_waiting_holds(
        &self,
        bib_id: BibId,
        today: Date,
        excluded: &HashSet<HoldId>,
    ) -> Vec<&'a Hold> {
        self.ledger
            .queue_of_bib(bib_id)
            .filter(|hold| {
                hold.status == HoldStatus::Waiting
                    && !excluded.contains(&hold.hold_id)
                    && hold.not_before.is_none_or(|day| day <= today)
                    && self.hold_patron_can_be_served(hold)
            })
            .collect()
    }

    /// The title's copies standing free on their home shelves, in branch display order.
    pub(crate) fn free_copies_of(&self, bib_id: BibId) -> Vec<FreeCopy<'a>> {
        let holdings: &'a crate::holdings::Holdings = self.holdings;
        let mut copies: Vec<FreeCopy<'a>> = holdings
            .items_of(bib_id)
            .filter(|item| self.is_free_on_shelf(item))
            .map(|item| FreeCopy { item, branch: item.branch.as_str() })
            .collect();
        copies.sort_by_key(|copy| (self.calendar.branch_rank(copy.branch), copy.item.item_id));
        copies
    }

    /// Matches holds (FIFO order, all of one title) with free copies; returns each served hold with
    /// the index of its copy in `copies`, in queue order. See the module documentation for the rules;
    /// between copies at one branch the earlier in `copies` is taken (free_copies_of orders them by
    /// item id; a checkin puts the returned copy first).
    pub(crate) fn match_holds_to_copies<'h>(
        &self,
        holds: &[&'h Hold],
        copies: &[FreeCopy<'_>],
    ) -> Vec<(&'h Hold, usize)> {
        let mut taken = vec![false; copies.len()];
        let mut free = copies.len();
        let mut matched: Vec<(&'h Hold, Option<usize>)> = Vec::new();
        let mut title_level_served = 0usize;
        for hold in holds {
            if free <= title_level_served {
                break;
            }
            match hold.item_id {
                Some(wanted) => {
                    let copy = copies
                        .iter()
                        .enumerate()
                        .position(|(index, copy)| !taken[index] && copy.item.item_id == wanted);
                    if let Some(index) = copy {
                        taken[index] = true;
                        free -= 1;
                        matched.push((hold, Some(index)));
                    }
                }
                None => {
                    title_level_served += 1;
                    matched.push((hold, None));
                }
            }
        }
        // Title-level holds at their own pickup branch first, so no copy travels needlessly.
        for (hold, copy) in matched.iter_mut().filter(|(_, copy)| copy.is_none()) {
            if let Some(index) =
                (0..copies.len()).find(|&index| !taken[index] && copies[index].branch == hold.pickup_branch)
            {
                taken[index] = true;
                *copy = Some(index);
            }
        }
        for (hold, copy) in matched.iter_mut().filter(|(_, copy)| copy.is_none()) {
            let home_branch = self.ledger.patron(hold.patron_id).map(|patron| patron.home_branch.as_str());
            let best = (0..copies.len()).filter(|&index| !taken[index]).min_by_key(|&index| {
                let copy = &copies[index];
                (Some(copy.branch) != home_branch, self.calendar.branch_rank(copy.branch), index)
            });
            if let Some(index) = best {
                taken[index] = true;
                *copy = Some(index);
            }
        }
        matched.into_iter().filter_map(|(hold, copy)| copy.map(|index| (hold, index))).collect()
    }

    /// The copy a new hold would have pulled for it now, or `None` when every copy is out or claimed by
    /// holds ahead of it.
    pub(crate) fn target_for_new_hold(&self, candidate: &Hold, today: Date) -> Option<PickTarget> {
        if candidate.not_before.is_some_and(|day| day > today) {
            return None;
        }
        let copies = self.free_copies_of(candidate.bib_id);
        if copies.is_empty() {
            return None;
        }
        let mut holds = self.eligible_waiting_holds(candidate.bib_id, today, &HashSet::new());
        let position = holds.partition_point(|hold| hold.queue_key() < candidate.queue_key());
        holds.insert(position, candidate);
        self.match_holds_to_copies(&holds, &copies).into_iter().find(|(hold, _)| std::ptr::eq(*hold, candidate)).map(
            |(_, index)| PickTarget { item_id: copies[index].item.item_id, branch: copies[index].branch.to_string() },
        )
    }

    /// The copies to pull from `branch`'s shelves for waiting holds, in FIFO order. `today` (when given)
    /// leaves out holds deferred past it.
    pub fn pick_list(&self, branch: &str, today: Option<Date>) -> Vec<PickEntry> {
        let today = today.unwrap_or(Date::from_days_since_epoch(i32::MAX));
        let mut entries = Vec::new();
        for bib_id in self.ledger.bibs_with_holds() {
            let copies = self.free_copies_of(bib_id);
            if !copies.iter().any(|copy| copy.branch == branch) {
                continue;
            }
            let holds = self.eligible_waiting_holds(bib_id, today, &HashSet::new());
            for (hold, index) in self.match_holds_to_copies(&holds, &copies) {
                let copy = copies[index];
                if copy.branch != branch {
                    continue;
                }
                entries.push(PickEntry {
                    hold_id: hold.hold_id,
                    bib_id,
                    item_id: copy.item.item_id,
                    barcode: copy.item.barcode.clone(),
                    call_number: copy.item.call_number.clone(),
                    shelf_location: copy.item.shelf_location.clone(),
                    patron_id: hold.patron_id,
                    pickup_branch: hold.pickup_branch.clone(),
                    placed_at: hold.placed_at.clone(),
                });
            }
        }
        entries.sort_by(|a, b| (&a.placed_at, a.hold_id).cmp(&(&b.placed_at, b.hold_id)));
        entries
    }
}
