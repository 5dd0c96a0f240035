//! The gateway's engine: everything that decides about a call, on any host.
//!
//! Call normalisation (`call`, `wire`), the detectors (`detect`), token estimates
//! (`tokens`), budget metering (`budget`), the Cedar decision (`decision`), the output guard (`guard`) and the
//! decision cases operators write (`cases`). It never depends on the worker runtime, so
//! it runs natively (tests, benches, fuzzers, the CLI) and in any wasm host.

pub mod budget;
pub mod call;
pub mod caller_key;
pub mod cases;
pub mod decision;
pub mod detect;
pub mod guard;
pub mod tokens;
pub mod wire;

pub use call::{CallError, Endpoint, LlmCall};
pub use decision::{Decide, Decision, RequestFacts, Route, RouteError, Verdict};
