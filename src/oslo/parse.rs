//! The oslo.policy rule language, parsed exactly as `oslo_policy._parser` parses it: the text is split on
//! whitespace, parentheses are peeled off each piece, and a greedy shift-reduce parser folds the tokens.
//!
//! oslo.policy never rejects a rule: a piece without `:` becomes `!` (that piece only), and a rule that
//! does not reduce to one check (`role:a and`, an unbalanced parenthesis, a quoted word standing alone)
//! becomes `!` as a whole. The parser does the same and keeps a [`Note`] for each such place, with its
//! column, so that `lint` and the trace can say why.

use std::fmt;

/// One node of a rule tree (oslo.policy's `BaseCheck` subclasses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// `@`, or an empty rule: always true.
    True,
    /// `!`, or a rule oslo.policy could not parse: always false.
    False,
    Not(Box<Check>),
    And(Vec<Check>),
    Or(Vec<Check>),
    /// `rule:NAME`: the named rule (or the `default` rule when the name is not defined).
    Rule(String),
    /// `role:NAME`: the token carries that role, compared case-insensitively.
    Role(String),
    /// `KIND:MATCH` for any other kind: a credential field (`project_id:%(project_id)s`, dotted for nested
    /// fields) or a Python literal (`True:%(enabled)s`, `'admin':%(name)s`).
    Generic {
        kind: String,
        matched: String,
    },
    /// `http:` / `https:`: oslo.policy's remote checks, which ask a server at run time.
    External {
        kind: String,
        matched: String,
    },
}

impl fmt::Display for Check {
    /// The text oslo.policy's `str()` gives the same tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::True => f.write_str("@"),
            Check::False => f.write_str("!"),
            Check::Not(c) => write!(f, "not {c}"),
            Check::And(cs) | Check::Or(cs) => {
                let op = if matches!(self, Check::And(_)) {
                    " and "
                } else {
                    " or "
                };
                f.write_str("(")?;
                for (i, c) in cs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str(")")
            }
            Check::Rule(m) => write!(f, "rule:{m}"),
            Check::Role(m) => write!(f, "role:{m}"),
            Check::Generic { kind, matched } | Check::External { kind, matched } => {
                write!(f, "{kind}:{matched}")
            }
        }
    }
}

impl Check {
    /// Every `rule:NAME` this tree references, in order.
    pub fn references(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk_refs(&mut out);
        out
    }

    fn walk_refs<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Check::Rule(m) => out.push(m),
            Check::Not(c) => c.walk_refs(out),
            Check::And(cs) | Check::Or(cs) => cs.iter().for_each(|c| c.walk_refs(out)),
            _ => {}
        }
    }
}

/// Something oslo.policy silently turned into `!`, with where it is in the rule text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// 1-based column, in characters, in the rule text.
    pub column: usize,
    pub message: String,
}

/// A parsed rule: the tree oslo.policy builds, and what it silently changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub check: Check,
    pub notes: Vec<Note>,
}

#[derive(Debug)]
enum Token {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Str,
    Check(Check),
    AndExpr(Vec<Check>),
    OrExpr(Vec<Check>),
}

/// Python's `\s` (str patterns): Unicode whitespace plus the four separators `str.isspace` accepts.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Parse a rule written in the policy language (`_parser._parse_text_rule`).
pub fn parse(rule: &str) -> Parsed {
    if rule.is_empty() {
        return Parsed {
            check: Check::True,
            notes: Vec::new(),
        };
    }
    let mut notes = Vec::new();
    let mut stack: Vec<Token> = Vec::new();
    let mut first_str: Option<usize> = None;
    for (column, tok) in pieces(rule) {
        let clean = tok.trim_start_matches('(');
        let lead = tok.len() - clean.len();
        for _ in 0..lead {
            shift(&mut stack, Token::LParen);
        }
        if clean.is_empty() {
            continue;
        }
        let tok = clean;
        let column = column + lead;
        let clean = tok.trim_end_matches(')');
        let trail = tok.len() - clean.len();
        let lowered = clean.to_lowercase();
        match lowered.as_str() {
            "and" => shift(&mut stack, Token::And),
            "or" => shift(&mut stack, Token::Or),
            "not" => shift(&mut stack, Token::Not),
            _ if !clean.is_empty() => {
                let quoted = tok.len() >= 2
                    && ((tok.starts_with('"') && tok.ends_with('"'))
                        || (tok.starts_with('\'') && tok.ends_with('\'')));
                if quoted {
                    first_str.get_or_insert(column);
                    shift(&mut stack, Token::Str);
                } else {
                    let check = parse_check(clean);
                    if check == Check::False && clean != "!" {
                        notes.push(Note {
                            column,
                            message: format!(
                                "`{clean}` is neither `@`, `!` nor `KIND:MATCH`; oslo.policy reads it as `!` (never true)"
                            ),
                        });
                    }
                    shift(&mut stack, Token::Check(check));
                }
            }
            _ => {}
        }
        for _ in 0..trail {
            shift(&mut stack, Token::RParen);
        }
    }
    let check = match stack.as_slice() {
        [Token::Check(c)] => Some(c.clone()),
        [Token::AndExpr(cs)] => Some(Check::And(cs.clone())),
        [Token::OrExpr(cs)] => Some(Check::Or(cs.clone())),
        _ => None,
    };
    match check {
        Some(check) => Parsed { check, notes },
        None => {
            let (column, message) = match first_str {
                Some(c) => (
                    c,
                    "a quoted word cannot stand alone (a literal is written `'value':%(key)s`)"
                        .to_owned(),
                ),
                None => (rule.chars().count().max(1), unreduced(&stack)),
            };
            notes.push(Note {
                column,
                message: format!("{message}; oslo.policy cannot parse the rule and reads all of it as `!` (never true)"),
            });
            Parsed {
                check: Check::False,
                notes,
            }
        }
    }
}

/// What is left when the tokens do not fold into one check.
fn unreduced(stack: &[Token]) -> String {
    let opens = stack.iter().filter(|t| matches!(t, Token::LParen)).count();
    let closes = stack.iter().filter(|t| matches!(t, Token::RParen)).count();
    if stack.is_empty() {
        "the rule is only whitespace".to_owned()
    } else if opens > 0 && closes == 0 {
        "a `(` is never closed".to_owned()
    } else if closes > 0 {
        "a `)` has no matching `(` (or the group inside it is incomplete)".to_owned()
    } else if matches!(stack.last(), Some(Token::And | Token::Or | Token::Not)) {
        "the rule ends with an operator".to_owned()
    } else {
        "two checks follow each other without `and` / `or` between them, or an operator is misplaced"
            .to_owned()
    }
}

/// The whitespace-separated pieces of the rule, each with its 1-based column.
fn pieces(rule: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (byte, column)
    let mut column = 0;
    for (byte, c) in rule.char_indices() {
        column += 1;
        if is_py_space(c) {
            if let Some((b, col)) = start.take() {
                out.push((col, rule.get(b..byte).unwrap_or_default()));
            }
        } else if start.is_none() {
            start = Some((byte, column));
        }
    }
    if let Some((b, col)) = start {
        out.push((col, rule.get(b..).unwrap_or_default()));
    }
    out
}

/// One check (`_parser._parse_check`).
pub fn parse_check(text: &str) -> Check {
    match text {
        "!" => return Check::False,
        "@" => return Check::True,
        _ => {}
    }
    let Some((kind, matched)) = text.split_once(':') else {
        return Check::False;
    };
    let (kind, matched) = (kind.to_owned(), matched.to_owned());
    match kind.as_str() {
        "http" | "https" => Check::External { kind, matched },
        "rule" => Check::Rule(matched),
        "role" => Check::Role(matched),
        _ => Check::Generic { kind, matched },
    }
}

fn shift(stack: &mut Vec<Token>, token: Token) {
    stack.push(token);
    reduce(stack);
}

/// `ParseState.reduce`: apply the first matching reduction at the top of the stack, repeatedly.
fn reduce(stack: &mut Vec<Token>) {
    loop {
        let n = stack.len();
        let reduced = if n >= 3 {
            let tail = stack.split_off(n - 3);
            match <[Token; 3]>::try_from(tail) {
                Ok(three) => match reduce3(three) {
                    Ok(t) => {
                        stack.push(t);
                        true
                    }
                    Err(three) => {
                        stack.extend(three);
                        false
                    }
                },
                Err(tail) => {
                    stack.extend(tail);
                    false
                }
            }
        } else {
            false
        };
        if reduced {
            continue;
        }
        if n >= 2 {
            if let [.., Token::Not, Token::Check(_)] = stack.as_slice() {
                if let Some(Token::Check(c)) = stack.pop() {
                    stack.pop();
                    stack.push(Token::Check(Check::Not(Box::new(c))));
                    continue;
                }
            }
        }
        return;
    }
}

#[expect(
    clippy::result_large_err,
    reason = "the three tokens go back on the stack unchanged; no copy"
)]
fn reduce3(three: [Token; 3]) -> Result<Token, [Token; 3]> {
    use Token as T;
    match three {
        [T::LParen, T::Check(c), T::RParen] => Ok(T::Check(c)),
        [T::LParen, T::AndExpr(cs), T::RParen] => Ok(T::Check(Check::And(cs))),
        [T::LParen, T::OrExpr(cs), T::RParen] => Ok(T::Check(Check::Or(cs))),
        [T::Check(a), T::And, T::Check(b)] => Ok(T::AndExpr(vec![a, b])),
        [T::AndExpr(mut cs), T::And, T::Check(b)] => {
            cs.push(b);
            Ok(T::AndExpr(cs))
        }
        [T::OrExpr(mut cs), T::And, T::Check(b)] => {
            // `a or b and c`: the `and` takes the last operand of the `or`, extending it if it is an `and`.
            let and = match cs.pop() {
                Some(Check::And(mut inner)) => {
                    inner.push(b);
                    Check::And(inner)
                }
                Some(last) => Check::And(vec![last, b]),
                None => Check::And(vec![b]),
            };
            cs.push(and);
            Ok(T::OrExpr(cs))
        }
        [T::Check(a), T::Or, T::Check(b)] => Ok(T::OrExpr(vec![a, b])),
        [T::AndExpr(a), T::Or, T::Check(b)] => Ok(T::OrExpr(vec![Check::And(a), b])),
        [T::OrExpr(mut cs), T::Or, T::Check(b)] => {
            cs.push(b);
            Ok(T::OrExpr(cs))
        }
        other => Err(other),
    }
}

/// A rule in the old list-of-lists syntax (`_parser._parse_list_rule`): an `or` of `and`s. `[]` is `@`;
/// a list whose inner lists are all empty is `!`.
pub fn parse_list(rule: &[Vec<String>]) -> Parsed {
    if rule.is_empty() {
        return Parsed {
            check: Check::True,
            notes: Vec::new(),
        };
    }
    let mut ors = Vec::new();
    for inner in rule.iter().filter(|i| !i.is_empty()) {
        let mut ands: Vec<Check> = inner.iter().map(|r| parse_check(r)).collect();
        if ands.len() == 1 {
            ors.extend(ands.pop());
        } else {
            ors.push(Check::And(ands));
        }
    }
    let check = match ors.len() {
        0 => Check::False,
        1 => ors.pop().unwrap_or(Check::False),
        _ => Check::Or(ors),
    };
    Parsed {
        check,
        notes: Vec::new(),
    }
}
