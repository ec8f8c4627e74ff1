//! `shoka check`: compares the engine's ledger with what PostgreSQL says, naming every difference.
//!
//! A replica that missed or misapplied an event answers counter questions wrongly without failing, so
//! operators need a way to see drift. The service reads the open loans, holds and transits (and, if
//! it wishes, the patrons) in one snapshot; the engine compares record by record, field by field, and
//! also checks that the holdings search uses agree with the ledger for every copy either side mentions
//! and every copy the holdings show off the shelf.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::decisions::Desk;
use super::state::{Hold, Ledger, Loan, Patron, Transit};
use crate::holdings::ItemId;

/// What PostgreSQL holds, as the service read it in one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencySnapshot {
    /// Compared only when given (600k rows at tier L are worth skipping on a quick check).
    #[serde(default)]
    pub patrons: Option<Vec<Patron>>,
    #[serde(default)]
    pub loans: Vec<Loan>,
    #[serde(default)]
    pub holds: Vec<Hold>,
    #[serde(default)]
    pub transits: Vec<Transit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A patron record (compared only when the snapshot carries patrons).
    Patron,
    /// An open loan, by loan id.
    Loan,
    /// An open hold, by hold id.
    Hold,
    /// An open transit, by item id.
    Transit,
    /// A copy's circulation state in the holdings (what search shows).
    ItemState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// PostgreSQL has it, the engine does not.
    MissingInEngine,
    /// The engine has it, PostgreSQL does not.
    UnexpectedInEngine,
    /// Both have it with different fields.
    Differs,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDifference {
    pub field: String,
    pub engine: serde_json::Value,
    pub database: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub entity: Entity,
    /// The patron, loan or hold id; the item id for transits and item states.
    pub id: u64,
    pub kind: DifferenceKind,
    pub fields: Vec<FieldDifference>,
}

fn compare<T: Serialize>(
    entity: Entity,
    id: u64,
    engine: Option<&T>,
    database: Option<&T>,
    into: &mut Vec<Difference>,
) {
    let to_object = |record: &T| match serde_json::to_value(record) {
        Ok(serde_json::Value::Object(fields)) => fields,
        _ => serde_json::Map::new(),
    };
    let difference = |kind, fields| Difference { entity, id, kind, fields };
    match (engine, database) {
        (None, None) => {}
        (None, Some(_)) => into.push(difference(DifferenceKind::MissingInEngine, Vec::new())),
        (Some(_), None) => into.push(difference(DifferenceKind::UnexpectedInEngine, Vec::new())),
        (Some(engine), Some(database)) => {
            let (engine, database) = (to_object(engine), to_object(database));
            let names: BTreeSet<&String> = engine.keys().chain(database.keys()).collect();
            let fields: Vec<FieldDifference> = names
                .into_iter()
                .filter_map(|name| {
                    let (in_engine, in_database) = (engine.get(name), database.get(name));
                    (in_engine != in_database).then(|| FieldDifference {
                        field: name.clone(),
                        engine: in_engine.cloned().unwrap_or_default(),
                        database: in_database.cloned().unwrap_or_default(),
                    })
                })
                .collect();
            if !fields.is_empty() {
                into.push(difference(DifferenceKind::Differs, fields));
            }
        }
    }
}

fn compare_all<'a, T: Serialize + 'a>(
    entity: Entity,
    engine: impl Iterator<Item = (u64, &'a T)>,
    database: impl Iterator<Item = (u64, &'a T)>,
    into: &mut Vec<Difference>,
) {
    let mut pairs: BTreeMap<u64, (Option<&T>, Option<&T>)> = BTreeMap::new();
    for (id, record) in engine {
        pairs.entry(id).or_default().0 = Some(record);
    }
    for (id, record) in database {
        pairs.entry(id).or_default().1 = Some(record);
    }
    for (id, (in_engine, in_database)) in pairs {
        compare(entity, id, in_engine, in_database, into);
    }
}

impl Desk<'_> {
    /// Every difference between the ledger (and the holdings' copy states) and `expected`, ordered by
    /// entity and id. Empty when the replica is consistent.
    pub fn check_consistency(&self, expected: &ConsistencySnapshot) -> Vec<Difference> {
        let mut differences = Vec::new();
        if let Some(patrons) = &expected.patrons {
            compare_all(
                Entity::Patron,
                self.ledger.patrons.values().map(|patron| (patron.patron_id.0, patron)),
                patrons.iter().map(|patron| (patron.patron_id.0, patron)),
                &mut differences,
            );
        }
        compare_all(
            Entity::Loan,
            self.ledger.loans.values().map(|loan| (loan.loan_id.0, loan)),
            expected.loans.iter().map(|loan| (loan.loan_id.0, loan)),
            &mut differences,
        );
        compare_all(
            Entity::Hold,
            self.ledger.holds.values().map(|hold| (hold.hold_id.0, hold)),
            expected.holds.iter().map(|hold| (hold.hold_id.0, hold)),
            &mut differences,
        );
        compare_all(
            Entity::Transit,
            self.ledger.transits.values().map(|transit| (transit.item_id.0, transit)),
            expected.transits.iter().map(|transit| (transit.item_id.0, transit)),
            &mut differences,
        );
        // What search shows for each copy either side mentions, or that search shows off the shelf (a state
        // left behind when neither side has the loan, hold or transit any more), against what the database's
        // rows imply.
        let mut from_database = Ledger::default();
        expected.loans.iter().cloned().for_each(|loan| from_database.put_loan(loan));
        expected.holds.iter().cloned().for_each(|hold| from_database.put_hold(hold));
        for transit in &expected.transits {
            from_database.transits.insert(transit.item_id, transit.clone());
        }
        let items: BTreeSet<ItemId> = self
            .ledger
            .items_in_circulation()
            .chain(from_database.items_in_circulation())
            .chain(self.holdings.items_off_shelf())
            .collect();
        for item_id in items {
            if let Some(item) = self.holdings.item(item_id) {
                let expected_state = from_database.circulation_state_of(item_id);
                compare(Entity::ItemState, item_id.0, Some(&item.circulation), Some(&expected_state), &mut differences);
            }
        }
        differences
    }
}
