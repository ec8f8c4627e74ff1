//! The one-box query language of the OPAC, parsed into a small tree.
//!
//! ```text
//! 銀河鉄道 宮沢            both words, anywhere (AND is implied)
//! 猫 OR 犬                 either          (also: |)
//! 猫 NOT 犬, 猫 -犬         exclude
//! "銀河鉄道の夜"            a phrase (words in this order)
//! potter*                  prefix
//! title:銀河  author:宮沢  publisher:  subject:  series:  isbn:  ndc:913  year:1990-2000
//! title:="銀河鉄道の夜"     exact: the whole title (or reading) is this
//! (猫 OR 犬) 写真           grouping
//! ```
//!
//! The parser is lenient, as a search box must be: an unclosed quote or parenthesis closes at the
//! end, a stray `)` is ignored, an unknown `word:` prefix is searched as text (so URLs and
//! "A:B" titles still work). Operators are upper-case words; full-width forms are folded first.

use unicode_normalization::UnicodeNormalization;

/// The longest query text accepted, in characters; longer input is a query error.
pub const LONGEST_QUERY_CHARACTERS: usize = 1000;
/// The most terms one query may hold.
pub const MOST_QUERY_TERMS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryField {
    Anywhere,
    Title,
    Author,
    Publisher,
    Subject,
    Series,
    Isbn,
    Ndc,
    Year,
}

impl QueryField {
    fn from_prefix(prefix: &str) -> Option<QueryField> {
        Some(match prefix.to_ascii_lowercase().as_str() {
            "any" | "all" | "keyword" => QueryField::Anywhere,
            "title" | "ti" => QueryField::Title,
            "author" | "au" | "creator" => QueryField::Author,
            "publisher" | "pub" => QueryField::Publisher,
            "subject" | "su" => QueryField::Subject,
            "series" => QueryField::Series,
            "isbn" => QueryField::Isbn,
            "ndc" => QueryField::Ndc,
            "year" | "date" => QueryField::Year,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    /// Words of one token: the analyzer's terms in order (a CJK word is a phrase of its bigrams).
    Word,
    /// A quoted phrase.
    Phrase,
    /// A word ending in `*`.
    Prefix,
    /// `field:=value`: the whole field equals the value.
    Exact,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryNode {
    Match { field: QueryField, text: String, kind: MatchKind },
    And(Vec<QueryNode>),
    Or(Vec<QueryNode>),
    Not(Box<QueryNode>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuerySyntaxError {
    /// The query is longer than [`LONGEST_QUERY_CHARACTERS`].
    #[error("the query is too long ({0} characters; at most {LONGEST_QUERY_CHARACTERS})")]
    TooLong(usize),
    /// The query has more than [`MOST_QUERY_TERMS`] terms.
    #[error("the query has too many terms (at most {MOST_QUERY_TERMS})")]
    TooManyTerms,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Minus,
    Text { field: Option<QueryField>, text: String, kind: MatchKind },
}

fn normalise_operators(text: &str) -> String {
    // NFKC turns full-width letters, digits, spaces and brackets into ASCII; curly quotes are quotes too.
    text.nfkc().map(|c| if matches!(c, '\u{201C}' | '\u{201D}' | '\u{201E}') { '"' } else { c }).collect()
}

fn tokenize(text: &str) -> Vec<Token> {
    let characters: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        let next_is_text = characters.get(index + 1).is_some_and(|next| !next.is_whitespace());
        match character {
            c if c.is_whitespace() => index += 1,
            '(' => {
                tokens.push(Token::Open);
                index += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                index += 1;
            }
            '|' => {
                tokens.push(Token::Or);
                index += 1;
            }
            '-' if next_is_text => {
                tokens.push(Token::Minus);
                index += 1;
            }
            '"' => {
                let (value, next) = read_quoted(&characters, index);
                index = next;
                if !value.trim().is_empty() {
                    tokens.push(Token::Text { field: None, text: value, kind: MatchKind::Phrase });
                }
            }
            _ => {
                let start = index;
                while index < characters.len()
                    && !characters[index].is_whitespace()
                    && !matches!(characters[index], '(' | ')' | '"')
                {
                    index += 1;
                }
                let word: String = characters[start..index].iter().collect();
                if let Some((field, rest)) = field_prefix(&word) {
                    let exact = rest.starts_with('=');
                    let rest = rest.trim_start_matches('=');
                    let (value, quoted) = if rest.is_empty() && characters.get(index) == Some(&'"') {
                        let (value, next) = read_quoted(&characters, index);
                        index = next;
                        (value, true)
                    } else {
                        (rest.to_string(), false)
                    };
                    let kind = match (exact, quoted) {
                        (true, _) => MatchKind::Exact,
                        (false, true) => MatchKind::Phrase,
                        (false, false) => word_kind(&value),
                    };
                    if !value.trim().is_empty() {
                        tokens.push(Token::Text { field: Some(field), text: strip_prefix_mark(&value, kind), kind });
                    }
                    continue;
                }
                match word.as_str() {
                    "AND" | "&&" => tokens.push(Token::And),
                    "OR" => tokens.push(Token::Or),
                    "NOT" => tokens.push(Token::Not),
                    _ => {
                        let kind = word_kind(&word);
                        tokens.push(Token::Text { field: None, text: strip_prefix_mark(&word, kind), kind });
                    }
                }
            }
        }
    }
    tokens
}

/// `title:銀河` → (Title, "銀河"); a word whose prefix is not a known field is plain text.
fn field_prefix(word: &str) -> Option<(QueryField, &str)> {
    let (prefix, rest) = word.split_once(':')?;
    QueryField::from_prefix(prefix).map(|field| (field, rest))
}

fn word_kind(word: &str) -> MatchKind {
    if word.chars().count() > 1 && word.ends_with('*') {
        MatchKind::Prefix
    } else {
        MatchKind::Word
    }
}

fn strip_prefix_mark(word: &str, kind: MatchKind) -> String {
    if kind == MatchKind::Prefix {
        word.trim_end_matches('*').to_string()
    } else {
        word.to_string()
    }
}

/// Reads a quoted phrase starting at the quote at `index`, to the closing quote or the end.
fn read_quoted(characters: &[char], index: usize) -> (String, usize) {
    let start = index + 1;
    let mut end = start;
    while end < characters.len() && characters[end] != '"' {
        end += 1;
    }
    (characters[start.min(end)..end].iter().collect(), (end + 1).min(characters.len()))
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn parse_or(&mut self) -> Option<QueryNode> {
        let mut alternatives = Vec::new();
        alternatives.extend(self.parse_and());
        while self.peek() == Some(&Token::Or) {
            self.position += 1;
            alternatives.extend(self.parse_and());
        }
        match alternatives.len() {
            0 => None,
            1 => alternatives.pop(),
            _ => Some(QueryNode::Or(alternatives)),
        }
    }

    fn parse_and(&mut self) -> Option<QueryNode> {
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                None | Some(Token::Or) | Some(Token::Close) => break,
                Some(Token::And) => {
                    self.position += 1;
                }
                _ => {
                    let before = self.position;
                    parts.extend(self.parse_unary());
                    if self.position == before {
                        self.position += 1; // never loop on a token nothing consumes
                    }
                }
            }
        }
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(QueryNode::And(parts)),
        }
    }

    fn parse_unary(&mut self) -> Option<QueryNode> {
        match self.peek()? {
            Token::Not | Token::Minus => {
                self.position += 1;
                self.parse_unary().map(|node| QueryNode::Not(Box::new(node)))
            }
            Token::Open => {
                self.position += 1;
                let inner = self.parse_or();
                if self.peek() == Some(&Token::Close) {
                    self.position += 1;
                }
                inner
            }
            Token::Text { .. } => {
                let Some(Token::Text { field, text, kind }) = self.tokens.get(self.position).cloned() else {
                    return None;
                };
                self.position += 1;
                Some(QueryNode::Match { field: field.unwrap_or(QueryField::Anywhere), text, kind })
            }
            Token::Close | Token::And | Token::Or => None,
        }
    }
}

fn count_matches(node: &QueryNode) -> usize {
    match node {
        QueryNode::Match { .. } => 1,
        QueryNode::And(children) | QueryNode::Or(children) => children.iter().map(count_matches).sum(),
        QueryNode::Not(child) => count_matches(child),
    }
}

/// Parses the search box; `Ok(None)` when nothing searchable is left (empty or only operators).
pub fn parse_query(text: &str) -> Result<Option<QueryNode>, QuerySyntaxError> {
    let length = text.chars().count();
    if length > LONGEST_QUERY_CHARACTERS {
        return Err(QuerySyntaxError::TooLong(length));
    }
    let mut parser = Parser { tokens: tokenize(&normalise_operators(text)), position: 0 };
    let mut parts = Vec::new();
    while parser.position < parser.tokens.len() {
        let before = parser.position;
        parts.extend(parser.parse_or());
        if parser.position == before {
            parser.position += 1; // a stray `)` or operator
        }
    }
    let tree = match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(QueryNode::And(parts)),
    };
    if tree.as_ref().map(count_matches).unwrap_or(0) > MOST_QUERY_TERMS {
        return Err(QuerySyntaxError::TooManyTerms);
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str) -> QueryNode {
        QueryNode::Match { field: QueryField::Anywhere, text: text.into(), kind: MatchKind::Word }
    }

    #[test]
    fn words_are_anded() {
        assert_eq!(parse_query("銀河鉄道 宮沢").unwrap(), Some(QueryNode::And(vec![word("銀河鉄道"), word("宮沢")])));
        assert_eq!(parse_query("銀河鉄道　宮沢").unwrap(), parse_query("銀河鉄道 宮沢").unwrap());
    }

    #[test]
    fn or_not_and_grouping() {
        assert_eq!(parse_query("猫 OR 犬").unwrap(), Some(QueryNode::Or(vec![word("猫"), word("犬")])));
        assert_eq!(parse_query("猫 | 犬").unwrap(), parse_query("猫 OR 犬").unwrap());
        assert_eq!(
            parse_query("猫 -犬").unwrap(),
            Some(QueryNode::And(vec![word("猫"), QueryNode::Not(Box::new(word("犬")))]))
        );
        assert_eq!(parse_query("猫 NOT 犬").unwrap(), parse_query("猫 -犬").unwrap());
        assert_eq!(
            parse_query("(猫 OR 犬) 写真").unwrap(),
            Some(QueryNode::And(vec![QueryNode::Or(vec![word("猫"), word("犬")]), word("写真")]))
        );
    }

    #[test]
    fn fields_phrases_prefix_and_exact() {
        assert_eq!(
            parse_query("title:銀河").unwrap(),
            Some(QueryNode::Match { field: QueryField::Title, text: "銀河".into(), kind: MatchKind::Word })
        );
        assert_eq!(
            parse_query("author:\"宮沢 賢治\"").unwrap(),
            Some(QueryNode::Match { field: QueryField::Author, text: "宮沢 賢治".into(), kind: MatchKind::Phrase })
        );
        assert_eq!(
            parse_query("potter*").unwrap(),
            Some(QueryNode::Match { field: QueryField::Anywhere, text: "potter".into(), kind: MatchKind::Prefix })
        );
        assert_eq!(
            parse_query("title:=\"銀河鉄道の夜\"").unwrap(),
            Some(QueryNode::Match { field: QueryField::Title, text: "銀河鉄道の夜".into(), kind: MatchKind::Exact })
        );
        assert_eq!(
            parse_query("\"東京都\"").unwrap(),
            Some(QueryNode::Match { field: QueryField::Anywhere, text: "東京都".into(), kind: MatchKind::Phrase })
        );
    }

    #[test]
    fn lenient_with_what_users_type() {
        assert_eq!(parse_query("\"銀河鉄道").unwrap(), parse_query("\"銀河鉄道\"").unwrap());
        assert_eq!(parse_query("(猫").unwrap(), Some(word("猫")));
        assert_eq!(parse_query("猫)").unwrap(), Some(word("猫")));
        assert_eq!(parse_query("http://example.org").unwrap(), Some(word("http://example.org")));
        assert_eq!(parse_query("   ").unwrap(), None);
        assert_eq!(parse_query("AND OR").unwrap(), None);
        assert_eq!(parse_query("ｔｉｔｌｅ：猫").unwrap(), parse_query("title:猫").unwrap());
        assert_eq!(parse_query("978-4-10-109205-8").unwrap(), Some(word("978-4-10-109205-8")));
    }

    #[test]
    fn limits_are_errors() {
        assert_eq!(parse_query(&"あ".repeat(1001)), Err(QuerySyntaxError::TooLong(1001)));
        let many = vec!["猫"; 65].join(" ");
        assert_eq!(parse_query(&many), Err(QuerySyntaxError::TooManyTerms));
    }
}
