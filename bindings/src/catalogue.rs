//! The `Catalogue` class: the search index and the holdings it joins, for one service process.

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::RwLock;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use shoka_engine::catalogue::{BibDocument, CatalogueIndex, SearchRequest};
use shoka_engine::holdings::{BibId, CirculationState, Holdings, ItemHolding, ItemId};

use crate::errors::{catalogue_error, holdings_error, malformed};

/// Default indexing memory: enough for bulk builds, small next to the holdings of tier L.
const DEFAULT_WRITER_HEAP_BYTES: usize = 256 * 1024 * 1024;

#[pyclass(frozen, module = "shoka._engine")]
pub struct Catalogue {
    index: Arc<CatalogueIndex>,
}

fn new_holdings() -> Arc<RwLock<Holdings>> {
    Arc::new(RwLock::new(Holdings::new()))
}

/// A batch of records is decoded without the GIL, like the indexing that follows: a full build reads
/// the next batch from PostgreSQL in Python meanwhile (`index_sync.build_index`).
fn decode_bib_documents(documents_json: &[u8]) -> PyResult<Vec<BibDocument>> {
    serde_json::from_slice(documents_json).map_err(|error| malformed("bib documents", error))
}

impl Catalogue {
    /// The holdings this catalogue joins at search time, for the circulation engine to share.
    pub(crate) fn holdings(&self) -> Arc<RwLock<Holdings>> {
        self.index.holdings().clone()
    }
}

#[pymethods]
impl Catalogue {
    /// A catalogue held in memory only (tests and benchmarks).
    #[staticmethod]
    fn in_memory() -> PyResult<Catalogue> {
        let index = CatalogueIndex::create_in_ram(new_holdings()).map_err(catalogue_error)?;
        Ok(Catalogue { index: Arc::new(index) })
    }

    /// A new, empty index in the (existing, empty) folder `path`.
    #[staticmethod]
    fn create(py: Python<'_>, path: PathBuf) -> PyResult<Catalogue> {
        let index = py.detach(|| CatalogueIndex::create_in_dir(&path, new_holdings())).map_err(catalogue_error)?;
        Ok(Catalogue { index: Arc::new(index) })
    }

    /// The index already in `path`; `IndexUnavailableError` when it is missing or of another version.
    /// `share_holdings_with` keeps the copies of another catalogue (a new index generation).
    #[staticmethod]
    #[pyo3(signature = (path, share_holdings_with = None))]
    fn open(py: Python<'_>, path: PathBuf, share_holdings_with: Option<&Catalogue>) -> PyResult<Catalogue> {
        let holdings = share_holdings_with.map(|other| other.index.holdings().clone()).unwrap_or_else(new_holdings);
        let index = py.detach(|| CatalogueIndex::open_in_dir(&path, holdings)).map_err(catalogue_error)?;
        Ok(Catalogue { index: Arc::new(index) })
    }

    /// Takes the index writer; False when another process holds it.
    #[pyo3(signature = (heap_bytes = DEFAULT_WRITER_HEAP_BYTES, threads = 2))]
    fn acquire_writer(&self, py: Python<'_>, heap_bytes: usize, threads: usize) -> PyResult<bool> {
        py.detach(|| self.index.acquire_writer(heap_bytes, threads)).map_err(catalogue_error)
    }

    fn holds_writer(&self) -> bool {
        self.index.holds_writer()
    }

    fn release_writer(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.index.release_writer()).map_err(catalogue_error)
    }

    /// Indexes records given as a JSON array of documents; returns how many.
    fn upsert_bibs(&self, py: Python<'_>, documents_json: &[u8]) -> PyResult<usize> {
        py.detach(|| {
            let documents = decode_bib_documents(documents_json)?;
            self.index.upsert(&documents).map_err(catalogue_error)?;
            Ok(documents.len())
        })
    }

    /// Indexes records that are not in the index yet (a fresh build), faster than `upsert_bibs`.
    fn add_new_bibs(&self, py: Python<'_>, documents_json: &[u8]) -> PyResult<usize> {
        py.detach(|| {
            let documents = decode_bib_documents(documents_json)?;
            self.index.add_new(&documents).map_err(catalogue_error)?;
            Ok(documents.len())
        })
    }

    fn delete_bibs(&self, py: Python<'_>, bib_ids: Vec<u64>) -> PyResult<()> {
        let bib_ids: Vec<BibId> = bib_ids.into_iter().map(BibId).collect();
        py.detach(|| self.index.delete(&bib_ids)).map_err(catalogue_error)
    }

    /// Commits the index, recording the outbox sequence number the commit includes.
    fn commit(&self, py: Python<'_>, outbox_seq: u64) -> PyResult<()> {
        py.detach(|| self.index.commit(outbox_seq)).map_err(catalogue_error)
    }

    fn committed_outbox_seq(&self) -> PyResult<Option<u64>> {
        self.index.committed_outbox_seq().map_err(catalogue_error)
    }

    fn reload(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.index.reload()).map_err(catalogue_error)
    }

    fn document_count(&self) -> u64 {
        self.index.document_count()
    }

    /// Registers service points in display order (facets list branches in this order).
    fn register_branches(&self, codes: Vec<String>) -> PyResult<()> {
        self.index.holdings().write().register_branches(codes.iter().map(String::as_str)).map_err(holdings_error)
    }

    /// Inserts or replaces copies given as a JSON array of holdings; returns how many.
    fn upsert_items(&self, py: Python<'_>, items_json: &[u8]) -> PyResult<usize> {
        let items: Vec<ItemHolding> = serde_json::from_slice(items_json).map_err(|error| malformed("items", error))?;
        let count = items.len();
        py.detach(|| self.index.holdings().write().upsert_items(items)).map_err(holdings_error)?;
        Ok(count)
    }

    fn remove_items(&self, item_ids: Vec<u64>) {
        let item_ids: Vec<ItemId> = item_ids.into_iter().map(ItemId).collect();
        self.index.holdings().write().remove_items(&item_ids);
    }

    /// Changes one copy's circulation state; False when the copy is unknown.
    fn set_circulation(&self, item_id: u64, state_json: &[u8]) -> PyResult<bool> {
        let state: CirculationState =
            serde_json::from_slice(state_json).map_err(|error| malformed("circulation state", error))?;
        Ok(self.index.holdings().write().set_circulation(ItemId(item_id), state))
    }

    fn item_count(&self) -> usize {
        self.index.holdings().read().item_count()
    }

    /// One search: a JSON request in, a JSON page of hydrated hits and facets out.
    fn search<'py>(&self, py: Python<'py>, request_json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let request: SearchRequest =
            serde_json::from_slice(request_json).map_err(|error| malformed("search request", error))?;
        let page = py.detach(|| self.index.search(&request)).map_err(catalogue_error)?;
        let bytes = serde_json::to_vec(&page).map_err(|error| malformed("search page", error))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A record's copies and per-branch availability as JSON: {"items": [...], "branches": [...]}.
    #[pyo3(signature = (bib_id, all_branches = false))]
    fn holdings_of<'py>(&self, py: Python<'py>, bib_id: u64, all_branches: bool) -> PyResult<Bound<'py, PyBytes>> {
        let holdings = self.index.holdings().read();
        let items: Vec<&ItemHolding> = holdings.items_of(BibId(bib_id)).collect();
        let value = serde_json::json!({
            "items": items.iter().map(|item| serde_json::json!({
                "holding": item,
                "availability": item.availability(),
                "label": item.availability().label_ja(),
            })).collect::<Vec<_>>(),
            "branches": holdings.branch_availability(BibId(bib_id), all_branches),
        });
        let bytes = serde_json::to_vec(&value).map_err(|error| malformed("holdings", error))?;
        Ok(PyBytes::new(py, &bytes))
    }
}
