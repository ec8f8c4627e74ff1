//! Why a circulation request is refused (`Refusal`), and how the engine itself fails (`CirculationError`).
//!
//! A refusal is an ordinary answer, not a failure: the counter, the OPAC and the SIP2 terminals show it
//! to a person. Every refusal therefore has a stable `code()` the service and its clients branch on,
//! and a sentence in Japanese and English naming what blocks the request and, where there is one, what
//! to do about it. Over JSON a refusal is its code, its data fields and both messages
//! ([`RefusalReport`]).

use serde::Serialize;

use super::date::Date;
use super::state::{HoldId, HoldStatus, PatronId};
use crate::holdings::{ItemId, ItemStatus};

/// A request the rules do not allow, with the facts a message needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    /// No patron has this id or card.
    UnknownPatron { patron_id: Option<PatronId>, card: Option<String> },
    /// The card was reported lost; a replacement card is needed.
    CardLost { card: String },
    /// The patron is suspended from borrowing (貸出停止).
    PatronSuspended { patron_id: PatronId },
    /// The record was merged into another patron; the other record's card is the one to use.
    PatronMerged { patron_id: PatronId },
    /// The card expired before today; it must be renewed at the counter.
    CardExpired { expires_on: Date },
    /// The patron has loans past their due date (Japanese libraries block instead of fining).
    OverdueBlock { count: u32 },
    /// No copy has this id or barcode.
    UnknownItem { item_id: Option<ItemId>, barcode: Option<String> },
    /// The copy is lost, missing or withdrawn.
    ItemUnavailable { item_id: ItemId, status: ItemStatus },
    /// The copy is being processed (new) or repaired (damaged).
    ItemNotReady { item_id: ItemId, status: ItemStatus },
    /// The copy is for use in the library only (reference, local collection).
    InLibraryOnly { item_id: ItemId },
    /// The copy or the rule for it does not allow loans (a rule with 0 loan days).
    NotLoanable { item_id: ItemId },
    /// The copy is already lent to this patron.
    AlreadyOnLoanToPatron { item_id: ItemId, due_on: Date },
    /// The copy is lent to another patron: it has to be checked in first.
    AlreadyOnLoan { item_id: ItemId, due_on: Date },
    /// The copy is set aside (on the hold shelf or on its way there) for another patron's hold.
    OnHoldForAnother { item_id: ItemId, hold_id: HoldId },
    /// Other patrons' waiting holds need this copy: they outnumber the other copies on the shelf.
    ReservedForOthers { item_id: ItemId, waiting: u32 },
    /// The rules matrix has no row for this branch, patron category and material type.
    NoRule { branch: String, patron_category: String, material_type: Option<String> },
    /// The patron has as many loans as the rule allows.
    LimitReached { limit: u32 },
    /// The patron has as many loans of this material type as the rule allows.
    TypeLimitReached { material_type: String, limit: u32 },
    /// The branch calendar has no open day within the search window (a branch closed all year).
    NoOpenDay { branch: String, from: Date },
    /// The copy is not on loan, so there is nothing to renew.
    NotOnLoan { item_id: ItemId },
    /// The copy is on loan to someone other than the patron asking.
    NotYourLoan { item_id: ItemId },
    /// The loan is already overdue: the copy has to be returned, not renewed.
    Overdue { item_id: ItemId, due_on: Date },
    /// The loan has been renewed as often as the rule allows.
    RenewalLimit { item_id: ItemId, max: u32 },
    /// Other patrons wait for this title (or this very copy), so it cannot be kept longer.
    RenewalBlockedByHold { item_id: ItemId, waiting: u32 },
    /// The branch does not hand out holds (or is not a known service point).
    NotPickupPoint { branch: String },
    /// The rule for this pickup branch, patron category and material type does not allow holds.
    HoldsNotAllowed { material_type: String },
    /// The patron has as many open holds as the rule allows.
    HoldLimitReached { max: u32 },
    /// The patron already has an open hold on this title.
    HoldExists { hold_id: HoldId },
    /// The patron already has a copy of this title on loan.
    AlreadyBorrowed { item_id: ItemId, due_on: Date },
    /// The title has no copy that could ever be lent (all lost, withdrawn or for use in the library).
    NoCopies { bib_id: crate::holdings::BibId },
    /// An item-level hold names a copy of another title.
    ItemNotInRecord { item_id: ItemId, bib_id: crate::holdings::BibId },
    /// No open hold has this id.
    UnknownHold { hold_id: HoldId },
    /// The hold belongs to another patron.
    NotYourHold { hold_id: HoldId },
    /// A copy is already set aside for the hold, so its pickup branch can no longer change.
    HoldNotWaiting { hold_id: HoldId, status: HoldStatus },
}

fn item_status_ja(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::InProcess => "受入処理中",
        ItemStatus::Available => "利用可",
        ItemStatus::Lost => "紛失",
        ItemStatus::Missing => "所在不明",
        ItemStatus::Damaged => "破損・修理中",
        ItemStatus::Withdrawn => "除籍",
    }
}

fn item_status_en(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::InProcess => "being processed",
        ItemStatus::Available => "available",
        ItemStatus::Lost => "lost",
        ItemStatus::Missing => "missing",
        ItemStatus::Damaged => "damaged",
        ItemStatus::Withdrawn => "withdrawn",
    }
}

fn patron_reference(patron_id: &Option<PatronId>, card: &Option<String>) -> String {
    match (card, patron_id) {
        (Some(card), _) => card.clone(),
        (None, Some(patron_id)) => format!("#{}", patron_id.0),
        (None, None) => String::new(),
    }
}

fn item_reference(item_id: &Option<ItemId>, barcode: &Option<String>) -> String {
    match (barcode, item_id) {
        (Some(barcode), _) => barcode.clone(),
        (None, Some(item_id)) => format!("#{}", item_id.0),
        (None, None) => String::new(),
    }
}

fn rule_triple(branch: &str, patron_category: &str, material_type: &Option<String>) -> (String, String, String) {
    (branch.to_string(), patron_category.to_string(), material_type.clone().unwrap_or_else(|| "*".to_string()))
}

impl Refusal {
    /// The stable snake_case code clients branch on (the JSON `code` field).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::UnknownPatron { .. } => "unknown_patron",
            Refusal::CardLost { .. } => "card_lost",
            Refusal::PatronSuspended { .. } => "patron_suspended",
            Refusal::PatronMerged { .. } => "patron_merged",
            Refusal::CardExpired { .. } => "card_expired",
            Refusal::OverdueBlock { .. } => "overdue_block",
            Refusal::UnknownItem { .. } => "unknown_item",
            Refusal::ItemUnavailable { .. } => "item_unavailable",
            Refusal::ItemNotReady { .. } => "item_not_ready",
            Refusal::InLibraryOnly { .. } => "in_library_only",
            Refusal::NotLoanable { .. } => "not_loanable",
            Refusal::AlreadyOnLoanToPatron { .. } => "already_on_loan_to_patron",
            Refusal::AlreadyOnLoan { .. } => "already_on_loan",
            Refusal::OnHoldForAnother { .. } => "on_hold_for_another",
            Refusal::ReservedForOthers { .. } => "reserved_for_others",
            Refusal::NoRule { .. } => "no_rule",
            Refusal::LimitReached { .. } => "limit_reached",
            Refusal::TypeLimitReached { .. } => "type_limit_reached",
            Refusal::NoOpenDay { .. } => "no_open_day",
            Refusal::NotOnLoan { .. } => "not_on_loan",
            Refusal::NotYourLoan { .. } => "not_your_loan",
            Refusal::Overdue { .. } => "overdue",
            Refusal::RenewalLimit { .. } => "renewal_limit",
            Refusal::RenewalBlockedByHold { .. } => "renewal_blocked_by_hold",
            Refusal::NotPickupPoint { .. } => "not_pickup_point",
            Refusal::HoldsNotAllowed { .. } => "holds_not_allowed",
            Refusal::HoldLimitReached { .. } => "hold_limit_reached",
            Refusal::HoldExists { .. } => "hold_exists",
            Refusal::AlreadyBorrowed { .. } => "already_borrowed",
            Refusal::NoCopies { .. } => "no_copies",
            Refusal::ItemNotInRecord { .. } => "item_not_in_record",
            Refusal::UnknownHold { .. } => "unknown_hold",
            Refusal::NotYourHold { .. } => "not_your_hold",
            Refusal::HoldNotWaiting { .. } => "hold_not_waiting",
        }
    }

    /// The sentence for the counter, the OPAC and SIP2 screens.
    pub fn message_ja(&self) -> String {
        match self {
            Refusal::UnknownPatron { patron_id, card } => {
                format!("利用者が見つかりません（{}）。", patron_reference(patron_id, card))
            }
            Refusal::CardLost { .. } => "この利用カードは紛失の届出が出ています。カードの再発行が必要です。".into(),
            Refusal::PatronSuspended { .. } => "この利用者は貸出停止中です。".into(),
            Refusal::PatronMerged { .. } => "この利用者情報は統合済みです。統合先の利用カードをお使いください。".into(),
            Refusal::CardExpired { expires_on } => {
                format!("利用カードの有効期限が切れています（{expires_on}）。カウンターで更新してください。")
            }
            Refusal::OverdueBlock { count } => {
                format!("返却期限を過ぎた資料が{count}点あります。返却されるまで貸出・予約・延長はできません。")
            }
            Refusal::UnknownItem { item_id, barcode } => {
                format!("資料が見つかりません（{}）。", item_reference(item_id, barcode))
            }
            Refusal::ItemUnavailable { status, .. } => {
                format!("この資料は「{}」のため貸出できません。", item_status_ja(*status))
            }
            Refusal::ItemNotReady { status, .. } => {
                format!("この資料は準備中（{}）のため貸出できません。", item_status_ja(*status))
            }
            Refusal::InLibraryOnly { .. } => "この資料は館内閲覧のみです。".into(),
            Refusal::NotLoanable { .. } => "この資料は貸出できません。".into(),
            Refusal::AlreadyOnLoanToPatron { due_on, .. } => {
                format!("この資料はすでにこの利用者に貸出中です（返却期限 {due_on}）。")
            }
            Refusal::AlreadyOnLoan { due_on, .. } => {
                format!("この資料は他の利用者に貸出中です（返却期限 {due_on}）。返却処理をしてから貸出してください。")
            }
            Refusal::OnHoldForAnother { .. } => "この資料は他の利用者の予約の取置中です。".into(),
            Refusal::ReservedForOthers { waiting, .. } => {
                format!("この資料には他の利用者の予約が{waiting}件あります。")
            }
            Refusal::NoRule { branch, patron_category, material_type } => {
                let (branch, category, material) = rule_triple(branch, patron_category, material_type);
                format!("貸出規則が設定されていません（館: {branch}、利用者区分: {category}、資料種別: {material}）。")
            }
            Refusal::LimitReached { limit } => format!("貸出上限（{limit}点）に達しています。"),
            Refusal::TypeLimitReached { material_type, limit } => {
                format!("この資料種別（{material_type}）の貸出上限（{limit}点）に達しています。")
            }
            Refusal::NoOpenDay { branch, from } => {
                format!("{branch}の開館日が{from}以降に見つかりません。開館カレンダーを確認してください。")
            }
            Refusal::NotOnLoan { .. } => "この資料は貸出中ではありません。".into(),
            Refusal::NotYourLoan { .. } => "この資料はこの利用者に貸し出されたものではありません。".into(),
            Refusal::Overdue { due_on, .. } => {
                format!("返却期限（{due_on}）を過ぎているため延長できません。資料を返却してください。")
            }
            Refusal::RenewalLimit { max, .. } => format!("延長回数の上限（{max}回）に達しています。"),
            Refusal::RenewalBlockedByHold { waiting, .. } => {
                format!("この資料には予約が{waiting}件入っているため延長できません。")
            }
            Refusal::NotPickupPoint { branch } => format!("{branch}では予約資料を受け取れません。"),
            Refusal::HoldsNotAllowed { .. } => "この資料は予約できません。".into(),
            Refusal::HoldLimitReached { max } => format!("予約上限（{max}件）に達しています。"),
            Refusal::HoldExists { .. } => "この資料はすでに予約されています。".into(),
            Refusal::AlreadyBorrowed { due_on, .. } => {
                format!("この資料はすでに借りています（返却期限 {due_on}）。")
            }
            Refusal::NoCopies { .. } => "貸出できる所蔵がないため予約できません。".into(),
            Refusal::ItemNotInRecord { item_id, .. } => {
                format!("指定された資料（#{}）はこの書誌の所蔵ではありません。", item_id.0)
            }
            Refusal::UnknownHold { hold_id } => format!("予約が見つかりません（予約番号 {}）。", hold_id.0),
            Refusal::NotYourHold { .. } => "この予約は別の利用者のものです。".into(),
            Refusal::HoldNotWaiting { .. } => "この予約はすでに資料を確保済みのため、受取館を変更できません。".into(),
        }
    }

    /// The same sentence in English (OPAC in English, logs, staff who do not read Japanese).
    pub fn message_en(&self) -> String {
        match self {
            Refusal::UnknownPatron { patron_id, card } => {
                format!("No patron found ({}).", patron_reference(patron_id, card))
            }
            Refusal::CardLost { card } => format!("Card {card} has been reported lost; a new card is needed."),
            Refusal::PatronSuspended { .. } => "This patron is suspended from borrowing.".into(),
            Refusal::PatronMerged { .. } => "This patron record was merged; use the card of the merged record.".into(),
            Refusal::CardExpired { expires_on } => {
                format!("The card expired on {expires_on}; it can be renewed at the counter.")
            }
            Refusal::OverdueBlock { count } => {
                format!("{count} item(s) are overdue; no loans, renewals or holds until they are returned.")
            }
            Refusal::UnknownItem { item_id, barcode } => {
                format!("No item found ({}).", item_reference(item_id, barcode))
            }
            Refusal::ItemUnavailable { status, .. } => {
                format!("This item is {} and cannot be lent.", item_status_en(*status))
            }
            Refusal::ItemNotReady { status, .. } => {
                format!("This item is not ready for loan ({}).", item_status_en(*status))
            }
            Refusal::InLibraryOnly { .. } => "This item is for use in the library only.".into(),
            Refusal::NotLoanable { .. } => "This item cannot be lent.".into(),
            Refusal::AlreadyOnLoanToPatron { due_on, .. } => {
                format!("This item is already on loan to this patron (due {due_on}).")
            }
            Refusal::AlreadyOnLoan { due_on, .. } => {
                format!("This item is on loan to another patron (due {due_on}); check it in first.")
            }
            Refusal::OnHoldForAnother { .. } => "This item is set aside for another patron's hold.".into(),
            Refusal::ReservedForOthers { waiting, .. } => {
                format!("{waiting} other patron(s) are waiting for this title.")
            }
            Refusal::NoRule { branch, patron_category, material_type } => {
                let (branch, category, material) = rule_triple(branch, patron_category, material_type);
                format!(
                    "No circulation rule for branch {branch}, patron category {category}, material type {material}."
                )
            }
            Refusal::LimitReached { limit } => format!("The loan limit ({limit} items) has been reached."),
            Refusal::TypeLimitReached { material_type, limit } => {
                format!("The loan limit for {material_type} ({limit} items) has been reached.")
            }
            Refusal::NoOpenDay { branch, from } => {
                format!("Branch {branch} has no open day from {from} on; check its calendar.")
            }
            Refusal::NotOnLoan { .. } => "This item is not on loan.".into(),
            Refusal::NotYourLoan { .. } => "This item is not on loan to this patron.".into(),
            Refusal::Overdue { due_on, .. } => {
                format!("This loan was due on {due_on} and cannot be renewed; please return the item.")
            }
            Refusal::RenewalLimit { max, .. } => {
                format!("This loan has been renewed the maximum number of times ({max}).")
            }
            Refusal::RenewalBlockedByHold { waiting, .. } => {
                format!("This item cannot be renewed: {waiting} hold(s) are waiting for it.")
            }
            Refusal::NotPickupPoint { branch } => format!("Holds cannot be collected at {branch}."),
            Refusal::HoldsNotAllowed { .. } => "This item cannot be reserved.".into(),
            Refusal::HoldLimitReached { max } => format!("The hold limit ({max}) has been reached."),
            Refusal::HoldExists { .. } => "This title is already reserved by this patron.".into(),
            Refusal::AlreadyBorrowed { due_on, .. } => {
                format!("This patron already has a copy of this title on loan (due {due_on}).")
            }
            Refusal::NoCopies { .. } => "This title has no copy that can be lent, so it cannot be reserved.".into(),
            Refusal::ItemNotInRecord { item_id, .. } => format!("Item #{} is not a copy of this title.", item_id.0),
            Refusal::UnknownHold { hold_id } => format!("No open hold #{}.", hold_id.0),
            Refusal::NotYourHold { .. } => "This hold belongs to another patron.".into(),
            Refusal::HoldNotWaiting { .. } => {
                "A copy is already set aside for this hold; its pickup branch can no longer change.".into()
            }
        }
    }

    /// The refusal with both messages, as it crosses JSON.
    pub fn report(&self) -> RefusalReport {
        RefusalReport { message_ja: self.message_ja(), message_en: self.message_en(), refusal: self.clone() }
    }
}

/// A refusal as clients see it: `{"code": ..., <data fields>, "message_ja": ..., "message_en": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusalReport {
    #[serde(flatten)]
    pub refusal: Refusal,
    pub message_ja: String,
    pub message_en: String,
}

/// A decision or the refusal, as the service receives it over JSON:
/// `{"ok": true, "decision": {...}}` or `{"ok": false, "refusal": {"code", ..., "message_ja", "message_en"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    /// The rules allow the request: here is what to commit.
    Decided(T),
    /// The rules refuse it: here is why, in words for the counter.
    Refused(RefusalReport),
}

impl<T> From<Result<T, Refusal>> for Answer<T> {
    fn from(result: Result<T, Refusal>) -> Answer<T> {
        match result {
            Ok(decision) => Answer::Decided(decision),
            Err(refusal) => Answer::Refused(refusal.report()),
        }
    }
}

impl<T: Serialize> Serialize for Answer<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut envelope = serializer.serialize_struct("Answer", 2)?;
        match self {
            Answer::Decided(decision) => {
                envelope.serialize_field("ok", &true)?;
                envelope.serialize_field("decision", decision)?;
            }
            Answer::Refused(refusal) => {
                envelope.serialize_field("ok", &false)?;
                envelope.serialize_field("refusal", refusal)?;
            }
        }
        envelope.end()
    }
}

/// Failures of the engine itself: configuration or events it cannot take. These are bugs or bad data on
/// the service side, not answers for a patron.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CirculationError {
    /// A calendar entry that cannot be a day (weekday 8, 2/30) or a branch defined twice.
    #[error("calendar of branch {branch:?}: {reason}")]
    InvalidCalendar { branch: String, reason: String },
    /// Two rows for the same branch / category / material triple, or a value out of range.
    #[error("circulation rules: {reason}")]
    InvalidRules { reason: String },
    /// An event whose fields contradict each other (a ready hold without a pickup deadline).
    #[error("event seq {seq}: {reason}")]
    InvalidEvent { seq: u64, reason: String },
    /// The branch has no open day in the search window: its calendar closes it all year.
    #[error("branch {branch:?} has no open day within {window_days} days from {from}")]
    NoOpenDay { branch: String, from: Date, window_days: i32 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_serialised_tags() {
        let refusals = [
            Refusal::CardExpired { expires_on: Date::parse("2026-03-31").unwrap() },
            Refusal::LimitReached { limit: 10 },
            Refusal::OnHoldForAnother { item_id: ItemId(3), hold_id: HoldId(9) },
            Refusal::NoRule { branch: "central".into(), patron_category: "adult".into(), material_type: None },
        ];
        for refusal in refusals {
            let json = serde_json::to_value(refusal.report()).unwrap();
            assert_eq!(json["code"], refusal.code());
            assert!(json["message_ja"].as_str().unwrap().ends_with('。'));
            assert!(json["message_en"].as_str().unwrap().ends_with('.'));
        }
    }

    #[test]
    fn answers_are_enveloped() {
        let decided: Answer<u32> = Ok(7).into();
        assert_eq!(serde_json::to_value(decided).unwrap(), serde_json::json!({"ok": true, "decision": 7}));
        let refused: Answer<u32> = Err(Refusal::LimitReached { limit: 10 }).into();
        let json = serde_json::to_value(refused).unwrap();
        assert_eq!((json["ok"].clone(), json["refusal"]["code"].clone()), (false.into(), "limit_reached".into()));
        assert_eq!(json["refusal"]["limit"], 10);
        assert_eq!(json["refusal"]["message_ja"], "貸出上限（10点）に達しています。");
    }

    #[test]
    fn japanese_counter_sentences() {
        let expired = Refusal::CardExpired { expires_on: Date::parse("2026-03-31").unwrap() };
        assert!(expired.message_ja().starts_with("利用カードの有効期限が切れています（2026-03-31）。"));
        assert_eq!(Refusal::LimitReached { limit: 10 }.message_ja(), "貸出上限（10点）に達しています。");
        assert_eq!(
            Refusal::OnHoldForAnother { item_id: ItemId(1), hold_id: HoldId(2) }.message_ja(),
            "この資料は他の利用者の予約の取置中です。"
        );
        let json = serde_json::to_value(expired.report()).unwrap();
        assert_eq!(json["expires_on"], "2026-03-31");
    }
}
