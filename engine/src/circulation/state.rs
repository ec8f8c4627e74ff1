//! The in-memory loan state (the ledger): patrons, open loans, open holds and open transits, with the
//! indexes the decisions need.
//!
//! The service rebuilds the ledger from PostgreSQL at start and keeps it current with outbox events
//! (`events.rs`). Every question a decision asks costs a hash lookup or a walk over one patron's loans,
//! one title's hold queue or one title's copies — never a scan of all loans: per patron the ledger
//! keeps its loans and holds; per title its FIFO hold queue; per copy its loan, transit and trapping
//! hold; and two ordered sets answer "overdue since" and "hold shelf expired" from their lower end.
//!
//! Out-of-order events may leave the ledger briefly inconsistent (a copy on loan and trapped for a
//! hold at once); the indexes that could then hold two entries are multimaps, so that every entity's
//! state depends only on its own latest event.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::date::Date;
use crate::holdings::{BibId, CirculationState, ItemId};

/// A patron's id, as in PostgreSQL's `patron.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PatronId(pub u64);

/// A loan's id, as in PostgreSQL's `loan.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LoanId(pub u64);

/// A hold's id, as in PostgreSQL's `hold.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HoldId(pub u64);

/// PostgreSQL's `patron.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatronStatus {
    /// In good standing (blocks may still follow from expiry or overdue loans).
    Active,
    /// The card was reported lost: it is refused until replaced.
    CardLost,
    /// Borrowing is suspended by the library.
    Suspended,
    /// The record was merged into another patron's.
    Merged,
}

/// What circulation knows of a patron (no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patron {
    pub patron_id: PatronId,
    pub card: String,
    pub category: String,
    pub home_branch: String,
    pub expires_on: Date,
    pub status: PatronStatus,
}

/// An open loan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loan {
    pub loan_id: LoanId,
    pub item_id: ItemId,
    pub patron_id: PatronId,
    /// The branch that lent it.
    pub branch: String,
    pub due_on: Date,
    pub renewals: u32,
}

/// The open states of a hold (PostgreSQL's `hold.status` less the closed ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    /// In the queue, no copy set aside yet.
    Waiting,
    /// A copy is set aside and travelling to the pickup branch.
    InTransit,
    /// A copy waits on the pickup branch's hold shelf until `pickup_by`.
    Ready,
}

/// An open hold (予約): title-level, or item-level when `item_id` names one copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub hold_id: HoldId,
    pub patron_id: PatronId,
    pub bib_id: BibId,
    #[serde(default)]
    pub item_id: Option<ItemId>,
    pub pickup_branch: String,
    /// When it was placed, as a sortable string (ISO timestamp); with `hold_id` it orders the queue.
    pub placed_at: String,
    pub status: HoldStatus,
    #[serde(default)]
    pub trapped_item_id: Option<ItemId>,
    #[serde(default)]
    pub pickup_by: Option<Date>,
    /// Not to be filled before this day (the patron is away).
    #[serde(default)]
    pub not_before: Option<Date>,
}

impl Hold {
    pub(crate) fn queue_key(&self) -> QueueKey {
        QueueKey { placed_at: self.placed_at.clone(), hold_id: self.hold_id }
    }

    /// The copy set aside for this hold; a waiting hold has none, whatever its row says.
    pub fn trapped_item(&self) -> Option<ItemId> {
        if self.status == HoldStatus::Waiting {
            None
        } else {
            self.trapped_item_id
        }
    }
}

/// A copy travelling between branches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transit {
    pub item_id: ItemId,
    pub to_branch: String,
    /// The hold the copy travels for; `None` for a copy going home.
    #[serde(default)]
    pub for_hold: Option<HoldId>,
}

/// A hold's place in its title's queue: first placed, first served; the id breaks ties.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct QueueKey {
    pub placed_at: String,
    pub hold_id: HoldId,
}

/// A map from a key to a few values, usually one. One value is kept inline: at tier L the card index
/// alone has 600k keys, and a heap allocation for each would cost memory and start-up time.
#[derive(Debug)]
pub(crate) struct Multimap<K, V> {
    entries: HashMap<K, Values<V>>,
}

#[derive(Debug)]
enum Values<V> {
    One(V),
    Many(Vec<V>),
}

impl<V> Values<V> {
    fn as_slice(&self) -> &[V] {
        match self {
            Values::One(value) => std::slice::from_ref(value),
            Values::Many(values) => values,
        }
    }
}

impl<K, V> Default for Multimap<K, V> {
    fn default() -> Self {
        Multimap { entries: HashMap::new() }
    }
}

impl<K: Eq + Hash, V: PartialEq + Copy> Multimap<K, V> {
    pub fn insert(&mut self, key: K, value: V) {
        match self.entries.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(Values::One(value));
            }
            Entry::Occupied(mut slot) => {
                let values = slot.get_mut();
                match values {
                    Values::One(existing) if *existing == value => {}
                    Values::One(existing) => *values = Values::Many(vec![*existing, value]),
                    Values::Many(many) if many.contains(&value) => {}
                    Values::Many(many) => many.push(value),
                }
            }
        }
    }

    pub fn remove<Q>(&mut self, key: &Q, value: V)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let Some(values) = self.entries.get_mut(key) else { return };
        let now_empty = match values {
            Values::One(existing) => *existing == value,
            Values::Many(many) => {
                many.retain(|existing| *existing != value);
                if let [only] = many.as_slice() {
                    *values = Values::One(*only);
                }
                matches!(values, Values::Many(many) if many.is_empty())
            }
        };
        if now_empty {
            self.entries.remove(key);
        }
    }

    pub fn get<Q>(&self, key: &Q) -> &[V]
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.entries.get(key).map(Values::as_slice).unwrap_or_default()
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.keys()
    }
}

/// The loan state and its indexes. Mutated only through `events.rs`; read by the decisions.
#[derive(Debug, Default)]
pub struct Ledger {
    pub(crate) patrons: HashMap<PatronId, Patron>,
    pub(crate) patron_ids_by_card: Multimap<String, PatronId>,
    pub(crate) loans: HashMap<LoanId, Loan>,
    pub(crate) loan_ids_by_item: Multimap<ItemId, LoanId>,
    pub(crate) loan_ids_by_patron: Multimap<PatronId, LoanId>,
    pub(crate) loans_by_due_on: BTreeSet<(Date, LoanId)>,
    pub(crate) holds: HashMap<HoldId, Hold>,
    pub(crate) queues_by_bib: HashMap<BibId, BTreeSet<QueueKey>>,
    pub(crate) hold_ids_by_patron: Multimap<PatronId, HoldId>,
    pub(crate) hold_ids_by_trapped_item: Multimap<ItemId, HoldId>,
    pub(crate) ready_holds_by_pickup_by: BTreeSet<(Date, HoldId)>,
    pub(crate) transits: HashMap<ItemId, Transit>,
    /// Per entity, the outbox seq of the last change applied (see `events.rs`).
    pub(crate) patron_seqs: HashMap<PatronId, u64>,
    pub(crate) item_loan_seqs: HashMap<ItemId, u64>,
    pub(crate) item_transit_seqs: HashMap<ItemId, u64>,
    pub(crate) hold_seqs: HashMap<HoldId, u64>,
    /// Events at or below this seq are already part of the loaded snapshot.
    pub(crate) snapshot_seq: u64,
    pub(crate) highest_seq: u64,
}

/// How many of each entity the ledger holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerCounts {
    pub patrons: usize,
    pub loans: usize,
    pub holds: usize,
    pub transits: usize,
}

impl Ledger {
    pub fn counts(&self) -> LedgerCounts {
        LedgerCounts {
            patrons: self.patrons.len(),
            loans: self.loans.len(),
            holds: self.holds.len(),
            transits: self.transits.len(),
        }
    }

    /// The highest outbox seq applied so far (or the snapshot's position).
    pub fn highest_seq(&self) -> u64 {
        self.highest_seq.max(self.snapshot_seq)
    }

    pub fn patron(&self, patron_id: PatronId) -> Option<&Patron> {
        self.patrons.get(&patron_id)
    }

    /// The patron whose current card this is.
    pub fn patron_by_card(&self, card: &str) -> Option<&Patron> {
        self.patron_ids_by_card
            .get(card)
            .iter()
            .filter_map(|id| self.patrons.get(id))
            .find(|patron| patron.card == card)
    }

    pub fn loan(&self, loan_id: LoanId) -> Option<&Loan> {
        self.loans.get(&loan_id)
    }

    /// The copy's open loan.
    pub fn loan_of_item(&self, item_id: ItemId) -> Option<&Loan> {
        self.loan_ids_by_item.get(&item_id).iter().find_map(|loan_id| self.loans.get(loan_id))
    }

    /// The patron's open loans, oldest loan id first.
    pub fn loans_of_patron(&self, patron_id: PatronId) -> Vec<&Loan> {
        let mut loans: Vec<&Loan> =
            self.loan_ids_by_patron.get(&patron_id).iter().filter_map(|loan_id| self.loans.get(loan_id)).collect();
        loans.sort_by_key(|loan| loan.loan_id);
        loans
    }

    /// How many of the patron's loans were due before `today`.
    pub fn overdue_count(&self, patron_id: PatronId, today: Date) -> u32 {
        self.loan_ids_by_patron
            .get(&patron_id)
            .iter()
            .filter_map(|loan_id| self.loans.get(loan_id))
            .filter(|loan| loan.due_on < today)
            .count() as u32
    }

    /// Open loans due on or before `last_due_on`, earliest first.
    pub fn loans_due_on_or_before(&self, last_due_on: Date) -> impl Iterator<Item = &Loan> {
        self.loans_by_due_on
            .range(..=(last_due_on, LoanId(u64::MAX)))
            .filter_map(|(_, loan_id)| self.loans.get(loan_id))
    }

    pub fn hold(&self, hold_id: HoldId) -> Option<&Hold> {
        self.holds.get(&hold_id)
    }

    /// The patron's open holds, in the order they were placed.
    pub fn holds_of_patron(&self, patron_id: PatronId) -> Vec<&Hold> {
        let mut holds: Vec<&Hold> =
            self.hold_ids_by_patron.get(&patron_id).iter().filter_map(|hold_id| self.holds.get(hold_id)).collect();
        holds.sort_by(|a, b| (&a.placed_at, a.hold_id).cmp(&(&b.placed_at, b.hold_id)));
        holds
    }

    /// The title's open holds (waiting, in transit, ready) in queue order.
    pub fn queue_of_bib(&self, bib_id: BibId) -> impl Iterator<Item = &Hold> {
        self.queues_by_bib.get(&bib_id).into_iter().flatten().filter_map(|key| self.holds.get(&key.hold_id))
    }

    /// Titles that have open holds.
    pub fn bibs_with_holds(&self) -> impl Iterator<Item = BibId> + '_ {
        self.queues_by_bib.keys().copied()
    }

    /// The open hold (in transit or ready) that the copy is set aside for.
    pub fn hold_trapping(&self, item_id: ItemId) -> Option<&Hold> {
        self.hold_ids_by_trapped_item
            .get(&item_id)
            .iter()
            .filter_map(|hold_id| self.holds.get(hold_id))
            .min_by_key(|hold| hold.hold_id)
    }

    /// Ready holds whose pickup deadline is before `today`, earliest deadline first.
    pub fn ready_holds_expired_before(&self, today: Date) -> impl Iterator<Item = &Hold> {
        self.ready_holds_by_pickup_by.range(..(today, HoldId(0))).filter_map(|(_, hold_id)| self.holds.get(hold_id))
    }

    pub fn transit_of(&self, item_id: ItemId) -> Option<&Transit> {
        self.transits.get(&item_id)
    }

    /// Every copy the ledger has something to say about (loans, traps, transits).
    pub fn items_in_circulation(&self) -> impl Iterator<Item = ItemId> + '_ {
        self.loan_ids_by_item.keys().chain(self.hold_ids_by_trapped_item.keys()).chain(self.transits.keys()).copied()
    }

    /// The copy's circulation state for search availability, derived from loans, traps and transits in
    /// that order of precedence (the same order the service's holdings query uses).
    pub fn circulation_state_of(&self, item_id: ItemId) -> CirculationState {
        if let Some(loan) = self.loan_of_item(item_id) {
            return CirculationState::OnLoan { due_on: loan.due_on.to_string() };
        }
        if let Some(hold) = self.hold_trapping(item_id).filter(|hold| hold.status == HoldStatus::Ready) {
            return CirculationState::OnHoldShelf { pickup_branch: hold.pickup_branch.clone() };
        }
        if let Some(transit) = self.transit_of(item_id) {
            return CirculationState::InTransit {
                to_branch: transit.to_branch.clone(),
                for_hold: transit.for_hold.is_some(),
            };
        }
        CirculationState::OnShelf
    }

    // --- Raw mutations, index maintenance only. The seq rules live in `events.rs`. ---

    pub(crate) fn put_patron(&mut self, patron: Patron) {
        if let Some(previous) = self.patrons.get(&patron.patron_id) {
            let previous_card = previous.card.clone();
            self.patron_ids_by_card.remove(previous_card.as_str(), patron.patron_id);
        }
        self.patron_ids_by_card.insert(patron.card.clone(), patron.patron_id);
        self.patrons.insert(patron.patron_id, patron);
    }

    pub(crate) fn remove_loan(&mut self, loan_id: LoanId) -> Option<Loan> {
        let loan = self.loans.remove(&loan_id)?;
        self.loan_ids_by_item.remove(&loan.item_id, loan_id);
        self.loan_ids_by_patron.remove(&loan.patron_id, loan_id);
        self.loans_by_due_on.remove(&(loan.due_on, loan_id));
        Some(loan)
    }

    pub(crate) fn put_loan(&mut self, loan: Loan) {
        self.remove_loan(loan.loan_id);
        self.loan_ids_by_item.insert(loan.item_id, loan.loan_id);
        self.loan_ids_by_patron.insert(loan.patron_id, loan.loan_id);
        self.loans_by_due_on.insert((loan.due_on, loan.loan_id));
        self.loans.insert(loan.loan_id, loan);
    }

    /// Loan ids currently recorded against the copy.
    pub(crate) fn loan_ids_of_item(&self, item_id: ItemId) -> Vec<LoanId> {
        self.loan_ids_by_item.get(&item_id).to_vec()
    }

    pub(crate) fn remove_hold(&mut self, hold_id: HoldId) -> Option<Hold> {
        let hold = self.holds.remove(&hold_id)?;
        if let Some(queue) = self.queues_by_bib.get_mut(&hold.bib_id) {
            queue.remove(&hold.queue_key());
            if queue.is_empty() {
                self.queues_by_bib.remove(&hold.bib_id);
            }
        }
        self.hold_ids_by_patron.remove(&hold.patron_id, hold_id);
        if let Some(item_id) = hold.trapped_item() {
            self.hold_ids_by_trapped_item.remove(&item_id, hold_id);
        }
        if let (HoldStatus::Ready, Some(pickup_by)) = (hold.status, hold.pickup_by) {
            self.ready_holds_by_pickup_by.remove(&(pickup_by, hold_id));
        }
        Some(hold)
    }

    pub(crate) fn put_hold(&mut self, hold: Hold) {
        self.remove_hold(hold.hold_id);
        self.queues_by_bib.entry(hold.bib_id).or_default().insert(hold.queue_key());
        self.hold_ids_by_patron.insert(hold.patron_id, hold.hold_id);
        if let Some(item_id) = hold.trapped_item() {
            self.hold_ids_by_trapped_item.insert(item_id, hold.hold_id);
        }
        if let (HoldStatus::Ready, Some(pickup_by)) = (hold.status, hold.pickup_by) {
            self.ready_holds_by_pickup_by.insert((pickup_by, hold.hold_id));
        }
        self.holds.insert(hold.hold_id, hold);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multimap_keeps_one_value_inline_and_grows_and_shrinks() {
        let mut map: Multimap<u32, u32> = Multimap::default();
        map.insert(1, 10);
        map.insert(1, 10);
        assert_eq!(map.get(&1), &[10]);
        map.insert(1, 11);
        map.insert(1, 12);
        assert_eq!(map.get(&1), &[10, 11, 12]);
        map.remove(&1, 11);
        map.remove(&1, 10);
        assert_eq!(map.get(&1), &[12]);
        map.remove(&1, 99);
        assert_eq!(map.get(&1), &[12]);
        map.remove(&1, 12);
        assert!(map.get(&1).is_empty());
        assert_eq!(map.keys().count(), 0);
    }
}
