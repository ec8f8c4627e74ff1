//! The Python exception tree and the one mapping from engine errors into it.
//!
//! ```text
//! EngineError
//! ├── QueryError            the request is wrong (syntax limits, year, NDC, page, branch): a 4xx
//! ├── MalformedInputError   a document or request that does not decode: a bug on the service side
//! ├── ReadOnlyError         a write on a catalogue that does not hold the index writer
//! ├── HoldingsError         holdings that cannot be represented (too many branches)
//! ├── IndexUnavailableError the index folder is unusable (incompatible, I/O): rebuild it
//! └── CirculationError      circulation configuration or events the engine cannot take (a bug or bad
//!                           data on the service side; refusals are answers, never exceptions)
//! ```

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use shoka_engine::catalogue::CatalogueError;
use shoka_engine::circulation::CirculationError as EngineCirculationError;
use shoka_engine::holdings::HoldingsError as EngineHoldingsError;

create_exception!(_engine, EngineError, PyException, "Base of every error the Shoka engine raises.");
create_exception!(_engine, QueryError, EngineError, "The search request is invalid; the message says why.");
create_exception!(_engine, MalformedInputError, EngineError, "A document or request could not be decoded.");
create_exception!(_engine, ReadOnlyError, EngineError, "This catalogue does not hold the index writer.");
create_exception!(_engine, HoldingsError, EngineError, "Holdings that the engine cannot represent.");
create_exception!(_engine, IndexUnavailableError, EngineError, "The index folder cannot be used.");
create_exception!(
    _engine,
    CirculationError,
    EngineError,
    "Circulation rules, calendars or events the engine cannot take; the message names the record."
);

pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("EngineError", py.get_type::<EngineError>())?;
    module.add("QueryError", py.get_type::<QueryError>())?;
    module.add("MalformedInputError", py.get_type::<MalformedInputError>())?;
    module.add("ReadOnlyError", py.get_type::<ReadOnlyError>())?;
    module.add("HoldingsError", py.get_type::<HoldingsError>())?;
    module.add("IndexUnavailableError", py.get_type::<IndexUnavailableError>())?;
    module.add("CirculationError", py.get_type::<CirculationError>())?;
    Ok(())
}

pub fn catalogue_error(error: CatalogueError) -> PyErr {
    let message = error.to_string();
    match error {
        CatalogueError::QuerySyntax(_)
        | CatalogueError::InvalidYear(_)
        | CatalogueError::InvalidNdc(_)
        | CatalogueError::InvalidPageSize { .. }
        | CatalogueError::PageTooDeep { .. }
        | CatalogueError::UnknownBranch(_) => QueryError::new_err(message),
        CatalogueError::Malformed { .. } => MalformedInputError::new_err(message),
        CatalogueError::ReadOnly => ReadOnlyError::new_err(message),
        CatalogueError::IncompatibleIndex { .. } | CatalogueError::Index(_) => IndexUnavailableError::new_err(message),
    }
}

pub fn holdings_error(error: EngineHoldingsError) -> PyErr {
    HoldingsError::new_err(error.to_string())
}

pub fn circulation_error(error: EngineCirculationError) -> PyErr {
    CirculationError::new_err(error.to_string())
}

pub fn malformed(what: &str, error: impl std::fmt::Display) -> PyErr {
    MalformedInputError::new_err(format!("malformed {what}: {error}"))
}
