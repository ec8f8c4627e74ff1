//! A small library for the circulation tests, and the service's part played in Rust: each `commit_*`
//! turns a decision into the outbox events the service would write after committing it to PostgreSQL,
//! and applies them — the same round trip the real service makes.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use parking_lot::RwLock;
use shoka_engine::circulation::*;
use shoka_engine::holdings::{BibId, CirculationState, Holdings, ItemHolding, ItemId, ItemStatus, LoanPolicy};

pub fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

pub fn copy(item: u64, bib: u64, branch: &str, material_type: &str) -> ItemHolding {
    ItemHolding {
        item_id: ItemId(item),
        bib_id: BibId(bib),
        barcode: format!("B{item:05}"),
        branch: branch.to_string(),
        shelf_location: "開架".to_string(),
        call_number: format!("913.6/{item}"),
        material_type: material_type.to_string(),
        status: ItemStatus::Available,
        loan_policy: LoanPolicy::Normal,
        circulation: CirculationState::OnShelf,
    }
}

pub fn rule(branch: Option<&str>, category: Option<&str>, material: Option<&str>) -> RuleRow {
    RuleRow {
        branch: branch.map(str::to_string),
        patron_category: category.map(str::to_string),
        material_type: material.map(str::to_string),
        loan_days: 14,
        max_items_of_type: 10,
        max_items_total: 10,
        max_renewals: 1,
        holds_allowed: true,
        max_holds: 10,
        hold_pickup_days: 7,
    }
}

/// Central is closed on Mondays and 12/29–1/3 and opens on the holiday Monday 2026-05-04; Gyotoku is
/// closed on Tuesdays and 12/29–1/3; the community room lends but hands out no holds.
pub fn calendar() -> CalendarDefinition {
    let year_end =
        AnnualClosure { from_month: 12, from_day: 29, to_month: 1, to_day: 3, reason: "年末年始".into() };
    CalendarDefinition {
        branches: vec![
            BranchCalendarDefinition {
                code: "central".into(),
                is_pickup_point: true,
                weekly_closures: vec![1],
                annual_closures: vec![year_end.clone()],
                closed_days: vec![date("2026-06-23")],
                open_days: vec![date("2026-05-04")],
            },
            BranchCalendarDefinition {
                code: "gyotoku".into(),
                is_pickup_point: true,
                weekly_closures: vec![2],
                annual_closures: vec![year_end],
                closed_days: vec![],
                open_days: vec![],
            },
            BranchCalendarDefinition {
                code: "room".into(),
                is_pickup_point: false,
                weekly_closures: vec![],
                annual_closures: vec![],
                closed_days: vec![],
                open_days: vec![],
            },
        ],
    }
}

/// Books lend 14 days (10 items, 1 renewal); AV 7 days, at most 3; children 21 days; reference (`ref`)
/// is not lent (0 days) and not reservable.
pub fn rules() -> Vec<RuleRow> {
    let av = RuleRow { loan_days: 7, max_items_of_type: 3, ..rule(None, None, Some("av")) };
    let child = RuleRow { loan_days: 21, ..rule(None, Some("child"), None) };
    let reference = RuleRow { loan_days: 0, holds_allowed: false, ..rule(None, None, Some("ref")) };
    vec![rule(None, None, None), av, child, reference]
}

pub fn patron(id: u64, category: &str, home: &str, status: PatronStatus, expires_on: &str) -> Patron {
    Patron {
        patron_id: PatronId(id),
        card: format!("P{id:04}"),
        category: category.to_string(),
        home_branch: home.to_string(),
        expires_on: date(expires_on),
        status,
    }
}

pub struct Library {
    pub circulation: Circulation,
    pub holdings: Arc<RwLock<Holdings>>,
    next_seq: Cell<u64>,
    next_id: Cell<u64>,
    /// Every event applied through `apply`, in order (the outbox, as it were).
    pub outbox: RefCell<Vec<CirculationEvent>>,
}

impl Library {
    /// Patrons 1 (adult, central), 2 (adult, gyotoku), 3 (child, central), 4 (expired card),
    /// 5 (card lost), 6 (suspended), 7 (merged); title 100 has copies 1000 (central) and 1001
    /// (gyotoku); title 200 one copy 2000 (central); title 300 is AV with copies 3000–3004 (central).
    pub fn new() -> Library {
        let holdings = Arc::new(RwLock::new(Holdings::new()));
        holdings.write().register_branches(["central", "gyotoku", "room"]).unwrap();
        let mut items = vec![
            copy(1000, 100, "central", "book"),
            copy(1001, 100, "gyotoku", "book"),
            copy(2000, 200, "central", "book"),
        ];
        items.extend((3000..3005).map(|item| copy(item, 300, "central", "av")));
        holdings.write().upsert_items(items).unwrap();
        let circulation = Circulation::new(holdings.clone());
        circulation.set_rules(rules()).unwrap();
        circulation.set_calendar(&calendar()).unwrap();
        let library = Library {
            circulation,
            holdings,
            next_seq: Cell::new(1),
            next_id: Cell::new(1),
            outbox: RefCell::new(Vec::new()),
        };
        library.upsert_patrons([
            patron(1, "adult", "central", PatronStatus::Active, "2028-03-31"),
            patron(2, "adult", "gyotoku", PatronStatus::Active, "2028-03-31"),
            patron(3, "child", "central", PatronStatus::Active, "2028-03-31"),
            patron(4, "adult", "central", PatronStatus::Active, "2026-03-31"),
            patron(5, "adult", "central", PatronStatus::CardLost, "2028-03-31"),
            patron(6, "adult", "central", PatronStatus::Suspended, "2028-03-31"),
            patron(7, "adult", "central", PatronStatus::Merged, "2028-03-31"),
        ]);
        library
    }

    pub fn add_items(&self, items: impl IntoIterator<Item = ItemHolding>) {
        self.holdings.write().upsert_items(items).unwrap();
    }

    pub fn item(&self, item_id: u64) -> ItemHolding {
        self.holdings.read().item(ItemId(item_id)).unwrap().clone()
    }

    pub fn seq(&self) -> u64 {
        let seq = self.next_seq.get();
        self.next_seq.set(seq + 1);
        seq
    }

    fn id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    pub fn apply(&self, events: Vec<CirculationEvent>) {
        self.circulation.apply_events(&events).unwrap();
        self.outbox.borrow_mut().extend(events);
    }

    pub fn upsert_patrons(&self, patrons: impl IntoIterator<Item = Patron>) {
        let events = patrons.into_iter().map(|patron| CirculationEvent::patron_upserted(self.seq(), &patron)).collect();
        self.apply(events);
    }

    pub fn checkout_request(&self, patron: u64, item: u64, branch: &str, today: &str) -> CheckoutRequest {
        CheckoutRequest {
            patron: PatronRef::Id(PatronId(patron)),
            item: ItemRef::Id(ItemId(item)),
            branch: branch.to_string(),
            today: date(today),
            staff_override: false,
            staffed: true,
        }
    }

    pub fn try_checkout(&self, patron: u64, item: u64, branch: &str, today: &str) -> Result<CheckoutDecision, Refusal> {
        self.circulation.decide_checkout(&self.checkout_request(patron, item, branch, today))
    }

    /// Checks out and commits; returns the new loan's id.
    pub fn checkout(&self, patron: u64, item: u64, branch: &str, today: &str) -> LoanId {
        let decision = self.try_checkout(patron, item, branch, today).unwrap();
        self.commit_checkout(&decision, branch)
    }

    pub fn commit_checkout(&self, decision: &CheckoutDecision, branch: &str) -> LoanId {
        let loan = Loan {
            loan_id: LoanId(self.id()),
            item_id: decision.item_id,
            patron_id: decision.patron_id,
            branch: branch.to_string(),
            due_on: decision.due_on,
            renewals: 0,
        };
        let mut events = vec![CirculationEvent::loan_opened(self.seq(), &loan)];
        if let Some(hold_id) = decision.fulfils_hold {
            events.push(CirculationEvent::HoldClosed { seq: self.seq(), hold_id });
        }
        if let Some(released) = &decision.releases_copy {
            events.extend(self.route_events(released.item_id, &released.next));
        }
        if decision.closes_transit {
            events.push(CirculationEvent::TransitClosed { seq: self.seq(), item_id: decision.item_id });
        }
        self.apply(events);
        loan.loan_id
    }

    pub fn try_renew(
        &self,
        item: u64,
        patron: Option<u64>,
        branch: &str,
        today: &str,
    ) -> Result<RenewalDecision, Refusal> {
        self.circulation.decide_renewal(&RenewalRequest {
            item: ItemRef::Id(ItemId(item)),
            patron_id: patron.map(PatronId),
            branch: branch.to_string(),
            today: date(today),
        })
    }

    pub fn commit_renewal(&self, decision: &RenewalDecision) {
        let loan = self.circulation.with_ledger(|ledger| ledger.loan(decision.loan_id).cloned()).unwrap();
        let renewed = Loan { due_on: decision.due_on, renewals: decision.renewals, ..loan };
        self.apply(vec![CirculationEvent::loan_opened(self.seq(), &renewed)]);
    }

    pub fn try_checkin(&self, item: u64, branch: &str, today: &str) -> Result<CheckinDecision, Refusal> {
        self.circulation.decide_checkin(&CheckinRequest {
            item: ItemRef::Id(ItemId(item)),
            branch: branch.to_string(),
            today: date(today),
        })
    }

    /// Checks in and commits; returns the decision.
    pub fn checkin(&self, item: u64, branch: &str, today: &str) -> CheckinDecision {
        let decision = self.try_checkin(item, branch, today).unwrap();
        let mut events = Vec::new();
        if let Some(loan_id) = decision.closes_loan {
            events.push(CirculationEvent::LoanClosed { seq: self.seq(), loan_id, item_id: decision.item_id });
        }
        if decision.closes_transit {
            events.push(CirculationEvent::TransitClosed { seq: self.seq(), item_id: decision.item_id });
        }
        events.extend(self.route_events(decision.item_id, &decision.outcome));
        self.apply(events);
        decision
    }

    /// The events that carry out an outcome for a copy.
    pub fn route_events(&self, item_id: ItemId, outcome: &CheckinOutcome) -> Vec<CirculationEvent> {
        let hold = |hold_id: HoldId| self.circulation.with_ledger(|ledger| ledger.hold(hold_id).cloned()).unwrap();
        match outcome {
            CheckinOutcome::Shelve => vec![],
            CheckinOutcome::TransitHome { to_branch } => vec![CirculationEvent::transit_opened(
                self.seq(),
                &Transit { item_id, to_branch: to_branch.clone(), for_hold: None },
            )],
            CheckinOutcome::HoldReady { hold_id, pickup_by, .. } => {
                let ready = Hold {
                    status: HoldStatus::Ready,
                    trapped_item_id: Some(item_id),
                    pickup_by: Some(*pickup_by),
                    ..hold(*hold_id)
                };
                vec![CirculationEvent::hold_upserted(self.seq(), &ready)]
            }
            CheckinOutcome::HoldTransit { hold_id, to_branch, .. } => {
                let travelling = Hold {
                    status: HoldStatus::InTransit,
                    trapped_item_id: Some(item_id),
                    pickup_by: None,
                    ..hold(*hold_id)
                };
                vec![
                    CirculationEvent::hold_upserted(self.seq(), &travelling),
                    CirculationEvent::transit_opened(
                        self.seq(),
                        &Transit { item_id, to_branch: to_branch.clone(), for_hold: Some(*hold_id) },
                    ),
                ]
            }
        }
    }

    pub fn hold_request(&self, patron: u64, bib: u64, pickup: &str, today: &str, placed_at: &str) -> HoldRequest {
        HoldRequest {
            patron: PatronRef::Id(PatronId(patron)),
            bib_id: BibId(bib),
            item_id: None,
            pickup_branch: pickup.to_string(),
            today: date(today),
            placed_at: placed_at.to_string(),
            not_before: None,
        }
    }

    pub fn try_hold(&self, patron: u64, bib: u64, pickup: &str, today: &str) -> Result<HoldDecision, Refusal> {
        self.circulation.decide_hold(&self.hold_request(patron, bib, pickup, today, &format!("{today}T10:00:00")))
    }

    /// Places a hold (decided and committed); `placed_at` orders the queue.
    pub fn place_hold(&self, patron: u64, bib: u64, pickup: &str, today: &str, placed_at: &str) -> HoldId {
        let request = self.hold_request(patron, bib, pickup, today, placed_at);
        let decision = self.circulation.decide_hold(&request).unwrap();
        self.commit_hold(&decision, placed_at)
    }

    pub fn commit_hold(&self, decision: &HoldDecision, placed_at: &str) -> HoldId {
        let hold = Hold {
            hold_id: HoldId(self.id()),
            patron_id: decision.patron_id,
            bib_id: decision.bib_id,
            item_id: decision.item_id,
            pickup_branch: decision.pickup_branch.clone(),
            placed_at: placed_at.to_string(),
            status: HoldStatus::Waiting,
            trapped_item_id: None,
            pickup_by: None,
            not_before: None,
        };
        self.apply(vec![CirculationEvent::hold_upserted(self.seq(), &hold)]);
        hold.hold_id
    }

    /// Runs the hold-shelf expiry as the service's minute job would, committing every decision.
    pub fn expire_holds(&self, today: &str) -> Vec<ExpiryDecision> {
        let decisions = self.circulation.expired_holds(date(today));
        for decision in &decisions {
            let mut events = vec![CirculationEvent::HoldClosed { seq: self.seq(), hold_id: decision.hold_id }];
            events.extend(self.route_events(decision.item_id, &decision.next));
            self.apply(events);
        }
        decisions
    }

    pub fn hold(&self, hold_id: HoldId) -> Option<Hold> {
        self.circulation.with_ledger(|ledger| ledger.hold(hold_id).cloned())
    }

    pub fn circulation_state(&self, item_id: u64) -> CirculationState {
        self.item(item_id).circulation
    }
}
