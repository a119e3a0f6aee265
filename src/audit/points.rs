//! The request contexts and times an audit tries: for every condition key the policies read, the values at
//! the edges of each test (the first and last address of a range and the addresses just outside it, each
//! listed value and one other, each bound and its neighbours), the key left out, and for dates and expiry
//! the instants where an answer can change from the evaluation time on. The product of the keys' values is
//! the set of points; a grant that holds at some point but not at the first (no context) is conditional.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::model::condition::{Condition, DateField, Op, Subject, Test};
use crate::model::PolicySet;

/// One request context and time of the audit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Point {
    /// Context keys set (a key absent from the list is left out of the request).
    pub context: Vec<(String, String)>,
    /// `None`: the engine's evaluation time.
    pub at: Option<jiff::Timestamp>,
}

/// Past this many points the product is cut, and the answer says so.
pub const MAX_POINTS: usize = 4096;

/// Every test of a condition tree.
pub fn tests(c: &Condition, out: &mut Vec<Test>) {
    match c {
        Condition::And(v) | Condition::Or(v) => v.iter().for_each(|c| tests(c, out)),
        Condition::Not(c) => tests(c, out),
        Condition::Match(t) => out.extend(t.iter().cloned()),
    }
}

/// A condition written out: `request.IP.IN_RANGE: 0.0.0.0/0 AND NOT (…)`.
pub fn text(c: &Condition) -> String {
    let join = |v: &[Condition], op: &str| {
        let parts: Vec<String> = v
            .iter()
            .map(|c| match c {
                Condition::And(x) | Condition::Or(x) if x.len() > 1 => format!("({})", text(c)),
                _ => text(c),
            })
            .collect();
        parts.join(op)
    };
    match c {
        Condition::And(v) => join(v, " AND "),
        Condition::Or(v) => join(v, " OR "),
        Condition::Not(c) => format!("NOT ({})", text(c)),
        Condition::Match(t) => t
            .iter()
            .map(|t| format!("{}: {}", t.key, t.value))
            .collect::<Vec<_>>()
            .join(" AND "),
    }
}

/// The points of the policy sets, the `fixed` context keys set on every one. The first point is the request
/// with only the fixed keys, at the engine's time. `at`: the evaluation time; `fixed_at`: the user fixed it
/// (then no other time is tried). The flag says whether the product was cut at [`MAX_POINTS`].
pub fn points(
    sets: &[&PolicySet],
    fixed: &[(String, String)],
    at: jiff::Timestamp,
    fixed_at: bool,
) -> (Vec<Point>, bool) {
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut times: BTreeSet<jiff::Timestamp> = BTreeSet::new();
    let mut all = Vec::new();
    for set in sets {
        for p in &set.ovh_policies {
            if let Some(c) = p.conditions.as_deref() {
                tests(&c.0, &mut all);
            }
            if let Some(e) = p.expired_at.as_deref() {
                times.insert(e.0);
                if let Ok(t) = e.0.checked_add(jiff::SignedDuration::from_secs(1)) {
                    times.insert(t);
                }
                if let Ok(t) = e.0.checked_sub(jiff::SignedDuration::from_secs(1)) {
                    times.insert(t);
                }
            }
        }
    }
    for t in &all {
        match &t.subject {
            Subject::Context(k) if !fixed.iter().any(|(f, _)| *f == **k) => {
                values.entry(k.to_string()).or_default().extend(edges(t));
            }
            Subject::Date { tz, field, .. } => times.extend(date_edges(t, tz, *field, at)),
            _ => {}
        }
    }
    let times: Vec<Option<jiff::Timestamp>> = if fixed_at {
        vec![None]
    } else {
        std::iter::once(None)
            .chain(times.into_iter().filter(|t| *t > at).map(Some))
            .collect()
    };
    // The product: every key absent first, then each of its values.
    let mut contexts: Vec<Vec<(String, String)>> = vec![fixed.to_vec()];
    let mut cut = false;
    for (k, vs) in &values {
        let mut next = Vec::new();
        for c in &contexts {
            next.push(c.clone());
            for v in vs {
                let mut c2 = c.clone();
                c2.push((k.clone(), v.clone()));
                next.push(c2);
            }
        }
        if next.len() * times.len() > MAX_POINTS {
            cut = true;
            break;
        }
        contexts = next;
    }
    let mut out = Vec::new();
    for t in &times {
        for c in &contexts {
            out.push(Point {
                context: c.clone(),
                at: *t,
            });
        }
    }
    (out, cut)
}

/// The values where a context test changes its answer.
fn edges(t: &Test) -> Vec<String> {
    let list: Vec<&str> = if matches!(t.op, Op::In | Op::InRange) {
        t.value.split(',').map(str::trim).collect()
    } else {
        vec![&*t.value]
    };
    let mut out = Vec::new();
    for v in list {
        match t.op {
            Op::InRange => {
                if let Some((lo, hi)) = range(v) {
                    out.push(lo.to_string());
                    out.push(hi.to_string());
                    if let Some(b) = step(lo, -1) {
                        out.push(b.to_string());
                    }
                    if let Some(a) = step(hi, 1) {
                        out.push(a.to_string());
                    }
                }
            }
            Op::Eq | Op::In | Op::StartsWith | Op::EndsWith => {
                out.push(v.to_owned());
                out.push(format!("{v}-other"));
                out.push(String::from("other"));
            }
            _ => {
                out.push(v.to_owned());
                if let Ok(n) = v.parse::<i64>() {
                    out.push(n.saturating_sub(1).to_string());
                    out.push(n.saturating_add(1).to_string());
                } else {
                    out.push(String::new());
                    out.push(format!("{v}~"));
                }
            }
        }
    }
    out
}

/// The first and last address of `192.0.2.0/24` (or of a bare address).
fn range(s: &str) -> Option<(IpAddr, IpAddr)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a.parse::<IpAddr>().ok()?, b.parse::<u32>().ok()?),
        None => {
            let a = s.parse::<IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32u32.checked_sub(bits)?).unwrap_or(0);
            let lo = u32::from(a) & mask;
            Some((
                IpAddr::from(lo.to_be_bytes()),
                IpAddr::from((lo | !mask).to_be_bytes()),
            ))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX
                .checked_shl(128u32.checked_sub(bits)?)
                .unwrap_or(0);
            let lo = u128::from(a) & mask;
            Some((
                IpAddr::from(lo.to_be_bytes()),
                IpAddr::from((lo | !mask).to_be_bytes()),
            ))
        }
    }
}

/// The address before (-1) or after (+1), if there is one.
fn step(ip: IpAddr, by: i8) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(a) => {
            let n = u32::from(a);
            let m = if by < 0 {
                n.checked_sub(1)?
            } else {
                n.checked_add(1)?
            };
            Some(IpAddr::from(m.to_be_bytes()))
        }
        IpAddr::V6(a) => {
            let n = u128::from(a);
            let m = if by < 0 {
                n.checked_sub(1)?
            } else {
                n.checked_add(1)?
            };
            Some(IpAddr::from(m.to_be_bytes()))
        }
    }
}

/// Instants around a date test's values, from `at` on: the first and last second of a date and the
/// seconds around it; an hour's first and last second on each of the next two days; noon of each of the
/// next seven days (every week day).
fn date_edges(
    t: &Test,
    tz: &jiff::tz::TimeZone,
    field: DateField,
    at: jiff::Timestamp,
) -> Vec<jiff::Timestamp> {
    let mut out = Vec::new();
    let day0 = at.to_zoned_datetime(tz.clone()).date();
    let instant = |d: jiff::civil::Date, h: i8, m: i8, s: i8| {
        d.at(h, m, s, 0)
            .to_zoned_datetime(tz.clone())
            .ok()
            .map(|z| z.timestamp())
    };
    match field {
        DateField::Date => {
            for v in t.value.split(',').map(str::trim) {
                if let Ok(d) = v.parse::<jiff::civil::Date>() {
                    for (dd, h, m, s) in [
                        (0, 0, 0, 0),
                        (0, 23, 59, 59),
                        (-1, 23, 59, 59),
                        (1, 0, 0, 0),
                    ] {
                        if let Ok(d2) = d.checked_add(jiff::Span::new().days(dd)) {
                            out.extend(instant(d2, h, m, s));
                        }
                    }
                }
            }
        }
        DateField::Hour => {
            for v in t.value.split(',').map(str::trim) {
                if let Ok(h) = v.parse::<i8>() {
                    for dd in 0..2 {
                        if let Ok(d) = day0.checked_add(jiff::Span::new().days(dd)) {
                            out.extend(instant(d, h, 0, 0));
                            out.extend(instant(d, h, 59, 59));
                            if h > 0 {
                                out.extend(instant(d, h - 1, 59, 59));
                            }
                            if h < 23 {
                                out.extend(instant(d, h + 1, 0, 0));
                            }
                        }
                    }
                }
            }
        }
        DateField::WeekDay => {
            for dd in 0..8 {
                if let Ok(d) = day0.checked_add(jiff::Span::new().days(dd)) {
                    out.extend(instant(d, 12, 0, 0));
                }
            }
        }
    }
    out
}
