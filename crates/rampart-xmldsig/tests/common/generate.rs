//! A generator of namespace-heavy XML documents: declarations used, unused and redeclared,
//! default namespaces set and undone, attributes in odd orders, references, CDATA,
//! comments, PIs and white space, with CRLF line ends.

use std::fmt::Write as _;

use super::Rng;

const PREFIXES: &[&str] = &["", "a", "b", "c"];
const URIS: &[&str] = &["urn:x", "urn:y", "http://example.com/z", "urn:x:2"];
const NAMES: &[&str] = &["e", "f", "Item", "g2", "h-i", "j.k"];
const ATTRS: &[&str] = &["id", "z", "a", "Name", "b1", "y"];

struct Gen<'r> {
    rng: &'r mut Rng,
    out: String,
}

/// One document drawn from `rng`.
pub(crate) fn generate(rng: &mut Rng) -> String {
    let mut g = Gen {
        rng,
        out: String::new(),
    };
    if g.rng.chance(3) {
        g.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }
    g.misc();
    let mut scope = vec![("xml".to_owned(), "".to_owned())];
    g.element(0, &mut scope);
    g.misc();
    g.out
}

impl Gen<'_> {
    fn misc(&mut self) {
        for _ in 0..self.rng.below(3) {
            match self.rng.below(3) {
                0 => self.out.push_str("<!-- top\r\n comment -->"),
                1 => self.out.push_str("<?pi-top  data  here ?>"),
                _ => self.out.push_str("\n  "),
            }
        }
    }

    fn value(&mut self, attr: bool) -> String {
        let mut v = String::new();
        for _ in 0..self.rng.below(5) {
            let piece = match self.rng.below(16) {
                0 => "&amp;",
                1 => "&lt;",
                2 => "&gt;",
                3 => "&quot;",
                4 => "&apos;",
                5 => "&#9;",
                6 => "&#10;",
                7 => "&#13;",
                8 => "\t",
                9 => "\r\n",
                10 => "\n",
                11 => "é ü 日本",
                12 => "&#x1F600;",
                13 => " ",
                14 => "'",
                _ => "plain",
            };
            if attr || piece != "&quot;" || self.rng.chance(2) {
                v.push_str(piece);
            }
        }
        v
    }

    fn element(&mut self, depth: usize, scope: &mut Vec<(String, String)>) {
        let mark = scope.len();
        let mut decls: Vec<(String, String)> = Vec::new();
        // Namespace declarations: used, unused, redeclared, undeclared default.
        for _ in 0..self.rng.below(3) {
            let p = PREFIXES[self.rng.below(PREFIXES.len())].to_owned();
            if decls.iter().any(|(dp, _)| *dp == p) {
                continue;
            }
            let in_scope_default = lookup(scope, "").is_some_and(|u| !u.is_empty());
            let uri = if p.is_empty() && in_scope_default && self.rng.chance(3) {
                String::new()
            } else if let (true, Some(same)) = (self.rng.chance(3), lookup(scope, &p)) {
                same.to_owned()
            } else {
                URIS[self.rng.below(URIS.len())].to_owned()
            };
            if !p.is_empty() && uri.is_empty() {
                continue;
            }
            decls.push((p, uri));
        }
        for d in &decls {
            scope.push(d.clone());
        }
        // The element's own prefix: any bound non-default prefix, or none.
        let mut prefix = String::new();
        if self.rng.chance(2) {
            let p = PREFIXES[1 + self.rng.below(PREFIXES.len() - 1)];
            if lookup(scope, p).is_some() {
                prefix = p.to_owned();
            }
        }
        let local = NAMES[self.rng.below(NAMES.len())];
        let qname = if prefix.is_empty() {
            local.to_owned()
        } else {
            format!("{prefix}:{local}")
        };
        let _ = write!(self.out, "<{qname}");
        // Attributes, namespace declarations among them, in odd orders.
        let mut items: Vec<String> = decls
            .iter()
            .map(|(p, u)| {
                if p.is_empty() {
                    format!(" xmlns=\"{u}\"")
                } else {
                    format!(" xmlns:{p}=\"{u}\"")
                }
            })
            .collect();
        let mut used: Vec<(String, String)> = Vec::new();
        for _ in 0..self.rng.below(4) {
            let name = ATTRS[self.rng.below(ATTRS.len())];
            let (ap, ns) = match self.rng.below(4) {
                0 => {
                    let p = PREFIXES[1 + self.rng.below(PREFIXES.len() - 1)];
                    match lookup(scope, p) {
                        Some(u) => (p.to_owned(), u.to_owned()),
                        None => (String::new(), String::new()),
                    }
                }
                1 if self.rng.chance(3) => ("xml".to_owned(), "xml".to_owned()),
                _ => (String::new(), String::new()),
            };
            let key = (ns.clone(), name.to_owned());
            if used.contains(&key) {
                continue;
            }
            used.push(key);
            let q = if ap.is_empty() {
                name.to_owned()
            } else {
                format!("{ap}:{name}")
            };
            let name = if ap == "xml" {
                format!("xml:{}", ["lang", "space", "base"][self.rng.below(3)])
            } else {
                q
            };
            if ap == "xml" && items.iter().any(|i| i.contains(&name)) {
                continue;
            }
            let v = self.value(true);
            if self.rng.chance(2) {
                items.push(format!(" {name}=\"{v}\""));
            } else {
                items.push(format!(" {name}='{}'", v.replace('\'', "&apos;")));
            }
        }
        if self.rng.chance(2) {
            items.reverse();
        }
        for it in &items {
            self.out.push_str(it);
            if self.rng.chance(5) {
                self.out.push_str("\n   ");
            }
        }
        if depth >= 4 || self.rng.chance(5) {
            self.out.push_str("/>");
        } else {
            self.out.push('>');
            for _ in 0..self.rng.below(5) {
                match self.rng.below(8) {
                    0 | 1 => self.element(depth + 1, scope),
                    2 => {
                        let v = self.value(false);
                        self.out.push_str(&v);
                    }
                    3 => self.out.push_str("<![CDATA[ <cdata> & ]] > \r\n ]]>"),
                    4 => self.out.push_str("<!-- inner -->"),
                    5 => self.out.push_str("<?pi inner?>"),
                    6 => self.out.push_str("\n    "),
                    _ => self.out.push_str("text"),
                }
            }
            let _ = write!(self.out, "</{qname}>");
        }
        scope.truncate(mark);
    }
}

fn lookup<'a>(scope: &'a [(String, String)], prefix: &str) -> Option<&'a str> {
    scope
        .iter()
        .rev()
        .find(|(p, _)| p == prefix)
        .map(|(_, u)| u.as_str())
}
