//! Properties of the circulation rules over generated calendars, queues and histories.

mod circulation_support;

use circulation_support::*;
use proptest::prelude::*;
use shoka_engine::circulation::*;
use shoka_engine::holdings::{BibId, ItemId};

/// A patron whose card outlives every generated date.
const LONG_LIVED: u64 = 30;

fn long_lived_patron() -> Patron {
    patron(LONG_LIVED, "adult", "central", PatronStatus::Active, "2199-12-31")
}

fn config(cases: u32) -> ProptestConfig {
    // Integration tests have no lib.rs beside them for proptest's regression files.
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn any_date() -> impl Strategy<Value = Date> {
    // 2000-01-01 .. 2099-12-31
    (10_957i32..47_481).prop_map(Date::from_days_since_epoch)
}

fn annual_closure() -> impl Strategy<Value = AnnualClosure> {
    (1u8..=12, 1u8..=28, 0i32..30).prop_map(|(month, day, length)| {
        let start = Date::from_ymd(2001, u32::from(month), u32::from(day)).unwrap();
        let end = start.add_days(length);
        AnnualClosure {
            from_month: month,
            from_day: day,
            to_month: end.month() as u8,
            to_day: end.day() as u8,
            reason: String::new(),
        }
    })
}

prop_compose! {
    /// A calendar that opens at least one weekday and closes at most three stretches of a month a year.
    fn branch_calendar()(
        weekly in proptest::sample::subsequence(vec![1u8, 2, 3, 4, 5, 6, 7], 0..=6),
        annual in proptest::collection::vec(annual_closure(), 0..3),
        closed_offsets in proptest::collection::vec(0i32..120, 0..10),
        open_offsets in proptest::collection::vec(0i32..120, 0..5),
        origin in any_date(),
    ) -> BranchCalendarDefinition {
        BranchCalendarDefinition {
            code: "central".into(),
            is_pickup_point: true,
            weekly_closures: weekly,
            annual_closures: annual,
            closed_days: closed_offsets.into_iter().map(|offset| origin.add_days(offset)).collect(),
            open_days: open_offsets.into_iter().map(|offset| origin.add_days(offset)).collect(),
        }
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// A due date is the first open day on or after today + loan days: never earlier, never on a
    /// closed day, and no open day is skipped.
    #[test]
    fn due_dates_fall_on_the_first_open_day(branch in branch_calendar(), today_offset in 0i32..120, loan_days in 1u16..60) {
        let library = Library::new();
        let today = branch.closed_days.first().copied().unwrap_or(date("2026-11-20")).add_days(today_offset);
        library.circulation.set_calendar(&CalendarDefinition { branches: vec![branch] }).unwrap();
        library.circulation.set_rules(vec![RuleRow { loan_days, ..rule(None, None, None) }]).unwrap();
        let request = CheckoutRequest { today, ..library.checkout_request(LONG_LIVED, 1000, "central", "2026-11-20") };
        library.upsert_patrons([long_lived_patron()]);
        let due_on = library.circulation.decide_checkout(&request).unwrap().due_on;
        let nominal = today.add_days(i32::from(loan_days));
        prop_assert!(due_on >= nominal);
        prop_assert!(library.circulation.is_open("central", due_on));
        let mut day = nominal;
        while day < due_on {
            prop_assert!(!library.circulation.is_open("central", day), "{} is open but was skipped", day);
            day = day.add_days(1);
        }
    }

    /// A loan whose nominal due date falls in 12/29–1/3 is due on 1/4, or on 1/5 when 1/4 is a Monday
    /// (Central closes on Mondays).
    #[test]
    fn the_year_end_closure_moves_due_dates_to_january_fourth(year in 2000i32..2100, into_closure in 0i32..6, loan_days in 7u16..30) {
        let library = Library::new();
        library.circulation.set_rules(vec![RuleRow { loan_days, ..rule(None, None, None) }]).unwrap();
        let nominal = Date::from_ymd(year, 12, 29).unwrap().add_days(into_closure);
        let today = nominal.add_days(-i32::from(loan_days));
        library.upsert_patrons([long_lived_patron()]);
        let request = CheckoutRequest { today, ..library.checkout_request(LONG_LIVED, 1000, "central", "2026-11-20") };
        let due_on = library.circulation.decide_checkout(&request).unwrap().due_on;
        let january_fourth = Date::from_ymd(year + 1, 1, 4).unwrap();
        let expected = if january_fourth.iso_weekday() == 1 { january_fourth.add_days(1) } else { january_fourth };
        prop_assert_eq!(due_on, expected);
    }

    /// Whatever the patron tries, loans never exceed the limit per material type nor the total, and the
    /// refusals name the limit that was reached.
    #[test]
    fn limits_per_material_type_and_in_total_hold(attempts in proptest::collection::vec((0u64..8, any::<bool>(), any::<bool>()), 1..40)) {
        let library = Library::new();
        let mut rows = rules();
        rows.iter_mut().for_each(|row| row.max_items_total = 5);
        library.circulation.set_rules(rows).unwrap();
        library.add_items((0..8).map(|n| copy(8000 + n, 800 + n, "central", "book")));
        let av = |n: u64| 3000 + n % 5;
        for (n, is_av, returning) in attempts {
            let item = if is_av { av(n) } else { 8000 + n };
            if returning {
                let _ = library.checkin(item, "central", "2026-11-20");
                continue;
            }
            let loans = library.circulation.with_ledger(|ledger| ledger.loans_of_patron(PatronId(1)).len());
            let av_loans = library.circulation.with_ledger(|ledger| {
                ledger.loans_of_patron(PatronId(1)).iter().filter(|loan| loan.item_id.0 / 1000 == 3).count()
            });
            match library.try_checkout(1, item, "central", "2026-11-20") {
                Ok(decision) => {
                    prop_assert!(loans < 5 && (!is_av || av_loans < 3));
                    library.commit_checkout(&decision, "central");
                }
                Err(Refusal::LimitReached { limit }) => prop_assert!(limit == 5 && loans == 5),
                Err(Refusal::TypeLimitReached { material_type, limit }) => {
                    prop_assert!(material_type == "av" && limit == 3 && av_loans == 3)
                }
                Err(Refusal::AlreadyOnLoanToPatron { .. }) => {}
                Err(other) => prop_assert!(false, "unexpected refusal {:?}", other),
            }
        }
    }

    /// A renewal is refused for holds exactly when another patron's waiting hold could take this copy:
    /// title-level, or item-level on this copy (not on the other copy, not once a copy is set aside).
    #[test]
    fn renewals_are_blocked_exactly_by_waiting_holds_on_the_copy(
        holds in proptest::collection::vec((0usize..4, 0u8..3, any::<bool>()), 0..5),
    ) {
        let library = Library::new();
        library.checkout(1, 1000, "central", "2026-11-20");
        library.upsert_patrons((10..14).map(|id| patron(id, "adult", "central", PatronStatus::Active, "2028-03-31")));
        let mut expected_waiting = 0u32;
        let mut trapped_once = false;
        for (n, (patron_index, level, trapped)) in holds.into_iter().enumerate() {
            let item_id = match level { 0 => None, 1 => Some(ItemId(1000)), _ => Some(ItemId(1001)) };
            let trap = trapped && !trapped_once && item_id != Some(ItemId(1000));
            trapped_once |= trap;
            let hold = Hold {
                hold_id: HoldId(100 + n as u64),
                patron_id: PatronId(10 + patron_index as u64),
                bib_id: BibId(100),
                item_id,
                pickup_branch: "central".into(),
                placed_at: format!("2026-11-20T10:0{n}"),
                status: if trap { HoldStatus::Ready } else { HoldStatus::Waiting },
                trapped_item_id: trap.then_some(ItemId(1001)),
                pickup_by: trap.then(|| date("2026-11-27")),
                not_before: None,
            };
            if !trap && item_id != Some(ItemId(1001)) {
                expected_waiting += 1;
            }
            library.apply(vec![CirculationEvent::hold_upserted(library.seq(), &hold)]);
        }
        let result = library.try_renew(1000, Some(1), "central", "2026-11-21");
        if expected_waiting > 0 {
            prop_assert_eq!(result.unwrap_err(), Refusal::RenewalBlockedByHold { item_id: ItemId(1000), waiting: expected_waiting });
        } else {
            prop_assert!(result.is_ok());
        }
    }

    /// Holds on a single copy are served first placed, first served (hold id breaking ties), skipping
    /// patrons who are suspended or whose hold is deferred; an expired hold passes the copy to the next.
    #[test]
    fn the_queue_is_fifo_and_expiry_passes_to_the_next_in_line(
        holds in proptest::collection::vec((0u8..4, any::<bool>(), 0u8..8), 1..7),
        insertion_order in any::<u64>(),
        expire in proptest::collection::vec(any::<bool>(), 7),
    ) {
        let library = Library::new();
        let mut records = Vec::new();
        for (n, (minute, deferred, standing)) in holds.iter().enumerate() {
            let patron_id = 20 + n as u64;
            let status = if *standing == 0 { PatronStatus::Suspended } else { PatronStatus::Active };
            library.upsert_patrons([patron(patron_id, "adult", "central", status, "2028-03-31")]);
            records.push(Hold {
                hold_id: HoldId(50 + n as u64),
                patron_id: PatronId(patron_id),
                bib_id: BibId(200),
                item_id: None,
                pickup_branch: "central".into(),
                placed_at: format!("2026-11-19T10:0{minute}"),
                status: HoldStatus::Waiting,
                trapped_item_id: None,
                pickup_by: None,
                not_before: deferred.then(|| date("2027-06-01")),
            });
        }
        let mut expected: Vec<(String, HoldId)> = records
            .iter()
            .zip(&holds)
            .filter(|(hold, (_, _, standing))| hold.not_before.is_none() && *standing != 0)
            .map(|(hold, _)| (hold.placed_at.clone(), hold.hold_id))
            .collect();
        expected.sort();
        let expected: Vec<HoldId> = expected.into_iter().map(|(_, hold_id)| hold_id).collect();
        // Events arrive in any order; the queue order comes from placed_at and the id.
        let mut shuffled = records.clone();
        let rotation = (insertion_order % shuffled.len() as u64) as usize;
        shuffled.rotate_left(rotation);
        if insertion_order % 2 == 1 { shuffled.reverse(); }
        library.apply(shuffled.iter().map(|hold| CirculationEvent::hold_upserted(library.seq(), hold)).collect());

        let mut served = Vec::new();
        let mut outcome = library.checkin(2000, "central", "2026-11-20").outcome;
        let mut today = date("2026-11-20");
        let mut round = 0;
        while let Some(hold_id) = outcome.hold_id() {
            served.push(hold_id);
            let patron_id = library.hold(hold_id).unwrap().patron_id;
            if expire[round % expire.len()] {
                today = today.add_days(30);
                let decisions = library.expire_holds(&today.to_string());
                prop_assert_eq!(decisions.len(), 1);
                prop_assert_eq!(decisions[0].hold_id, hold_id);
                outcome = decisions[0].next.clone();
            } else {
                let decision = library.try_checkout(patron_id.0, 2000, "central", &today.to_string()).unwrap();
                prop_assert_eq!(decision.fulfils_hold, Some(hold_id));
                library.commit_checkout(&decision, "central");
                outcome = library.checkin(2000, "central", &today.to_string()).outcome;
            }
            round += 1;
        }
        prop_assert_eq!(outcome, CheckinOutcome::Shelve);
        prop_assert_eq!(served, expected);
    }
}

/// Operations of a random day at the desk; refused ones simply do nothing.
#[derive(Debug, Clone)]
enum Operation {
    Checkout { patron: u64, item: u64, branch: bool },
    Checkin { item: u64, branch: bool },
    Renew { item: u64 },
    Hold { patron: u64, bib: u64, branch: bool },
    CancelHold { patron: u64 },
    Expire,
    ReissueCard { patron: u64 },
    NextDay,
}

const ITEMS: [u64; 8] = [1000, 1001, 2000, 3000, 3001, 3002, 3003, 3004];

fn operation() -> impl Strategy<Value = Operation> {
    let patron = 1u64..4;
    let item = proptest::sample::select(&ITEMS[..]);
    prop_oneof![
        (patron.clone(), item.clone(), any::<bool>()).prop_map(|(patron, item, branch)| Operation::Checkout {
            patron,
            item,
            branch
        }),
        (item.clone(), any::<bool>()).prop_map(|(item, branch)| Operation::Checkin { item, branch }),
        item.prop_map(|item| Operation::Renew { item }),
        (patron.clone(), proptest::sample::select(&[100u64, 200, 300][..]), any::<bool>())
            .prop_map(|(patron, bib, branch)| Operation::Hold { patron, bib, branch }),
        patron.clone().prop_map(|patron| Operation::CancelHold { patron }),
        Just(Operation::Expire),
        patron.prop_map(|patron| Operation::ReissueCard { patron }),
        Just(Operation::NextDay),
    ]
}

fn branch(flag: bool) -> &'static str {
    if flag {
        "central"
    } else {
        "gyotoku"
    }
}

/// Runs the operations against a library, committing each decision; returns the outbox.
fn run(library: &Library, operations: &[Operation]) {
    let mut today = date("2026-11-20");
    let mut reissued = 0;
    for operation in operations {
        let day = today.to_string();
        match operation {
            Operation::Checkout { patron, item, branch: flag } => {
                if let Ok(decision) = library.try_checkout(*patron, *item, branch(*flag), &day) {
                    library.commit_checkout(&decision, branch(*flag));
                }
            }
            Operation::Checkin { item, branch: flag } => {
                library.checkin(*item, branch(*flag), &day);
            }
            Operation::Renew { item } => {
                if let Ok(decision) = library.try_renew(*item, None, "central", &day) {
                    library.commit_renewal(&decision);
                }
            }
            Operation::Hold { patron, bib, branch: flag } => {
                if let Ok(decision) = library.try_hold(*patron, *bib, branch(*flag), &day) {
                    library.commit_hold(&decision, &format!("{day}T{:02}", library.seq() % 100));
                }
            }
            Operation::CancelHold { patron } => {
                let holds = library
                    .circulation
                    .with_ledger(|ledger| ledger.holds_of_patron(PatronId(*patron)).first().map(|hold| hold.hold_id));
                if let Some(hold_id) = holds {
                    let request = CancelHoldRequest { hold_id, patron_id: None, today };
                    let decision = library.circulation.decide_cancel_hold(&request).unwrap();
                    let mut events = vec![CirculationEvent::HoldClosed { seq: library.seq(), hold_id }];
                    if let (Some(item_id), Some(next)) = (decision.released_item, &decision.next) {
                        events.extend(library.route_events(item_id, next));
                    }
                    library.apply(events);
                }
            }
            Operation::Expire => {
                library.expire_holds(&day);
            }
            Operation::ReissueCard { patron: id } => {
                reissued += 1;
                let mut record =
                    library.circulation.with_ledger(|ledger| ledger.patron(PatronId(*id)).cloned()).unwrap();
                record.card = format!("R{id}-{reissued}");
                library.upsert_patrons([record]);
            }
            Operation::NextDay => today = today.add_days(3),
        }
    }
}

/// A small deterministic shuffle (xorshift), so that proptest only has to generate a seed.
fn shuffled_with_duplicates(events: &[CirculationEvent], mut seed: u64) -> Vec<CirculationEvent> {
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut out: Vec<CirculationEvent> = events.to_vec();
    for event in events {
        if next() % 3 == 0 {
            out.push(event.clone());
        }
    }
    for index in (1..out.len()).rev() {
        let other = (next() % (index as u64 + 1)) as usize;
        out.swap(index, other);
    }
    out
}

proptest! {
    #![proptest_config(config(96))]

    /// Applying a history's events twice, in any order, gives the state of applying them once in order:
    /// the same ledger and the same availability in the holdings.
    #[test]
    fn events_are_idempotent_and_order_safe(operations in proptest::collection::vec(operation(), 1..60), seed in 1u64..u64::MAX) {
        let original = Library::new();
        run(&original, &operations);
        let outbox = original.outbox.borrow().clone();
        let replica = Library::new();
        replica.circulation.reset(0);
        for chunk in shuffled_with_duplicates(&outbox, seed).chunks(7) {
            replica.circulation.apply_events(chunk).unwrap();
        }
        prop_assert_eq!(replica.circulation.snapshot(), original.circulation.snapshot());
        for item in ITEMS {
            prop_assert_eq!(replica.circulation_state(item), original.circulation_state(item), "item {}", item);
        }
        // Applying the whole outbox again changes nothing.
        prop_assert_eq!(replica.circulation.apply_events(&outbox).unwrap(), 0);
    }
}
