//! Checkout and renewal: every refusal in its place in the order, due dates, limits and warnings.

mod circulation_support;

use circulation_support::*;
use shoka_engine::circulation::*;
use shoka_engine::holdings::{ItemId, ItemStatus, LoanPolicy};

const FRIDAY: &str = "2026-11-20";

#[test]
fn a_checkout_lends_for_the_rule_s_days() {
    let library = Library::new();
    let decision = library.try_checkout(1, 1000, "central", FRIDAY).unwrap();
    assert_eq!(decision.due_on, date("2026-12-04"));
    assert_eq!((decision.item_id, decision.patron_id, decision.bib_id.0), (ItemId(1000), PatronId(1), 100));
    assert_eq!(decision.material_type, "book");
    assert_eq!(decision.fulfils_hold, None);
    assert!(decision.warnings.is_empty(), "{:?}", decision.warnings);
}

#[test]
fn a_due_date_on_a_closed_monday_moves_to_tuesday_with_a_warning() {
    let library = Library::new();
    let decision = library.try_checkout(1, 1000, "central", "2026-11-16").unwrap();
    assert_eq!(decision.due_on, date("2026-12-01"));
    assert_eq!(
        decision.warnings[0].warning,
        Warning::DueDateMovedForClosure { nominal_due_on: date("2026-11-30"), due_on: date("2026-12-01") }
    );
    assert!(decision.warnings[0].message_ja.contains("休館日"));
}

#[test]
fn patrons_and_items_by_card_and_barcode() {
    let library = Library::new();
    let request = CheckoutRequest {
        patron: PatronRef::Card("P0002".into()),
        item: ItemRef::Barcode("B01001".into()),
        branch: "gyotoku".into(),
        today: date(FRIDAY),
        staff_override: false,
        staffed: true,
    };
    let decision = library.circulation.decide_checkout(&request).unwrap();
    assert_eq!((decision.patron_id, decision.item_id), (PatronId(2), ItemId(1001)));
}

#[test]
fn patron_refusals_in_order() {
    let library = Library::new();
    let refuse = |patron| library.try_checkout(patron, 1000, "central", FRIDAY).unwrap_err();
    assert_eq!(refuse(99), Refusal::UnknownPatron { patron_id: Some(PatronId(99)), card: None });
    assert_eq!(refuse(4), Refusal::CardExpired { expires_on: date("2026-03-31") });
    assert_eq!(refuse(5), Refusal::CardLost { card: "P0005".into() });
    assert_eq!(refuse(6), Refusal::PatronSuspended { patron_id: PatronId(6) });
    assert_eq!(refuse(7), Refusal::PatronMerged { patron_id: PatronId(7) });
    let by_card = CheckoutRequest {
        patron: PatronRef::Card("NOPE".into()),
        ..library.checkout_request(1, 1000, "central", FRIDAY)
    };
    assert_eq!(
        library.circulation.decide_checkout(&by_card).unwrap_err(),
        Refusal::UnknownPatron { patron_id: None, card: Some("NOPE".into()) }
    );
    // A lost card is refused before anything about the item is looked at.
    assert_eq!(library.try_checkout(5, 424242, "central", FRIDAY).unwrap_err().code(), "card_lost");
}

#[test]
fn overdue_loans_block_further_loans() {
    let library = Library::new();
    library.checkout(1, 2000, "central", "2026-11-01");
    library.checkout(1, 3000, "central", "2026-11-01");
    assert_eq!(library.try_checkout(1, 1000, "central", "2026-11-09").unwrap_err(), Refusal::OverdueBlock { count: 1 });
    assert_eq!(library.try_checkout(1, 1000, "central", FRIDAY).unwrap_err(), Refusal::OverdueBlock { count: 2 });
    assert!(library.try_checkout(1, 1000, "central", "2026-11-08").is_ok(), "due today is not overdue");
}

#[test]
fn item_refusals() {
    let library = Library::new();
    let mut items = Vec::new();
    for (id, status) in [(5001, ItemStatus::Lost), (5002, ItemStatus::Missing), (5003, ItemStatus::Withdrawn)] {
        items.push(shoka_engine::holdings::ItemHolding { status, ..copy(id, 500, "central", "book") });
    }
    for (id, status) in [(5004, ItemStatus::InProcess), (5005, ItemStatus::Damaged)] {
        items.push(shoka_engine::holdings::ItemHolding { status, ..copy(id, 500, "central", "book") });
    }
    items.push(shoka_engine::holdings::ItemHolding {
        loan_policy: LoanPolicy::InLibraryOnly,
        ..copy(5006, 500, "central", "book")
    });
    items.push(shoka_engine::holdings::ItemHolding {
        loan_policy: LoanPolicy::NotLoanable,
        ..copy(5007, 500, "central", "book")
    });
    items.push(copy(5008, 500, "central", "ref"));
    library.add_items(items);
    let refuse = |item| library.try_checkout(1, item, "central", FRIDAY).unwrap_err();
    assert_eq!(refuse(5999), Refusal::UnknownItem { item_id: Some(ItemId(5999)), barcode: None });
    assert_eq!(refuse(5001), Refusal::ItemUnavailable { item_id: ItemId(5001), status: ItemStatus::Lost });
    assert_eq!(refuse(5002), Refusal::ItemUnavailable { item_id: ItemId(5002), status: ItemStatus::Missing });
    assert_eq!(refuse(5003), Refusal::ItemUnavailable { item_id: ItemId(5003), status: ItemStatus::Withdrawn });
    assert_eq!(refuse(5004), Refusal::ItemNotReady { item_id: ItemId(5004), status: ItemStatus::InProcess });
    assert_eq!(refuse(5005), Refusal::ItemNotReady { item_id: ItemId(5005), status: ItemStatus::Damaged });
    assert_eq!(refuse(5006), Refusal::InLibraryOnly { item_id: ItemId(5006) });
    assert_eq!(refuse(5007), Refusal::NotLoanable { item_id: ItemId(5007) });
    assert_eq!(refuse(5008), Refusal::NotLoanable { item_id: ItemId(5008) }, "a rule with 0 loan days");
    assert!(refuse(5006).message_ja().contains("館内閲覧のみ"));
}

#[test]
fn a_copy_already_lent() {
    let library = Library::new();
    library.checkout(1, 1000, "central", FRIDAY);
    let due_on = date("2026-12-04");
    assert_eq!(
        library.try_checkout(1, 1000, "central", FRIDAY).unwrap_err(),
        Refusal::AlreadyOnLoanToPatron { item_id: ItemId(1000), due_on }
    );
    assert_eq!(
        library.try_checkout(2, 1000, "central", FRIDAY).unwrap_err(),
        Refusal::AlreadyOnLoan { item_id: ItemId(1000), due_on }
    );
}

#[test]
fn a_copy_trapped_for_another_patron_is_refused_and_for_this_one_fulfils_the_hold() {
    let library = Library::new();
    library.checkout(2, 2000, "central", FRIDAY);
    let hold_id = library.place_hold(1, 200, "central", FRIDAY, "2026-11-20T11:00:00");
    let checkin = library.checkin(2000, "central", "2026-11-21");
    assert!(matches!(checkin.outcome, CheckinOutcome::HoldReady { hold_id: trapped, .. } if trapped == hold_id));
    assert_eq!(
        library.try_checkout(3, 2000, "central", "2026-11-21").unwrap_err(),
        Refusal::OnHoldForAnother { item_id: ItemId(2000), hold_id }
    );
    let decision = library.try_checkout(1, 2000, "central", "2026-11-21").unwrap();
    assert_eq!(decision.fulfils_hold, Some(hold_id));
    library.commit_checkout(&decision, "central");
    assert!(library.hold(hold_id).is_none());
}

#[test]
fn holds_that_outnumber_the_other_free_copies_reserve_the_copy() {
    let library = Library::new();
    // One waiting hold on title 100, whose two copies are both on the shelf: one may go.
    library.place_hold(2, 100, "gyotoku", FRIDAY, "2026-11-20T09:00:00");
    assert!(library.try_checkout(1, 1000, "central", FRIDAY).is_ok());
    // Title 200 has one copy: the waiting hold needs it.
    library.place_hold(2, 200, "gyotoku", FRIDAY, "2026-11-20T09:00:00");
    let refusal = library.try_checkout(1, 2000, "central", FRIDAY).unwrap_err();
    assert_eq!(refusal, Refusal::ReservedForOthers { item_id: ItemId(2000), waiting: 1 });
    let overridden = CheckoutRequest { staff_override: true, ..library.checkout_request(1, 2000, "central", FRIDAY) };
    let decision = library.circulation.decide_checkout(&overridden).unwrap();
    assert_eq!(decision.warnings[0].warning, Warning::ReservationOverridden { waiting: 1 });
    // The patron who holds the title may take the copy from the shelf; it fulfils the hold.
    let own = library.try_checkout(2, 2000, "central", FRIDAY).unwrap();
    assert!(own.fulfils_hold.is_some());
}

#[test]
fn the_first_in_line_may_take_the_copy_from_the_shelf_and_those_behind_wait_for_them() {
    let library = Library::new();
    // Title 200 has one copy, on the shelf; patron 1 asked first, patron 2 after.
    let first = library.place_hold(1, 200, "central", FRIDAY, "2026-11-20T09:00:00");
    library.place_hold(2, 200, "central", FRIDAY, "2026-11-20T10:00:00");
    let decision = library.try_checkout(1, 2000, "central", FRIDAY).unwrap();
    assert_eq!(decision.fulfils_hold, Some(first));
    assert!(decision.warnings.is_empty(), "{:?}", decision.warnings);
    // The second in line would take it from the first, and a patron with no hold from both.
    assert_eq!(
        library.try_checkout(2, 2000, "central", FRIDAY).unwrap_err(),
        Refusal::ReservedForOthers { item_id: ItemId(2000), waiting: 1 }
    );
    assert_eq!(
        library.try_checkout(3, 2000, "central", FRIDAY).unwrap_err(),
        Refusal::ReservedForOthers { item_id: ItemId(2000), waiting: 2 }
    );
}

#[test]
fn a_copy_an_item_level_hold_waits_for_is_not_free_for_the_title_s_holds() {
    let library = Library::new();
    // Title 100's copies 1000 and 1001 are both on the shelf: patron 2 asked for 1001 itself, then
    // patron 3 for the title. 1001 is patron 2's, so 1000 is the only copy left for patron 3.
    let request = HoldRequest {
        item_id: Some(ItemId(1001)),
        ..library.hold_request(2, 100, "gyotoku", FRIDAY, "2026-11-20T09:00:00")
    };
    let decision = library.circulation.decide_hold(&request).unwrap();
    library.commit_hold(&decision, "2026-11-20T09:00:00");
    library.place_hold(3, 100, "central", FRIDAY, "2026-11-20T10:00:00");
    assert_eq!(
        library.try_checkout(1, 1000, "central", FRIDAY).unwrap_err(),
        Refusal::ReservedForOthers { item_id: ItemId(1000), waiting: 1 }
    );
    // With a third copy on the shelf, one copy may go.
    library.add_items([copy(1002, 100, "central", "book")]);
    assert!(library.try_checkout(1, 1000, "central", FRIDAY).is_ok());
}

#[test]
fn no_rule_names_the_triple() {
    let library = Library::new();
    library.circulation.set_rules(vec![rule(Some("central"), None, None)]).unwrap();
    assert_eq!(
        library.try_checkout(1, 1001, "gyotoku", FRIDAY).unwrap_err(),
        Refusal::NoRule {
            branch: "gyotoku".into(),
            patron_category: "adult".into(),
            material_type: Some("book".into())
        }
    );
}

#[test]
fn total_limit_and_type_limit() {
    let library = Library::new();
    for item in 3000..3003 {
        library.checkout(1, item, "central", FRIDAY);
    }
    assert_eq!(
        library.try_checkout(1, 3003, "central", FRIDAY).unwrap_err(),
        Refusal::TypeLimitReached { material_type: "av".into(), limit: 3 }
    );
    assert!(library.try_checkout(1, 1000, "central", FRIDAY).is_ok(), "books have their own count");
    let mut rows = rules();
    rows[0].max_items_total = 3;
    library.circulation.set_rules(rows).unwrap();
    assert_eq!(library.try_checkout(1, 1000, "central", FRIDAY).unwrap_err(), Refusal::LimitReached { limit: 3 });
    assert_eq!(Refusal::LimitReached { limit: 3 }.message_ja(), "貸出上限（3点）に達しています。");
}

#[test]
fn checking_out_a_copy_in_transit_closes_the_transit() {
    let library = Library::new();
    library.checkout(1, 1000, "central", FRIDAY);
    let checkin = library.checkin(1000, "gyotoku", "2026-11-21");
    assert_eq!(checkin.outcome, CheckinOutcome::TransitHome { to_branch: "central".into() });
    let decision = library.try_checkout(2, 1000, "gyotoku", "2026-11-21").unwrap();
    assert!(decision.closes_transit);
}

#[test]
fn warnings_for_an_expiring_card_and_holds_ready() {
    let library = Library::new();
    library.upsert_patrons([patron(8, "adult", "central", PatronStatus::Active, "2026-12-01")]);
    let decision = library.try_checkout(8, 1000, "central", FRIDAY).unwrap();
    assert!(decision.warnings.iter().any(|w| w.warning == Warning::CardExpiresSoon { expires_on: date("2026-12-01") }));
    library.checkout(2, 2000, "central", FRIDAY);
    library.place_hold(8, 200, "central", FRIDAY, "2026-11-20T12:00:00");
    library.checkin(2000, "central", FRIDAY);
    let decision = library.try_checkout(8, 1000, "central", FRIDAY).unwrap();
    assert!(decision.warnings.iter().any(|w| w.warning == Warning::HoldsReadyForPickup { count: 1 }));
}

#[test]
fn a_renewal_counts_from_today_and_never_shortens() {
    let library = Library::new();
    library.checkout(1, 1000, "central", FRIDAY);
    let renewal = library.try_renew(1000, Some(1), "central", "2026-11-25").unwrap();
    assert_eq!((renewal.due_on, renewal.renewals), (date("2026-12-09"), 1));
    // A branch whose rule lends 3 days: renewing there keeps the later current due date.
    let mut rows = rules();
    rows.push(RuleRow { loan_days: 3, ..rule(Some("room"), None, None) });
    library.circulation.set_rules(rows).unwrap();
    assert_eq!(library.try_renew(1000, None, "room", "2026-11-21").unwrap().due_on, date("2026-12-04"));
}

#[test]
fn renewal_refusals_in_order() {
    let library = Library::new();
    assert_eq!(
        library.try_renew(1000, None, "central", FRIDAY).unwrap_err(),
        Refusal::NotOnLoan { item_id: ItemId(1000) }
    );
    assert_eq!(library.try_renew(9999, None, "central", FRIDAY).unwrap_err().code(), "unknown_item");
    library.checkout(1, 1000, "central", FRIDAY);
    assert_eq!(
        library.try_renew(1000, Some(2), "central", FRIDAY).unwrap_err(),
        Refusal::NotYourLoan { item_id: ItemId(1000) }
    );
    assert_eq!(
        library.try_renew(1000, Some(1), "central", "2026-12-05").unwrap_err(),
        Refusal::Overdue { item_id: ItemId(1000), due_on: date("2026-12-04") }
    );
    let renewal = library.try_renew(1000, Some(1), "central", "2026-11-25").unwrap();
    library.commit_renewal(&renewal);
    assert_eq!(
        library.try_renew(1000, Some(1), "central", "2026-11-26").unwrap_err(),
        Refusal::RenewalLimit { item_id: ItemId(1000), max: 1 }
    );
    library.upsert_patrons([patron(1, "adult", "central", PatronStatus::Suspended, "2028-03-31")]);
    assert_eq!(library.try_renew(1000, None, "central", "2026-11-26").unwrap_err().code(), "patron_suspended");
    library.upsert_patrons([patron(1, "adult", "central", PatronStatus::Active, "2026-11-25")]);
    assert_eq!(library.try_renew(1000, None, "central", "2026-11-26").unwrap_err().code(), "card_expired");
}

#[test]
fn a_copy_marked_lost_or_made_in_library_only_while_lent_is_not_renewed() {
    let library = Library::new();
    library.checkout(1, 1000, "central", FRIDAY);
    library.checkout(1, 2000, "central", FRIDAY);
    let mut lost = library.item(1000);
    lost.status = ItemStatus::Lost;
    let mut reference = library.item(2000);
    reference.loan_policy = LoanPolicy::InLibraryOnly;
    library.add_items([lost, reference]);
    assert_eq!(
        library.try_renew(1000, Some(1), "central", "2026-11-25").unwrap_err(),
        Refusal::ItemUnavailable { item_id: ItemId(1000), status: ItemStatus::Lost }
    );
    assert_eq!(
        library.try_renew(2000, Some(1), "central", "2026-11-25").unwrap_err(),
        Refusal::InLibraryOnly { item_id: ItemId(2000) }
    );
}

#[test]
fn a_patron_with_an_overdue_loan_cannot_renew_the_others() {
    let library = Library::new();
    library.checkout(1, 1000, "central", FRIDAY); // due 12/4
    library.checkout(1, 2000, "central", "2026-11-25"); // due 12/9
    assert!(library.try_renew(2000, Some(1), "central", "2026-12-04").is_ok());
    let refusal = library.try_renew(2000, Some(1), "central", "2026-12-05").unwrap_err();
    assert_eq!(refusal, Refusal::OverdueBlock { count: 1 });
    assert!(refusal.message_ja().contains("延長"), "{}", refusal.message_ja());
}

#[test]
fn renewals_are_blocked_by_waiting_holds_on_the_title_or_the_copy() {
    let library = Library::new();
    library.checkout(1, 1000, "central", FRIDAY);
    library.checkout(3, 1001, "gyotoku", FRIDAY);
    let request = |patron: u64, item: Option<u64>| HoldRequest {
        item_id: item.map(ItemId),
        ..library.hold_request(patron, 100, "central", FRIDAY, "2026-11-20T13:00:00")
    };
    // An item-level hold on the other copy blocks only that copy's renewal.
    let decision = library.circulation.decide_hold(&request(2, Some(1001))).unwrap();
    library.commit_hold(&decision, "2026-11-20T13:00:00");
    assert!(library.try_renew(1000, None, "central", "2026-11-25").is_ok());
    assert_eq!(
        library.try_renew(1001, None, "gyotoku", "2026-11-25").unwrap_err(),
        Refusal::RenewalBlockedByHold { item_id: ItemId(1001), waiting: 1 }
    );
    // A title-level hold blocks every copy.
    library.upsert_patrons([patron(9, "adult", "central", PatronStatus::Active, "2028-03-31")]);
    let decision = library.circulation.decide_hold(&request(9, None)).unwrap();
    library.commit_hold(&decision, "2026-11-20T14:00:00");
    assert_eq!(library.try_renew(1000, None, "central", "2026-11-25").unwrap_err().code(), "renewal_blocked_by_hold");
    // Unless its patron is suspended: targeting passes such a hold over, so it keeps no one from renewing.
    library.upsert_patrons([patron(9, "adult", "central", PatronStatus::Suspended, "2028-03-31")]);
    assert!(library.try_renew(1000, None, "central", "2026-11-25").is_ok());
}

#[test]
fn renewal_without_a_rule_is_refused() {
    let library = Library::new();
    library.checkout(1, 1000, "central", FRIDAY);
    library.circulation.set_rules(vec![rule(Some("central"), None, None)]).unwrap();
    assert_eq!(library.try_renew(1000, None, "gyotoku", "2026-11-25").unwrap_err().code(), "no_rule");
}

#[test]
fn a_branch_closed_all_year_refuses_with_no_open_day() {
    let library = Library::new();
    let mut definition = calendar();
    definition.branches[0].weekly_closures = (1..=7).collect();
    definition.branches[0].open_days.clear();
    library.circulation.set_calendar(&definition).unwrap();
    assert_eq!(library.try_checkout(1, 1000, "central", FRIDAY).unwrap_err().code(), "no_open_day");
}

/// Title 100 with a third copy, 1002, on central's shelf; copy 1000 set aside on central's hold shelf for
/// patron 1, and patron 2's hold waiting behind (pickup central, or only for copy 1002 with `wants_1002`).
fn copy_set_aside_for_patron_1(wants_1002: bool) -> (Library, HoldId, HoldId) {
    let library = Library::new();
    library.add_items([copy(1002, 100, "central", "book")]);
    library.checkout(3, 1000, "central", FRIDAY);
    let first = library.place_hold(1, 100, "central", FRIDAY, "2026-11-20T10:00:00");
    let request = HoldRequest {
        item_id: wants_1002.then_some(ItemId(1002)),
        ..library.hold_request(2, 100, "central", FRIDAY, "2026-11-20T11:00:00")
    };
    let second = library.commit_hold(&library.circulation.decide_hold(&request).unwrap(), "2026-11-20T11:00:00");
    let returned = library.checkin(1000, "central", FRIDAY);
    assert!(matches!(returned.outcome, CheckinOutcome::HoldReady { hold_id, .. } if hold_id == first));
    (library, first, second)
}

#[test]
fn a_patron_taking_another_copy_of_the_title_set_aside_for_them_releases_it_to_the_next_in_line() {
    let (library, first, second) = copy_set_aside_for_patron_1(false);
    let decision = library.try_checkout(1, 1002, "central", "2026-11-21").unwrap();
    assert_eq!(decision.fulfils_hold, Some(first));
    let released = decision.releases_copy.clone().expect("the set-aside copy is released");
    assert_eq!(released.item_id, ItemId(1000));
    assert!(matches!(released.next, CheckinOutcome::HoldReady { hold_id, .. } if hold_id == second));
    let warning = decision.warnings.iter().find(|w| matches!(w.warning, Warning::SetAsideCopyReleased { .. })).unwrap();
    assert!(warning.message_ja.contains("予約棚の資料（B01000）") && warning.message_ja.contains("予約票"), "{}",
            warning.message_ja);
    assert!(!decision.warnings.iter().any(|w| matches!(w.warning, Warning::HoldsReadyForPickup { .. })));
    library.commit_checkout(&decision, "central");
    assert!(library.hold(first).is_none());
    let passed_on = library.hold(second).unwrap();
    assert_eq!((passed_on.status, passed_on.trapped_item_id), (HoldStatus::Ready, Some(ItemId(1000))));
}

#[test]
fn a_set_aside_copy_is_not_released_for_a_copy_another_patron_holds_by_item_or_at_another_branch() {
    // Patron 2 waits for copy 1002 itself: the set-aside copy cannot stand in, so the hold is not fulfilled.
    let (library, first, _second) = copy_set_aside_for_patron_1(true);
    assert_eq!(library.try_checkout(1, 1002, "central", "2026-11-21").unwrap_err().code(), "reserved_for_others");
    // Lending at another branch than the hold shelf's leaves the copy set aside (staff there are told).
    let decision = library.try_checkout(1, 1001, "gyotoku", "2026-11-21").unwrap();
    assert_eq!((decision.fulfils_hold, decision.releases_copy), (None, None));
    assert!(decision.warnings.iter().any(|w| w.warning == Warning::HoldsReadyForPickup { count: 1 }));
    assert_eq!(library.hold(first).unwrap().status, HoldStatus::Ready);
}

#[test]
fn a_self_check_kiosk_leaves_the_set_aside_copy_where_it_is() {
    // Nobody at a kiosk can take the copy off the hold shelf, so the hold stays and the patron is reminded.
    let (library, first, _second) = copy_set_aside_for_patron_1(false);
    let kiosk = CheckoutRequest { staffed: false, ..library.checkout_request(1, 1002, "central", "2026-11-21") };
    let decision = library.circulation.decide_checkout(&kiosk).unwrap();
    assert_eq!((decision.fulfils_hold, decision.releases_copy), (None, None));
    assert!(decision.warnings.iter().any(|w| w.warning == Warning::HoldsReadyForPickup { count: 1 }));
    let staffed = library.try_checkout(1, 1002, "central", "2026-11-21").unwrap();
    assert_eq!(staffed.fulfils_hold, Some(first));
}
