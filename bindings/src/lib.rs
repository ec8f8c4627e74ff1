use pyo3::prelude::*;
#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> { m.add("__version__", shoka_engine::version())?; Ok(()) }
