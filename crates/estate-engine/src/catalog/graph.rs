//! The dependency graph of contexts, built from each manifest's `requires`.
//!
//! It answers the planning questions: what must be installed before a module (the requires
//! closure, dependencies first), and what depends on it (required-by, for rollbacks). Cycles and
//! requirements that name no context are problems of the catalog, reported with the cycle
//! spelled out (`a -> b -> c -> a`).

use std::collections::{BTreeMap, BTreeSet};

use super::{Context, Problem};

/// One line of [`DependencyGraph::tree`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeLine {
    /// 0 for a context that requires nothing; each level down requires the one above.
    pub depth: usize,
    pub name: String,
    /// Shown in full above: its dependants are not repeated.
    pub repeated: bool,
}

/// The box-drawing prefix of each line of a tree (`├─ `, `│  └─ `), shared by the CLI and the
/// console so both draw the graph alike.
pub fn tree_prefixes(lines: &[TreeLine]) -> Vec<String> {
    // Whether the line is the last of its siblings: no later line at its depth before one
    // shallower.
    let last: Vec<bool> = (0..lines.len())
        .map(|i| {
            lines[i + 1..]
                .iter()
                .take_while(|l| l.depth >= lines[i].depth)
                .all(|l| l.depth != lines[i].depth)
        })
        .collect();
    let mut open: Vec<bool> = Vec::new();
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            open.truncate(l.depth);
            let mut prefix = String::new();
            if l.depth > 0 {
                for more in &open[1..] {
                    prefix.push_str(if *more { "│  " } else { "   " });
                }
                prefix.push_str(if last[i] { "└─ " } else { "├─ " });
            }
            open.push(!last[i]);
            prefix
        })
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct DependencyGraph {
    requires: BTreeMap<String, Vec<String>>,
    required_by: BTreeMap<String, Vec<String>>,
}

impl DependencyGraph {
    /// Builds the graph. Edges to unknown contexts are reported and left out; a cycle is
    /// reported once per cycle.
    pub fn build(contexts: &BTreeMap<String, Context>, problems: &mut Vec<Problem>) -> Self {
        let mut graph = DependencyGraph::default();
        for (name, context) in contexts {
            let mut edges = Vec::new();
            for (required, at) in context
                .manifest
                .requires
                .iter()
                .zip(&context.manifest.requires_at)
            {
                if contexts.contains_key(required) {
                    edges.push(required.clone());
                    graph
                        .required_by
                        .entry(required.clone())
                        .or_default()
                        .push(name.clone());
                } else {
                    problems.push(Problem::at(
                        at.clone(),
                        format!("{name} requires {required:?}, which is no context"),
                        "add that context under contexts/ or remove it from requires",
                    ));
                }
            }
            graph.requires.insert(name.clone(), edges);
        }
        for cycle in graph.cycles() {
            // Point at the first edge of the cycle: the `requires` entry of its first module.
            let manifest = &contexts[&cycle[0]].manifest;
            let at = manifest
                .requires
                .iter()
                .position(|r| r == &cycle[1])
                .and_then(|i| manifest.requires_at.get(i).cloned())
                .unwrap_or_else(|| {
                    contexts[&cycle[0]]
                        .dir
                        .join("context.toml")
                        .display()
                        .to_string()
                });
            problems.push(Problem::at(
                at,
                format!("dependency cycle: {}", cycle.join(" -> ")),
                "remove one of these requires so the modules can be installed in order",
            ));
        }
        graph
    }

    /// The modules `name` requires directly.
    pub fn requires(&self, name: &str) -> &[String] {
        self.requires.get(name).map_or(&[], Vec::as_slice)
    }

    /// The modules that require `name` directly.
    pub fn required_by(&self, name: &str) -> &[String] {
        self.required_by.get(name).map_or(&[], Vec::as_slice)
    }

    /// `modules` and everything they require, transitively, dependencies first. Stable: the
    /// order follows the `requires` lists and the order of `modules`.
    pub fn closure<'a>(&self, modules: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut order = Vec::new();
        let mut seen = BTreeSet::new();
        for m in modules {
            self.visit(m, &mut seen, &mut order);
        }
        order
    }

    fn visit(&self, name: &str, seen: &mut BTreeSet<String>, order: &mut Vec<String>) {
        if !seen.insert(name.to_string()) {
            return;
        }
        for dep in self.requires(name) {
            self.visit(dep, seen, order);
        }
        order.push(name.to_string());
    }

    /// Everything that requires `name`, transitively (not `name` itself).
    pub fn dependants(&self, name: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack = vec![name.to_string()];
        while let Some(n) = stack.pop() {
            for d in self.required_by(&n) {
                if out.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        out
    }

    /// Sorts `modules` so that each comes after everything it requires.
    pub fn order(&self, modules: &BTreeSet<String>) -> Vec<String> {
        self.closure(modules.iter().map(String::as_str))
            .into_iter()
            .filter(|m| modules.contains(m))
            .collect()
    }

    /// The graph drawn as a tree from the contexts that require nothing down through what
    /// requires them, for people. A context that requires several appears under each, in full
    /// the first time and `repeated` after; contexts reachable only through a cycle come last,
    /// at the top level.
    pub fn tree(&self) -> Vec<TreeLine> {
        fn walk(
            g: &DependencyGraph,
            name: &str,
            depth: usize,
            shown: &mut BTreeSet<String>,
            lines: &mut Vec<TreeLine>,
        ) {
            let repeated = !shown.insert(name.to_string());
            lines.push(TreeLine {
                depth,
                name: name.to_string(),
                repeated,
            });
            if repeated {
                return;
            }
            let mut dependants = g.required_by(name).to_vec();
            dependants.sort();
            for d in dependants {
                walk(g, &d, depth + 1, shown, lines);
            }
        }
        let mut lines = Vec::new();
        let mut shown = BTreeSet::new();
        for (name, requires) in &self.requires {
            if requires.is_empty() {
                walk(self, name, 0, &mut shown, &mut lines);
            }
        }
        for name in self.requires.keys() {
            if !shown.contains(name) {
                walk(self, name, 0, &mut shown, &mut lines);
            }
        }
        lines
    }

    /// Every elementary cycle found by a depth-first search, each starting at its smallest
    /// name and closed (`[a, b, a]`), without repeats.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Open,
            Done,
        }
        fn dfs(
            g: &DependencyGraph,
            n: &str,
            marks: &mut BTreeMap<String, Mark>,
            path: &mut Vec<String>,
            found: &mut BTreeSet<Vec<String>>,
        ) {
            marks.insert(n.to_string(), Mark::Open);
            path.push(n.to_string());
            for d in g.requires(n) {
                match marks.get(d.as_str()) {
                    Some(Mark::Open) => {
                        let start = path.iter().position(|p| p == d).unwrap_or(0);
                        let mut cycle: Vec<String> = path[start..].to_vec();
                        let min = cycle
                            .iter()
                            .enumerate()
                            .min_by(|a, b| a.1.cmp(b.1))
                            .map_or(0, |(i, _)| i);
                        cycle.rotate_left(min);
                        cycle.push(cycle[0].clone());
                        found.insert(cycle);
                    }
                    Some(Mark::Done) => {}
                    None => dfs(g, d, marks, path, found),
                }
            }
            path.pop();
            marks.insert(n.to_string(), Mark::Done);
        }
        let mut marks = BTreeMap::new();
        let mut found = BTreeSet::new();
        for n in self.requires.keys() {
            if !marks.contains_key(n) {
                dfs(self, n, &mut marks, &mut Vec::new(), &mut found);
            }
        }
        found.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> DependencyGraph {
        let mut g = DependencyGraph::default();
        for (n, deps) in edges {
            g.requires
                .insert(n.to_string(), deps.iter().map(|d| d.to_string()).collect());
            for d in *deps {
                g.required_by
                    .entry(d.to_string())
                    .or_default()
                    .push(n.to_string());
            }
        }
        g
    }

    #[test]
    fn closure_puts_dependencies_first() {
        let g = graph(&[("card", &["users"]), ("users", &[]), ("cal", &["users"])]);
        assert_eq!(g.closure(["card", "cal"]), vec!["users", "card", "cal"]);
        assert_eq!(
            g.dependants("users"),
            ["cal", "card"].iter().map(|s| s.to_string()).collect()
        );
    }

    #[test]
    fn the_tree_hangs_dependants_under_what_they_require() {
        let g = graph(&[
            ("users", &[]),
            ("card", &["users"]),
            ("loyalty", &["card", "users"]),
            ("a", &["b"]),
            ("b", &["a"]),
        ]);
        let lines: Vec<String> = g
            .tree()
            .iter()
            .map(|l| {
                format!(
                    "{}{}{}",
                    "  ".repeat(l.depth),
                    l.name,
                    if l.repeated { " ^" } else { "" }
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                "users",
                "  card",
                "    loyalty",
                "  loyalty ^",
                "a",
                "  b",
                "    a ^"
            ]
        );
        let drawn: Vec<String> = tree_prefixes(&g.tree())
            .iter()
            .zip(g.tree())
            .map(|(p, l)| format!("{p}{}", l.name))
            .collect();
        assert_eq!(
            drawn,
            [
                "users",
                "├─ card",
                "│  └─ loyalty",
                "└─ loyalty",
                "a",
                "└─ b",
                "   └─ a"
            ]
        );
    }

    #[test]
    fn cycles_are_spelled_out_once() {
        let g = graph(&[("b", &["c"]), ("c", &["a"]), ("a", &["b"]), ("d", &["d"])]);
        let cycles: Vec<String> = g.cycles().iter().map(|c| c.join(" -> ")).collect();
        assert_eq!(cycles, vec!["a -> b -> c -> a", "d -> d"]);
    }
}
