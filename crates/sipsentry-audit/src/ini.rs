//! A tolerant reader for Asterisk's configuration dialect.
//!
//! Asterisk's files look like INI but are not: a section may repeat (PJSIP keys objects by
//! name *and* type), `[name](!)` declares a template, `[name](tpl1,tpl2)` inherits from
//! templates, `key => value` and `key = value` are the same thing, `;` starts a comment unless
//! escaped as `\;`, `;-- ... --;` is a block comment and `#include`/`#tryinclude` pull in other
//! files relative to the config directory. The reader never fails on odd lines: it records them
//! and moves on, because an auditor must read what the PBX would read.

use std::path::{Path, PathBuf};

/// Largest config file read (Asterisk samples are under 100 KiB).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// `#include` nesting limit (a loop would otherwise never end).
pub const MAX_INCLUDE_DEPTH: usize = 8;
/// Cap on lines over all included files.
pub const MAX_LINES: usize = 500_000;

/// One `[section]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// Declared with `(!)`: a template, not an object.
    pub is_template: bool,
    /// Templates inherited, in order.
    pub inherits: Vec<String>,
    /// `key`, `value` in file order, inherited entries first. Keys are lower-cased.
    pub entries: Vec<(String, String)>,
}

impl Section {
    /// Last value of `key` (Asterisk: the last assignment wins for scalar options).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable key (`permit`, `include`, `exten`).
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed configuration file (with its includes expanded).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub sections: Vec<Section>,
    /// Lines that were neither comments, sections, directives nor assignments.
    pub unparsed: usize,
    /// Includes that could not be read (path, reason).
    pub include_errors: Vec<(String, String)>,
}

impl Config {
    /// Non-template sections named `name` (PJSIP may have several).
    pub fn sections_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Section> + 'a {
        self.sections
            .iter()
            .filter(move |s| !s.is_template && s.name.eq_ignore_ascii_case(name))
    }

    /// First non-template section named `name`.
    pub fn section<'a>(&'a self, name: &'a str) -> Option<&'a Section> {
        self.sections_named(name).next()
    }

    /// Non-template sections.
    pub fn objects(&self) -> impl Iterator<Item = &Section> {
        self.sections.iter().filter(|s| !s.is_template)
    }
}

/// Errors reading the top-level file (includes that fail are recorded, not fatal).
#[derive(Debug, thiserror::Error)]
pub enum IniError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge { path: String },
}

/// Read a file from disk, bounded.
pub(crate) fn read_bounded(path: &Path) -> Result<String, IniError> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|source| IniError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut buf = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|source| IniError::Io {
            path: path.display().to_string(),
            source,
        })?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(IniError::TooLarge {
            path: path.display().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Parse `path`, following `#include` relative to `base_dir`.
pub fn parse_file(path: &Path, base_dir: &Path) -> Result<Config, IniError> {
    let text = read_bounded(path)?;
    let mut p = Parser {
        base: base_dir.to_path_buf(),
        cfg: Config::default(),
        lines: 0,
        in_block_comment: false,
    };
    p.feed(&text, 0);
    Ok(p.finish())
}

/// Parse text (includes resolved relative to `base_dir`).
pub fn parse_str(text: &str, base_dir: &Path) -> Config {
    let mut p = Parser {
        base: base_dir.to_path_buf(),
        cfg: Config::default(),
        lines: 0,
        in_block_comment: false,
    };
    p.feed(text, 0);
    p.finish()
}

struct Parser {
    base: PathBuf,
    cfg: Config,
    lines: usize,
    in_block_comment: bool,
}

impl Parser {
    fn feed(&mut self, text: &str, depth: usize) {
        for raw in text.lines() {
            self.lines += 1;
            if self.lines > MAX_LINES {
                return;
            }
            let line = self.strip_comments(raw);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('#') {
                self.directive(rest, depth);
            } else if line.starts_with('[') {
                self.section_header(line);
            } else if let Some((k, v)) = split_assignment(line) {
                let k = k.trim().to_ascii_lowercase();
                let v = unescape(v.trim());
                if self.cfg.sections.is_empty() {
                    // Assignments before any section belong to an implicit one (Asterisk
                    // ignores them with a warning; keeping them costs nothing).
                    self.cfg.sections.push(Section::default());
                }
                if let Some(s) = self.cfg.sections.last_mut() {
                    if s.entries.len() < 100_000 {
                        s.entries.push((k, v));
                    }
                }
            } else {
                self.cfg.unparsed += 1;
            }
        }
    }

    /// Remove `;` comments and `;-- --;` block comments; `\;` is a literal semicolon.
    fn strip_comments(&mut self, raw: &str) -> String {
        let mut out = String::with_capacity(raw.len());
        let b = raw.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if self.in_block_comment {
                if raw[i..].starts_with("--;") {
                    self.in_block_comment = false;
                    i += 3;
                } else {
                    i += raw[i..].chars().next().map_or(1, char::len_utf8);
                }
                continue;
            }
            if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b';' {
                out.push_str("\\;");
                i += 2;
                continue;
            }
            if b[i] == b';' {
                if raw[i..].starts_with(";--") {
                    self.in_block_comment = true;
                    i += 3;
                    continue;
                }
                break;
            }
            let c = raw[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
        out
    }

    fn directive(&mut self, rest: &str, depth: usize) {
        let (cmd, arg) = match rest.find(|c: char| c.is_whitespace()) {
            Some(i) => (&rest[..i], rest[i..].trim()),
            None => (rest, ""),
        };
        let optional = match cmd {
            "include" => false,
            "tryinclude" => true,
            // #exec runs a program: never executed by an auditor.
            _ => return,
        };
        let arg = arg.trim_matches(|c| c == '"' || c == '<' || c == '>');
        if arg.is_empty() {
            return;
        }
        if depth + 1 > MAX_INCLUDE_DEPTH {
            self.cfg
                .include_errors
                .push((arg.to_string(), "include nesting too deep".into()));
            return;
        }
        let path = if Path::new(arg).is_absolute() {
            PathBuf::from(arg)
        } else {
            self.base.join(arg)
        };
        for p in expand_glob(&path) {
            match read_bounded(&p) {
                Ok(text) => self.feed(&text, depth + 1),
                Err(e) => {
                    if !optional {
                        self.cfg
                            .include_errors
                            .push((p.display().to_string(), e.to_string()));
                    }
                }
            }
        }
    }

    fn section_header(&mut self, line: &str) {
        let Some(close) = line.find(']') else {
            self.cfg.unparsed += 1;
            return;
        };
        let name = line[1..close].trim().to_string();
        let mut sec = Section {
            name,
            ..Section::default()
        };
        let after = line[close + 1..].trim();
        if let Some(opts) = after.strip_prefix('(') {
            let opts = opts.trim_end_matches(')');
            for o in opts.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                match o {
                    "!" => sec.is_template = true,
                    // `+` appends to an earlier section of the same name.
                    "+" => {
                        if let Some(prev) =
                            self.cfg.sections.iter().rposition(|s| s.name == sec.name)
                        {
                            let prev = self.cfg.sections.remove(prev);
                            self.cfg.sections.push(prev);
                            return;
                        }
                    }
                    t => {
                        sec.inherits.push(t.to_string());
                        if let Some(tpl) = self.cfg.sections.iter().rev().find(|s| s.name == t) {
                            sec.entries.extend(tpl.entries.iter().cloned());
                        }
                    }
                }
            }
        }
        if self.cfg.sections.len() < 100_000 {
            self.cfg.sections.push(sec);
        }
    }

    fn finish(self) -> Config {
        self.cfg
    }
}

/// `key => value` or `key = value` (the first of `=>`/`=` wins).
fn split_assignment(line: &str) -> Option<(&str, &str)> {
    let eq = line.find('=')?;
    let key = &line[..eq];
    let mut val = &line[eq + 1..];
    if let Some(v) = val.strip_prefix('>') {
        val = v;
    }
    if key.trim().is_empty() {
        return None;
    }
    Some((key, val))
}

fn unescape(v: &str) -> String {
    v.replace("\\;", ";")
}

/// `#include "pjsip.d/*.conf"`: expand a `*` in the last component only, sorted.
fn expand_glob(path: &Path) -> Vec<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains('*') {
        return vec![path.to_path_buf()];
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let (pre, post) = name.split_once('*').unwrap_or((&name, ""));
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .map(|n| {
                            let n = n.to_string_lossy();
                            n.starts_with(pre)
                                && n.ends_with(post)
                                && n.len() >= pre.len() + post.len()
                        })
                        .unwrap_or(false)
                })
                .take(1000)
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_comments_and_arrows() {
        let c = parse_str(
            "[general]\nenabled = yes ; trailing\n;-- block\n[hidden]\n--;\n\
             [tpl](!)\nmedia_encryption=no\n[6001](tpl)\ntype=endpoint\nexten => 1,1,Dial(PJSIP/x\\;y)\n[6001]\ntype=auth\n",
            Path::new("."),
        );
        assert_eq!(c.section("general").unwrap().get("enabled"), Some("yes"));
        assert!(c.section("hidden").is_none());
        let eps: Vec<_> = c.sections_named("6001").collect();
        assert_eq!(eps.len(), 2);
        assert_eq!(eps[0].get("media_encryption"), Some("no"));
        assert_eq!(eps[0].get("exten"), Some("1,1,Dial(PJSIP/x;y)"));
        assert!(c.sections.iter().any(|s| s.is_template));
    }

    #[test]
    fn includes_are_followed_and_loops_bounded() {
        let dir = std::env::temp_dir().join(format!("sipsentry-ini-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.conf"), "[a]\nx=1\n#include \"a.conf\"\n").unwrap();
        let c = parse_str("#include a.conf\n#tryinclude missing.conf\n", &dir);
        assert!(c.section("a").is_some());
        assert!(c.include_errors.iter().any(|(_, e)| e.contains("too deep")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "[",
            "]",
            "=",
            "[x](",
            "#include",
            ";--",
            "\\;",
            "a=>",
            "\u{0}[é]=é",
        ] {
            let _ = parse_str(s, Path::new("/nonexistent"));
        }
    }
}
