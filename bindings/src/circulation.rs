//! The `Circulation` class: the loan state of one service process and every circulation decision.
//!
//! Requests and answers cross as JSON bytes. A decision that the rules refuse is an answer, not an
//! error: `{"ok": true, "decision": {...}}` or `{"ok": false, "refusal": {"code", "message_ja",
//! "message_en", ...data}}`, so the service maps refusals to responses without exceptions. Input that
//! does not decode raises `MalformedInputError`; configuration or events the engine cannot take raise
//! `CirculationError`. Every call releases the GIL while the engine works.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use shoka_engine::circulation::{
    Answer, CalendarDefinition, CancelHoldRequest, CheckinRequest, CheckoutRequest, Circulation as Engine,
    CirculationEvent, CirculationSnapshot, ConsistencySnapshot, Date, HoldRequest, ItemRef, OverdueRequest,
    PatronSummaryRequest, PickupChangeRequest, RenewalRequest, RuleRow,
};

use crate::catalogue::Catalogue;
use crate::errors::{circulation_error, malformed};

#[pyclass(frozen, module = "shoka._engine")]
pub struct Circulation {
    engine: Arc<Engine>,
}

fn parse_date(text: &str) -> PyResult<Date> {
    Date::parse(text).map_err(|error| malformed("date", error))
}

/// Decodes JSON bytes into `$kind`, or raises `MalformedInputError` naming `$what`.
macro_rules! decode {
    ($what:literal, $json:expr, $kind:ty) => {
        serde_json::from_slice::<$kind>($json).map_err(|error| malformed($what, error))
    };
}

/// Encodes a value as JSON bytes (a failure here would be an engine bug, reported as malformed).
macro_rules! encode {
    ($what:literal, $value:expr) => {
        serde_json::to_vec($value).map_err(|error| malformed($what, error))
    };
}

/// One decision: decode the request, decide and encode the answer envelope, all without the GIL.
macro_rules! decide {
    ($self:ident, $py:ident, $what:literal, $json:ident, $request:ty, $decision:ident) => {{
        let engine = &$self.engine;
        let bytes = $py.detach(|| -> PyResult<Vec<u8>> {
            let request = decode!($what, $json, $request)?;
            encode!($what, &Answer::from(engine.$decision(&request)))
        })?;
        Ok(PyBytes::new($py, &bytes))
    }};
}

/// A list question: run it and encode its answer without the GIL.
macro_rules! listing {
    ($self:ident, $py:ident, $what:literal, |$engine:ident| $question:expr) => {{
        let $engine = &$self.engine;
        let bytes = $py.detach(|| -> PyResult<Vec<u8>> { encode!($what, &$question) })?;
        Ok(PyBytes::new($py, &bytes))
    }};
}

#[pymethods]
impl Circulation {
    /// A circulation engine sharing the catalogue's holdings, so loans show in search at once.
    #[new]
    fn new(catalogue: &Catalogue) -> Circulation {
        Circulation { engine: Arc::new(Engine::new(catalogue.holdings())) }
    }

    /// Replaces the rules matrix: a JSON array of rule rows. Returns how many rows.
    fn set_rules(&self, py: Python<'_>, rows_json: &[u8]) -> PyResult<usize> {
        let rows = decode!("rules", rows_json, Vec<RuleRow>)?;
        let count = rows.len();
        py.detach(|| self.engine.set_rules(rows)).map_err(circulation_error)?;
        Ok(count)
    }

    /// Replaces the calendars: `{"branches": [...]}`. Returns how many branches.
    fn set_calendar(&self, py: Python<'_>, calendar_json: &[u8]) -> PyResult<usize> {
        let definition = decode!("calendar", calendar_json, CalendarDefinition)?;
        py.detach(|| self.engine.set_calendar(&definition)).map_err(circulation_error)?;
        Ok(definition.branches.len())
    }

    /// Applies a JSON array of events (snapshot rows with seq 0, or outbox events); returns how many
    /// changed something. Nothing is applied when one is invalid.
    fn apply_events(&self, py: Python<'_>, events_json: &[u8]) -> PyResult<usize> {
        py.detach(|| {
            let events = decode!("events", events_json, Vec<CirculationEvent>)?;
            self.engine.apply_events(&events).map_err(circulation_error)
        })
    }

    /// Replaces the whole ledger with one snapshot document
    /// (`{"as_of_seq", "patrons", "loans", "holds", "transits"}`).
    fn load(&self, py: Python<'_>, snapshot_json: &[u8]) -> PyResult<()> {
        py.detach(|| {
            let snapshot = decode!("snapshot", snapshot_json, CirculationSnapshot)?;
            self.engine.load(snapshot).map_err(circulation_error)
        })
    }

    /// Empties the ledger before a rebuild; live events at or below `as_of_seq` will be ignored.
    #[pyo3(signature = (as_of_seq = 0))]
    fn reset(&self, py: Python<'_>, as_of_seq: u64) {
        py.detach(|| self.engine.reset(as_of_seq));
    }

    /// The ledger's open state as one snapshot document (the shape `load` takes).
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        listing!(self, py, "snapshot", |engine| engine.snapshot())
    }

    fn decide_checkout<'py>(&self, py: Python<'py>, request_json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        decide!(self, py, "checkout request", request_json, CheckoutRequest, decide_checkout)
    }

    fn decide_renewal<'py>(&self, py: Python<'py>, request_json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        decide!(self, py, "renewal request", request_json, RenewalRequest, decide_renewal)
    }

    fn decide_checkin<'py>(&self, py: Python<'py>, request_json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        decide!(self, py, "checkin request", request_json, CheckinRequest, decide_checkin)
    }

    fn decide_hold<'py>(&self, py: Python<'py>, request_json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        decide!(self, py, "hold request", request_json, HoldRequest, decide_hold)
    }

    fn decide_cancel_hold<'py>(&self, py: Python<'py>, request_json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        decide!(self, py, "cancel request", request_json, CancelHoldRequest, decide_cancel_hold)
    }

    fn decide_pickup_change<'py>(&self, py: Python<'py>, request_json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        decide!(self, py, "pickup change request", request_json, PickupChangeRequest, decide_pickup_change)
    }

    fn patron_summary<'py>(&self, py: Python<'py>, request_json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        decide!(self, py, "patron summary request", request_json, PatronSummaryRequest, patron_summary)
    }

    /// `{"item_id": 1}` or `{"barcode": "..."}`.
    fn item_view<'py>(&self, py: Python<'py>, request_json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        decide!(self, py, "item view request", request_json, ItemRef, item_view)
    }

    /// Ready holds past their pickup date (a JSON array of expiry decisions).
    fn expired_holds<'py>(&self, py: Python<'py>, today: &str) -> PyResult<Bound<'py, PyBytes>> {
        let today = parse_date(today)?;
        listing!(self, py, "expired holds", |engine| engine.expired_holds(today))
    }

    /// Copies to pull from the branch's shelves for waiting holds (a JSON array). With `today`, holds
    /// deferred past it are left out.
    #[pyo3(signature = (branch, today = None))]
    fn pick_list<'py>(&self, py: Python<'py>, branch: &str, today: Option<&str>) -> PyResult<Bound<'py, PyBytes>> {
        let today = today.map(parse_date).transpose()?;
        listing!(self, py, "pick list", |engine| engine.pick_list(branch, today))
    }

    /// `{"branch"?, "today", "min_days_overdue"?}` → a JSON array of overdue loans.
    fn overdue_loans<'py>(&self, py: Python<'py>, request_json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let request = decode!("overdue request", request_json, OverdueRequest)?;
        listing!(self, py, "overdue loans", |engine| engine.overdue_loans(&request))
    }

    /// Differences between the ledger and PostgreSQL's snapshot (a JSON array; empty when consistent).
    fn check_consistency<'py>(&self, py: Python<'py>, snapshot_json: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let engine = &self.engine;
        let bytes = py.detach(|| -> PyResult<Vec<u8>> {
            let expected = decode!("consistency snapshot", snapshot_json, ConsistencySnapshot)?;
            encode!("differences", &engine.check_consistency(&expected))
        })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// `{"patrons", "loans", "holds", "transits"}` held by the ledger.
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let counts = self.engine.counts();
        let dict = PyDict::new(py);
        dict.set_item("patrons", counts.patrons)?;
        dict.set_item("loans", counts.loans)?;
        dict.set_item("holds", counts.holds)?;
        dict.set_item("transits", counts.transits)?;
        Ok(dict)
    }

    /// The highest outbox seq applied (or the snapshot position given to `reset` / `load`).
    fn highest_seq(&self) -> u64 {
        self.engine.highest_seq()
    }

    /// Whether the branch is open on the ISO date (a branch without a calendar is always open).
    fn is_open(&self, branch: &str, date: &str) -> PyResult<bool> {
        Ok(self.engine.is_open(branch, parse_date(date)?))
    }

    /// The branch's first open day on or after the ISO date, as an ISO date.
    fn next_open_day(&self, branch: &str, date: &str) -> PyResult<String> {
        let date = parse_date(date)?;
        self.engine.next_open_day_on_or_after(branch, date).map(|day| day.to_string()).map_err(circulation_error)
    }
}
