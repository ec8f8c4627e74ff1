//! Shoka's engine: the search catalogue and the circulation rules, in pure Rust.
//!
//! The engine does no I/O beyond its index folder and reads no clock; the Python service passes
//! everything in through the bindings crate.

pub mod catalogue;
pub mod circulation;
pub mod holdings;

pub fn version() -> &'static str { env!("CARGO_PKG_VERSION") }
