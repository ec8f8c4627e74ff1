//! Patron summary, item view, overdue lists, the consistency check, events and their JSON shapes.

mod circulation_support;

use circulation_support::*;
use shoka_engine::circulation::*;
use shoka_engine::holdings::{Availability, CirculationState, ItemId};

const FRIDAY: &str = "2026-11-20";

#[test]
fn a_patron_summary_shows_blocks_loans_and_holds() {
    let library = Library::new();
    library.checkout(1, 2000, "central", "2026-11-01");
    library.checkout(1, 1000, "central", "2026-11-10");
    library.checkout(2, 1001, "gyotoku", "2026-11-10");
    library.upsert_patrons([patron(8, "adult", "central", PatronStatus::Active, "2028-03-31")]);
    library.place_hold(3, 100, "central", FRIDAY, "2026-11-20T09:00:00");
    library.place_hold(8, 100, "central", FRIDAY, "2026-11-20T10:00:00");
    let hold_id =
        library.circulation.decide_hold(&library.hold_request(1, 300, "central", "2026-11-14", "2026-11-14T10:00:00"));
    library.commit_hold(&hold_id.unwrap(), "2026-11-14T10:00:00");
    let summary = library
        .circulation
        .patron_summary(&PatronSummaryRequest {
            patron: PatronRef::Card("P0001".into()),
            today: date(FRIDAY),
            branch: None,
        })
        .unwrap();
    assert_eq!(summary.patron_id, PatronId(1));
    assert_eq!(summary.blocks.iter().map(|block| block.refusal.code()).collect::<Vec<_>>(), vec!["overdue_block"]);
    assert_eq!(summary.counts.loans, 2);
    assert_eq!(summary.counts.overdue, 1);
    let overdue = &summary.loans[0];
    assert_eq!(
        (overdue.item_id, overdue.overdue, overdue.days_overdue, overdue.renewable),
        (ItemId(2000), true, 5, false)
    );
    assert_eq!(overdue.renewal_refusal.as_ref().unwrap().refusal.code(), "overdue");
    // Patron 1's other loan cannot be renewed while one is overdue; patron 2's, because the title is held.
    let blocked = &summary.loans[1];
    assert_eq!(blocked.renewal_refusal.as_ref().unwrap().refusal.code(), "overdue_block");
    let held_title = library
        .circulation
        .patron_summary(&PatronSummaryRequest { patron: PatronRef::Id(PatronId(2)), today: date(FRIDAY), branch: None })
        .unwrap();
    assert_eq!(held_title.loans[0].renewal_refusal.as_ref().unwrap().refusal.code(), "renewal_blocked_by_hold");
    assert_eq!(summary.holds.len(), 1);
    assert_eq!(summary.holds[0].queue_position, Some(1));
    let second_in_line = library
        .circulation
        .patron_summary(&PatronSummaryRequest { patron: PatronRef::Id(PatronId(8)), today: date(FRIDAY), branch: None })
        .unwrap();
    assert_eq!(second_in_line.holds[0].queue_position, Some(2));
    assert!(second_in_line.blocks.is_empty());
    let unknown = PatronSummaryRequest { patron: PatronRef::Id(PatronId(99)), today: date(FRIDAY), branch: None };
    assert_eq!(library.circulation.patron_summary(&unknown).unwrap_err().code(), "unknown_patron");
}

#[test]
fn the_summary_at_a_desk_includes_the_loan_limit() {
    let library = Library::new();
    let mut rows = rules();
    rows[0].max_items_total = 1;
    library.circulation.set_rules(rows).unwrap();
    library.checkout(2, 1001, "gyotoku", FRIDAY);
    let summary = library
        .circulation
        .patron_summary(&PatronSummaryRequest {
            patron: PatronRef::Id(PatronId(2)),
            today: date(FRIDAY),
            branch: Some("central".into()),
        })
        .unwrap();
    assert_eq!(summary.blocks[0].refusal, Refusal::LimitReached { limit: 1 });
}

#[test]
fn an_item_view_tells_the_counter_everything() {
    let library = Library::new();
    let loan_id = library.checkout(1, 2000, "central", FRIDAY);
    library.place_hold(2, 200, "central", FRIDAY, "2026-11-20T10:00:00");
    let view = library.circulation.item_view(&ItemRef::Barcode("B02000".into())).unwrap();
    assert_eq!(
        (view.item_id, view.loan_id, view.borrower, view.due_on),
        (ItemId(2000), Some(loan_id), Some(PatronId(1)), Some(date("2026-12-04")))
    );
    assert_eq!((view.hold_queue_length, view.trapped_for_hold, view.availability), (1, None, Availability::OnLoan));
    assert_eq!(view.availability_label, "貸出中");
    library.checkin(2000, "central", "2026-11-21");
    let view = library.circulation.item_view(&ItemRef::Id(ItemId(2000))).unwrap();
    assert!(view.trapped_for_hold.is_some());
    assert_eq!(view.circulation, CirculationState::OnHoldShelf { pickup_branch: "central".into() });
    assert_eq!(view.availability_label, "予約中");
    assert_eq!(library.circulation.item_view(&ItemRef::Barcode("nope".into())).unwrap_err().code(), "unknown_item");
}

#[test]
fn overdue_lists_by_branch_and_days() {
    let library = Library::new();
    library.checkout(1, 2000, "central", "2026-11-01");
    library.checkout(2, 1001, "gyotoku", "2026-11-03");
    library.checkout(3, 1000, "central", FRIDAY);
    let list = |branch: Option<&str>, min_days| {
        library
            .circulation
            .overdue_loans(&OverdueRequest {
                branch: branch.map(str::to_string),
                today: date(FRIDAY),
                min_days_overdue: min_days,
            })
            .into_iter()
            .map(|loan| (loan.item_id.0, loan.days_overdue))
            .collect::<Vec<_>>()
    };
    // 1001 was due on Tuesday 11/17, when Gyotoku is closed, so on 11/18.
    assert_eq!(list(None, 0), vec![(2000, 5), (1001, 2)]);
    assert_eq!(list(Some("gyotoku"), 0), vec![(1001, 2)]);
    assert_eq!(list(None, 3), vec![(2000, 5)]);
    let first =
        &library.circulation.overdue_loans(&OverdueRequest { branch: None, today: date(FRIDAY), min_days_overdue: 1 })
            [0];
    assert_eq!((first.card.as_deref(), first.barcode.as_str()), (Some("P0001"), "B02000"));
}

#[test]
fn the_consistency_check_names_each_difference() {
    let library = Library::new();
    library.checkout(1, 2000, "central", FRIDAY);
    let hold_id = library.place_hold(2, 200, "central", FRIDAY, "2026-11-20T10:00:00");
    let snapshot = library.circulation.snapshot();
    let expected = ConsistencySnapshot {
        patrons: Some(snapshot.patrons.clone()),
        loans: snapshot.loans.clone(),
        holds: snapshot.holds.clone(),
        transits: snapshot.transits.clone(),
    };
    assert!(library.circulation.check_consistency(&expected).is_empty());
    let mut drifted = expected.clone();
    drifted.loans[0].due_on = date("2026-12-11");
    drifted.holds.clear();
    drifted.loans.push(Loan {
        loan_id: LoanId(777),
        item_id: ItemId(1000),
        patron_id: PatronId(3),
        branch: "central".into(),
        due_on: date("2026-12-01"),
        renewals: 0,
    });
    let differences = library.circulation.check_consistency(&drifted);
    let summary: Vec<(Entity, u64, DifferenceKind)> = differences.iter().map(|d| (d.entity, d.id, d.kind)).collect();
    assert_eq!(
        summary,
        vec![
            (Entity::Loan, 1, DifferenceKind::Differs),
            (Entity::Loan, 777, DifferenceKind::MissingInEngine),
            (Entity::Hold, hold_id.0, DifferenceKind::UnexpectedInEngine),
            (Entity::ItemState, 1000, DifferenceKind::Differs),
            (Entity::ItemState, 2000, DifferenceKind::Differs),
        ]
    );
    assert_eq!(differences[0].fields[0].field, "due_on");
}

#[test]
fn the_consistency_check_finds_a_copy_shown_off_the_shelf_that_no_record_explains() {
    let library = Library::new();
    let expected = ConsistencySnapshot::default();
    assert!(library.circulation.check_consistency(&expected).is_empty());
    library.holdings.write().set_circulation(ItemId(3000), CirculationState::OnLoan { due_on: "2026-12-04".into() });
    let differences = library.circulation.check_consistency(&expected);
    let summary: Vec<(Entity, u64, DifferenceKind)> = differences.iter().map(|d| (d.entity, d.id, d.kind)).collect();
    assert_eq!(summary, vec![(Entity::ItemState, 3000, DifferenceKind::Differs)]);
}

#[test]
fn events_round_trip_as_json_and_apply_once() {
    let json = r#"[
        {"kind": "patron_upserted", "seq": 10, "patron_id": 1, "card": "A1", "category": "adult",
         "home_branch": "central", "expires_on": "2028-03-31", "status": "active"},
        {"kind": "loan_opened", "seq": 11, "loan_id": 5, "item_id": 1000, "patron_id": 1, "branch": "central",
         "due_on": "2026-12-04", "renewals": 0},
        {"kind": "hold_upserted", "seq": 12, "hold_id": 9, "patron_id": 1, "bib_id": 200, "pickup_branch": "central",
         "placed_at": "2026-11-20T10:00:00+09:00", "status": "waiting"},
        {"kind": "transit_opened", "seq": 13, "item_id": 1001, "to_branch": "central", "for_hold": null}
    ]"#;
    let events: Vec<CirculationEvent> = serde_json::from_str(json).unwrap();
    let library = Library::new();
    library.circulation.reset(0);
    assert_eq!(library.circulation.apply_events(&events).unwrap(), 4);
    assert_eq!(library.circulation.apply_events(&events).unwrap(), 0, "a second delivery changes nothing");
    assert_eq!(library.circulation.counts(), LedgerCounts { patrons: 1, loans: 1, holds: 1, transits: 1 });
    assert_eq!(library.circulation.highest_seq(), 13);
    assert_eq!(library.circulation_state(1000), CirculationState::OnLoan { due_on: "2026-12-04".into() });
    assert_eq!(
        library.circulation_state(1001),
        CirculationState::InTransit { to_branch: "central".into(), for_hold: false }
    );
    let back = serde_json::to_value(&events[1]).unwrap();
    assert_eq!(back["kind"], "loan_opened");
    // A late, older close does not undo the newer loan; a newer close does.
    let late = vec![CirculationEvent::LoanClosed { seq: 9, loan_id: LoanId(5), item_id: ItemId(1000) }];
    assert_eq!(library.circulation.apply_events(&late).unwrap(), 0);
    let close = vec![CirculationEvent::LoanClosed { seq: 20, loan_id: LoanId(5), item_id: ItemId(1000) }];
    assert_eq!(library.circulation.apply_events(&close).unwrap(), 1);
    assert_eq!(library.circulation_state(1000), CirculationState::OnShelf);
}

#[test]
fn invalid_events_apply_nothing() {
    let library = Library::new();
    let before = library.circulation.counts();
    let ready_without_deadline = Hold {
        hold_id: HoldId(1),
        patron_id: PatronId(1),
        bib_id: shoka_engine::holdings::BibId(200),
        item_id: None,
        pickup_branch: "central".into(),
        placed_at: "t".into(),
        status: HoldStatus::Ready,
        trapped_item_id: Some(ItemId(2000)),
        pickup_by: None,
        not_before: None,
    };
    let events = vec![
        CirculationEvent::TransitClosed { seq: 1000, item_id: ItemId(1) },
        CirculationEvent::hold_upserted(1001, &ready_without_deadline),
    ];
    assert!(matches!(library.circulation.apply_events(&events), Err(CirculationError::InvalidEvent { seq: 1001, .. })));
    assert_eq!(library.circulation.counts(), before);
    assert!(serde_json::from_str::<Vec<CirculationEvent>>(r#"[{"kind": "loan_opened", "seq": 1}]"#).is_err());
    assert!(serde_json::from_str::<Vec<CirculationEvent>>(
        r#"[{"kind": "hold_upserted", "seq": 1, "hold_id": 1, "patron_id": 1,
        "bib_id": 1, "pickup_branch": "x", "placed_at": "t", "status": "fulfilled"}]"#
    )
    .is_err());
}

#[test]
fn snapshot_rows_rebuild_and_a_snapshot_position_ignores_older_live_events() {
    let library = Library::new();
    library.checkout(1, 1000, "central", FRIDAY);
    let snapshot = library.circulation.snapshot();
    library.circulation.reset(500);
    assert_eq!(library.circulation.counts().loans, 0);
    assert_eq!(library.circulation_state(1000), CirculationState::OnShelf);
    let rows: Vec<CirculationEvent> = snapshot
        .patrons
        .iter()
        .map(|patron| CirculationEvent::patron_upserted(0, patron))
        .chain(snapshot.loans.iter().map(|loan| CirculationEvent::loan_opened(0, loan)))
        .collect();
    library.circulation.apply_events(&rows).unwrap();
    assert_eq!(library.circulation.counts().loans, 1);
    assert!(matches!(library.circulation_state(1000), CirculationState::OnLoan { .. }));
    // Live events the snapshot already includes are ignored; later ones apply over snapshot rows.
    let included =
        vec![CirculationEvent::LoanClosed { seq: 400, loan_id: snapshot.loans[0].loan_id, item_id: ItemId(1000) }];
    assert_eq!(library.circulation.apply_events(&included).unwrap(), 0);
    let later =
        vec![CirculationEvent::LoanClosed { seq: 501, loan_id: snapshot.loans[0].loan_id, item_id: ItemId(1000) }];
    assert_eq!(library.circulation.apply_events(&later).unwrap(), 1);
    // And a snapshot row arriving after a live change does not undo it.
    assert_eq!(library.circulation.apply_events(&rows[rows.len() - 1..]).unwrap(), 0);
    // `load` does the same from one snapshot document.
    library.circulation.load(snapshot.clone()).unwrap();
    assert_eq!(library.circulation.snapshot().loans, snapshot.loans);
}

#[test]
fn requests_decode_from_the_service_json() {
    let checkout: CheckoutRequest =
        serde_json::from_str(r#"{"card": "P0001", "barcode": "B01000", "branch": "central", "today": "2026-11-20"}"#)
            .unwrap();
    assert_eq!((checkout.patron, checkout.staff_override), (PatronRef::Card("P0001".into()), false));
    for malformed in [
        r#"{"barcode": "B01000", "branch": "central", "today": "2026-11-20"}"#,
        r#"{"card": "P1", "patron_id": 1, "barcode": "B01000", "branch": "central", "today": "2026-11-20"}"#,
        r#"{"card": "P1", "barcode": "B01000", "branch": "central", "today": "2026-11-31"}"#,
        r#"{"card": "P1", "barcode": "B01000", "branch": "central"}"#,
    ] {
        assert!(serde_json::from_str::<CheckoutRequest>(malformed).is_err(), "{malformed}");
    }
    let renewal: RenewalRequest =
        serde_json::from_str(r#"{"item_id": 1000, "branch": "central", "today": "2026-11-20"}"#).unwrap();
    assert_eq!(renewal.patron_id, None);
    let item: ItemRef = serde_json::from_str(r#"{"barcode": "B01000"}"#).unwrap();
    assert_eq!(item, ItemRef::Barcode("B01000".into()));
    let hold: HoldRequest = serde_json::from_str(
        r#"{"patron_id": 1, "bib_id": 100, "pickup_branch": "central", "today": "2026-11-20", "placed_at": "2026-11-20T10:00:00+09:00"}"#,
    )
    .unwrap();
    assert_eq!(hold.item_id, None);
}

#[test]
fn decisions_serialise_for_the_service() {
    let library = Library::new();
    let decision = library.try_checkout(1, 1000, "central", "2026-11-16").unwrap();
    let json = serde_json::to_value(&decision).unwrap();
    assert_eq!(json["due_on"], "2026-12-01");
    assert_eq!(json["warnings"][0]["code"], "due_date_moved_for_closure");
    assert!(json["warnings"][0]["message_ja"].as_str().unwrap().contains("休館日"));
    library.checkout(1, 2000, "central", FRIDAY);
    library.place_hold(2, 200, "gyotoku", FRIDAY, "2026-11-20T10:00:00");
    let checkin = serde_json::to_value(library.try_checkin(2000, "central", FRIDAY).unwrap()).unwrap();
    assert_eq!(checkin["outcome"]["kind"], "hold_transit");
    assert_eq!(checkin["outcome"]["to_branch"], "gyotoku");
}
