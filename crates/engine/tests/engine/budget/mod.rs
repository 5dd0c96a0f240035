//! Budget metering: UTC windows, the ledger's reserve → settle → release arithmetic, the
//! worst case a call reserves, and the usage read from answers and streams.

mod ledger;
mod meter;
mod windows;
mod worst_case;
