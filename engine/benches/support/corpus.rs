//! Catalogue records for the benchmarks: generated from the demo library's vocabulary with a fixed seed,
//! or read from a JSON lines file of engine documents (one exported from a loaded tier, see below).
//!
//! The generator follows `data/demo/shoka_demo` closely enough for the index to see the same kind of
//! text: titles from the same patterns filled with the same words (猫の夜 read ネコ ノ ヨル), NDL-style
//! readings, authors drawn from a skewed pool so that prolific authors have many books, publishers
//! with their readings, subjects, notes and series in the same proportions as tier S, and the tier's
//! material types and languages. It reads the vocabulary files at compile time, so the benchmarks run
//! on a clean clone; it is not the demo generator, and its records are not tier S's records.
//!
//! `SHOKA_BENCH_RECORDS=/path/to/records.jsonl` replaces the generated records with real ones; each
//! line is a `BibDocument` as the service hands it to the engine. To export tier S's:
//!
//! ```text
//! .venv/bin/python - "$SHOKA_HOME/pg" /tmp/tier-s.jsonl <<'EOF'
//! import sys, msgspec, psycopg
//! from pathlib import Path
//! from shoka.db.server import start_embedded_server, with_database_name, EMBEDDED_DATABASE_NAME
//! from shoka.catalogue import index_sync
//! url = with_database_name(start_embedded_server(Path(sys.argv[1])), EMBEDDED_DATABASE_NAME)
//! with psycopg.connect(url) as connection, open(sys.argv[2], "wb") as out:
//!     for row in connection.execute(index_sync._BIB_DOCUMENT_SELECT + " WHERE NOT is_withdrawn ORDER BY id"):
//!         out.write(msgspec.json.encode(dict(zip(index_sync._BIB_DOCUMENT_KEYS, row))) + b"\n")
//! EOF
//! ```

use std::collections::HashMap;
use std::io::{BufRead, BufReader};

use shoka_engine::catalogue::{BibDocument, Contributor};
use shoka_engine::holdings::BibId;

/// The environment variable naming a JSON lines file of records to use instead of generated ones.
pub const RECORDS_FILE_VARIABLE: &str = "SHOKA_BENCH_RECORDS";

const WORDS: &str = include_str!("../../../data/demo/shoka_demo/vocabulary/words.tsv");
const TITLE_PATTERNS: &str = include_str!("../../../data/demo/shoka_demo/vocabulary/title_patterns.tsv");
const TOPICS: &str = include_str!("../../../data/demo/shoka_demo/vocabulary/topics.tsv");
const FAMILY_NAMES: &str = include_str!("../../../data/demo/shoka_demo/vocabulary/family_names.tsv");
const GIVEN_NAMES: &str = include_str!("../../../data/demo/shoka_demo/vocabulary/given_names.tsv");
const PUBLISHERS: &str = include_str!("../../../data/demo/shoka_demo/vocabulary/publishers.tsv");
const SERIES: &str = include_str!("../../../data/demo/shoka_demo/vocabulary/series.tsv");
const ENGLISH_WORDS: &str = include_str!("../../../data/demo/shoka_demo/vocabulary/english_words.tsv");

/// Notes as NDL records carry them; tier S has a note on about one record in five.
const NOTES: [&str; 6] = ["文献あり", "索引あり", "年譜あり", "文献あり 索引あり", "著作目録あり", "付属資料: CD1枚"];

/// A material type, how common it is (per mille, as in tier S), and the title patterns its records
/// draw from (kinds of `title_patterns.tsv`, weighted).
struct MaterialType {
    name: &'static str,
    per_mille: u32,
    title_kinds: &'static [(&'static str, u32)],
}

static MATERIAL_TYPES: [MaterialType; 7] = [
    MaterialType {
        name: "book",
        per_mille: 645,
        title_kinds: &[("fiction", 50), ("nonfiction", 35), ("place_history", 5), ("place_travel", 5), ("reference", 1)],
    },
    MaterialType {
        name: "children_book",
        per_mille: 274,
        title_kinds: &[("children", 45), ("picture", 35), ("children_nonfiction", 20)],
    },
    MaterialType { name: "av_dvd", per_mille: 20, title_kinds: &[("fiction", 1), ("nonfiction", 1)] },
    MaterialType { name: "reference", per_mille: 20, title_kinds: &[("reference", 1)] },
    MaterialType { name: "av_cd", per_mille: 20, title_kinds: &[("fiction", 1), ("nonfiction", 1)] },
    MaterialType { name: "large_print", per_mille: 12, title_kinds: &[("fiction", 1)] },
    MaterialType { name: "kamishibai", per_mille: 9, title_kinds: &[("picture", 1)] },
];

/// SplitMix64: a fixed seed gives the same records on every machine, with no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound.max(1) as u64) as usize
    }

    pub fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    pub fn pick<'a, T>(&mut self, values: &'a [T]) -> &'a T {
        &values[self.below(values.len())]
    }

    fn weighted<'a, T>(&mut self, values: &'a [(T, u32)]) -> &'a T {
        let total: u32 = values.iter().map(|(_, weight)| weight).sum();
        let mut chosen = self.below(total as usize) as u32;
        for (value, weight) in values {
            if chosen < *weight {
                return value;
            }
            chosen -= weight;
        }
        &values[values.len() - 1].0
    }
}

/// A word with its reading (`猫`, `ネコ`).
#[derive(Clone, Copy)]
struct Word {
    surface: &'static str,
    reading: &'static str,
}

struct Topic {
    word: Word,
    ndc: &'static str,
    subject: &'static str,
}

struct Publisher {
    word: Word,
    isbn_prefix: &'static str,
}

/// Tab-separated rows of a vocabulary file, comments and blank lines left out.
fn rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()).map(|line| line.split('\t').collect())
}

struct Vocabulary {
    words: HashMap<&'static str, Vec<Word>>,
    patterns: HashMap<&'static str, Vec<(Word, u32)>>,
    topics: Vec<Topic>,
    /// Family names repeated by their weight, so common names are common.
    family_names: Vec<Word>,
    given_names: Vec<Word>,
    publishers: Vec<Publisher>,
    series: Vec<&'static str>,
    english_adjectives: Vec<&'static str>,
    english_nouns: Vec<&'static str>,
}

impl Vocabulary {
    fn load() -> Vocabulary {
        let mut words: HashMap<&str, Vec<Word>> = HashMap::new();
        for row in rows(WORDS) {
            words.entry(row[0]).or_default().push(Word { surface: row[1], reading: row[2] });
        }
        let mut patterns: HashMap<&str, Vec<(Word, u32)>> = HashMap::new();
        for row in rows(TITLE_PATTERNS) {
            let weight = row[3].trim().parse().expect("pattern weight");
            patterns.entry(row[0]).or_default().push((Word { surface: row[1], reading: row[2] }, weight));
        }
        let topics = rows(TOPICS)
            .map(|row| Topic { word: Word { surface: row[1], reading: row[2] }, ndc: row[3], subject: row[4] })
            .collect();
        let family_names = rows(FAMILY_NAMES)
            .flat_map(|row| {
                let weight: usize = row[2].trim().parse().expect("family name weight");
                std::iter::repeat_n(Word { surface: row[0], reading: row[1] }, weight)
            })
            .collect();
        let given_names = rows(GIVEN_NAMES).map(|row| Word { surface: row[1], reading: row[2] }).collect();
        let publishers = rows(PUBLISHERS)
            .map(|row| Publisher { word: Word { surface: row[0], reading: row[1] }, isbn_prefix: row[2] })
            .collect();
        let series = rows(SERIES).map(|row| row[1]).collect();
        let english = |category: &str| rows(ENGLISH_WORDS).filter(|row| row[0] == category).map(|row| row[1]).collect();
        Vocabulary {
            words,
            patterns,
            topics,
            family_names,
            given_names,
            publishers,
            series,
            english_adjectives: english("adj"),
            english_nouns: english("noun"),
        }
    }

    /// Fills a pattern's slots ({N}, {N2}, {T}, ...) with words, the same word in surface and reading.
    fn fill(&self, pattern: Word, topic: &Topic, rng: &mut Rng) -> (String, String) {
        let mut chosen: Vec<(&str, Word)> = Vec::new();
        let mut fill_one = |template: &'static str, reading: bool, chosen: &mut Vec<(&'static str, Word)>| {
            let mut filled = String::new();
            let mut rest = template;
            while let Some(open) = rest.find('{') {
                filled.push_str(&rest[..open]);
                let close = open + rest[open..].find('}').expect("a closed slot");
                let slot = &rest[open + 1..close];
                let word = match chosen.iter().find(|(name, _)| *name == slot) {
                    Some((_, word)) => *word,
                    None => {
                        let word = match &slot[..1] {
                            "T" => topic.word,
                            letter => *rng.pick(&self.words[slot_category(letter)]),
                        };
                        chosen.push((slot, word));
                        word
                    }
                };
                filled.push_str(if reading { word.reading } else { word.surface });
                rest = &rest[close + 1..];
            }
            filled.push_str(rest);
            filled
        };
        let surface = fill_one(pattern.surface, false, &mut chosen);
        let reading = fill_one(pattern.reading, true, &mut chosen);
        (surface, reading)
    }
}

fn slot_category(letter: &str) -> &'static str {
    match letter {
        "N" => "noun",
        "A" => "adj",
        "S" => "season",
        "P" => "place",
        "F" => "fplace",
        "E" => "era",
        "X" => "animal",
        "Y" => "thing",
        "Q" => "pbadj",
        other => panic!("unknown title pattern slot {other}"),
    }
}

fn isbn13(prefix: &str, rng: &mut Rng) -> String {
    let mut digits = format!("978{prefix}");
    while digits.len() < 12 {
        digits.push(char::from(b'0' + rng.below(10) as u8));
    }
    let sum: u32 = digits.bytes().enumerate().map(|(i, d)| (d - b'0') as u32 * if i % 2 == 0 { 1 } else { 3 }).sum();
    digits.push(char::from(b'0' + ((10 - sum % 10) % 10) as u8));
    digits
}

/// One Japanese creator of a skewed pool: a low index is a prolific author.
fn creator(vocabulary: &Vocabulary, pool_size: usize, role: &str, rng: &mut Rng) -> Contributor {
    let index = (pool_size as f64 * rng.unit().powf(1.7)) as usize;
    let family = vocabulary.family_names[index.wrapping_mul(2_654_435_761) % vocabulary.family_names.len()];
    let given = vocabulary.given_names[(index * 40_503 + index / vocabulary.family_names.len()) % vocabulary.given_names.len()];
    Contributor {
        name: format!("{}, {}", family.surface, given.surface),
        reading: Some(format!("{}, {}", family.reading, given.reading)),
        role: Some(role.to_string()),
    }
}

fn display_name(contributor: &Contributor) -> String {
    contributor.name.replace(", ", "")
}

/// `count` generated records with ids 1..=count, the same for the same seed.
pub fn generate(count: usize, seed: u64) -> Vec<BibDocument> {
    let vocabulary = Vocabulary::load();
    let mut rng = Rng::new(seed);
    let pool_size = (count / 8).max(300);
    (1..=count as u64).map(|id| generate_one(&vocabulary, pool_size, id, &mut rng)).collect()
}

fn pick_material_type(rng: &mut Rng) -> &'static MaterialType {
    let total: u32 = MATERIAL_TYPES.iter().map(|material| material.per_mille).sum();
    let mut chosen = rng.below(total as usize) as u32;
    for material in &MATERIAL_TYPES {
        if chosen < material.per_mille {
            return material;
        }
        chosen -= material.per_mille;
    }
    &MATERIAL_TYPES[MATERIAL_TYPES.len() - 1]
}

fn generate_one(vocabulary: &Vocabulary, pool_size: usize, id: u64, rng: &mut Rng) -> BibDocument {
    let material = pick_material_type(rng);
    let material_type = material.name;
    let kind = *rng.weighted(material.title_kinds);
    let topic = rng.pick(&vocabulary.topics);
    let english = material_type == "book" && rng.chance(0.015);
    let (title, title_reading) = if english {
        (format!("The {} {}", rng.pick(&vocabulary.english_adjectives), rng.pick(&vocabulary.english_nouns)), None)
    } else {
        let pattern = *rng.weighted(&vocabulary.patterns[kind]);
        let (surface, reading) = vocabulary.fill(pattern, topic, rng);
        (surface, Some(reading))
    };
    let nonfiction = kind.contains("nonfiction") || kind == "reference";
    let subtitle = (!english && rng.chance(0.10)).then(|| {
        let kind = if nonfiction { "subtitle" } else { "fiction_subtitle" };
        vocabulary.fill(*rng.weighted(&vocabulary.patterns[kind]), topic, rng).0
    });
    let mut authors = vec![creator(vocabulary, pool_size, "著", rng)];
    if matches!(kind, "children" | "picture") && rng.chance(0.5) {
        authors.push(creator(vocabulary, pool_size, "絵", rng));
    }
    let responsibility = authors
        .iter()
        .map(|author| format!("{} {}", display_name(author), author.role.as_deref().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(" ; ");
    let publisher = rng.pick(&vocabulary.publishers);
    let year = 2026 - (76.0 * rng.unit().powi(2)) as i64;
    let ndc = match kind {
        "fiction" => "913.6",
        "children" => "913",
        "picture" => "726.6",
        "place_history" => "213.5",
        "place_travel" => "291.35",
        _ => topic.ndc,
    };
    BibDocument {
        bib_id: BibId(id),
        title,
        title_reading,
        subtitle,
        responsibility: Some(responsibility),
        authors,
        publisher: Some(publisher.word.surface.to_string()),
        publisher_reading: Some(publisher.word.reading.to_string()),
        publication_year: Some(year),
        edition: rng.chance(0.03).then(|| "新版".to_string()),
        series: if rng.chance(0.126) { vec![format!("{} ; {}", rng.pick(&vocabulary.series), rng.below(900) + 1)] } else { vec![] },
        subjects: if nonfiction || rng.chance(0.2) { vec![topic.subject.to_string()] } else { vec![] },
        notes: if rng.chance(0.185) { vec![rng.pick(&NOTES).to_string()] } else { vec![] },
        isbns: if publisher.isbn_prefix.is_empty() || year < 1981 { vec![] } else { vec![isbn13(publisher.isbn_prefix, rng)] },
        ndc: Some(ndc.to_string()),
        language: Some(if english { "eng" } else { "jpn" }.to_string()),
        material_type: material_type.to_string(),
        source: Some("manual".to_string()),
        aozora_card_url: None,
        ndl_digital_url: None,
    }
}

/// The records named by `SHOKA_BENCH_RECORDS` (at most `count`), or `count` generated ones.
pub fn records(count: usize, seed: u64) -> Vec<BibDocument> {
    let Ok(path) = std::env::var(RECORDS_FILE_VARIABLE) else { return generate(count, seed) };
    let file = std::fs::File::open(&path).unwrap_or_else(|error| panic!("{RECORDS_FILE_VARIABLE}={path}: {error}"));
    BufReader::new(file)
        .lines()
        .take(count)
        .map(|line| {
            let line = line.unwrap_or_else(|error| panic!("{path}: {error}"));
            serde_json::from_str(&line).unwrap_or_else(|error| panic!("{path}: not a bib document: {error}"))
        })
        .collect()
}
