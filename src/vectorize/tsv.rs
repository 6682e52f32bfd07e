//! `terms.tsv` and `documents.tsv`: the column and row descriptions written next to
//! `matrix.mtx`.
//!
//! Both are tab-separated with a header line. Inside a field, a backslash, a tab, a newline
//! and a carriage return are written `\\`, `\t`, `\n` and `\r`, so every record is one line.
//! An empty `label` field means no label.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::{DocInfo, Term};
use crate::{Error, Result};

const TERMS_HEADER: &str = "term\tsurface\tdf";
const DOCUMENTS_HEADER: &str = "id\tlabel";

/// Appends `field` to `out` with `\`, tab, newline and carriage return escaped.
fn push_escaped(out: &mut String, field: &str) {
    if !field
        .bytes()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        out.push_str(field);
        return;
    }
    for ch in field.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Reverses [`push_escaped`]; an error for an unknown escape or a trailing backslash.
pub(crate) fn unescape(field: &str) -> std::result::Result<String, String> {
    if !field.contains('\\') {
        return Ok(field.to_string());
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => return Err(format!("unknown escape '\\{other}'")),
            None => return Err("a backslash ends the field".to_string()),
        }
    }
    Ok(out)
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = BufWriter::new(file);
    w.write_all(text.as_bytes())
        .and_then(|()| w.flush())
        .map_err(|e| Error::io(path, e))
}

/// Writes `terms.tsv`: header `term\tsurface\tdf`, one row per column.
pub fn write_terms_tsv(path: &Path, terms: &[Term]) -> Result<()> {
    let mut out = String::with_capacity(32 * terms.len() + 32);
    out.push_str(TERMS_HEADER);
    out.push('\n');
    for t in terms {
        push_escaped(&mut out, &t.stem);
        out.push('\t');
        push_escaped(&mut out, &t.surface);
        out.push('\t');
        out.push_str(itoa::Buffer::new().format(t.df));
        out.push('\n');
    }
    write_file(path, &out)
}

/// Writes `documents.tsv`: header `id\tlabel`, one row per matrix row; tabs, newlines and
/// backslashes inside fields escaped as `\t`, `\n` and `\\`.
pub fn write_documents_tsv(path: &Path, docs: &[DocInfo]) -> Result<()> {
    let mut out = String::with_capacity(48 * docs.len() + 16);
    out.push_str(DOCUMENTS_HEADER);
    out.push('\n');
    for d in docs {
        push_escaped(&mut out, &d.id);
        out.push('\t');
        if let Some(label) = &d.label {
            push_escaped(&mut out, label);
        }
        out.push('\n');
    }
    write_file(path, &out)
}

/// Reads a TSV file with the given header and number of fields, calling `row` for the fields
/// of each record (unescaped) with its line number.
fn read_records<T>(
    path: &Path,
    header: &str,
    mut row: impl FnMut(Vec<String>, usize) -> std::result::Result<T, String>,
) -> Result<Vec<T>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::input(format!(
            "{}: the file is not valid UTF-8 text",
            path.display()
        ))
    })?;
    let n_fields = header.split('\t').count();
    let bad = |line: usize, msg: String| Error::input(format!("{}:{line}: {msg}", path.display()));
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.len() > 1 && lines.last() == Some(&"") {
        lines.pop(); // the final newline
    }
    let first = lines.first().copied().unwrap_or("");
    if first.trim_end_matches('\r') != header {
        return Err(bad(
            1,
            format!("expected the header '{}'", header.replace('\t', "<TAB>")),
        ));
    }
    let mut out = Vec::with_capacity(lines.len().saturating_sub(1));
    for (i, line) in lines.iter().enumerate().skip(1) {
        let line_no = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != n_fields {
            return Err(bad(
                line_no,
                format!(
                    "expected {n_fields} tab-separated fields ({}), found {}",
                    header.replace('\t', ", "),
                    fields.len()
                ),
            ));
        }
        let fields = fields
            .into_iter()
            .map(unescape)
            .collect::<std::result::Result<Vec<String>, String>>()
            .map_err(|m| bad(line_no, m))?;
        out.push(row(fields, line_no).map_err(|m| bad(line_no, m))?);
    }
    Ok(out)
}

/// Reads `terms.tsv` as written by [`write_terms_tsv`].
///
/// Errors ([`Error::Input`], with the line number): a wrong header, a record without exactly
/// three fields, a `df` that is not a non-negative integer, an unknown escape.
pub fn read_terms_tsv(path: &Path) -> Result<Vec<Term>> {
    read_records(path, TERMS_HEADER, |mut f, _| {
        let df = f[2]
            .parse::<usize>()
            .map_err(|_| format!("df '{}' is not a non-negative integer", f[2]))?;
        let surface = std::mem::take(&mut f[1]);
        let stem = std::mem::take(&mut f[0]);
        if stem.is_empty() {
            return Err("empty term".to_string());
        }
        Ok(Term { stem, surface, df })
    })
}

/// Reads `documents.tsv` as written by [`write_documents_tsv`].
///
/// Errors ([`Error::Input`], with the line number): a wrong header, a record without exactly
/// two fields, an unknown escape.
pub fn read_documents_tsv(path: &Path) -> Result<Vec<DocInfo>> {
    read_records(path, DOCUMENTS_HEADER, |mut f, _| {
        let label = std::mem::take(&mut f[1]);
        Ok(DocInfo {
            id: std::mem::take(&mut f[0]),
            label: (!label.is_empty()).then(|| label.into()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        for s in [
            "plain",
            "a\tb",
            "line\nbreak",
            "back\\slash",
            "\\t literal",
            "cr\r",
            "",
        ] {
            let mut e = String::new();
            push_escaped(&mut e, s);
            assert!(!e.contains('\t') && !e.contains('\n'));
            assert_eq!(unescape(&e).unwrap(), s);
        }
        assert!(unescape("bad\\x").is_err());
        assert!(unescape("trailing\\").is_err());
    }

    #[test]
    fn terms_and_documents_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let terms = vec![
            Term {
                stem: "comput".into(),
                surface: "computer".into(),
                df: 12,
            },
            Term {
                stem: "new york".into(),
                surface: "new york".into(),
                df: 1,
            },
        ];
        let p = dir.path().join("terms.tsv");
        write_terms_tsv(&p, &terms).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "term\tsurface\tdf\ncomput\tcomputer\t12\nnew york\tnew york\t1\n"
        );
        assert_eq!(read_terms_tsv(&p).unwrap(), terms);

        let docs = vec![
            DocInfo {
                id: "a/b.txt".into(),
                label: Some("a".into()),
            },
            DocInfo {
                id: "tab\there\nnewline\\back".into(),
                label: None,
            },
            DocInfo {
                id: "x".into(),
                label: Some("l\tb".into()),
            },
        ];
        let p = dir.path().join("documents.tsv");
        write_documents_tsv(&p, &docs).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "id\tlabel\na/b.txt\ta\ntab\\there\\nnewline\\\\back\t\nx\tl\\tb\n"
        );
        assert_eq!(read_documents_tsv(&p).unwrap(), docs);

        write_documents_tsv(&p, &[]).unwrap();
        assert!(read_documents_tsv(&p).unwrap().is_empty());
    }

    fn input_err(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Err(Error::Input(m)) => m,
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_files_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.tsv");
        std::fs::write(&p, "term\tsurface\n").unwrap();
        assert!(input_err(read_terms_tsv(&p)).contains("t.tsv:1: expected the header"));
        std::fs::write(&p, "term\tsurface\tdf\na\ta\t1\nb\tb\n").unwrap();
        assert!(input_err(read_terms_tsv(&p)).contains("t.tsv:3: expected 3"));
        std::fs::write(&p, "term\tsurface\tdf\na\ta\tmany\n").unwrap();
        assert!(input_err(read_terms_tsv(&p)).contains(":2: df 'many'"));
        std::fs::write(&p, "term\tsurface\tdf\na\\q\ta\t1\n").unwrap();
        assert!(input_err(read_terms_tsv(&p)).contains(":2: unknown escape"));
        std::fs::write(&p, "id\tlabel\na\tb\n\nc\td\n").unwrap();
        assert!(input_err(read_documents_tsv(&p)).contains(":3: expected 2"));
        std::fs::write(&p, "id\tlabel\r\na\tb\r\n").unwrap();
        assert_eq!(
            read_documents_tsv(&p).unwrap()[0].label.as_deref(),
            Some("b")
        );
        std::fs::write(&p, [0xffu8, 0xfe]).unwrap();
        assert!(input_err(read_documents_tsv(&p)).contains("UTF-8"));
    }
}
