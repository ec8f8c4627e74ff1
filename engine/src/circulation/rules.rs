//! The circulation rules matrix: branch × patron category × material type → loan days, limits,
//! renewals and holds (PostgreSQL's `circulation_rule`).
//!
//! A row leaves any dimension empty to mean "any". For a request the most specific matching row wins,
//! scored 4 for a branch, 2 for a category and 1 for a material type, so a row naming the branch beats
//! every row that does not; the table's unique constraint makes ties impossible. Resolution tries the
//! eight possible keys from the most specific down, so it costs eight hash lookups whatever the size of
//! the matrix.
//!
//! Which row limits a checkout: the one resolved for the checkout branch, the patron's category and the
//! material type of the copy being lent. Its `max_items_total` caps all the patron's loans together
//! and its `max_items_of_type` caps the patron's loans of that material type.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::error::{CirculationError, Refusal};

/// One row of the matrix; `None` in a dimension means "any".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRow {
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub patron_category: Option<String>,
    #[serde(default)]
    pub material_type: Option<String>,
    /// Loan period in days; 0 means the material is not lent under this rule.
    pub loan_days: u16,
    pub max_items_of_type: u16,
    pub max_items_total: u16,
    pub max_renewals: u16,
    pub holds_allowed: bool,
    pub max_holds: u16,
    /// Days a trapped copy waits on the hold shelf (1–60).
    pub hold_pickup_days: u16,
}

impl RuleRow {
    /// 4 for a branch, 2 for a category, 1 for a material type: the highest matching score wins.
    pub fn specificity(&self) -> u8 {
        4 * u8::from(self.branch.is_some())
            + 2 * u8::from(self.patron_category.is_some())
            + u8::from(self.material_type.is_some())
    }
}

/// The longest loan period the schema allows (`loan_days BETWEEN 0 AND 365`).
pub const LONGEST_LOAN_DAYS: u16 = 365;

/// A dimension of the lookup key: "" stands for "any" (codes are never empty in the schema).
const ANY: &str = "";

/// The matrix, indexed by branch, then category, then material type.
#[derive(Debug, Clone, Default)]
pub struct RulesMatrix {
    rows: HashMap<String, HashMap<String, HashMap<String, RuleRow>>>,
    row_count: usize,
}

impl RulesMatrix {
    /// Builds the matrix, refusing two rows for the same triple or values out of the schema's ranges.
    pub fn new(rows: Vec<RuleRow>) -> Result<RulesMatrix, CirculationError> {
        let mut matrix = RulesMatrix::default();
        for row in rows {
            let any = |dimension: &Option<String>| dimension.clone().unwrap_or_else(|| "*".to_string());
            let triple = format!(
                "(branch {}, category {}, material type {})",
                any(&row.branch),
                any(&row.patron_category),
                any(&row.material_type)
            );
            let invalid = |reason: String| CirculationError::InvalidRules { reason: format!("row {triple}: {reason}") };
            if row.loan_days > LONGEST_LOAN_DAYS {
                return Err(invalid(format!("loan_days {} is more than {LONGEST_LOAN_DAYS}", row.loan_days)));
            }
            if !(1..=60).contains(&row.hold_pickup_days) {
                return Err(invalid(format!("hold_pickup_days {} is not between 1 and 60", row.hold_pickup_days)));
            }
            let key = |dimension: &Option<String>| dimension.clone().unwrap_or_default();
            if [&row.branch, &row.patron_category, &row.material_type].iter().any(|d| d.as_deref() == Some(ANY)) {
                return Err(invalid("an empty code; leave the dimension out (null) to mean any".to_string()));
            }
            let slot = matrix.rows.entry(key(&row.branch)).or_default().entry(key(&row.patron_category)).or_default();
            let material = key(&row.material_type);
            if slot.contains_key(&material) {
                return Err(invalid("defined twice".to_string()));
            }
            slot.insert(material, row);
            matrix.row_count += 1;
        }
        Ok(matrix)
    }

    pub fn len(&self) -> usize {
        self.row_count
    }

    pub fn is_empty(&self) -> bool {
        self.row_count == 0
    }

    /// The most specific row for the triple. `material_type: None` matches only rows that leave the
    /// material type open (a patron-wide question such as "how many loans may this patron have").
    pub fn resolve(&self, branch: &str, patron_category: &str, material_type: Option<&str>) -> Option<&RuleRow> {
        let material_keys: &[&str] = match material_type {
            Some(material) => &[material, ANY],
            None => &[ANY],
        };
        // Score order 7, 6, 5, … 0: branch outweighs category and material together, category
        // outweighs material.
        for branch_key in [branch, ANY] {
            let Some(by_category) = self.rows.get(branch_key) else { continue };
            for category_key in [patron_category, ANY] {
                let Some(by_material) = by_category.get(category_key) else { continue };
                for material_key in material_keys {
                    if let Some(row) = by_material.get(*material_key) {
                        return Some(row);
                    }
                }
            }
        }
        None
    }

    /// [`resolve`](Self::resolve), or the `NoRule` refusal naming the triple.
    pub fn resolve_or_refuse(
        &self,
        branch: &str,
        patron_category: &str,
        material_type: Option<&str>,
    ) -> Result<&RuleRow, Refusal> {
        self.resolve(branch, patron_category, material_type).ok_or_else(|| Refusal::NoRule {
            branch: branch.to_string(),
            patron_category: patron_category.to_string(),
            material_type: material_type.map(str::to_string),
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn row(branch: Option<&str>, category: Option<&str>, material: Option<&str>, loan_days: u16) -> RuleRow {
        RuleRow {
            branch: branch.map(str::to_string),
            patron_category: category.map(str::to_string),
            material_type: material.map(str::to_string),
            loan_days,
            max_items_of_type: 5,
            max_items_total: 10,
            max_renewals: 1,
            holds_allowed: true,
            max_holds: 10,
            hold_pickup_days: 7,
        }
    }

    #[test]
    fn most_specific_row_wins() {
        let matrix = RulesMatrix::new(vec![
            row(None, None, None, 14),
            row(None, None, Some("av"), 7),
            row(None, Some("child"), None, 21),
            row(Some("bookmobile"), None, None, 28),
        ])
        .unwrap();
        assert_eq!(matrix.resolve("central", "adult", Some("book")).unwrap().loan_days, 14);
        assert_eq!(matrix.resolve("central", "adult", Some("av")).unwrap().loan_days, 7);
        // Category (2) outweighs material type (1).
        assert_eq!(matrix.resolve("central", "child", Some("av")).unwrap().loan_days, 21);
        // Branch (4) outweighs category and material together (3).
        assert_eq!(matrix.resolve("bookmobile", "child", Some("av")).unwrap().loan_days, 28);
        assert_eq!(matrix.resolve("central", "adult", None).unwrap().loan_days, 14);
    }

    #[test]
    fn no_matching_row_refuses_naming_the_triple() {
        let matrix = RulesMatrix::new(vec![row(Some("central"), None, None, 14)]).unwrap();
        assert_eq!(
            matrix.resolve_or_refuse("gyotoku", "adult", Some("book")),
            Err(Refusal::NoRule {
                branch: "gyotoku".into(),
                patron_category: "adult".into(),
                material_type: Some("book".into())
            })
        );
    }

    #[test]
    fn duplicates_and_out_of_range_values_are_refused() {
        assert!(RulesMatrix::new(vec![row(None, None, None, 14), row(None, None, None, 7)]).is_err());
        assert!(RulesMatrix::new(vec![row(None, None, None, 366)]).is_err());
        let mut no_pickup_days = row(None, None, None, 14);
        no_pickup_days.hold_pickup_days = 0;
        assert!(RulesMatrix::new(vec![no_pickup_days]).is_err());
        assert!(RulesMatrix::new(vec![row(Some(""), None, None, 14)]).is_err());
    }

    fn dimension(values: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
        proptest::option::of(proptest::sample::select(values).prop_map(str::to_string))
    }

    proptest! {
        /// Whatever the matrix, resolution returns the matching row of highest specificity.
        #[test]
        fn resolution_matches_a_linear_scan(
            rows in proptest::collection::vec(
                (dimension(&["a", "b"]), dimension(&["adult", "child"]), dimension(&["book", "av"]), 1u16..60),
                0..20,
            ),
            branch in proptest::sample::select(&["a", "b", "c"][..]),
            category in proptest::sample::select(&["adult", "child"][..]),
            material in proptest::option::of(proptest::sample::select(&["book", "av", "kamishibai"][..])),
        ) {
            let mut seen = std::collections::HashSet::new();
            let rows: Vec<RuleRow> = rows
                .into_iter()
                .filter(|(b, c, m, _)| seen.insert((b.clone(), c.clone(), m.clone())))
                .map(|(b, c, m, days)| row(b.as_deref(), c.as_deref(), m.as_deref(), days))
                .collect();
            let matrix = RulesMatrix::new(rows.clone()).unwrap();
            let matches = |row: &&RuleRow| {
                row.branch.as_deref().is_none_or(|b| b == branch)
                    && row.patron_category.as_deref().is_none_or(|c| c == category)
                    && match (&row.material_type, material) {
                        (None, _) => true,
                        (Some(m), Some(wanted)) => m == wanted,
                        (Some(_), None) => false,
                    }
            };
            let expected = rows.iter().filter(matches).max_by_key(|row| row.specificity());
            prop_assert_eq!(matrix.resolve(branch, category, material), expected);
        }
    }
}
