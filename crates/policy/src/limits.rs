//! Budgets and rate limits as policy data: `policies/budgets.json`, carried in the signed
//! bundle like the rest of the policy set.
//!
//! Each limit names a scope (org, team, user or API key), which of that scope's members it
//! applies to (one by id, or `*` for each one separately), a UTC window (minute, hour,
//! day, calendar month) and at least one cap: spend in US dollars (counted in integer
//! micro-USD), requests, or tokens (input + output). Enforcement lives in the engine's
//! ledger and the worker's budget objects; this module only says what the limits are.
//!
//! ```json
//! { "limits": [
//!   { "id": "team-monthly-spend", "scope": "team", "match": "*", "window": "month", "spend_usd": 500 },
//!   { "id": "key-rate", "scope": "key", "match": "*", "window": "minute", "requests": 600, "tokens": 200000 }
//! ] }
//! ```
//!
//! A limit's `id` names its counters: changing a cap keeps what was counted, renaming the
//! limit starts it afresh.
//!
//! A limit on a hot member (an org with thousands of calls a second) may be split into
//! `shards` (up to 64): each shard is its own budget object holding an exact share of each
//! cap (the shares sum to the cap), so the limit is never passed while the load spreads
//! over several objects.

use serde::{Deserialize, Serialize};

use crate::principal::Principal;

pub const LIMITS_FILE: &str = "budgets.json";

/// The largest integer a counter holds: Durable Object SQL and JavaScript numbers are
/// exact up to 2^53 - 1.
pub const MAX_COUNT: u64 = (1 << 53) - 1;
/// The most budget objects one limit may be split across.
pub const MAX_SHARDS: u32 = 64;
const MICRO_USD_PER_USD: f64 = 1_000_000.0;

/// Who a limit counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Org,
    Team,
    User,
    Key,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Org, Scope::Team, Scope::User, Scope::Key];

    pub fn id(self) -> &'static str {
        match self {
            Scope::Org => "org",
            Scope::Team => "team",
            Scope::User => "user",
            Scope::Key => "key",
        }
    }
}

/// A UTC window a limit counts over. Windows are aligned: minutes start at :00, days at
/// midnight UTC, months on the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    Minute,
    Hour,
    Day,
    Month,
}

impl Window {
    pub fn id(self) -> &'static str {
        match self {
            Window::Minute => "minute",
            Window::Hour => "hour",
            Window::Day => "day",
            Window::Month => "month",
        }
    }
}

/// The caps of one limit; `None` leaves that dimension uncounted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Caps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub micro_usd: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
}

impl Caps {
    /// Shard `index`'s share of each cap when split `count` ways: the shares differ by at
    /// most one and sum to the cap exactly.
    pub fn shard(self, index: u32, count: u32) -> Caps {
        let count = u64::from(count.max(1));
        let index = u64::from(index);
        let share = |cap: u64| cap / count + u64::from(index < cap % count);
        Caps {
            micro_usd: self.micro_usd.map(share),
            requests: self.requests.map(share),
            tokens: self.tokens.map(share),
        }
    }
}

/// One declared limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Limit {
    pub id: String,
    pub scope: Scope,
    /// The member it applies to; `None` applies it to each member of the scope separately.
    pub member: Option<String>,
    pub window: Window,
    pub caps: Caps,
    /// How many budget objects the limit is split across (1: not split).
    pub shards: u32,
}

/// A limit as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitText {
    id: String,
    scope: Scope,
    #[serde(rename = "match")]
    member: String,
    window: Window,
    #[serde(default)]
    spend_usd: Option<f64>,
    #[serde(default)]
    requests: Option<u64>,
    #[serde(default)]
    tokens: Option<u64>,
    #[serde(default)]
    shards: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsText {
    limits: Vec<LimitText>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimitsError {
    /// JSON that does not parse or has the wrong shape; serde's message names the line.
    #[error("{0}")]
    Json(String),
    #[error("line {line}: limit `{id}`: {message}")]
    Limit {
        line: usize,
        id: String,
        message: String,
    },
}

/// The limits of a bundle, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LimitSet {
    limits: Vec<Limit>,
}

impl LimitSet {
    /// Parses `budgets.json`. An empty text declares no limits.
    pub fn from_json(text: &str) -> Result<Self, LimitsError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let parsed: LimitsText =
            serde_json::from_str(text).map_err(|e| LimitsError::Json(e.to_string()))?;
        let mut limits: Vec<Limit> = Vec::with_capacity(parsed.limits.len());
        for written in parsed.limits {
            let earlier_uses = limits.iter().filter(|l| l.id == written.id).count();
            let invalid = |message: String| LimitsError::Limit {
                line: line_of_id(text, &written.id, earlier_uses),
                id: written.id.clone(),
                message,
            };
            if written.id.trim().is_empty() {
                return Err(invalid("the id is empty".to_owned()));
            }
            if limits.iter().any(|l| l.id == written.id) {
                return Err(invalid("the id is used twice".to_owned()));
            }
            let member = match written.member.trim() {
                "" => return Err(invalid("`match` is empty; use `*` for every member".into())),
                "*" => None,
                _ => Some(written.member.clone()),
            };
            let micro_usd = written
                .spend_usd
                .map(micro_usd_of)
                .transpose()
                .map_err(invalid)?;
            let caps = Caps {
                micro_usd,
                requests: written.requests.map(count).transpose().map_err(invalid)?,
                tokens: written.tokens.map(count).transpose().map_err(invalid)?,
            };
            if caps == Caps::default() {
                return Err(invalid(
                    "it caps nothing: give `spend_usd`, `requests` or `tokens`".to_owned(),
                ));
            }
            let shards = written.shards.unwrap_or(1);
            if !(1..=MAX_SHARDS).contains(&shards) {
                return Err(invalid(format!(
                    "`shards` must be between 1 and {MAX_SHARDS}"
                )));
            }
            limits.push(Limit {
                id: written.id,
                scope: written.scope,
                member,
                window: written.window,
                caps,
                shards,
            });
        }
        Ok(Self { limits })
    }

    pub fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Limit> {
        self.limits.iter()
    }

    pub fn get(&self, id: &str) -> Option<&Limit> {
        self.limits.iter().find(|l| l.id == id)
    }

    /// The limits a caller's call counts against, each with the member of its scope
    /// (the caller's org, team, user or key id).
    pub fn applying_to<'a>(
        &'a self,
        members: &'a ScopeMembers<'a>,
    ) -> impl Iterator<Item = (&'a Limit, &'a str)> + 'a {
        self.limits.iter().filter_map(move |limit| {
            let member = members.of_scope(limit.scope);
            match &limit.member {
                Some(only) if only != member => None,
                _ => Some((limit, member)),
            }
        })
    }
}

/// The members of each scope a caller belongs to.
#[derive(Debug, Clone, Copy)]
pub struct ScopeMembers<'a> {
    pub org: &'a str,
    pub team: &'a str,
    pub user: &'a str,
    /// The caller's key id (a prefix of the key's SHA-256; never the key).
    pub key: &'a str,
}

impl<'a> ScopeMembers<'a> {
    pub fn of(principal: &'a Principal, key_id: &'a str) -> Self {
        Self {
            org: &principal.org,
            team: &principal.team,
            user: &principal.user,
            key: key_id,
        }
    }

    pub fn of_scope(&self, scope: Scope) -> &'a str {
        match scope {
            Scope::Org => self.org,
            Scope::Team => self.team,
            Scope::User => self.user,
            Scope::Key => self.key,
        }
    }
}

/// Dollars to micro-USD, rounded to the nearest micro-dollar.
fn micro_usd_of(usd: f64) -> Result<u64, String> {
    let micro = (usd * MICRO_USD_PER_USD).round();
    if !micro.is_finite() || micro < 0.0 || micro > MAX_COUNT as f64 {
        return Err(format!(
            "`spend_usd` must be between 0 and {:.0}",
            MAX_COUNT as f64 / MICRO_USD_PER_USD
        ));
    }
    // In range and integral, so the conversion is exact.
    Ok(micro as u64)
}

fn count(value: u64) -> Result<u64, String> {
    if value > MAX_COUNT {
        return Err(format!("counts above {MAX_COUNT} cannot be kept exactly"));
    }
    Ok(value)
}

/// The line of the quoted `id` after its first `earlier_uses` occurrences: where a limit
/// that parsed but is not valid is written.
fn line_of_id(text: &str, id: &str, earlier_uses: usize) -> usize {
    let quoted = format!("\"{id}\"");
    let mut from = 0;
    let mut found = None;
    for _ in 0..=earlier_uses {
        match text.get(from..).and_then(|rest| rest.find(&quoted)) {
            Some(at) => {
                found = Some(from + at);
                from += at + quoted.len();
            }
            None => break,
        }
    }
    let at = found.unwrap_or(0);
    text.get(..at)
        .map_or(1, |before| before.matches('\n').count() + 1)
}
