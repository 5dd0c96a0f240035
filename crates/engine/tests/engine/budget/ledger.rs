//! The ledger: all-or-nothing reservations that never pass a cap, settlement at actual
//! use, release, expiry sweeps, window roll-over, and retry hints.

use gateway_engine::budget::ledger::{
    Amount, Expired, Ledger, LimitLine, Operation, Outcome, HELD_RETRY_MS,
};
use gateway_engine::budget::Dimension;
use gateway_policy::limits::{Caps, Window};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// 2026-12-01T19:13:00Z: the start of a minute.
const T0: u64 = 1_796_152_380_000;
const TTL: u64 = 60_000;

fn line(limit: &str, window: Window, caps: Caps) -> LimitLine {
    LimitLine {
        limit: limit.to_owned(),
        window,
        caps,
    }
}

fn spend(micro_usd: u64) -> Caps {
    Caps {
        micro_usd: Some(micro_usd),
        ..Caps::default()
    }
}

fn requests(n: u64) -> Caps {
    Caps {
        requests: Some(n),
        ..Caps::default()
    }
}

fn costing(micro_usd: u64) -> Amount {
    Amount {
        requests: 1,
        tokens: 10,
        micro_usd,
    }
}

fn reserve(
    ledger: &mut Ledger,
    hold: &str,
    lines: &[LimitLine],
    amount: Amount,
    now: u64,
) -> Outcome {
    let operation = Operation::Reserve {
        hold: hold.to_owned(),
        lines: lines.to_vec(),
        amount,
        ttl_ms: TTL,
        lease: false,
    };
    ledger.apply(&operation, now).0
}

fn settle(ledger: &mut Ledger, hold: &str, actual: Amount, now: u64) {
    let operation = Operation::Settle {
        hold: hold.to_owned(),
        actual,
    };
    ledger.apply(&operation, now);
}

fn release(ledger: &mut Ledger, hold: &str, now: u64) {
    let operation = Operation::Release {
        hold: hold.to_owned(),
    };
    ledger.apply(&operation, now);
}

fn used(ledger: &Ledger, limit: &str) -> Amount {
    let counter = ledger.counter(limit).unwrap();
    counter.used.plus(counter.held)
}

#[test]
fn exactly_as_many_calls_as_fit_are_granted_and_the_rest_refused() {
    let mut ledger = Ledger::default();
    let lines = [line("team", Window::Month, spend(1_000))];
    let granted: Vec<bool> = (0..64)
        .map(|i| reserve(&mut ledger, &format!("h{i}"), &lines, costing(300), T0).granted)
        .collect();
    assert_eq!(granted.iter().filter(|g| **g).count(), 3);
    assert!(granted[..3].iter().all(|g| *g));
    assert_eq!(used(&ledger, "team").micro_usd, 900);
    assert_eq!(ledger.hold_count(), 3);
}

#[test]
fn a_refusal_in_one_limit_reserves_nothing_in_the_others() {
    let mut ledger = Ledger::default();
    let lines = [
        line("spend", Window::Day, spend(1_000_000)),
        line("rpm", Window::Minute, requests(1)),
    ];
    assert!(reserve(&mut ledger, "a", &lines, costing(10), T0).granted);
    let refused = reserve(&mut ledger, "b", &lines, costing(10), T0);
    assert!(!refused.granted);
    let why = refused.refusal.unwrap();
    assert_eq!(
        (why.limit.as_str(), why.dimension),
        ("rpm", Dimension::Requests)
    );
    // The spend limit holds only the first call.
    assert_eq!(used(&ledger, "spend").micro_usd, 10);
    assert!(ledger.hold("b").is_none());
}

#[test]
fn settling_replaces_the_hold_by_the_actual_use() {
    let mut ledger = Ledger::default();
    let lines = [line("team", Window::Month, spend(1_000))];
    assert!(reserve(&mut ledger, "a", &lines, costing(900), T0).granted);
    assert!(!reserve(&mut ledger, "b", &lines, costing(200), T0).granted);
    settle(&mut ledger, "a", costing(150), T0 + 1);
    let counter = ledger.counter("team").unwrap();
    assert_eq!((counter.used.micro_usd, counter.held.micro_usd), (150, 0));
    assert!(reserve(&mut ledger, "b", &lines, costing(200), T0 + 2).granted);
    // A second settlement of the same hold changes nothing.
    settle(&mut ledger, "a", costing(500), T0 + 3);
    assert_eq!(used(&ledger, "team").micro_usd, 350);
}

#[test]
fn releasing_drops_the_hold_without_charge() {
    let mut ledger = Ledger::default();
    let lines = [line("team", Window::Month, spend(1_000))];
    assert!(reserve(&mut ledger, "a", &lines, costing(900), T0).granted);
    release(&mut ledger, "a", T0 + 1);
    assert_eq!(used(&ledger, "team"), Amount::default());
    assert_eq!(ledger.hold_count(), 0);
}

#[test]
fn an_expired_hold_is_charged_in_full_and_a_late_settlement_is_ignored() {
    let mut ledger = Ledger::default();
    let lines = [line("team", Window::Month, spend(1_000))];
    assert!(reserve(&mut ledger, "a", &lines, costing(400), T0).granted);
    assert_eq!(ledger.next_expiry(), Some(T0 + TTL));
    assert!(ledger.sweep(T0 + TTL - 1).0.holds_removed.is_empty());
    let (changes, expired) = ledger.sweep(T0 + TTL);
    assert_eq!(changes.holds_removed, vec!["a".to_owned()]);
    assert_eq!(
        expired,
        vec![Expired {
            hold: "a".into(),
            amount: costing(400),
            lease: false
        }]
    );
    let counter = ledger.counter("team").unwrap();
    assert_eq!((counter.used.micro_usd, counter.held.micro_usd), (400, 0));
    settle(&mut ledger, "a", costing(1), T0 + TTL + 1);
    assert_eq!(used(&ledger, "team").micro_usd, 400);
    assert_eq!(ledger.next_expiry(), None);
}

#[test]
fn a_window_that_rolls_over_starts_empty_and_old_holds_do_not_leak_into_it() {
    let mut ledger = Ledger::default();
    let lines = [line("rpm", Window::Minute, requests(2))];
    assert!(reserve(&mut ledger, "a", &lines, costing(0), T0).granted);
    assert!(reserve(&mut ledger, "b", &lines, costing(0), T0 + 1).granted);
    let refused = reserve(&mut ledger, "c", &lines, costing(0), T0 + 2);
    assert!(!refused.granted);
    // The next minute: two more fit, whatever the old holds do.
    assert!(reserve(&mut ledger, "c", &lines, costing(0), T0 + 60_000).granted);
    settle(&mut ledger, "a", costing(0), T0 + 60_001);
    release(&mut ledger, "b", T0 + 60_002);
    assert_eq!(used(&ledger, "rpm").requests, 1);
    assert!(reserve(&mut ledger, "d", &lines, costing(0), T0 + 60_003).granted);
    assert!(!reserve(&mut ledger, "e", &lines, costing(0), T0 + 60_004).granted);
}

#[test]
fn retry_hints_name_the_window_end_the_holds_or_never() {
    let mut ledger = Ledger::default();
    let lines = [line("rpm", Window::Minute, requests(1))];
    assert!(reserve(&mut ledger, "a", &lines, costing(0), T0 + 15_000).granted);
    // Held, not settled: retry soon.
    let held = reserve(&mut ledger, "b", &lines, costing(0), T0 + 15_000);
    assert_eq!(held.refusal.unwrap().retry_after_ms, Some(HELD_RETRY_MS));
    // Settled: retry when the minute ends, 45 s later.
    settle(&mut ledger, "a", costing(0), T0 + 15_000);
    let full = reserve(&mut ledger, "b", &lines, costing(0), T0 + 15_000);
    assert_eq!(full.refusal.unwrap().retry_after_ms, Some(45_000));
    // Larger than the cap on its own: waiting never helps.
    let lines = [line("team", Window::Month, spend(100))];
    let never = reserve(&mut ledger, "c", &lines, costing(101), T0);
    assert_eq!(never.refusal.unwrap().retry_after_ms, None);
}

#[test]
fn a_retried_reservation_is_granted_once() {
    let mut ledger = Ledger::default();
    let lines = [line("team", Window::Month, spend(1_000))];
    assert!(reserve(&mut ledger, "a", &lines, costing(600), T0).granted);
    assert!(reserve(&mut ledger, "a", &lines, costing(600), T0).granted);
    assert_eq!(used(&ledger, "team").micro_usd, 600);
}

#[test]
fn the_states_before_a_reservation_report_use_remaining_and_share() {
    let mut ledger = Ledger::default();
    let lines = [line("team", Window::Month, spend(1_000))];
    reserve(&mut ledger, "a", &lines, costing(250), T0);
    let outcome = reserve(&mut ledger, "b", &lines, costing(100), T0);
    let state = &outcome.states[0];
    assert_eq!(state.used.micro_usd, 250);
    assert_eq!(state.remaining(Dimension::Spend), Some(750));
    assert_eq!(state.used_percent(Dimension::Spend), Some(25));
    assert_eq!(state.used_percent(Dimension::Requests), None);
}

#[test]
fn a_raised_cap_applies_to_the_next_call_and_keeps_what_was_counted() {
    let mut ledger = Ledger::default();
    let small = [line("team", Window::Month, spend(500))];
    assert!(reserve(&mut ledger, "a", &small, costing(400), T0).granted);
    assert!(!reserve(&mut ledger, "b", &small, costing(400), T0).granted);
    let raised = [line("team", Window::Month, spend(1_000))];
    assert!(reserve(&mut ledger, "b", &raised, costing(400), T0).granted);
    assert_eq!(used(&ledger, "team").micro_usd, 800);
}

#[test]
fn amounts_saturate_instead_of_wrapping() {
    let max = (1u64 << 53) - 1;
    let big = Amount {
        requests: max,
        tokens: max,
        micro_usd: max,
    };
    assert_eq!(big.plus(big), big);
    assert_eq!(Amount::default().minus(big), Amount::default());
    let mut ledger = Ledger::default();
    let lines = [line("team", Window::Month, spend(max))];
    assert!(reserve(&mut ledger, "a", &lines, big, T0).granted);
    assert!(!reserve(&mut ledger, "b", &lines, costing(1), T0).granted);
}

#[test]
fn shards_split_each_cap_exactly_into_near_equal_shares() {
    for cap in [0u64, 1, 7, 64, 1_000, 999_999_937, (1 << 53) - 1] {
        for count in [1u32, 2, 3, 7, 64] {
            let caps = Caps {
                micro_usd: Some(cap),
                requests: Some(cap / 3),
                tokens: None,
            };
            let shares: Vec<Caps> = (0..count).map(|i| caps.shard(i, count)).collect();
            let total =
                |get: fn(&Caps) -> Option<u64>| shares.iter().map(|s| get(s).unwrap()).sum::<u64>();
            assert_eq!(total(|c| c.micro_usd), cap, "{cap} in {count}");
            assert_eq!(total(|c| c.requests), cap / 3);
            assert!(shares.iter().all(|s| s.tokens.is_none()));
            let spend: Vec<u64> = shares.iter().map(|s| s.micro_usd.unwrap()).collect();
            assert!(spend.iter().max().unwrap() - spend.iter().min().unwrap() <= 1);
        }
    }
}

#[test]
fn a_ledger_reloaded_from_its_stored_rows_holds_and_refuses_the_same() {
    let mut ledger = Ledger::default();
    let lines = [line("team", Window::Month, spend(1_000))];
    let mut stored_counters = std::collections::BTreeMap::new();
    let mut stored_holds = std::collections::BTreeMap::new();
    let mut apply = |ledger: &mut Ledger, operation: Operation, now: u64| {
        let (_, changes) = ledger.apply(&operation, now);
        // What the budget object writes: serialised counters and holds.
        for limit in &changes.counters {
            let json = serde_json::to_string(ledger.counter(limit).unwrap()).unwrap();
            stored_counters.insert(limit.clone(), json);
        }
        for hold in &changes.holds_added {
            let json = serde_json::to_string(ledger.hold(hold).unwrap()).unwrap();
            stored_holds.insert(hold.clone(), json);
        }
        for hold in &changes.holds_removed {
            stored_holds.remove(hold);
        }
        (stored_counters.clone(), stored_holds.clone())
    };
    let reserve_op = |hold: &str, micro_usd: u64| Operation::Reserve {
        hold: hold.to_owned(),
        lines: lines.to_vec(),
        amount: costing(micro_usd),
        ttl_ms: TTL,
        lease: false,
    };
    apply(&mut ledger, reserve_op("a", 300), T0);
    apply(&mut ledger, reserve_op("b", 300), T0);
    let settle_a = Operation::Settle {
        hold: "a".to_owned(),
        actual: costing(100),
    };
    let (counters, holds) = apply(&mut ledger, settle_a, T0 + 1);
    let mut reloaded = Ledger::from_parts(
        counters
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::from_str(v).unwrap())),
        holds
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::from_str(v).unwrap())),
    );
    assert_eq!(reloaded, ledger);
    let counter = reloaded.counter("team").unwrap();
    assert_eq!((counter.used.micro_usd, counter.held.micro_usd), (100, 300));
    // 100 settled + 300 held + 600 = 1,000 fits; one more micro-dollar does not.
    assert!(!reserve(&mut reloaded, "c", &lines, costing(601), T0 + 2).granted);
    assert!(reserve(&mut reloaded, "c", &lines, costing(600), T0 + 2).granted);
}

#[test]
fn a_lease_is_shown_apart_from_calls_in_flight_and_its_expiry_says_so() {
    let mut ledger = Ledger::default();
    let lines = [line("team", Window::Month, spend(10_000))];
    assert!(reserve(&mut ledger, "call", &lines, costing(300), T0).granted);
    let lease = Operation::Reserve {
        hold: "dec_1.lease".into(),
        lines: lines.to_vec(),
        amount: costing(2_000),
        ttl_ms: TTL,
        lease: true,
    };
    assert!(ledger.apply(&lease, T0).0.granted);
    let state = |ledger: &mut Ledger| {
        let read = Operation::Read {
            lines: lines.to_vec(),
        };
        ledger.apply(&read, T0 + 1).0.states.remove(0)
    };
    let before = state(&mut ledger);
    assert_eq!(
        (
            before.used.micro_usd,
            before.held.micro_usd,
            before.leased.micro_usd
        ),
        (2_300, 300, 2_000)
    );
    // Reloaded from its rows, the ledger still tells the lease apart.
    let hold_row = |id: &str| {
        let json = serde_json::to_string(ledger.hold(id).unwrap()).unwrap();
        (id.to_owned(), serde_json::from_str(&json).unwrap())
    };
    let counter = serde_json::to_string(ledger.counter("team").unwrap()).unwrap();
    let mut reloaded = Ledger::from_parts(
        [("team".to_owned(), serde_json::from_str(&counter).unwrap())],
        [hold_row("call"), hold_row("dec_1.lease")],
    );
    assert_eq!(state(&mut reloaded), before);
    // Settled at what its calls used, the lease leaves nothing held.
    settle(&mut reloaded, "dec_1.lease", costing(12), T0 + 2);
    let after = state(&mut reloaded);
    assert_eq!(
        (
            after.used.micro_usd,
            after.held.micro_usd,
            after.leased.micro_usd
        ),
        (312, 300, 0)
    );
    // Unsettled, a lease's expiry is reported as one.
    assert!(ledger.apply(&lease, T0).0.granted);
    let (_, expired) = ledger.sweep(T0 + TTL);
    let leases: Vec<bool> = expired.iter().map(|e| e.lease).collect();
    assert_eq!(leases, vec![false, true]);
}
