//! Window bounds against known UTC dates (computed independently: `date -u -d … +%s`).

use gateway_engine::budget::window::bounds;
use gateway_policy::limits::Window;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// 2026-12-01T19:13:08.250Z
const NOW: u64 = 1_796_152_388_250;
/// 2026-12-01T00:00:00Z
const DEC_1: u64 = 1_796_083_200_000;
/// 2027-01-01T00:00:00Z
const JAN_1_2027: u64 = 1_798_761_600_000;
const MINUTE: u64 = 60_000;

#[test]
fn minutes_hours_and_days_are_aligned_to_utc() {
    assert_eq!(
        bounds(Window::Minute, NOW),
        (NOW - 8_250, NOW - 8_250 + MINUTE)
    );
    let hour_start = DEC_1 + 19 * 60 * MINUTE;
    assert_eq!(
        bounds(Window::Hour, NOW),
        (hour_start, hour_start + 60 * MINUTE)
    );
    assert_eq!(bounds(Window::Day, NOW), (DEC_1, DEC_1 + 24 * 60 * MINUTE));
}

#[test]
fn a_month_runs_from_the_first_to_the_first_across_a_year_end() {
    assert_eq!(bounds(Window::Month, NOW), (DEC_1, JAN_1_2027));
    assert_eq!(bounds(Window::Month, DEC_1), (DEC_1, JAN_1_2027));
    // The last millisecond of December is still December.
    assert_eq!(bounds(Window::Month, JAN_1_2027 - 1), (DEC_1, JAN_1_2027));
    // 2027-01-01 → 2027-02-01T00:00:00Z (1_801_440_000_000).
    assert_eq!(
        bounds(Window::Month, JAN_1_2027),
        (JAN_1_2027, 1_801_440_000_000)
    );
}

#[test]
fn february_has_29_days_in_a_leap_year_and_28_otherwise() {
    // 2028-02-10 and 2027-02-10, noon UTC.
    let (start, end) = bounds(Window::Month, 1_833_796_800_000);
    assert_eq!((end - start) / (24 * 60 * MINUTE), 29);
    let (start, end) = bounds(Window::Month, 1_802_260_800_000);
    assert_eq!((end - start) / (24 * 60 * MINUTE), 28);
    // 2100 is not a leap year: 2100-02-10T12:00:00Z.
    let (start, end) = bounds(Window::Month, 4_105_944_000_000);
    assert_eq!((end - start) / (24 * 60 * MINUTE), 28);
}

#[test]
fn every_month_of_a_span_starts_where_the_previous_ended() {
    let mut at = 0;
    for _ in 0..(12 * 130) {
        let (start, end) = bounds(Window::Month, at);
        assert_eq!(start, at);
        let days = (end - start) / (24 * 60 * MINUTE);
        assert!((28..=31).contains(&days), "{days} days at {start}");
        at = end;
    }
    // 130 years of months from 1970 land on 2100-01-01T00:00:00Z.
    assert_eq!(at, 4_102_444_800_000);
}
