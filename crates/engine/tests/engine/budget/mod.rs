//! Budget metering: UTC windows, the ledger's reserve → settle → release arithmetic, isolate leases, the
//! worst case a call reserves, and the usage read from answers and streams.

mod lease;
mod ledger;
mod meter;
mod windows;
mod worst_case;
