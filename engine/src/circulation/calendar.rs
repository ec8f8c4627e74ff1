//! Branch calendars: which days each service point is open, and the next open day for due dates.
//!
//! A due date or a hold-shelf deadline that falls on a closed day moves to the branch's next open day
//! (REQUIREMENTS §2). Each branch has weekly closed weekdays (Monday, typically), annual closures that
//! recur on the same dates every year and may wrap the year end (12/29–1/3), one-off closed days
//! (stocktaking, 慰霊の日, ad-hoc closures) and open-day overrides (a Monday that is a national holiday,
//! when the library opens). The definition also says which branches hand out holds and gives the
//! branches' display order, which hold targeting uses to break ties.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::date::{days_in_month, Date};
use super::error::CirculationError;

/// How far `next_open_day_on_or_after` looks before deciding that a branch is closed all year.
pub const OPEN_DAY_SEARCH_WINDOW_DAYS: i32 = 400;

fn yes() -> bool {
    true
}

/// The calendars of every service point, as the service reads them from PostgreSQL (`service_point`
/// and the `calendar_*` tables), branches in display order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDefinition {
    #[serde(default)]
    pub branches: Vec<BranchCalendarDefinition>,
}

/// One service point's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchCalendarDefinition {
    /// The service point's code (`service_point.code`).
    pub code: String,
    /// Whether patrons may collect holds here (`service_point.is_pickup_point`).
    #[serde(default = "yes")]
    pub is_pickup_point: bool,
    /// ISO weekdays (1 = Monday … 7 = Sunday) on which the branch is closed every week.
    #[serde(default)]
    pub weekly_closures: Vec<u8>,
    #[serde(default)]
    pub annual_closures: Vec<AnnualClosure>,
    /// One-off closed days. A closed day also listed as an open day stays closed.
    #[serde(default)]
    pub closed_days: Vec<Date>,
    /// Days the branch opens although a weekly or annual closure would close it.
    #[serde(default)]
    pub open_days: Vec<Date>,
}

/// A closure on the same dates every year, both ends included; `from` after `to` wraps the year end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnualClosure {
    pub from_month: u8,
    pub from_day: u8,
    pub to_month: u8,
    pub to_day: u8,
    #[serde(default)]
    pub reason: String,
}

/// A day of the year as month * 100 + day, so that ranges compare as numbers (1229 > 0103).
type MonthDay = u16;

fn month_day(date: Date) -> MonthDay {
    let (_, month, day) = date.year_month_day();
    (month * 100 + day) as MonthDay
}

#[derive(Debug, Clone, Default)]
struct BranchCalendar {
    is_pickup_point: bool,
    /// Bit `n` set: closed on ISO weekday `n`.
    weekly_closed: u8,
    annual_closures: Vec<(MonthDay, MonthDay)>,
    closed_days: HashSet<Date>,
    open_days: HashSet<Date>,
}

impl BranchCalendar {
    fn is_open(&self, date: Date) -> bool {
        if self.closed_days.contains(&date) {
            return false;
        }
        if self.open_days.contains(&date) {
            return true;
        }
        if self.weekly_closed & (1 << date.iso_weekday()) != 0 {
            return false;
        }
        let day = month_day(date);
        !self
            .annual_closures
            .iter()
            .any(|&(from, to)| if from <= to { from <= day && day <= to } else { day >= from || day <= to })
    }
}

/// The compiled calendars; a branch it does not define is open every day.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    branches: HashMap<String, BranchCalendar>,
    branch_order: HashMap<String, usize>,
}

fn validate_month_day(branch: &str, month: u8, day: u8) -> Result<MonthDay, CirculationError> {
    // 2/29 is accepted: an annual closure may name it, and it simply matches in leap years only.
    if (1..=12).contains(&month) && day >= 1 && u32::from(day) <= days_in_month(2000, u32::from(month)) {
        Ok(u16::from(month) * 100 + u16::from(day))
    } else {
        Err(CirculationError::InvalidCalendar {
            branch: branch.to_string(),
            reason: format!("{month}/{day} is not a day of the year"),
        })
    }
}

impl Calendar {
    pub fn from_definition(definition: &CalendarDefinition) -> Result<Calendar, CirculationError> {
        let mut calendar = Calendar::default();
        for (position, branch) in definition.branches.iter().enumerate() {
            let invalid = |reason: String| CirculationError::InvalidCalendar { branch: branch.code.clone(), reason };
            let mut weekly_closed = 0u8;
            for &weekday in &branch.weekly_closures {
                if !(1..=7).contains(&weekday) {
                    return Err(invalid(format!("weekday {weekday} is not an ISO weekday (1 = Monday … 7 = Sunday)")));
                }
                weekly_closed |= 1 << weekday;
            }
            let annual_closures = branch
                .annual_closures
                .iter()
                .map(|closure| {
                    Ok((
                        validate_month_day(&branch.code, closure.from_month, closure.from_day)?,
                        validate_month_day(&branch.code, closure.to_month, closure.to_day)?,
                    ))
                })
                .collect::<Result<Vec<_>, CirculationError>>()?;
            let compiled = BranchCalendar {
                is_pickup_point: branch.is_pickup_point,
                weekly_closed,
                annual_closures,
                closed_days: branch.closed_days.iter().copied().collect(),
                open_days: branch.open_days.iter().copied().collect(),
            };
            if calendar.branches.insert(branch.code.clone(), compiled).is_some() {
                return Err(invalid("the branch is defined twice".to_string()));
            }
            calendar.branch_order.insert(branch.code.clone(), position);
        }
        Ok(calendar)
    }

    /// Whether the branch is open on `date`; a branch without a calendar is always open.
    pub fn is_open(&self, branch: &str, date: Date) -> bool {
        self.branches.get(branch).is_none_or(|calendar| calendar.is_open(date))
    }

    /// `date` itself when the branch is open then, else its next open day (at most
    /// [`OPEN_DAY_SEARCH_WINDOW_DAYS`] ahead).
    pub fn next_open_day_on_or_after(&self, branch: &str, date: Date) -> Result<Date, CirculationError> {
        let Some(calendar) = self.branches.get(branch) else { return Ok(date) };
        (0..OPEN_DAY_SEARCH_WINDOW_DAYS)
            .map(|offset| date.add_days(offset))
            .find(|day| calendar.is_open(*day))
            .ok_or_else(|| CirculationError::NoOpenDay {
                branch: branch.to_string(),
                from: date,
                window_days: OPEN_DAY_SEARCH_WINDOW_DAYS,
            })
    }

    /// Whether patrons may collect holds at the branch; a branch the calendar does not define is not a
    /// service point the engine knows, so it is not one.
    pub fn is_pickup_point(&self, branch: &str) -> bool {
        self.branches.get(branch).is_some_and(|calendar| calendar.is_pickup_point)
    }

    /// The branch's place in display order (branches the calendar does not define come last).
    pub fn branch_rank(&self, branch: &str) -> usize {
        self.branch_order.get(branch).copied().unwrap_or(usize::MAX)
    }

    pub fn branch_count(&self) -> usize {
        self.branches.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    fn central() -> BranchCalendarDefinition {
        BranchCalendarDefinition {
            code: "central".into(),
            is_pickup_point: true,
            weekly_closures: vec![1],
            annual_closures: vec![AnnualClosure {
                from_month: 12,
                from_day: 29,
                to_month: 1,
                to_day: 3,
                reason: "年末年始".into(),
            }],
            closed_days: vec![date("2026-06-23")],
            open_days: vec![date("2026-05-04")],
        }
    }

    fn calendar(branches: Vec<BranchCalendarDefinition>) -> Calendar {
        Calendar::from_definition(&CalendarDefinition { branches }).unwrap()
    }

    #[test]
    fn weekly_annual_one_off_and_override() {
        let calendar = calendar(vec![central()]);
        assert!(!calendar.is_open("central", date("2026-11-23")), "Monday");
        assert!(calendar.is_open("central", date("2026-11-24")));
        assert!(!calendar.is_open("central", date("2026-12-29")));
        assert!(!calendar.is_open("central", date("2027-01-03")));
        assert!(calendar.is_open("central", date("2026-12-27")), "the Sunday before the closure");
        assert!(!calendar.is_open("central", date("2026-06-23")), "慰霊の日");
        assert!(calendar.is_open("central", date("2026-05-04")), "a holiday Monday that opens");
        assert!(calendar.is_open("elsewhere", date("2026-11-23")), "no calendar: always open");
    }

    #[test]
    fn year_end_pushes_to_january_fourth_or_later() {
        let calendar = calendar(vec![central()]);
        // 2026-01-04 is a Sunday: open.
        assert_eq!(calendar.next_open_day_on_or_after("central", date("2025-12-30")).unwrap(), date("2026-01-04"));
        // 2027-01-04 is a Monday: closed weekly, so 1/5.
        assert_eq!(calendar.next_open_day_on_or_after("central", date("2026-12-29")).unwrap(), date("2027-01-05"));
    }

    #[test]
    fn a_branch_closed_all_year_is_an_error() {
        let mut closed = central();
        closed.weekly_closures = (1..=7).collect();
        closed.open_days.clear();
        let calendar = calendar(vec![closed]);
        assert!(matches!(
            calendar.next_open_day_on_or_after("central", date("2026-01-01")),
            Err(CirculationError::NoOpenDay { .. })
        ));
    }

    #[test]
    fn impossible_entries_are_refused() {
        let mut bad_weekday = central();
        bad_weekday.weekly_closures = vec![8];
        assert!(Calendar::from_definition(&CalendarDefinition { branches: vec![bad_weekday] }).is_err());
        let mut bad_day = central();
        bad_day.annual_closures[0].to_day = 32;
        assert!(Calendar::from_definition(&CalendarDefinition { branches: vec![bad_day] }).is_err());
        assert!(Calendar::from_definition(&CalendarDefinition { branches: vec![central(), central()] }).is_err());
    }

    #[test]
    fn pickup_points_and_order() {
        let mut room = central();
        room.code = "room".into();
        room.is_pickup_point = false;
        let calendar = calendar(vec![central(), room]);
        assert!(calendar.is_pickup_point("central"));
        assert!(!calendar.is_pickup_point("room"));
        assert!(!calendar.is_pickup_point("unknown"));
        assert!(calendar.branch_rank("central") < calendar.branch_rank("room"));
        assert_eq!(calendar.branch_rank("unknown"), usize::MAX);
    }
}
