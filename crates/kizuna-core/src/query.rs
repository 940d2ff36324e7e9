//! The query language of the matchmaker and of match listing (semantics §11.5): Bluge's "query
//! string" syntax with a keyword analyzer, as Nakama uses it. Parsing follows that grammar token
//! for token, so the same strings are accepted and rejected; evaluation runs against small
//! in-memory documents instead of a search index.
//!
//! ```text
//! query   = part+                      parts separated by spaces
//! part    = ["+" | "-"] base ["^" boost]
//! base    = STRING ["~" fuzz] | NUMBER | PHRASE
//!         | STRING ":" ( STRING ["~" fuzz] | ["-"] NUMBER | PHRASE
//!                      | (">" | ">=" | "<" | "<=") ( ["-"] NUMBER | PHRASE ) )
//! ```
//!
//! `+` clauses must match, `-` clauses must not, others should: with a must clause the shoulds only
//! raise the score; without one at least one should must match; with neither, everything not
//! excluded matches. A term is an exact keyword (`*`/`?` wildcards, `/regexp/`, `~N` edit
//! distance); a number matches that number or that exact keyword; ranges compare numbers, or
//! RFC 3339 times when quoted. Every matching clause scores its boost (constant similarity).
//!
//! Regular expressions and wildcards are untrusted input: each compiles within a size budget
//! (like Bluge's automaton limit), a query holds at most [`MAX_PATTERN_TERMS`] of them, and
//! compiled patterns are shared through a node-wide [`RegexCache`], so repeating a costly
//! pattern costs nothing and memory stays bounded.

use std::{collections::HashMap, sync::Arc};

use parking_lot::Mutex;
use regex::{Regex, RegexBuilder};

/// Most compiled program size of one pattern, in bytes (the regex crate's default is 10 MiB).
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Most lazy-DFA cache of one pattern, in bytes.
const REGEX_DFA_SIZE_LIMIT: usize = 256 * 1024;
/// Regular-expression and wildcard terms one query may hold.
pub const MAX_PATTERN_TERMS: usize = 64;
/// Patterns a [`RegexCache`] keeps; when full it starts over.
const REGEX_CACHE_ENTRIES: usize = 1024;

/// Compiled patterns (and compile failures) by source text, shared by every query of a node.
#[derive(Default)]
pub struct RegexCache {
    compiled: Mutex<HashMap<String, Result<Arc<Regex>, String>>>,
}

impl RegexCache {
    fn get(&self, source: &str) -> Result<Arc<Regex>, ParseError> {
        if let Some(found) = self.compiled.lock().get(source) {
            return found.clone().map_err(ParseError);
        }
        // Compiled outside the lock: a slow pattern does not hold up others.
        let compiled = RegexBuilder::new(source)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
            .build()
            .map(Arc::new)
            .map_err(|e| e.to_string());
        let mut cache = self.compiled.lock();
        if cache.len() >= REGEX_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(source.to_owned(), compiled.clone());
        compiled.map_err(ParseError)
    }
}

/// One indexed value of a document field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Keyword(String),
    Number(f64),
    /// Unix time in nanoseconds.
    Time(i64),
}

/// A flat, multi-valued document: what a query is evaluated against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    fields: Vec<(String, Value)>,
}

impl Document {
    pub fn add(&mut self, field: impl Into<String>, value: Value) {
        self.fields.push((field.into(), value));
    }

    /// Adds a string the way Nakama indexes one: as a time when it parses as one, else a keyword.
    pub fn add_text(&mut self, field: impl Into<String>, text: &str) {
        let value = parse_indexed_time(text).map_or_else(|| Value::Keyword(text.to_owned()), Value::Time);
        self.add(field, value);
    }

    /// Adds a JSON value under `path`: objects extend the path with `.key`, array elements share
    /// the path, booleans are the keywords `T`/`F`, null adds nothing.
    pub fn add_json(&mut self, path: &str, value: &serde_json::Value) {
        match value {
            serde_json::Value::Null => {}
            serde_json::Value::Bool(b) => self.add(path, Value::Keyword(if *b { "T" } else { "F" }.into())),
            serde_json::Value::Number(n) => self.add(path, Value::Number(n.as_f64().unwrap_or(0.0))),
            serde_json::Value::String(s) => self.add_text(path, s),
            serde_json::Value::Array(items) => items.iter().for_each(|v| self.add_json(path, v)),
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let child = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    self.add_json(&child, v);
                }
            }
        }
    }

    /// The keyword values, as (field, keyword).
    pub fn keywords(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().filter_map(|(f, v)| match v {
            Value::Keyword(k) => Some((f.as_str(), k.as_str())),
            _ => None,
        })
    }

    fn values<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.fields.iter().filter(move |(f, _)| f == field).map(|(_, v)| v)
    }
}

/// The time layouts Nakama recognises in indexed strings.
fn parse_indexed_time(s: &str) -> Option<i64> {
    if !s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return t.timestamp_nanos_opt();
    }
    for layout in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, layout) {
            return t.and_utc().timestamp_nanos_opt();
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt()
}

/// A parsed query.
#[derive(Debug, Clone)]
pub enum Query {
    /// `*`: every document.
    All,
    /// The empty query string: no document.
    None,
    Bool(BoolQuery),
}

#[derive(Debug, Clone, Default)]
pub struct BoolQuery {
    must: Vec<Clause>,
    should: Vec<Clause>,
    must_not: Vec<Clause>,
}

#[derive(Debug, Clone)]
struct Clause {
    leaf: Leaf,
    boost: f64,
}

#[derive(Debug, Clone)]
enum Leaf {
    /// Exact keyword (also a quoted phrase: the keyword analyzer keeps it whole).
    Term { field: String, text: String },
    Fuzzy { field: String, text: String, distance: u32 },
    Wildcard { field: String, pattern: Arc<Regex>, any: bool },
    Regexp { field: String, pattern: Arc<Regex> },
    /// A bare number: that keyword or that number.
    Number { field: String, text: String, value: f64 },
    NumberRange { field: String, min: Option<(f64, bool)>, max: Option<(f64, bool)> },
    TimeRange { field: String, min: Option<(i64, bool)>, max: Option<(i64, bool)> },
}

/// Why a query string does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Str(String),
    Num(String),
    Phrase(String),
    Plus,
    Minus,
    Colon,
    Greater,
    Less,
    Equal,
    Boost(String),
    Tilde(String),
}

const RESERVED: &str = "+-=&|><!(){}[]^\"~*?:\\/ ";

fn unescape(c: char, buf: &mut String) {
    if !RESERVED.contains(c) {
        buf.push('\\');
    }
    buf.push(c);
}

/// Splits a query string into tokens, as Bluge's lexer does.
fn lex(input: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' => {
                let mut buf = String::new();
                i += 1;
                loop {
                    let Some(&c) = chars.get(i) else { return Err(ParseError("unterminated quote".into())) };
                    i += 1;
                    match c {
                        '"' => break,
                        '\\' => match chars.get(i) {
                            Some(&n) => {
                                unescape(n, &mut buf);
                                i += 1;
                            }
                            None => return Err(ParseError("unterminated quote".into())),
                        },
                        c => buf.push(c),
                    }
                }
                tokens.push(Token::Phrase(buf));
            }
            '+' | '-' | ':' | '>' | '<' | '=' => {
                tokens.push(match c {
                    '+' => Token::Plus,
                    '-' => Token::Minus,
                    ':' => Token::Colon,
                    '>' => Token::Greater,
                    '<' => Token::Less,
                    _ => Token::Equal,
                });
                i += 1;
            }
            '^' | '~' => {
                // Up to an unescaped space; empty means 1.
                let mut buf = String::new();
                i += 1;
                while let Some(&n) = chars.get(i) {
                    if n == ' ' {
                        i += 1;
                        break;
                    }
                    i += 1;
                    if n == '\\' {
                        if let Some(&e) = chars.get(i) {
                            unescape(e, &mut buf);
                            i += 1;
                        }
                    } else {
                        buf.push(n);
                    }
                }
                if buf.is_empty() {
                    buf.push('1');
                }
                tokens.push(if c == '^' { Token::Boost(buf) } else { Token::Tilde(buf) });
            }
            c if c.is_whitespace() => i += 1,
            _ => {
                // A string, or a number while it is digits with at most one dot. It ends at an
                // unescaped space (consumed) or `:`, `^`, `~` (kept for the next token).
                let mut buf = String::new();
                let mut number = c.is_ascii_digit();
                let mut seen_dot = false;
                while let Some(&n) = chars.get(i) {
                    if matches!(n, ' ' | ':' | '^' | '~') {
                        if n == ' ' {
                            i += 1;
                        }
                        break;
                    }
                    i += 1;
                    if n == '\\' {
                        number = false;
                        if let Some(&e) = chars.get(i) {
                            unescape(e, &mut buf);
                            i += 1;
                        }
                        continue;
                    }
                    if number && !n.is_ascii_digit() {
                        if n == '.' && !seen_dot {
                            seen_dot = true;
                        } else {
                            number = false;
                        }
                    }
                    buf.push(n);
                }
                tokens.push(if number { Token::Num(buf) } else { Token::Str(buf) });
            }
        }
    }
    Ok(tokens)
}

fn syntax_error() -> ParseError {
    ParseError("syntax error".into())
}

fn parse_number(text: &str) -> Result<f64, ParseError> {
    text.parse::<f64>().map_err(|e| ParseError(format!("error parsing number: {e}")))
}

fn parse_query_time(text: &str) -> Result<i64, ParseError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .ok_or_else(|| ParseError(format!("invalid time: {text}")))
}

/// `*` any run, `?` one character, everything else literal; the whole keyword must match.
fn wildcard_regex(pattern: &str, cache: &RegexCache) -> Result<Arc<Regex>, ParseError> {
    let mut re = String::from("^(?s:");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push_str(")$");
    cache.get(&re)
}

fn fuzzy_leaf(field: &str, text: String, fuzz: &str) -> Result<Leaf, ParseError> {
    let distance = fuzz.parse::<f64>().map_err(|e| ParseError(format!("invalid fuzziness value: {e}")))?;
    Ok(Leaf::Fuzzy { field: field.to_owned(), text, distance: distance.max(0.0) as u32 })
}

fn number_leaf(field: &str, text: String) -> Result<Leaf, ParseError> {
    let value = parse_number(&text)?;
    Ok(Leaf::Number { field: field.to_owned(), text, value })
}

struct Parser<'c> {
    tokens: Vec<Token>,
    at: usize,
    regexes: &'c RegexCache,
    /// Regular-expression and wildcard terms so far.
    patterns: usize,
}

impl Parser<'_> {
    fn term_leaf(&mut self, field: &str, text: String) -> Result<Leaf, ParseError> {
        let field = field.to_owned();
        let regexp = text.len() >= 2 && text.starts_with('/') && text.ends_with('/');
        let wildcard = !regexp && text.contains(['*', '?']);
        if !(regexp || wildcard) {
            return Ok(Leaf::Term { field, text });
        }
        self.patterns += 1;
        if self.patterns > MAX_PATTERN_TERMS {
            return Err(ParseError(format!("more than {MAX_PATTERN_TERMS} regular expression or wildcard terms")));
        }
        if regexp {
            let pattern = self.regexes.get(&format!("^(?:{})$", &text[1..text.len() - 1]))?;
            Ok(Leaf::Regexp { field, pattern })
        } else {
            let any = text.chars().all(|c| c == '*');
            Ok(Leaf::Wildcard { field, pattern: wildcard_regex(&text, self.regexes)?, any })
        }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    /// `["-"] NUMBER` as text.
    fn signed_number(&mut self) -> Result<String, ParseError> {
        match self.next() {
            Some(Token::Num(n)) => Ok(n),
            Some(Token::Minus) => match self.next() {
                Some(Token::Num(n)) => Ok(format!("-{n}")),
                _ => Err(syntax_error()),
            },
            _ => Err(syntax_error()),
        }
    }

    fn range(&mut self, field: &str, greater: bool) -> Result<Leaf, ParseError> {
        let inclusive = if self.peek() == Some(&Token::Equal) {
            self.at += 1;
            true
        } else {
            false
        };
        let field = field.to_owned();
        if let Some(Token::Phrase(p)) = self.peek().cloned() {
            self.at += 1;
            let t = parse_query_time(&p)?;
            return Ok(if greater {
                Leaf::TimeRange { field, min: Some((t, inclusive)), max: None }
            } else {
                Leaf::TimeRange { field, min: None, max: Some((t, inclusive)) }
            });
        }
        let n = parse_number(&self.signed_number()?)?;
        Ok(if greater {
            Leaf::NumberRange { field, min: Some((n, inclusive)), max: None }
        } else {
            Leaf::NumberRange { field, min: None, max: Some((n, inclusive)) }
        })
    }

    fn base(&mut self) -> Result<Leaf, ParseError> {
        match self.next() {
            Some(Token::Num(n)) => number_leaf("", n),
            Some(Token::Phrase(p)) => Ok(Leaf::Term { field: String::new(), text: p }),
            Some(Token::Str(s)) => match self.peek().cloned() {
                Some(Token::Tilde(f)) => {
                    self.at += 1;
                    fuzzy_leaf("", s, &f)
                }
                Some(Token::Colon) => {
                    self.at += 1;
                    let field = s;
                    match self.next() {
                        Some(Token::Str(v)) => {
                            if let Some(Token::Tilde(f)) = self.peek().cloned() {
                                self.at += 1;
                                fuzzy_leaf(&field, v, &f)
                            } else {
                                self.term_leaf(&field, v)
                            }
                        }
                        Some(Token::Num(n)) => number_leaf(&field, n),
                        Some(Token::Minus) => match self.next() {
                            Some(Token::Num(n)) => number_leaf(&field, format!("-{n}")),
                            _ => Err(syntax_error()),
                        },
                        Some(Token::Phrase(p)) => Ok(Leaf::Term { field, text: p }),
                        Some(Token::Greater) => self.range(&field, true),
                        Some(Token::Less) => self.range(&field, false),
                        _ => Err(syntax_error()),
                    }
                }
                _ => self.term_leaf("", s),
            },
            _ => Err(syntax_error()),
        }
    }
}

impl Query {
    /// Parses a query string (Nakama's `ParseQueryString`): `*` is everything, `""` nothing.
    /// Compiles its patterns afresh; servers use [`Query::parse_cached`].
    pub fn parse(input: &str) -> Result<Query, ParseError> {
        Query::parse_cached(input, &RegexCache::default())
    }

    /// [`Query::parse`] with patterns from (and into) `regexes`.
    pub fn parse_cached(input: &str, regexes: &RegexCache) -> Result<Query, ParseError> {
        if input == "*" {
            return Ok(Query::All);
        }
        if input.is_empty() {
            return Ok(Query::None);
        }
        let mut parser = Parser { tokens: lex(input)?, at: 0, regexes, patterns: 0 };
        let mut query = BoolQuery::default();
        if parser.tokens.is_empty() {
            return Err(syntax_error());
        }
        while parser.peek().is_some() {
            let kind = match parser.peek() {
                Some(Token::Plus) => 1,
                Some(Token::Minus) => 2,
                _ => 0,
            };
            if kind != 0 {
                parser.at += 1;
            }
            let leaf = parser.base()?;
            let boost = match parser.peek().cloned() {
                Some(Token::Boost(b)) => {
                    parser.at += 1;
                    b.parse::<f64>().map_err(|e| ParseError(format!("invalid boost value: {e}")))?
                }
                _ => 1.0,
            };
            let clause = Clause { leaf, boost };
            match kind {
                1 => query.must.push(clause),
                2 => query.must_not.push(clause),
                _ => query.should.push(clause),
            }
        }
        Ok(Query::Bool(query))
    }

    /// The document's score if it matches: every matching clause adds its boost.
    pub fn score(&self, doc: &Document) -> Option<f64> {
        match self {
            Query::All => Some(1.0),
            Query::None => None,
            Query::Bool(b) => b.score(doc),
        }
    }

    pub fn matches(&self, doc: &Document) -> bool {
        self.score(doc).is_some()
    }

    /// The (field, keyword) pairs every matching document holds: the query's `+field:keyword`
    /// clauses. An index of keywords can narrow the documents to evaluate with them.
    pub fn required_keywords(&self) -> impl Iterator<Item = (&str, &str)> {
        let must = match self {
            Query::Bool(b) => b.must.as_slice(),
            _ => &[],
        };
        must.iter().filter_map(|c| match &c.leaf {
            Leaf::Term { field, text } => Some((field.as_str(), text.as_str())),
            _ => None,
        })
    }
}

impl BoolQuery {
    fn score(&self, doc: &Document) -> Option<f64> {
        if self.must_not.iter().any(|c| c.leaf.score(doc).is_some()) {
            return None;
        }
        let mut score = 0.0;
        for c in &self.must {
            score += c.leaf.score(doc)? * c.boost;
        }
        let mut any_should = false;
        for c in &self.should {
            if let Some(s) = c.leaf.score(doc) {
                any_should = true;
                score += s * c.boost;
            }
        }
        if self.must.is_empty() && !self.should.is_empty() && !any_should {
            return None;
        }
        Some(score)
    }
}

fn in_range<T: PartialOrd>(v: T, min: &Option<(T, bool)>, max: &Option<(T, bool)>) -> bool {
    let above = match min {
        None => true,
        Some((m, true)) => v >= *m,
        Some((m, false)) => v > *m,
    };
    let below = match max {
        None => true,
        Some((m, true)) => v <= *m,
        Some((m, false)) => v < *m,
    };
    above && below
}

/// Levenshtein distance in characters, stopping early once it exceeds `limit`.
fn within_distance(a: &str, b: &str, limit: u32) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > limit as usize {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        if cur.iter().min().copied().unwrap_or(0) > limit as usize {
            return false;
        }
        prev = cur;
    }
    prev[b.len()] <= limit as usize
}

impl Leaf {
    /// 1 if some value of the field matches (2 for a number matching as keyword and number).
    fn score(&self, doc: &Document) -> Option<f64> {
        let hit = match self {
            Leaf::Term { field, text } => doc.values(field).any(|v| matches!(v, Value::Keyword(k) if k == text)),
            Leaf::Fuzzy { field, text, distance } => {
                // Bluge refuses edit distances above 2: such a clause matches nothing.
                *distance <= 2 && doc.values(field).any(|v| matches!(v, Value::Keyword(k) if within_distance(k, text, *distance)))
            }
            Leaf::Wildcard { field, pattern, any } => doc.values(field).any(|v| match v {
                Value::Keyword(k) => pattern.is_match(k),
                // Numbers and times are indexed as encoded terms that only a bare `*` matches.
                _ => *any,
            }),
            Leaf::Regexp { field, pattern } => doc.values(field).any(|v| matches!(v, Value::Keyword(k) if pattern.is_match(k))),
            Leaf::Number { field, text, value } => {
                let keyword = doc.values(field).any(|v| matches!(v, Value::Keyword(k) if k == text));
                let number = doc.values(field).any(|v| matches!(v, Value::Number(n) if n == value));
                return match (keyword, number) {
                    (false, false) => None,
                    (true, true) => Some(2.0),
                    _ => Some(1.0),
                };
            }
            Leaf::NumberRange { field, min, max } => doc.values(field).any(|v| matches!(v, Value::Number(n) if in_range(*n, min, max))),
            Leaf::TimeRange { field, min, max } => doc.values(field).any(|v| matches!(v, Value::Time(t) if in_range(*t, min, max))),
        };
        hit.then_some(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: serde_json::Value) -> Document {
        let mut d = Document::default();
        d.add_json("properties", &v);
        d
    }

    fn hits(q: &str, d: &Document) -> bool {
        Query::parse(q).unwrap_or_else(|e| panic!("{q}: {e}")).matches(d)
    }

    #[test]
    fn must_should_and_must_not_clauses() {
        let d = doc(json!({"region": "europe", "mode": "ctf", "rank": 5}));
        assert!(hits("+properties.region:europe", &d));
        assert!(!hits("+properties.region:asia", &d));
        assert!(hits("properties.region:asia properties.mode:ctf", &d), "one should is enough");
        assert!(!hits("properties.region:asia properties.mode:dm", &d));
        assert!(hits("+properties.region:europe properties.mode:dm", &d), "shoulds are optional beside a must");
        assert!(!hits("-properties.mode:ctf", &d));
        assert!(hits("-properties.mode:dm", &d), "only must-nots: everything else");
        assert!(hits("*", &d));
        assert!(!hits("", &d));
        // Without a field nothing matches (Nakama never fills the default field).
        assert!(!hits("europe", &d));
    }

    #[test]
    fn numbers_ranges_and_times() {
        let d = doc(json!({"rank": 5, "level": "5", "neg": -3.5, "at": "2024-06-01T12:00:00Z"}));
        assert!(hits("+properties.rank:5", &d));
        assert!(hits("+properties.level:5", &d), "a number also matches the same keyword");
        assert!(hits("+properties.rank:>=5 +properties.rank:<6", &d));
        assert!(!hits("+properties.rank:>5", &d));
        assert!(hits("+properties.neg:<-3", &d));
        assert!(hits("+properties.neg:-3.5", &d));
        assert!(hits(r#"+properties.at:>"2024-01-01T00:00:00Z""#, &d));
        assert!(!hits(r#"+properties.at:<"2024-01-01T00:00:00Z""#, &d));
        assert!(!hits("+properties.at:2024-06-01T12", &d), "a time is not a keyword");
        let required = Query::parse(r#"+a:x +b:"y z" c:w +d:>1 -e:v"#).unwrap();
        assert_eq!(required.required_keywords().collect::<Vec<_>>(), vec![("a", "x"), ("b", "y z")]);
        let ranked = Query::parse("properties.rank:5 properties.level:5^3").unwrap();
        assert_eq!(ranked.score(&d), Some(1.0 + 3.0));
    }

    #[test]
    fn patterns_are_bounded_in_size_and_number_and_shared() {
        // One pattern over the compile budget is refused instead of growing without bound.
        assert!(Query::parse(r"+p:/\w{1000}/").is_err());
        // At most MAX_PATTERN_TERMS patterns per query.
        let terms = |n: usize| (0..n).map(|i| format!("p:/a{i}.*/")).collect::<Vec<_>>().join(" ");
        assert!(Query::parse(&terms(MAX_PATTERN_TERMS)).is_ok());
        assert!(Query::parse(&terms(MAX_PATTERN_TERMS + 1)).is_err());
        // Plain terms do not count.
        let plain = (0..200).map(|i| format!("p:v{i}")).collect::<Vec<_>>().join(" ");
        assert!(Query::parse(&plain).is_ok());
        // The same pattern compiles once per cache.
        let cache = RegexCache::default();
        let (Query::Bool(a), Query::Bool(b)) =
            (Query::parse_cached("+p:/x+/", &cache).unwrap(), Query::parse_cached("+q:/x+/", &cache).unwrap())
        else {
            panic!("boolean queries")
        };
        let (Leaf::Regexp { pattern: pa, .. }, Leaf::Regexp { pattern: pb, .. }) = (&a.must[0].leaf, &b.must[0].leaf) else {
            panic!("regexp leaves")
        };
        assert!(Arc::ptr_eq(pa, pb));
    }

    #[test]
    fn phrases_wildcards_regexps_fuzzy_and_booleans() {
        let d = doc(json!({"name": "big castle", "map": "castle-2", "open": true, "tags": ["a", "b"], "skill": 10}));
        assert!(hits(r#"+properties.name:"big castle""#, &d));
        assert!(hits("+properties.map:cast*", &d));
        assert!(hits("+properties.map:castle-?", &d));
        assert!(!hits("+properties.map:cast", &d));
        assert!(hits("+properties.map:/c.*e-[0-9]/", &d));
        assert!(!hits("+properties.map:/astle/", &d), "a regexp matches the whole keyword");
        assert!(hits("+properties.map:castel-2~2", &d));
        assert!(!hits("+properties.map:cstl-2~1", &d));
        assert!(hits("+properties.open:T", &d));
        assert!(hits("+properties.tags:b", &d));
        assert!(hits("+properties.skill:*", &d), "a bare * matches any value");
        assert!(hits(r"+properties.name:big\ castle", &d), "an escaped space stays in the term");
    }

    #[test]
    fn malformed_queries_are_rejected_like_bluge_does() {
        for bad in ["+", "field:", r#"field:"open"#, "field:>abc", "a^x", "field:-x", ":x", "a~b", "field:>=", " "] {
            assert!(Query::parse(bad).is_err(), "{bad:?} should not parse");
        }
        for good in ["a", "a^2", "a~", "field:x~1", "+a -b c", "field:>=-1", "f:1.5", "f:1.5.5", "x:a-b"] {
            assert!(Query::parse(good).is_ok(), "{good:?} should parse");
        }
    }

    #[test]
    fn strings_that_look_like_times_are_indexed_as_times() {
        let mut d = Document::default();
        d.add_text("a", "2024-01-02");
        d.add_text("b", "2024-01-02 03:04:05");
        d.add_text("c", "2024-01-02T03:04:05.5Z");
        d.add_text("k", "2024-13-45");
        assert!(d.values("a").all(|v| matches!(v, Value::Time(_))));
        assert!(d.values("b").all(|v| matches!(v, Value::Time(_))));
        assert!(d.values("c").all(|v| matches!(v, Value::Time(_))));
        assert_eq!(d.values("k").next(), Some(&Value::Keyword("2024-13-45".into())));
    }
}
