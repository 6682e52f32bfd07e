//! JSON Lines and CSV inputs: one document per record.

use std::path::Path;

use rayon::prelude::*;
use serde_json::{Map, Value};

use super::{decode_utf8_lossy, plural, Corpus, CorpusOptions, Document};
use crate::{Error, Result};

/// Reads a whole data file; an unreadable file is a skipped input with a warning (`Ok(None)`).
fn read_bytes(path: &Path, corpus: &mut Corpus) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            corpus.push_skipped(format!("{}: skipped, cannot read: {e}", path.display()));
            None
        }
    }
}

/// The file name used in default ids (`name:line`).
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A field value usable as an id or label: strings as they are, numbers and booleans written
/// out; anything else (null, arrays, objects) is no value.
fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The outcome of one JSON Lines line.
enum Line {
    /// A document; `has_id` / `has_label` say whether the optional fields held a value.
    Document {
        doc: Document,
        has_id: bool,
        has_label: bool,
    },
    /// An object without the text field (its keys, for the error message).
    NoText { line: usize, keys: Vec<String> },
    /// A malformed line: the warning.
    Bad(String),
}

/// serde_json's message without its " at line L column C" suffix (always line 1 here).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(p) => text[..p].to_string(),
        None => text,
    }
}

fn parse_line(bytes: &[u8], line: usize, shown: &str, name: &str, opts: &CorpusOptions) -> Line {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return Line::Bad(format!(
                "{shown}:{line}: skipped, invalid JSON at column {}: {}",
                e.column(),
                json_message(&e)
            ))
        }
    };
    let Value::Object(mut map) = value else {
        return Line::Bad(format!("{shown}:{line}: skipped, not a JSON object"));
    };
    let field = &opts.text_field;
    let text = match map.remove(field) {
        Some(Value::String(s)) => s,
        None => {
            return Line::NoText {
                line,
                keys: map.keys().cloned().collect(),
            }
        }
        Some(Value::Null) => {
            return Line::Bad(format!("{shown}:{line}: skipped, field '{field}' is null"))
        }
        Some(_) => {
            return Line::Bad(format!(
                "{shown}:{line}: skipped, field '{field}' is not a string"
            ))
        }
    };
    let (id, has_id) = match optional_field(&map, opts.id_field.as_deref()) {
        Some(id) if !id.is_empty() => (id, true),
        other => (format!("{name}:{line}"), other.is_some()),
    };
    let label = optional_field(&map, opts.label_field.as_deref());
    let has_label = label.is_some();
    Line::Document {
        doc: Document {
            id,
            label: label.filter(|l| !l.is_empty()),
            text,
            path: None,
        },
        has_id,
        has_label,
    }
}

fn optional_field(map: &Map<String, Value>, field: Option<&str>) -> Option<String> {
    field.and_then(|f| map.get(f)).and_then(scalar_string)
}

/// Loads a JSON Lines file: one JSON object per line, blank lines skipped. Lines are parsed in
/// parallel and kept in file order.
///
/// Errors: the text field absent from every object of the file, or an id/label field given in
/// the options and absent from every record.
pub(super) fn load_jsonl(path: &Path, opts: &CorpusOptions, corpus: &mut Corpus) -> Result<()> {
    let Some(bytes) = read_bytes(path, corpus) else {
        return Ok(());
    };
    let shown = path.display().to_string();
    let name = file_name(path);
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let lines: Vec<(usize, &[u8])> = body
        .split(|&c| c == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .collect();
    let parsed: Vec<Line> = lines
        .into_par_iter()
        .map(|(line, l)| parse_line(l, line, &shown, &name, opts))
        .collect();

    let objects = parsed.iter().filter(|p| !matches!(p, Line::Bad(_))).count();
    let with_text = parsed
        .iter()
        .filter(|p| matches!(p, Line::Document { .. }))
        .count();
    if objects > 0 && with_text == 0 {
        let keys = parsed.iter().find_map(|p| match p {
            Line::NoText { keys, .. } => Some(keys.join(", ")),
            _ => None,
        });
        return Err(Error::Input(format!(
            "{shown}: no field '{}' in the records (fields found: {}; use --text-field)",
            opts.text_field,
            keys.filter(|k| !k.is_empty())
                .unwrap_or_else(|| "none".into())
        )));
    }
    let any_id = parsed
        .iter()
        .any(|p| matches!(p, Line::Document { has_id: true, .. }));
    let any_label = parsed.iter().any(|p| {
        matches!(
            p,
            Line::Document {
                has_label: true,
                ..
            }
        )
    });
    if with_text > 0 {
        if let (Some(f), false) = (&opts.id_field, any_id) {
            return Err(Error::Input(format!(
                "{shown}: no field '{f}' in the records (use --id-field)"
            )));
        }
        if let (Some(f), false) = (&opts.label_field, any_label) {
            return Err(Error::Input(format!(
                "{shown}: no field '{f}' in the records (use --label-field)"
            )));
        }
    }
    for p in parsed {
        match p {
            Line::Document { doc, .. } => corpus.push_document(doc),
            Line::NoText { line, .. } => corpus.push_skipped(format!(
                "{shown}:{line}: skipped, no field '{}'",
                opts.text_field
            )),
            Line::Bad(w) => corpus.push_skipped(w),
        }
    }
    Ok(())
}

/// Loads a CSV file (RFC 4180: header row, `,` separator, `"` quoting; quoted fields may hold
/// commas, quotes and line breaks). A record with a different number of fields than the header
/// is a warning with its line number and is skipped.
///
/// Errors: an empty file, a header without the text column, or without an id/label column the
/// options name.
pub(super) fn load_csv(path: &Path, opts: &CorpusOptions, corpus: &mut Corpus) -> Result<()> {
    let Some(bytes) = read_bytes(path, corpus) else {
        return Ok(());
    };
    let shown = path.display().to_string();
    let name = file_name(path);
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(body);
    let header: Vec<String> = match reader.byte_headers() {
        Ok(h) => h
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect(),
        Err(e) => {
            return Err(Error::Input(format!(
                "{shown}: cannot read the header: {e}"
            )))
        }
    };
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(Error::Input(format!(
            "{shown}: empty CSV file (expected a header row with a '{}' column)",
            opts.text_field
        )));
    }
    let column = |field: &str, option: &str| -> Result<usize> {
        header.iter().position(|h| h == field).ok_or_else(|| {
            Error::Input(format!(
                "{shown}: no column '{field}' in the header (columns: {}; use {option})",
                header.join(", ")
            ))
        })
    };
    let text_col = column(&opts.text_field, "--text-field")?;
    let id_col = opts
        .id_field
        .as_deref()
        .map(|f| column(f, "--id-field"))
        .transpose()?;
    let label_col = opts
        .label_field
        .as_deref()
        .map(|f| column(f, "--label-field"))
        .transpose()?;

    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                corpus.push_skipped(format!("{shown}:{line}: skipped, {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != header.len() {
            corpus.push_skipped(format!(
                "{shown}:{line}: skipped, {} where the header has {}",
                plural(record.len(), "field", "fields"),
                header.len()
            ));
            continue;
        }
        let field = |col: usize| record.get(col).unwrap_or_default();
        let (text, invalid) = decode_utf8_lossy(field(text_col).to_vec());
        if invalid > 0 {
            corpus.warnings.push(format!(
                "{shown}:{line}: invalid UTF-8, {} replaced with U+FFFD",
                plural(invalid, "byte", "bytes")
            ));
        }
        let id = id_col
            .map(|c| String::from_utf8_lossy(field(c)).into_owned())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| format!("{name}:{line}"));
        let label = label_col
            .map(|c| String::from_utf8_lossy(field(c)).into_owned())
            .filter(|l| !l.is_empty());
        corpus.push_document(Document {
            id,
            label,
            text,
            path: None,
        });
    }
    Ok(())
}
