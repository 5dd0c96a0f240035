//! Isolate leases: slices sized to the caps, calls granted from a slice and never past
//! it, leases closing by age, window end, limit change and exhaustion, and, against a
//! real ledger, leases and direct reservations together never passing a cap.

use gateway_engine::budget::lease::{
    slice_for, Acquired, LeaseBook, Take, Ticket, ACQUIRE_STALE_MS, LEASE_OPEN_MS,
    MAX_CALLS_PER_SLICE,
};
use gateway_engine::budget::ledger::{Amount, Ledger, LimitLine, LimitState, Operation};
use gateway_policy::limits::{Caps, Window};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn acquired(id: &str, slice: Amount, states: Vec<LimitState>) -> Acquired {
    Acquired {
        id: id.to_owned(),
        slice,
        states,
        expires_ms: NOW + 900_000,
    }
}

const NOW: u64 = 1_700_000_000_000;

fn line(requests: Option<u64>, micro_usd: Option<u64>) -> LimitLine {
    LimitLine {
        limit: "team-spend".into(),
        window: Window::Day,
        caps: Caps {
            micro_usd,
            requests,
            tokens: None,
        },
    }
}

fn amount(requests: u64, tokens: u64, micro_usd: u64) -> Amount {
    Amount {
        requests,
        tokens,
        micro_usd,
    }
}

fn state(lines: &[LimitLine]) -> Vec<LimitState> {
    lines
        .iter()
        .map(|l| LimitState {
            limit: l.limit.clone(),
            window: l.window,
            caps: l.caps,
            used: Amount::default(),
            held: Amount::default(),
            leased: Amount::default(),
            resets_at_ms: NOW + 86_400_000,
        })
        .collect()
}

/// A first call in `object` takes lease `l1`: the book asks for a slice and the object
/// grants it, with `states` as the object's states before it.
fn open_lease(
    book: &mut LeaseBook,
    object: &str,
    lines: &[LimitLine],
    worst: Amount,
    states: Vec<LimitState>,
) -> (Ticket, Amount) {
    let Take::Acquire { slice } = book.take(object, lines, worst, NOW) else {
        panic!("a first call takes a lease");
    };
    let ticket = book.acquired(object, lines, worst, acquired("l1", slice, states), NOW);
    (ticket, slice)
}

#[test]
fn a_slice_is_a_thirty_second_of_the_tightest_cap_and_needs_room_for_four_calls() {
    let lines = [line(Some(640), Some(3_200_000))];
    let worst = amount(1, 500, 25_000);
    assert_eq!(slice_for(&lines, worst), Some(amount(20, 0, 100_000)));
    // 25,001 × 4 passes the spend share.
    assert_eq!(slice_for(&lines, amount(1, 500, 25_001)), None);
    // Requests: 100 / 32 = 3 holds fewer than four calls.
    assert_eq!(slice_for(&[line(Some(100), None)], worst), None);
    assert_eq!(slice_for(&[], worst), None);
    // The tightest of two lines' caps decides.
    let two = [line(Some(640), None), line(Some(6_400), Some(1_000))];
    assert_eq!(slice_for(&two, amount(1, 0, 0)), Some(amount(20, 0, 0)));
}

#[test]
fn a_slice_holds_at_most_sixty_four_worst_cases_of_the_call_that_takes_it() {
    // A 32nd of these caps would hold 3,125 calls: the slice holds 64.
    let lines = [line(Some(100_000), Some(50_000_000_000))];
    let worst = amount(1, 900, 500_000);
    assert_eq!(
        slice_for(&lines, worst),
        Some(amount(MAX_CALLS_PER_SLICE, 0, 64 * 500_000))
    );
}

#[test]
fn one_call_leasing_in_several_objects_keeps_a_lease_in_each() {
    // A call counts against its org, team, user and key: it takes a lease in each object
    // under its one hold id, and each lease is settled once, at that call's use.
    let lines = [line(Some(6_400), None)];
    let worst = amount(1, 0, 0);
    let objects = ["org:acme", "team:support", "user:sam", "key:56"];
    let mut book = LeaseBook::default();
    let tickets: Vec<Ticket> = objects
        .iter()
        .map(|object| {
            let Take::Acquire { slice } = book.take(object, &lines, worst, NOW) else {
                panic!("a first call takes a lease in {object}");
            };
            book.acquired(
                object,
                &lines,
                worst,
                acquired("dec_1.lease", slice, state(&lines)),
                NOW,
            )
        })
        .collect();
    assert_eq!(book.len(), 4);
    for ticket in &tickets {
        book.finish(ticket, Some(amount(1, 16, 6)));
    }
    let mut closing = book.closable(NOW + LEASE_OPEN_MS, false);
    closing.sort_by(|a, b| a.object.cmp(&b.object));
    let settled: Vec<(&str, Amount)> = closing
        .iter()
        .map(|c| (c.object.as_str(), c.consumed))
        .collect();
    assert_eq!(
        settled,
        vec![
            ("key:56", amount(1, 16, 6)),
            ("org:acme", amount(1, 16, 6)),
            ("team:support", amount(1, 16, 6)),
            ("user:sam", amount(1, 16, 6)),
        ]
    );
    assert!(book.is_empty());
}

#[test]
fn the_call_leaving_a_lease_idle_learns_when_to_settle_it() {
    let lines = [line(Some(6_400), None)];
    let worst = amount(1, 0, 0);
    let mut book = LeaseBook::default();
    let (first, _) = open_lease(&mut book, "k", &lines, worst, state(&lines));
    let Take::Granted { ticket: second, .. } = book.take("k", &lines, worst, NOW + 10) else {
        panic!("granted");
    };
    // Another call is still in flight: it will settle the lease.
    assert_eq!(book.finish(&first, Some(worst)), None);
    // The last call leaves the open lease idle: settle it when it closes.
    assert_eq!(book.finish(&second, Some(worst)), Some(NOW + LEASE_OPEN_MS));
    assert!(book.closable(NOW + LEASE_OPEN_MS - 1, false).is_empty());
    assert_eq!(book.closable(NOW + LEASE_OPEN_MS, false).len(), 1);
    // A ticket whose lease is gone changes nothing.
    assert_eq!(book.finish(&second, Some(worst)), None);
}

#[test]
fn a_call_ending_after_its_lease_closed_settles_it_at_once() {
    let lines = [line(Some(6_400), None)];
    let worst = amount(1, 0, 0);
    let mut book = LeaseBook::default();
    let (ticket, _) = open_lease(&mut book, "k", &lines, worst, state(&lines));
    // The lease stopped granting while the call ran (a newer lease took its place).
    assert!(matches!(
        book.take("k", &lines, amount(1, 0, 0), NOW + LEASE_OPEN_MS),
        Take::Acquire { .. }
    ));
    assert_eq!(book.finish(&ticket, Some(worst)), None, "no wait");
    let closing = book.closable(NOW + LEASE_OPEN_MS, false);
    assert_eq!(closing.len(), 1);
    assert_eq!(closing[0].consumed, worst);
}

#[test]
fn calls_are_granted_from_the_slice_and_never_past_it() {
    let lines = [line(Some(640), None)];
    let worst = amount(1, 0, 0);
    let mut book = LeaseBook::default();
    let Take::Acquire { slice } = book.take("team:a", &lines, worst, NOW) else {
        panic!("a first call takes a lease");
    };
    // Meanwhile another call reserves directly instead of taking a second lease.
    assert_eq!(book.take("team:a", &lines, worst, NOW), Take::Direct);
    let first = book.acquired(
        "team:a",
        &lines,
        worst,
        acquired("l1", slice, state(&lines)),
        NOW,
    );
    let mut tickets = vec![first];
    for _ in 1..20 {
        match book.take("team:a", &lines, worst, NOW + 1) {
            Take::Granted { ticket, .. } => tickets.push(ticket),
            other => panic!("the slice has room: {other:?}"),
        }
    }
    // Twenty requests granted: the slice is spent, so the next call takes a new lease.
    assert!(matches!(
        book.take("team:a", &lines, worst, NOW + 1),
        Take::Acquire { .. }
    ));
    assert!(
        book.closable(NOW + 1, false).is_empty(),
        "calls still in flight"
    );
    for ticket in &tickets {
        book.finish(ticket, Some(amount(1, 0, 0)));
    }
    let closing = book.closable(NOW + 1, false);
    assert_eq!(closing.len(), 1);
    assert_eq!(closing[0].lease, "l1");
    assert_eq!(closing[0].consumed, amount(20, 0, 0));
}

#[test]
fn released_calls_cost_nothing_and_settled_calls_their_use() {
    let lines = [line(None, Some(3_200_000))];
    let worst = amount(1, 0, 10_000);
    let mut book = LeaseBook::default();
    let (first, _) = open_lease(&mut book, "user:x", &lines, worst, state(&lines));
    let Take::Granted { ticket, states } = book.take("user:x", &lines, worst, NOW) else {
        panic!("granted");
    };
    // The second call sees the first's hold in its view.
    assert_eq!(states[0].used.micro_usd, 10_000);
    assert_eq!(states[0].held.micro_usd, 10_000);
    book.finish(&first, Some(amount(1, 40, 1_234)));
    book.finish(&ticket, None);
    assert!(book.closable(NOW, false).is_empty(), "still open");
    let closing = book.closable(NOW + LEASE_OPEN_MS, false);
    assert_eq!(closing[0].consumed, amount(1, 40, 1_234));
    assert!(book.is_empty());
}

#[test]
fn a_lease_stops_at_its_window_end_and_when_its_limits_change() {
    let lines = [line(Some(6_400), None)];
    let worst = amount(1, 0, 0);
    let mut book = LeaseBook::default();
    let mut states = state(&lines);
    states[0].resets_at_ms = NOW + 500;
    let (ticket, slice) = open_lease(&mut book, "k", &lines, worst, states);
    assert_eq!(book.next_close_ms(), Some(NOW + 500));
    assert!(matches!(
        book.take("k", &lines, worst, NOW + 500),
        Take::Acquire { .. }
    ));
    // The object refused the slice: calls reserve directly for a while.
    book.not_acquired("k", NOW + 500);
    assert_eq!(book.take("k", &lines, worst, NOW + 501), Take::Direct);
    book.finish(&ticket, Some(worst));
    // A new bundle's caps: the lease no longer grants.
    let raised = [line(Some(12_800), None)];
    let ticket = book.acquired(
        "k2",
        &lines,
        worst,
        acquired("l2", slice, state(&lines)),
        NOW,
    );
    assert!(matches!(
        book.take("k2", &raised, worst, NOW + 1),
        Take::Acquire { .. }
    ));
    book.finish(&ticket, Some(worst));
    let closing = book.closable(NOW + 1, false);
    assert_eq!(closing.len(), 2, "both leases are closed and idle");
}

#[test]
fn a_reader_can_have_idle_open_leases_settled() {
    let lines = [line(Some(6_400), None)];
    let worst = amount(1, 0, 0);
    let mut book = LeaseBook::default();
    let (ticket, _) = open_lease(&mut book, "k", &lines, worst, state(&lines));
    assert!(book.closable(NOW, true).is_empty(), "a call is in flight");
    book.finish(&ticket, Some(worst));
    assert_eq!(book.closable(NOW, true).len(), 1);
    // The object is free to lease again.
    assert!(matches!(
        book.take("k", &lines, worst, NOW),
        Take::Acquire { .. }
    ));
}

/// Against a real ledger: however calls come and go through leases and direct
/// reservations, settled use never passes the cap.
#[test]
fn leases_and_direct_reservations_together_never_pass_the_cap() {
    let lines = vec![line(Some(3_200), None)];
    let worst = amount(1, 0, 0);
    let mut ledger = Ledger::default();
    let mut book = LeaseBook::default();
    let mut granted_calls = 0u64;
    let mut in_flight: Vec<Result<Ticket, String>> = Vec::new();
    let mut serial = 0u32;
    for step in 0..20_000u64 {
        let now = NOW + step / 4;
        if step % 3 == 2 {
            // End the oldest call: settled at its worst case.
            if !in_flight.is_empty() {
                match in_flight.remove(0) {
                    Ok(ticket) => {
                        book.finish(&ticket, Some(worst));
                    }
                    Err(hold) => {
                        ledger.apply(
                            &Operation::Settle {
                                hold,
                                actual: worst,
                            },
                            now,
                        );
                    }
                }
            }
        } else {
            serial += 1;
            let hold = format!("h{serial}");
            let reserve = |amount, lease| Operation::Reserve {
                hold: hold.clone(),
                lines: lines.clone(),
                amount,
                ttl_ms: 60_000,
                lease,
            };
            match book.take("o", &lines, worst, now) {
                Take::Granted { ticket, .. } => {
                    granted_calls += 1;
                    in_flight.push(Ok(ticket));
                }
                Take::Acquire { slice } => {
                    let (outcome, _) = ledger.apply(&reserve(slice, true), now);
                    if outcome.granted {
                        granted_calls += 1;
                        let ticket = book.acquired(
                            "o",
                            &lines,
                            worst,
                            acquired(&hold, slice, outcome.states),
                            now,
                        );
                        in_flight.push(Ok(ticket));
                    } else {
                        // As the gateway does: no slice, so this call reserves directly.
                        book.not_acquired("o", now);
                        if ledger.apply(&reserve(worst, false), now).0.granted {
                            granted_calls += 1;
                            in_flight.push(Err(hold));
                        }
                    }
                }
                Take::Direct => {
                    let (outcome, _) = ledger.apply(&reserve(worst, false), now);
                    if outcome.granted {
                        granted_calls += 1;
                        in_flight.push(Err(hold));
                    }
                }
            }
        }
        for closing in book.closable(now, false) {
            let settle = Operation::Settle {
                hold: closing.lease,
                actual: closing.consumed,
            };
            ledger.apply(&settle, now);
        }
        let (read, _) = ledger.apply(
            &Operation::Read {
                lines: lines.clone(),
            },
            now,
        );
        assert!(
            read.states[0].used.requests <= 3_200,
            "step {step}: {:?}",
            read.states
        );
    }
    // Every call held room until it ended, and the leases' unused room came back.
    assert_eq!(granted_calls, 3_200, "the whole cap was used, and no more");
}

#[test]
fn lost_acquisitions_and_leases_the_object_already_charged_are_forgotten() {
    let lines = [line(Some(6_400), None)];
    let worst = amount(1, 0, 0);
    let mut book = LeaseBook::default();
    // The request taking a lease was cancelled: after a while another call takes one.
    assert!(matches!(
        book.take("k", &lines, worst, NOW),
        Take::Acquire { .. }
    ));
    assert_eq!(book.take("k", &lines, worst, NOW + 1), Take::Direct);
    let later = NOW + ACQUIRE_STALE_MS;
    let Take::Acquire { slice } = book.take("k", &lines, worst, later) else {
        panic!("a stale acquisition does not block leasing");
    };
    // A call that never ends keeps its lease from closing until the object's alarm has
    // charged the slice; then the book lets it go, unsettled.
    let _never_ends = book.acquired(
        "k",
        &lines,
        worst,
        acquired("l1", slice, state(&lines)),
        later,
    );
    assert!(book.closable(later + LEASE_OPEN_MS, false).is_empty());
    assert_eq!(book.len(), 1);
    assert!(book.closable(NOW + 900_000, false).is_empty());
    assert!(book.is_empty());
}

/// Against real ledgers, as the gateway drives them: every call counts against several
/// objects (its org, team and user) and, under its one hold id, is granted from a lease in
/// each, takes one, or reserves directly. Calls come in bursts and seconds apart, end in
/// any order, and use any part of their worst case. Once traffic stops and every lease
/// has closed, each object has charged exactly what the calls used and holds nothing.
#[test]
fn leases_in_several_objects_settle_at_exactly_what_their_calls_used() {
    let objects = ["org:acme", "team:support", "user:sam"];
    let lines = [line(Some(1_000_000), Some(1_000_000_000))];
    let worst = amount(1, 0, 10_000);
    let mut ledgers: Vec<Ledger> = objects.iter().map(|_| Ledger::default()).collect();
    let mut book = LeaseBook::default();
    // A small xorshift generator: the same interleaving on every run.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    // Each call in flight: its holding in each object, and what it will use.
    let mut in_flight: Vec<(Vec<Result<Ticket, String>>, Amount)> = Vec::new();
    let mut used = Amount::default();
    let mut now = NOW;
    let settle_closed = |book: &mut LeaseBook, ledgers: &mut [Ledger], now: u64| {
        for closing in book.closable(now, false) {
            let index = objects.iter().position(|o| *o == closing.object).unwrap();
            let settle = Operation::Settle {
                hold: closing.lease,
                actual: closing.consumed,
            };
            ledgers[index].apply(&settle, now);
        }
    };
    for serial in 0..3_000u32 {
        // Mostly bursts (a few ms apart), now and then a pause longer than a lease lives.
        now += match next(10) {
            0 => LEASE_OPEN_MS + next(3_000),
            1 => next(LEASE_OPEN_MS),
            _ => next(5),
        };
        let hold = format!("dec_{serial}");
        let mut holdings = Vec::new();
        for (index, object) in objects.iter().enumerate() {
            let reserve = |amount, lease| Operation::Reserve {
                hold: if lease {
                    format!("{hold}.lease")
                } else {
                    hold.clone()
                },
                lines: lines.to_vec(),
                amount,
                ttl_ms: 900_000,
                lease,
            };
            let holding = match book.take(object, &lines, worst, now) {
                Take::Granted { ticket, .. } => Ok(ticket),
                Take::Acquire { slice } => {
                    let (outcome, _) = ledgers[index].apply(&reserve(slice, true), now);
                    assert!(outcome.granted, "the caps are far from reached");
                    let granted = Acquired {
                        id: format!("{hold}.lease"),
                        slice,
                        states: outcome.states,
                        expires_ms: now + 900_000,
                    };
                    Ok(book.acquired(object, &lines, worst, granted, now))
                }
                Take::Direct => {
                    assert!(ledgers[index].apply(&reserve(worst, false), now).0.granted);
                    Err(hold.clone())
                }
            };
            holdings.push(holding);
        }
        let actual = amount(1, 0, 1 + next(worst.micro_usd));
        in_flight.push((holdings, actual));
        // End calls in any order, sometimes several at once; at most eight stay in flight
        // (a call outliving its hold is charged in full by design: not this test's case).
        while in_flight.len() as u64 > next(9) {
            let (holdings, actual) = in_flight.swap_remove(next(in_flight.len() as u64) as usize);
            used = used.plus(actual);
            end_call(&mut book, &mut ledgers, holdings, actual, now);
        }
        settle_closed(&mut book, &mut ledgers, now);
    }
    for (holdings, actual) in in_flight.drain(..) {
        used = used.plus(actual);
        end_call(&mut book, &mut ledgers, holdings, actual, now);
    }
    // Traffic stops: the last leases close and are settled.
    settle_closed(&mut book, &mut ledgers, now + LEASE_OPEN_MS);
    assert!(book.is_empty(), "every lease settled");
    for (object, ledger) in objects.iter().zip(&mut ledgers) {
        let read = Operation::Read {
            lines: lines.to_vec(),
        };
        let state = ledger.apply(&read, now + LEASE_OPEN_MS).0.states.remove(0);
        assert_eq!(state.used, used, "{object}: charged exactly what was used");
        assert_eq!(state.held, Amount::default(), "{object}");
        assert_eq!(state.leased, Amount::default(), "{object}");
        assert_eq!(ledger.hold_count(), 0, "{object}");
    }
}

/// A call ends having used `actual`: in each object, its lease's book or the object itself
/// settles it.
fn end_call(
    book: &mut LeaseBook,
    ledgers: &mut [Ledger],
    holdings: Vec<Result<Ticket, String>>,
    actual: Amount,
    now: u64,
) {
    for (ledger, holding) in ledgers.iter_mut().zip(holdings) {
        match holding {
            Ok(ticket) => {
                book.finish(&ticket, Some(actual));
            }
            Err(hold) => {
                ledger.apply(&Operation::Settle { hold, actual }, now);
            }
        }
    }
}
