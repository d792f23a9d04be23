//! The README's "Add Rampart to your service" must lead somewhere real: the dependency line
//! names this facade, every feature it lists exists (and every feature is listed), the MSRV
//! it states is the workspace's, and every relative link in the README and docs/ resolves.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn toml_of(path: &Path) -> toml::Table {
    read(path)
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn readme() -> String {
    read(&repo().join("README.md"))
}

/// The `[dependencies]` block of the README's "Add Rampart" section.
fn dependency_block(readme: &str) -> &str {
    let section = readme
        .split("## Add Rampart to your service")
        .nth(1)
        .expect("the section");
    let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + section[start..].find("```").expect("closed");
    &section[start..end]
}

#[test]
fn the_dependency_line_names_the_facade_in_this_repository() {
    let readme = readme();
    let deps: toml::Table = dependency_block(&readme).parse().expect("valid TOML");
    let rampart = deps["dependencies"]["rampart"]
        .as_table()
        .expect("rampart = { path = .. }");
    let path = rampart["path"].as_str().expect("a path dependency");
    // The line assumes a checkout at vendor/rampart: what follows must exist here.
    let inside = path
        .strip_prefix("vendor/rampart/")
        .expect("the checkout's path");
    let manifest = toml_of(&repo().join(inside).join("Cargo.toml"));
    assert_eq!(manifest["package"]["name"].as_str(), Some("rampart"));
    assert_eq!(
        manifest["package"]["publish"]["workspace"].as_bool(),
        Some(true)
    );
    let workspace = toml_of(&repo().join("Cargo.toml"));
    assert_eq!(
        workspace["workspace"]["package"]["publish"].as_bool(),
        Some(false),
        "the README says Rampart is not on crates.io"
    );
    assert!(
        workspace["workspace"]["package"]
            .get("repository")
            .is_none(),
        "no placeholder repository URL"
    );
}

#[test]
fn the_feature_table_lists_exactly_the_facades_features() {
    let readme = readme();
    let section = readme
        .split("## Add Rampart to your service")
        .nth(1)
        .unwrap();
    let section = section.split("\n## ").next().unwrap();
    let mut listed = BTreeSet::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let first_cell = row.split('|').nth(1).unwrap();
        for name in first_cell.split('`').skip(1).step_by(2) {
            listed.insert(name.to_owned());
        }
    }
    let manifest = toml_of(&repo().join("crates/rampart/Cargo.toml"));
    let features: BTreeSet<String> = manifest["features"]
        .as_table()
        .unwrap()
        .keys()
        .filter(|k| *k != "default")
        .cloned()
        .collect();
    assert_eq!(
        listed, features,
        "README feature table vs crates/rampart/Cargo.toml"
    );
    let defaults: BTreeSet<String> = manifest["features"]["default"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim_ascii).collect();
        let is_default = cells[2] == "yes";
        for name in cells[1].split('`').skip(1).step_by(2) {
            assert_eq!(
                defaults.contains(name),
                is_default,
                "default column of `{name}`"
            );
        }
    }
}

#[test]
fn the_stated_msrv_and_edition_are_the_workspaces() {
    let workspace = toml_of(&repo().join("Cargo.toml"));
    let package = &workspace["workspace"]["package"];
    let msrv = package["rust-version"].as_str().unwrap();
    let edition = package["edition"].as_str().unwrap();
    let readme = readme();
    assert!(
        readme.contains(&format!("Rust {msrv} or later")),
        "README states MSRV {msrv}"
    );
    assert!(
        readme.contains(&format!("edition {edition}")),
        "README states edition {edition}"
    );
}

/// Markdown files the links are checked in: the README and everything under docs/.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![repo().join("README.md")];
    let mut dirs = vec![repo().join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn every_relative_link_resolves_in_the_repository() {
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = read(&file);
        for (_, rest) in text.match_indices("](").map(|(i, _)| ((), &text[i + 2..])) {
            let Some(end) = rest.find(')') else { continue };
            let target = &rest[..end];
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let target = target.split('#').next().unwrap();
            let resolved = file.parent().unwrap().join(target);
            if !resolved.exists() {
                broken.push(format!("{} -> {target}", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}

#[test]
fn no_file_cites_a_document_outside_the_repository() {
    // Design documents live in docs/; the ones the project started from are not shipped.
    for file in markdown_files() {
        let text = read(&file);
        for cited in ["ENVELOPE.md", "DESIGN.md", "../shared/"] {
            assert!(!text.contains(cited), "{} cites {cited}", file.display());
        }
    }
}
