//! Checks, over the source tree, that the store's seam is where `store/mod.rs` says it is:
//! no module outside `store/` sees a pool, a table prefix or SQL; inside `store/`, only
//! the backends' own files (and the dispatch in `mod.rs`, `dialect.rs`, `tx.rs`) branch
//! on the backend or write backend-only SQL; and the store's modules do not import each
//! other in a circle. A newcomer who adds a dialect branch elsewhere learns it here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's lines without comment lines (docs may name what they explain).
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect()
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn offences(files: &[PathBuf], tokens: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for f in files {
        for (n, line) in code_lines(f) {
            for t in tokens {
                if line.contains(t) {
                    found.push(format!("{}:{n}: `{t}`", f.display()));
                }
            }
        }
    }
    found
}

#[test]
fn no_module_outside_the_store_sees_a_pool_a_prefix_or_sql() {
    let store = src().join("store");
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.retain(|f| !f.starts_with(&store));
    assert!(files.len() > 50, "the walk found the source tree");
    let found = offences(
        &files,
        &["sqlx::", ".pool()", ".prefix()", "Pool::", "TxConn"],
    );
    assert!(
        found.is_empty(),
        "store internals used outside store/:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_backends_own_files_branch_on_the_backend() {
    let store = src().join("store");
    let allowed = |f: &Path| {
        let rel = f
            .strip_prefix(&store)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        ["mod.rs", "dialect.rs", "tx.rs", "sqlite.rs", "postgres.rs", "seam.rs"]
            .contains(&rel.as_str())
            || rel.starts_with("sqlite/")
            || rel.starts_with("postgres/")
            // The statement splitter's lexer rules are per dialect by nature.
            || rel == "migrate/split.rs"
    };
    let mut files = Vec::new();
    rust_files(&store, &mut files);
    files.retain(|f| !allowed(f));
    assert!(files.len() >= 15, "the walk found the store's modules");
    let found = offences(
        &files,
        &[
            "Pool::Sqlite",
            "Pool::Postgres",
            "TxConn::Sqlite",
            "TxConn::Postgres",
            "Backend::",
            "PRAGMA",
            "VACUUM",
            "LEAST(",
            "FOR UPDATE",
            "FOR SHARE",
            "SKIP LOCKED",
            "unnest(",
            "UNNEST(",
            "sqlite_master",
            "pg_",
            "::text[]",
        ],
    );
    assert!(
        found.is_empty(),
        "backend-specific code outside the backends' files:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_store_modules_import_no_circle() {
    let store = src().join("store");
    let modules: BTreeSet<String> = std::fs::read_dir(&store)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let stem = p.file_stem()?.to_string_lossy().into_owned();
            (stem != "mod").then_some(stem)
        })
        .collect();
    // module -> the sibling modules it names (`super::x::…` or `crate::store::x::…`).
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &modules {
        let file = store.join(format!("{m}.rs"));
        let file = if file.exists() {
            file
        } else {
            store.join(m).join("mod.rs")
        };
        let text: String = code_lines(&file)
            .into_iter()
            .map(|(_, l)| l + "\n")
            .collect();
        let named = modules
            .iter()
            .filter(|other| *other != m)
            .filter(|other| {
                text.contains(&format!("super::{other}::"))
                    || text.contains(&format!("super::{other}::{{"))
                    || text.contains(&format!("crate::store::{other}::"))
            })
            .cloned()
            .collect();
        uses.insert(m.clone(), named);
    }
    for (a, named) in &uses {
        for b in named {
            assert!(
                !uses.get(b).is_some_and(|n| n.contains(a)),
                "store/{a} and store/{b} import each other"
            );
        }
    }
    assert!(
        uses["orders"].contains("outbox"),
        "the check sees imports (orders writes outbox events)"
    );
}
