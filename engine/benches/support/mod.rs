//! What the catalogue benchmarks share. Each benchmark uses part of it, hence the allowance.
#![allow(dead_code)]

pub mod corpus;
