//! Checkin (返却) at any branch, and where a copy goes next: back on the shelf, home in transit, onto
//! this branch's hold shelf, or in transit to another branch's hold shelf.
//!
//! The same routing decides what happens to a copy freed from the hold shelf (an expired or cancelled
//! hold), so a returned copy and a released copy follow one rule.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::date::Date;
use super::decisions::{Desk, ItemRef, Warning, WarningReport};
use super::error::Refusal;
use super::state::{Hold, HoldId, HoldStatus, LoanId, PatronId};
use crate::holdings::{ItemHolding, ItemId};

/// Hold-shelf days when no rule gives them (the patron or the rule is unknown to the engine).
pub const DEFAULT_HOLD_PICKUP_DAYS: u16 = 7;

/// A copy handed in at a counter, a book drop or a self-check machine.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "CheckinRequestFields")]
pub struct CheckinRequest {
    pub item: ItemRef,
    /// Where the copy is now.
    pub branch: String,
    pub today: Date,
}

#[derive(Deserialize)]
struct CheckinRequestFields {
    #[serde(default)]
    item_id: Option<ItemId>,
    #[serde(default)]
    barcode: Option<String>,
    branch: String,
    today: Date,
}

impl TryFrom<CheckinRequestFields> for CheckinRequest {
    type Error = String;

    fn try_from(fields: CheckinRequestFields) -> Result<CheckinRequest, String> {
        Ok(CheckinRequest {
            item: ItemRef::from_fields(fields.item_id, fields.barcode)?,
            branch: fields.branch,
            today: fields.today,
        })
    }
}

/// Where a copy goes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckinOutcome {
    /// Back on the shelf here: this is its home branch and nobody waits for it.
    Shelve,
    /// Nobody here needs it: send it home.
    TransitHome { to_branch: String },
    /// Onto this branch's hold shelf for the hold, until `pickup_by`.
    HoldReady { hold_id: HoldId, patron_id: PatronId, pickup_by: Date },
    /// Set aside for the hold and sent to its pickup branch.
    HoldTransit { hold_id: HoldId, patron_id: PatronId, to_branch: String },
}

impl CheckinOutcome {
    /// The hold the outcome sets the copy aside for.
    pub fn hold_id(&self) -> Option<HoldId> {
        match self {
            CheckinOutcome::HoldReady { hold_id, .. } | CheckinOutcome::HoldTransit { hold_id, .. } => Some(*hold_id),
            CheckinOutcome::Shelve | CheckinOutcome::TransitHome { .. } => None,
        }
    }
}

/// What the service does with a checked-in copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckinDecision {
    pub item_id: ItemId,
    pub bib_id: crate::holdings::BibId,
    /// The loan to close (none when the copy was not on loan).
    pub closes_loan: Option<LoanId>,
    /// The patron whose loan closes.
    pub borrower: Option<PatronId>,
    /// The copy had an open transit: the service closes it here (and opens a new one if the outcome
    /// sends the copy on).
    pub closes_transit: bool,
    pub outcome: CheckinOutcome,
    pub warnings: Vec<WarningReport>,
}

impl Desk<'_> {
    /// A copy checked in at `request.branch`. A copy already set aside for a hold keeps it (it arrived,
    /// or is re-scanned on the hold shelf); any other copy — on loan, arriving home, or found on the
    /// shelf — is routed as [`route_copy`](Self::route_copy) says.
    pub fn decide_checkin(&self, request: &CheckinRequest) -> Result<CheckinDecision, Refusal> {
        let item = self.find_item(&request.item)?;
        let loan = self.ledger.loan_of_item(item.item_id);
        let mut warnings = Vec::new();
        let outcome = match self.ledger.hold_trapping(item.item_id) {
            Some(hold) if hold.pickup_branch == request.branch => {
                let pickup_by = match (hold.status, hold.pickup_by) {
                    (HoldStatus::Ready, Some(pickup_by)) => pickup_by,
                    _ => self.pickup_deadline(hold, item, request.today, &mut warnings),
                };
                CheckinOutcome::HoldReady { hold_id: hold.hold_id, patron_id: hold.patron_id, pickup_by }
            }
            Some(hold) => CheckinOutcome::HoldTransit {
                hold_id: hold.hold_id,
                patron_id: hold.patron_id,
                to_branch: hold.pickup_branch.clone(),
            },
            None => self.route_copy(item, &request.branch, request.today, &HashSet::new(), None, &mut warnings),
        };
        Ok(CheckinDecision {
            item_id: item.item_id,
            bib_id: item.bib_id,
            closes_loan: loan.map(|loan| loan.loan_id),
            borrower: loan.map(|loan| loan.patron_id),
            closes_transit: self.ledger.transit_of(item.item_id).is_some(),
            outcome,
            warnings: warnings.into_iter().map(WarningReport::from).collect(),
        })
    }

    /// Where a copy standing at `at_branch` goes, when it is not (or no longer) set aside.
    ///
    /// It fills the first eligible hold in FIFO order — title-level holds on its title and item-level
    /// holds on this copy, waiting, not deferred past today, of a patron in good standing, and not in
    /// `excluded` — as matched by [`match_holds_to_copies`](Self::match_holds_to_copies): when other
    /// copies of the title stand free on shelves too, the holds at the head of the queue are matched so
    /// that each gets a copy at its own pickup branch where possible, which may give this copy to the
    /// second hold and the shelf copy to the first. Between copies at one branch this copy, in the
    /// clerk's hand, comes first: nobody fetches a copy from the shelf while this one goes back to it.
    /// A copy no hold takes goes home.
    pub(crate) fn route_copy(
        &self,
        item: &ItemHolding,
        at_branch: &str,
        today: Date,
        excluded: &HashSet<HoldId>,
        lent_now: Option<ItemId>,
        warnings: &mut Vec<Warning>,
    ) -> CheckinOutcome {
        if Desk::item_block(item).is_none() {
            let holds = self.eligible_waiting_holds(item.bib_id, today, excluded);
            if !holds.is_empty() {
                let mut copies = self.free_copies_of(item.bib_id);
                // `lent_now`: a copy on the shelf that the same decision lends, so not free for the others.
                copies.retain(|copy| copy.item.item_id != item.item_id && Some(copy.item.item_id) != lent_now);
                let this_copy = 0;
                copies.insert(this_copy, super::targeting::FreeCopy { item, branch: at_branch });
                let matched = self.match_holds_to_copies(&holds, &copies);
                if let Some((hold, _)) = matched.iter().find(|(_, copy)| *copy == this_copy) {
                    return if hold.pickup_branch == at_branch {
                        let pickup_by = self.pickup_deadline(hold, item, today, warnings);
                        CheckinOutcome::HoldReady { hold_id: hold.hold_id, patron_id: hold.patron_id, pickup_by }
                    } else {
                        CheckinOutcome::HoldTransit {
                            hold_id: hold.hold_id,
                            patron_id: hold.patron_id,
                            to_branch: hold.pickup_branch.clone(),
                        }
                    };
                }
            }
        }
        if item.branch == at_branch {
            CheckinOutcome::Shelve
        } else {
            CheckinOutcome::TransitHome { to_branch: item.branch.clone() }
        }
    }

    /// The last day the copy waits on the hold shelf: the next open day of the pickup branch on or after
    /// today + the rule's `hold_pickup_days`. The copy is already in the patron's hands' reach, so a
    /// missing rule or calendar never stops it: the default period and the nominal day stand in.
    pub(crate) fn pickup_deadline(
        &self,
        hold: &Hold,
        item: &ItemHolding,
        today: Date,
        warnings: &mut Vec<Warning>,
    ) -> Date {
        let days = self
            .ledger
            .patron(hold.patron_id)
            .and_then(|patron| self.rules.resolve(&hold.pickup_branch, &patron.category, Some(&item.material_type)))
            .map(|rule| rule.hold_pickup_days);
        let days = days.unwrap_or_else(|| {
            warnings.push(Warning::HoldPickupDaysDefaulted { days: DEFAULT_HOLD_PICKUP_DAYS });
            DEFAULT_HOLD_PICKUP_DAYS
        });
        match self.open_day_after(&hold.pickup_branch, today, days) {
            Ok(day) => day.open,
            Err(_) => today.add_days(i32::from(days)),
        }
    }
}
