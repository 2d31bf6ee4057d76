//! Known failures of a test suite: a checked-in list of test names (or `*` patterns) that
//! are expected to fail until a tracked feature lands, and the tally that applies it.
//!
//! File format, one entry a line:
//!
//! ```text
//! # comment lines and blank lines are ignored
//! crud_configmap@kubectl-1.27          # reason shown in the output
//! python::test_watch_410
//! *@kubectl-1.27                       # `*` matches any substring (also empty)
//! ```
//!
//! The list must stay true. A listed test that fails is a *known failure* and does not
//! fail the run; a test listed by its exact name that passes fails the run (remove it from
//! the list). A pattern may cover passing tests too, but a pattern whose tests all pass is
//! stale and fails the run (see [`Tally::stale_patterns`]). Unlisted failures fail the run.

use std::path::Path;

/// Reason printed for an entry written without a `# reason` comment.
const NO_REASON: &str = "listed in known_failures.txt";

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The exact test name, or a pattern with `*` wildcards.
    pub pattern: String,
    /// The trailing comment, or a default text.
    pub reason: String,
    /// 1-based line number in the file, for messages.
    pub line: usize,
}

impl Entry {
    pub fn is_pattern(&self) -> bool {
        self.pattern.contains('*')
    }

    pub fn matches(&self, name: &str) -> bool {
        glob_match(&self.pattern, name)
    }
}

/// A malformed line.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(
        "line {line}: {text:?} is not one test name (names have no spaces; start a reason with `#`)"
    )]
    NotOneName { line: usize, text: String },
    #[error("line {line}: {name:?} is listed twice (first on line {first})")]
    Duplicate {
        line: usize,
        first: usize,
        name: String,
    },
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// The parsed list.
#[derive(Debug, Clone, Default)]
pub struct KnownFailures {
    entries: Vec<Entry>,
}

impl KnownFailures {
    pub fn parse(text: &str) -> Result<KnownFailures, ParseError> {
        let mut entries: Vec<Entry> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let (name, comment) = match raw.split_once('#') {
                Some((name, comment)) => (name.trim(), Some(comment.trim())),
                None => (raw.trim(), None),
            };
            if name.is_empty() {
                continue;
            }
            if name.contains(char::is_whitespace) {
                return Err(ParseError::NotOneName {
                    line,
                    text: name.to_string(),
                });
            }
            if let Some(first) = entries.iter().find(|e| e.pattern == name) {
                return Err(ParseError::Duplicate {
                    line,
                    first: first.line,
                    name: name.to_string(),
                });
            }
            let reason = comment
                .filter(|c| !c.is_empty())
                .unwrap_or(NO_REASON)
                .to_string();
            entries.push(Entry {
                pattern: name.to_string(),
                reason,
                line,
            });
        }
        Ok(KnownFailures { entries })
    }

    /// Reads the list from `path`; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<KnownFailures, ParseError> {
        match std::fs::read_to_string(path) {
            Ok(text) => KnownFailures::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KnownFailures::default()),
            Err(source) => Err(ParseError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry covering `name`: its exact entry if there is one, else the first pattern
    /// (in file order) that matches.
    pub fn lookup(&self, name: &str) -> Option<(usize, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .find(|(_, e)| !e.is_pattern() && e.pattern == name)
            .or_else(|| {
                self.entries
                    .iter()
                    .enumerate()
                    .find(|(_, e)| e.is_pattern() && e.matches(name))
            })
    }
}

/// `*` matches any substring (including the empty one); every other character itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let middle_and_last: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle_and_last.split_last() else {
        // No `*` at all: the whole name must have been the prefix.
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = rest.get(at + part.len()..).unwrap_or(""),
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// How one test counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed,
    /// Failed, and listed (with this reason).
    KnownFailure(String),
    /// Passed although listed by its exact name: counts as a failure.
    UnexpectedPass,
}

/// Counts results against the list and renders the per-test and summary lines.
#[derive(Debug)]
pub struct Tally {
    known: KnownFailures,
    /// Per entry: (failures it covered, passes it covered).
    hits: Vec<(usize, usize)>,
    pub passed: usize,
    pub failed: usize,
    pub known_failures: usize,
    /// Names of the tests that fail the run, in order.
    pub failures: Vec<String>,
}

impl Tally {
    pub fn new(known: KnownFailures) -> Tally {
        let hits = vec![(0, 0); known.entries.len()];
        Tally {
            known,
            hits,
            passed: 0,
            failed: 0,
            known_failures: 0,
            failures: Vec::new(),
        }
    }

    /// Counts one result and returns the text to print for it: `test <name> ... <status>`,
    /// followed by the error for real failures.
    pub fn record(&mut self, name: &str, outcome: Result<(), String>) -> (Verdict, String) {
        let entry = self.known.lookup(name).map(|(i, e)| (i, e.clone()));
        let verdict = match (&outcome, &entry) {
            (Ok(()), None) => Verdict::Passed,
            (Ok(()), Some((_, e))) if e.is_pattern() => Verdict::Passed,
            (Ok(()), Some(_)) => Verdict::UnexpectedPass,
            (Err(_), None) => Verdict::Failed,
            (Err(_), Some((_, e))) => Verdict::KnownFailure(e.reason.clone()),
        };
        if let Some((i, _)) = entry
            && let Some(hit) = self.hits.get_mut(i)
        {
            if outcome.is_ok() {
                hit.1 += 1;
            } else {
                hit.0 += 1;
            }
        }
        let text = match &verdict {
            Verdict::Passed => {
                self.passed += 1;
                format!("test {name} ... ok")
            }
            Verdict::UnexpectedPass => {
                self.failed += 1;
                self.failures.push(name.to_string());
                format!(
                    "test {name} ... ok (listed as a known failure: remove it from known_failures.txt)"
                )
            }
            Verdict::KnownFailure(reason) => {
                self.known_failures += 1;
                format!("test {name} ... known failure ({reason})")
            }
            Verdict::Failed => {
                self.failed += 1;
                self.failures.push(name.to_string());
                let error = outcome.err().unwrap_or_default();
                format!("test {name} ... FAILED\n{error}\n")
            }
        };
        (verdict, text)
    }

    /// Patterns that covered at least one test and whose tests all passed: the list is no
    /// longer true for them. Only meaningful after a full (unfiltered) run.
    pub fn stale_patterns(&self) -> Vec<&Entry> {
        self.known
            .entries
            .iter()
            .zip(&self.hits)
            .filter(|(e, (failures, passes))| e.is_pattern() && *failures == 0 && *passes > 0)
            .map(|(e, _)| e)
            .collect()
    }

    /// Entries that covered no test at all (renamed or removed tests, or a part of the
    /// suite that was skipped).
    pub fn unused_entries(&self) -> Vec<&Entry> {
        self.known
            .entries
            .iter()
            .zip(&self.hits)
            .filter(|(_, (failures, passes))| failures + passes == 0)
            .map(|(e, _)| e)
            .collect()
    }

    /// Counts a failure that is not a test result (e.g. a stale pattern).
    pub fn fail(&mut self, name: &str) {
        self.failed += 1;
        self.failures.push(name.to_string());
    }

    /// `N passed, N failed, N known failures`.
    pub fn summary(&self) -> String {
        format!(
            "{} passed, {} failed, {} known failures",
            self.passed, self.failed, self.known_failures
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "\
# compat known failures

crud_configmap@kubectl-1.27   # needs /openapi/v2 protobuf
python::test_watch_410
crud_*@kubectl-1.27 #  apply -f on 1.27  
   # indented comment
";

    #[test]
    fn parses_names_reasons_and_skips_comments() {
        let k = KnownFailures::parse(LIST).unwrap();
        let got: Vec<(&str, &str, usize)> = k
            .entries()
            .iter()
            .map(|e| (e.pattern.as_str(), e.reason.as_str(), e.line))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "crud_configmap@kubectl-1.27",
                    "needs /openapi/v2 protobuf",
                    3
                ),
                ("python::test_watch_410", NO_REASON, 4),
                ("crud_*@kubectl-1.27", "apply -f on 1.27", 5),
            ]
        );
    }

    #[test]
    fn rejects_names_with_spaces_and_duplicates() {
        let err = KnownFailures::parse("a b\n").unwrap_err();
        assert!(
            matches!(err, ParseError::NotOneName { line: 1, .. }),
            "{err}"
        );
        let err = KnownFailures::parse("a\n\na # again\n").unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Duplicate {
                    line: 3,
                    first: 1,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn missing_file_is_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let k = KnownFailures::load(&dir.path().join("none.txt")).unwrap();
        assert!(k.entries().is_empty());
    }

    #[test]
    fn glob_matching() {
        assert!(glob_match("*@kubectl-1.27", "crud_pod@kubectl-1.27"));
        assert!(!glob_match("*@kubectl-1.27", "crud_pod@kubectl-1.33"));
        assert!(glob_match("crud_*@kubectl-*", "crud_pod@kubectl-1.33"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxcyyb"));
        assert!(glob_match("*", ""));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        assert!(!glob_match("ab*ba", "aba"));
    }

    #[test]
    fn exact_entry_wins_over_pattern() {
        let k = KnownFailures::parse("*@kubectl-1.27 # broad\nx@kubectl-1.27 # exact\n").unwrap();
        assert_eq!(k.lookup("x@kubectl-1.27").unwrap().1.reason, "exact");
        assert_eq!(k.lookup("y@kubectl-1.27").unwrap().1.reason, "broad");
        assert!(k.lookup("y@kubectl-1.33").is_none());
    }

    #[test]
    fn tally_counts_and_prints() {
        let k = KnownFailures::parse(
            "listed_fails # tracked\nlisted_passes\nglob_* # glob\nstale_* # all pass\nunused\n",
        )
        .unwrap();
        let mut t = Tally::new(k);
        let cases = [
            ("plain_ok", Ok(())),
            ("plain_bad", Err("boom".to_string())),
            ("listed_fails", Err("x".to_string())),
            ("listed_passes", Ok(())),
            ("glob_a", Err("y".to_string())),
            ("glob_b", Ok(())),
            ("stale_a", Ok(())),
        ];
        let lines: Vec<(Verdict, String)> = cases
            .into_iter()
            .map(|(name, outcome)| t.record(name, outcome))
            .collect();
        assert_eq!(
            lines,
            [
                (Verdict::Passed, "test plain_ok ... ok".to_string()),
                (Verdict::Failed, "test plain_bad ... FAILED\nboom\n".into()),
                (
                    Verdict::KnownFailure("tracked".into()),
                    "test listed_fails ... known failure (tracked)".into()
                ),
                (
                    Verdict::UnexpectedPass,
                    "test listed_passes ... ok (listed as a known failure: remove it from known_failures.txt)".into()
                ),
                (
                    Verdict::KnownFailure("glob".into()),
                    "test glob_a ... known failure (glob)".into()
                ),
                (Verdict::Passed, "test glob_b ... ok".into()),
                (Verdict::Passed, "test stale_a ... ok".into()),
            ]
        );
        assert_eq!(t.summary(), "3 passed, 2 failed, 2 known failures");
        assert_eq!(t.failures, ["plain_bad", "listed_passes"]);
        let stale: Vec<&str> = t
            .stale_patterns()
            .iter()
            .map(|e| e.pattern.as_str())
            .collect();
        assert_eq!(stale, ["stale_*"]);
        let unused: Vec<&str> = t
            .unused_entries()
            .iter()
            .map(|e| e.pattern.as_str())
            .collect();
        assert_eq!(unused, ["unused"]);
    }
}
