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
    let mut expiries: BTreeSet<jiff::Timestamp> = BTreeSet::new();
    let mut all = Vec::new();
    for set in sets {
        for p in &set.ovh_policies {
            if let Some(c) = p.conditions.as_deref() {
                tests(&c.0, &mut all);
            }
            if let Some(e) = p.expired_at.as_deref() {
                expiries.insert(e.0);
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
    // Per time zone: the days and the times of day where a date test can change its answer; every day is
    // tried at every such time, so that `WeekDay IN saturday` and `Hour LT 8` hold together somewhere.
    let mut dates: BTreeMap<
        String,
        (
            jiff::tz::TimeZone,
            BTreeSet<jiff::civil::Date>,
            BTreeSet<jiff::civil::Time>,
        ),
    > = BTreeMap::new();
    for t in &all {
        match &t.subject {
            Subject::Context(k) if !fixed.iter().any(|(f, _)| *f == **k) => {
                values.entry(k.to_string()).or_default().extend(edges(t));
            }
            Subject::Date { tz_name, tz, field } => {
                let e = dates.entry(tz_name.to_string()).or_insert_with(|| {
                    // A week from the evaluation time and from each expiry: every week day before and
                    // after each policy expires.
                    let mut days = BTreeSet::new();
                    for anchor in std::iter::once(at).chain(expiries.iter().copied()) {
                        let day0 = anchor.to_zoned_datetime(tz.clone()).date();
                        days.extend(
                            (0..8).filter_map(|d| day0.checked_add(jiff::Span::new().days(d)).ok()),
                        );
                    }
                    let noon = BTreeSet::from([jiff::civil::Time::constant(12, 0, 0, 0)]);
                    (tz.clone(), days, noon)
                });
                date_edges(t, *field, &mut e.1, &mut e.2);
            }
            _ => {}
        }
    }
    for (tz, days, hours) in dates.values() {
        for d in days {
            for h in hours {
                if let Ok(z) = d.to_datetime(*h).to_zoned_datetime(tz.clone()) {
                    times.insert(z.timestamp());
                }
            }
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

/// The days and times of day around a date test's values: a date, the day before and the week after (at
/// the first and last second); an hour's first and last second and the seconds around it.
fn date_edges(
    t: &Test,
    field: DateField,
    days: &mut BTreeSet<jiff::civil::Date>,
    hours: &mut BTreeSet<jiff::civil::Time>,
) {
    for v in t.value.split(',').map(str::trim) {
        match field {
            DateField::Date => {
                if let Ok(d) = v.parse::<jiff::civil::Date>() {
                    // The day before, the day itself, and a week after: every week day past the bound.
                    for dd in -1..=8 {
                        if let Ok(d2) = d.checked_add(jiff::Span::new().days(dd)) {
                            days.insert(d2);
                        }
                    }
                    hours.insert(jiff::civil::Time::constant(0, 0, 0, 0));
                    hours.insert(jiff::civil::Time::constant(23, 59, 59, 0));
                }
            }
            DateField::Hour => {
                if let Ok(h) = v.parse::<i8>() {
                    for (hh, m, s) in [(h, 0, 0), (h, 59, 59), (h - 1, 59, 59), (h + 1, 0, 0)] {
                        if let Ok(t) = jiff::civil::Time::new(hh, m, s, 0) {
                            hours.insert(t);
                        }
                    }
                }
            }
            // Every week day is among the next eight days, tried already.
            DateField::WeekDay => {}
        }
    }
}
