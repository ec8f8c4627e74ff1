//! Outbox events: how the ledger is rebuilt and kept current, idempotently and in any order.
//!
//! Each event carries the new state of one entity and the outbox `seq` of the change. The engine keeps,
//! per entity, the seq of the last change applied and ignores an event whose seq is not newer, so the
//! service can apply its own event right after commit and then meet it again from the outbox, and a
//! late event never undoes a newer one. The entities are: a patron (by `patron_id`), a copy's loan slot
//! (by `item_id`: `LoanOpened` fills it — also after a renewal —, `LoanClosed` empties it), a hold (by
//! `hold_id`, remembered after `HoldClosed` so that a late upsert cannot reopen it) and a copy's transit
//! slot (by `item_id`). The final state is therefore the same whatever order the events arrive in.
//!
//! Rebuilding: the service streams the open state as events with `seq: 0` (snapshot rows). A snapshot
//! row is applied when the entity has no change recorded yet or only snapshot rows, never over a live
//! change. `reset(as_of_seq)` (or `load` with a snapshot) also records the outbox position the snapshot
//! includes, below which live events are ignored.

use serde::{Deserialize, Serialize};

use super::date::Date;
use super::error::CirculationError;
use super::state::{Hold, HoldId, HoldStatus, Ledger, Loan, LoanId, Patron, PatronId, PatronStatus, Transit};
use crate::holdings::{BibId, ItemId};

/// One change of circulation state, as the outbox carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CirculationEvent {
    /// A patron was registered or changed (card, category, expiry, status).
    PatronUpserted {
        seq: u64,
        patron_id: PatronId,
        card: String,
        category: String,
        home_branch: String,
        expires_on: Date,
        status: PatronStatus,
    },
    /// A loan was opened, or renewed (same `loan_id`, new `due_on` and `renewals`).
    LoanOpened {
        seq: u64,
        loan_id: LoanId,
        item_id: ItemId,
        patron_id: PatronId,
        branch: String,
        due_on: Date,
        #[serde(default)]
        renewals: u32,
    },
    /// The copy was returned (or its loan otherwise closed).
    LoanClosed { seq: u64, loan_id: LoanId, item_id: ItemId },
    /// A hold was placed or changed (trapped, ready, pickup branch changed).
    HoldUpserted {
        seq: u64,
        hold_id: HoldId,
        patron_id: PatronId,
        bib_id: BibId,
        #[serde(default)]
        item_id: Option<ItemId>,
        pickup_branch: String,
        placed_at: String,
        status: HoldStatus,
        #[serde(default)]
        trapped_item_id: Option<ItemId>,
        #[serde(default)]
        pickup_by: Option<Date>,
        #[serde(default)]
        not_before: Option<Date>,
    },
    /// The hold was fulfilled, cancelled or expired.
    HoldClosed { seq: u64, hold_id: HoldId },
    /// The copy left for another branch (going home, or for a hold).
    TransitOpened {
        seq: u64,
        item_id: ItemId,
        to_branch: String,
        #[serde(default)]
        for_hold: Option<HoldId>,
    },
    /// The copy arrived (its transit was received).
    TransitClosed { seq: u64, item_id: ItemId },
}

impl CirculationEvent {
    pub fn seq(&self) -> u64 {
        match self {
            CirculationEvent::PatronUpserted { seq, .. }
            | CirculationEvent::LoanOpened { seq, .. }
            | CirculationEvent::LoanClosed { seq, .. }
            | CirculationEvent::HoldUpserted { seq, .. }
            | CirculationEvent::HoldClosed { seq, .. }
            | CirculationEvent::TransitOpened { seq, .. }
            | CirculationEvent::TransitClosed { seq, .. } => *seq,
        }
    }

    pub fn patron_upserted(seq: u64, patron: &Patron) -> CirculationEvent {
        CirculationEvent::PatronUpserted {
            seq,
            patron_id: patron.patron_id,
            card: patron.card.clone(),
            category: patron.category.clone(),
            home_branch: patron.home_branch.clone(),
            expires_on: patron.expires_on,
            status: patron.status,
        }
    }

    pub fn loan_opened(seq: u64, loan: &Loan) -> CirculationEvent {
        CirculationEvent::LoanOpened {
            seq,
            loan_id: loan.loan_id,
            item_id: loan.item_id,
            patron_id: loan.patron_id,
            branch: loan.branch.clone(),
            due_on: loan.due_on,
            renewals: loan.renewals,
        }
    }

    pub fn hold_upserted(seq: u64, hold: &Hold) -> CirculationEvent {
        CirculationEvent::HoldUpserted {
            seq,
            hold_id: hold.hold_id,
            patron_id: hold.patron_id,
            bib_id: hold.bib_id,
            item_id: hold.item_id,
            pickup_branch: hold.pickup_branch.clone(),
            placed_at: hold.placed_at.clone(),
            status: hold.status,
            trapped_item_id: hold.trapped_item_id,
            pickup_by: hold.pickup_by,
            not_before: hold.not_before,
        }
    }

    pub fn transit_opened(seq: u64, transit: &Transit) -> CirculationEvent {
        CirculationEvent::TransitOpened {
            seq,
            item_id: transit.item_id,
            to_branch: transit.to_branch.clone(),
            for_hold: transit.for_hold,
        }
    }

    /// Refuses an event whose fields contradict each other, before anything is applied.
    pub fn validate(&self) -> Result<(), CirculationError> {
        if let Some(hold) = self.hold() {
            validate_hold(&hold).map_err(|reason| CirculationError::InvalidEvent {
                seq: self.seq(),
                reason: format!("hold {}: {reason}", hold.hold_id.0),
            })?;
        }
        Ok(())
    }

    fn hold(&self) -> Option<Hold> {
        let CirculationEvent::HoldUpserted {
            hold_id,
            patron_id,
            bib_id,
            item_id,
            pickup_branch,
            placed_at,
            status,
            trapped_item_id,
            pickup_by,
            not_before,
            ..
        } = self
        else {
            return None;
        };
        Some(Hold {
            hold_id: *hold_id,
            patron_id: *patron_id,
            bib_id: *bib_id,
            item_id: *item_id,
            pickup_branch: pickup_branch.clone(),
            placed_at: placed_at.clone(),
            status: *status,
            trapped_item_id: *trapped_item_id,
            pickup_by: *pickup_by,
            not_before: *not_before,
        })
    }
}

/// The checks PostgreSQL's `hold` table makes, so that the ledger never holds a hold it could not.
pub(crate) fn validate_hold(hold: &Hold) -> Result<(), String> {
    if hold.status != HoldStatus::Waiting && hold.trapped_item_id.is_none() {
        return Err("a hold in transit or ready needs trapped_item_id".to_string());
    }
    if hold.status == HoldStatus::Ready && hold.pickup_by.is_none() {
        return Err("a ready hold needs pickup_by".to_string());
    }
    Ok(())
}

/// Whether an event with `seq` changes an entity whose last recorded change is `last`.
fn is_newer(last: Option<u64>, seq: u64, snapshot_seq: u64) -> bool {
    if seq == 0 {
        return last.is_none_or(|last| last == 0);
    }
    seq > snapshot_seq && last.is_none_or(|last| seq > last)
}

impl Ledger {
    /// Applies one (validated) event; returns whether it changed anything, and pushes the copies whose
    /// circulation state may have changed onto `touched_items`.
    pub(crate) fn apply(&mut self, event: &CirculationEvent, touched_items: &mut Vec<ItemId>) -> bool {
        let seq = event.seq();
        let applied = match event {
            CirculationEvent::PatronUpserted { patron_id, card, category, home_branch, expires_on, status, .. } => {
                if !is_newer(self.patron_seqs.get(patron_id).copied(), seq, self.snapshot_seq) {
                    return false;
                }
                self.patron_seqs.insert(*patron_id, seq);
                self.put_patron(Patron {
                    patron_id: *patron_id,
                    card: card.clone(),
                    category: category.clone(),
                    home_branch: home_branch.clone(),
                    expires_on: *expires_on,
                    status: *status,
                });
                true
            }
            CirculationEvent::LoanOpened { loan_id, item_id, patron_id, branch, due_on, renewals, .. } => {
                if !is_newer(self.item_loan_seqs.get(item_id).copied(), seq, self.snapshot_seq) {
                    return false;
                }
                self.item_loan_seqs.insert(*item_id, seq);
                self.empty_loan_slot(*item_id);
                if let Some(moved) = self.remove_loan(*loan_id) {
                    touched_items.push(moved.item_id);
                }
                self.put_loan(Loan {
                    loan_id: *loan_id,
                    item_id: *item_id,
                    patron_id: *patron_id,
                    branch: branch.clone(),
                    due_on: *due_on,
                    renewals: *renewals,
                });
                touched_items.push(*item_id);
                true
            }
            CirculationEvent::LoanClosed { item_id, .. } => {
                if !is_newer(self.item_loan_seqs.get(item_id).copied(), seq, self.snapshot_seq) {
                    return false;
                }
                self.item_loan_seqs.insert(*item_id, seq);
                // The slot is the entity: whichever loan it holds is closed as of this seq.
                self.empty_loan_slot(*item_id);
                touched_items.push(*item_id);
                true
            }
            CirculationEvent::HoldUpserted { hold_id, .. } => {
                if !is_newer(self.hold_seqs.get(hold_id).copied(), seq, self.snapshot_seq) {
                    return false;
                }
                let Some(hold) = event.hold() else { return false };
                self.hold_seqs.insert(*hold_id, seq);
                if let Some(previous) = self.remove_hold(*hold_id) {
                    touched_items.extend(previous.trapped_item());
                }
                touched_items.extend(hold.trapped_item());
                self.put_hold(hold);
                true
            }
            CirculationEvent::HoldClosed { hold_id, .. } => {
                if !is_newer(self.hold_seqs.get(hold_id).copied(), seq, self.snapshot_seq) {
                    return false;
                }
                self.hold_seqs.insert(*hold_id, seq);
                if let Some(previous) = self.remove_hold(*hold_id) {
                    touched_items.extend(previous.trapped_item());
                }
                true
            }
            CirculationEvent::TransitOpened { item_id, to_branch, for_hold, .. } => {
                if !is_newer(self.item_transit_seqs.get(item_id).copied(), seq, self.snapshot_seq) {
                    return false;
                }
                self.item_transit_seqs.insert(*item_id, seq);
                self.transits
                    .insert(*item_id, Transit { item_id: *item_id, to_branch: to_branch.clone(), for_hold: *for_hold });
                touched_items.push(*item_id);
                true
            }
            CirculationEvent::TransitClosed { item_id, .. } => {
                if !is_newer(self.item_transit_seqs.get(item_id).copied(), seq, self.snapshot_seq) {
                    return false;
                }
                self.item_transit_seqs.insert(*item_id, seq);
                self.transits.remove(item_id);
                touched_items.push(*item_id);
                true
            }
        };
        self.highest_seq = self.highest_seq.max(seq);
        applied
    }

    fn empty_loan_slot(&mut self, item_id: ItemId) {
        if self.loan_of_item(item_id).is_none() {
            return;
        }
        for loan_id in self.loan_ids_of_item(item_id) {
            self.remove_loan(loan_id);
        }
    }
}
