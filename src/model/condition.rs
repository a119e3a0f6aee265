//! OVHcloud policy conditions (the domain notes §1.6): a tree of `AND` / `OR` / `NOT` over `MATCH` leaves whose keys
//! end with a comparison (`request.IP.IN_RANGE`, `date(Europe/Paris).WeekDay.IN`, `resource.Tag(env)`).
//! Evaluation is three-valued: a key the request does not supply is *unknown*, never guessed.

use std::net::IpAddr;

use indexmap::IndexMap;

/// A checked condition tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// Every test must hold (several keys in one MATCH: all of them, inferred).
    Match(Vec<Test>),
}

/// One `key: value` of a MATCH.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    /// The key as written.
    pub key: Box<str>,
    pub subject: Subject,
    pub op: Op,
    pub value: Box<str>,
}

/// What a key reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// `date(TZ).Date|WeekDay|Hour`, computed from the evaluation time.
    Date {
        tz_name: Box<str>,
        tz: jiff::tz::TimeZone,
        field: DateField,
    },
    /// `resource.Type`, taken from the request's resource URN.
    ResourceType,
    /// Anything else (`request.IP`, `resource.Tag(env)`, `resource.Name`): from the request context.
    Context(Box<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateField {
    Date,
    WeekDay,
    Hour,
}

/// The comparison at the end of a key; `EQ` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Before,
    After,
    Ge,
    Le,
    Gt,
    Lt,
    In,
    InRange,
    StartsWith,
    EndsWith,
}

impl Op {
    pub const ALL: [(&'static str, Op); 11] = [
        ("EQ", Op::Eq),
        ("BEFORE", Op::Before),
        ("AFTER", Op::After),
        ("GE", Op::Ge),
        ("LE", Op::Le),
        ("GT", Op::Gt),
        ("LT", Op::Lt),
        ("IN", Op::In),
        ("IN_RANGE", Op::InRange),
        ("STARTS_WITH", Op::StartsWith),
        ("ENDS_WITH", Op::EndsWith),
    ];

    /// The documented spelling is upper case; the Terraform docs write `.In`, so case is ignored [obs].
    fn parse(s: &str) -> Option<Op> {
        Op::ALL
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|&(_, op)| op)
    }
}

const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The result of evaluating a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    /// A key the request did not supply decides it.
    Unknown,
}

/// What a condition is evaluated against.
pub struct Env<'a> {
    pub context: &'a IndexMap<String, String>,
    pub at: jiff::Timestamp,
    pub resource_type: Option<&'a str>,
}

impl Condition {
    /// Evaluate; the keys that were needed but missing are pushed onto `missing`.
    pub fn eval(&self, env: &Env<'_>, missing: &mut Vec<String>) -> Truth {
        match self {
            Condition::And(all) => {
                let mut out = Truth::True;
                for c in all {
                    match c.eval(env, missing) {
                        Truth::False => return Truth::False,
                        Truth::Unknown => out = Truth::Unknown,
                        Truth::True => {}
                    }
                }
                out
            }
            Condition::Or(any) => {
                let mut out = Truth::False;
                for c in any {
                    match c.eval(env, missing) {
                        Truth::True => return Truth::True,
                        Truth::Unknown => out = Truth::Unknown,
                        Truth::False => {}
                    }
                }
                out
            }
            Condition::Not(inner) => match inner.eval(env, missing) {
                Truth::True => Truth::False,
                Truth::False => Truth::True,
                Truth::Unknown => Truth::Unknown,
            },
            Condition::Match(tests) => {
                let mut out = Truth::True;
                for t in tests {
                    match t.eval(env, missing) {
                        Truth::False => return Truth::False,
                        Truth::Unknown => out = Truth::Unknown,
                        Truth::True => {}
                    }
                }
                out
            }
        }
    }
}

impl Condition {
    /// In words, the clauses that make this condition `holds` (its value under `env`, which must be
    /// `True` or `False`) and the values they saw: for a condition that does not hold, the clause that
    /// failed (`` `request.IP` 203.0.113.9 is not in 198.51.100.0/24 ``); every clause of an `OR` that
    /// failed; the inner clause that held under a `NOT`.
    pub fn explain(&self, env: &Env<'_>, holds: bool) -> String {
        let truth = |c: &Condition| c.eval(env, &mut Vec::new());
        let want = if holds { Truth::True } else { Truth::False };
        let all = |cs: &mut dyn Iterator<Item = String>| cs.collect::<Vec<_>>().join(", and ");
        match self {
            Condition::And(cs) if holds => all(&mut cs.iter().map(|c| c.explain(env, true))),
            Condition::Or(cs) if !holds => all(&mut cs.iter().map(|c| c.explain(env, false))),
            Condition::And(cs) | Condition::Or(cs) => cs
                .iter()
                .find(|c| truth(c) == want)
                .map(|c| c.explain(env, holds))
                .unwrap_or_default(),
            Condition::Not(inner) => format!("{} (under NOT)", inner.explain(env, !holds)),
            Condition::Match(tests) if holds => {
                all(&mut tests.iter().map(|t| t.explain(env, true)))
            }
            Condition::Match(tests) => tests
                .iter()
                .find(|t| t.eval(env, &mut Vec::new()) == Truth::False)
                .map(|t| t.explain(env, false))
                .unwrap_or_default(),
        }
    }
}

impl Test {
    /// Parse a MATCH key and its value; the error says what was expected.
    pub fn parse(key: &str, value: &str) -> Result<Test, String> {
        let (subject_text, op) = split_op(key);
        let op = match op {
            Some(name) => Op::parse(name).ok_or_else(|| {
                format!("unknown comparison `{name}` in condition key `{key}`; expected one of EQ, BEFORE, AFTER, GE, LE, GT, LT, IN, IN_RANGE, STARTS_WITH, ENDS_WITH")
            })?,
            None => Op::Eq,
        };
        let subject = if let Some(rest) = subject_text.strip_prefix("date(") {
            let (tz_name, field) = rest.split_once(").").ok_or_else(|| {
                format!("malformed date key `{key}`; expected `date(Europe/Paris).WeekDay`")
            })?;
            let tz = jiff::tz::db().get(tz_name).map_err(|_| format!("unknown time zone `{tz_name}` in `{key}`; expected an IANA name such as `Europe/Paris` or `UTC`"))?;
            let field = match field {
                "Date" => DateField::Date,
                "WeekDay" => DateField::WeekDay,
                "Hour" => DateField::Hour,
                other => {
                    return Err(format!(
                    "unknown date field `{other}` in `{key}`; expected `Date`, `WeekDay` or `Hour`"
                ))
                }
            };
            Subject::Date {
                tz_name: tz_name.into(),
                tz,
                field,
            }
        } else if subject_text == "resource.Type" {
            Subject::ResourceType
        } else if subject_text.starts_with("request.") || subject_text.starts_with("resource.") {
            Subject::Context(subject_text.into())
        } else {
            return Err(format!(
                "unknown condition key `{key}`; expected `request.IP`, `resource.Tag(NAME)`, `resource.Name`, `resource.Type` or `date(TZ).Date|WeekDay|Hour`, optionally followed by a comparison such as `.IN`"
            ));
        };
        check_value(&subject, op, value).map_err(|why| format!("condition `{key}`: {why}"))?;
        Ok(Test {
            key: key.into(),
            subject,
            op,
            value: value.into(),
        })
    }

    /// The context key this test reads, if it reads one.
    pub fn context_key(&self) -> Option<&str> {
        match &self.subject {
            Subject::Context(k) => Some(k),
            _ => None,
        }
    }

    /// What the key reads, in words: `request.IP`, `resource.Type`, `date(Europe/Paris).WeekDay`.
    fn subject_text(&self) -> std::borrow::Cow<'_, str> {
        match &self.subject {
            Subject::Date { tz_name, field, .. } => {
                let field = match field {
                    DateField::Date => "Date",
                    DateField::WeekDay => "WeekDay",
                    DateField::Hour => "Hour",
                };
                format!("date({tz_name}).{field}").into()
            }
            Subject::ResourceType => "resource.Type".into(),
            Subject::Context(k) => (**k).into(),
        }
    }

    /// `` `request.IP` 203.0.113.9 is not in 198.51.100.0/24 `` (`holds`: `... is in ...`).
    fn explain(&self, env: &Env<'_>, holds: bool) -> String {
        let (yes, no) = match self.op {
            Op::Eq => ("is", "is not"),
            Op::In => ("is one of", "is not one of"),
            Op::InRange => ("is in", "is not in"),
            Op::StartsWith => ("starts with", "does not start with"),
            Op::EndsWith => ("ends with", "does not end with"),
            Op::Before => ("is before", "is not before"),
            Op::After => ("is after", "is not after"),
            Op::Lt => ("is less than", "is not less than"),
            Op::Gt => ("is greater than", "is not greater than"),
            Op::Ge => ("is at least", "is less than"),
            Op::Le => ("is at most", "is more than"),
        };
        let actual = self.actual(env).unwrap_or_default();
        let verb = if holds { yes } else { no };
        format!("`{}` {actual} {verb} {}", self.subject_text(), self.value)
    }

    /// The value the key reads in `env`; `None` when the request does not supply it.
    fn actual<'e>(&self, env: &Env<'e>) -> Option<std::borrow::Cow<'e, str>> {
        Some(match &self.subject {
            Subject::Date { tz, field, .. } => {
                let zoned = env.at.to_zoned_datetime(tz.clone());
                match field {
                    DateField::Date => zoned.date().to_string().into(),
                    DateField::Hour => zoned.hour().to_string().into(),
                    DateField::WeekDay => {
                        let i = usize::from(zoned.weekday().to_monday_zero_offset().unsigned_abs());
                        WEEKDAYS.get(i).copied().unwrap_or("").into()
                    }
                }
            }
            Subject::ResourceType => env.resource_type?.into(),
            Subject::Context(key) => env.context.get(&**key)?.as_str().into(),
        })
    }

    fn eval(&self, env: &Env<'_>, missing: &mut Vec<String>) -> Truth {
        let Some(actual) = self.actual(env) else {
            push_missing(missing, &self.subject_text());
            return Truth::Unknown;
        };
        if compare(self.op, &actual, &self.value) {
            Truth::True
        } else {
            Truth::False
        }
    }
}

fn push_missing(missing: &mut Vec<String>, key: &str) {
    if !missing.iter().any(|k| k == key) {
        missing.push(key.to_owned());
    }
}

/// Split `request.IP.IN_RANGE` into (`request.IP`, Some(`IN_RANGE`)); a last part that is not a comparison
/// name is part of the subject (`resource.Name`). A `.` inside parentheses (`resource.Tag(a.b)`) never splits.
fn split_op(key: &str) -> (&str, Option<&str>) {
    let mut depth = 0i32;
    let mut last_dot = None;
    for (i, c) in key.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '.' if depth == 0 => last_dot = Some(i),
            _ => {}
        }
    }
    if let Some(i) = last_dot {
        let (subject, op) = (key.get(..i).unwrap_or(key), key.get(i + 1..).unwrap_or(""));
        let known_subject_tail = ["IP", "Name", "Type", "Date", "WeekDay", "Hour"].contains(&op)
            || op.starts_with("Tag(");
        if !known_subject_tail
            && !op.is_empty()
            && op.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_')
        {
            return (subject, Some(op));
        }
    }
    (key, None)
}

fn check_value(subject: &Subject, op: Op, value: &str) -> Result<(), String> {
    let list: Vec<&str> = if matches!(op, Op::In | Op::InRange) {
        value.split(',').map(str::trim).collect()
    } else {
        vec![value]
    };
    for v in &list {
        if v.is_empty() {
            return Err(format!("empty value in `{value}`"));
        }
        if op == Op::InRange {
            parse_cidr(v).ok_or_else(|| {
                format!("`{v}` is not an IP range; expected CIDR like `192.0.2.0/24`")
            })?;
        }
        match subject {
            Subject::Date {
                field: DateField::WeekDay,
                ..
            } if !WEEKDAYS.contains(v) => {
                return Err(format!(
                    "`{v}` is not a week day; expected lowercase English names like `monday`"
                ));
            }
            Subject::Date {
                field: DateField::Hour,
                ..
            } if v.parse::<u8>().map_or(true, |h| h > 23) => {
                return Err(format!("`{v}` is not an hour; expected 0 to 23"));
            }
            Subject::Date {
                field: DateField::Date,
                ..
            } if v.parse::<jiff::civil::Date>().is_err() => {
                return Err(format!("`{v}` is not a date; expected YYYY-MM-DD"));
            }
            _ => {}
        }
    }
    Ok(())
}

fn compare(op: Op, actual: &str, value: &str) -> bool {
    let ordered = || match (actual.parse::<i64>(), value.parse::<i64>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => actual.cmp(value),
    };
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => actual == value,
        Op::In => value.split(',').any(|v| v.trim() == actual),
        Op::InRange => match actual.parse::<IpAddr>() {
            Ok(ip) => value
                .split(',')
                .filter_map(|v| parse_cidr(v.trim()))
                .any(|(net, bits)| in_range(ip, net, bits)),
            Err(_) => false,
        },
        Op::StartsWith => actual.starts_with(value),
        Op::EndsWith => actual.ends_with(value),
        Op::Before | Op::Lt => ordered() == Less,
        Op::After | Op::Gt => ordered() == Greater,
        Op::Ge => ordered() != Less,
        Op::Le => ordered() != Greater,
    }
}

/// `192.0.2.0/24` or a bare address (a /32 or /128).
fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a.parse::<IpAddr>().ok()?, b.parse::<u8>().ok()?),
        None => {
            let a = s.parse::<IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((addr, bits))
}

fn in_range(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(ctx: &[(&str, &str)], at: &str) -> (IndexMap<String, String>, jiff::Timestamp) {
        (
            ctx.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            at.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        )
    }

    #[test]
    fn keys_split_into_subject_and_comparison() {
        assert_eq!(
            split_op("request.IP.IN_RANGE"),
            ("request.IP", Some("IN_RANGE"))
        );
        assert_eq!(split_op("resource.Tag(a.b)"), ("resource.Tag(a.b)", None));
        assert_eq!(split_op("resource.Name"), ("resource.Name", None));
        assert_eq!(
            split_op("date(Europe/Paris).WeekDay.In"),
            ("date(Europe/Paris).WeekDay", Some("In"))
        );
    }

    #[test]
    fn weekday_uses_the_key_time_zone() {
        let t = Test::parse("date(Europe/Paris).WeekDay.IN", "monday").map_err(|e| e.to_string());
        let (ctx, at) = env(&[], "2026-06-07T22:30:00Z"); // Sunday in UTC, Monday 00:30 in Paris
        let e = Env {
            context: &ctx,
            at,
            resource_type: None,
        };
        assert_eq!(t.map(|t| t.eval(&e, &mut vec![])), Ok(Truth::True));
    }

    #[test]
    fn ip_ranges_and_missing_context() {
        let t = Test::parse("request.IP.IN_RANGE", "192.0.2.0/24").ok();
        let (ctx, at) = env(&[("request.IP", "192.0.2.10")], "2026-01-01T00:00:00Z");
        let e = Env {
            context: &ctx,
            at,
            resource_type: None,
        };
        assert_eq!(
            t.as_ref().map(|t| t.eval(&e, &mut vec![])),
            Some(Truth::True)
        );
        let (ctx2, _) = env(&[("request.IP", "198.51.100.1")], "2026-01-01T00:00:00Z");
        let e2 = Env {
            context: &ctx2,
            at,
            resource_type: None,
        };
        assert_eq!(
            t.as_ref().map(|t| t.eval(&e2, &mut vec![])),
            Some(Truth::False)
        );
        let empty = IndexMap::new();
        let e3 = Env {
            context: &empty,
            at,
            resource_type: None,
        };
        let mut missing = vec![];
        assert_eq!(t.map(|t| t.eval(&e3, &mut missing)), Some(Truth::Unknown));
        assert_eq!(missing, vec!["request.IP"]);
    }

    #[test]
    fn bad_keys_and_values_are_errors() {
        assert!(Test::parse("request.IP.NEAR", "x").is_err());
        assert!(Test::parse("request.IP.IN_RANGE", "not-a-cidr").is_err());
        assert!(Test::parse("date(Mars/Olympus).Hour", "3").is_err());
        assert!(Test::parse("date(UTC).WeekDay.IN", "Monday").is_err());
        assert!(Test::parse("date(UTC).Hour.GE", "24").is_err());
        assert!(Test::parse("user.Name", "x").is_err());
    }
}
