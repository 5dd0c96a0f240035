//! Isolate leases: a gateway isolate reserves a slice of a hot scope's limits in its budget
//! object as one hold, grants calls from that slice without a round trip, and settles the
//! slice at what its calls used.
//!
//! The budget object sees the slice as one hold, so its cap still bounds every slice and
//! every call reserved directly: the isolate never grants past its slice, and a slice is
//! settled at exactly what its calls were charged (or in full by the object's alarm, if
//! the isolate dies first). A lease is only taken where a slice covers several calls'
//! worst cases while being a small share of every cap ([`SLICE_DIVISOR`],
//! [`MIN_CALLS_PER_SLICE`]); a call that does not fit a slice is reserved in the object
//! itself, as without leases. A slice holds at most [`MAX_CALLS_PER_SLICE`] worst cases
//! of the call that took it, which bounds what a dead isolate's lease can be charged.
//!
//! A lease is *open* (granting) for at most [`LEASE_OPEN_MS`] and never past the end of
//! its limits' windows, so the budget state it shows policies is at most that old. Once
//! closed (by age, by running out of room, or by a new bundle changing its limits), it is
//! settled as soon as its last call is: [`LeaseBook::finish`] tells the owner when the
//! call leaving a lease idle should settle it.
//!
//! One call may take leases in several objects at once (its org, team, user and key), all
//! under the call's hold id: a lease is known by its object and its id together.
//!
//! The book is plain data, driven by its owner with the time.

use std::collections::BTreeMap;

use super::ledger::{Amount, Dimension, LimitLine, LimitState};

/// A slice is at most this share of each cap it covers (1/32, about 3 %).
pub const SLICE_DIVISOR: u64 = 32;
/// A lease is taken only when its slice holds at least this many of the call's worst case.
pub const MIN_CALLS_PER_SLICE: u64 = 4;
/// A slice holds at most this many of the worst case of the call that takes it: room
/// enough that a busy isolate asks the object once per many calls, and little enough that
/// an isolate dying with the lease open is charged a bounded amount for it.
pub const MAX_CALLS_PER_SLICE: u64 = 64;
/// How long a lease grants calls after it is taken.
pub const LEASE_OPEN_MS: u64 = 2_000;
/// A lease being taken for longer than this is presumed lost (the request taking it was
/// cancelled), and the next call may take one.
pub const ACQUIRE_STALE_MS: u64 = 10_000;
/// Holds shorter than this are not leased: a slice's hold must outlast the lease and the
/// calls it granted, or the object charges the whole slice while they run.
pub const MIN_LEASE_HOLD_MS: u64 = 60_000;

/// The slice a lease on `lines` would take, or `None` when leasing does not pay: some
/// capped dimension's slice would hold fewer than [`MIN_CALLS_PER_SLICE`] calls like this
/// one. In each capped dimension it is the smaller of a [`SLICE_DIVISOR`]th of the
/// tightest cap and [`MAX_CALLS_PER_SLICE`] worst cases. Dimensions no line caps take no
/// slice (and are not checked when granting).
pub fn slice_for(lines: &[LimitLine], worst: Amount) -> Option<Amount> {
    if lines.is_empty() {
        return None;
    }
    let mut slice = Amount::default();
    for dimension in Dimension::ALL {
        let Some(tightest) = lines.iter().filter_map(|l| dimension.cap(&l.caps)).min() else {
            continue;
        };
        let share = tightest / SLICE_DIVISOR;
        let call = worst.get(dimension);
        if call.saturating_mul(MIN_CALLS_PER_SLICE) > share {
            return None;
        }
        slice.set(
            dimension,
            share.min(call.saturating_mul(MAX_CALLS_PER_SLICE)),
        );
    }
    Some(slice)
}

/// A lease's name in the book: its object and its hold id there.
type LeaseKey = (String, String);

/// One leased slice in one budget object.
#[derive(Debug)]
struct Lease {
    lines: Vec<LimitLine>,
    slice: Amount,
    /// The object's states just before the slice was reserved.
    states: Vec<LimitState>,
    /// What settled calls used.
    consumed: Amount,
    /// The worst cases of calls in flight.
    held: Amount,
    in_flight: u32,
    open_until_ms: u64,
    /// When the object charges the slice in full if it is not settled by then.
    expires_ms: u64,
}

impl Lease {
    fn room_for(&self, worst: Amount) -> bool {
        let taken = self.consumed.plus(self.held);
        Dimension::ALL.into_iter().all(|dimension| {
            !self.capped(dimension)
                || taken.get(dimension).saturating_add(worst.get(dimension))
                    <= self.slice.get(dimension)
        })
    }

    fn capped(&self, dimension: Dimension) -> bool {
        self.lines.iter().any(|l| dimension.cap(&l.caps).is_some())
    }

    /// The limits' states as this isolate sees them for a call about to be granted:
    /// the object's states at the lease, plus what this lease's calls have used and hold.
    fn view(&self) -> Vec<LimitState> {
        let local = self.consumed.plus(self.held);
        self.states
            .iter()
            .map(|state| LimitState {
                used: state.used.plus(local),
                held: state.held.plus(self.held),
                ..state.clone()
            })
            .collect()
    }
}

/// A call granted from a lease: which lease (in which object), and what it holds there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub object: String,
    pub lease: String,
    pub worst: Amount,
}

/// What the book says to do with a call's reservation in one object.
#[derive(Debug, PartialEq, Eq)]
pub enum Take {
    /// Granted from a lease: nothing to send; `states` are the limits as before this call.
    Granted {
        ticket: Ticket,
        states: Vec<LimitState>,
    },
    /// Reserve this slice in the object as a new lease (the call included), then report
    /// the outcome with [`LeaseBook::acquired`] or [`LeaseBook::not_acquired`].
    Acquire { slice: Amount },
    /// Reserve the call's worst case in the object itself.
    Direct,
}

/// A slice the object reserved: its hold id, and the object's states before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acquired {
    pub id: String,
    pub slice: Amount,
    pub states: Vec<LimitState>,
    /// When the hold expires in the object.
    pub expires_ms: u64,
}

/// A lease to settle in its object: the hold `lease`, at `consumed`.
#[derive(Debug, PartialEq, Eq)]
pub struct Closing {
    pub object: String,
    pub lease: String,
    pub consumed: Amount,
}

/// An isolate's leases.
#[derive(Debug, Default)]
pub struct LeaseBook {
    leases: BTreeMap<LeaseKey, Lease>,
    /// The lease granting in each object, if any.
    open: BTreeMap<String, String>,
    /// Objects with a lease being taken, and since when: calls meanwhile reserve directly
    /// rather than each taking a lease.
    acquiring: BTreeMap<String, u64>,
    /// Objects that refused a slice, and until when calls reserve there directly (near
    /// the cap a slice no longer fits, and asking for one would cost each call a second
    /// round trip).
    cooling: BTreeMap<String, u64>,
}

impl LeaseBook {
    /// How a call with worst case `worst` reserves in `object`, whose limits for it are
    /// `lines`. A lease that can no longer grant (too old, out of room, other limits) is
    /// closed here.
    pub fn take(&mut self, object: &str, lines: &[LimitLine], worst: Amount, now_ms: u64) -> Take {
        if let Some(id) = self.open.get(object) {
            let key = (object.to_owned(), id.clone());
            if let Some(lease) = self.leases.get_mut(&key) {
                if lease.open_until_ms > now_ms && lease.lines == lines && lease.room_for(worst) {
                    let states = lease.view();
                    lease.held = lease.held.plus(worst);
                    lease.in_flight = lease.in_flight.saturating_add(1);
                    let (object, lease) = key;
                    return Take::Granted {
                        ticket: Ticket {
                            object,
                            lease,
                            worst,
                        },
                        states,
                    };
                }
            }
            self.open.remove(object);
        }
        if self
            .acquiring
            .get(object)
            .is_some_and(|&since| now_ms < since.saturating_add(ACQUIRE_STALE_MS))
        {
            return Take::Direct;
        }
        match self.cooling.get(object) {
            Some(&until) if until > now_ms => return Take::Direct,
            Some(_) => {
                self.cooling.remove(object);
            }
            None => {}
        }
        match slice_for(lines, worst) {
            Some(slice) => {
                self.acquiring.insert(object.to_owned(), now_ms);
                Take::Acquire { slice }
            }
            None => Take::Direct,
        }
    }

    /// The object reserved `granted.slice` as hold `granted.id` for a call with worst
    /// case `worst`: the lease opens, with that call in flight.
    pub fn acquired(
        &mut self,
        object: &str,
        lines: &[LimitLine],
        worst: Amount,
        granted: Acquired,
        now_ms: u64,
    ) -> Ticket {
        let Acquired {
            id,
            slice,
            states,
            expires_ms,
        } = granted;
        self.acquiring.remove(object);
        let window_end = states.iter().map(|s| s.resets_at_ms).min();
        let open_until_ms = now_ms
            .saturating_add(LEASE_OPEN_MS)
            .min(window_end.unwrap_or(u64::MAX));
        self.leases.insert(
            (object.to_owned(), id.clone()),
            Lease {
                lines: lines.to_vec(),
                slice,
                states,
                consumed: Amount::default(),
                held: worst,
                in_flight: 1,
                open_until_ms,
                expires_ms,
            },
        );
        self.open.insert(object.to_owned(), id.clone());
        Ticket {
            object: object.to_owned(),
            lease: id,
            worst,
        }
    }

    /// The object refused the slice or did not answer: calls reserve there directly for a
    /// while.
    pub fn not_acquired(&mut self, object: &str, now_ms: u64) {
        self.acquiring.remove(object);
        self.cooling
            .insert(object.to_owned(), now_ms.saturating_add(LEASE_OPEN_MS));
    }

    /// A granted call ended: it used `actual`, or nothing when released (`None`). When it
    /// leaves its lease idle but still open, returns when the lease closes: the owner
    /// settles it then (by [`LeaseBook::closable`]) unless another call has taken it up.
    pub fn finish(&mut self, ticket: &Ticket, actual: Option<Amount>) -> Option<u64> {
        let key = (ticket.object.clone(), ticket.lease.clone());
        let lease = self.leases.get_mut(&key)?;
        lease.held = lease.held.minus(ticket.worst);
        lease.in_flight = lease.in_flight.saturating_sub(1);
        if let Some(actual) = actual {
            lease.consumed = lease.consumed.plus(actual);
        }
        let open = self.open.get(&ticket.object) == Some(&ticket.lease);
        (lease.in_flight == 0 && open).then_some(lease.open_until_ms)
    }

    /// Removes and returns the leases to settle now: those closed (or, with `all_idle`,
    /// any) whose calls have all ended. `all_idle` is for a reader who wants the objects
    /// to show what this isolate's calls used. Forgets leases the object has already
    /// charged in full (a call never ended: its request was cancelled) and stale marks.
    pub fn closable(&mut self, now_ms: u64, all_idle: bool) -> Vec<Closing> {
        self.leases.retain(|_, lease| lease.expires_ms > now_ms);
        let leases = &self.leases;
        self.open
            .retain(|object, id| leases.contains_key(&(object.clone(), id.clone())));
        self.cooling.retain(|_, &mut until| until > now_ms);
        self.acquiring
            .retain(|_, &mut since| now_ms < since.saturating_add(ACQUIRE_STALE_MS));
        let due: Vec<LeaseKey> = self
            .leases
            .iter()
            .filter(|((object, id), lease)| {
                let closed = lease.open_until_ms <= now_ms || self.open.get(object) != Some(id);
                lease.in_flight == 0 && (closed || all_idle)
            })
            .map(|(key, _)| key.clone())
            .collect();
        due.into_iter()
            .filter_map(|key| {
                let lease = self.leases.remove(&key)?;
                let (object, id) = key;
                if self.open.get(&object) == Some(&id) {
                    self.open.remove(&object);
                }
                Some(Closing {
                    object,
                    lease: id,
                    consumed: lease.consumed,
                })
            })
            .collect()
    }

    /// When the earliest open lease stops granting, if any is open.
    pub fn next_close_ms(&self) -> Option<u64> {
        self.leases.values().map(|l| l.open_until_ms).min()
    }

    pub fn len(&self) -> usize {
        self.leases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.leases.is_empty()
    }
}
