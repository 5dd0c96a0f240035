//! The ledger one budget object keeps for one scope member (a team, say): a counter per
//! limit for its current window, and the holds of calls in flight.
//!
//! Reserve → settle → release. A call reserves its worst case in every limit at once, or
//! in none: a limit whose settled use, plus what calls in flight hold, plus this call's
//! worst case would pass its cap refuses the whole reservation. Settling replaces the hold
//! by what the call actually used; releasing drops it (the call never reached the
//! provider). A hold that is neither settled nor released by its expiry is charged in
//! full by [`Ledger::sweep`]. Every change is synchronous, so the object that owns the
//! ledger applies each operation as one transaction, and no two calls can both take the
//! last of a limit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use gateway_policy::limits::{Caps, Window, MAX_COUNT};

use super::window;

/// What a call counts against a limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub requests: u64,
    pub tokens: u64,
    pub micro_usd: u64,
}

impl Amount {
    /// The sum, each count saturating at [`MAX_COUNT`].
    pub fn plus(self, other: Amount) -> Amount {
        let add = |a: u64, b: u64| a.saturating_add(b).min(MAX_COUNT);
        Amount {
            requests: add(self.requests, other.requests),
            tokens: add(self.tokens, other.tokens),
            micro_usd: add(self.micro_usd, other.micro_usd),
        }
    }

    /// The difference, each count stopping at zero.
    pub fn minus(self, other: Amount) -> Amount {
        Amount {
            requests: self.requests.saturating_sub(other.requests),
            tokens: self.tokens.saturating_sub(other.tokens),
            micro_usd: self.micro_usd.saturating_sub(other.micro_usd),
        }
    }

    /// The larger of each count.
    pub fn max(self, other: Amount) -> Amount {
        Amount {
            requests: self.requests.max(other.requests),
            tokens: self.tokens.max(other.tokens),
            micro_usd: self.micro_usd.max(other.micro_usd),
        }
    }

    pub fn get(self, dimension: Dimension) -> u64 {
        match dimension {
            Dimension::Spend => self.micro_usd,
            Dimension::Requests => self.requests,
            Dimension::Tokens => self.tokens,
        }
    }

    pub fn set(&mut self, dimension: Dimension, value: u64) {
        match dimension {
            Dimension::Spend => self.micro_usd = value,
            Dimension::Requests => self.requests = value,
            Dimension::Tokens => self.tokens = value,
        }
    }
}

/// What a limit caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// Micro-USD.
    Spend,
    Requests,
    Tokens,
}

impl Dimension {
    pub const ALL: [Dimension; 3] = [Dimension::Spend, Dimension::Requests, Dimension::Tokens];

    pub fn id(self) -> &'static str {
        match self {
            Dimension::Spend => "spend",
            Dimension::Requests => "requests",
            Dimension::Tokens => "tokens",
        }
    }

    pub fn cap(self, caps: &Caps) -> Option<u64> {
        match self {
            Dimension::Spend => caps.micro_usd,
            Dimension::Requests => caps.requests,
            Dimension::Tokens => caps.tokens,
        }
    }
}

/// One limit as the caller's bundle declares it now (the ledger keeps no copy of the
/// policy: a new bundle's caps apply from its first call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitLine {
    pub limit: String,
    pub window: Window,
    pub caps: Caps,
}

/// A limit's count in its current window. `used` is settled use; `held` is what holds
/// reserved (calls in flight and isolate leases), of which `leased` is the leases' part.
/// The holds themselves record both: they are not stored with the counter but summed from
/// them when a ledger is loaded, so a reservation writes one hold and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    pub window: Window,
    pub window_start_ms: u64,
    pub used: Amount,
    #[serde(skip)]
    pub held: Amount,
    #[serde(skip)]
    pub leased: Amount,
}

impl Counter {
    fn add_hold(&mut self, hold: &Hold) {
        self.held = self.held.plus(hold.amount);
        if hold.lease {
            self.leased = self.leased.plus(hold.amount);
        }
    }

    fn remove_hold(&mut self, hold: &Hold) {
        self.held = self.held.minus(hold.amount);
        if hold.lease {
            self.leased = self.leased.minus(hold.amount);
        }
    }
}

/// A call in flight, or an isolate's lease: what it reserved, until when, and in which
/// limits' windows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub expires_ms: u64,
    pub amount: Amount,
    pub windows: Vec<HeldWindow>,
    /// A slice an isolate leased (`super::lease`), not one call's worst case.
    #[serde(default)]
    pub lease: bool,
}

/// A hold its alarm charged in full, unsettled at its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub hold: String,
    pub amount: Amount,
    pub lease: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldWindow {
    pub limit: String,
    pub window_start_ms: u64,
}

/// A limit's state for headers, the Cedar context and `/v1/usage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitState {
    pub limit: String,
    pub window: Window,
    pub caps: Caps,
    /// Settled use plus everything held: what counts against the caps.
    pub used: Amount,
    /// Reserved by calls in flight.
    pub held: Amount,
    /// Reserved by isolates' leases, as room for the calls they grant.
    #[serde(default)]
    pub leased: Amount,
    pub resets_at_ms: u64,
}

impl LimitState {
    /// What is left under the cap, `None` when the dimension is not capped.
    pub fn remaining(&self, dimension: Dimension) -> Option<u64> {
        dimension
            .cap(&self.caps)
            .map(|cap| cap.saturating_sub(self.used.get(dimension)))
    }

    /// The share of the cap used, in whole percent (rounded down), `None` when uncapped.
    pub fn used_percent(&self, dimension: Dimension) -> Option<u64> {
        let cap = dimension.cap(&self.caps)?;
        let used = self.used.get(dimension);
        Some(match cap {
            0 if used == 0 => 0,
            0 => 100,
            _ => (u128::from(used) * 100 / u128::from(cap)) as u64,
        })
    }
}

/// Why a reservation was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub limit: String,
    pub dimension: Dimension,
    /// When a retry can succeed: the window's end when settled use fills it, soon when
    /// calls in flight hold it; `None` when the call's worst case alone exceeds the cap.
    pub retry_after_ms: Option<u64>,
}

/// How soon a call refused only because of holds may retry: holds settle when calls end.
pub const HELD_RETRY_MS: u64 = 1_000;

/// Messages to a budget object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Operation {
    Reserve {
        hold: String,
        lines: Vec<LimitLine>,
        amount: Amount,
        ttl_ms: u64,
        /// The hold is an isolate's lease.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        lease: bool,
    },
    Settle {
        hold: String,
        actual: Amount,
    },
    Release {
        hold: String,
    },
    /// The state of the given limits, reserving nothing.
    Read {
        lines: Vec<LimitLine>,
    },
}

/// A budget object's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Whether a reservation was made (settles, releases and reads are always granted).
    pub granted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    /// For a reservation, each limit's state before it; otherwise after the operation.
    pub states: Vec<LimitState>,
}

/// What an operation changed, for the owner to write to storage: counters whose window or
/// settled use changed, holds added and removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub counters: Vec<String>,
    pub holds_added: Vec<String>,
    pub holds_removed: Vec<String>,
}

impl Changes {
    fn note_counter(&mut self, limit: &str) {
        if !self.counters.iter().any(|c| c == limit) {
            self.counters.push(limit.to_owned());
        }
    }
}

/// What a reservation asks for.
struct Wanted {
    amount: Amount,
    ttl_ms: u64,
    lease: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    counters: BTreeMap<String, Counter>,
    holds: BTreeMap<String, Hold>,
}

impl Ledger {
    /// A ledger from stored counters and holds; each counter's `held` is summed from the
    /// holds in its current window.
    pub fn from_parts(
        counters: impl IntoIterator<Item = (String, Counter)>,
        holds: impl IntoIterator<Item = (String, Hold)>,
    ) -> Self {
        let mut counters: BTreeMap<String, Counter> = counters
            .into_iter()
            .map(|(limit, counter)| {
                let held = Amount::default();
                (limit, Counter { held, ..counter })
            })
            .collect();
        let holds: BTreeMap<String, Hold> = holds.into_iter().collect();
        for hold in holds.values() {
            for held in &hold.windows {
                if let Some(counter) = counters.get_mut(&held.limit) {
                    if counter.window_start_ms == held.window_start_ms {
                        counter.add_hold(hold);
                    }
                }
            }
        }
        Ledger { counters, holds }
    }

    pub fn counter(&self, limit: &str) -> Option<&Counter> {
        self.counters.get(limit)
    }

    pub fn hold(&self, id: &str) -> Option<&Hold> {
        self.holds.get(id)
    }

    pub fn hold_count(&self) -> usize {
        self.holds.len()
    }

    /// When the earliest hold expires.
    pub fn next_expiry(&self) -> Option<u64> {
        self.holds.values().map(|h| h.expires_ms).min()
    }

    /// Applies one operation at `now_ms`.
    pub fn apply(&mut self, operation: &Operation, now_ms: u64) -> (Outcome, Changes) {
        let mut changes = Changes::default();
        let outcome = match operation {
            Operation::Reserve {
                hold,
                lines,
                amount,
                ttl_ms,
                lease,
            } => {
                let wanted = Wanted {
                    amount: *amount,
                    ttl_ms: *ttl_ms,
                    lease: *lease,
                };
                self.reserve(hold, lines, wanted, now_ms, &mut changes)
            }
            Operation::Settle { hold, actual } => {
                self.close(hold, Some(*actual), &mut changes);
                self.granted(Vec::new())
            }
            Operation::Release { hold } => {
                self.close(hold, None, &mut changes);
                self.granted(Vec::new())
            }
            Operation::Read { lines } => {
                let states = lines
                    .iter()
                    .map(|line| self.state(line, now_ms, &mut changes))
                    .collect();
                self.granted(states)
            }
        };
        (outcome, changes)
    }

    /// Charges every hold expired by `now_ms` at its reserved amount, and says which.
    pub fn sweep(&mut self, now_ms: u64) -> (Changes, Vec<Expired>) {
        let mut changes = Changes::default();
        let expired: Vec<Expired> = self
            .holds
            .iter()
            .filter(|(_, hold)| hold.expires_ms <= now_ms)
            .map(|(id, hold)| Expired {
                hold: id.clone(),
                amount: hold.amount,
                lease: hold.lease,
            })
            .collect();
        for hold in &expired {
            self.close(&hold.hold, Some(hold.amount), &mut changes);
        }
        (changes, expired)
    }

    fn reserve(
        &mut self,
        hold: &str,
        lines: &[LimitLine],
        wanted: Wanted,
        now_ms: u64,
        changes: &mut Changes,
    ) -> Outcome {
        let Wanted {
            amount,
            ttl_ms,
            lease,
        } = wanted;
        let states: Vec<LimitState> = lines
            .iter()
            .map(|line| self.state(line, now_ms, changes))
            .collect();
        if self.holds.contains_key(hold) {
            // A retried reservation: the first one stands.
            return self.granted(states);
        }
        if let Some(refusal) = lines
            .iter()
            .zip(&states)
            .find_map(|(line, state)| self.refusal(line, state, amount, now_ms))
        {
            return Outcome {
                granted: false,
                refusal: Some(refusal),
                states,
            };
        }
        let mut placed = Hold {
            expires_ms: now_ms.saturating_add(ttl_ms),
            amount,
            windows: Vec::with_capacity(lines.len()),
            lease,
        };
        for line in lines {
            if let Some(counter) = self.counters.get_mut(&line.limit) {
                counter.add_hold(&placed);
                placed.windows.push(HeldWindow {
                    limit: line.limit.clone(),
                    window_start_ms: counter.window_start_ms,
                });
            }
        }
        self.holds.insert(hold.to_owned(), placed);
        changes.holds_added.push(hold.to_owned());
        self.granted(states)
    }

    fn refusal(
        &self,
        line: &LimitLine,
        state: &LimitState,
        amount: Amount,
        now_ms: u64,
    ) -> Option<Refusal> {
        let settled = self
            .counters
            .get(&line.limit)
            .map(|c| c.used)
            .unwrap_or_default();
        Dimension::ALL.into_iter().find_map(|dimension| {
            let cap = dimension.cap(&line.caps)?;
            let wanted = amount.get(dimension);
            if state.used.get(dimension).saturating_add(wanted) <= cap {
                return None;
            }
            let until_reset = state.resets_at_ms.saturating_sub(now_ms);
            let retry_after_ms = if wanted > cap {
                None
            } else if settled.get(dimension).saturating_add(wanted) > cap {
                Some(until_reset)
            } else {
                Some(until_reset.min(HELD_RETRY_MS))
            };
            Some(Refusal {
                limit: line.limit.clone(),
                dimension,
                retry_after_ms,
            })
        })
    }

    /// Ends a hold: charges `actual` in each window it holds that is still current (a
    /// window that has rolled over took its use with it), or nothing when released.
    /// An unknown hold (already settled, released or swept) changes nothing.
    fn close(&mut self, hold: &str, actual: Option<Amount>, changes: &mut Changes) {
        let Some(closed) = self.holds.remove(hold) else {
            return;
        };
        changes.holds_removed.push(hold.to_owned());
        for held in &closed.windows {
            let Some(counter) = self.counters.get_mut(&held.limit) else {
                continue;
            };
            if counter.window_start_ms != held.window_start_ms {
                continue;
            }
            counter.remove_hold(&closed);
            if let Some(actual) = actual {
                counter.used = counter.used.plus(actual);
                changes.note_counter(&held.limit);
            }
        }
    }

    /// The line's counter in its current window (rolled over, or made, as needed).
    fn state(&mut self, line: &LimitLine, now_ms: u64, changes: &mut Changes) -> LimitState {
        let (start, end) = window::bounds(line.window, now_ms);
        let fresh = Counter {
            window: line.window,
            window_start_ms: start,
            used: Amount::default(),
            held: Amount::default(),
            leased: Amount::default(),
        };
        let counter = match self.counters.get_mut(&line.limit) {
            Some(counter) if counter.window == line.window && counter.window_start_ms == start => {
                counter
            }
            Some(counter) => {
                *counter = fresh;
                changes.note_counter(&line.limit);
                counter
            }
            None => {
                changes.note_counter(&line.limit);
                self.counters.entry(line.limit.clone()).or_insert(fresh)
            }
        };
        LimitState {
            limit: line.limit.clone(),
            window: line.window,
            caps: line.caps,
            used: counter.used.plus(counter.held),
            held: counter.held.minus(counter.leased),
            leased: counter.leased,
            resets_at_ms: end,
        }
    }

    fn granted(&self, states: Vec<LimitState>) -> Outcome {
        Outcome {
            granted: true,
            refusal: None,
            states,
        }
    }

    /// Every counter, for an admin's view of a scope.
    pub fn counters(&self) -> impl Iterator<Item = (&String, &Counter)> {
        self.counters.iter()
    }
}
