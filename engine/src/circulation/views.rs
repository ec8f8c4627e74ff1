//! Read-only views for the counter, the OPAC's my page and SIP2: a patron's loans, holds and blocks;
//! one copy's circulation facts; the overdue list (督促) of a branch.

use serde::{Deserialize, Serialize};

use super::checkout::RenewalRequest;
use super::date::Date;
use super::decisions::{Desk, ItemRef, PatronRef};
use super::error::{Refusal, RefusalReport};
use super::state::{HoldId, HoldStatus, LoanId, PatronId, PatronStatus};
use crate::holdings::{Availability, BibId, CirculationState, ItemId, ItemStatus, LoanPolicy};

/// Whose summary, as of which day; `branch` (the desk's) adds the loan limit of that branch's rules to
/// the blocks and decides `renewable` with its rules (the loan's own branch otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "PatronSummaryRequestFields")]
pub struct PatronSummaryRequest {
    pub patron: PatronRef,
    pub today: Date,
    pub branch: Option<String>,
}

#[derive(Deserialize)]
struct PatronSummaryRequestFields {
    #[serde(default)]
    patron_id: Option<PatronId>,
    #[serde(default)]
    card: Option<String>,
    today: Date,
    #[serde(default)]
    branch: Option<String>,
}

impl TryFrom<PatronSummaryRequestFields> for PatronSummaryRequest {
    type Error = String;

    fn try_from(fields: PatronSummaryRequestFields) -> Result<PatronSummaryRequest, String> {
        Ok(PatronSummaryRequest {
            patron: PatronRef::from_fields(fields.patron_id, fields.card)?,
            today: fields.today,
            branch: fields.branch,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatronSummary {
    pub patron_id: PatronId,
    pub card: String,
    pub category: String,
    pub home_branch: String,
    pub status: PatronStatus,
    pub expires_on: Date,
    /// What would stop a checkout now (status, expiry, overdue loans, the loan limit at `branch`).
    pub blocks: Vec<RefusalReport>,
    pub loans: Vec<LoanView>,
    pub holds: Vec<HoldView>,
    pub counts: PatronCounts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoanView {
    pub loan_id: LoanId,
    pub item_id: ItemId,
    pub barcode: String,
    pub bib_id: Option<BibId>,
    pub branch: String,
    pub due_on: Date,
    pub renewals: u32,
    pub overdue: bool,
    pub days_overdue: i64,
    pub renewable: bool,
    /// Why it cannot be renewed, when it cannot.
    pub renewal_refusal: Option<RefusalReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldView {
    pub hold_id: HoldId,
    pub bib_id: BibId,
    pub item_id: Option<ItemId>,
    pub status: HoldStatus,
    /// 1 = next in line, counting the waiting holds of the title this hold can be filled with; `None`
    /// once a copy is set aside.
    pub queue_position: Option<u32>,
    pub pickup_branch: String,
    pub placed_at: String,
    pub pickup_by: Option<Date>,
    pub not_before: Option<Date>,
    pub trapped_item_id: Option<ItemId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PatronCounts {
    pub loans: u32,
    pub overdue: u32,
    pub holds: u32,
    pub ready_holds: u32,
}

/// One copy's circulation facts for the counter and SIP2 item information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemView {
    pub item_id: ItemId,
    pub bib_id: BibId,
    pub barcode: String,
    pub branch: String,
    pub shelf_location: String,
    pub call_number: String,
    pub material_type: String,
    pub status: ItemStatus,
    pub loan_policy: LoanPolicy,
    pub availability: Availability,
    pub availability_label: String,
    pub circulation: CirculationState,
    pub loan_id: Option<LoanId>,
    pub due_on: Option<Date>,
    pub renewals: Option<u32>,
    pub borrower: Option<PatronId>,
    /// Waiting holds this copy could fill (title-level holds on its title, item-level holds on it).
    pub hold_queue_length: u32,
    pub trapped_for_hold: Option<HoldId>,
    pub transit_to: Option<String>,
}

/// Overdue loans: of one lending branch (or all), at least `min_days_overdue` days late (at least 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueRequest {
    #[serde(default)]
    pub branch: Option<String>,
    pub today: Date,
    #[serde(default)]
    pub min_days_overdue: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueLoan {
    pub loan_id: LoanId,
    pub item_id: ItemId,
    pub barcode: String,
    pub bib_id: Option<BibId>,
    pub patron_id: PatronId,
    pub card: Option<String>,
    pub patron_home_branch: Option<String>,
    /// The branch that lent the copy.
    pub branch: String,
    pub due_on: Date,
    pub days_overdue: i64,
    pub renewals: u32,
}

impl Desk<'_> {
    pub fn patron_summary(&self, request: &PatronSummaryRequest) -> Result<PatronSummary, Refusal> {
        let today = request.today;
        let patron = self.find_patron(&request.patron)?;
        let loans = self.ledger.loans_of_patron(patron.patron_id);
        let mut blocks = self.patron_blocks(patron, today);
        if let Some(rule) =
            request.branch.as_deref().and_then(|branch| self.rules.resolve(branch, &patron.category, None))
        {
            if loans.len() >= usize::from(rule.max_items_total) {
                blocks.push(Refusal::LimitReached { limit: u32::from(rule.max_items_total) });
            }
        }
        let loan_views: Vec<LoanView> = loans
            .iter()
            .map(|loan| {
                let item = self.holdings.item(loan.item_id);
                let renewal = self.decide_renewal(&RenewalRequest {
                    item: ItemRef::Id(loan.item_id),
                    patron_id: Some(patron.patron_id),
                    branch: request.branch.clone().unwrap_or_else(|| loan.branch.clone()),
                    today,
                });
                LoanView {
                    loan_id: loan.loan_id,
                    item_id: loan.item_id,
                    barcode: item.map(|item| item.barcode.clone()).unwrap_or_default(),
                    bib_id: item.map(|item| item.bib_id),
                    branch: loan.branch.clone(),
                    due_on: loan.due_on,
                    renewals: loan.renewals,
                    overdue: loan.due_on < today,
                    days_overdue: loan.due_on.days_until(today).max(0),
                    renewable: renewal.is_ok(),
                    renewal_refusal: renewal.err().map(|refusal| refusal.report()),
                }
            })
            .collect();
        let hold_views: Vec<HoldView> = self
            .ledger
            .holds_of_patron(patron.patron_id)
            .into_iter()
            .map(|hold| {
                let queue_position = (hold.status == HoldStatus::Waiting).then(|| {
                    let ahead = self
                        .ledger
                        .queue_of_bib(hold.bib_id)
                        .take_while(|other| other.hold_id != hold.hold_id)
                        .filter(|other| {
                            other.status == HoldStatus::Waiting
                                && (hold.item_id.is_none() || other.item_id.is_none() || other.item_id == hold.item_id)
                        })
                        .count();
                    ahead as u32 + 1
                });
                HoldView {
                    hold_id: hold.hold_id,
                    bib_id: hold.bib_id,
                    item_id: hold.item_id,
                    status: hold.status,
                    queue_position,
                    pickup_branch: hold.pickup_branch.clone(),
                    placed_at: hold.placed_at.clone(),
                    pickup_by: hold.pickup_by,
                    not_before: hold.not_before,
                    trapped_item_id: hold.trapped_item(),
                }
            })
            .collect();
        let counts = PatronCounts {
            loans: loan_views.len() as u32,
            overdue: loan_views.iter().filter(|loan| loan.overdue).count() as u32,
            holds: hold_views.len() as u32,
            ready_holds: hold_views.iter().filter(|hold| hold.status == HoldStatus::Ready).count() as u32,
        };
        Ok(PatronSummary {
            patron_id: patron.patron_id,
            card: patron.card.clone(),
            category: patron.category.clone(),
            home_branch: patron.home_branch.clone(),
            status: patron.status,
            expires_on: patron.expires_on,
            blocks: blocks.iter().map(Refusal::report).collect(),
            loans: loan_views,
            holds: hold_views,
            counts,
        })
    }

    pub fn item_view(&self, item: &ItemRef) -> Result<ItemView, Refusal> {
        let item = self.find_item(item)?;
        let loan = self.ledger.loan_of_item(item.item_id);
        let hold_queue_length = self
            .ledger
            .queue_of_bib(item.bib_id)
            .filter(|hold| {
                hold.status == HoldStatus::Waiting && hold.item_id.is_none_or(|wanted| wanted == item.item_id)
            })
            .count() as u32;
        let availability = item.availability();
        Ok(ItemView {
            item_id: item.item_id,
            bib_id: item.bib_id,
            barcode: item.barcode.clone(),
            branch: item.branch.clone(),
            shelf_location: item.shelf_location.clone(),
            call_number: item.call_number.clone(),
            material_type: item.material_type.clone(),
            status: item.status,
            loan_policy: item.loan_policy,
            availability,
            availability_label: availability.label_ja().to_string(),
            circulation: self.ledger.circulation_state_of(item.item_id),
            loan_id: loan.map(|loan| loan.loan_id),
            due_on: loan.map(|loan| loan.due_on),
            renewals: loan.map(|loan| loan.renewals),
            borrower: loan.map(|loan| loan.patron_id),
            hold_queue_length,
            trapped_for_hold: self.ledger.hold_trapping(item.item_id).map(|hold| hold.hold_id),
            transit_to: self.ledger.transit_of(item.item_id).map(|transit| transit.to_branch.clone()),
        })
    }

    /// Earliest due date first. Costs the overdue loans only (open loans are kept ordered by due date).
    pub fn overdue_loans(&self, request: &OverdueRequest) -> Vec<OverdueLoan> {
        let min_days = i32::try_from(request.min_days_overdue.max(1)).unwrap_or(i32::MAX);
        let last_due_on = request.today.add_days(-min_days);
        self.ledger
            .loans_due_on_or_before(last_due_on)
            .filter(|loan| request.branch.as_deref().is_none_or(|branch| branch == loan.branch))
            .map(|loan| {
                let item = self.holdings.item(loan.item_id);
                let patron = self.ledger.patron(loan.patron_id);
                OverdueLoan {
                    loan_id: loan.loan_id,
                    item_id: loan.item_id,
                    barcode: item.map(|item| item.barcode.clone()).unwrap_or_default(),
                    bib_id: item.map(|item| item.bib_id),
                    patron_id: loan.patron_id,
                    card: patron.map(|patron| patron.card.clone()),
                    patron_home_branch: patron.map(|patron| patron.home_branch.clone()),
                    branch: loan.branch.clone(),
                    due_on: loan.due_on,
                    days_overdue: loan.due_on.days_until(request.today),
                    renewals: loan.renewals,
                }
            })
            .collect()
    }
}
