//! The catalogue index end to end: every query form, ISBN equivalence, phrase precision, readings,
//! old kanji forms, facets, the availability filter joined from holdings, sorting and paging.

use std::sync::Arc;

use parking_lot::RwLock;
use shoka_engine::catalogue::{BibDocument, CatalogueError, CatalogueIndex, Contributor, SearchRequest, SortOrder};
use shoka_engine::holdings::{BibId, CirculationState, Holdings, ItemHolding, ItemId, ItemStatus, LoanPolicy};

fn book(id: u64, title: &str, reading: Option<&str>) -> BibDocument {
    BibDocument {
        bib_id: BibId(id),
        title: title.to_string(),
        title_reading: reading.map(str::to_string),
        subtitle: None,
        responsibility: None,
        authors: vec![],
        publisher: None,
        publisher_reading: None,
        publication_year: None,
        edition: None,
        series: vec![],
        subjects: vec![],
        notes: vec![],
        isbns: vec![],
        ndc: None,
        language: Some("jpn".into()),
        material_type: "book".into(),
        source: Some("manual".into()),
        aozora_card_url: None,
        ndl_digital_url: None,
    }
}

fn copy(item: u64, bib: u64, branch: &str, circulation: CirculationState) -> ItemHolding {
    ItemHolding {
        item_id: ItemId(item),
        bib_id: BibId(bib),
        barcode: format!("B{item}"),
        branch: branch.into(),
        shelf_location: String::new(),
        call_number: String::new(),
        material_type: "book".into(),
        status: ItemStatus::Available,
        loan_policy: LoanPolicy::Normal,
        circulation,
    }
}

fn library() -> CatalogueIndex {
    let holdings = Arc::new(RwLock::new(Holdings::new()));
    let index = CatalogueIndex::create_in_ram(holdings.clone()).unwrap();
    assert!(index.acquire_writer(50_000_000, 1).unwrap());
    let mut tokyo = book(1, "東京都の歴史", Some("トウキョウト ノ レキシ"));
    tokyo.authors = vec![Contributor { name: "佐々木 健".into(), reading: Some("ササキ, ケン".into()), role: None }];
    tokyo.isbns = vec!["978-4-10-109205-8".into()];
    tokyo.ndc = Some("213.6".into());
    tokyo.publication_year = Some(2001);
    let mut kyoto = book(2, "京都と東京", Some("キョウト ト トウキョウ"));
    kyoto.publication_year = Some(1999);
    kyoto.ndc = Some("291.62".into());
    let mut cat = book(3, "猫の事務所", Some("ネコ ノ ジムショ"));
    cat.authors = vec![Contributor { name: "宮沢 賢治".into(), reading: Some("ミヤザワ, ケンジ".into()), role: Some("著".into()) }];
    cat.ndc = Some("913.6".into());
    cat.material_type = "e_text".into();
    cat.publication_year = Some(1926);
    let mut python = book(4, "すぐ使えるPython", Some("スグ ツカエル パイソン"));
    python.publication_year = Some(2020);
    let old_forms = book(5, "國學院大學の百年", None);
    let reader = book(6, "読本", Some("トクホン"));
    let mut potter = book(7, "Harry Potter and the Philosopher's Stone", None);
    potter.language = Some("eng".into());
    let black_cat = book(8, "黒猫", Some("クロネコ"));
    let sakura = book(9, "桜の森の満開の下", Some("サクラ ノ モリ ノ マンカイ ノ シタ"));
    index.upsert(&[tokyo, kyoto, cat, python, old_forms, reader, potter, black_cat, sakura]).unwrap();
    index.commit(1).unwrap();
    let mut holdings = holdings.write();
    holdings.register_branches(["central", "gyotoku"]).unwrap();
    holdings
        .upsert_items([
            copy(30, 3, "central", CirculationState::OnShelf),
            copy(31, 3, "gyotoku", CirculationState::OnLoan { due_on: "2026-12-01".into() }),
            copy(10, 1, "gyotoku", CirculationState::OnLoan { due_on: "2026-12-05".into() }),
            copy(20, 2, "gyotoku", CirculationState::OnShelf),
        ])
        .unwrap();
    drop(holdings);
    index
}

fn request(query: &str) -> SearchRequest {
    SearchRequest { query: query.into(), page: 1, per_page: 10, with_facets: true, ..SearchRequest::default() }
}

fn ids(index: &CatalogueIndex, request: SearchRequest) -> Vec<u64> {
    index.search(&request).unwrap().hits.iter().map(|hit| hit.bib_id.0).collect()
}

fn find(index: &CatalogueIndex, query: &str) -> Vec<u64> {
    let mut found = ids(index, request(query));
    found.sort();
    found
}

#[test]
fn phrase_precision_and_lone_characters() {
    let index = library();
    assert_eq!(find(&index, "東京都"), [1], "東京都 must not match 京都と東京");
    assert_eq!(find(&index, "\"東京都\""), [1]);
    assert_eq!(find(&index, "猫"), [3, 8], "a lone kanji finds 猫の事務所 and 黒猫");
}

#[test]
fn readings_in_any_script_spacing_and_voicing() {
    let index = library();
    for query in ["すぐつかえる", "スグツカエル", "ｽｸﾞﾂｶｴﾙ", "すぐ つかえる"] {
        assert_eq!(find(&index, query), [4], "{query}");
    }
    assert_eq!(find(&index, "どくほん"), [6], "unvoiced transcription トクホン");
    assert_eq!(find(&index, "さくら"), [9]);
    assert_eq!(find(&index, "みやざわ"), [3]);
}

#[test]
fn one_kana_finds_titles_with_it_and_prefixes_find_readings() {
    let index = library();
    // Readings index bigrams only, so a lone kana is looked for in titles and names, not in every
    // reading that holds it (トウキョウト ノ レキシ holds と too).
    assert_eq!(find(&index, "と"), [2]);
    assert_eq!(find(&index, "author:みやざ*"), [3]);
    assert_eq!(find(&index, "みや*"), [3]);
    assert_eq!(find(&index, "title:さくらの*"), [9]);
}

#[test]
fn old_and_variant_kanji_and_iteration_marks() {
    let index = library();
    assert_eq!(find(&index, "国学院"), [5]);
    assert_eq!(find(&index, "國學院"), [5]);
    assert_eq!(find(&index, "佐佐木"), [1]);
    assert_eq!(find(&index, "佐々木"), [1]);
}

#[test]
fn isbn_ten_and_thirteen_with_or_without_hyphens() {
    let index = library();
    for query in ["9784101092058", "978-4-10-109205-8", "4101092052", "4-10-109205-2", "isbn:4101092052"] {
        assert_eq!(find(&index, query), [1], "{query}");
    }
    let advanced = SearchRequest { isbn: Some("4-10-109205-2".into()), ..request("") };
    assert_eq!(ids(&index, advanced), [1]);
}

#[test]
fn boolean_operators_fields_prefix_and_exact() {
    let index = library();
    assert_eq!(find(&index, "猫 OR 読本"), [3, 6, 8]);
    assert_eq!(find(&index, "猫 -黒猫"), [3]);
    assert_eq!(find(&index, "猫 NOT 黒猫"), [3]);
    assert_eq!(find(&index, "(猫 OR 東京都) 事務所"), [3]);
    assert_eq!(find(&index, "author:宮沢"), [3]);
    assert_eq!(find(&index, "title:宮沢"), Vec::<u64>::new());
    assert_eq!(find(&index, "potter"), [7]);
    assert_eq!(find(&index, "pott*"), [7]);
    assert_eq!(find(&index, "title:=\"猫の事務所\""), [3]);
    assert_eq!(find(&index, "title:=\"猫の事務\""), Vec::<u64>::new(), "exact means the whole title");
}

#[test]
fn ndc_prefix_and_year_ranges() {
    let index = library();
    assert_eq!(find(&index, "ndc:913"), [3]);
    assert_eq!(find(&index, "ndc:91"), [3]);
    assert_eq!(find(&index, "ndc:2"), [1, 2]);
    assert_eq!(find(&index, "year:1999-2001"), [1, 2]);
    assert_eq!(find(&index, "year:2020-"), [4]);
    assert!(matches!(index.search(&request("year:abc")), Err(CatalogueError::InvalidYear(_))));
}

#[test]
fn exact_title_matches_rank_first() {
    let index = library();
    assert_eq!(ids(&index, request("猫の事務所"))[0], 3);
    assert_eq!(ids(&index, request("京都と東京"))[0], 2);
    assert_eq!(ids(&index, request("きょうとととうきょう"))[0], 2, "the whole reading is an exact match too");
}

#[test]
fn words_that_begin_a_title_rank_above_words_inside_a_name() {
    let holdings = Arc::new(RwLock::new(Holdings::new()));
    let index = CatalogueIndex::create_in_ram(holdings).unwrap();
    index.acquire_writer(50_000_000, 1).unwrap();
    let mut by_kaneko = book(1, "ことりのおでかけ", Some("コトリ ノ オデカケ"));
    by_kaneko.authors = vec![Contributor { name: "かねこ, りん".into(), reading: Some("カネコ, リン".into()), role: None }];
    let forest = book(2, "ねこの森", Some("ネコ ノ モリ"));
    index.upsert(&[by_kaneko, forest]).unwrap();
    index.commit(1).unwrap();
    assert_eq!(ids(&index, request("ねこ")), [2, 1]);
}

#[test]
fn availability_is_joined_from_holdings_at_query_time() {
    let index = library();
    let available_at = |branch: &str| SearchRequest {
        branch: Some(branch.into()),
        available_only: true,
        ..request("")
    };
    assert_eq!(ids(&index, available_at("central")), [3]);
    let mut at_gyotoku = ids(&index, available_at("gyotoku"));
    at_gyotoku.sort();
    assert_eq!(at_gyotoku, [2]);
    // A return shows at once, without re-indexing.
    index.holdings().write().set_circulation(ItemId(10), CirculationState::OnShelf);
    let mut at_gyotoku = ids(&index, available_at("gyotoku"));
    at_gyotoku.sort();
    assert_eq!(at_gyotoku, [1, 2]);
    let page = index.search(&request("猫の事務所")).unwrap();
    let labels: Vec<(&str, &str)> =
        page.hits[0].availability.iter().map(|row| (row.branch.as_str(), row.label.as_str())).collect();
    assert_eq!(labels, [("central", "貸出可"), ("gyotoku", "貸出中")]);
    assert!(matches!(
        index.search(&SearchRequest { branch: Some("nowhere".into()), ..request("猫") }),
        Err(CatalogueError::UnknownBranch(_))
    ));
}

#[test]
fn facets_count_the_whole_result() {
    let index = library();
    let page = index.search(&request("")).unwrap();
    assert_eq!(page.total, 9);
    let facets = page.facets.unwrap();
    let material: Vec<(&str, u64)> = facets.material_type.iter().map(|f| (f.value.as_str(), f.count)).collect();
    assert_eq!(material, [("book", 8), ("e_text", 1)]);
    let branches: Vec<(&str, u64)> = facets.branch.iter().map(|f| (f.value.as_str(), f.count)).collect();
    assert_eq!(branches, [("central", 1), ("gyotoku", 3)]);
    let availability: Vec<(&str, u64)> = facets.availability.iter().map(|f| (f.value.as_str(), f.count)).collect();
    assert_eq!(availability, [("available", 2), ("unavailable", 7)]);
    assert!(facets.year.iter().any(|f| f.value == "2020-2029" && f.count == 1));
    assert!(facets.language.iter().any(|f| f.value == "eng" && f.count == 1));
    let ndc: Vec<&str> = facets.ndc_class.iter().map(|f| f.value.as_str()).collect();
    assert_eq!(ndc, ["2", "9"]);
}

#[test]
fn facets_are_exact_over_many_blocks_of_matches() {
    // Facets are counted a block of matches at a time; 1,000 records cross many block boundaries, and
    // the counts must be those of counting record by record.
    let holdings = Arc::new(RwLock::new(Holdings::new()));
    let index = CatalogueIndex::create_in_ram(holdings.clone()).unwrap();
    index.acquire_writer(50_000_000, 2).unwrap();
    let mut records = Vec::new();
    for id in 1..=1_000u64 {
        let mut record = book(id, if id % 3 == 0 { "猫の本" } else { "犬の本" }, None);
        record.material_type = ["book", "children_book", "av_dvd"][id as usize % 3].into();
        record.language = Some(if id % 7 == 0 { "eng" } else { "jpn" }.into());
        record.ndc = (id % 5 != 0).then(|| format!("{}13", id % 10));
        record.publication_year = match id % 11 {
            0 => None,
            1 => Some(3456),
            _ => Some(1950 + (id as i64 % 70)),
        };
        records.push(record);
    }
    index.add_new(&records).unwrap();
    index.commit(1).unwrap();
    let mut copies = Vec::new();
    for id in (1..=1_000u64).filter(|id| id % 4 != 0) {
        let on_loan = CirculationState::OnLoan { due_on: "2026-12-01".into() };
        copies.push(copy(id, id, if id % 2 == 0 { "central" } else { "gyotoku" }, if id % 6 == 1 { on_loan } else { CirculationState::OnShelf }));
    }
    holdings.write().register_branches(["central", "gyotoku"]).unwrap();
    holdings.write().upsert_items(copies).unwrap();

    let page = index.search(&request("本")).unwrap();
    assert_eq!(page.total, 1_000);
    let facets = page.facets.unwrap();
    let counted = |values: &[shoka_engine::catalogue::search::FacetCount]| -> Vec<(String, u64)> {
        let mut pairs: Vec<(String, u64)> = values.iter().map(|f| (f.value.clone(), f.count)).collect();
        pairs.sort();
        pairs
    };
    let expected = |key: &dyn Fn(u64) -> Option<String>| -> Vec<(String, u64)> {
        let mut counts = std::collections::BTreeMap::new();
        for id in 1..=1_000u64 {
            if let Some(value) = key(id) {
                *counts.entry(value).or_insert(0u64) += 1;
            }
        }
        counts.into_iter().collect()
    };
    assert_eq!(counted(&facets.material_type), expected(&|id| Some(["book", "children_book", "av_dvd"][id as usize % 3].into())));
    assert_eq!(counted(&facets.language), expected(&|id| Some(if id % 7 == 0 { "eng" } else { "jpn" }.into())));
    assert_eq!(counted(&facets.ndc_class), expected(&|id| (id % 5 != 0).then(|| (id % 10).to_string())));
    assert_eq!(
        counted(&facets.year),
        expected(&|id| match id % 11 {
            0 => None,
            1 => Some("3450-3459".into()),
            _ => {
                let decade = (1950 + id % 70) / 10 * 10;
                Some(format!("{decade}-{}", decade + 9))
            }
        })
    );
    assert_eq!(
        counted(&facets.branch),
        expected(&|id| (id % 4 != 0).then(|| if id % 2 == 0 { "central" } else { "gyotoku" }.into()))
    );
    assert_eq!(
        counted(&facets.availability),
        expected(&|id| Some(if id % 4 != 0 && id % 6 != 1 { "available" } else { "unavailable" }.into()))
    );
    // The branch filter, checked a block of matches at a time too, passes exactly the qualifying records.
    let held_at_gyotoku = |available_only| SearchRequest { branch: Some("gyotoku".into()), available_only, ..request("本") };
    let filtered = index.search(&held_at_gyotoku(false)).unwrap();
    assert_eq!(filtered.total, (1..=1_000u64).filter(|id| id % 4 != 0 && id % 2 == 1).count() as u64);
    let available = index.search(&held_at_gyotoku(true)).unwrap();
    assert_eq!(available.total, (1..=1_000u64).filter(|id| id % 4 != 0 && id % 2 == 1 && id % 6 != 1).count() as u64);
    assert!(available.hits.iter().all(|hit| hit.bib_id.0 % 2 == 1 && hit.bib_id.0 % 6 != 1));
    let only_cats = index.search(&request("猫")).unwrap();
    assert_eq!(only_cats.total, 333);
    assert_eq!(counted(&only_cats.facets.unwrap().material_type), [("book".to_string(), 333)]);
}

#[test]
fn sorting_by_year_title_reading_and_author() {
    let index = library();
    let sorted = |sort| ids(&index, SearchRequest { sort, ..request("year:1900-2100") });
    assert_eq!(sorted(SortOrder::YearNewest), [4, 1, 2, 3]);
    assert_eq!(sorted(SortOrder::YearOldest), [3, 2, 1, 4]);
    // きょうと < すぐ < とうきょうと < ねこ (Japanese order of the readings)
    assert_eq!(sorted(SortOrder::Title), [2, 4, 1, 3]);
    let by_author = ids(&index, SearchRequest { sort: SortOrder::Author, ..request("猫 OR 東京都") });
    assert_eq!(by_author[..2], [1, 3], "ささき before みやざわ; records without author last");
}

#[test]
fn paging_is_bounded() {
    let index = library();
    let page_two = index.search(&SearchRequest { page: 2, per_page: 10, ..request("") }).unwrap();
    assert!(page_two.hits.is_empty() && page_two.total == 9);
    for per_page in [9, 101] {
        assert!(matches!(
            index.search(&SearchRequest { per_page, ..request("") }),
            Err(CatalogueError::InvalidPageSize { .. })
        ));
    }
    assert!(matches!(
        index.search(&SearchRequest { page: 1001, per_page: 10, ..request("") }),
        Err(CatalogueError::PageTooDeep { .. })
    ));
}

#[test]
fn updates_and_deletes_replace_the_record() {
    let index = library();
    let mut renamed = book(6, "改訂 読本", Some("カイテイ トクホン"));
    renamed.publication_year = Some(2024);
    index.upsert(&[renamed]).unwrap();
    index.delete(&[BibId(8)]).unwrap();
    index.commit(2).unwrap();
    assert_eq!(find(&index, "改訂"), [6]);
    assert_eq!(find(&index, "猫"), [3]);
    assert_eq!(index.document_count(), 8);
    assert_eq!(index.committed_outbox_seq().unwrap(), Some(2));
}

#[test]
fn nothing_searchable_matches_nothing_and_empty_browses() {
    let index = library();
    assert_eq!(find(&index, "・・・"), Vec::<u64>::new());
    assert_eq!(index.search(&request("")).unwrap().total, 9);
}

#[test]
fn an_index_of_another_analysis_version_is_refused() {
    let folder = std::env::temp_dir().join(format!("shoka-analysis-version-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let holdings = || Arc::new(RwLock::new(Holdings::new()));
    {
        let index = CatalogueIndex::create_in_dir(&folder, holdings()).unwrap();
        index.acquire_writer(50_000_000, 1).unwrap();
        index.upsert(&[book(1, "猫", None)]).unwrap();
        index.commit(7).unwrap();
        index.release_writer().unwrap();
    }
    let reopened = CatalogueIndex::open_in_dir(&folder, holdings()).unwrap();
    assert_eq!(reopened.committed_outbox_seq().unwrap(), Some(7));
    drop(reopened);
    let meta = folder.join("meta.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    std::fs::write(&meta, text.replace("analysis=", "analysis=1").replace("analysis=12", "analysis=1")).unwrap();
    assert!(matches!(
        CatalogueIndex::open_in_dir(&folder, holdings()),
        Err(CatalogueError::IncompatibleIndex { .. })
    ));
    std::fs::remove_dir_all(&folder).unwrap();
}
