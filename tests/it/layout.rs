//! The shape of the shared crate and the tools, so that a newcomer can keep guessing where a
//! thing lives: small files, and imports that only ever point one way (no two files that need
//! each other).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 300;

/// Every `.rs` file under `shared/src`, by its module path (`["store", "dynamodb", "write"]`).
fn modules() -> BTreeMap<Vec<String>, String> {
    let root = local_aws::repo_root().join("shared/src");
    let mut files = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.insert(
                module_path(&root, &path),
                std::fs::read_to_string(&path).unwrap(),
            );
        }
    }
    files
}

fn module_path(root: &Path, file: &Path) -> Vec<String> {
    let relative: PathBuf = file.strip_prefix(root).unwrap().with_extension("");
    let mut path: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if matches!(path.last().map(String::as_str), Some("mod" | "lib")) {
        path.pop();
    }
    path
}

/// The `crate::…` and `super::…` paths a file names, with `use a::{b, c::d}` groups expanded.
fn named_paths(source: &str) -> Vec<Vec<String>> {
    let code: String = source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths = Vec::new();
    for (start, _) in code.match_indices(['c', 's']) {
        let rest = &code[start..];
        let boundary = start == 0
            || !code[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
        if boundary && (rest.starts_with("crate::") || rest.starts_with("super::")) {
            expand(rest, Vec::new(), &mut paths);
        }
    }
    paths
}

/// Reads one path (and any `{…}` group after it) from the start of `text` onto `prefix`.
fn expand(text: &str, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut rest = text;
    loop {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 {
            prefix.push(rest[..end].to_owned());
        }
        rest = &rest[end..];
        if let Some(after) = rest.strip_prefix("::") {
            rest = after;
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 0;
                let mut item_start = 0;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            expand(group[item_start..i].trim(), prefix.clone(), out);
                            return;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            expand(group[item_start..i].trim(), prefix.clone(), out);
                            item_start = i + 1;
                        }
                        _ => {}
                    }
                }
                return;
            }
            continue;
        }
        out.push(prefix);
        return;
    }
}

/// The file a path names: `super` resolved from `module`, then the longest prefix that is a file,
/// followed through that file's `pub use` re-exports to where the item is defined.
fn target(
    module: &[String],
    is_dir_module: bool,
    path: &[String],
    files: &BTreeMap<Vec<String>, String>,
) -> Option<Vec<String>> {
    let mut resolved: Vec<String> = Vec::new();
    let mut parts = path.iter().peekable();
    match parts.next().map(String::as_str) {
        Some("crate") => {}
        Some("super") => {
            resolved = module.to_vec();
            if !is_dir_module {
                resolved.pop();
            }
            resolved.pop();
            while parts.peek().is_some_and(|part| *part == "super") {
                parts.next();
                resolved.pop();
            }
        }
        _ => return None,
    }
    let rest: Vec<String> = parts.cloned().collect();
    let mut file = resolved.clone();
    let mut item = None;
    for part in &rest {
        let mut deeper = file.clone();
        deeper.push(part.clone());
        if files.contains_key(&deeper) {
            file = deeper;
        } else {
            item = Some(part.clone());
            break;
        }
    }
    // `pub use child::{Item, …}` in a module file: the item lives in the child.
    if let Some(item) = item {
        for reexport in named_reexports(&files[&file]) {
            if reexport.last() == Some(&item) && reexport.len() >= 2 {
                let mut child = file.clone();
                child.push(reexport[0].clone());
                if files.contains_key(&child) {
                    return Some(child);
                }
            }
        }
    }
    Some(file)
}

/// The paths of a file's `pub use` lines that name a child module (`pub use owner::Owner`).
fn named_reexports(source: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for statement in source.split(';') {
        if let Some(rest) = statement.trim().strip_prefix("pub use ")
            && !rest.starts_with("crate::")
            && !rest.starts_with("super::")
        {
            expand(rest, Vec::new(), &mut paths);
        }
    }
    paths
}

#[test]
fn no_file_in_the_shared_crate_is_over_300_lines() {
    for (module, source) in modules() {
        let lines = source.lines().count();
        assert!(
            lines <= MAX_LINES,
            "shared/src/{} has {lines} lines",
            module.join("/")
        );
    }
}

/// The tools (the local AWS harness, the bench, the simulator) are read when a figure in docs/ is
/// questioned: one module per measurement or check, none over 400 lines.
#[test]
fn no_file_of_the_tools_is_over_400_lines() {
    let mut stack = vec![local_aws::repo_root().join("tools")];
    let mut checked = 0;
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let lines = std::fs::read_to_string(&path).unwrap().lines().count();
            assert!(lines <= 400, "{} has {lines} lines", path.display());
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} files under tools/");
}

#[test]
fn no_two_files_of_the_shared_crate_import_each_other_even_through_others() {
    let files = modules();
    let root = local_aws::repo_root().join("shared/src");
    let is_dir_module = |module: &Vec<String>| {
        let dir = module
            .iter()
            .fold(root.clone(), |path, part| path.join(part));
        module.is_empty() || dir.join("mod.rs").exists()
    };
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, source) in &files {
        for path in named_paths(source) {
            if let Some(to) = target(module, is_dir_module(module), &path, &files)
                && &to != module
                && !to.is_empty()
            {
                edges.entry(module.clone()).or_default().insert(to);
            }
        }
    }
    // Depth-first search for a cycle, reporting the files on it.
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        trail: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = trail.iter().position(|seen| seen == node) {
            let cycle: Vec<String> = trail[at..].iter().map(|m| m.join("::")).collect();
            panic!(
                "import circle: {} -> {}",
                cycle.join(" -> "),
                node.join("::")
            );
        }
        trail.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, trail, done);
        }
        trail.pop();
        done.insert(node.clone());
    }
    let mut done = BTreeSet::new();
    for module in files.keys() {
        visit(module, &edges, &mut Vec::new(), &mut done);
    }
    assert!(
        edges.values().map(BTreeSet::len).sum::<usize>() > 40,
        "the import graph looks empty: {edges:?}"
    );
}
