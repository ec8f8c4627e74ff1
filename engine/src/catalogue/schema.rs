//! The search index's schema: which fields a bibliographic record is indexed under, and how.
//!
//! Text fields use the Japanese analyzer (`ja_text`, with positions, for phrases); reading fields use
//! the reading analyzer (`ja_reading`). Identifiers (ISBN, NDC prefixes, exact titles) are single
//! raw terms. Facet and sort values are fast fields. Display values are stored, so a search returns
//! hydrated hits without asking PostgreSQL.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, SchemaBuilder, TextFieldIndexing, TextOptions, FAST, STORED,
    STRING,
};

use super::analyzer::JapaneseFieldKind;

/// The fields of the catalogue index, resolved once.
#[derive(Debug, Clone)]
pub struct CatalogueFields {
    pub bib_id: Field,
    pub title: Field,
    pub title_reading: Field,
    pub subtitle: Field,
    pub exact: Field,
    pub author: Field,
    pub author_reading: Field,
    pub publisher: Field,
    pub publisher_reading: Field,
    pub subject: Field,
    pub series: Field,
    pub notes: Field,
    pub isbn: Field,
    pub ndc: Field,
    pub ndc_prefix: Field,
    pub ndc_class: Field,
    pub year: Field,
    pub language: Field,
    pub material_type: Field,
    pub title_sort: Field,
    pub author_sort: Field,
    /// Everything a hit shows that is not indexed for search: a JSON blob (see `document.rs`).
    pub display: Field,
}

fn japanese_text(kind: JapaneseFieldKind, stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(kind.index_tokenizer_name())
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored {
        options.set_stored()
    } else {
        options
    }
}

/// Field names, shared by the schema and by anyone naming a fast field (collectors, sorting).
pub mod names {
    pub const BIB_ID: &str = "bib_id";
    pub const YEAR: &str = "year";
    pub const LANGUAGE: &str = "language";
    pub const MATERIAL_TYPE: &str = "material_type";
    pub const NDC_CLASS: &str = "ndc_class";
    pub const TITLE_SORT: &str = "title_sort";
    pub const AUTHOR_SORT: &str = "author_sort";
}

pub fn build_schema() -> (Schema, CatalogueFields) {
    let mut builder: SchemaBuilder = Schema::builder();
    let text = JapaneseFieldKind::Text;
    let reading = JapaneseFieldKind::Reading;
    let fields = CatalogueFields {
        bib_id: builder.add_u64_field(names::BIB_ID, NumericOptions::default().set_indexed().set_fast().set_stored()),
        title: builder.add_text_field("title", japanese_text(text, false)),
        title_reading: builder.add_text_field("title_reading", japanese_text(reading, false)),
        subtitle: builder.add_text_field("subtitle", japanese_text(text, false)),
        exact: builder.add_text_field("exact", STRING),
        author: builder.add_text_field("author", japanese_text(text, false)),
        author_reading: builder.add_text_field("author_reading", japanese_text(reading, false)),
        publisher: builder.add_text_field("publisher", japanese_text(text, false)),
        publisher_reading: builder.add_text_field("publisher_reading", japanese_text(reading, false)),
        subject: builder.add_text_field("subject", japanese_text(text, false)),
        series: builder.add_text_field("series", japanese_text(text, false)),
        notes: builder.add_text_field("notes", japanese_text(text, false)),
        isbn: builder.add_text_field("isbn", STRING),
        ndc: builder.add_text_field("ndc", STRING),
        ndc_prefix: builder.add_text_field("ndc_prefix", STRING),
        ndc_class: builder.add_text_field(names::NDC_CLASS, STRING | FAST),
        year: builder.add_i64_field(names::YEAR, NumericOptions::default().set_indexed().set_fast()),
        language: builder.add_text_field(names::LANGUAGE, STRING | FAST),
        material_type: builder.add_text_field(names::MATERIAL_TYPE, STRING | FAST),
        title_sort: builder.add_text_field(names::TITLE_SORT, TextOptions::default().set_fast("raw")),
        author_sort: builder.add_text_field(names::AUTHOR_SORT, TextOptions::default().set_fast("raw")),
        display: builder.add_bytes_field("display", STORED),
    };
    (builder.build(), fields)
}

impl CatalogueFields {
    /// Resolves the fields of an existing index's schema; an index built by another version fails here.
    pub fn from_schema(schema: &Schema) -> tantivy::Result<CatalogueFields> {
        let field = |name: &str| schema.get_field(name);
        Ok(CatalogueFields {
            bib_id: field(names::BIB_ID)?,
            title: field("title")?,
            title_reading: field("title_reading")?,
            subtitle: field("subtitle")?,
            exact: field("exact")?,
            author: field("author")?,
            author_reading: field("author_reading")?,
            publisher: field("publisher")?,
            publisher_reading: field("publisher_reading")?,
            subject: field("subject")?,
            series: field("series")?,
            notes: field("notes")?,
            isbn: field("isbn")?,
            ndc: field("ndc")?,
            ndc_prefix: field("ndc_prefix")?,
            ndc_class: field(names::NDC_CLASS)?,
            year: field(names::YEAR)?,
            language: field(names::LANGUAGE)?,
            material_type: field(names::MATERIAL_TYPE)?,
            title_sort: field(names::TITLE_SORT)?,
            author_sort: field(names::AUTHOR_SORT)?,
            display: field("display")?,
        })
    }
}
