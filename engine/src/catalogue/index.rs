//! The catalogue index: a tantivy index of bibliographic records plus the holdings it joins at query
//! time. One process holds the writer (the index folder's lock decides which); every process can
//! search and reloads when told to. Each commit records the outbox sequence number it includes, so a
//! restart resumes from there instead of rebuilding.

use std::path::Path;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tantivy::directory::error::LockError;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyError, Term};

use super::analyzer::register_japanese_tokenizers;
use super::document::BibDocument;
use super::query_builder::build_query;
use super::schema::{build_schema, CatalogueFields};
use super::search::{run_search, SearchPage, SearchRequest};
use super::CatalogueError;
use crate::holdings::{BibId, Holdings};

/// The commit payload: `analysis=<version>;outbox_seq=<n>`.
const OUTBOX_SEQUENCE_PAYLOAD: &str = "outbox_seq=";
/// Bumped whenever the analysis or the document mapping changes what is indexed: an index committed
/// under another version must be rebuilt, since its terms no longer match what queries look for.
pub const ANALYSIS_VERSION: u32 = 3;

fn payload_value<'a>(payload: &'a str, key: &str) -> Option<&'a str> {
    payload.split(';').find_map(|part| part.strip_prefix(key))
}

const SEARCH_THREADS: usize = 2;

pub struct CatalogueIndex {
    index: Index,
    fields: CatalogueFields,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    holdings: Arc<RwLock<Holdings>>,
}

fn reader_of(index: &Index) -> Result<IndexReader, CatalogueError> {
    Ok(index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?)
}

impl CatalogueIndex {
    fn from_index(mut index: Index, fields: CatalogueFields, holdings: Arc<RwLock<Holdings>>) -> Result<Self, CatalogueError> {
        // A search spreads over the index's segments on two threads: an idle core halves a broad query's
        // latency, and under load the threads simply queue behind other requests.
        index.set_multithread_executor(SEARCH_THREADS)?;
        register_japanese_tokenizers(index.tokenizers());
        let reader = reader_of(&index)?;
        Ok(CatalogueIndex { index, fields, reader, writer: Mutex::new(None), holdings })
    }

    /// An index in memory (tests, benchmarks).
    pub fn create_in_ram(holdings: Arc<RwLock<Holdings>>) -> Result<Self, CatalogueError> {
        let (schema, fields) = build_schema();
        CatalogueIndex::from_index(Index::create_in_ram(schema), fields, holdings)
    }

    /// A new, empty index in an empty folder.
    pub fn create_in_dir(path: &Path, holdings: Arc<RwLock<Holdings>>) -> Result<Self, CatalogueError> {
        let (schema, fields) = build_schema();
        let index = Index::create_in_dir(path, schema)?;
        CatalogueIndex::from_index(index, fields, holdings)
    }

    /// An existing index; one whose schema is not this version's is refused (rebuild it).
    pub fn open_in_dir(path: &Path, holdings: Arc<RwLock<Holdings>>) -> Result<Self, CatalogueError> {
        let index = Index::open_in_dir(path)?;
        let (expected_schema, _) = build_schema();
        let incompatible = |reason: String| CatalogueError::IncompatibleIndex { path: path.display().to_string(), reason };
        if index.schema() != expected_schema {
            return Err(incompatible("the fields differ".to_string()));
        }
        let fields = CatalogueFields::from_schema(&index.schema()).map_err(|error| incompatible(error.to_string()))?;
        let payload = index.load_metas()?.payload.unwrap_or_default();
        let version = payload_value(&payload, "analysis=").and_then(|value| value.parse::<u32>().ok());
        if !payload.is_empty() && version != Some(ANALYSIS_VERSION) {
            return Err(incompatible(format!("analysis version {version:?}, this version indexes with {ANALYSIS_VERSION}")));
        }
        CatalogueIndex::from_index(index, fields, holdings)
    }

    /// Takes the index folder's writer lock; `Ok(false)` when another process holds it.
    pub fn acquire_writer(&self, heap_bytes: usize, threads: usize) -> Result<bool, CatalogueError> {
        let mut writer = self.writer.lock();
        if writer.is_some() {
            return Ok(true);
        }
        match self.index.writer_with_num_threads(threads.max(1), heap_bytes) {
            Ok(new_writer) => {
                *writer = Some(new_writer);
                Ok(true)
            }
            Err(TantivyError::LockFailure(LockError::LockBusy, _)) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    pub fn holds_writer(&self) -> bool {
        self.writer.lock().is_some()
    }

    /// Adds records, replacing any earlier version of each (visible after `commit`).
    pub fn upsert(&self, documents: &[BibDocument]) -> Result<(), CatalogueError> {
        let writer = self.writer.lock();
        let writer = writer.as_ref().ok_or(CatalogueError::ReadOnly)?;
        for document in documents {
            writer.delete_term(Term::from_field_u64(self.fields.bib_id, document.bib_id.0));
            writer.add_document(document.to_index_document(&self.fields))?;
        }
        Ok(())
    }

    /// Adds records known not to be in the index yet (a fresh build): no deletes to record and apply.
    pub fn add_new(&self, documents: &[BibDocument]) -> Result<(), CatalogueError> {
        let writer = self.writer.lock();
        let writer = writer.as_ref().ok_or(CatalogueError::ReadOnly)?;
        for document in documents {
            writer.add_document(document.to_index_document(&self.fields))?;
        }
        Ok(())
    }

    pub fn delete(&self, bib_ids: &[BibId]) -> Result<(), CatalogueError> {
        let writer = self.writer.lock();
        let writer = writer.as_ref().ok_or(CatalogueError::ReadOnly)?;
        for bib_id in bib_ids {
            writer.delete_term(Term::from_field_u64(self.fields.bib_id, bib_id.0));
        }
        Ok(())
    }

    /// Makes the changes so far durable and searchable, recording the outbox position they include.
    pub fn commit(&self, outbox_seq: u64) -> Result<(), CatalogueError> {
        let mut writer = self.writer.lock();
        let writer = writer.as_mut().ok_or(CatalogueError::ReadOnly)?;
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&format!("analysis={ANALYSIS_VERSION};{OUTBOX_SEQUENCE_PAYLOAD}{outbox_seq}"));
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Waits for merges to finish and releases the writer lock (before a folder is swapped away).
    pub fn release_writer(&self) -> Result<(), CatalogueError> {
        if let Some(writer) = self.writer.lock().take() {
            writer.wait_merging_threads()?;
        }
        Ok(())
    }

    /// The outbox sequence number the last commit includes (None for an index never committed by us).
    pub fn committed_outbox_seq(&self) -> Result<Option<u64>, CatalogueError> {
        let metas = self.index.load_metas()?;
        Ok(metas.payload.as_deref().and_then(|payload| payload_value(payload, OUTBOX_SEQUENCE_PAYLOAD)).and_then(|seq| seq.parse().ok()))
    }

    /// Picks up commits made by another process.
    pub fn reload(&self) -> Result<(), CatalogueError> {
        Ok(self.reader.reload()?)
    }

    pub fn document_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn holdings(&self) -> &Arc<RwLock<Holdings>> {
        &self.holdings
    }

    pub fn search(&self, request: &SearchRequest) -> Result<SearchPage, CatalogueError> {
        let query = build_query(&self.fields, request)?;
        let searcher = self.reader.searcher();
        run_search(&searcher, &self.fields, query.as_ref(), request, self.holdings.read_arc())
    }
}
