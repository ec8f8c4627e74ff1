//! End-to-end: a small in-RAM tantivy index with a title field on `ja_text` and a reading field on
//! `ja_reading` answers the searches a Japanese OPAC user makes.

use std::collections::BTreeSet;

use shoka_engine::catalogue::analyzer::{
    query_terms, register_japanese_tokenizers, JapaneseFieldKind,
};
use tantivy::collector::DocSetCollector;
use tantivy::query::{PhraseQuery, Query, QueryParser, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED,
};
use tantivy::{doc, Index, IndexReader, TantivyDocument, Term};

const CATALOGUE: &[(&str, &str)] = &[
    ("東京都の歴史", "トウキョウト ノ レキシ"),
    ("京都と東京", "キョウト ト トウキョウ"),
    ("猫の事務所", "ネコ ノ ジムショ"),
    ("黒猫", "クロネコ"),
    ("佐佐木小次郎", "ササキ コジロウ"),
    ("國學院大學の百年", "コクガクイン ダイガク ノ ヒャクネン"),
    ("すぐ使える料理", "スグ ツカエル リョウリ"),
    ("読本", "トクホン"),
    ("桜", "サクラ"),
    ("桜並木", "ｻｸﾗ ﾅﾐｷ"),
    (
        "Harry Potter and the Philosopher's Stone",
        "ハリー ポッター ト ケンジャ ノ イシ",
    ),
];

struct Catalogue {
    reader: IndexReader,
    index: Index,
    title: Field,
    reading: Field,
}

fn japanese_text_options(field_kind: JapaneseFieldKind) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(field_kind.index_tokenizer_name())
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    TextOptions::default().set_indexing_options(indexing) | STORED
}

fn build_catalogue() -> Catalogue {
    let mut schema_builder = Schema::builder();
    let title =
        schema_builder.add_text_field("title", japanese_text_options(JapaneseFieldKind::Text));
    let reading = schema_builder.add_text_field(
        "title_reading",
        japanese_text_options(JapaneseFieldKind::Reading),
    );
    let index = Index::create_in_ram(schema_builder.build());
    register_japanese_tokenizers(index.tokenizers());
    let mut writer = index
        .writer_with_num_threads(1, 15_000_000)
        .expect("index writer");
    for (title_text, reading_text) in CATALOGUE {
        writer
            .add_document(doc!(title => *title_text, reading => *reading_text))
            .expect("add document");
    }
    writer.commit().expect("commit");
    let reader = index.reader().expect("reader");
    Catalogue {
        reader,
        index,
        title,
        reading,
    }
}

/// The query the search layer builds from [`query_terms`]: one term, or a phrase at the terms' positions.
fn query_for(field: Field, field_kind: JapaneseFieldKind, user_text: &str) -> Box<dyn Query> {
    let terms: Vec<(usize, Term)> = query_terms(user_text, field_kind)
        .into_iter()
        .map(|term| (term.position, Term::from_field_text(field, &term.text)))
        .collect();
    match terms.as_slice() {
        [] => panic!("{user_text:?} has no searchable terms"),
        [(_, term)] => Box::new(TermQuery::new(
            term.clone(),
            IndexRecordOption::WithFreqsAndPositions,
        )),
        _ => Box::new(PhraseQuery::new_with_offset(terms)),
    }
}

impl Catalogue {
    fn titles_matching(&self, query: &dyn Query) -> BTreeSet<String> {
        let searcher = self.reader.searcher();
        let addresses = searcher.search(query, &DocSetCollector).expect("search");
        addresses
            .into_iter()
            .map(|address| {
                let document: TantivyDocument = searcher.doc(address).expect("stored document");
                document
                    .get_first(self.title)
                    .and_then(|value| value.as_str())
                    .expect("title")
                    .to_string()
            })
            .collect()
    }

    fn search_titles(&self, user_text: &str) -> BTreeSet<String> {
        self.titles_matching(&*query_for(self.title, JapaneseFieldKind::Text, user_text))
    }

    fn search_readings(&self, user_text: &str) -> BTreeSet<String> {
        self.titles_matching(&*query_for(
            self.reading,
            JapaneseFieldKind::Reading,
            user_text,
        ))
    }
}

fn titles(expected: &[&str]) -> BTreeSet<String> {
    expected.iter().map(|title| title.to_string()).collect()
}

#[test]
fn phrase_for_tokyo_to_matches_its_history_but_not_kyoto_and_tokyo() {
    let catalogue = build_catalogue();
    assert_eq!(catalogue.search_titles("東京都"), titles(&["東京都の歴史"]));
    assert_eq!(
        catalogue.search_titles("東京"),
        titles(&["東京都の歴史", "京都と東京"])
    );
}

#[test]
fn a_single_kanji_finds_it_at_the_start_and_at_the_end_of_a_run() {
    let catalogue = build_catalogue();
    assert_eq!(
        catalogue.search_titles("猫"),
        titles(&["猫の事務所", "黒猫"])
    );
}

#[test]
fn iteration_marks_and_old_kanji_find_their_modern_spelling() {
    let catalogue = build_catalogue();
    assert_eq!(catalogue.search_titles("佐々木"), titles(&["佐佐木小次郎"]));
    assert_eq!(
        catalogue.search_titles("国学院"),
        titles(&["國學院大學の百年"])
    );
    assert_eq!(
        catalogue.search_titles("國學院"),
        titles(&["國學院大學の百年"])
    );
}

#[test]
fn latin_words_are_words() {
    let catalogue = build_catalogue();
    let harry_potter = titles(&["Harry Potter and the Philosopher's Stone"]);
    assert_eq!(catalogue.search_titles("harry potter"), harry_potter);
    assert_eq!(catalogue.search_titles("ＨＡＲＲＹ"), harry_potter);
    assert!(catalogue.search_titles("potter harry").is_empty());
}

#[test]
fn readings_match_without_spaces() {
    let catalogue = build_catalogue();
    assert_eq!(
        catalogue.search_readings("すぐつかえる"),
        titles(&["すぐ使える料理"])
    );
    assert_eq!(
        catalogue.search_readings("スグ ツカエル"),
        titles(&["すぐ使える料理"])
    );
}

#[test]
fn readings_tolerate_unvoiced_transcriptions() {
    let catalogue = build_catalogue();
    assert_eq!(catalogue.search_readings("どくほん"), titles(&["読本"]));
}

#[test]
fn reading_in_hiragana_finds_katakana_and_half_width_katakana() {
    let catalogue = build_catalogue();
    assert_eq!(
        catalogue.search_readings("さくら"),
        titles(&["桜", "桜並木"])
    );
    assert_eq!(
        catalogue.search_readings("はりい"),
        titles(&["Harry Potter and the Philosopher's Stone"])
    );
}

#[test]
fn query_parser_with_the_index_tokenizer_still_matches_correctly() {
    // The documented fallback: tantivy's QueryParser analyses queries with the field's index
    // tokenizer, so queries carry unigrams and the run-start term at their bigrams' positions: a
    // phrase still matches exactly. (A lone character does not: use query_terms.)
    let catalogue = build_catalogue();
    let parser = QueryParser::for_index(&catalogue.index, vec![catalogue.title]);
    let query = parser.parse_query("東京都").expect("query parses");
    assert_eq!(
        catalogue.titles_matching(&*query),
        titles(&["東京都の歴史"])
    );
}
