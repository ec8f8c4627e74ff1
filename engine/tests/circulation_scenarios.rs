//! A realistic stretch of days at two branches, decided by the engine and committed the way the service
//! does (decision → PostgreSQL → outbox events → engine), with search availability followed throughout.

mod circulation_support;

use circulation_support::*;
use shoka_engine::circulation::*;
use shoka_engine::holdings::{Availability, BibId, CirculationState, ItemId};

#[test]
fn checkout_renew_hold_transit_ready_expire_and_pass_on() {
    let library = Library::new();
    let mut rows = rules();
    rows.iter_mut().for_each(|row| row.max_renewals = 2);
    library.circulation.set_rules(rows).unwrap();
    let availability = || library.holdings.read().branch_availability(BibId(200), false)[0].status;

    // Friday 11/20: patron 1 borrows the only copy of title 200 at Central for 14 days.
    let loan_id = library.checkout(1, 2000, "central", "2026-11-20");
    assert_eq!(library.circulation_state(2000), CirculationState::OnLoan { due_on: "2026-12-04".into() });
    assert_eq!(availability(), Availability::OnLoan);

    // Friday 11/27: renewed on the OPAC, 14 days from today.
    let renewal = library.try_renew(2000, Some(1), "central", "2026-11-27").unwrap();
    assert_eq!((renewal.loan_id, renewal.due_on, renewal.renewals), (loan_id, date("2026-12-11"), 1));
    library.commit_renewal(&renewal);
    assert_eq!(library.circulation_state(2000), CirculationState::OnLoan { due_on: "2026-12-11".into() });

    // Saturday 11/28: patron 2 reserves the title for pickup at Gyotoku; nothing to pull, it is out.
    let decision = library.try_hold(2, 200, "gyotoku", "2026-11-28").unwrap();
    assert_eq!(decision.target, None);
    let hold_of_2 = library.commit_hold(&decision, "2026-11-28T10:15:00+09:00");
    // Wednesday 12/2: patron 3 (a child) reserves it too, for pickup at Central.
    let hold_of_3 = library.place_hold(3, 200, "central", "2026-12-02", "2026-12-02T16:40:00+09:00");

    // Thursday 12/3: patron 1 tries to renew again: refused, others are waiting.
    let refusal = library.try_renew(2000, Some(1), "central", "2026-12-03").unwrap_err();
    assert_eq!(refusal, Refusal::RenewalBlockedByHold { item_id: ItemId(2000), waiting: 2 });
    assert_eq!(refusal.message_ja(), "この資料には予約が2件入っているため延長できません。");

    // Friday 12/4: returned at Central. Patron 2 is first in line and collects at Gyotoku: transit.
    let checkin = library.checkin(2000, "central", "2026-12-04");
    assert_eq!(checkin.closes_loan, Some(loan_id));
    assert_eq!(
        checkin.outcome,
        CheckinOutcome::HoldTransit { hold_id: hold_of_2, patron_id: PatronId(2), to_branch: "gyotoku".into() }
    );
    assert_eq!(library.hold(hold_of_2).unwrap().status, HoldStatus::InTransit);
    assert_eq!(availability(), Availability::Reserved);

    // Saturday 12/5: it arrives at Gyotoku and goes on the hold shelf until Saturday 12/12.
    let arrival = library.checkin(2000, "gyotoku", "2026-12-05");
    assert!(arrival.closes_transit);
    assert_eq!(
        arrival.outcome,
        CheckinOutcome::HoldReady { hold_id: hold_of_2, patron_id: PatronId(2), pickup_by: date("2026-12-12") }
    );
    assert_eq!(library.circulation_state(2000), CirculationState::OnHoldShelf { pickup_branch: "gyotoku".into() });
    assert!(library.circulation.expired_holds(date("2026-12-12")).is_empty());

    // Sunday 12/13: patron 2 never came. The copy passes to patron 3, who collects at Central.
    let expired = library.expire_holds("2026-12-13");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].hold_id, hold_of_2);
    assert_eq!(
        expired[0].next,
        CheckinOutcome::HoldTransit { hold_id: hold_of_3, patron_id: PatronId(3), to_branch: "central".into() }
    );
    assert!(library.hold(hold_of_2).is_none());
    assert_eq!(
        library.circulation_state(2000),
        CirculationState::InTransit { to_branch: "central".into(), for_hold: true }
    );

    // Tuesday 12/15: arrival at Central; ready until Tuesday 12/22.
    let arrival = library.checkin(2000, "central", "2026-12-15");
    assert_eq!(
        arrival.outcome,
        CheckinOutcome::HoldReady { hold_id: hold_of_3, patron_id: PatronId(3), pickup_by: date("2026-12-22") }
    );
    let summary = library
        .circulation
        .patron_summary(&PatronSummaryRequest {
            patron: PatronRef::Id(PatronId(3)),
            today: date("2026-12-15"),
            branch: None,
        })
        .unwrap();
    assert_eq!(summary.counts.ready_holds, 1);

    // Another patron cannot take it; patron 3 can, and the loan fulfils the hold. Children borrow for
    // 21 days: 1/5/2027, after the year-end closure.
    assert_eq!(library.try_checkout(1, 2000, "central", "2026-12-16").unwrap_err().code(), "on_hold_for_another");
    let decision = library.try_checkout(3, 2000, "central", "2026-12-16").unwrap();
    assert_eq!((decision.fulfils_hold, decision.due_on), (Some(hold_of_3), date("2027-01-06")));
    library.commit_checkout(&decision, "central");
    assert_eq!(library.circulation.counts(), LedgerCounts { patrons: 7, loans: 1, holds: 0, transits: 0 });
    assert_eq!(availability(), Availability::OnLoan);

    // The replica and what the database would say agree.
    let state = library.circulation.snapshot();
    let expected = ConsistencySnapshot {
        patrons: Some(state.patrons),
        loans: state.loans,
        holds: state.holds,
        transits: state.transits,
    };
    assert!(library.circulation.check_consistency(&expected).is_empty());
}
