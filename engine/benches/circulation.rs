//! Circulation decisions at tier S (16 branches, 400k copies of 300k titles, 60k patrons, 20k open
//! loans, 2k holds), and the rebuild at tier L (600k patrons, 200k loans, 20k holds) from the JSON
//! events the service streams at start.
//!
//! `cargo bench -p shoka-engine --bench circulation`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use parking_lot::RwLock;
use shoka_engine::circulation::*;
use shoka_engine::holdings::{BibId, CirculationState, Holdings, ItemHolding, ItemId, ItemStatus, LoanPolicy};

const BRANCHES: u64 = 16;
const ITEMS: u64 = 400_000;
const BIBS: u64 = 300_000;

fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

fn branch(n: u64) -> String {
    format!("b{:02}", n % BRANCHES)
}

fn holdings() -> Arc<RwLock<Holdings>> {
    let mut holdings = Holdings::new();
    let codes: Vec<String> = (0..BRANCHES).map(branch).collect();
    holdings.register_branches(codes.iter().map(String::as_str)).unwrap();
    let items = (0..ITEMS).map(|id| ItemHolding {
        item_id: ItemId(id),
        bib_id: BibId(id % BIBS),
        barcode: format!("1{id:09}"),
        branch: branch(id),
        shelf_location: "開架".into(),
        call_number: format!("913.6/{id}"),
        material_type: if id % 10 == 0 { "av".into() } else { "book".into() },
        status: ItemStatus::Available,
        loan_policy: LoanPolicy::Normal,
        circulation: CirculationState::OnShelf,
    });
    holdings.upsert_items(items).unwrap();
    Arc::new(RwLock::new(holdings))
}

fn configure(circulation: &Circulation) {
    let rule = RuleRow {
        branch: None,
        patron_category: None,
        material_type: None,
        loan_days: 14,
        max_items_of_type: 10,
        max_items_total: 15,
        max_renewals: 1,
        holds_allowed: true,
        max_holds: 10,
        hold_pickup_days: 7,
    };
    let av = RuleRow { material_type: Some("av".into()), loan_days: 7, max_items_of_type: 3, ..rule.clone() };
    let child = RuleRow { patron_category: Some("child".into()), loan_days: 21, ..rule.clone() };
    circulation.set_rules(vec![rule, av, child]).unwrap();
    let year_end = AnnualClosure { from_month: 12, from_day: 29, to_month: 1, to_day: 3, reason: String::new() };
    let branches = (0..BRANCHES)
        .map(|n| BranchCalendarDefinition {
            code: branch(n),
            is_pickup_point: true,
            weekly_closures: vec![1],
            annual_closures: vec![year_end.clone()],
            closed_days: vec![date("2026-06-23")],
            open_days: vec![],
        })
        .collect();
    circulation.set_calendar(&CalendarDefinition { branches }).unwrap();
}

/// The open state of a library: `patrons` patrons, `loans` loans on every `ITEMS / loans`-th copy
/// (a quarter of them overdue on 2026-11-20), `holds` holds, two per title on titles that are out.
fn events(patrons: u64, loans: u64, holds: u64) -> Vec<CirculationEvent> {
    let mut events = Vec::new();
    for id in 0..patrons {
        events.push(CirculationEvent::PatronUpserted {
            seq: 0,
            patron_id: PatronId(id),
            card: format!("2{id:09}"),
            category: if id % 5 == 0 { "child".into() } else { "adult".into() },
            home_branch: branch(id),
            expires_on: date("2029-03-31"),
            status: PatronStatus::Active,
        });
    }
    let stride = ITEMS / loans;
    let today = date("2026-11-20");
    for n in 0..loans {
        events.push(CirculationEvent::LoanOpened {
            seq: 0,
            loan_id: LoanId(n),
            item_id: ItemId(n * stride),
            patron_id: PatronId((n * 7919) % patrons),
            branch: branch(n * stride),
            due_on: today.add_days((n % 20) as i32 - 5),
            renewals: 0,
        });
    }
    for n in 0..holds {
        let lent_item = (n / 2 % loans) * stride;
        events.push(CirculationEvent::HoldUpserted {
            seq: 0,
            hold_id: HoldId(n),
            patron_id: PatronId((n * 104_729 + 13) % patrons),
            bib_id: BibId(lent_item % BIBS),
            item_id: None,
            pickup_branch: branch(n),
            placed_at: format!("2026-11-{:02}T10:{:02}:00+09:00", 1 + n % 19, n % 60),
            status: HoldStatus::Waiting,
            trapped_item_id: None,
            pickup_by: None,
            not_before: None,
        });
    }
    events
}

/// Patron 1, a regular: six books on loan (none overdue) and three holds, one of them ready.
const REGULAR: PatronId = PatronId(1);

fn regular_patron_events() -> Vec<CirculationEvent> {
    let mut events: Vec<CirculationEvent> = (0..6)
        .map(|n| CirculationEvent::LoanOpened {
            seq: 0,
            loan_id: LoanId(1_000_000 + n),
            item_id: ItemId(101 + 2 * n),
            patron_id: REGULAR,
            branch: "b01".into(),
            due_on: date("2026-11-27"),
            renewals: 0,
        })
        .collect();
    for n in 0..3 {
        let ready = n == 0;
        events.push(CirculationEvent::HoldUpserted {
            seq: 0,
            hold_id: HoldId(1_000_000 + n),
            patron_id: REGULAR,
            bib_id: BibId(40 * (n + 1)),
            item_id: None,
            pickup_branch: "b01".into(),
            placed_at: "2026-11-19T09:00:00+09:00".into(),
            status: if ready { HoldStatus::Ready } else { HoldStatus::Waiting },
            trapped_item_id: ready.then_some(ItemId(40)),
            pickup_by: ready.then(|| date("2026-11-26")),
            not_before: None,
        });
    }
    events
}

fn tier_s() -> Circulation {
    let circulation = Circulation::new(holdings());
    configure(&circulation);
    circulation.apply_events(&events(60_000, 20_000, 2_000)).unwrap();
    circulation.apply_events(&regular_patron_events()).unwrap();
    circulation
}

/// Resident memory of this process in MiB (Linux), to report what the ledger costs.
fn resident_mib() -> f64 {
    let pages: f64 = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1).and_then(|pages| pages.parse().ok()))
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

fn decisions(criterion: &mut Criterion) {
    let circulation = tier_s();
    let today = date("2026-11-20");
    // The regular patron borrows copy 1: on the shelf, nobody holds its title.
    let checkout = CheckoutRequest {
        patron: PatronRef::Card("2000000001".into()),
        item: ItemRef::Barcode("1000000001".into()),
        branch: "b01".into(),
        today,
        staff_override: false,
        staffed: true,
    };
    circulation.decide_checkout(&checkout).expect("a checkout the rules allow");
    // Copy 0 is lent and its title has two waiting holds.
    let checkin = CheckinRequest { item: ItemRef::Id(ItemId(0)), branch: "b03".into(), today };
    assert!(circulation.decide_checkin(&checkin).unwrap().outcome.hold_id().is_some());
    let summary = PatronSummaryRequest { patron: PatronRef::Id(REGULAR), today, branch: Some("b01".into()) };
    let counts = circulation.patron_summary(&summary).unwrap().counts;
    assert!(counts.loans > 0 && counts.holds > 0, "{counts:?}");
    eprintln!("patron_summary of a patron with {counts:?}");

    let mut group = criterion.benchmark_group("tier_s");
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("decide_checkout", |bench| {
        bench.iter(|| black_box(circulation.decide_checkout(black_box(&checkout))))
    });
    let checkout_json = br#"{"card": "2000000001", "barcode": "1000000001", "branch": "b01", "today": "2026-11-20"}"#;
    group.bench_function("decide_checkout_json_round_trip", |bench| {
        bench.iter(|| {
            let request: CheckoutRequest = serde_json::from_slice(black_box(checkout_json)).unwrap();
            serde_json::to_vec(&Answer::from(circulation.decide_checkout(&request))).unwrap()
        })
    });
    group.bench_function("decide_checkin_with_holds", |bench| {
        bench.iter(|| black_box(circulation.decide_checkin(black_box(&checkin))))
    });
    group.bench_function("patron_summary", |bench| {
        bench.iter(|| black_box(circulation.patron_summary(black_box(&summary))))
    });
    group.bench_function("expired_holds_none_due", |bench| bench.iter(|| black_box(circulation.expired_holds(today))));
    group.bench_function("pick_list_branch", |bench| {
        bench.iter(|| black_box(circulation.pick_list("b05", Some(today))))
    });
    group.bench_function("overdue_loans_branch", |bench| {
        let request = OverdueRequest { branch: Some("b02".into()), today, min_days_overdue: 1 };
        bench.iter(|| black_box(circulation.overdue_loans(&request)))
    });
    group.finish();
}

/// Start-up at tier L: decoding the JSON the service streams and applying it, holdings included.
fn rebuild(criterion: &mut Criterion) {
    let holdings = holdings();
    let json = serde_json::to_vec(&events(600_000, 200_000, 20_000)).unwrap();
    {
        let before = resident_mib();
        let circulation = Circulation::new(holdings.clone());
        let started = Instant::now();
        let events: Vec<CirculationEvent> = serde_json::from_slice(&json).unwrap();
        let decoded = started.elapsed();
        circulation.apply_events(&events).unwrap();
        let applied = started.elapsed() - decoded;
        drop(events);
        eprintln!(
            "tier L rebuild: {} MiB of JSON, decode {decoded:.2?}, apply {applied:.2?}, ledger ≈ {:.0} MiB resident",
            json.len() / (1024 * 1024),
            resident_mib() - before
        );
        circulation.reset(0);
    }
    let mut group = criterion.benchmark_group("tier_l");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("rebuild_from_json_events", |bench| {
        bench.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let circulation = Circulation::new(holdings.clone());
                let started = Instant::now();
                let events: Vec<CirculationEvent> = serde_json::from_slice(&json).unwrap();
                circulation.apply_events(&events).unwrap();
                total += started.elapsed();
                assert_eq!(circulation.counts().loans, 200_000);
                // Untimed: put the copies back on the shelf, so that every run does the holdings work.
                circulation.reset(0);
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, decisions, rebuild);
criterion_main!(benches);
