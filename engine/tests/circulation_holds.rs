//! Checkin routing, holds (placing, cancelling, pickup change, expiry), targeting and pick lists.

mod circulation_support;

use circulation_support::*;
use shoka_engine::circulation::*;
use shoka_engine::holdings::{BibId, CirculationState, ItemId, ItemStatus, LoanPolicy};

const FRIDAY: &str = "2026-11-20";

#[test]
fn a_return_at_home_is_shelved_and_elsewhere_goes_home() {
    let library = Library::new();
    let loan_id = library.checkout(1, 1000, "central", FRIDAY);
    let at_home = library.try_checkin(1000, "central", "2026-11-21").unwrap();
    assert_eq!(
        (at_home.closes_loan, at_home.borrower, at_home.closes_transit),
        (Some(loan_id), Some(PatronId(1)), false)
    );
    assert_eq!(at_home.outcome, CheckinOutcome::Shelve);
    let elsewhere = library.checkin(1000, "gyotoku", "2026-11-21");
    assert_eq!(elsewhere.outcome, CheckinOutcome::TransitHome { to_branch: "central".into() });
    assert_eq!(
        library.circulation_state(1000),
        CirculationState::InTransit { to_branch: "central".into(), for_hold: false }
    );
    let arrival = library.checkin(1000, "central", "2026-11-22");
    assert_eq!((arrival.closes_loan, arrival.closes_transit, arrival.outcome), (None, true, CheckinOutcome::Shelve));
    assert_eq!(library.circulation_state(1000), CirculationState::OnShelf);
    assert_eq!(library.try_checkin(4242, "central", FRIDAY).unwrap_err().code(), "unknown_item");
}

#[test]
fn a_return_traps_the_first_hold_here_or_sends_it_to_the_pickup_branch() {
    let library = Library::new();
    library.checkout(1, 2000, "central", FRIDAY);
    let first = library.place_hold(2, 200, "gyotoku", FRIDAY, "2026-11-20T10:00:00");
    library.place_hold(3, 200, "central", FRIDAY, "2026-11-20T11:00:00");
    let checkin = library.checkin(2000, "central", "2026-11-24");
    assert_eq!(
        checkin.outcome,
        CheckinOutcome::HoldTransit { hold_id: first, patron_id: PatronId(2), to_branch: "gyotoku".into() }
    );
    assert_eq!(
        library.circulation_state(2000),
        CirculationState::InTransit { to_branch: "gyotoku".into(), for_hold: true }
    );
    // Arrival on Tuesday: 7 days later is Tuesday 12/1, when Gyotoku is closed, so Wednesday.
    let arrival = library.checkin(2000, "gyotoku", "2026-11-24");
    assert_eq!(
        arrival.outcome,
        CheckinOutcome::HoldReady { hold_id: first, patron_id: PatronId(2), pickup_by: date("2026-12-02") }
    );
    assert!(arrival.closes_transit);
    assert_eq!(library.circulation_state(2000), CirculationState::OnHoldShelf { pickup_branch: "gyotoku".into() });
    // Scanning it on the hold shelf again keeps the deadline.
    let again = library.try_checkin(2000, "gyotoku", "2026-11-25").unwrap();
    assert_eq!(again.outcome, arrival.outcome);
}

#[test]
fn a_returned_copy_fills_the_hold_before_a_copy_on_the_same_shelf_does() {
    let library = Library::new();
    library.add_items([copy(1002, 100, "central", "book")]);
    library.checkout(1, 1002, "central", FRIDAY);
    // Copy 1000 stands on Central's shelf (on its pick list for the hold) when 1002 comes back there.
    let hold_id = library.place_hold(2, 100, "central", FRIDAY, "2026-11-20T10:00:00");
    let checkin = library.checkin(1002, "central", "2026-11-24");
    assert!(
        matches!(checkin.outcome, CheckinOutcome::HoldReady { hold_id: trapped, .. } if trapped == hold_id),
        "{:?}",
        checkin.outcome
    );
    assert_eq!(library.circulation_state(1000), CirculationState::OnShelf);
}

#[test]
fn deferred_holds_and_blocked_patrons_are_passed_over() {
    let library = Library::new();
    library.checkout(1, 2000, "central", FRIDAY);
    let deferred = library.place_hold(2, 200, "central", FRIDAY, "2026-11-20T09:00:00");
    let mut hold = library.hold(deferred).unwrap();
    hold.not_before = Some(date("2026-12-10"));
    library.apply(vec![CirculationEvent::hold_upserted(library.seq(), &hold)]);
    let suspended_later = library.place_hold(3, 200, "central", FRIDAY, "2026-11-20T10:00:00");
    library.upsert_patrons([patron(3, "child", "central", PatronStatus::Suspended, "2028-03-31")]);
    library.upsert_patrons([patron(8, "adult", "central", PatronStatus::Active, "2028-03-31")]);
    let eligible = library.place_hold(8, 200, "central", FRIDAY, "2026-11-20T11:00:00");
    let checkin = library.try_checkin(2000, "central", "2026-11-21").unwrap();
    assert_eq!(checkin.outcome.hold_id(), Some(eligible));
    assert_ne!(checkin.outcome.hold_id(), Some(suspended_later));
    // From 12/10 the deferred hold, first in line, gets it.
    assert_eq!(library.try_checkin(2000, "central", "2026-12-10").unwrap().outcome.hold_id(), Some(deferred));
}

#[test]
fn item_level_holds_take_only_their_copy() {
    let library = Library::new();
    library.checkout(1, 1000, "central", FRIDAY);
    let request = HoldRequest {
        item_id: Some(ItemId(1001)),
        ..library.hold_request(2, 100, "central", FRIDAY, "2026-11-20T10:00:00")
    };
    let decision = library.circulation.decide_hold(&request).unwrap();
    assert_eq!(decision.target, Some(PickTarget { item_id: ItemId(1001), branch: "gyotoku".into() }));
    library.commit_hold(&decision, "2026-11-20T10:00:00");
    assert_eq!(library.try_checkin(1000, "central", "2026-11-21").unwrap().outcome, CheckinOutcome::Shelve);
}

#[test]
fn a_copy_that_may_not_leave_never_traps_a_hold() {
    let library = Library::new();
    library.checkout(1, 2000, "central", FRIDAY);
    library.place_hold(2, 200, "central", FRIDAY, "2026-11-20T10:00:00");
    library.add_items([shoka_engine::holdings::ItemHolding {
        loan_policy: LoanPolicy::InLibraryOnly,
        ..copy(2001, 200, "central", "book")
    }]);
    assert_eq!(library.try_checkin(2001, "central", FRIDAY).unwrap().outcome, CheckinOutcome::Shelve);
}

#[test]
fn a_copy_found_on_the_shelf_is_routed_too() {
    let library = Library::new();
    let hold_id = library.place_hold(2, 200, "gyotoku", FRIDAY, "2026-11-20T10:00:00");
    let checkin = library.try_checkin(2000, "central", FRIDAY).unwrap();
    assert_eq!((checkin.closes_loan, checkin.closes_transit), (None, false));
    assert_eq!(checkin.outcome.hold_id(), Some(hold_id));
}

#[test]
fn placing_a_hold_targets_the_best_free_copy() {
    let library = Library::new();
    let at_pickup = library.try_hold(2, 100, "gyotoku", FRIDAY).unwrap();
    assert_eq!(at_pickup.target, Some(PickTarget { item_id: ItemId(1001), branch: "gyotoku".into() }));
    assert_eq!(at_pickup.material_type, "book");
    // Patron 1's home is central: with no copy at the pickup branch, the home copy comes first.
    library.checkout(3, 1001, "gyotoku", FRIDAY);
    let home = library.try_hold(1, 100, "gyotoku", FRIDAY).unwrap();
    assert_eq!(home.target, Some(PickTarget { item_id: ItemId(1000), branch: "central".into() }));
    // A copy claimed by a hold ahead in the queue is not offered again.
    library.place_hold(2, 100, "gyotoku", FRIDAY, "2026-11-20T09:00:00");
    assert_eq!(library.try_hold(1, 100, "gyotoku", FRIDAY).unwrap().target, None);
}

#[test]
fn hold_refusals() {
    let library = Library::new();
    let refuse = |patron, bib, pickup: &str| library.try_hold(patron, bib, pickup, FRIDAY).unwrap_err();
    assert_eq!(refuse(99, 100, "central").code(), "unknown_patron");
    assert_eq!(refuse(4, 100, "central").code(), "card_expired");
    assert_eq!(refuse(5, 100, "central").code(), "card_lost");
    assert_eq!(refuse(6, 100, "central").code(), "patron_suspended");
    assert_eq!(refuse(7, 100, "central").code(), "patron_merged");
    assert_eq!(refuse(1, 100, "room"), Refusal::NotPickupPoint { branch: "room".into() });
    assert_eq!(refuse(1, 100, "nowhere"), Refusal::NotPickupPoint { branch: "nowhere".into() });
    assert_eq!(refuse(1, 999, "central"), Refusal::NoCopies { bib_id: BibId(999) });
    library.add_items([
        shoka_engine::holdings::ItemHolding { status: ItemStatus::Lost, ..copy(6000, 600, "central", "book") },
        copy(7000, 700, "central", "ref"),
    ]);
    assert_eq!(refuse(1, 600, "central"), Refusal::NoCopies { bib_id: BibId(600) });
    assert_eq!(refuse(1, 700, "central"), Refusal::HoldsNotAllowed { material_type: "ref".into() });
    let item_level =
        HoldRequest { item_id: Some(ItemId(2000)), ..library.hold_request(1, 100, "central", FRIDAY, "t") };
    assert_eq!(
        library.circulation.decide_hold(&item_level).unwrap_err(),
        Refusal::ItemNotInRecord { item_id: ItemId(2000), bib_id: BibId(100) }
    );
    let unknown_item = HoldRequest { item_id: Some(ItemId(4242)), ..item_level };
    assert_eq!(library.circulation.decide_hold(&unknown_item).unwrap_err().code(), "unknown_item");

    let hold_id = library.place_hold(1, 100, "central", FRIDAY, "2026-11-20T10:00:00");
    assert_eq!(refuse(1, 100, "central"), Refusal::HoldExists { hold_id });
    library.checkout(1, 2000, "central", FRIDAY);
    assert_eq!(
        refuse(1, 200, "central"),
        Refusal::AlreadyBorrowed { item_id: ItemId(2000), due_on: date("2026-12-04") }
    );
    let mut rows = rules();
    rows.iter_mut().for_each(|row| row.max_holds = 1);
    library.circulation.set_rules(rows).unwrap();
    assert_eq!(refuse(1, 300, "central"), Refusal::HoldLimitReached { max: 1 });
    library.circulation.set_rules(vec![rule(Some("gyotoku"), None, None)]).unwrap();
    assert_eq!(refuse(2, 300, "central").code(), "no_rule");
}

#[test]
fn overdue_patrons_cannot_place_holds() {
    let library = Library::new();
    library.checkout(1, 2000, "central", "2026-11-01");
    assert_eq!(library.try_hold(1, 100, "central", FRIDAY).unwrap_err(), Refusal::OverdueBlock { count: 1 });
}

#[test]
fn cancelling_a_ready_hold_passes_the_copy_on() {
    let library = Library::new();
    library.checkout(1, 2000, "central", FRIDAY);
    let first = library.place_hold(2, 200, "central", FRIDAY, "2026-11-20T10:00:00");
    let second = library.place_hold(3, 200, "gyotoku", FRIDAY, "2026-11-20T11:00:00");
    library.checkin(2000, "central", "2026-11-21");
    let cancel = |hold_id, patron_id: Option<u64>| {
        library.circulation.decide_cancel_hold(&CancelHoldRequest {
            hold_id,
            patron_id: patron_id.map(PatronId),
            today: date("2026-11-22"),
        })
    };
    assert_eq!(cancel(HoldId(4242), None).unwrap_err(), Refusal::UnknownHold { hold_id: HoldId(4242) });
    assert_eq!(cancel(first, Some(3)).unwrap_err(), Refusal::NotYourHold { hold_id: first });
    let decision = cancel(first, Some(2)).unwrap();
    assert_eq!((decision.status, decision.released_item), (HoldStatus::Ready, Some(ItemId(2000))));
    assert_eq!(
        decision.next,
        Some(CheckinOutcome::HoldTransit { hold_id: second, patron_id: PatronId(3), to_branch: "gyotoku".into() })
    );
    // A waiting hold releases nothing.
    let waiting = cancel(second, None).unwrap();
    assert_eq!((waiting.released_item, waiting.next), (None, None));
}

#[test]
fn cancelling_the_last_hold_sends_the_copy_home() {
    let library = Library::new();
    library.checkout(1, 2000, "central", FRIDAY);
    let hold_id = library.place_hold(2, 200, "gyotoku", FRIDAY, "2026-11-20T10:00:00");
    library.checkin(2000, "central", "2026-11-21");
    // In transit: the copy goes on and is decided where it arrives.
    let in_transit = library
        .circulation
        .decide_cancel_hold(&CancelHoldRequest { hold_id, patron_id: None, today: date("2026-11-21") })
        .unwrap();
    assert_eq!((in_transit.status, in_transit.next), (HoldStatus::InTransit, None));
    library.checkin(2000, "gyotoku", "2026-11-22");
    let ready = library
        .circulation
        .decide_cancel_hold(&CancelHoldRequest { hold_id, patron_id: None, today: date("2026-11-22") })
        .unwrap();
    assert_eq!(ready.next, Some(CheckinOutcome::TransitHome { to_branch: "central".into() }));
}

#[test]
fn pickup_changes_only_while_waiting() {
    let library = Library::new();
    library.checkout(1, 2000, "central", FRIDAY);
    let hold_id = library.place_hold(2, 200, "central", FRIDAY, "2026-11-20T10:00:00");
    let change = |patron_id: Option<u64>, branch: &str| {
        library.circulation.decide_pickup_change(&PickupChangeRequest {
            hold_id,
            patron_id: patron_id.map(PatronId),
            pickup_branch: branch.into(),
        })
    };
    assert_eq!(change(Some(1), "gyotoku").unwrap_err(), Refusal::NotYourHold { hold_id });
    assert_eq!(change(Some(2), "room").unwrap_err(), Refusal::NotPickupPoint { branch: "room".into() });
    assert_eq!(change(Some(2), "gyotoku").unwrap().pickup_branch, "gyotoku");
    library.checkin(2000, "central", "2026-11-21");
    assert_eq!(change(None, "gyotoku").unwrap_err(), Refusal::HoldNotWaiting { hold_id, status: HoldStatus::Ready });
}

#[test]
fn expiry_passes_the_copy_to_the_next_in_line_once() {
    let library = Library::new();
    library.checkout(1, 2000, "central", FRIDAY);
    let first = library.place_hold(2, 200, "central", FRIDAY, "2026-11-20T10:00:00");
    let second = library.place_hold(3, 200, "central", FRIDAY, "2026-11-20T11:00:00");
    library.checkin(2000, "central", "2026-11-21");
    let pickup_by = library.hold(first).unwrap().pickup_by.unwrap();
    assert_eq!(pickup_by, date("2026-11-28"));
    assert!(library.circulation.expired_holds(pickup_by).is_empty(), "the last pickup day is still valid");
    let decisions = library.expire_holds("2026-11-29");
    assert_eq!(decisions.len(), 1);
    assert_eq!((decisions[0].hold_id, decisions[0].item_id), (first, ItemId(2000)));
    // 11/29 + 7 = 12/6, a Sunday (open).
    assert_eq!(
        decisions[0].next,
        CheckinOutcome::HoldReady { hold_id: second, patron_id: PatronId(3), pickup_by: date("2026-12-06") }
    );
    assert!(library.hold(first).is_none());
    assert_eq!(library.hold(second).unwrap().status, HoldStatus::Ready);
    assert!(library.circulation.expired_holds(date("2026-11-30")).is_empty());
    let last = library.expire_holds("2026-12-07");
    assert_eq!(last[0].next, CheckinOutcome::Shelve);
    assert_eq!(library.circulation_state(2000), CirculationState::OnShelf);
}

#[test]
fn two_copies_expiring_together_do_not_go_to_the_same_hold() {
    let library = Library::new();
    library.checkout(1, 1000, "central", FRIDAY);
    library.checkout(3, 1001, "gyotoku", FRIDAY);
    let a = library.place_hold(2, 100, "central", FRIDAY, "2026-11-20T10:00:00");
    library.upsert_patrons([patron(8, "adult", "central", PatronStatus::Active, "2028-03-31")]);
    let b = library.place_hold(8, 100, "central", FRIDAY, "2026-11-20T11:00:00");
    library.upsert_patrons([patron(9, "adult", "central", PatronStatus::Active, "2028-03-31")]);
    let c = library.place_hold(9, 100, "central", FRIDAY, "2026-11-20T12:00:00");
    library.checkin(1000, "central", "2026-11-21");
    library.checkin(1001, "central", "2026-11-21");
    assert_eq!(library.hold(a).unwrap().status, HoldStatus::Ready);
    assert_eq!(library.hold(b).unwrap().status, HoldStatus::Ready);
    let decisions = library.circulation.expired_holds(date("2026-12-01"));
    let next: Vec<Option<HoldId>> = decisions.iter().map(|decision| decision.next.hold_id()).collect();
    assert_eq!(next, vec![Some(c), None]);
}

#[test]
fn pick_lists_assign_each_copy_once_preferring_the_pickup_branch() {
    let library = Library::new();
    library.upsert_patrons([patron(8, "adult", "central", PatronStatus::Active, "2028-03-31")]);
    // Title 100 has copies at central and gyotoku; the first hold picks up at central, the second at
    // gyotoku: each gets the copy at its own pickup branch, none travels.
    let central_hold = library.place_hold(8, 100, "central", FRIDAY, "2026-11-20T10:00:00");
    let gyotoku_hold = library.place_hold(2, 100, "gyotoku", FRIDAY, "2026-11-20T11:00:00");
    // Title 300 (five AV copies at central): two holds picking up at gyotoku.
    let av_first = library.place_hold(2, 300, "gyotoku", FRIDAY, "2026-11-20T09:00:00");
    let av_second = library.place_hold(8, 300, "gyotoku", FRIDAY, "2026-11-20T12:00:00");
    let central = library.circulation.pick_list("central", Some(date(FRIDAY)));
    let lines: Vec<(HoldId, ItemId)> = central.iter().map(|entry| (entry.hold_id, entry.item_id)).collect();
    assert_eq!(lines, vec![(av_first, ItemId(3000)), (central_hold, ItemId(1000)), (av_second, ItemId(3001))]);
    assert_eq!(central[0].barcode, "B03000");
    assert_eq!(central[0].pickup_branch, "gyotoku");
    let gyotoku = library.circulation.pick_list("gyotoku", Some(date(FRIDAY)));
    assert_eq!(
        gyotoku.iter().map(|entry| (entry.hold_id, entry.item_id)).collect::<Vec<_>>(),
        vec![(gyotoku_hold, ItemId(1001))]
    );
    // A single copy and two holds: only the first in line is on the list.
    library.upsert_patrons([patron(9, "adult", "gyotoku", PatronStatus::Active, "2028-03-31")]);
    let first = library.place_hold(9, 200, "central", FRIDAY, "2026-11-20T08:00:00");
    library.place_hold(3, 200, "central", FRIDAY, "2026-11-20T08:30:00");
    let central = library.circulation.pick_list("central", None);
    assert_eq!(
        central.iter().filter(|entry| entry.bib_id == BibId(200)).map(|entry| entry.hold_id).collect::<Vec<_>>(),
        vec![first]
    );
}
