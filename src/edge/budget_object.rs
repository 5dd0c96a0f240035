//! The budget object: one Durable Object per scope member (`team:research`, `key:…`),
//! keeping that member's ledger (`gateway_engine::budget::ledger`) in its SQLite storage.
//!
//! Every operation reads the request body first, then applies the operation to the ledger
//! and writes its changes with no `await` in between, so each operation is one
//! transaction: the platform runs one event at a time per object and holds the reply until
//! the writes are durable. That is what makes check-and-reserve race-free worldwide. An
//! alarm charges holds nobody settled (an isolate died mid-call) at their reserved amount,
//! and logs each: a call's worst case, or a dead isolate's lease slice.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State};

use gateway_engine::budget::ledger::{Changes, Counter, Hold, Ledger, Operation};

use super::log;

const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS counters (limit_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS holds (hold_id TEXT PRIMARY KEY, body TEXT NOT NULL);";

#[durable_object]
pub struct BudgetObject {
    state: State,
    /// The ledger, loaded from storage on first use and written through on every change.
    ledger: RefCell<Option<Ledger>>,
    /// When the alarm is set for, as far as this instance knows.
    alarm_at: Cell<Option<u64>>,
}

#[derive(Deserialize)]
struct CounterRow {
    limit_id: String,
    body: String,
}

#[derive(Deserialize)]
struct HoldRow {
    hold_id: String,
    body: String,
}

impl DurableObject for BudgetObject {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            ledger: RefCell::new(None),
            alarm_at: Cell::new(None),
        }
    }

    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let body = request.text().await?;
        let Ok(operation) = serde_json::from_str::<Operation>(&body) else {
            return Response::error("not a budget operation", 400);
        };
        let now = now_ms();
        // From here to the write, no `await`: one transaction.
        let (outcome, next_expiry) = {
            let mut slot = self.ledger.borrow_mut();
            let ledger = match slot.as_mut() {
                Some(ledger) => ledger,
                None => slot.insert(self.load()?),
            };
            let (outcome, changes) = ledger.apply(&operation, now);
            self.write(ledger, &changes)?;
            (outcome, ledger.next_expiry())
        };
        self.schedule(next_expiry, now).await?;
        Response::from_json(&outcome)
    }

    async fn alarm(&self) -> Result<Response> {
        let now = now_ms();
        self.alarm_at.set(None);
        let next_expiry = {
            let mut slot = self.ledger.borrow_mut();
            let ledger = match slot.as_mut() {
                Some(ledger) => ledger,
                None => slot.insert(self.load()?),
            };
            let (changes, expired) = ledger.sweep(now);
            self.write(ledger, &changes)?;
            if !expired.is_empty() {
                let object = self.state.id().name().unwrap_or_default();
                for hold in &expired {
                    log::budget_hold_expired(&object, hold);
                }
            }
            ledger.next_expiry()
        };
        self.schedule(next_expiry, now).await?;
        Response::ok("swept")
    }
}

impl BudgetObject {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    /// The ledger as stored (empty for a new object).
    fn load(&self) -> Result<Ledger> {
        let sql = self.sql();
        sql.exec(SCHEMA, None)?;
        let counters: Vec<CounterRow> = sql
            .exec("SELECT limit_id, body FROM counters", None)?
            .to_array()?;
        let holds: Vec<HoldRow> = sql
            .exec("SELECT hold_id, body FROM holds", None)?
            .to_array()?;
        let counters = counters.into_iter().filter_map(|row| {
            let counter: Counter = serde_json::from_str(&row.body).ok()?;
            Some((row.limit_id, counter))
        });
        let holds = holds.into_iter().filter_map(|row| {
            let hold: Hold = serde_json::from_str(&row.body).ok()?;
            Some((row.hold_id, hold))
        });
        Ok(Ledger::from_parts(counters, holds))
    }

    /// Writes what an operation changed.
    fn write(&self, ledger: &Ledger, changes: &Changes) -> Result<()> {
        let sql = self.sql();
        for limit in &changes.counters {
            if let Some(counter) = ledger.counter(limit) {
                sql.exec(
                    "INSERT OR REPLACE INTO counters (limit_id, body) VALUES (?, ?)",
                    Some(vec![limit.as_str().into(), to_json(counter)?.into()]),
                )?;
            }
        }
        for hold in &changes.holds_added {
            if let Some(held) = ledger.hold(hold) {
                sql.exec(
                    "INSERT OR REPLACE INTO holds (hold_id, body) VALUES (?, ?)",
                    Some(vec![hold.as_str().into(), to_json(held)?.into()]),
                )?;
            }
        }
        for hold in &changes.holds_removed {
            sql.exec(
                "DELETE FROM holds WHERE hold_id = ?",
                Some(vec![hold.as_str().into()]),
            )?;
        }
        Ok(())
    }

    /// Sets the alarm for the earliest hold's expiry, unless it is already set as early.
    async fn schedule(&self, next_expiry: Option<u64>, now: u64) -> Result<()> {
        let Some(expiry) = next_expiry else {
            return Ok(());
        };
        if self.alarm_at.get().is_some_and(|at| at <= expiry) {
            return Ok(());
        }
        self.alarm_at.set(Some(expiry));
        let offset = Duration::from_millis(expiry.saturating_sub(now));
        self.state.storage().set_alarm(offset).await
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| worker::Error::RustError(e.to_string()))
}

fn now_ms() -> u64 {
    js_sys::Date::now().max(0.0) as u64
}
