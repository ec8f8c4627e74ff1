//! A bibliographic record as the service hands it to the engine, and how it becomes an index document.

use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;

use super::analyzer::{fold_reading, fold_text};
use super::isbn::isbn13;
use super::schema::CatalogueFields;
use crate::holdings::BibId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contributor {
    pub name: String,
    #[serde(default)]
    pub reading: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
}

/// The extracted fields of one record (PostgreSQL's `bib` row), the unit of indexing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BibDocument {
    pub bib_id: BibId,
    pub title: String,
    #[serde(default)]
    pub title_reading: Option<String>,
    #[serde(default)]
    pub subtitle: Option<String>,
    #[serde(default)]
    pub responsibility: Option<String>,
    #[serde(default)]
    pub authors: Vec<Contributor>,
    #[serde(default)]
    pub publisher: Option<String>,
    #[serde(default)]
    pub publisher_reading: Option<String>,
    #[serde(default)]
    pub publication_year: Option<i64>,
    #[serde(default)]
    pub edition: Option<String>,
    #[serde(default)]
    pub series: Vec<String>,
    #[serde(default)]
    pub subjects: Vec<String>,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub isbns: Vec<String>,
    #[serde(default)]
    pub ndc: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    pub material_type: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub aozora_card_url: Option<String>,
    #[serde(default)]
    pub ndl_digital_url: Option<String>,
}

/// What a hit shows, stored with the document so that a search needs no database round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HitDisplay {
    pub title: String,
    pub title_reading: Option<String>,
    pub subtitle: Option<String>,
    pub responsibility: Option<String>,
    pub authors: Vec<Contributor>,
    pub publisher: Option<String>,
    pub publication_year: Option<i64>,
    pub edition: Option<String>,
    pub isbns: Vec<String>,
    pub ndc: Option<String>,
    pub language: Option<String>,
    pub material_type: String,
    pub source: Option<String>,
    pub aozora_card_url: Option<String>,
    pub ndl_digital_url: Option<String>,
}

/// The key under which a whole title, title plus subtitle, or reading is matched exactly: folded,
/// with spaces and punctuation removed (「銀河鉄道の夜」 and 銀河鉄道の夜 agree).
pub fn exact_key(text: &str) -> String {
    alphanumeric_only(&fold_text(text))
}

/// The same for readings, which also fold voicing, small kana and the long vowel mark.
pub fn exact_reading_key(text: &str) -> String {
    alphanumeric_only(&fold_reading(text))
}

fn alphanumeric_only(folded: &str) -> String {
    folded.chars().filter(|character| character.is_alphanumeric()).collect()
}

/// What [`HitDisplay`] deserialises, serialised from the record without copying it (a build stores
/// one per record). `display_is_stored_as_hit_display` keeps the two in step.
#[derive(Serialize)]
struct StoredDisplay<'a> {
    title: &'a str,
    title_reading: &'a Option<String>,
    subtitle: &'a Option<String>,
    responsibility: &'a Option<String>,
    authors: &'a [Contributor],
    publisher: &'a Option<String>,
    publication_year: Option<i64>,
    edition: &'a Option<String>,
    isbns: &'a [String],
    ndc: &'a Option<String>,
    language: &'a Option<String>,
    material_type: &'a str,
    source: &'a Option<String>,
    aozora_card_url: &'a Option<String>,
    ndl_digital_url: &'a Option<String>,
}

/// NDC classes from the notation: "913.6" → ["9", "91", "913", "913.6"], so 913 finds 913.6.
pub fn ndc_prefixes(ndc: &str) -> Vec<String> {
    let notation: String = ndc.trim().chars().filter(|c| c.is_ascii_digit() || *c == '.').collect();
    let mut prefixes = Vec::new();
    for (index, character) in notation.char_indices() {
        if character == '.' {
            continue;
        }
        prefixes.push(notation[..index + character.len_utf8()].to_string());
    }
    prefixes
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|text| !text.is_empty())
}

impl BibDocument {
    pub fn to_index_document(&self, fields: &CatalogueFields) -> TantivyDocument {
        let mut document = TantivyDocument::new();
        document.add_u64(fields.bib_id, self.bib_id.0);
        document.add_text(fields.title, &self.title);
        document.add_text(fields.exact, exact_key(&self.title));
        if let Some(subtitle) = non_empty(&self.subtitle) {
            document.add_text(fields.subtitle, subtitle);
            document.add_text(fields.exact, exact_key(&format!("{}{}", self.title, subtitle)));
        }
        // The folded reading gives both the exact-match key and the sort key.
        let folded_title_reading = non_empty(&self.title_reading).map(fold_reading);
        if let (Some(reading), Some(folded)) = (non_empty(&self.title_reading), &folded_title_reading) {
            document.add_text(fields.title_reading, reading);
            document.add_text(fields.exact, alphanumeric_only(folded));
        }
        for author in &self.authors {
            document.add_text(fields.author, &author.name);
            if let Some(reading) = non_empty(&author.reading) {
                document.add_text(fields.author_reading, reading);
            }
        }
        if let Some(responsibility) = non_empty(&self.responsibility) {
            document.add_text(fields.author, responsibility);
        }
        if let Some(publisher) = non_empty(&self.publisher) {
            document.add_text(fields.publisher, publisher);
        }
        if let Some(reading) = non_empty(&self.publisher_reading) {
            document.add_text(fields.publisher_reading, reading);
        }
        for subject in &self.subjects {
            document.add_text(fields.subject, subject);
        }
        for series in &self.series {
            document.add_text(fields.series, series);
        }
        for note in &self.notes {
            document.add_text(fields.notes, note);
        }
        let isbns: Vec<String> = self.isbns.iter().filter_map(|text| isbn13(text)).collect();
        for isbn in &isbns {
            document.add_text(fields.isbn, isbn);
        }
        if let Some(ndc) = non_empty(&self.ndc) {
            document.add_text(fields.ndc, ndc);
            for prefix in ndc_prefixes(ndc) {
                document.add_text(fields.ndc_prefix, &prefix);
            }
            if let Some(class) = ndc.chars().next().filter(char::is_ascii_digit) {
                document.add_text(fields.ndc_class, class.to_string());
            }
        }
        if let Some(year) = self.publication_year {
            document.add_i64(fields.year, year);
        }
        document.add_text(fields.language, non_empty(&self.language).unwrap_or("und"));
        document.add_text(fields.material_type, &self.material_type);
        let title_sort = folded_title_reading.unwrap_or_else(|| fold_reading(&self.title));
        document.add_text(fields.title_sort, title_sort.replace(' ', ""));
        let first_author = self.authors.first();
        let author_sort = first_author
            .map(|author| fold_reading(non_empty(&author.reading).unwrap_or(&author.name)).replace(' ', ""))
            .unwrap_or_else(|| "\u{10FFFF}".to_string()); // records without an author sort last
        document.add_text(fields.author_sort, author_sort);
        let display = StoredDisplay {
            title: &self.title,
            title_reading: &self.title_reading,
            subtitle: &self.subtitle,
            responsibility: &self.responsibility,
            authors: &self.authors,
            publisher: &self.publisher,
            publication_year: self.publication_year,
            edition: &self.edition,
            isbns: &isbns,
            ndc: &self.ndc,
            language: &self.language,
            material_type: &self.material_type,
            source: &self.source,
            aozora_card_url: &self.aozora_card_url,
            ndl_digital_url: &self.ndl_digital_url,
        };
        document.add_bytes(fields.display, &serde_json::to_vec(&display).expect("display values serialise"));
        document
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::Value;

    use super::*;

    #[test]
    fn ndc_prefixes_cover_every_class_level() {
        assert_eq!(ndc_prefixes("913.6"), ["9", "91", "913", "913.6"]);
        assert_eq!(ndc_prefixes("E"), Vec::<String>::new());
        assert_eq!(ndc_prefixes("007.64"), ["0", "00", "007", "007.6", "007.64"]);
    }

    #[test]
    fn display_is_stored_as_hit_display() {
        let record = BibDocument {
            bib_id: BibId(7),
            title: "銀河鉄道の夜".into(),
            title_reading: Some("ギンガ テツドウ ノ ヨル".into()),
            subtitle: Some("新版".into()),
            responsibility: Some("宮沢賢治 作".into()),
            authors: vec![Contributor { name: "宮沢, 賢治".into(), reading: Some("ミヤザワ, ケンジ".into()), role: Some("作".into()) }],
            publisher: Some("岩波書店".into()),
            publisher_reading: Some("イワナミ ショテン".into()),
            publication_year: Some(2000),
            edition: Some("第2版".into()),
            series: vec!["岩波少年文庫 ; 982".into()],
            subjects: vec![],
            notes: vec![],
            isbns: vec!["4-10-109205-2".into(), "not an isbn".into()],
            ndc: Some("913.6".into()),
            language: Some("jpn".into()),
            material_type: "children_book".into(),
            source: Some("manual".into()),
            aozora_card_url: Some("https://www.aozora.gr.jp/cards/000081/card456.html".into()),
            ndl_digital_url: Some("https://dl.ndl.go.jp/pid/1".into()),
        };
        let (_, fields) = super::super::schema::build_schema();
        let document = record.to_index_document(&fields);
        let stored = document.get_first(fields.display).and_then(|value| value.as_bytes()).expect("stored display");
        let expected = HitDisplay {
            title: record.title.clone(),
            title_reading: record.title_reading.clone(),
            subtitle: record.subtitle.clone(),
            responsibility: record.responsibility.clone(),
            authors: record.authors.clone(),
            publisher: record.publisher.clone(),
            publication_year: record.publication_year,
            edition: record.edition.clone(),
            isbns: vec![isbn13("4-10-109205-2").expect("a valid ISBN")],
            ndc: record.ndc.clone(),
            language: record.language.clone(),
            material_type: record.material_type.clone(),
            source: record.source.clone(),
            aozora_card_url: record.aozora_card_url.clone(),
            ndl_digital_url: record.ndl_digital_url.clone(),
        };
        assert_eq!(serde_json::from_slice::<HitDisplay>(stored).expect("a hit display"), expected);
        // The same keys, so a field added to one and not the other fails here.
        let keys = |json: serde_json::Value| -> Vec<String> { json.as_object().expect("an object").keys().cloned().collect() };
        assert_eq!(keys(serde_json::from_slice(stored).unwrap()), keys(serde_json::to_value(&expected).unwrap()));
    }

    #[test]
    fn exact_keys_ignore_punctuation_and_spacing() {
        assert_eq!(exact_key("「銀河鉄道の夜」"), exact_key("銀河鉄道の夜"));
        assert_eq!(exact_reading_key("ギンガ テツドウ ノ ヨル"), exact_reading_key("ぎんがてつどうのよる"));
    }
}
