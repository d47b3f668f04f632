//! What the planner reads of the registry's installations: every row in one sorted vector,
//! each tenant's run found by binary search.
//!
//! One vector and no map: at 100,000 tenants a map keyed by tenant, holding a vector per
//! tenant, copied every row and was a fifth of a plan's peak memory.

use crate::registry::InstallationSummary;

/// Every installation, in (tenant, module) order, as
/// [`Registry::installation_summaries`] reads them.
///
/// [`Registry::installation_summaries`]: crate::registry::Registry::installation_summaries
#[derive(Debug, Default)]
pub(super) struct Installs(Vec<InstallationSummary>);

impl Installs {
    pub(super) fn new(mut all: Vec<InstallationSummary>) -> Installs {
        // Already in order from the registry; sorted again (a no-op pass) so lookups never
        // depend on a caller.
        if !all.is_sorted_by(|a, b| (&a.tenant, &a.module) <= (&b.tenant, &b.module)) {
            all.sort_unstable_by(|a, b| (&a.tenant, &a.module).cmp(&(&b.tenant, &b.module)));
        }
        Installs(all)
    }

    /// `tenant`'s installations, `None` when it has none.
    pub(super) fn get(&self, tenant: &str) -> Option<TenantInstalls<'_>> {
        let start = self.0.partition_point(|i| i.tenant.as_str() < tenant);
        let len = self.0[start..].partition_point(|i| i.tenant == tenant);
        (len > 0).then(|| TenantInstalls(&self.0[start..start + len]))
    }

    /// `tenant`'s installations, empty when it has none.
    pub(super) fn of(&self, tenant: &str) -> TenantInstalls<'_> {
        self.get(tenant).unwrap_or(TenantInstalls(&[]))
    }

    /// Each tenant that has installations, with them, in tenant order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&String, TenantInstalls<'_>)> {
        self.0
            .chunk_by(|a, b| a.tenant == b.tenant)
            .map(|run| (&run[0].tenant, TenantInstalls(run)))
    }
}

/// One tenant's installations, found by module with a scan: a tenant has a few.
#[derive(Debug, Clone, Copy)]
pub(super) struct TenantInstalls<'a>(&'a [InstallationSummary]);

impl<'a> TenantInstalls<'a> {
    pub(super) fn get(self, module: &str) -> Option<&'a InstallationSummary> {
        self.0.iter().find(|i| i.module == module)
    }

    pub(super) fn contains_key(self, module: &str) -> bool {
        self.get(module).is_some()
    }

    pub(super) fn keys(self) -> impl Iterator<Item = &'a String> {
        self.0.iter().map(|i| &i.module)
    }
}

impl<Q: AsRef<str> + ?Sized> std::ops::Index<&Q> for TenantInstalls<'_> {
    type Output = InstallationSummary;

    /// The installation of a module the caller found among [`TenantInstalls::keys`].
    fn index(&self, module: &Q) -> &InstallationSummary {
        let module = module.as_ref();
        self.get(module)
            .unwrap_or_else(|| panic!("no installation of {module} read for this tenant"))
    }
}

impl<'a> IntoIterator for TenantInstalls<'a> {
    type Item = (&'a String, &'a InstallationSummary);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, InstallationSummary>,
        fn(&'a InstallationSummary) -> (&'a String, &'a InstallationSummary),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|i| (&i.module, i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::InstallState;

    fn installation(tenant: &str, module: &str) -> InstallationSummary {
        InstallationSummary {
            tenant: tenant.into(),
            module: module.into(),
            state: InstallState::Installed,
            applied_version: None,
            applied_digest: None,
        }
    }

    #[test]
    fn each_tenants_run_is_found_whatever_order_they_came_in() {
        let installs = Installs::new(vec![
            installation("b", "cards"),
            installation("a-1", "users"),
            installation("a", "users"),
            installation("b", "calendar"),
            installation("a", "cards"),
        ]);
        let modules = |t: &str| installs.of(t).keys().cloned().collect::<Vec<_>>();
        assert_eq!(modules("a"), ["cards", "users"]);
        assert_eq!(modules("a-1"), ["users"]);
        assert_eq!(modules("b"), ["calendar", "cards"]);
        assert!(installs.get("c").is_none() && installs.get("").is_none());
        assert!(
            installs.of("b").contains_key("cards") && !installs.of("a-1").contains_key("cards")
        );
        let tenants: Vec<&String> = installs.iter().map(|(t, _)| t).collect();
        assert_eq!(tenants, ["a", "a-1", "b"]);
    }
}
