//! The layers of `client/src` stay visible and acyclic.
//!
//! Reads every file of `src/`, finds the modules it refers to (its `use` declarations and its
//! `crate::`, `super::`, `self::` and child-module paths, with comments, strings and
//! `#[cfg(test)]` items left out) and checks, at every level of the module tree, that the
//! modules side by side there (each with everything under it, and the parent's own file) do
//! not depend on each other in a circle. Checking every level finds every circle between files
//! too, and it also finds two folders that lean on each other through different files.
//!
//! The crate root is the one exception: `lib.rs` declares the modules, re-exports their items
//! and includes the generated models, so it is nobody's layer. Inside the crate an item is
//! named by the module that defines it, never through a root re-export (which would hide the
//! dependency from this test).
//!
//! Three rules of ARCHITECTURE.md are checked here as well: `lib.rs` declares the modules bottom
//! up (each uses only modules declared before it), the HTTP layer (`http/`) uses nothing of the
//! crate but itself and `error`, and `impl Client` appears only under `api/client/`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A module: its path below the crate root (`["validate", "check"]`; empty for `lib.rs`).
type ModPath = Vec<String>;

/// One file of `src/`, as the test reads it.
struct File {
    /// `validate/check.rs`.
    name: String,
    module: ModPath,
    /// The code with comments, string and char literals blanked and test items removed;
    /// newlines are kept, so positions still give line numbers.
    code: Vec<char>,
}

/// Where a dependency was seen: `validate/check.rs:9 crate::media::check`.
#[derive(Clone)]
struct Evidence {
    file: String,
    line: usize,
    path: String,
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} `{}`", self.file, self.line, self.path)
    }
}

/// A reference from one module to another.
struct Edge {
    from: ModPath,
    to: ModPath,
    seen: Evidence,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn read_files() -> Vec<File> {
    let root = src_dir();
    let mut paths = Vec::new();
    collect(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path).unwrap();
            File {
                module: module_of(&name),
                code: without_test_items(strip(&text)),
                name,
            }
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `lib.rs` is the root, `a/mod.rs` and `a.rs` are `a`, `a/b.rs` is `a::b`.
fn module_of(name: &str) -> ModPath {
    let mut parts: Vec<String> = name
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if parts.last().is_some_and(|p| p == "mod") || parts == ["lib"] {
        parts.pop();
    }
    parts
}

fn show(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_owned()
    } else {
        format!("crate::{}", module.join("::"))
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Blanks comments (doc comments too: their links are not dependencies), string literals and
/// char literals, keeping newlines.
fn strip(text: &str) -> Vec<char> {
    let src: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(src.len());
    let blank = |out: &mut Vec<char>, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        let next = src.get(i + 1).copied();
        let prev_ident = i > 0 && is_ident(src[i - 1]);
        if c == '/' && next == Some('/') {
            while i < src.len() && src[i] != '\n' {
                blank(&mut out, src[i]);
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let mut depth = 0;
            loop {
                if src.get(i) == Some(&'/') && src.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.extend("  ".chars());
                    i += 2;
                } else if src.get(i) == Some(&'*') && src.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.extend("  ".chars());
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else if let Some(&c) = src.get(i) {
                    blank(&mut out, c);
                    i += 1;
                } else {
                    break;
                }
            }
            continue;
        }
        // Raw strings: r"..", r#".."#, br"..".
        if !prev_ident && (c == 'r' || (c == 'b' && next == Some('r'))) {
            let mut j = i + if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while src.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if src.get(j) == Some(&'"') {
                j += 1;
                loop {
                    if j >= src.len() {
                        break;
                    }
                    if src[j] == '"' && (1..=hashes).all(|k| src.get(j + k) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                for &c in &src[i..j.min(src.len())] {
                    blank(&mut out, c);
                }
                i = j;
                continue;
            }
        }
        if c == '"' {
            let mut j = i + 1;
            while j < src.len() && src[j] != '"' {
                j += if src[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(src.len());
            for &c in &src[i..end] {
                blank(&mut out, c);
            }
            i = end;
            continue;
        }
        if c == '\'' {
            // A char literal ('x', '\n', '\u{..}'), else a lifetime or label.
            let end = if next == Some('\\') {
                let mut j = i + 3;
                while j < src.len() && src[j] != '\'' {
                    j += 1;
                }
                Some(j + 1)
            } else if src.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            if let Some(end) = end {
                let end = end.min(src.len());
                for &c in &src[i..end] {
                    blank(&mut out, c);
                }
                i = end;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Blanks every item marked `#[cfg(test)]` (unit tests may reach anywhere).
fn without_test_items(mut code: Vec<char>) -> Vec<char> {
    let marker: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + marker.len() <= code.len() {
        if code[i..i + marker.len()] != marker[..] {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + marker.len();
        // Further attributes, then the item up to its `;` or its closing brace.
        loop {
            while j < code.len() && code[j].is_whitespace() {
                j += 1;
            }
            if code.get(j) == Some(&'#') {
                j = matching(&code, j + 1, '[', ']');
            } else {
                break;
            }
        }
        let mut depth = 0i32;
        while j < code.len() {
            match code[j] {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                ';' if depth == 0 => {
                    j += 1;
                    break;
                }
                '{' if depth == 0 => {
                    j = matching(&code, j, '{', '}');
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let end = j.min(code.len());
        for c in &mut code[start..end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        i = j;
    }
    code
}

/// The position just past the bracket that closes the one at `open_at`.
fn matching(code: &[char], open_at: usize, open: char, close: char) -> usize {
    let mut depth = 0;
    let mut j = open_at;
    while j < code.len() {
        if code[j] == open {
            depth += 1;
        } else if code[j] == close {
            depth -= 1;
            if depth == 0 {
                return j + 1;
            }
        }
        j += 1;
    }
    code.len()
}

fn line_of(code: &[char], at: usize) -> usize {
    code[..at].iter().filter(|c| **c == '\n').count() + 1
}

/// A path a file names, and the name it is visible under (for `use .. as name`).
struct Named {
    segments: Vec<String>,
    at: usize,
    visible: String,
}

/// Every `use` declaration of the code (blanked from `code` afterwards) and every other path
/// of two segments or more.
fn paths(code: &mut [char]) -> Vec<Named> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < code.len() {
        let starts_use = code[i..i + 3] == ['u', 's', 'e']
            && (i == 0 || !is_ident(code[i - 1]))
            && code[i + 3].is_whitespace();
        if !starts_use {
            i += 1;
            continue;
        }
        let end = code[i..]
            .iter()
            .position(|c| *c == ';')
            .map_or(code.len(), |p| i + p);
        let text: String = code[i + 3..end].iter().collect();
        let mut parsed = Vec::new();
        let tokens = use_tokens(&text);
        let mut pos = 0;
        use_tree(&tokens, &mut pos, Vec::new(), &mut parsed);
        for (segments, visible) in parsed {
            out.push(Named {
                segments,
                at: i,
                visible,
            });
        }
        for c in &mut code[i..end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        i = end;
    }
    // Paths in expressions, types and attributes.
    let mut i = 0;
    while i < code.len() {
        let c = code[i];
        let follows_path = i >= 1 && (code[i - 1] == ':' || is_ident(code[i - 1]));
        if !(is_ident(c) || c == '$') || follows_path {
            i += 1;
            continue;
        }
        let start = i;
        let mut segments = Vec::new();
        loop {
            let from = i;
            if code.get(i) == Some(&'$') {
                i += 1;
            }
            while i < code.len() && is_ident(code[i]) {
                i += 1;
            }
            segments.push(code[from..i].iter().collect::<String>());
            let more = code.get(i) == Some(&':')
                && code.get(i + 1) == Some(&':')
                && code.get(i + 2).is_some_and(|c| is_ident(*c));
            if !more {
                break;
            }
            i += 2;
        }
        if segments.len() >= 2 {
            let visible = segments.last().cloned().unwrap_or_default();
            out.push(Named {
                segments,
                at: start,
                visible,
            });
        }
        i = i.max(start + 1);
    }
    out
}

fn use_tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".to_owned());
            i += 2;
        } else if is_ident(c) || c == '$' {
            let start = i;
            i += 1;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

/// Expands one use tree (`crate::a::{b, c::{self, D as E}}`) into paths.
fn use_tree(
    tokens: &[String],
    pos: &mut usize,
    mut path: Vec<String>,
    out: &mut Vec<(Vec<String>, String)>,
) {
    // `pub`, `pub(crate)` before `use` are not part of the tree.
    while let Some(token) = tokens.get(*pos) {
        match token.as_str() {
            "{" => {
                *pos += 1;
                while tokens.get(*pos).is_some_and(|t| t != "}") {
                    use_tree(tokens, pos, path.clone(), out);
                    if tokens.get(*pos).is_some_and(|t| t == ",") {
                        *pos += 1;
                    }
                }
                *pos += 1;
                return;
            }
            "*" => {
                *pos += 1;
                out.push((path, "*".to_owned()));
                return;
            }
            "::" if path.is_empty() => {
                // `::name`: an external crate.
                path.push("::".to_owned());
                *pos += 1;
            }
            "::" => *pos += 1,
            "," | "}" => return,
            name => {
                if name != "self" || path.is_empty() {
                    path.push(name.to_owned());
                }
                *pos += 1;
                if tokens.get(*pos).is_some_and(|t| t == "::") {
                    continue;
                }
                let mut visible = path.last().cloned().unwrap_or_default();
                if tokens.get(*pos).is_some_and(|t| t == "as") {
                    visible = tokens.get(*pos + 1).cloned().unwrap_or_default();
                    *pos += 2;
                }
                out.push((path, visible));
                return;
            }
        }
    }
}

/// What a path refers to: a module of the crate, or an item defined at the crate root.
enum Target {
    Module(ModPath),
    RootItem(String),
}

fn resolve(from: &[String], segments: &[String], modules: &BTreeSet<ModPath>) -> Option<Target> {
    let first = segments.first()?;
    let mut base: ModPath;
    let mut rest = &segments[1..];
    match first.as_str() {
        "crate" | "$crate" => base = Vec::new(),
        "self" => base = from.to_vec(),
        "super" => {
            base = from.to_vec();
            base.pop()?;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        child => {
            let mut candidate = from.to_vec();
            candidate.push(child.to_owned());
            if !modules.contains(&candidate) {
                // An external crate, a local name or a type's associated item.
                return None;
            }
            base = candidate;
        }
    }
    while let Some(next) = rest.first() {
        let mut candidate = base.clone();
        candidate.push(next.clone());
        if !modules.contains(&candidate) {
            break;
        }
        base = candidate;
        rest = &rest[1..];
    }
    if base.is_empty() {
        return Some(Target::RootItem(rest.first()?.clone()));
    }
    Some(Target::Module(base))
}

struct Crate {
    files: Vec<File>,
    /// The modules `lib.rs` declares, in its order.
    layers: Vec<String>,
    edges: Vec<Edge>,
    /// References to the crate root's re-exports from inside the crate.
    through_root: Vec<Evidence>,
}

fn read_crate() -> Crate {
    let mut files = read_files();
    let modules: BTreeSet<ModPath> = files.iter().map(|f| f.module.clone()).collect();
    let mut root_exports = BTreeSet::new();
    let mut named = Vec::new();
    let mut layers = Vec::new();
    for file in &mut files {
        if file.module.is_empty() {
            let code: String = file.code.iter().collect();
            let words: Vec<&str> = code.split_whitespace().collect();
            for pair in words.windows(2).filter(|w| w[0] == "mod") {
                layers.push(pair[1].trim_end_matches(';').to_owned());
            }
        }
        let found = paths(&mut file.code);
        if file.module.is_empty() {
            root_exports.extend(found.into_iter().map(|n| n.visible));
        } else {
            named.push((file.module.clone(), file.name.clone(), found));
        }
    }
    let mut edges = Vec::new();
    let mut through_root = Vec::new();
    for (module, name, found) in named {
        let file = files.iter().find(|f| f.name == name).unwrap();
        for path in found {
            let seen = Evidence {
                file: name.clone(),
                line: line_of(&file.code, path.at),
                path: path.segments.join("::"),
            };
            match resolve(&module, &path.segments, &modules) {
                Some(Target::Module(to)) if to != module => edges.push(Edge {
                    from: module.clone(),
                    to,
                    seen,
                }),
                Some(Target::RootItem(item)) if root_exports.contains(&item) => {
                    through_root.push(seen);
                }
                // The generated models (`crate::GENERATED_MODELS`): part of the root.
                Some(Target::RootItem(_)) => edges.push(Edge {
                    from: module.clone(),
                    to: Vec::new(),
                    seen,
                }),
                _ => {}
            }
        }
    }
    Crate {
        files,
        layers,
        edges,
        through_root,
    }
}

/// A node of one level of the tree: a child module (with all below it) or the parent's file.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Parent,
    Child(String),
}

/// The circles among the modules side by side, at every level, each with the references that
/// make it.
fn cycles(edges: &[Edge]) -> Vec<String> {
    // level -> from -> to -> first evidence
    type Level = BTreeMap<Node, BTreeMap<Node, Evidence>>;
    let mut levels: BTreeMap<ModPath, Level> = BTreeMap::new();
    for edge in edges {
        let common = edge
            .from
            .iter()
            .zip(&edge.to)
            .take_while(|(a, b)| a == b)
            .count();
        let node = |m: &ModPath| match m.get(common) {
            Some(child) => Node::Child(child.clone()),
            None => Node::Parent,
        };
        let (from, to) = (node(&edge.from), node(&edge.to));
        if from == to {
            continue;
        }
        levels
            .entry(edge.from[..common].to_vec())
            .or_default()
            .entry(from)
            .or_default()
            .entry(to)
            .or_insert_with(|| edge.seen.clone());
    }
    let mut found = Vec::new();
    for (level, graph) in &levels {
        let name = |node: &Node| match node {
            Node::Parent => format!("{} (its own file)", show(level)),
            Node::Child(child) => {
                let mut path = level.clone();
                path.push(child.clone());
                show(&path)
            }
        };
        let mut reported: BTreeSet<BTreeSet<Node>> = BTreeSet::new();
        for start in graph.keys() {
            let Some(cycle) = cycle_through(graph, start) else {
                continue;
            };
            if !reported.insert(cycle.iter().cloned().collect()) {
                continue;
            }
            let mut text = format!("circle among the modules of {}: ", show(level));
            let names: Vec<String> = cycle.iter().chain(cycle.first()).map(&name).collect();
            text.push_str(&names.join(" -> "));
            for pair in cycle
                .iter()
                .chain(cycle.first())
                .collect::<Vec<_>>()
                .windows(2)
            {
                let seen = &graph[pair[0]][pair[1]];
                let _ = write!(text, "\n    {} -> {}: {seen}", name(pair[0]), name(pair[1]));
            }
            found.push(text);
        }
    }
    found
}

/// The shortest circle from `start` back to it, if any.
fn cycle_through<E>(graph: &BTreeMap<Node, BTreeMap<Node, E>>, start: &Node) -> Option<Vec<Node>> {
    let mut previous: BTreeMap<Node, Node> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.clone()]);
    while let Some(node) = queue.pop_front() {
        for next in graph.get(&node).into_iter().flat_map(|m| m.keys()) {
            if next == start {
                let mut cycle = vec![node.clone()];
                let mut at = node.clone();
                while let Some(before) = previous.get(&at) {
                    cycle.push(before.clone());
                    at = before.clone();
                }
                cycle.reverse();
                return Some(cycle);
            }
            if next != start && !previous.contains_key(next) {
                previous.insert(next.clone(), node.clone());
                queue.push_back(next.clone());
            }
        }
    }
    None
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let krate = read_crate();
    let found = cycles(&krate.edges);
    assert!(
        found.is_empty(),
        "import cycles in client/src:\n{}",
        found.join("\n")
    );
}

#[test]
fn each_module_of_the_root_uses_only_those_declared_before_it() {
    let krate = read_crate();
    let rank = |m: &ModPath| {
        m.first()
            .and_then(|top| krate.layers.iter().position(|l| l == top))
    };
    let mut lines = Vec::new();
    for edge in &krate.edges {
        if let (Some(from), Some(to)) = (rank(&edge.from), rank(&edge.to))
            && from < to
        {
            lines.push(format!(
                "{} (declared before) uses {}: {}",
                show(&edge.from[..1]),
                show(&edge.to[..1]),
                edge.seen
            ));
        }
    }
    assert!(krate.layers.len() > 5, "lib.rs declares {:?}", krate.layers);
    assert!(
        lines.is_empty(),
        "lib.rs lists the layers bottom up; move the module or the code:\n{}",
        lines.join("\n")
    );
}

#[test]
fn items_are_named_by_their_module_not_the_root_re_exports() {
    let krate = read_crate();
    let lines: Vec<String> = krate.through_root.iter().map(|e| e.to_string()).collect();
    assert!(
        lines.is_empty(),
        "name these by the module that defines them (the root's re-exports hide the \
         dependency):\n{}",
        lines.join("\n")
    );
}

#[test]
fn the_http_layer_knows_nothing_above_it() {
    let krate = read_crate();
    let allowed = |to: &ModPath| to.first().is_some_and(|m| m == "http" || m == "error");
    let lines: Vec<String> = krate
        .edges
        .iter()
        .filter(|e| e.from.first().is_some_and(|m| m == "http") && !allowed(&e.to))
        .map(|e| format!("{} -> {}: {}", show(&e.from), show(&e.to), e.seen))
        .collect();
    assert!(
        lines.is_empty(),
        "http/ may use only itself and crate::error:\n{}",
        lines.join("\n")
    );
}

#[test]
fn impl_client_is_in_one_place() {
    let krate = read_crate();
    let mut outside = Vec::new();
    let mut inside = 0;
    for file in &krate.files {
        let code: String = file.code.iter().collect();
        let words: Vec<&str> = code.split_whitespace().collect();
        let opens = words
            .windows(3)
            .filter(|w| w[0] == "impl" && w[1] == "Client" && w[2] == "{")
            .count();
        if opens == 0 {
            continue;
        }
        if file.name.starts_with("api/client/") {
            inside += opens;
        } else {
            outside.push(file.name.clone());
        }
    }
    assert!(
        outside.is_empty(),
        "`impl Client` belongs in api/client/, found in: {outside:?}"
    );
    assert!(inside > 0, "no `impl Client` found under api/client/");
}

#[test]
fn the_reader_sees_what_the_compiler_sees() {
    let mut code = without_test_items(strip(
        "use crate::a::{self, b::{C, D as E}, f::*};\n\
         // crate::in_a_comment\n\
         fn x() -> char { let s = \"crate::in_a_string\"; let c = '{'; crate::g::h(); 'x' }\n\
         #[cfg(test)]\n#[allow(x)]\nmod tests { use crate::tested; }\n\
         fn y<'a>(v: &'a str) { super::k::l(v); check::run(); }\n",
    ));
    let found: Vec<String> = paths(&mut code)
        .into_iter()
        .map(|n| n.segments.join("::"))
        .collect();
    assert_eq!(
        found,
        [
            "crate::a",
            "crate::a::b::C",
            "crate::a::b::D",
            "crate::a::f",
            "crate::g::h",
            "super::k::l",
            "check::run",
        ]
    );
}
