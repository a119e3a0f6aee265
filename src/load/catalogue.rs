//! The shipped action catalogues (`policies/ovh-actions.tsv`, `policies/outscale-actions.tsv`), embedded:
//! every OVHcloud IAM action the API schemas name and every OUTSCALE EIM action name known, to tell a typo
//! or an invented action (`vps:apiovh:createSnapshot`) from a real one and suggest the closest real names.

use std::collections::HashSet;
use std::sync::OnceLock;

const OVH: &str = include_str!("../../policies/ovh-actions.tsv");
const OUTSCALE: &str = include_str!("../../policies/outscale-actions.tsv");

/// The catalogues, parsed once.
pub struct Catalogue {
    pub ovh: Vec<&'static str>,
    pub outscale: Vec<(&'static str, bool)>,
    ovh_set: HashSet<&'static str>,
}

/// The shipped catalogues.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let ovh: Vec<&str> = OVH
            .lines()
            .skip(1)
            .filter_map(|l| l.split('\t').next())
            .filter(|a| !a.is_empty())
            .collect();
        let outscale = OUTSCALE
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((f.next()?, f.next()? == "confirmed"))
            })
            .collect();
        Catalogue {
            ovh_set: ovh.iter().copied().collect(),
            ovh,
            outscale,
        }
    })
}

/// What the catalogue knows of an action name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    Yes,
    /// Listed only as an unconfirmed OUTSCALE candidate.
    Candidate,
    /// Not listed; the closest listed names.
    No(Vec<String>),
    /// Not a cloud this catalogue covers (another namespace than `apiovh`, a role, a permission).
    NotCovered,
}

impl Catalogue {
    /// Look up an OVHcloud action. Only the `apiovh` namespace is catalogued (from the API schemas).
    pub fn ovh_action(&self, action: &str) -> Known {
        if !action.contains(":apiovh:") {
            return Known::NotCovered;
        }
        if self.ovh_set.contains(action) {
            return Known::Yes;
        }
        let rtype = action.split(':').next().unwrap_or("");
        let same_type: Vec<&str> = self
            .ovh
            .iter()
            .copied()
            .filter(|a| a.split(':').next() == Some(rtype))
            .collect();
        let pool = if same_type.is_empty() {
            self.ovh.clone()
        } else {
            same_type
        };
        Known::No(suggest(action, &pool))
    }

    /// Look up an OUTSCALE EIM action.
    pub fn outscale_action(&self, action: &str) -> Known {
        match self.outscale.iter().find(|(a, _)| *a == action) {
            Some((_, true)) => Known::Yes,
            Some((_, false)) => Known::Candidate,
            None => {
                let names: Vec<&str> = self.outscale.iter().map(|(a, _)| *a).collect();
                Known::No(suggest(action, &names))
            }
        }
    }
}

/// The words of an action's operation: `createSnapshot` and `snapshot/create` both give {create, snapshot}.
fn words(action: &str) -> Vec<String> {
    let op = action.rsplit(':').next().unwrap_or(action);
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in op.chars() {
        if c == '/' || c == '_' || c == '-' || (c.is_ascii_uppercase() && !cur.is_empty()) {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if c == '/' || c == '_' || c == '-' {
                continue;
            }
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.sort();
    out
}

/// Up to three closest names: the same words in another order first, then by edit distance.
fn suggest(action: &str, pool: &[&str]) -> Vec<String> {
    let w = words(action);
    let mut scored: Vec<(usize, &str)> = pool
        .iter()
        .map(|c| {
            let d =
                crate::load::edit_distance(&action.to_ascii_lowercase(), &c.to_ascii_lowercase());
            let score = if words(c) == w { 0 } else { d + 1 };
            (score, *c)
        })
        .filter(|(s, _)| *s <= 1 + (action.len() / 4).max(2))
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_owned())
        .collect()
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn invented_actions_get_the_real_name() {
        let c = catalogue();
        assert_eq!(c.ovh.len(), 2242);
        assert_eq!(c.ovh_action("vps:apiovh:snapshot/create"), Known::Yes);
        match c.ovh_action("vps:apiovh:createSnapshot") {
            Known::No(s) => assert_eq!(
                s.first().map(String::as_str),
                Some("vps:apiovh:snapshot/create")
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            c.ovh_action("publicCloudProject:openstack:administrator"),
            Known::NotCovered
        );
        assert_eq!(c.outscale_action("api:ReadVms"), Known::Yes);
        match c.outscale_action("api:ReadVm") {
            Known::No(s) => assert!(s.contains(&String::from("api:ReadVms")), "{s:?}"),
            other => panic!("{other:?}"),
        }
    }
}
