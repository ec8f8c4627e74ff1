//! Building the catalogue index from scratch, as `shoka reindex` and the search benchmark do: JSON batches
//! of 5,000 records decoded and added with `add_new` by a writer of 512 MiB and two threads, then the
//! commit. Reports records per second (criterion's throughput), and the same for the parts the build
//! spends its time on, so a change can be aimed at the part that costs:
//!
//! - `decode`: the JSON batches into `BibDocument`s (the bindings do this per batch);
//! - `analysis`: the Japanese tokenizers over every indexed text (tantivy runs them inside the writer);
//! - `document`: a record into a tantivy document (sort keys, exact-match keys, the display blob);
//! - `build`: all of the above plus tantivy's own indexing and the commit.
//!
//! `cargo bench -p shoka-engine --bench indexing`. `SHOKA_BENCH_RECORD_COUNT` sets how many records
//! (default 100,000); `SHOKA_BENCH_RECORDS` reads real ones (see `support/corpus.rs`).

mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use parking_lot::RwLock;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use shoka_engine::catalogue::analyzer::{analyse, AnalysisMode, JapaneseFieldKind, JapaneseTokenizer};
use shoka_engine::catalogue::schema::build_schema;
use shoka_engine::catalogue::{BibDocument, CatalogueIndex};
use shoka_engine::holdings::Holdings;
use support::corpus;

/// As `service/shoka/catalogue/index_sync.py`.
const BATCH_SIZE: usize = 5_000;
/// As `loadtests/search_benchmark.py`.
const WRITER_HEAP_BYTES: usize = 512 * 1024 * 1024;
const WRITER_THREADS: usize = 2;
const SEED: u64 = 2024;

fn record_count() -> usize {
    std::env::var("SHOKA_BENCH_RECORD_COUNT").ok().and_then(|count| count.parse().ok()).unwrap_or(100_000)
}

fn json_batches(records: &[BibDocument]) -> Vec<Vec<u8>> {
    records.chunks(BATCH_SIZE).map(|batch| serde_json::to_vec(batch).expect("records serialise")).collect()
}

/// Every text the index analyses for a record, with the analysis its field uses.
fn indexed_texts(record: &BibDocument) -> Vec<(&str, JapaneseFieldKind)> {
    use JapaneseFieldKind::{Reading, Text};
    let mut texts = vec![(record.title.as_str(), Text)];
    texts.extend(record.title_reading.as_deref().map(|reading| (reading, Reading)));
    texts.extend(record.subtitle.as_deref().map(|subtitle| (subtitle, Text)));
    for author in &record.authors {
        texts.push((author.name.as_str(), Text));
        texts.extend(author.reading.as_deref().map(|reading| (reading, Reading)));
    }
    texts.extend(record.responsibility.as_deref().map(|text| (text, Text)));
    texts.extend(record.publisher.as_deref().map(|text| (text, Text)));
    texts.extend(record.publisher_reading.as_deref().map(|text| (text, Reading)));
    for text in record.subjects.iter().chain(&record.series).chain(&record.notes) {
        texts.push((text.as_str(), Text));
    }
    texts
}

/// A fresh build, timed from the first batch to the end of the commit.
fn build(batches: &[Vec<u8>]) -> Duration {
    let index = CatalogueIndex::create_in_ram(Arc::new(RwLock::new(Holdings::new()))).expect("index");
    assert!(index.acquire_writer(WRITER_HEAP_BYTES, WRITER_THREADS).expect("writer"));
    let started = Instant::now();
    for batch in batches {
        let documents: Vec<BibDocument> = serde_json::from_slice(batch).expect("records decode");
        index.add_new(&documents).expect("records are added");
    }
    index.commit(1).expect("commit");
    let elapsed = started.elapsed();
    index.release_writer().expect("merges finish");
    elapsed
}

fn indexing(c: &mut Criterion) {
    let records = corpus::records(record_count(), SEED);
    let batches = json_batches(&records);
    let (_, fields) = build_schema();
    let terms: usize = records
        .iter()
        .flat_map(indexed_texts)
        .map(|(text, kind)| analyse(text, kind, AnalysisMode::Indexing).len())
        .sum();
    eprintln!("{} records, {:.1} indexed terms a record", records.len(), terms as f64 / records.len() as f64);

    let mut group = c.benchmark_group("indexing");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("decode", |b| {
        b.iter(|| {
            for batch in &batches {
                black_box(serde_json::from_slice::<Vec<BibDocument>>(batch).expect("records decode"));
            }
        })
    });
    let tokenizer = |kind| TextAnalyzer::from(JapaneseTokenizer::new(kind, AnalysisMode::Indexing));
    let (mut text_tokenizer, mut reading_tokenizer) = (tokenizer(JapaneseFieldKind::Text), tokenizer(JapaneseFieldKind::Reading));
    group.bench_function("analysis", |b| {
        b.iter(|| {
            for record in &records {
                for (text, kind) in indexed_texts(record) {
                    let analyzer = match kind {
                        JapaneseFieldKind::Text => &mut text_tokenizer,
                        JapaneseFieldKind::Reading => &mut reading_tokenizer,
                    };
                    let mut stream = analyzer.token_stream(text);
                    while stream.advance() {
                        black_box(&stream.token().text);
                    }
                }
            }
        })
    });
    group.bench_function("document", |b| {
        b.iter(|| {
            for record in &records {
                black_box(record.to_index_document(&fields));
            }
        })
    });
    group.bench_function("build", |b| b.iter_custom(|iterations| (0..iterations).map(|_| build(&batches)).sum()));
    group.finish();
}

criterion_group!(benches, indexing);
criterion_main!(benches);
