//! Holdings: every copy (item) the library owns, where it is and whether it can be borrowed now.
//!
//! This is the engine's in-memory loan-state view that search joins at query time: a checkout changes
//! one item here and the next search shows it, without touching the search index. For each bibliographic
//! record it keeps two branch bitmasks — branches holding a copy, branches with a copy on the shelf
//! that can be borrowed now — so that the "available now at branch X" filter and the branch and
//! availability facets cost one lookup per matching record, whatever the collection size (how the
//! masks are laid out for that: `bib_masks`).
//!
//! Service points are numbered densely (`BranchIndex`) in the order they are registered; at most
//! [`MAXIMUM_BRANCHES`] fit the bitmasks (the largest tier has 40).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

mod bib_masks;

use bib_masks::BibMasks;

/// The most service points one engine can tell apart (bits in a `u128`).
pub const MAXIMUM_BRANCHES: usize = 128;

/// A bibliographic record's id, as in PostgreSQL's `bib.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BibId(pub u64);

/// An item's id, as in PostgreSQL's `item.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemId(pub u64);

/// A service point's dense number inside the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BranchIndex(pub u8);

impl BranchIndex {
    fn bit(self) -> u128 {
        1u128 << self.0
    }
}

/// What an item is apart from circulation (PostgreSQL's `item.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    InProcess,
    Available,
    Lost,
    Missing,
    Damaged,
    Withdrawn,
}

/// Whether an item may leave the building (PostgreSQL's `item.loan_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoanPolicy {
    Normal,
    InLibraryOnly,
    NotLoanable,
}

/// Where an item is in circulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CirculationState {
    OnShelf,
    /// Lent out; the due date is an ISO date string as the service passes it.
    OnLoan { due_on: String },
    /// Travelling to another branch, to go home or to fill a hold.
    InTransit { to_branch: String, for_hold: bool },
    /// Waiting on a hold shelf for the patron who reserved it.
    OnHoldShelf { pickup_branch: String },
}

/// How a copy looks to a library user, in the vocabulary Japanese OPACs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// 貸出可: on the shelf and can be borrowed.
    Available,
    /// 館内のみ: on the shelf, for use in the library only.
    InLibraryOnly,
    /// 貸出中: lent out.
    OnLoan,
    /// 予約中: set aside for a patron who reserved it (on the hold shelf or on its way there).
    Reserved,
    /// 回送中: travelling between branches.
    InTransit,
    /// 準備中: being processed (new, or being repaired).
    InPreparation,
    /// 所在不明: lost or missing.
    Missing,
    /// 蔵書なし: the branch holds no copy.
    NoHolding,
}

impl Availability {
    pub fn label_ja(self) -> &'static str {
        match self {
            Availability::Available => "貸出可",
            Availability::InLibraryOnly => "館内のみ",
            Availability::OnLoan => "貸出中",
            Availability::Reserved => "予約中",
            Availability::InTransit => "回送中",
            Availability::InPreparation => "準備中",
            Availability::Missing => "所在不明",
            Availability::NoHolding => "蔵書なし",
        }
    }
}

/// One copy, as the service describes it from PostgreSQL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemHolding {
    pub item_id: ItemId,
    pub bib_id: BibId,
    pub barcode: String,
    pub branch: String,
    #[serde(default)]
    pub shelf_location: String,
    #[serde(default)]
    pub call_number: String,
    pub material_type: String,
    pub status: ItemStatus,
    pub loan_policy: LoanPolicy,
    pub circulation: CirculationState,
}

impl ItemHolding {
    pub fn availability(&self) -> Availability {
        match (&self.status, &self.circulation) {
            (ItemStatus::Withdrawn, _) => Availability::NoHolding,
            (ItemStatus::Lost | ItemStatus::Missing, _) => Availability::Missing,
            (_, CirculationState::OnLoan { .. }) => Availability::OnLoan,
            (_, CirculationState::OnHoldShelf { .. }) => Availability::Reserved,
            (_, CirculationState::InTransit { for_hold: true, .. }) => Availability::Reserved,
            (_, CirculationState::InTransit { for_hold: false, .. }) => Availability::InTransit,
            (ItemStatus::InProcess | ItemStatus::Damaged, CirculationState::OnShelf) => Availability::InPreparation,
            (ItemStatus::Available, CirculationState::OnShelf) => match self.loan_policy {
                LoanPolicy::Normal => Availability::Available,
                LoanPolicy::InLibraryOnly | LoanPolicy::NotLoanable => Availability::InLibraryOnly,
            },
        }
    }

    /// On the shelf and loanable: what "available now" means for a borrower.
    pub fn can_be_borrowed_now(&self) -> bool {
        self.availability() == Availability::Available
    }
}

/// One branch's summary of a record's copies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchAvailability {
    pub branch: String,
    /// The best state of the branch's copies (貸出可 before 貸出中 ...).
    pub status: Availability,
    pub label: String,
    pub copies: u32,
    pub available_copies: u32,
    /// The earliest due date of the branch's lent copies, when none is on the shelf.
    pub earliest_due_on: Option<String>,
}

/// Both bitmasks of one record; see the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BibBranchMasks {
    pub holding: u128,
    pub available_now: u128,
}

/// Errors of holdings maintenance.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HoldingsError {
    /// More distinct service points than the bitmasks can hold.
    #[error("more than {MAXIMUM_BRANCHES} service points: {0} cannot be added")]
    TooManyBranches(String),
}

/// The holdings of the whole collection. Not synchronised: the owner wraps it in a lock.
#[derive(Debug, Default)]
pub struct Holdings {
    branch_codes: Vec<String>,
    branch_indexes: HashMap<String, BranchIndex>,
    items: HashMap<ItemId, ItemHolding>,
    /// Barcode labels to copies: counters and self-check machines scan barcodes, not ids.
    items_by_barcode: HashMap<String, ItemId>,
    items_by_bib: HashMap<BibId, Vec<ItemId>>,
    masks_by_bib: BibMasks,
}

impl Holdings {
    pub fn new() -> Holdings {
        Holdings::default()
    }

    /// Registers service points in the given order (their order in facets); already known ones are kept.
    pub fn register_branches<'a>(&mut self, codes: impl IntoIterator<Item = &'a str>) -> Result<(), HoldingsError> {
        for code in codes {
            self.branch_index_or_register(code)?;
        }
        Ok(())
    }

    fn branch_index_or_register(&mut self, code: &str) -> Result<BranchIndex, HoldingsError> {
        if let Some(index) = self.branch_indexes.get(code) {
            return Ok(*index);
        }
        if self.branch_codes.len() >= MAXIMUM_BRANCHES {
            return Err(HoldingsError::TooManyBranches(code.to_string()));
        }
        let index = BranchIndex(self.branch_codes.len() as u8);
        self.branch_codes.push(code.to_string());
        self.branch_indexes.insert(code.to_string(), index);
        Ok(index)
    }

    pub fn branch_index(&self, code: &str) -> Option<BranchIndex> {
        self.branch_indexes.get(code).copied()
    }

    pub fn branch_codes(&self) -> &[String] {
        &self.branch_codes
    }

    pub fn item_count(&self) -> usize {
        self.items.len()
    }

    pub fn item(&self, item_id: ItemId) -> Option<&ItemHolding> {
        self.items.get(&item_id)
    }

    /// The copy whose label carries this barcode.
    pub fn item_by_barcode(&self, barcode: &str) -> Option<&ItemHolding> {
        self.items_by_barcode.get(barcode).and_then(|item_id| self.items.get(item_id))
    }

    /// Inserts or replaces copies; records whose copies changed get their masks recomputed. A copy already
    /// here keeps its circulation state: from then on the circulation engine owns it (set_circulation, as
    /// its ledger changes), and a catalogue edit's row, read before a loan or return that was applied in the
    /// meantime, would put back a state that is no longer true.
    pub fn upsert_items(&mut self, items: impl IntoIterator<Item = ItemHolding>) -> Result<(), HoldingsError> {
        let mut touched_bibs = Vec::new();
        for mut item in items {
            self.branch_index_or_register(&item.branch)?;
            if let Some(previous) = self.items.get(&item.item_id) {
                item.circulation = previous.circulation.clone();
                if previous.barcode != item.barcode && self.items_by_barcode.get(&previous.barcode) == Some(&item.item_id) {
                    self.items_by_barcode.remove(&previous.barcode);
                }
                if previous.bib_id != item.bib_id {
                    let previous_bib = previous.bib_id;
                    if let Some(list) = self.items_by_bib.get_mut(&previous_bib) {
                        list.retain(|id| *id != item.item_id);
                    }
                    touched_bibs.push(previous_bib);
                }
            }
            let list = self.items_by_bib.entry(item.bib_id).or_default();
            if !list.contains(&item.item_id) {
                list.push(item.item_id);
            }
            touched_bibs.push(item.bib_id);
            self.items_by_barcode.insert(item.barcode.clone(), item.item_id);
            self.items.insert(item.item_id, item);
        }
        touched_bibs.sort_unstable();
        touched_bibs.dedup();
        for bib_id in touched_bibs {
            self.recompute_masks(bib_id);
        }
        Ok(())
    }

    pub fn remove_items(&mut self, item_ids: &[ItemId]) {
        let mut touched_bibs = Vec::new();
        for item_id in item_ids {
            if let Some(item) = self.items.remove(item_id) {
                if self.items_by_barcode.get(&item.barcode) == Some(item_id) {
                    self.items_by_barcode.remove(&item.barcode);
                }
                if let Some(list) = self.items_by_bib.get_mut(&item.bib_id) {
                    list.retain(|id| id != item_id);
                }
                touched_bibs.push(item.bib_id);
            }
        }
        for bib_id in touched_bibs {
            self.recompute_masks(bib_id);
        }
    }

    /// The copies whose circulation state is anything but on the shelf.
    pub fn items_off_shelf(&self) -> impl Iterator<Item = ItemId> + '_ {
        self.items.values().filter(|item| item.circulation != CirculationState::OnShelf).map(|item| item.item_id)
    }

    /// Changes one copy's circulation state (checkout, return, transit, hold shelf).
    pub fn set_circulation(&mut self, item_id: ItemId, circulation: CirculationState) -> bool {
        let Some(item) = self.items.get_mut(&item_id) else { return false };
        item.circulation = circulation;
        let bib_id = item.bib_id;
        self.recompute_masks(bib_id);
        true
    }

    fn recompute_masks(&mut self, bib_id: BibId) {
        let mut masks = BibBranchMasks::default();
        for item_id in self.items_by_bib.get(&bib_id).map(Vec::as_slice).unwrap_or_default() {
            let item = &self.items[item_id];
            if item.status == ItemStatus::Withdrawn {
                continue;
            }
            let bit = self.branch_indexes[&item.branch].bit();
            masks.holding |= bit;
            if item.can_be_borrowed_now() {
                masks.available_now |= bit;
            }
        }
        if masks.holding == 0 && self.items_by_bib.get(&bib_id).is_some_and(Vec::is_empty) {
            self.items_by_bib.remove(&bib_id);
        }
        self.masks_by_bib.set(bib_id, masks);
    }

    #[inline]
    pub fn masks(&self, bib_id: BibId) -> BibBranchMasks {
        self.masks_by_bib.get(bib_id)
    }

    /// Branch codes set in a mask, in registration order.
    pub fn branches_in(&self, mask: u128) -> impl Iterator<Item = &str> {
        self.branch_codes.iter().enumerate().filter(move |(index, _)| mask & (1u128 << index) != 0).map(|(_, c)| c.as_str())
    }

    pub fn items_of(&self, bib_id: BibId) -> impl Iterator<Item = &ItemHolding> {
        self.items_by_bib.get(&bib_id).into_iter().flatten().map(|item_id| &self.items[item_id])
    }

    /// Per-branch availability of a record, in branch order; `all_branches` adds 蔵書なし rows.
    pub fn branch_availability(&self, bib_id: BibId, all_branches: bool) -> Vec<BranchAvailability> {
        let mut by_branch: Vec<Option<BranchAvailability>> = vec![None; self.branch_codes.len()];
        for item in self.items_of(bib_id) {
            let status = item.availability();
            if status == Availability::NoHolding {
                continue;
            }
            let index = self.branch_indexes[&item.branch].0 as usize;
            let entry = by_branch[index].get_or_insert_with(|| BranchAvailability {
                branch: item.branch.clone(),
                status,
                label: status.label_ja().to_string(),
                copies: 0,
                available_copies: 0,
                earliest_due_on: None,
            });
            entry.copies += 1;
            if status == Availability::Available {
                entry.available_copies += 1;
            }
            if status < entry.status {
                entry.status = status;
                entry.label = status.label_ja().to_string();
            }
            if let CirculationState::OnLoan { due_on } = &item.circulation {
                if entry.earliest_due_on.as_ref().is_none_or(|earliest| due_on < earliest) {
                    entry.earliest_due_on = Some(due_on.clone());
                }
            }
        }
        by_branch
            .into_iter()
            .enumerate()
            .filter_map(|(index, entry)| match entry {
                Some(mut entry) => {
                    if entry.status == Availability::Available {
                        entry.earliest_due_on = None;
                    }
                    Some(entry)
                }
                None if all_branches => Some(BranchAvailability {
                    branch: self.branch_codes[index].clone(),
                    status: Availability::NoHolding,
                    label: Availability::NoHolding.label_ja().to_string(),
                    copies: 0,
                    available_copies: 0,
                    earliest_due_on: None,
                }),
                None => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::bib_masks::DENSE_ID_LIMIT;
    use super::*;

    fn copy(item: u64, bib: u64, branch: &str) -> ItemHolding {
        ItemHolding {
            item_id: ItemId(item),
            bib_id: BibId(bib),
            barcode: format!("{item:06}"),
            branch: branch.to_string(),
            shelf_location: String::new(),
            call_number: "913.6/ナ".to_string(),
            material_type: "book".to_string(),
            status: ItemStatus::Available,
            loan_policy: LoanPolicy::Normal,
            circulation: CirculationState::OnShelf,
        }
    }

    #[test]
    fn masks_follow_checkout_and_return() {
        let mut holdings = Holdings::new();
        holdings.register_branches(["central", "gyotoku"]).unwrap();
        holdings.upsert_items([copy(1, 10, "central"), copy(2, 10, "gyotoku")]).unwrap();
        assert_eq!(holdings.masks(BibId(10)), BibBranchMasks { holding: 0b11, available_now: 0b11 });
        holdings.set_circulation(ItemId(2), CirculationState::OnLoan { due_on: "2026-12-05".into() });
        assert_eq!(holdings.masks(BibId(10)).available_now, 0b01);
        let rows = holdings.branch_availability(BibId(10), false);
        assert_eq!(rows[1].label, "貸出中");
        assert_eq!(rows[1].earliest_due_on.as_deref(), Some("2026-12-05"));
        holdings.set_circulation(ItemId(2), CirculationState::OnShelf);
        assert_eq!(holdings.masks(BibId(10)).available_now, 0b11);
    }

    #[test]
    fn vocabulary_of_japanese_opacs() {
        let mut reference = copy(1, 1, "central");
        reference.loan_policy = LoanPolicy::InLibraryOnly;
        assert_eq!(reference.availability().label_ja(), "館内のみ");
        assert!(!reference.can_be_borrowed_now());
        let mut new_book = copy(2, 1, "central");
        new_book.status = ItemStatus::InProcess;
        assert_eq!(new_book.availability().label_ja(), "準備中");
        let mut held = copy(3, 1, "central");
        held.circulation = CirculationState::OnHoldShelf { pickup_branch: "central".into() };
        assert_eq!(held.availability().label_ja(), "予約中");
    }

    #[test]
    fn best_state_per_branch_and_no_holding_rows() {
        let mut holdings = Holdings::new();
        holdings.register_branches(["central", "gyotoku", "shintoku"]).unwrap();
        let mut lent = copy(1, 5, "central");
        lent.circulation = CirculationState::OnLoan { due_on: "2026-12-01".into() };
        holdings.upsert_items([lent, copy(2, 5, "central")]).unwrap();
        let rows = holdings.branch_availability(BibId(5), true);
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].status, rows[0].copies, rows[0].available_copies), (Availability::Available, 2, 1));
        assert_eq!(rows[0].earliest_due_on, None);
        assert_eq!(rows[1].status, Availability::NoHolding);
    }

    #[test]
    fn an_edited_copy_keeps_the_circulation_state_it_has_here() {
        let mut holdings = Holdings::new();
        holdings.upsert_items([copy(1, 1, "central")]).unwrap();
        holdings.set_circulation(ItemId(1), CirculationState::OnLoan { due_on: "2026-12-05".into() });
        // An edit read before the loan was applied: its row still says on the shelf.
        let mut edited = copy(1, 1, "central");
        edited.call_number = "913.6/ア".into();
        holdings.upsert_items([edited]).unwrap();
        let item = holdings.item(ItemId(1)).unwrap();
        assert_eq!(item.call_number, "913.6/ア");
        assert_eq!(item.circulation, CirculationState::OnLoan { due_on: "2026-12-05".into() });
        assert_eq!(holdings.masks(BibId(1)).available_now, 0);
    }

    #[test]
    fn moving_a_copy_to_another_record_updates_both() {
        let mut holdings = Holdings::new();
        holdings.upsert_items([copy(1, 1, "central")]).unwrap();
        holdings.upsert_items([copy(1, 2, "central")]).unwrap();
        assert_eq!(holdings.masks(BibId(1)), BibBranchMasks::default());
        assert_eq!(holdings.masks(BibId(2)).holding, 1);
        holdings.remove_items(&[ItemId(1)]);
        assert_eq!(holdings.masks(BibId(2)), BibBranchMasks::default());
    }

    #[test]
    fn barcodes_follow_relabelling_and_removal() {
        let mut holdings = Holdings::new();
        holdings.upsert_items([copy(1, 1, "central")]).unwrap();
        assert_eq!(holdings.item_by_barcode("000001").map(|item| item.item_id), Some(ItemId(1)));
        let mut relabelled = copy(1, 1, "central");
        relabelled.barcode = "X-1".into();
        holdings.upsert_items([relabelled]).unwrap();
        assert!(holdings.item_by_barcode("000001").is_none());
        assert_eq!(holdings.item_by_barcode("X-1").map(|item| item.item_id), Some(ItemId(1)));
        holdings.remove_items(&[ItemId(1)]);
        assert!(holdings.item_by_barcode("X-1").is_none());
    }

    #[test]
    fn ids_beyond_the_dense_range_work_too() {
        let mut holdings = Holdings::new();
        holdings.upsert_items([copy(1, DENSE_ID_LIMIT + 5, "central"), copy(2, 3, "central")]).unwrap();
        assert_eq!(holdings.masks(BibId(DENSE_ID_LIMIT + 5)).holding, 1);
        assert_eq!(holdings.masks(BibId(3)).available_now, 1);
        assert_eq!(holdings.masks(BibId(4)), BibBranchMasks::default());
    }

    #[test]
    fn too_many_branches_is_an_error() {
        let mut holdings = Holdings::new();
        let codes: Vec<String> = (0..MAXIMUM_BRANCHES).map(|n| format!("b{n}")).collect();
        holdings.register_branches(codes.iter().map(String::as_str)).unwrap();
        assert_eq!(holdings.register_branches(["one-more"]), Err(HoldingsError::TooManyBranches("one-more".into())));
    }
}
