//! Budgets and rate limits at the edge: the call's worst case is reserved in the budget
//! object of every scope member it counts against (in parallel, all or nothing), the
//! decision sees each scope's state, and the call is later settled at what it used or
//! released when it never reached the provider.
//!
//! A reservation either holds in every object or in none: objects that granted are
//! released when another refuses. No object ever holds more than its cap, so no
//! interleaving of calls, streams or isolates passes a limit; the price is that a call
//! refused elsewhere briefly held room it did not use.
//!
//! Where a scope's limits are large against a call, this isolate leases a slice of them
//! (`gateway_engine::budget::lease`): one reservation in the object covers the calls that
//! follow, which are granted and settled here without a round trip, and the slice is
//! settled at their total once it closes. The object counts the slice as held, so the
//! guarantee above covers leased calls too.
//!
//! Every settlement and release runs in the ending call's own `waitUntil`, which the
//! runtime keeps alive after the answer: the call that leaves a lease idle waits there
//! until the lease closes and settles it, so a lease is settled whether or not another
//! call ever reaches this isolate. Settlements and releases are retried (the object
//! applies each at most once), since one lost is charged in full by the object's alarm.

use std::cell::RefCell;
use std::collections::BTreeMap;

use futures_channel::oneshot;
use futures_util::future::join_all;
use serde::Serialize;
use worker::{Context, Delay, Env, Method, ObjectNamespace, Request, RequestInit};

use gateway_engine::budget::lease::{
    Acquired, Closing, LeaseBook, Take, Ticket, LEASE_OPEN_MS, MIN_LEASE_HOLD_MS,
};
use gateway_engine::budget::{
    Amount, Dimension, LimitLine, LimitState, Operation, Outcome, Refusal, Usage,
};
use gateway_policy::catalog::Prices;
use gateway_policy::context::{ScopeBudget, SpendLeft};
use gateway_policy::limits::{LimitSet, Scope, ScopeMembers};

use super::config::{BudgetFailure, Config, BUDGET_BINDING};
use super::guarded::within;
use super::log;
use super::reply::{ErrorKind, Failure};

thread_local! {
    /// This isolate's leases: it serves many requests, and each lease many calls.
    static LEASES: RefCell<LeaseBook> = RefCell::new(LeaseBook::default());
}

/// A scope member's budget object and the limits of the call in it.
struct ScopeObject {
    scope: Scope,
    name: String,
    lines: Vec<LimitLine>,
}

/// A call's hold in one object: reserved there, or granted from this isolate's lease on
/// it.
struct Holding {
    object: ScopeObject,
    ticket: Option<Ticket>,
}

/// A call's holds, from reservation to settlement. Dropped unsettled (the request was
/// cancelled mid-call), its leased calls count at their worst case, as the object's alarm
/// charges its direct holds: the call may have reached the provider.
pub struct Metered {
    hold: String,
    namespace: ObjectNamespace,
    objects: Vec<Holding>,
    /// Each scope's limits as they stood before this call's reservation.
    states: Vec<(Scope, Vec<LimitState>)>,
    reserved: Amount,
    /// The reserved input-token bound, charged when the provider never reports input.
    pub input_bound: u64,
    prices: Prices,
}

/// Where one group of a call's limits can be reserved: the scope member's object, or, for
/// a limit split into shards, each of its shards in the order this call tries them.
struct Group {
    candidates: Vec<ScopeObject>,
}

/// The limits that apply to a caller: one group for each scope member's unsplit limits,
/// and one for each split limit. A split limit's shards are tried starting from one picked
/// by the hold id, so calls spread over them. Nothing here reaches an object: a call
/// granted from a lease reaches none.
fn groups(limits: &LimitSet, members: &ScopeMembers<'_>, hold: &str) -> Vec<Group> {
    let mut whole: BTreeMap<Scope, Vec<LimitLine>> = BTreeMap::new();
    let mut split = Vec::new();
    for (limit, member) in limits.applying_to(members) {
        if limit.shards > 1 {
            split.push((limit, member));
            continue;
        }
        whole.entry(limit.scope).or_default().push(LimitLine {
            limit: limit.id.clone(),
            window: limit.window,
            caps: limit.caps,
        });
    }
    let object =
        |scope: Scope, name: String, lines: Vec<LimitLine>| ScopeObject { scope, name, lines };
    let mut groups = Vec::with_capacity(whole.len() + split.len());
    for (scope, lines) in whole {
        let name = object_name(scope, members.of_scope(scope));
        groups.push(Group {
            candidates: vec![object(scope, name, lines)],
        });
    }
    for (limit, member) in split {
        let first = spread(hold) % limit.shards;
        let candidates = (0..limit.shards)
            .map(|offset| {
                let shard = (first + offset) % limit.shards;
                let name = format!("{}/{}#{shard}", object_name(limit.scope, member), limit.id);
                let line = LimitLine {
                    limit: limit.id.clone(),
                    window: limit.window,
                    caps: limit.caps.shard(shard, limit.shards),
                };
                object(limit.scope, name, vec![line])
            })
            .collect();
        groups.push(Group { candidates });
    }
    groups
}

/// A number spread evenly by the (random) hold id.
fn spread(hold: &str) -> u32 {
    hold.bytes().fold(0u32, |hash, byte| {
        hash.wrapping_mul(31).wrapping_add(u32::from(byte))
    })
}

/// The budget object of a scope member: `team:research`, `key:3f2a…`.
pub fn object_name(scope: Scope, member: &str) -> String {
    format!("{}:{member}", scope.id())
}

/// What became of one group's reservation.
enum Placed {
    Granted(Holding, Vec<LimitState>),
    Refused(Refusal, Vec<LimitState>),
    Failed,
}

/// One call's reservation, as every group places it.
struct Reservation<'a> {
    hold: &'a str,
    amount: Amount,
    ttl_ms: u64,
    timeout_ms: u64,
    leases: bool,
    ctx: &'a Context,
    namespace: &'a ObjectNamespace,
}

impl Reservation<'_> {
    fn operation(&self, hold: &str, lines: &[LimitLine], amount: Amount, lease: bool) -> Operation {
        Operation::Reserve {
            hold: hold.to_owned(),
            lines: lines.to_vec(),
            amount,
            ttl_ms: self.ttl_ms,
            lease,
        }
    }
}

/// What came of asking an object for a lease.
enum Leased {
    Granted(Ticket, Vec<LimitState>),
    /// No slice fits: the call reserves its own worst case instead.
    Refused,
    Failed,
}

/// What became of a lease being taken, for the task that finishes its business after
/// the request.
enum Acquisition {
    /// Granted: settle the lease when it closes, should this request be cancelled before
    /// its call ends (an ending call settles it otherwise).
    Granted { closes_ms: u64 },
    /// Refused: nothing is held.
    Refused,
    /// No answer: the object may have reserved the slice before the answer was lost.
    Lost,
}

/// Asks the object for a slice, with this call the lease's first. The request may be
/// cancelled at the `await` (its caller went away): the task registered first then
/// releases whatever the object reserved, so an abandoned slice is never left to the
/// alarm.
async fn lease(object: &ScopeObject, slice: Amount, r: &Reservation<'_>) -> Leased {
    let id = format!("{}.lease", r.hold);
    let (report, acquisition) = oneshot::channel::<Acquisition>();
    let (namespace, name, hold) = (r.namespace.clone(), object.name.clone(), id.clone());
    let timeout_ms = r.timeout_ms;
    r.ctx.wait_until(async move {
        let release = match acquisition.await {
            Ok(Acquisition::Granted { closes_ms }) => {
                return settle_leases_at(&namespace, timeout_ms, closes_ms).await;
            }
            Ok(Acquisition::Refused) => return,
            Ok(Acquisition::Lost) => Operation::Release { hold },
            Err(oneshot::Canceled) => {
                LEASES.with_borrow_mut(|book| book.not_acquired(&name, now_ms()));
                Operation::Release { hold }
            }
        };
        send_retrying(&namespace, &name, release, timeout_ms).await;
    });

    let reserve = r.operation(&id, &object.lines, slice, true);
    let outcome = send(r.namespace, &object.name, reserve, r.timeout_ms).await;
    let now = now_ms();
    let (leased, next) = match outcome {
        Some(Outcome {
            granted: true,
            states,
            ..
        }) => {
            let acquired = Acquired {
                id,
                slice,
                states: states.clone(),
                expires_ms: now.saturating_add(r.ttl_ms),
            };
            let ticket = LEASES.with_borrow_mut(|book| {
                book.acquired(&object.name, &object.lines, r.amount, acquired, now)
            });
            let closes_ms = now.saturating_add(LEASE_OPEN_MS);
            (
                Leased::Granted(ticket, states),
                Acquisition::Granted { closes_ms },
            )
        }
        Some(_) => {
            LEASES.with_borrow_mut(|book| book.not_acquired(&object.name, now));
            (Leased::Refused, Acquisition::Refused)
        }
        None => {
            LEASES.with_borrow_mut(|book| book.not_acquired(&object.name, now));
            (Leased::Failed, Acquisition::Lost)
        }
    };
    // The task is waiting for this report: it cannot have ended yet.
    let _ = report.send(next);
    leased
}

/// Settles this isolate's closed leases whose calls have all ended (with `all_idle`, every
/// lease with no call in flight) in their objects.
async fn settle_leases(namespace: &ObjectNamespace, timeout_ms: u64, all_idle: bool) {
    let closings = LEASES.with_borrow_mut(|book| book.closable(now_ms(), all_idle));
    join_all(
        closings
            .into_iter()
            .map(|closing| settle_lease(namespace, timeout_ms, closing)),
    )
    .await;
}

/// Waits until `closes_ms` (when a lease stops granting), then settles what has closed.
async fn settle_leases_at(namespace: &ObjectNamespace, timeout_ms: u64, closes_ms: u64) {
    let wait_ms = closes_ms.saturating_sub(now_ms()).saturating_add(1);
    Delay::from(std::time::Duration::from_millis(wait_ms)).await;
    settle_leases(namespace, timeout_ms, false).await;
}

async fn settle_lease(namespace: &ObjectNamespace, timeout_ms: u64, closing: Closing) {
    let Closing {
        object,
        lease,
        consumed,
    } = closing;
    let settle = Operation::Settle {
        hold: lease.clone(),
        actual: consumed,
    };
    if send_retrying(namespace, &object, settle, timeout_ms).await {
        log::budget_lease_settled(&lease, &object, consumed);
    } else {
        // The slice stays held until its alarm charges it in full: never less.
        log::budget_unsettled(&lease, &object);
    }
}

/// Reserves in the group's first candidate with room: a split limit refuses only when no
/// shard has room for the call's worst case. An unsplit limit is granted from this
/// isolate's lease on its object when it has one with room, or takes one when leasing
/// pays (and holds last long enough to lease).
async fn place(group: Group, r: &Reservation<'_>) -> Placed {
    let mut candidates = group.candidates;
    let leasing = r.leases && r.ttl_ms >= MIN_LEASE_HOLD_MS;
    if let (true, [only]) = (leasing, candidates.as_slice()) {
        let take =
            LEASES.with_borrow_mut(|book| book.take(&only.name, &only.lines, r.amount, now_ms()));
        let leased = match take {
            Take::Granted { ticket, states } => Some((ticket, states)),
            Take::Acquire { slice } => match lease(only, slice, r).await {
                Leased::Granted(ticket, states) => Some((ticket, states)),
                Leased::Refused => None,
                Leased::Failed => return Placed::Failed,
            },
            Take::Direct => None,
        };
        if let Some((ticket, states)) = leased {
            // `only` is the one candidate, so `pop` returns it.
            if let Some(object) = candidates.pop() {
                let holding = Holding {
                    object,
                    ticket: Some(ticket),
                };
                return Placed::Granted(holding, states);
            }
        }
    }
    let mut refused = None;
    for candidate in candidates.drain(..) {
        let reserve = r.operation(r.hold, &candidate.lines, r.amount, false);
        match send(r.namespace, &candidate.name, reserve, r.timeout_ms).await {
            Some(Outcome {
                granted: true,
                states,
                ..
            }) => {
                let holding = Holding {
                    object: candidate,
                    ticket: None,
                };
                return Placed::Granted(holding, states);
            }
            Some(Outcome {
                refusal: Some(why),
                states,
                ..
            }) => refused = Some((why, states)),
            _ => return Placed::Failed,
        }
    }
    match refused {
        Some((why, states)) => Placed::Refused(why, states),
        None => Placed::Failed,
    }
}

/// What a call reserves: its hold id (the decision id), its worst case, and its model's
/// prices.
pub struct Charge<'a> {
    pub hold: &'a str,
    pub worst: Usage,
    pub prices: &'a Prices,
}

/// Reserves the charge's worst case in every budget object the call counts against.
/// `Ok(None)` when no limit applies (or the store failed open).
pub async fn reserve(
    env: &Env,
    ctx: &Context,
    config: &Config,
    limits: &LimitSet,
    members: &ScopeMembers<'_>,
    charge: Charge<'_>,
) -> Result<Option<Metered>, Failure> {
    let Charge {
        hold,
        worst,
        prices,
    } = charge;
    if limits.is_empty() {
        return Ok(None);
    }
    let groups = groups(limits, members, hold);
    if groups.is_empty() {
        return Ok(None);
    }
    let namespace = match env.durable_object(BUDGET_BINDING) {
        Ok(namespace) => namespace,
        // No budget binding: a deployment fault, handled like an unreachable store.
        Err(_) => {
            log::budget_store_failed(hold, config.budget_failure == BudgetFailure::Open);
            return match config.budget_failure {
                BudgetFailure::Open => Ok(None),
                BudgetFailure::Closed => Err(store_failed()),
            };
        }
    };
    let reserved = worst.amount(prices);
    let reservation = Reservation {
        hold,
        amount: reserved,
        ttl_ms: config.budget_hold_ms,
        timeout_ms: config.budget_timeout_ms,
        leases: config.budget_leases,
        ctx,
        namespace: &namespace,
    };
    let placed = join_all(groups.into_iter().map(|group| place(group, &reservation))).await;

    let mut granted = Vec::new();
    let mut refusal: Option<(Refusal, Vec<LimitState>)> = None;
    let mut failed = false;
    let mut states = Vec::new();
    for outcome in placed {
        match outcome {
            Placed::Granted(holding, object_states) => {
                states.push((holding.object.scope, object_states));
                granted.push(holding);
            }
            Placed::Refused(why, object_states) => {
                refusal.get_or_insert((why, object_states));
            }
            Placed::Failed => failed = true,
        }
    }
    let metered = Metered {
        hold: hold.to_owned(),
        namespace,
        objects: granted,
        states,
        reserved,
        input_bound: worst.input_tokens,
        prices: prices.clone(),
    };
    if let Some((why, limit_states)) = refusal {
        metered.release(ctx, config);
        return Err(refused(&why, &limit_states));
    }
    if failed {
        log::budget_store_failed(hold, config.budget_failure == BudgetFailure::Open);
        if config.budget_failure == BudgetFailure::Closed {
            metered.release(ctx, config);
            return Err(store_failed());
        }
    }
    Ok(Some(metered))
}

impl Metered {
    /// Each scope's budget state for the Cedar context.
    pub fn budgets(&self) -> Vec<ScopeBudget> {
        let mut by_scope: BTreeMap<Scope, Vec<LimitState>> = BTreeMap::new();
        for (scope, states) in &self.states {
            by_scope
                .entry(*scope)
                .or_default()
                .extend(states.iter().cloned());
        }
        by_scope
            .iter()
            .map(|(scope, states)| scope_budget(*scope, states))
            .collect()
    }

    pub fn reserved(&self) -> Amount {
        self.reserved
    }

    /// The rate-limit headers of an admitted call: each dimension's tightest limit, with
    /// this call's reservation counted as used.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let all: Vec<&LimitState> = self.states.iter().flat_map(|(_, s)| s).collect();
        rate_headers(&all, self.reserved)
    }

    /// Drops the holds (the call never reached the provider), after the answer.
    pub fn release(self, ctx: &Context, config: &Config) {
        if self.objects.is_empty() {
            return;
        }
        let operation = Operation::Release {
            hold: self.hold.clone(),
        };
        ctx.wait_until(self.send_all(config.budget_timeout_ms, operation));
    }

    /// Settles the holds at what the call used, after the answer.
    pub fn settle(self, ctx: &Context, config: &Config, usage: Usage) {
        if !self.objects.is_empty() {
            ctx.wait_until(self.settlement(config.budget_timeout_ms, Some(usage)));
        }
    }

    /// Settles at the full reservation: the usage could not be read.
    pub fn settle_in_full(self, ctx: &Context, config: &Config) {
        if !self.objects.is_empty() {
            ctx.wait_until(self.settlement(config.budget_timeout_ms, None));
        }
    }

    /// A future that settles the holds (for a stream, once it ends): at `usage`, or at
    /// the whole reservation when there is none.
    pub fn settlement(
        self,
        timeout_ms: u64,
        usage: Option<Usage>,
    ) -> impl std::future::Future<Output = ()> + 'static {
        let actual = usage.map_or(self.reserved, |usage| usage.amount(&self.prices));
        log::budget_settled(&self.hold, self.reserved, actual);
        let operation = Operation::Settle {
            hold: self.hold.clone(),
            actual,
        };
        self.send_all(timeout_ms, operation)
    }

    fn send_all(
        mut self,
        timeout_ms: u64,
        operation: Operation,
    ) -> impl std::future::Future<Output = ()> + 'static {
        let objects = std::mem::take(&mut self.objects);
        let hold = std::mem::take(&mut self.hold);
        let namespace = self.namespace.clone();
        async move {
            // Calls granted from a lease end here; the others in their objects.
            let used = match &operation {
                Operation::Settle { actual, .. } => Some(*actual),
                _ => None,
            };
            let mut direct = Vec::with_capacity(objects.len());
            // When the last of the leases this call leaves idle closes.
            let mut idle_until_ms = None;
            for holding in objects {
                match &holding.ticket {
                    Some(ticket) => {
                        let closes = LEASES.with_borrow_mut(|book| book.finish(ticket, used));
                        idle_until_ms = idle_until_ms.max(closes);
                    }
                    None => direct.push(holding.object),
                }
            }
            let replies = join_all(direct.iter().map(|object| {
                send_retrying(&namespace, &object.name, operation.clone(), timeout_ms)
            }))
            .await;
            for (object, delivered) in direct.iter().zip(replies) {
                if !delivered {
                    // The hold stays until its alarm charges it in full: never less.
                    log::budget_unsettled(&hold, &object.name);
                }
            }
            settle_leases(&namespace, timeout_ms, false).await;
            if let Some(closes_ms) = idle_until_ms {
                settle_leases_at(&namespace, timeout_ms, closes_ms).await;
            }
        }
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        // Only a call cancelled before its settlement or release still has holdings here.
        for holding in &self.objects {
            if let Some(ticket) = &holding.ticket {
                LEASES.with_borrow_mut(|book| book.finish(ticket, Some(ticket.worst)));
            }
        }
    }
}

/// A scope's state for policies: the highest share used of any limit, and the tightest
/// spend limit.
fn scope_budget(scope: Scope, states: &[LimitState]) -> ScopeBudget {
    let used_percent = states
        .iter()
        .flat_map(|state| Dimension::ALL.map(|d| state.used_percent(d)))
        .flatten()
        .max()
        .unwrap_or(0);
    let spend = states
        .iter()
        .filter_map(|state| {
            Some(SpendLeft {
                used_percent: state.used_percent(Dimension::Spend)?,
                remaining_micro_usd: state.remaining(Dimension::Spend)?,
            })
        })
        .min_by_key(|spend| spend.remaining_micro_usd);
    ScopeBudget {
        scope,
        used_percent,
        spend,
    }
}

/// OpenAI-style headers, for each capped dimension from its tightest limit:
/// `x-ratelimit-limit-<d>`, `x-ratelimit-remaining-<d>` and `x-ratelimit-reset-<d>`
/// (`requests`, `tokens`, and `spend` in micro-USD), with `extra` counted as used.
fn rate_headers(states: &[&LimitState], extra: Amount) -> Vec<(&'static str, String)> {
    let mut headers = Vec::new();
    for dimension in Dimension::ALL {
        let tightest = states
            .iter()
            .filter_map(|state| {
                let cap = dimension.cap(&state.caps)?;
                let remaining = state
                    .remaining(dimension)?
                    .saturating_sub(amount_of(extra, dimension));
                Some((remaining, cap, state.resets_at_ms))
            })
            .min_by_key(|(remaining, _, _)| *remaining);
        let Some((remaining, cap, resets_at_ms)) = tightest else {
            continue;
        };
        let (limit, left, reset) = header_names(dimension);
        headers.push((limit, cap.to_string()));
        headers.push((left, remaining.to_string()));
        headers.push((reset, duration_text(resets_at_ms.saturating_sub(now_ms()))));
    }
    headers
}

fn header_names(dimension: Dimension) -> (&'static str, &'static str, &'static str) {
    match dimension {
        Dimension::Requests => (
            "x-ratelimit-limit-requests",
            "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests",
        ),
        Dimension::Tokens => (
            "x-ratelimit-limit-tokens",
            "x-ratelimit-remaining-tokens",
            "x-ratelimit-reset-tokens",
        ),
        Dimension::Spend => (
            "x-ratelimit-limit-spend",
            "x-ratelimit-remaining-spend",
            "x-ratelimit-reset-spend",
        ),
    }
}

fn amount_of(amount: Amount, dimension: Dimension) -> u64 {
    match dimension {
        Dimension::Spend => amount.micro_usd,
        Dimension::Requests => amount.requests,
        Dimension::Tokens => amount.tokens,
    }
}

/// OpenAI's reset format: `1s`, `6m0s`, `2h3m4s`, `250ms`.
fn duration_text(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let seconds = ms.div_ceil(1000);
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, _) => format!("{minutes}m{seconds}s"),
        _ => format!("{hours}h{minutes}m{seconds}s"),
    }
}

/// The 429 for a refused reservation, with `retry-after` when waiting can help.
fn refused(why: &Refusal, states: &[LimitState]) -> Failure {
    let refs: Vec<&LimitState> = states.iter().collect();
    let mut headers = rate_headers(&refs, Amount::default());
    let message = match why.retry_after_ms {
        None => format!(
            "this call's worst case exceeds the {} limit `{}` on its own; ask for fewer output tokens",
            why.dimension.id(),
            why.limit
        ),
        Some(_) => format!(
            "the {} limit `{}` is reached for this window",
            why.dimension.id(),
            why.limit
        ),
    };
    if let Some(ms) = why.retry_after_ms {
        let ms = ms.max(1);
        headers.push(("retry-after", ms.div_ceil(1000).to_string()));
        headers.push(("retry-after-ms", ms.to_string()));
    }
    Failure::new(ErrorKind::RateLimited, "rate_limit_exceeded", message).with_headers(headers)
}

fn store_failed() -> Failure {
    Failure::new(
        ErrorKind::Unavailable,
        "budget_store_unavailable",
        "budgets could not be checked, so the call was not forwarded; retry shortly",
    )
    .with_headers(vec![("retry-after", "1".to_owned())])
}

/// How often a settlement or release is sent before it is left to the object's alarm,
/// and the pause before each retry.
const RETRY_PAUSES_MS: [u64; 2] = [250, 1_000];

/// Sends a settlement or release (which the object applies at most once), retrying when
/// it is not answered; whether the object took it.
async fn send_retrying(
    namespace: &ObjectNamespace,
    name: &str,
    operation: Operation,
    timeout_ms: u64,
) -> bool {
    if send(namespace, name, operation.clone(), timeout_ms)
        .await
        .is_some()
    {
        return true;
    }
    for pause_ms in RETRY_PAUSES_MS {
        Delay::from(std::time::Duration::from_millis(pause_ms)).await;
        if send(namespace, name, operation.clone(), timeout_ms)
            .await
            .is_some()
        {
            return true;
        }
    }
    false
}

/// Sends one operation to the budget object `name`; `None` when it fails or times out.
async fn send(
    namespace: &ObjectNamespace,
    name: &str,
    operation: Operation,
    timeout_ms: u64,
) -> Option<Outcome> {
    let stub = namespace.id_from_name(name).ok()?.get_stub().ok()?;
    let body = serde_json::to_string(&operation).ok()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(wasm_bindgen::JsValue::from_str(&body)));
    let request = Request::new_with_init("https://budget/op", &init).ok()?;
    let exchange = async {
        let mut response = stub.fetch_with_request(request).await.ok()?;
        if response.status_code() != 200 {
            return None;
        }
        response.json::<Outcome>().await.ok()
    };
    within(timeout_ms, exchange).await.flatten()
}

fn now_ms() -> u64 {
    js_sys::Date::now().max(0.0) as u64
}

#[derive(Serialize)]
pub struct ScopeUsage {
    pub scope: Scope,
    pub member: String,
    pub limits: Vec<LimitState>,
}

/// The state of every limit that applies to a scope member (nothing is reserved).
pub async fn read_usage(
    env: &Env,
    config: &Config,
    limits: &LimitSet,
    members: &ScopeMembers<'_>,
    only: Option<Scope>,
) -> Result<Vec<ScopeUsage>, Failure> {
    let namespace = env
        .durable_object(BUDGET_BINDING)
        .map_err(|_| store_failed())?;
    // The objects then show what this isolate's finished leased calls used.
    settle_leases(&namespace, config.budget_timeout_ms, true).await;
    let objects: Vec<ScopeObject> = groups(limits, members, "")
        .into_iter()
        .flat_map(|group| group.candidates)
        .filter(|object| only.is_none_or(|scope| scope == object.scope))
        .collect();
    let replies = join_all(objects.iter().map(|object| {
        let operation = Operation::Read {
            lines: object.lines.clone(),
        };
        send(
            &namespace,
            &object.name,
            operation,
            config.budget_timeout_ms,
        )
    }))
    .await;
    // A split limit's shards add up to the limit.
    let mut by_scope: BTreeMap<Scope, BTreeMap<String, LimitState>> = BTreeMap::new();
    for (object, reply) in objects.iter().zip(replies) {
        let outcome = reply.ok_or_else(store_failed)?;
        let scope = by_scope.entry(object.scope).or_default();
        for state in outcome.states {
            match scope.get_mut(&state.limit) {
                Some(total) => {
                    total.used = total.used.plus(state.used);
                    total.held = total.held.plus(state.held);
                    total.leased = total.leased.plus(state.leased);
                }
                None => {
                    let caps = limits.get(&state.limit).map_or(state.caps, |l| l.caps);
                    scope.insert(state.limit.clone(), LimitState { caps, ..state });
                }
            }
        }
    }
    Ok(by_scope
        .into_iter()
        .map(|(scope, states)| ScopeUsage {
            scope,
            member: members.of_scope(scope).to_owned(),
            limits: states.into_values().collect(),
        })
        .collect())
}
