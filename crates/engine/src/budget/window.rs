//! UTC windows: where the window holding an instant starts and ends, in Unix milliseconds.
//! Minutes, hours and days are fixed lengths (UTC has no daylight saving; leap seconds
//! are not in Unix time); months run from the first of one calendar month to the next.
//! The calendar arithmetic here is also what the `policy` CLI dates bundles with.

use gateway_policy::limits::Window;

const MINUTE_MS: u64 = 60_000;
const HOUR_MS: u64 = 60 * MINUTE_MS;
const DAY_MS: u64 = 24 * HOUR_MS;

/// `[start, end)` of the window of kind `window` that holds `now_ms`.
pub fn bounds(window: Window, now_ms: u64) -> (u64, u64) {
    let aligned = |length: u64| {
        let start = now_ms - now_ms % length;
        (start, start.saturating_add(length))
    };
    match window {
        Window::Minute => aligned(MINUTE_MS),
        Window::Hour => aligned(HOUR_MS),
        Window::Day => aligned(DAY_MS),
        Window::Month => {
            let (year, month, _) = civil_from_days(now_ms / DAY_MS);
            let (next_year, next_month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            (
                days_from_civil(year, month, 1).saturating_mul(DAY_MS),
                days_from_civil(next_year, next_month, 1).saturating_mul(DAY_MS),
            )
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm,
/// for dates on or after the epoch).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719_468 days from 0000-03-01 to 1970-01-01.
    (era * 146_097 + day_of_era).saturating_sub(719_468)
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for days on or after the epoch).
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}
