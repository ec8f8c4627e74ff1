//! Facts about kana that the folding steps need: katakana ↔ hiragana, voiced ↔ unvoiced (dakuten,
//! handakuten), small ↔ full-size kana, and the vowel a kana ends in.
//!
//! Every function here works on single hiragana characters (katakana is folded to hiragana first),
//! and answers "no change" for anything it does not know, so callers can apply them blindly.

/// Combining voiced sound mark (dakuten) that NFKC leaves behind when no precomposed kana exists.
pub(crate) const COMBINING_VOICED_MARK: char = '\u{3099}';
/// Combining semi-voiced sound mark (handakuten).
pub(crate) const COMBINING_SEMI_VOICED_MARK: char = '\u{309A}';
/// The prolonged sound mark ー used in katakana words and in NDL readings.
pub(crate) const PROLONGED_SOUND_MARK: char = 'ー';

/// Hiragana iteration mark ゝ: repeat the previous kana without voicing.
pub(crate) const HIRAGANA_ITERATION_MARK: char = 'ゝ';
/// Voiced hiragana iteration mark ゞ: repeat the previous kana with voicing.
pub(crate) const VOICED_HIRAGANA_ITERATION_MARK: char = 'ゞ';

/// Pairs (unvoiced, voiced) for every kana that takes a dakuten.
#[rustfmt::skip]
const VOICED_PAIRS: &[(char, char)] = &[
    ('か', 'が'), ('き', 'ぎ'), ('く', 'ぐ'), ('け', 'げ'), ('こ', 'ご'),
    ('さ', 'ざ'), ('し', 'じ'), ('す', 'ず'), ('せ', 'ぜ'), ('そ', 'ぞ'),
    ('た', 'だ'), ('ち', 'ぢ'), ('つ', 'づ'), ('て', 'で'), ('と', 'ど'),
    ('は', 'ば'), ('ひ', 'び'), ('ふ', 'ぶ'), ('へ', 'べ'), ('ほ', 'ぼ'),
    ('う', 'ゔ'),
];

/// Pairs (unvoiced, semi-voiced) for the は row, which also takes a handakuten.
const SEMI_VOICED_PAIRS: &[(char, char)] = &[
    ('は', 'ぱ'),
    ('ひ', 'ぴ'),
    ('ふ', 'ぷ'),
    ('へ', 'ぺ'),
    ('ほ', 'ぽ'),
];

/// Pairs (small, full-size). ゕ and ゖ are included although the general folding already turns
/// ヵ/ヶ into か/け, so a reading never depends on which route a character took.
#[rustfmt::skip]
const SMALL_KANA_PAIRS: &[(char, char)] = &[
    ('ぁ', 'あ'), ('ぃ', 'い'), ('ぅ', 'う'), ('ぇ', 'え'), ('ぉ', 'お'),
    ('っ', 'つ'), ('ゃ', 'や'), ('ゅ', 'ゆ'), ('ょ', 'よ'), ('ゎ', 'わ'),
    ('ゕ', 'か'), ('ゖ', 'け'),
];

/// Kana grouped by the vowel they end in, used to spell out ー in readings (カー → かあ).
#[rustfmt::skip]
const KANA_BY_VOWEL: &[(char, &str)] = &[
    ('あ', "ぁあかがさざただなはばぱまゃやらゎわゕ"),
    ('い', "ぃいきぎしじちぢにひびぴみりゐ"),
    ('う', "ぅうくぐすずっつづぬふぶぷむゅゆるゔ"),
    ('え', "ぇえけげせぜてでねへべぺめれゑゖ"),
    ('お', "ぉおこごそぞとどのほぼぽもょよろを"),
];

/// Folds one katakana character to the characters of its hiragana form.
///
/// Returns `None` when the character is not katakana with a hiragana counterpart, so the caller
/// keeps it. ヷヸヹヺ have no precomposed hiragana, so they become the base kana plus a combining
/// dakuten: the same characters that hiragana input such as わ゛ normalises to.
pub(crate) fn katakana_as_hiragana(character: char) -> Option<KanaReplacement> {
    match character {
        // ヵ and ヶ are abbreviations (一ヶ月, 霞ヶ関) written interchangeably with full-size ケ/カ.
        'ヵ' => Some(KanaReplacement::One('か')),
        'ヶ' => Some(KanaReplacement::One('け')),
        'ァ'..='ヴ' => char::from_u32(character as u32 - 0x60).map(KanaReplacement::One),
        'ヷ' => Some(KanaReplacement::WithVoicedMark('わ')),
        'ヸ' => Some(KanaReplacement::WithVoicedMark('ゐ')),
        'ヹ' => Some(KanaReplacement::WithVoicedMark('ゑ')),
        'ヺ' => Some(KanaReplacement::WithVoicedMark('を')),
        'ヽ' => Some(KanaReplacement::One(HIRAGANA_ITERATION_MARK)),
        'ヾ' => Some(KanaReplacement::One(VOICED_HIRAGANA_ITERATION_MARK)),
        // Small hiragana ゕ/ゖ fold like their katakana twins.
        'ゕ' => Some(KanaReplacement::One('か')),
        'ゖ' => Some(KanaReplacement::One('け')),
        _ => None,
    }
}

/// What a katakana character becomes in hiragana.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KanaReplacement {
    One(char),
    WithVoicedMark(char),
}

/// True for the hiragana letters (ぁ..ゖ) that the folding produces; marks and iteration marks excluded.
pub(crate) fn is_hiragana_letter(character: char) -> bool {
    ('ぁ'..='ゖ').contains(&character)
}

/// The kana without dakuten or handakuten: が → か, ぱ → は, ゔ → う. Other characters are returned as is.
pub(crate) fn unvoiced(character: char) -> char {
    VOICED_PAIRS
        .iter()
        .chain(SEMI_VOICED_PAIRS)
        .find(|(_, marked)| *marked == character)
        .map_or(character, |(plain, _)| *plain)
}

/// The kana with dakuten: か → が, が → が. Kana that cannot be voiced are returned as is.
pub(crate) fn voiced(character: char) -> char {
    let plain = unvoiced(character);
    VOICED_PAIRS
        .iter()
        .find(|(unmarked, _)| *unmarked == plain)
        .map_or(character, |(_, marked)| *marked)
}

/// The full-size kana for a small one: ゃ → や, っ → つ. Other characters are returned as is.
pub(crate) fn full_size(character: char) -> char {
    SMALL_KANA_PAIRS
        .iter()
        .find(|(small, _)| *small == character)
        .map_or(character, |(_, full)| *full)
}

/// The vowel (あいうえお) a kana ends in, or `None` for ん and anything that is not a kana.
pub(crate) fn vowel_of(character: char) -> Option<char> {
    KANA_BY_VOWEL
        .iter()
        .find(|(_, kana)| kana.contains(character))
        .map(|(vowel, _)| *vowel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn katakana_folds_to_hiragana_including_vu_and_small_forms() {
        assert_eq!(katakana_as_hiragana('サ'), Some(KanaReplacement::One('さ')));
        assert_eq!(katakana_as_hiragana('ヴ'), Some(KanaReplacement::One('ゔ')));
        assert_eq!(katakana_as_hiragana('ャ'), Some(KanaReplacement::One('ゃ')));
        assert_eq!(katakana_as_hiragana('ヶ'), Some(KanaReplacement::One('け')));
        assert_eq!(
            katakana_as_hiragana('ヷ'),
            Some(KanaReplacement::WithVoicedMark('わ'))
        );
        assert_eq!(katakana_as_hiragana('ー'), None);
        assert_eq!(katakana_as_hiragana('・'), None);
        assert_eq!(katakana_as_hiragana('さ'), None);
    }

    #[test]
    fn voicing_round_trips() {
        assert_eq!(unvoiced('が'), 'か');
        assert_eq!(unvoiced('ぱ'), 'は');
        assert_eq!(unvoiced('ゔ'), 'う');
        assert_eq!(unvoiced('あ'), 'あ');
        assert_eq!(voiced('す'), 'ず');
        assert_eq!(voiced('ぱ'), 'ば');
        assert_eq!(voiced('あ'), 'あ');
    }

    #[test]
    fn small_kana_become_full_size() {
        assert_eq!(full_size('っ'), 'つ');
        assert_eq!(full_size('ゃ'), 'や');
        assert_eq!(full_size('か'), 'か');
    }

    #[test]
    fn every_hiragana_letter_but_n_has_a_vowel() {
        for letter in ('ぁ'..='ゖ').filter(|c| *c != 'ん') {
            assert!(vowel_of(letter).is_some(), "{letter} has no vowel");
        }
        assert_eq!(vowel_of('ん'), None);
        assert_eq!(vowel_of('こ'), Some('お'));
    }
}
