//! Checkout (貸出) and renewal (延長): whether a copy may be lent or kept longer, and until when.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::checkin::CheckinOutcome;
use super::date::Date;
use super::decisions::{Desk, ItemRef, PatronRef, Warning, WarningReport, CARD_EXPIRY_WARNING_DAYS};
use super::error::Refusal;
use super::state::{Hold, HoldId, HoldStatus, LoanId, PatronId};
use crate::holdings::{BibId, ItemHolding, ItemId};

/// A checkout at a counter or a self-check machine.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "CheckoutRequestFields")]
pub struct CheckoutRequest {
    pub patron: PatronRef,
    pub item: ItemRef,
    /// The branch lending the copy: its rules and calendar apply.
    pub branch: String,
    pub today: Date,
    /// Staff lend a copy although other patrons' holds wait for it (`ReservedForOthers` only).
    pub staff_override: bool,
    /// Someone at the desk can take a copy off the hold shelf: a staffed counter, not a self-check kiosk.
    /// Only then does a loan of another copy of the title release the copy set aside for the patron.
    pub staffed: bool,
}

#[derive(Deserialize)]
struct CheckoutRequestFields {
    #[serde(default)]
    patron_id: Option<PatronId>,
    #[serde(default)]
    card: Option<String>,
    #[serde(default)]
    item_id: Option<ItemId>,
    #[serde(default)]
    barcode: Option<String>,
    branch: String,
    today: Date,
    #[serde(default)]
    staff_override: bool,
    #[serde(default)]
    staffed: bool,
}

impl TryFrom<CheckoutRequestFields> for CheckoutRequest {
    type Error = String;

    fn try_from(fields: CheckoutRequestFields) -> Result<CheckoutRequest, String> {
        Ok(CheckoutRequest {
            patron: PatronRef::from_fields(fields.patron_id, fields.card)?,
            item: ItemRef::from_fields(fields.item_id, fields.barcode)?,
            branch: fields.branch,
            today: fields.today,
            staff_override: fields.staff_override,
            staffed: fields.staffed,
        })
    }
}

/// A checkout the rules allow: what to write to the `loan` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckoutDecision {
    pub item_id: ItemId,
    pub patron_id: PatronId,
    pub bib_id: BibId,
    pub due_on: Date,
    /// The patron's hold this loan fulfils: the one the copy is set aside for, or else the patron's own
    /// waiting hold on the title (or on this copy), which taking the copy from the shelf satisfies.
    pub fulfils_hold: Option<HoldId>,
    /// The copy was in transit (scanned where it arrived): the service closes the transit.
    pub closes_transit: bool,
    /// The copy set aside on this branch's hold shelf for the hold this loan fulfils, when the patron took
    /// another copy of the title instead: it goes to the next in line (or back to the shelf) now.
    pub releases_copy: Option<ReleasedCopy>,
    pub material_type: String,
    pub warnings: Vec<WarningReport>,
}

/// A copy on the hold shelf whose hold a loan of another copy fulfilled, and where it goes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleasedCopy {
    pub item_id: ItemId,
    pub barcode: String,
    pub next: CheckinOutcome,
}

impl Desk<'_> {
    /// Checks, in this order: the patron (unknown, status, expiry, overdue loans), the copy (unknown,
    /// status, loan policy, already lent, set aside for another hold, needed by others' holds), then
    /// the rule (none, 0 loan days, total limit, limit per material type) and the due date.
    pub fn decide_checkout(&self, request: &CheckoutRequest) -> Result<CheckoutDecision, Refusal> {
        let today = request.today;
        let patron = self.find_patron(&request.patron)?;
        if let Some(block) = self.patron_blocks(patron, today).into_iter().next() {
            return Err(block);
        }
        let item = self.find_item(&request.item)?;
        if let Some(block) = Desk::item_block(item) {
            return Err(block);
        }
        if let Some(loan) = self.ledger.loan_of_item(item.item_id) {
            return Err(if loan.patron_id == patron.patron_id {
                Refusal::AlreadyOnLoanToPatron { item_id: item.item_id, due_on: loan.due_on }
            } else {
                Refusal::AlreadyOnLoan { item_id: item.item_id, due_on: loan.due_on }
            });
        }
        let mut warnings = Vec::new();
        let mut releases_copy = None;
        let fulfils_hold = match self.ledger.hold_trapping(item.item_id) {
            Some(hold) if hold.patron_id != patron.patron_id => {
                return Err(Refusal::OnHoldForAnother { item_id: item.item_id, hold_id: hold.hold_id });
            }
            Some(hold) => Some(hold.hold_id),
            None if let Some((hold, set_aside)) = self.own_copy_set_aside_here(patron.patron_id, item, request) => {
                // The patron takes another copy of the title their copy waits on this hold shelf for: the
                // hold is fulfilled, and the set-aside copy goes to whoever waits next (as if returned here),
                // so the others lose nothing by this copy leaving the shelf.
                let excluded = HashSet::from([hold.hold_id]);
                let lent_now = Some(item.item_id);
                let next = self.route_copy(set_aside, &hold.pickup_branch, today, &excluded, lent_now, &mut warnings);
                let barcode = set_aside.barcode.clone();
                warnings.push(Warning::SetAsideCopyReleased { barcode: barcode.clone(), next: next.clone() });
                releases_copy = Some(ReleasedCopy { item_id: set_aside.item_id, barcode, next });
                Some(hold.hold_id)
            }
            None => {
                let waiting = self.holds_needing_copy(item.item_id, item.bib_id, patron.patron_id, today);
                if waiting > 0 {
                    if !request.staff_override {
                        return Err(Refusal::ReservedForOthers { item_id: item.item_id, waiting });
                    }
                    warnings.push(Warning::ReservationOverridden { waiting });
                }
                self.ledger
                    .queue_of_bib(item.bib_id)
                    .find(|hold| {
                        hold.patron_id == patron.patron_id
                            && hold.status == HoldStatus::Waiting
                            && hold.item_id.is_none_or(|wanted| wanted == item.item_id)
                    })
                    .map(|hold| hold.hold_id)
            }
        };
        let rule = self.rules.resolve_or_refuse(&request.branch, &patron.category, Some(&item.material_type))?;
        if rule.loan_days == 0 {
            return Err(Refusal::NotLoanable { item_id: item.item_id });
        }
        let loans = self.ledger.loans_of_patron(patron.patron_id);
        if loans.len() >= usize::from(rule.max_items_total) {
            return Err(Refusal::LimitReached { limit: u32::from(rule.max_items_total) });
        }
        let loans_of_type = loans
            .iter()
            .filter(|loan| {
                self.holdings.item(loan.item_id).is_some_and(|lent| lent.material_type == item.material_type)
            })
            .count();
        if loans_of_type >= usize::from(rule.max_items_of_type) {
            return Err(Refusal::TypeLimitReached {
                material_type: item.material_type.clone(),
                limit: u32::from(rule.max_items_of_type),
            });
        }
        let due = self.open_day_after(&request.branch, today, rule.loan_days)?;
        if due.open != due.nominal {
            warnings.push(Warning::DueDateMovedForClosure { nominal_due_on: due.nominal, due_on: due.open });
        }
        if today.days_until(patron.expires_on) <= CARD_EXPIRY_WARNING_DAYS {
            warnings.push(Warning::CardExpiresSoon { expires_on: patron.expires_on });
        }
        let ready_for_patron = self
            .ledger
            .holds_of_patron(patron.patron_id)
            .iter()
            .filter(|hold| hold.status == HoldStatus::Ready && Some(hold.hold_id) != fulfils_hold)
            .count() as u32;
        if ready_for_patron > 0 {
            warnings.push(Warning::HoldsReadyForPickup { count: ready_for_patron });
        }
        Ok(CheckoutDecision {
            item_id: item.item_id,
            patron_id: patron.patron_id,
            bib_id: item.bib_id,
            due_on: due.open,
            fulfils_hold,
            closes_transit: self.ledger.transit_of(item.item_id).is_some(),
            releases_copy,
            material_type: item.material_type.clone(),
            warnings: warnings.into_iter().map(WarningReport::from).collect(),
        })
    }

    /// At a staffed desk, the patron's title-level hold whose copy (another than `item`) waits on the hold
    /// shelf of the branch lending, with that copy; none when someone else's item-level hold waits for `item`
    /// itself, which the set-aside copy could not stand in for.
    fn own_copy_set_aside_here(
        &self,
        patron_id: PatronId,
        item: &ItemHolding,
        request: &CheckoutRequest,
    ) -> Option<(&Hold, &ItemHolding)> {
        if !request.staffed {
            return None;
        }
        let hold = self.ledger.holds_of_patron(patron_id).into_iter().find(|hold| {
            hold.bib_id == item.bib_id
                && hold.status == HoldStatus::Ready
                && hold.item_id.is_none()
                && hold.pickup_branch == request.branch
        })?;
        let set_aside = self.holdings.item(hold.trapped_item()?)?;
        let wanted_by_another = self
            .eligible_waiting_holds(item.bib_id, request.today, &HashSet::new())
            .into_iter()
            .any(|other| other.patron_id != patron_id && other.item_id == Some(item.item_id));
        (set_aside.item_id != item.item_id && !wanted_by_another).then_some((hold, set_aside))
    }

    /// How many of other patrons' waiting holds (those that may be filled today) this copy is needed for,
    /// counting only the holds ahead of the patron's own waiting hold that the copy fills: whoever is
    /// behind that hold waits for the patron anyway, so the first in line may take the copy from the shelf.
    /// An item-level hold on this copy needs it outright; title-level holds need it when they outnumber
    /// the title's other copies free on the shelf, less those that item-level holds ahead wait for (as
    /// hold targeting would match them). 0 when the copy may go.
    fn holds_needing_copy(&self, item_id: ItemId, bib_id: BibId, patron_id: PatronId, today: Date) -> u32 {
        let mut item_level = 0u32;
        let mut title_level = 0u32;
        let mut claimed_copies = HashSet::new();
        for hold in self.ledger.queue_of_bib(bib_id) {
            if hold.status != HoldStatus::Waiting {
                continue;
            }
            if hold.patron_id == patron_id {
                if hold.item_id.is_none_or(|wanted| wanted == item_id) {
                    break;
                }
                continue;
            }
            if hold.not_before.is_some_and(|day| day > today) || !self.hold_patron_can_be_served(hold) {
                continue;
            }
            match hold.item_id {
                Some(wanted) if wanted == item_id => item_level += 1,
                Some(wanted) => {
                    claimed_copies.insert(wanted);
                }
                None => title_level += 1,
            }
        }
        if item_level > 0 {
            return item_level + title_level;
        }
        let other_free_copies = self
            .holdings
            .items_of(bib_id)
            .filter(|copy| {
                copy.item_id != item_id && self.is_free_on_shelf(copy) && !claimed_copies.contains(&copy.item_id)
            })
            .count() as u32;
        if title_level > other_free_copies {
            title_level
        } else {
            0
        }
    }
}

/// A renewal at the counter, on the OPAC or by SIP2.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RenewalRequestFields")]
pub struct RenewalRequest {
    pub item: ItemRef,
    /// The patron asking; `None` (counter, SIP2 by item) means the current borrower.
    pub patron_id: Option<PatronId>,
    /// The branch renewing: its rules and calendar give the new due date.
    pub branch: String,
    pub today: Date,
}

#[derive(Deserialize)]
struct RenewalRequestFields {
    #[serde(default)]
    item_id: Option<ItemId>,
    #[serde(default)]
    barcode: Option<String>,
    #[serde(default)]
    patron_id: Option<PatronId>,
    branch: String,
    today: Date,
}

impl TryFrom<RenewalRequestFields> for RenewalRequest {
    type Error = String;

    fn try_from(fields: RenewalRequestFields) -> Result<RenewalRequest, String> {
        Ok(RenewalRequest {
            item: ItemRef::from_fields(fields.item_id, fields.barcode)?,
            patron_id: fields.patron_id,
            branch: fields.branch,
            today: fields.today,
        })
    }
}

/// A renewal the rules allow: the loan's new due date and renewal count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenewalDecision {
    pub loan_id: LoanId,
    pub item_id: ItemId,
    pub patron_id: PatronId,
    pub due_on: Date,
    pub renewals: u32,
}

impl Desk<'_> {
    /// Checks, in this order: the loan (not on loan, not this patron's), the copy (marked lost, withdrawn
    /// or damaged, or made in-library only or not loanable since it was lent), the borrower (unknown, status,
    /// expiry), overdue loans (this one, then any other: a patron with an overdue loan is blocked from
    /// renewing as from borrowing, REQUIREMENTS §2), the rule (none, 0 loan days, renewal limit) and
    /// waiting holds.
    pub fn decide_renewal(&self, request: &RenewalRequest) -> Result<RenewalDecision, Refusal> {
        let today = request.today;
        let item = self.find_item(&request.item)?;
        let Some(loan) = self.ledger.loan_of_item(item.item_id) else {
            return Err(Refusal::NotOnLoan { item_id: item.item_id });
        };
        if request.patron_id.is_some_and(|asking| asking != loan.patron_id) {
            return Err(Refusal::NotYourLoan { item_id: item.item_id });
        }
        if let Some(block) = Desk::item_block(item) {
            return Err(block);
        }
        let patron = self.find_patron(&PatronRef::Id(loan.patron_id))?;
        if let Some(block) = Desk::status_block(patron).or_else(|| Desk::expiry_block(patron, today)) {
            return Err(block);
        }
        if loan.due_on < today {
            return Err(Refusal::Overdue { item_id: item.item_id, due_on: loan.due_on });
        }
        if let Some(block) = self.overdue_block(patron, today) {
            return Err(block);
        }
        let rule = self.rules.resolve_or_refuse(&request.branch, &patron.category, Some(&item.material_type))?;
        if rule.loan_days == 0 {
            return Err(Refusal::NotLoanable { item_id: item.item_id });
        }
        if loan.renewals >= u32::from(rule.max_renewals) {
            return Err(Refusal::RenewalLimit { item_id: item.item_id, max: u32::from(rule.max_renewals) });
        }
        let waiting = self
            .ledger
            .queue_of_bib(item.bib_id)
            .filter(|hold| {
                hold.status == HoldStatus::Waiting
                    && hold.patron_id != loan.patron_id
                    && hold.item_id.is_none_or(|wanted| wanted == item.item_id)
                    // As targeting: a suspended patron's hold would not get the copy back, so it keeps no one
                    // from renewing.
                    && self.hold_patron_can_be_served(hold)
            })
            .count() as u32;
        if waiting > 0 {
            return Err(Refusal::RenewalBlockedByHold { item_id: item.item_id, waiting });
        }
        let due = self.open_day_after(&request.branch, today, rule.loan_days)?;
        Ok(RenewalDecision {
            loan_id: loan.loan_id,
            item_id: item.item_id,
            patron_id: loan.patron_id,
            // A renewal never shortens a loan (an early renewal of a long loan keeps its date).
            due_on: due.open.max(loan.due_on),
            renewals: loan.renewals + 1,
        })
    }
}
