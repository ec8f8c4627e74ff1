//! Circulation: the loan state of the whole library and every rule that decides over it — checkout,
//! renewal, checkin, holds and their targeting, the hold shelf, overdue lists.
//!
//! - [`date`]: civil dates without a date crate; the engine never reads a clock, `today` is passed in.
//! - [`calendar`]: branch calendars and the next open day.
//! - [`rules`]: the rules matrix and its most-specific-row resolution.
//! - [`state`]: the ledger of patrons, open loans, holds and transits, with its indexes.
//! - [`events`]: outbox events that rebuild and follow the ledger, idempotently and in any order.
//! - [`decisions`]: what all decisions share (patron blocks, due dates, warnings); the decisions
//!   themselves live in [`checkout`], [`checkin`], [`holds`] and [`targeting`]; [`views`] answers the
//!   counter's and SIP2's read-only questions and [`consistency`] compares the ledger with PostgreSQL.
//! - [`error`]: refusals (answers for people) and engine errors (failures).
//!
//! [`Circulation`] holds it all behind one lock, plus the same holdings the catalogue searches: when a
//! copy's loan, hold or transit changes, its circulation state in the holdings changes with it, so the
//! next search shows it. Lock order: the circulation lock, then the holdings lock.

pub mod calendar;
pub mod checkin;
pub mod checkout;
pub mod consistency;
pub mod date;
pub mod decisions;
pub mod error;
pub mod events;
pub mod holds;
pub mod rules;
pub mod state;
pub mod targeting;
pub mod views;

use std::sync::Arc;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

pub use calendar::{AnnualClosure, BranchCalendarDefinition, Calendar, CalendarDefinition};
pub use checkin::{CheckinDecision, CheckinOutcome, CheckinRequest};
pub use checkout::{CheckoutDecision, CheckoutRequest, RenewalDecision, RenewalRequest};
pub use consistency::{ConsistencySnapshot, Difference, DifferenceKind, Entity, FieldDifference};
pub use date::{Date, DateParseError};
pub use decisions::{ItemRef, PatronRef, Warning, WarningReport};
pub use error::{Answer, CirculationError, Refusal, RefusalReport};
pub use events::CirculationEvent;
pub use holds::{
    CancelHoldDecision, CancelHoldRequest, ExpiryDecision, HoldDecision, HoldRequest, PickupChangeDecision,
    PickupChangeRequest,
};
pub use rules::{RuleRow, RulesMatrix};
pub use state::{
    Hold, HoldId, HoldStatus, Ledger, LedgerCounts, Loan, LoanId, Patron, PatronId, PatronStatus, Transit,
};
pub use targeting::{PickEntry, PickTarget};
pub use views::{
    HoldView, ItemView, LoanView, OverdueLoan, OverdueRequest, PatronCounts, PatronSummary, PatronSummaryRequest,
};

use crate::holdings::{Holdings, ItemId};
use decisions::Desk;

/// The whole open state at once, as the service reads it from PostgreSQL in one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CirculationSnapshot {
    /// The outbox position the snapshot includes: later events with a seq at or below it are ignored.
    #[serde(default)]
    pub as_of_seq: u64,
    #[serde(default)]
    pub patrons: Vec<Patron>,
    #[serde(default)]
    pub loans: Vec<Loan>,
    #[serde(default)]
    pub holds: Vec<Hold>,
    #[serde(default)]
    pub transits: Vec<Transit>,
}

#[derive(Default)]
struct Books {
    ledger: Ledger,
    rules: RulesMatrix,
    calendar: Calendar,
}

/// The circulation engine of one service process: thread-safe, shared by every request.
pub struct Circulation {
    books: RwLock<Books>,
    holdings: Arc<RwLock<Holdings>>,
}

impl Circulation {
    /// An empty ledger over the catalogue's holdings (share the catalogue's `Arc`).
    pub fn new(holdings: Arc<RwLock<Holdings>>) -> Circulation {
        Circulation { books: RwLock::new(Books::default()), holdings }
    }

    pub fn holdings(&self) -> &Arc<RwLock<Holdings>> {
        &self.holdings
    }

    /// Replaces the rules matrix wholesale.
    pub fn set_rules(&self, rows: Vec<RuleRow>) -> Result<(), CirculationError> {
        let rules = RulesMatrix::new(rows)?;
        self.books.write().rules = rules;
        Ok(())
    }

    /// Replaces every branch calendar (and the pickup points and branch order) wholesale.
    pub fn set_calendar(&self, definition: &CalendarDefinition) -> Result<(), CirculationError> {
        let calendar = Calendar::from_definition(definition)?;
        self.books.write().calendar = calendar;
        Ok(())
    }

    /// Applies events in the given order, ignoring those already applied or superseded; returns how
    /// many changed something. Nothing is applied when any event is invalid.
    pub fn apply_events(&self, events: &[CirculationEvent]) -> Result<usize, CirculationError> {
        events.iter().try_for_each(CirculationEvent::validate)?;
        let mut books = self.books.write();
        let mut touched_items = Vec::new();
        let applied = events.iter().filter(|event| books.ledger.apply(event, &mut touched_items)).count();
        self.sync_holdings(&books.ledger, touched_items);
        Ok(applied)
    }

    /// Replaces the ledger with a snapshot (rules and calendars stay).
    pub fn load(&self, snapshot: CirculationSnapshot) -> Result<(), CirculationError> {
        for hold in &snapshot.holds {
            events::validate_hold(hold).map_err(|reason| CirculationError::InvalidEvent {
                seq: snapshot.as_of_seq,
                reason: format!("hold {}: {reason}", hold.hold_id.0),
            })?;
        }
        let mut ledger = Ledger { snapshot_seq: snapshot.as_of_seq, ..Ledger::default() };
        snapshot.patrons.into_iter().for_each(|patron| ledger.put_patron(patron));
        snapshot.loans.into_iter().for_each(|loan| ledger.put_loan(loan));
        snapshot.holds.into_iter().for_each(|hold| ledger.put_hold(hold));
        for transit in snapshot.transits {
            ledger.transits.insert(transit.item_id, transit);
        }
        self.replace_ledger(ledger);
        Ok(())
    }

    /// Empties the ledger before a rebuild from snapshot rows (`seq: 0` events); live events at or
    /// below `as_of_seq` (the snapshot's outbox position) will be ignored.
    pub fn reset(&self, as_of_seq: u64) {
        self.replace_ledger(Ledger { snapshot_seq: as_of_seq, ..Ledger::default() });
    }

    fn replace_ledger(&self, ledger: Ledger) {
        let mut books = self.books.write();
        let mut touched_items: Vec<ItemId> = books.ledger.items_in_circulation().collect();
        books.ledger = ledger;
        touched_items.extend(books.ledger.items_in_circulation());
        self.sync_holdings(&books.ledger, touched_items);
    }

    /// Brings the holdings' circulation state of the copies in line with the ledger.
    fn sync_holdings(&self, ledger: &Ledger, mut items: Vec<ItemId>) {
        if items.is_empty() {
            return;
        }
        items.sort_unstable();
        items.dedup();
        let mut holdings = self.holdings.write();
        for item_id in items {
            let state = ledger.circulation_state_of(item_id);
            if holdings.item(item_id).is_some_and(|item| item.circulation != state) {
                holdings.set_circulation(item_id, state);
            }
        }
    }

    /// The ledger's open state, each list sorted by id (the inverse of [`load`](Self::load)).
    pub fn snapshot(&self) -> CirculationSnapshot {
        let books = self.books.read();
        let ledger = &books.ledger;
        let mut snapshot = CirculationSnapshot {
            as_of_seq: ledger.highest_seq(),
            patrons: ledger.patrons.values().cloned().collect(),
            loans: ledger.loans.values().cloned().collect(),
            holds: ledger.holds.values().cloned().collect(),
            transits: ledger.transits.values().cloned().collect(),
        };
        snapshot.patrons.sort_by_key(|patron| patron.patron_id);
        snapshot.loans.sort_by_key(|loan| loan.loan_id);
        snapshot.holds.sort_by_key(|hold| hold.hold_id);
        snapshot.transits.sort_by_key(|transit| transit.item_id);
        snapshot
    }

    pub fn counts(&self) -> LedgerCounts {
        self.books.read().ledger.counts()
    }

    /// The highest outbox seq applied (or the loaded snapshot's position).
    pub fn highest_seq(&self) -> u64 {
        self.books.read().ledger.highest_seq()
    }

    pub fn is_open(&self, branch: &str, date: Date) -> bool {
        self.books.read().calendar.is_open(branch, date)
    }

    pub fn next_open_day_on_or_after(&self, branch: &str, date: Date) -> Result<Date, CirculationError> {
        self.books.read().calendar.next_open_day_on_or_after(branch, date)
    }

    /// Runs a read-only question with both locks held for reading.
    fn at_desk<R>(&self, question: impl FnOnce(&Desk<'_>) -> R) -> R {
        let books = self.books.read();
        let holdings = self.holdings.read();
        let desk = Desk { ledger: &books.ledger, rules: &books.rules, calendar: &books.calendar, holdings: &holdings };
        question(&desk)
    }

    /// Reads the ledger directly (tools and tests).
    pub fn with_ledger<R>(&self, read: impl FnOnce(&Ledger) -> R) -> R {
        read(&self.books.read().ledger)
    }

    pub fn decide_checkout(&self, request: &CheckoutRequest) -> Result<CheckoutDecision, Refusal> {
        self.at_desk(|desk| desk.decide_checkout(request))
    }

    pub fn decide_renewal(&self, request: &RenewalRequest) -> Result<RenewalDecision, Refusal> {
        self.at_desk(|desk| desk.decide_renewal(request))
    }

    pub fn decide_checkin(&self, request: &CheckinRequest) -> Result<CheckinDecision, Refusal> {
        self.at_desk(|desk| desk.decide_checkin(request))
    }

    pub fn decide_hold(&self, request: &HoldRequest) -> Result<HoldDecision, Refusal> {
        self.at_desk(|desk| desk.decide_hold(request))
    }

    pub fn decide_cancel_hold(&self, request: &CancelHoldRequest) -> Result<CancelHoldDecision, Refusal> {
        self.at_desk(|desk| desk.decide_cancel_hold(request))
    }

    pub fn decide_pickup_change(&self, request: &PickupChangeRequest) -> Result<PickupChangeDecision, Refusal> {
        self.at_desk(|desk| desk.decide_pickup_change(request))
    }

    pub fn expired_holds(&self, today: Date) -> Vec<ExpiryDecision> {
        self.at_desk(|desk| desk.expired_holds(today))
    }

    pub fn pick_list(&self, branch: &str, today: Option<Date>) -> Vec<PickEntry> {
        self.at_desk(|desk| desk.pick_list(branch, today))
    }

    pub fn patron_summary(&self, request: &PatronSummaryRequest) -> Result<PatronSummary, Refusal> {
        self.at_desk(|desk| desk.patron_summary(request))
    }

    pub fn item_view(&self, item: &ItemRef) -> Result<ItemView, Refusal> {
        self.at_desk(|desk| desk.item_view(item))
    }

    pub fn overdue_loans(&self, request: &OverdueRequest) -> Vec<OverdueLoan> {
        self.at_desk(|desk| desk.overdue_loans(request))
    }

    pub fn check_consistency(&self, expected: &ConsistencySnapshot) -> Vec<Difference> {
        self.at_desk(|desk| desk.check_consistency(expected))
    }
}
