//! ISBN normalisation: ISBN-10 and ISBN-13, with or without hyphens or spaces, become one
//! 13-digit form, so `4-00-310101-4`, `978-4-00-310101-8` and `9784003101018` find the same book.
//! The index stores this form and the query side normalises user input the same way.

use unicode_normalization::UnicodeNormalization;

/// The ISBN-13 for an ISBN-10 or ISBN-13 written with or without separators, or `None` when the
/// text is not a valid ISBN (wrong length, bad check digit, not a 978/979 EAN).
///
/// Accepted: an optional `ISBN` prefix (with or without `:`), hyphens, dashes and spaces between
/// digits, full-width digits (NFKC), and a final `X`/`x` check digit on ISBN-10.
///
/// ```
/// use shoka_engine::catalogue::isbn::isbn13;
/// assert_eq!(isbn13("4-00-310101-4").as_deref(), Some("9784003101018"));
/// assert_eq!(isbn13("ISBN 978-4-00-310101-8").as_deref(), Some("9784003101018"));
/// assert_eq!(isbn13("4-00-310101-5"), None);
/// ```
pub fn isbn13(text: &str) -> Option<String> {
    let normalised: String = text.nfkc().collect();
    let trimmed = normalised.trim();
    let without_prefix = strip_isbn_prefix(trimmed);
    let mut symbols = Vec::with_capacity(13);
    for character in without_prefix.chars() {
        match character {
            '0'..='9' => symbols.push(character as u8 - b'0'),
            // X stands for 10 and only as the last symbol of an ISBN-10; checked below.
            'X' | 'x' => symbols.push(10),
            _ if is_separator(character) => {}
            _ => return None,
        }
    }
    let x_before_the_end = symbols.iter().rev().skip(1).any(|&symbol| symbol == 10);
    if x_before_the_end {
        return None;
    }
    match symbols.len() {
        10 => isbn10_to_isbn13(&symbols),
        13 => valid_isbn13(&symbols).then(|| digits_to_string(&symbols)),
        _ => None,
    }
}

fn strip_isbn_prefix(text: &str) -> &str {
    let Some(prefix) = text.get(..4) else {
        return text;
    };
    if !prefix.eq_ignore_ascii_case("isbn") {
        return text;
    }
    let rest = text[4..].trim_start();
    rest.strip_prefix(':').unwrap_or(rest)
}

fn is_separator(character: char) -> bool {
    character.is_whitespace()
        || matches!(character, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | 'ー')
}

fn isbn10_to_isbn13(symbols: &[u8]) -> Option<String> {
    let weighted_sum: u32 = symbols
        .iter()
        .zip((1..=10).rev())
        .map(|(&symbol, weight)| u32::from(symbol) * weight)
        .sum();
    if !weighted_sum.is_multiple_of(11) {
        return None;
    }
    let mut digits = vec![9, 7, 8];
    digits.extend_from_slice(&symbols[..9]);
    digits.push(ean13_check_digit(&digits));
    Some(digits_to_string(&digits))
}

fn valid_isbn13(symbols: &[u8]) -> bool {
    let is_book_prefix = symbols.starts_with(&[9, 7, 8]) || symbols.starts_with(&[9, 7, 9]);
    let all_digits = symbols.iter().all(|&symbol| symbol <= 9);
    is_book_prefix && all_digits && ean13_check_digit(&symbols[..12]) == symbols[12]
}

/// The EAN-13 check digit of the first twelve digits: weights 1, 3, 1, 3, ...
fn ean13_check_digit(first_twelve: &[u8]) -> u8 {
    let weighted_sum: u32 = first_twelve
        .iter()
        .enumerate()
        .map(|(index, &digit)| u32::from(digit) * if index % 2 == 0 { 1 } else { 3 })
        .sum();
    ((10 - weighted_sum % 10) % 10) as u8
}

fn digits_to_string(digits: &[u8]) -> String {
    digits
        .iter()
        .map(|&digit| char::from(b'0' + digit))
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn isbn10_becomes_isbn13() {
        assert_eq!(isbn13("4-00-310101-4").as_deref(), Some("9784003101018"));
        assert_eq!(isbn13("4003101014").as_deref(), Some("9784003101018"));
        assert_eq!(isbn13("4 87311 336 9").as_deref(), Some("9784873113364"));
    }

    #[test]
    fn isbn10_with_x_check_digit() {
        assert_eq!(isbn13("4-00-000008-X").as_deref(), Some("9784000000086"));
        assert_eq!(isbn13("400000008x").as_deref(), Some("9784000000086"));
    }

    #[test]
    fn isbn13_with_and_without_hyphens() {
        assert_eq!(
            isbn13("978-4-06-519382-2").as_deref(),
            Some("9784065193822")
        );
        assert_eq!(isbn13("9784065193822").as_deref(), Some("9784065193822"));
        assert_eq!(
            isbn13("979-10-00000-00-8").as_deref(),
            Some("9791000000008")
        );
    }

    #[test]
    fn prefixes_full_width_digits_and_dashes_are_accepted() {
        assert_eq!(
            isbn13("ISBN 4-15-208968-7").as_deref(),
            Some("9784152089687")
        );
        assert_eq!(
            isbn13("isbn:9784152089687").as_deref(),
            Some("9784152089687")
        );
        assert_eq!(
            isbn13("９７８－４－１５－２０８９６８－７").as_deref(),
            Some("9784152089687")
        );
        assert_eq!(
            isbn13("978‐4‐15‐208968‐7").as_deref(),
            Some("9784152089687")
        );
    }

    #[test]
    fn invalid_isbns_are_refused() {
        assert_eq!(isbn13(""), None);
        assert_eq!(isbn13("4-00-310101-5"), None, "bad ISBN-10 check digit");
        assert_eq!(isbn13("9784003101019"), None, "bad ISBN-13 check digit");
        assert_eq!(isbn13("4X03101014"), None, "X only as the last symbol");
        assert_eq!(isbn13("978400310101X"), None, "no X in ISBN-13");
        assert_eq!(isbn13("4901234567894"), None, "EAN that is not a book");
        assert_eq!(isbn13("400310101"), None, "too short");
        assert_eq!(
            isbn13("4003101014 (pbk.)"),
            None,
            "qualifiers are the caller's to strip"
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_a_valid_isbn13(text in any::<String>()) {
            if let Some(normalised) = isbn13(&text) {
                prop_assert_eq!(normalised.len(), 13);
                prop_assert_eq!(isbn13(&normalised), Some(normalised.clone()));
            }
        }

        #[test]
        fn isbn10_and_its_isbn13_agree(body in proptest::collection::vec(0u8..10, 9)) {
            let weighted_sum: u32 = body.iter().zip((2..=10).rev()).map(|(&d, w)| u32::from(d) * w).sum();
            let check = (11 - weighted_sum % 11) % 11;
            let mut isbn10 = digits_to_string(&body);
            isbn10.push(if check == 10 { 'X' } else { char::from(b'0' + check as u8) });
            let isbn13_form = isbn13(&isbn10).expect("a valid ISBN-10");
            prop_assert_eq!(isbn13(&isbn13_form), Some(isbn13_form.clone()));
            prop_assert!(isbn13_form.starts_with("978"));
        }
    }
}
