//! A civil date (the library's local calendar day), with no time zone and no clock.
//!
//! Due dates, card expiry and hold-shelf deadlines are whole days in the library's own calendar, so the
//! engine counts days, not instants. A `Date` is the number of days since 1970-01-01; the conversions
//! to and from year/month/day are Howard Hinnant's `days_from_civil` and `civil_from_days`
//! (proleptic Gregorian calendar), which need no date crate and no table. JSON carries dates as
//! ISO strings ("2026-11-21"), as PostgreSQL's `date` type prints them.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A calendar day, as days since 1970-01-01 (negative before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    days_since_epoch: i32,
}

/// A date string that is not `YYYY-MM-DD` or names a day that does not exist (2026-02-30).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a date in the form YYYY-MM-DD")]
pub struct DateParseError {
    pub text: String,
}

/// Days in a 400-year Gregorian cycle.
const DAYS_PER_ERA: i64 = 146_097;
/// Days from 0000-03-01 to 1970-01-01: Hinnant's algorithms count from a March 1st so that the leap day
/// falls at the end of the year.
const DAYS_FROM_MARCH_EPOCH_TO_UNIX_EPOCH: i64 = 719_468;

fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1–12) of `year`; 0 for a month that does not exist.
pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    pub const fn from_days_since_epoch(days_since_epoch: i32) -> Date {
        Date { days_since_epoch }
    }

    pub const fn days_since_epoch(self) -> i32 {
        self.days_since_epoch
    }

    /// The date of a year, month (1–12) and day; `None` when that day does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        let year_from_march = i64::from(year) - i64::from(month <= 2);
        let era = year_from_march.div_euclid(400);
        let year_of_era = year_from_march - era * 400;
        let month_from_march = i64::from(if month > 2 { month - 3 } else { month + 9 });
        let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = era * DAYS_PER_ERA + day_of_era - DAYS_FROM_MARCH_EPOCH_TO_UNIX_EPOCH;
        i32::try_from(days).ok().map(Date::from_days_since_epoch)
    }

    /// Year, month (1–12) and day (1–31).
    pub fn year_month_day(self) -> (i32, u32, u32) {
        let days = i64::from(self.days_since_epoch) + DAYS_FROM_MARCH_EPOCH_TO_UNIX_EPOCH;
        let era = days.div_euclid(DAYS_PER_ERA);
        let day_of_era = days - era * DAYS_PER_ERA;
        let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_from_march = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
        let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        // Every i32 day count lands within ±5.9 million years, so the year fits an i32.
        (year as i32, month as u32, day as u32)
    }

    pub fn year(self) -> i32 {
        self.year_month_day().0
    }

    pub fn month(self) -> u32 {
        self.year_month_day().1
    }

    pub fn day(self) -> u32 {
        self.year_month_day().2
    }

    /// Parses exactly `YYYY-MM-DD` (four-digit year), refusing days that do not exist.
    pub fn parse(text: &str) -> Result<Date, DateParseError> {
        let error = || DateParseError { text: text.to_string() };
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(error());
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let digits = &text[range];
            digits.bytes().all(|byte| byte.is_ascii_digit()).then(|| digits.parse().ok()).flatten()
        };
        let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
            return Err(error());
        };
        Date::from_ymd(year as i32, month, day).ok_or_else(error)
    }

    /// The date `days` later (earlier when negative); saturates at the ends of the representable range.
    pub fn add_days(self, days: i32) -> Date {
        Date::from_days_since_epoch(self.days_since_epoch.saturating_add(days))
    }

    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        i64::from(later.days_since_epoch) - i64::from(self.days_since_epoch)
    }

    /// ISO weekday: 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday).
    pub fn iso_weekday(self) -> u8 {
        ((i64::from(self.days_since_epoch) + 3).rem_euclid(7) + 1) as u8
    }
}

impl fmt::Display for Date {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.year_month_day();
        write!(formatter, "{year:04}-{month:02}-{day:02}")
    }
}

impl std::str::FromStr for Date {
    type Err = DateParseError;

    fn from_str(text: &str) -> Result<Date, DateParseError> {
        Date::parse(text)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        struct IsoDate;

        impl de::Visitor<'_> for IsoDate {
            type Value = Date;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a date string YYYY-MM-DD")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Date, E> {
                Date::parse(text).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(IsoDate)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn epoch_and_known_days() {
        assert_eq!(Date::parse("1970-01-01").unwrap().days_since_epoch(), 0);
        assert_eq!(Date::parse("2000-03-01").unwrap().days_since_epoch(), 11_017);
        assert_eq!(Date::parse("1969-12-31").unwrap().days_since_epoch(), -1);
        assert_eq!(Date::parse("2026-11-21").unwrap().to_string(), "2026-11-21");
    }

    #[test]
    fn weekdays() {
        assert_eq!(Date::parse("1970-01-01").unwrap().iso_weekday(), 4);
        assert_eq!(Date::parse("2026-11-23").unwrap().iso_weekday(), 1, "a Monday");
        assert_eq!(Date::parse("2026-11-22").unwrap().iso_weekday(), 7, "a Sunday");
        assert_eq!(Date::parse("1969-12-29").unwrap().iso_weekday(), 1);
    }

    #[test]
    fn leap_years_and_impossible_days() {
        assert!(Date::parse("2024-02-29").is_ok());
        assert!(Date::parse("2000-02-29").is_ok());
        assert!(Date::parse("1900-02-29").is_err());
        assert!(Date::parse("2026-02-29").is_err());
        assert!(Date::parse("2026-04-31").is_err());
        assert!(Date::parse("2026-13-01").is_err());
        assert!(Date::parse("2026-00-10").is_err());
    }

    #[test]
    fn malformed_strings_are_refused() {
        for text in ["", "2026-1-01", "2026/01/01", "２０２６-01-01", "2026-01-01T00:00", "+026-01-01", "20260101xx"]
        {
            assert!(Date::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn serde_as_iso_string() {
        let date = Date::parse("2026-03-31").unwrap();
        assert_eq!(serde_json::to_string(&date).unwrap(), "\"2026-03-31\"");
        assert_eq!(serde_json::from_str::<Date>("\"2026-03-31\"").unwrap(), date);
        assert!(serde_json::from_str::<Date>("20260331").is_err());
        assert!(serde_json::from_str::<Date>("\"2026-02-31\"").is_err());
    }

    #[test]
    fn extreme_days_do_not_panic() {
        for days in [i32::MIN, i32::MAX, 0] {
            let date = Date::from_days_since_epoch(days);
            let _ = date.to_string();
            let _ = date.iso_weekday();
            assert_eq!(date.add_days(i32::MAX).days_since_epoch(), days.saturating_add(i32::MAX));
        }
    }

    proptest! {
        #[test]
        fn days_and_civil_dates_round_trip(days in -1_000_000i32..1_000_000) {
            let date = Date::from_days_since_epoch(days);
            let (year, month, day) = date.year_month_day();
            prop_assert_eq!(Date::from_ymd(year, month, day), Some(date));
            prop_assert_eq!(date.add_days(1).iso_weekday() % 7, (date.iso_weekday() + 1) % 7);
        }

        #[test]
        fn iso_strings_round_trip(days in -719_162i32..2_932_896) {
            // 0001-01-01 to 9999-12-31: the years that print with four digits.
            let date = Date::from_days_since_epoch(days);
            prop_assert_eq!(Date::parse(&date.to_string()), Ok(date));
        }
    }
}
