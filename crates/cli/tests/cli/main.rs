//! The `policy` operator CLI, run as a built binary in temporary directories: every verb,
//! its output and exit code, and its refusals.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod bundle;
mod diff;
mod keys_and_signatures;
mod publish;
mod support;
mod test_command;
mod validate;
