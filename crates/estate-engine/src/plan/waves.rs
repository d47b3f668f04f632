//! A plan cut into waves (`--wave 5 --wave 25% --wave rest`): the tenants that have steps,
//! in slug order or a seeded random order, taken a wave at a time. As with a rolling batch
//! elsewhere, the last size given repeats until every tenant is in a wave; `rest` takes all
//! that is left. The landlord's steps go with the first wave going up, with the last going
//! down (a rollback reverts the landlord scope after its tenants).

use std::collections::BTreeSet;

use super::Plan;
use crate::error::{Error, Result};

/// How many tenants one wave takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaveSize {
    Count(usize),
    /// Of the tenants with steps, rounded up (a wave is never empty).
    Percent(u8),
    Rest,
}

impl WaveSize {
    /// Reads `5`, `25%` or `rest`.
    pub fn parse(input: &str) -> Result<WaveSize> {
        let fix = "give a number of tenants (--wave 5), a share of them (--wave 25%, 1 to 100), or --wave rest";
        let bad = |problem: String| Error::refused(problem, fix);
        let input = input.trim();
        if input == "rest" {
            return Ok(WaveSize::Rest);
        }
        if let Some(share) = input.strip_suffix('%') {
            return match share.parse::<u8>() {
                Ok(p) if (1..=100).contains(&p) => Ok(WaveSize::Percent(p)),
                _ => Err(bad(format!(
                    "--wave {input} is not a share from 1% to 100%"
                ))),
            };
        }
        match input.parse::<usize>() {
            Ok(0) => Err(bad("--wave 0 would run no tenant".to_string())),
            Ok(n) => Ok(WaveSize::Count(n)),
            Err(_) => Err(bad(format!("--wave {input} is not a size"))),
        }
    }

    fn take(self, total: usize, left: usize) -> usize {
        let n = match self {
            WaveSize::Count(n) => n,
            WaveSize::Percent(p) => (total * p as usize).div_ceil(100),
            WaveSize::Rest => left,
        };
        n.clamp(1, left.max(1))
    }
}

/// Checks a list of waves: `rest` only last.
pub fn check_waves(sizes: &[WaveSize]) -> Result<()> {
    if let Some(i) = sizes.iter().position(|s| *s == WaveSize::Rest)
        && i + 1 < sizes.len()
    {
        return Err(Error::refused(
            "--wave rest takes every tenant left, so no wave can come after it",
            "make --wave rest the last wave",
        ));
    }
    Ok(())
}

/// The order tenants are taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaveOrder {
    Slug,
    /// Shuffled by this seed: the same seed, the same order.
    Random(u64),
}

impl Plan {
    /// The tenants with steps, in `order`.
    pub fn ordered_tenants(&self, order: WaveOrder) -> Vec<String> {
        let mut tenants: Vec<String> = self
            .tenant_steps
            .iter()
            .filter(|(_, steps)| !steps.is_empty())
            .map(|(t, _)| t.clone())
            .collect();
        if let WaveOrder::Random(seed) = order {
            shuffle(&mut tenants, seed);
        }
        tenants
    }

    /// The plan as waves, each a plan of its own over its tenants. A plan with no tenant step
    /// is one wave.
    pub fn waves(&self, sizes: &[WaveSize], order: WaveOrder) -> Vec<Plan> {
        let tenants = self.ordered_tenants(order);
        let total = tenants.len();
        let mut groups: Vec<Vec<String>> = Vec::new();
        let mut left = tenants.as_slice();
        let mut i = 0;
        while !left.is_empty() {
            let size = sizes
                .get(i)
                .or(sizes.last())
                .copied()
                .unwrap_or(WaveSize::Rest);
            let n = size.take(total, left.len());
            groups.push(left[..n].to_vec());
            left = &left[n..];
            i += 1;
        }
        if groups.is_empty() {
            return vec![self.clone()];
        }
        let last = groups.len() - 1;
        groups
            .into_iter()
            .enumerate()
            .map(|(i, group)| {
                let landlord = if self.action.is_down() {
                    i == last
                } else {
                    i == 0
                };
                self.only(&group, landlord, i == 0)
            })
            .collect()
    }

    /// This plan over `tenants` only, with the landlord's steps or not, its notes or not.
    fn only(&self, tenants: &[String], landlord: bool, notes: bool) -> Plan {
        let keep: BTreeSet<&String> = tenants.iter().collect();
        Plan {
            action: self.action,
            modules: self.modules.clone(),
            tenants: tenants.to_vec(),
            landlord: if landlord {
                self.landlord.clone()
            } else {
                Vec::new()
            },
            tenant_steps: self
                .tenant_steps
                .iter()
                .filter(|(t, _)| keep.contains(t))
                .map(|(t, s)| (t.clone(), s.clone()))
                .collect(),
            notes: if notes {
                self.notes.clone()
            } else {
                Vec::new()
            },
            unverified: self
                .unverified
                .iter()
                .filter(|t| keep.contains(t))
                .cloned()
                .collect(),
        }
    }
}

/// A seeded Fisher-Yates shuffle over splitmix64: written here, not taken from a crate, so a
/// seed printed today gives the same order with any later build (a generator crate's
/// streams may change between its versions).
fn shuffle(items: &mut [String], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Scope;
    use crate::plan::{Action, Step};
    use std::collections::BTreeMap;

    fn plan(action: Action, tenants: usize) -> Plan {
        let step = |t: Option<String>| Step {
            module: "m".into(),
            scope: if t.is_some() {
                Scope::Tenant
            } else {
                Scope::Landlord
            },
            tenant: t,
            action,
            migrations: std::sync::Arc::new([]),
            reason: None,
            after: Vec::new(),
            unknown: false,
            drops: None,
            to: None,
        };
        let names: Vec<String> = (0..tenants).map(|i| format!("t{i:02}")).collect();
        Plan {
            action,
            modules: vec!["m".into()],
            tenants: names.clone(),
            landlord: vec![step(None)],
            tenant_steps: names
                .iter()
                .map(|t| (t.clone(), vec![step(Some(t.clone()))]))
                .collect::<BTreeMap<_, _>>(),
            notes: vec!["n".into()],
            unverified: BTreeSet::new(),
        }
    }

    fn sizes(words: &[&str]) -> Vec<WaveSize> {
        words.iter().map(|w| WaveSize::parse(w).unwrap()).collect()
    }

    #[test]
    fn waves_take_counts_shares_and_the_rest_and_the_last_size_repeats() {
        let p = plan(Action::Install, 40);
        let waves = p.waves(&sizes(&["5", "25%", "rest"]), WaveOrder::Slug);
        let lens: Vec<usize> = waves.iter().map(|w| w.tenants.len()).collect();
        assert_eq!(lens, [5, 10, 25]);
        assert_eq!(waves[0].tenants[0], "t00");
        assert_eq!(waves[0].landlord.len(), 1, "up: the landlord goes first");
        assert!(waves[1].landlord.is_empty() && waves[1].notes.is_empty());
        let lens: Vec<usize> = p
            .waves(&sizes(&["1", "15"]), WaveOrder::Slug)
            .iter()
            .map(|w| w.tenants.len())
            .collect();
        assert_eq!(lens, [1, 15, 15, 9]);
        let down = plan(Action::Rollback, 3).waves(&sizes(&["2"]), WaveOrder::Slug);
        assert_eq!((down[0].landlord.len(), down[1].landlord.len()), (0, 1));
        assert_eq!(
            plan(Action::Install, 0)
                .waves(&sizes(&["5"]), WaveOrder::Slug)
                .len(),
            1
        );
    }

    #[test]
    fn a_seed_gives_one_order() {
        let p = plan(Action::Install, 30);
        let a = p.ordered_tenants(WaveOrder::Random(7));
        assert_eq!(a, p.ordered_tenants(WaveOrder::Random(7)));
        assert_ne!(a, p.ordered_tenants(WaveOrder::Random(8)));
        assert_ne!(a, p.ordered_tenants(WaveOrder::Slug));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, p.ordered_tenants(WaveOrder::Slug));
    }

    #[test]
    fn bad_sizes_are_refused() {
        for bad in ["0", "0%", "150%", "-1", "x", "5.5", ""] {
            assert!(WaveSize::parse(bad).is_err(), "{bad:?}");
        }
        assert!(check_waves(&sizes(&["rest", "5"])).is_err());
        assert!(check_waves(&sizes(&["5", "rest"])).is_ok());
    }
}
