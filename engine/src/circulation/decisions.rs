//! What every decision shares: the read-only view it decides on (`Desk`), how requests name patrons
//! and copies, the patron blocks, due-date arithmetic and the warnings a decision may carry.
//!
//! Decisions are pure functions of the ledger, the rules, the calendars, the holdings, `today` and the
//! request. They never change state: the service commits the outcome to PostgreSQL and then applies
//! the resulting outbox events, so a decision that loses a race (two desks, one copy) is caught by the
//! database's constraints, not by the engine.

use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::checkin::CheckinOutcome;
use super::date::Date;
use super::error::Refusal;
use super::rules::RulesMatrix;
use super::state::{Hold, Ledger, Patron, PatronId, PatronStatus};
use crate::holdings::{CirculationState, Holdings, ItemHolding, ItemId, ItemStatus, LoanPolicy};

/// A card that expires within this many days earns a warning at checkout.
pub const CARD_EXPIRY_WARNING_DAYS: i64 = 30;

/// How a request names a patron: by id (OPAC, service) or by the card scanned at the counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatronRef {
    /// `{"patron_id": 12}`
    Id(PatronId),
    /// `{"card": "A0012345"}`: the patron's current card (a replaced card is unknown here).
    Card(String),
}

impl PatronRef {
    /// From the two optional JSON fields `patron_id` and `card`: exactly one must be given.
    pub(crate) fn from_fields(patron_id: Option<PatronId>, card: Option<String>) -> Result<PatronRef, String> {
        match (patron_id, card) {
            (Some(patron_id), None) => Ok(PatronRef::Id(patron_id)),
            (None, Some(card)) => Ok(PatronRef::Card(card)),
            (None, None) => Err("give the patron as patron_id or card".to_string()),
            (Some(_), Some(_)) => Err("give the patron as patron_id or card, not both".to_string()),
        }
    }
}

/// How a request names a copy: by id or by the barcode scanned. As JSON: `{"item_id": 1}` or
/// `{"barcode": "0012345"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "ItemRefFields")]
pub enum ItemRef {
    /// `{"item_id": 1}`
    Id(ItemId),
    /// `{"barcode": "0012345"}`: surrounding spaces from a scanner are ignored.
    Barcode(String),
}

#[derive(Deserialize)]
struct ItemRefFields {
    #[serde(default)]
    item_id: Option<ItemId>,
    #[serde(default)]
    barcode: Option<String>,
}

impl TryFrom<ItemRefFields> for ItemRef {
    type Error = String;

    fn try_from(fields: ItemRefFields) -> Result<ItemRef, String> {
        ItemRef::from_fields(fields.item_id, fields.barcode)
    }
}

impl ItemRef {
    /// From the two optional JSON fields `item_id` and `barcode`: exactly one must be given.
    pub(crate) fn from_fields(item_id: Option<ItemId>, barcode: Option<String>) -> Result<ItemRef, String> {
        match (item_id, barcode) {
            (Some(item_id), None) => Ok(ItemRef::Id(item_id)),
            (None, Some(barcode)) => Ok(ItemRef::Barcode(barcode)),
            (None, None) => Err("give the item as item_id or barcode".to_string()),
            (Some(_), Some(_)) => Err("give the item as item_id or barcode, not both".to_string()),
        }
    }
}

/// Something staff should know about a decision that goes ahead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Warning {
    /// The card expires soon; the patron may renew it now.
    CardExpiresSoon { expires_on: Date },
    /// The due date fell on a closed day and moved to the next open day.
    DueDateMovedForClosure { nominal_due_on: Date, due_on: Date },
    /// Copies wait on the hold shelf for this patron.
    HoldsReadyForPickup { count: u32 },
    /// Staff lent a copy that other patrons' holds were waiting for.
    ReservationOverridden { waiting: u32 },
    /// No rule gave the hold-shelf period for this hold, so the engine's default was used.
    HoldPickupDaysDefaulted { days: u16 },
    /// The patron took another copy of a title whose copy waited for them on the hold shelf: that copy
    /// goes to `next`, and staff take it from the hold shelf.
    SetAsideCopyReleased { barcode: String, next: CheckinOutcome },
}

impl Warning {
    pub fn message_ja(&self) -> String {
        match self {
            Warning::CardExpiresSoon { expires_on } => {
                format!("利用カードの有効期限が近づいています（{expires_on}）。")
            }
            Warning::DueDateMovedForClosure { due_on, .. } => {
                format!("返却期限日が休館日のため、{due_on}（開館日）になりました。")
            }
            Warning::HoldsReadyForPickup { count } => format!("取置中の予約資料が{count}点あります。"),
            Warning::ReservationOverridden { waiting } => {
                format!("他の利用者の予約（{waiting}件）がある資料を職員判断で貸し出しました。")
            }
            Warning::HoldPickupDaysDefaulted { days } => {
                format!("予約の取置期間の規則がないため、{days}日としました。")
            }
            Warning::SetAsideCopyReleased { barcode, next } => {
                let step = match next {
                    CheckinOutcome::Shelve => "書架に戻してください".to_string(),
                    CheckinOutcome::TransitHome { to_branch } => format!("所蔵館（{to_branch}）へ回送してください"),
                    CheckinOutcome::HoldReady { .. } => "次の予約者の取置にしました。予約票を替えてください".to_string(),
                    CheckinOutcome::HoldTransit { to_branch, .. } => {
                        format!("次の予約者の受取館（{to_branch}）へ回送してください")
                    }
                };
                format!("この貸出で予約が満たされたため、予約棚の資料（{barcode}）は{step}。")
            }
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Warning::CardExpiresSoon { expires_on } => format!("The card expires on {expires_on}."),
            Warning::DueDateMovedForClosure { due_on, .. } => {
                format!("The due date fell on a closed day and moved to {due_on}.")
            }
            Warning::HoldsReadyForPickup { count } => format!("{count} hold(s) are waiting on the hold shelf."),
            Warning::ReservationOverridden { waiting } => {
                format!("Lent by staff override although {waiting} hold(s) were waiting.")
            }
            Warning::HoldPickupDaysDefaulted { days } => {
                format!("No rule gives the hold-shelf period; {days} days were used.")
            }
            Warning::SetAsideCopyReleased { barcode, next } => {
                let step = match next {
                    CheckinOutcome::Shelve => "return it to the shelf".to_string(),
                    CheckinOutcome::TransitHome { to_branch } => format!("send it home to {to_branch}"),
                    CheckinOutcome::HoldReady { .. } => "it is held for the next patron: replace its slip".to_string(),
                    CheckinOutcome::HoldTransit { to_branch, .. } => {
                        format!("send it to {to_branch} for the next patron")
                    }
                };
                format!("This loan fulfilled the hold: take copy {barcode} from the hold shelf; {step}.")
            }
        }
    }
}

/// A warning as clients see it: `{"code": ..., <data fields>, "message_ja": ..., "message_en": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarningReport {
    #[serde(flatten)]
    pub warning: Warning,
    pub message_ja: String,
    pub message_en: String,
}

impl From<Warning> for WarningReport {
    fn from(warning: Warning) -> WarningReport {
        WarningReport { message_ja: warning.message_ja(), message_en: warning.message_en(), warning }
    }
}

/// A date and whether closed days moved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenDay {
    pub nominal: Date,
    pub open: Date,
}

/// Everything a decision reads, borrowed for the length of one decision (both locks held for reading).
pub(crate) struct Desk<'a> {
    pub ledger: &'a Ledger,
    pub rules: &'a RulesMatrix,
    pub calendar: &'a Calendar,
    pub holdings: &'a Holdings,
}

impl<'a> Desk<'a> {
    pub fn find_patron(&self, patron: &PatronRef) -> Result<&'a Patron, Refusal> {
        let found = match patron {
            PatronRef::Id(patron_id) => self.ledger.patron(*patron_id),
            PatronRef::Card(card) => self.ledger.patron_by_card(card),
        };
        found.ok_or_else(|| match patron {
            PatronRef::Id(patron_id) => Refusal::UnknownPatron { patron_id: Some(*patron_id), card: None },
            PatronRef::Card(card) => Refusal::UnknownPatron { patron_id: None, card: Some(card.clone()) },
        })
    }

    pub fn find_item(&self, item: &ItemRef) -> Result<&'a ItemHolding, Refusal> {
        let found = match item {
            ItemRef::Id(item_id) => self.holdings.item(*item_id),
            ItemRef::Barcode(barcode) => self.holdings.item_by_barcode(barcode.trim()),
        };
        found.ok_or_else(|| match item {
            ItemRef::Id(item_id) => Refusal::UnknownItem { item_id: Some(*item_id), barcode: None },
            ItemRef::Barcode(barcode) => Refusal::UnknownItem { item_id: None, barcode: Some(barcode.clone()) },
        })
    }

    /// The block the patron's record status sets (lost card, suspension, merged record).
    pub fn status_block(patron: &Patron) -> Option<Refusal> {
        match patron.status {
            PatronStatus::Active => None,
            PatronStatus::CardLost => Some(Refusal::CardLost { card: patron.card.clone() }),
            PatronStatus::Suspended => Some(Refusal::PatronSuspended { patron_id: patron.patron_id }),
            PatronStatus::Merged => Some(Refusal::PatronMerged { patron_id: patron.patron_id }),
        }
    }

    pub fn expiry_block(patron: &Patron, today: Date) -> Option<Refusal> {
        (patron.expires_on < today).then_some(Refusal::CardExpired { expires_on: patron.expires_on })
    }

    pub fn overdue_block(&self, patron: &Patron, today: Date) -> Option<Refusal> {
        let count = self.ledger.overdue_count(patron.patron_id, today);
        (count > 0).then_some(Refusal::OverdueBlock { count })
    }

    /// Every block on the patron now, in the order checkout tests them: status, expiry, overdue loans.
    pub fn patron_blocks(&self, patron: &Patron, today: Date) -> Vec<Refusal> {
        [Desk::status_block(patron), Desk::expiry_block(patron, today), self.overdue_block(patron, today)]
            .into_iter()
            .flatten()
            .collect()
    }

    /// Why the copy itself cannot be lent (status, then loan policy), if it cannot.
    pub fn item_block(item: &ItemHolding) -> Option<Refusal> {
        let item_id = item.item_id;
        match item.status {
            ItemStatus::Lost | ItemStatus::Missing | ItemStatus::Withdrawn => {
                return Some(Refusal::ItemUnavailable { item_id, status: item.status })
            }
            ItemStatus::InProcess | ItemStatus::Damaged => {
                return Some(Refusal::ItemNotReady { item_id, status: item.status })
            }
            ItemStatus::Available => {}
        }
        match item.loan_policy {
            LoanPolicy::Normal => None,
            LoanPolicy::InLibraryOnly => Some(Refusal::InLibraryOnly { item_id }),
            LoanPolicy::NotLoanable => Some(Refusal::NotLoanable { item_id }),
        }
    }

    /// A copy that could ever fill a hold: lendable by policy and not gone (new and damaged copies
    /// count: they will be ready).
    pub fn could_fill_holds(item: &ItemHolding) -> bool {
        item.loan_policy == LoanPolicy::Normal
            && matches!(item.status, ItemStatus::Available | ItemStatus::InProcess | ItemStatus::Damaged)
    }

    /// A copy standing on its home shelf, lendable now, not lent, set aside or travelling.
    pub fn is_free_on_shelf(&self, item: &ItemHolding) -> bool {
        item.status == ItemStatus::Available
            && item.loan_policy == LoanPolicy::Normal
            && matches!(item.circulation, CirculationState::OnShelf)
            && self.ledger.loan_of_item(item.item_id).is_none()
            && self.ledger.hold_trapping(item.item_id).is_none()
            && self.ledger.transit_of(item.item_id).is_none()
    }

    /// Whether the hold's patron may be served now: lost cards, suspended and merged patrons are
    /// skipped in the queue (an expired card is renewed at pickup, so it does not skip). A patron the
    /// ledger does not know yet (events still on their way) is served.
    pub fn hold_patron_can_be_served(&self, hold: &Hold) -> bool {
        self.ledger.patron(hold.patron_id).is_none_or(|patron| patron.status == PatronStatus::Active)
    }

    /// The branch's first open day on or after `from + days`, or the refusal naming the branch.
    pub fn open_day_after(&self, branch: &str, from: Date, days: u16) -> Result<OpenDay, Refusal> {
        let nominal = from.add_days(i32::from(days));
        let open = self
            .calendar
            .next_open_day_on_or_after(branch, nominal)
            .map_err(|_| Refusal::NoOpenDay { branch: branch.to_string(), from: nominal })?;
        Ok(OpenDay { nominal, open })
    }
}
