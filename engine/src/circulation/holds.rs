//! Holds (予約): placing one, cancelling one, changing where it is collected, and expiry of the hold
//! shelf (取置期限切れ), which passes each released copy to the next patron in line.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::checkin::CheckinOutcome;
use super::date::Date;
use super::decisions::{Desk, PatronRef};
use super::error::Refusal;
use super::state::{Hold, HoldId, HoldStatus, PatronId};
use super::targeting::PickTarget;
use crate::holdings::{BibId, ItemHolding, ItemId};

/// A hold placed at the counter, on the OPAC or by SIP2.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "HoldRequestFields")]
pub struct HoldRequest {
    pub patron: PatronRef,
    pub bib_id: BibId,
    /// Set for an item-level hold (one volume or copy).
    pub item_id: Option<ItemId>,
    pub pickup_branch: String,
    pub today: Date,
    /// The timestamp the hold will carry (its place in the queue).
    pub placed_at: String,
    /// Not to be filled before this day.
    pub not_before: Option<Date>,
}

#[derive(Deserialize)]
struct HoldRequestFields {
    #[serde(default)]
    patron_id: Option<PatronId>,
    #[serde(default)]
    card: Option<String>,
    bib_id: BibId,
    #[serde(default)]
    item_id: Option<ItemId>,
    pickup_branch: String,
    today: Date,
    placed_at: String,
    #[serde(default)]
    not_before: Option<Date>,
}

impl TryFrom<HoldRequestFields> for HoldRequest {
    type Error = String;

    fn try_from(fields: HoldRequestFields) -> Result<HoldRequest, String> {
        Ok(HoldRequest {
            patron: PatronRef::from_fields(fields.patron_id, fields.card)?,
            bib_id: fields.bib_id,
            item_id: fields.item_id,
            pickup_branch: fields.pickup_branch,
            today: fields.today,
            placed_at: fields.placed_at,
            not_before: fields.not_before,
        })
    }
}

/// A hold the rules allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldDecision {
    pub patron_id: PatronId,
    pub bib_id: BibId,
    pub item_id: Option<ItemId>,
    pub pickup_branch: String,
    /// The material type whose rule allowed the hold.
    pub material_type: String,
    /// The copy to pull from a shelf for it now; `None` when every copy is out or claimed by holds
    /// ahead in the queue.
    pub target: Option<PickTarget>,
}

/// Cancelling a hold (by the patron, or by staff when `patron_id` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelHoldRequest {
    pub hold_id: HoldId,
    #[serde(default)]
    pub patron_id: Option<PatronId>,
    pub today: Date,
}

/// What cancelling a hold does to the copy set aside for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancelHoldDecision {
    pub hold_id: HoldId,
    pub patron_id: PatronId,
    pub status: HoldStatus,
    /// The copy that was set aside for the hold.
    pub released_item: Option<ItemId>,
    /// Where a copy released from the hold shelf goes: the next hold in line, or home. `None` for a
    /// waiting hold (no copy) and for a copy still in transit, which is decided when it is checked in
    /// where it arrives.
    pub next: Option<CheckinOutcome>,
}

/// Moving a waiting hold to another pickup branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickupChangeRequest {
    pub hold_id: HoldId,
    #[serde(default)]
    pub patron_id: Option<PatronId>,
    pub pickup_branch: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PickupChangeDecision {
    pub hold_id: HoldId,
    pub patron_id: PatronId,
    pub pickup_branch: String,
}

/// A ready hold whose pickup deadline passed, and where its copy goes now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiryDecision {
    pub hold_id: HoldId,
    pub patron_id: PatronId,
    pub item_id: ItemId,
    pub pickup_branch: String,
    pub pickup_by: Date,
    /// The copy's next step, decided as a checkin at the pickup branch (where it stands). A copy the
    /// holdings no longer know is reported as `shelve`.
    pub next: CheckinOutcome,
}

impl Desk<'_> {
    /// Checks, in this order: the patron (unknown, status, expiry, overdue loans), the pickup branch,
    /// the copy named by an item-level hold, whether the title has a copy that could ever be lent (its
    /// first such copy gives the material type), the rule (none, holds not allowed, hold limit), an
    /// open hold on the title and a copy of it already borrowed.
    pub fn decide_hold(&self, request: &HoldRequest) -> Result<HoldDecision, Refusal> {
        let patron = self.find_patron(&request.patron)?;
        if let Some(block) = self.patron_blocks(patron, request.today).into_iter().next() {
            return Err(block);
        }
        if !self.calendar.is_pickup_point(&request.pickup_branch) {
            return Err(Refusal::NotPickupPoint { branch: request.pickup_branch.clone() });
        }
        let representative: &ItemHolding = match request.item_id {
            Some(item_id) => {
                let item = self.find_item(&super::decisions::ItemRef::Id(item_id))?;
                if item.bib_id != request.bib_id {
                    return Err(Refusal::ItemNotInRecord { item_id, bib_id: request.bib_id });
                }
                Some(item).filter(|item| Desk::could_fill_holds(item))
            }
            None => self
                .holdings
                .items_of(request.bib_id)
                .filter(|item| Desk::could_fill_holds(item))
                .min_by_key(|item| item.item_id),
        }
        .ok_or(Refusal::NoCopies { bib_id: request.bib_id })?;
        let material_type = representative.material_type.clone();
        let rule = self.rules.resolve_or_refuse(&request.pickup_branch, &patron.category, Some(&material_type))?;
        if !rule.holds_allowed {
            return Err(Refusal::HoldsNotAllowed { material_type });
        }
        let open_holds = self.ledger.holds_of_patron(patron.patron_id);
        if open_holds.len() >= usize::from(rule.max_holds) {
            return Err(Refusal::HoldLimitReached { max: u32::from(rule.max_holds) });
        }
        if let Some(existing) = open_holds.iter().find(|hold| hold.bib_id == request.bib_id) {
            return Err(Refusal::HoldExists { hold_id: existing.hold_id });
        }
        let borrowed = self
            .ledger
            .loans_of_patron(patron.patron_id)
            .into_iter()
            .find(|loan| self.holdings.item(loan.item_id).is_some_and(|item| item.bib_id == request.bib_id));
        if let Some(loan) = borrowed {
            return Err(Refusal::AlreadyBorrowed { item_id: loan.item_id, due_on: loan.due_on });
        }
        let candidate = Hold {
            // An id no real hold has, sorting after every real hold placed at the same instant.
            hold_id: HoldId(u64::MAX),
            patron_id: patron.patron_id,
            bib_id: request.bib_id,
            item_id: request.item_id,
            pickup_branch: request.pickup_branch.clone(),
            placed_at: request.placed_at.clone(),
            status: HoldStatus::Waiting,
            trapped_item_id: None,
            pickup_by: None,
            not_before: request.not_before,
        };
        Ok(HoldDecision {
            patron_id: patron.patron_id,
            bib_id: request.bib_id,
            item_id: request.item_id,
            pickup_branch: request.pickup_branch.clone(),
            material_type,
            target: self.target_for_new_hold(&candidate, request.today),
        })
    }

    fn own_hold(&self, hold_id: HoldId, patron_id: Option<PatronId>) -> Result<&Hold, Refusal> {
        let hold = self.ledger.hold(hold_id).ok_or(Refusal::UnknownHold { hold_id })?;
        if patron_id.is_some_and(|asking| asking != hold.patron_id) {
            return Err(Refusal::NotYourHold { hold_id });
        }
        Ok(hold)
    }

    pub fn decide_cancel_hold(&self, request: &CancelHoldRequest) -> Result<CancelHoldDecision, Refusal> {
        let hold = self.own_hold(request.hold_id, request.patron_id)?;
        let released_item = hold.trapped_item();
        let next = match (hold.status, released_item.and_then(|item_id| self.holdings.item(item_id))) {
            (HoldStatus::Ready, Some(item)) => {
                let excluded = HashSet::from([hold.hold_id]);
                Some(self.route_copy(item, &hold.pickup_branch, request.today, &excluded, None, &mut Vec::new()))
            }
            _ => None,
        };
        Ok(CancelHoldDecision {
            hold_id: hold.hold_id,
            patron_id: hold.patron_id,
            status: hold.status,
            released_item,
            next,
        })
    }

    pub fn decide_pickup_change(&self, request: &PickupChangeRequest) -> Result<PickupChangeDecision, Refusal> {
        let hold = self.own_hold(request.hold_id, request.patron_id)?;
        if hold.status != HoldStatus::Waiting {
            return Err(Refusal::HoldNotWaiting { hold_id: hold.hold_id, status: hold.status });
        }
        if !self.calendar.is_pickup_point(&request.pickup_branch) {
            return Err(Refusal::NotPickupPoint { branch: request.pickup_branch.clone() });
        }
        Ok(PickupChangeDecision {
            hold_id: hold.hold_id,
            patron_id: hold.patron_id,
            pickup_branch: request.pickup_branch.clone(),
        })
    }

    /// Ready holds whose `pickup_by` is before `today`, earliest deadline first, each with its copy's next
    /// step. A waiting hold passed a copy in this batch is not passed another. Costs the expired holds
    /// and their titles' queues, not the whole ledger (the ready holds are kept ordered by deadline).
    pub fn expired_holds(&self, today: Date) -> Vec<ExpiryDecision> {
        let mut passed_on: HashSet<HoldId> = HashSet::new();
        let mut decisions = Vec::new();
        for hold in self.ledger.ready_holds_expired_before(today) {
            let (Some(item_id), Some(pickup_by)) = (hold.trapped_item(), hold.pickup_by) else { continue };
            let next = match self.holdings.item(item_id) {
                Some(item) => self.route_copy(item, &hold.pickup_branch, today, &passed_on, None, &mut Vec::new()),
                None => CheckinOutcome::Shelve,
            };
            passed_on.extend(next.hold_id());
            decisions.push(ExpiryDecision {
                hold_id: hold.hold_id,
                patron_id: hold.patron_id,
                item_id,
                pickup_branch: hold.pickup_branch.clone(),
                pickup_by,
                next,
            });
        }
        decisions
    }
}
