//! Old and variant kanji folding (國 → 国, 髙 → 高, 﨑 → 崎) from the curated table in
//! `engine/data/variant_kanji.tsv`, so a search typed in modern characters finds records catalogued
//! with old or name forms, and the other way round.
//!
//! The table is compiled into the binary and parsed once. Its curation rules (no chains, never a
//! Jōyō kanji as a variant, one standard per variant) are enforced by the tests below; the sources
//! and licences are documented in `engine/data/VARIANT_KANJI.md`.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The table as shipped; see the header comment of the file for its format.
const VARIANT_KANJI_TABLE_TEXT: &str = include_str!("../../../data/variant_kanji.tsv");

/// Where a pair of the table comes from (the third column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VariantKanjiSource {
    /// PyPI `joyokanji` (Apache-2.0) `kanji.json`: old forms printed in the Jōyō Kanji table.
    Joyokanji,
    /// PyPI `joyokanji` (Apache-2.0) `variants.json`: name variants such as 髙 and 𠮷.
    JoyokanjiVariants,
    /// PyPI `ja-itaiji` (MIT): a pair hand-picked from one of its variant groups.
    JaItaiji,
    /// 常用漢字表 (2010) allowed forms: the JIS X 0208 substitute (填) folds to the official glyph (塡).
    JoyoAllowedForm,
}

impl VariantKanjiSource {
    fn from_column(column: &str) -> Option<VariantKanjiSource> {
        match column {
            "joyokanji" => Some(VariantKanjiSource::Joyokanji),
            "joyokanji-variants" => Some(VariantKanjiSource::JoyokanjiVariants),
            "ja-itaiji" => Some(VariantKanjiSource::JaItaiji),
            "joyo-kyoyo" => Some(VariantKanjiSource::JoyoAllowedForm),
            _ => None,
        }
    }
}

/// One row of the table: `variant` is replaced by `standard` wherever it appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantKanjiPair {
    pub variant: char,
    pub standard: char,
    pub source: VariantKanjiSource,
}

/// A malformed line in the table, with its 1-based line number so the fix is easy to find.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("variant_kanji.tsv line {line_number}: {reason}")]
pub struct VariantKanjiTableError {
    pub line_number: usize,
    pub reason: String,
}

static VARIANT_KANJI_PAIRS: LazyLock<Vec<VariantKanjiPair>> = LazyLock::new(|| {
    // The text is compiled in and its validity is asserted by the tests, so a failure here can
    // only come from editing the file without running them.
    parse_variant_kanji_table(VARIANT_KANJI_TABLE_TEXT)
        .unwrap_or_else(|error| panic!("the compiled-in variant kanji table is invalid: {error}"))
});

static STANDARD_BY_VARIANT: LazyLock<HashMap<char, char>> = LazyLock::new(|| {
    VARIANT_KANJI_PAIRS
        .iter()
        .map(|pair| (pair.variant, pair.standard))
        .collect()
});

/// Every pair of the compiled-in table, in file order.
pub fn variant_kanji_pairs() -> &'static [VariantKanjiPair] {
    &VARIANT_KANJI_PAIRS
}

/// The standard form of a variant kanji (`國` → `Some('国')`), or `None` when the character is
/// not a variant in the table.
pub fn standard_kanji_for(character: char) -> Option<char> {
    // Everything below the CJK blocks is never in the table; skip the hash lookup for it.
    if (character as u32) < 0x3400 {
        return None;
    }
    STANDARD_BY_VARIANT.get(&character).copied()
}

/// Parses the table text: one `variant<TAB>standard<TAB>source` row per line, `#` comments and
/// blank lines ignored. A variant listed twice is an error, whatever its standard.
pub fn parse_variant_kanji_table(
    text: &str,
) -> Result<Vec<VariantKanjiPair>, VariantKanjiTableError> {
    let mut pairs = Vec::new();
    let mut line_of_variant: HashMap<char, usize> = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let error = |reason: String| VariantKanjiTableError {
            line_number,
            reason,
        };
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        let [variant_column, standard_column, source_column] = columns[..] else {
            return Err(error(format!(
                "expected 3 tab-separated columns, found {}",
                columns.len()
            )));
        };
        let variant = single_character(variant_column)
            .ok_or_else(|| error(format!("variant {variant_column:?} is not one character")))?;
        let standard = single_character(standard_column)
            .ok_or_else(|| error(format!("standard {standard_column:?} is not one character")))?;
        let source = VariantKanjiSource::from_column(source_column)
            .ok_or_else(|| error(format!("unknown source {source_column:?}")))?;
        if variant == standard {
            return Err(error(format!("{variant} maps to itself")));
        }
        if let Some(first_line) = line_of_variant.insert(variant, line_number) {
            return Err(error(format!(
                "{variant} is already listed on line {first_line}"
            )));
        }
        pairs.push(VariantKanjiPair {
            variant,
            standard,
            source,
        });
    }
    Ok(pairs)
}

fn single_character(column: &str) -> Option<char> {
    let mut characters = column.chars();
    match (characters.next(), characters.next()) {
        (Some(character), None) => Some(character),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use unicode_normalization::UnicodeNormalization;

    use super::*;

    /// The 2,136 Jōyō kanji, kept beside the table only to check it.
    const JOYO_KANJI_TEXT: &str = include_str!("../../../data/joyo_kanji.txt");

    fn joyo_kanji() -> HashSet<char> {
        JOYO_KANJI_TEXT
            .lines()
            .filter(|line| !line.starts_with('#'))
            .flat_map(str::chars)
            .filter(|character| !character.is_whitespace())
            .collect()
    }

    #[test]
    fn joyo_list_has_the_2136_kanji_of_the_2010_table() {
        assert_eq!(joyo_kanji().len(), 2136);
    }

    #[test]
    fn table_parses_and_has_at_least_300_pairs() {
        let pairs = parse_variant_kanji_table(VARIANT_KANJI_TABLE_TEXT).expect("table parses");
        assert!(pairs.len() >= 300, "only {} pairs", pairs.len());
        assert_eq!(pairs.len(), variant_kanji_pairs().len());
    }

    #[test]
    fn no_variant_maps_to_two_standards() {
        let mut seen = HashSet::new();
        for pair in variant_kanji_pairs() {
            assert!(
                seen.insert(pair.variant),
                "{} is listed twice",
                pair.variant
            );
        }
    }

    #[test]
    fn no_chains_a_standard_is_never_a_variant() {
        for pair in variant_kanji_pairs() {
            assert_eq!(
                standard_kanji_for(pair.standard),
                None,
                "{} → {} is a chain",
                pair.variant,
                pair.standard
            );
        }
    }

    #[test]
    fn no_joyo_kanji_is_folded_away() {
        let joyo = joyo_kanji();
        for pair in variant_kanji_pairs() {
            assert!(
                !joyo.contains(&pair.variant),
                "Jōyō kanji {} is listed as a variant of {}",
                pair.variant,
                pair.standard
            );
        }
    }

    #[test]
    fn every_character_of_the_table_survives_nfkc() {
        // NFKC runs before the table; a row whose variant NFKC rewrites would never apply.
        for pair in variant_kanji_pairs() {
            for character in [pair.variant, pair.standard] {
                let normalised: String = character.to_string().nfkc().collect();
                assert_eq!(
                    normalised,
                    character.to_string(),
                    "{character} is changed by NFKC"
                );
            }
        }
    }

    #[test]
    fn jouyou_table_standards_are_joyo_kanji() {
        let joyo = joyo_kanji();
        for pair in variant_kanji_pairs()
            .iter()
            .filter(|pair| pair.source == VariantKanjiSource::Joyokanji)
        {
            assert!(
                joyo.contains(&pair.standard),
                "{} is not Jōyō",
                pair.standard
            );
        }
    }

    #[test]
    fn the_pairs_the_requirements_name_are_present() {
        for (variant, standard) in [
            ('國', '国'),
            ('學', '学'),
            ('髙', '高'),
            ('﨑', '崎'),
            ('齊', '斉'),
            ('澤', '沢'),
            ('邊', '辺'),
            ('圖', '図'),
            ('會', '会'),
            ('廣', '広'),
            ('櫻', '桜'),
            ('龍', '竜'),
            ('邉', '辺'),
            ('濵', '浜'),
            ('曻', '昇'),
            ('德', '徳'),
            ('齋', '斎'),
            ('鷗', '鴎'),
            ('辯', '弁'),
        ] {
            assert_eq!(standard_kanji_for(variant), Some(standard), "{variant}");
        }
    }

    #[test]
    fn distinct_modern_characters_stay_apart() {
        for character in ['埼', '崎', '斉', '斎', '藤', '籐', '謁', '靄', '国', '弁'] {
            assert_eq!(
                standard_kanji_for(character),
                None,
                "{character} must not be folded"
            );
        }
    }

    #[test]
    fn malformed_rows_are_reported_with_their_line() {
        let error = parse_variant_kanji_table("# comment\n國\t国\n").unwrap_err();
        assert_eq!(error.line_number, 2);
        let error =
            parse_variant_kanji_table("國\t国\tjoyokanji\n國\t囯\tja-itaiji\n").unwrap_err();
        assert_eq!(error.line_number, 2);
        assert!(parse_variant_kanji_table("國国\t国\tjoyokanji\n").is_err());
        assert!(parse_variant_kanji_table("國\t国\tsomewhere\n").is_err());
    }
}
