//! `shoka._engine`: the Python face of the Shoka engine. Conversion and error mapping only — every
//! rule lives in the engine crate. Requests and results cross as JSON bytes (decoded on the Python
//! side by msgspec into typed structs), one call per use case, with the GIL released while the engine
//! works.

mod catalogue;
mod circulation;
mod errors;

use pyo3::prelude::*;

#[pymodule]
fn _engine(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", shoka_engine::version())?;
    errors::register(module)?;
    module.add_class::<catalogue::Catalogue>()?;
    module.add_class::<circulation::Circulation>()?;
    Ok(())
}
