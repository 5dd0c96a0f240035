//! The benchmark workload: synthetic policy sets ([`generate`]) and the benchmark request
//! with the ways the benchmarks evaluate it ([`workload`]).

pub mod generate;
pub mod workload;
