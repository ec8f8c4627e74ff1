//! Broad searches on a large catalogue: the slow tail of the search benchmark at tier L is short
//! queries (two kana or kanji) that match a large part of the collection, where the facets are
//! counted over every match. This builds an index of generated records (one million by default) with
//! holdings on 41 branches as at tier L, then reports p50 / p95 / p99 of one `CatalogueIndex::search`
//! (20 hits hydrated with availability, the total and every facet) for:
//!
//! - `broad`: the 40 most frequent two-character title fragments of the corpus;
//! - `drawn`: two-character fragments drawn from random titles, as the search benchmark's mix does;
//!
//! and criterion timings of the broadest query with and without facets.
//!
//! `cargo bench -p shoka-engine --bench search`. `SHOKA_BENCH_SEARCH_RECORDS` sets the number of
//! records (default 1,000,000). The index is kept in the temporary folder between runs (its name
//! carries the record count, the analysis version and the corpus version); delete it to rebuild.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use parking_lot::RwLock;
use shoka_engine::catalogue::index::ANALYSIS_VERSION;
use shoka_engine::catalogue::{BibDocument, CatalogueIndex, SearchRequest};
use shoka_engine::holdings::{BibId, CirculationState, Holdings, ItemHolding, ItemId, ItemStatus, LoanPolicy};
use support::corpus::{self, Rng};

const SEED: u64 = 2024;
/// Bumped when the generated records change, so that a kept index is rebuilt.
const CORPUS_VERSION: u32 = 1;
const BRANCHES: u64 = 41;
/// Tier L: 5M copies of 3M titles, 200k open loans.
const COPIES_PER_RECORD: f64 = 5.0 / 3.0;
const ON_LOAN: f64 = 0.04;
const BROAD_QUERIES: usize = 40;
const DRAWN_QUERIES: usize = 400;

fn record_count() -> usize {
    std::env::var("SHOKA_BENCH_SEARCH_RECORDS").ok().and_then(|count| count.parse().ok()).unwrap_or(1_000_000)
}

fn index_folder(records: usize) -> PathBuf {
    std::env::temp_dir().join(format!("shoka-bench-search-{records}-a{ANALYSIS_VERSION}-c{CORPUS_VERSION}"))
}

fn branch(number: u64) -> String {
    format!("b{number:02}")
}

fn holdings(records: usize) -> Arc<RwLock<Holdings>> {
    let mut holdings = Holdings::new();
    let codes: Vec<String> = (0..BRANCHES).map(branch).collect();
    holdings.register_branches(codes.iter().map(String::as_str)).expect("41 branches fit");
    let mut rng = Rng::new(SEED ^ 0x5EED);
    let mut items = Vec::new();
    let mut item_id = 0;
    for bib in 1..=records as u64 {
        let copies = 1 + (rng.unit() < COPIES_PER_RECORD - 1.0) as u64 + (rng.unit() < 0.1) as u64;
        for _ in 0..copies {
            item_id += 1;
            let circulation = if rng.chance(ON_LOAN) {
                CirculationState::OnLoan { due_on: "2026-12-01".into() }
            } else {
                CirculationState::OnShelf
            };
            items.push(ItemHolding {
                item_id: ItemId(item_id),
                bib_id: BibId(bib),
                barcode: format!("2{item_id:011}"),
                // Central and the large branches hold most copies.
                branch: branch((BRANCHES as f64 * rng.unit().powi(2)) as u64),
                shelf_location: "開架".into(),
                call_number: "913.6/ナ".into(),
                material_type: "book".into(),
                status: ItemStatus::Available,
                loan_policy: LoanPolicy::Normal,
                circulation,
            });
        }
    }
    holdings.upsert_items(items).expect("copies are added");
    Arc::new(RwLock::new(holdings))
}

fn build_index(folder: &Path, records: &[BibDocument], holdings: Arc<RwLock<Holdings>>) -> CatalogueIndex {
    let building = folder.with_extension("building");
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(&building).expect("a temporary folder");
    let started = Instant::now();
    {
        let index = CatalogueIndex::create_in_dir(&building, Arc::new(RwLock::new(Holdings::new()))).expect("index");
        assert!(index.acquire_writer(512 * 1024 * 1024, 2).expect("writer"));
        for batch in records.chunks(5_000) {
            index.add_new(batch).expect("records are added");
        }
        index.commit(1).expect("commit");
        index.release_writer().expect("merges finish");
    }
    eprintln!("built an index of {} records in {:.1} s", records.len(), started.elapsed().as_secs_f64());
    std::fs::rename(&building, folder).expect("the index folder is renamed");
    CatalogueIndex::open_in_dir(folder, holdings).expect("the new index opens")
}

fn open_or_build(records: &[BibDocument], holdings: Arc<RwLock<Holdings>>) -> CatalogueIndex {
    let folder = index_folder(records.len());
    if let Ok(index) = CatalogueIndex::open_in_dir(&folder, holdings.clone()) {
        if index.document_count() == records.len() as u64 {
            eprintln!("using the index kept in {}", folder.display());
            return index;
        }
    }
    let _ = std::fs::remove_dir_all(&folder);
    build_index(&folder, records, holdings)
}

fn is_kana_or_kanji(character: char) -> bool {
    matches!(character, '\u{3041}'..='\u{30FF}' | '\u{4E00}'..='\u{9FFF}')
}

/// Two-character fragments of titles (kana or kanji only), as the search benchmark cuts them.
fn fragments(title: &str) -> Vec<String> {
    let characters: Vec<char> = title.chars().collect();
    characters
        .windows(2)
        .filter(|pair| pair.iter().all(|character| is_kana_or_kanji(*character)))
        .map(|pair| pair.iter().collect())
        .collect()
}

fn broad_queries(records: &[BibDocument]) -> Vec<String> {
    let mut frequency: HashMap<String, u64> = HashMap::new();
    for record in records {
        let mut seen = fragments(&record.title);
        seen.sort();
        seen.dedup();
        for fragment in seen {
            *frequency.entry(fragment).or_default() += 1;
        }
    }
    let mut by_frequency: Vec<(String, u64)> = frequency.into_iter().collect();
    by_frequency.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    by_frequency.into_iter().take(BROAD_QUERIES).map(|(fragment, _)| fragment).collect()
}

fn drawn_queries(records: &[BibDocument]) -> Vec<String> {
    let mut rng = Rng::new(SEED ^ 0xD2A3);
    let mut queries = Vec::new();
    while queries.len() < DRAWN_QUERIES {
        let options = fragments(&rng.pick(records).title);
        if !options.is_empty() {
            queries.push(rng.pick(&options).clone());
        }
    }
    queries
}

fn request(query: &str, with_facets: bool) -> SearchRequest {
    SearchRequest { query: query.to_string(), page: 1, per_page: 20, with_facets, ..SearchRequest::default() }
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

/// Runs every query `rounds` times (after one warm-up pass) and prints the latency percentiles.
fn report_percentiles(index: &CatalogueIndex, name: &str, queries: &[String], rounds: usize) {
    let mut total_matches = 0;
    for query in queries {
        total_matches += index.search(&request(query, true)).expect("search").total;
    }
    let mut latencies = Vec::new();
    for _ in 0..rounds {
        for query in queries {
            let started = Instant::now();
            std::hint::black_box(index.search(&request(query, true)).expect("search"));
            latencies.push(started.elapsed());
        }
    }
    latencies.sort();
    eprintln!(
        "{name}: {} queries × {rounds}, {:.0} matches on average; p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        queries.len(),
        total_matches as f64 / queries.len() as f64,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
}

fn search(c: &mut Criterion) {
    let records = corpus::records(record_count(), SEED);
    let holdings = holdings(records.len());
    let index = open_or_build(&records, holdings);
    let broad = broad_queries(&records);
    let drawn = drawn_queries(&records);
    drop(records);
    eprintln!("broad queries: {}", broad.join(" "));
    report_percentiles(&index, "broad", &broad, 5);
    report_percentiles(&index, "drawn", &drawn, 1);

    let broadest = &broad[0];
    let mut group = c.benchmark_group("search");
    group.sample_size(30);
    for with_facets in [true, false] {
        let name = format!("{broadest} {}", if with_facets { "with facets" } else { "without facets" });
        group.bench_function(name, |b| b.iter(|| index.search(&request(broadest, with_facets)).expect("search")));
    }
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
