//! JSON Lines and CSV inputs: one document per record.

use std::path::Path;

use serde_json::{Map, Value};

use super::{decode_utf8_lossy, plural, CorpusOptions, Document};
use crate::{Error, Result};

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
pub(super) enum Line {
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

/// One JSON Lines file being read: parses its lines (in any order, in parallel) and checks,
/// once every line is taken in file order, that the fields the options name were found.
pub(super) struct JsonlFile<'a> {
    shown: String,
    name: String,
    opts: &'a CorpusOptions,
    /// Lines that were JSON objects.
    objects: usize,
    /// Objects with the text field.
    with_text: usize,
    any_id: bool,
    any_label: bool,
    /// The keys of the first object without the text field.
    keys: Option<Vec<String>>,
}

impl<'a> JsonlFile<'a> {
    pub(super) fn new(path: &Path, opts: &'a CorpusOptions) -> Self {
        JsonlFile {
            shown: path.display().to_string(),
            name: file_name(path),
            opts,
            objects: 0,
            with_text: 0,
            any_id: false,
            any_label: false,
            keys: None,
        }
    }

    /// Parses line number `line` (without its line break).
    pub(super) fn parse(&self, bytes: &[u8], line: usize) -> Line {
        parse_line(bytes, line, &self.shown, &self.name, self.opts)
    }

    /// Takes a parsed line, in file order: the document, or the warning of a skipped line.
    pub(super) fn take(&mut self, parsed: Line) -> std::result::Result<Document, String> {
        match parsed {
            Line::Document {
                doc,
                has_id,
                has_label,
            } => {
                self.objects += 1;
                self.with_text += 1;
                self.any_id |= has_id;
                self.any_label |= has_label;
                Ok(doc)
            }
            Line::NoText { line, keys } => {
                self.objects += 1;
                self.keys.get_or_insert(keys);
                Err(format!(
                    "{}:{line}: skipped, no field '{}'",
                    self.shown, self.opts.text_field
                ))
            }
            Line::Bad(w) => Err(w),
        }
    }

    /// After the last line: the errors of a file whose objects lack the text field, or an
    /// id or label field given in the options, everywhere.
    pub(super) fn finish(self) -> Result<()> {
        let shown = &self.shown;
        if self.objects > 0 && self.with_text == 0 {
            let keys = self.keys.map(|k| k.join(", "));
            return Err(Error::Input(format!(
                "{shown}: no field '{}' in the records (fields found: {}; use --text-field)",
                self.opts.text_field,
                keys.filter(|k| !k.is_empty())
                    .unwrap_or_else(|| "none".into())
            )));
        }
        if self.with_text > 0 {
            if let (Some(f), false) = (&self.opts.id_field, self.any_id) {
                return Err(Error::Input(format!(
                    "{shown}: no field '{f}' in the records (use --id-field)"
                )));
            }
            if let (Some(f), false) = (&self.opts.label_field, self.any_label) {
                return Err(Error::Input(format!(
                    "{shown}: no field '{f}' in the records (use --label-field)"
                )));
            }
        }
        Ok(())
    }
}

/// The columns of a CSV file (RFC 4180: header row, `,` separator, `"` quoting; quoted fields
/// may hold commas, quotes and line breaks), found in its header.
pub(super) struct CsvFields {
    shown: String,
    name: String,
    columns: usize,
    text: usize,
    id: Option<usize>,
    label: Option<usize>,
}

impl CsvFields {
    /// Reads the header.
    ///
    /// Errors: an empty file, a header without the text column, or without an id/label
    /// column the options name.
    pub(super) fn from_header<R: std::io::Read>(
        reader: &mut csv::Reader<R>,
        path: &Path,
        opts: &CorpusOptions,
    ) -> Result<CsvFields> {
        let shown = path.display().to_string();
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
        let text = column(&opts.text_field, "--text-field")?;
        let id = opts
            .id_field
            .as_deref()
            .map(|f| column(f, "--id-field"))
            .transpose()?;
        let label = opts
            .label_field
            .as_deref()
            .map(|f| column(f, "--label-field"))
            .transpose()?;
        Ok(CsvFields {
            name: file_name(path),
            shown,
            columns: header.len(),
            text,
            id,
            label,
        })
    }

    /// The next record: `Ok(None)` at the end, the document with a warning when its text had
    /// invalid UTF-8, or the warning of a skipped record and whether reading must stop (an
    /// I/O error). A record with a different number of fields than the header is skipped.
    #[allow(clippy::type_complexity)]
    pub(super) fn next<R: std::io::Read>(
        &self,
        reader: &mut csv::Reader<R>,
        record: &mut csv::ByteRecord,
    ) -> std::result::Result<Option<(Document, Option<String>)>, (String, bool)> {
        let shown = &self.shown;
        match reader.read_byte_record(record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                let stop = matches!(e.kind(), csv::ErrorKind::Io(_));
                return Err((format!("{shown}:{line}: skipped, {e}"), stop));
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != self.columns {
            return Err((
                format!(
                    "{shown}:{line}: skipped, {} where the header has {}",
                    plural(record.len(), "field", "fields"),
                    self.columns
                ),
                false,
            ));
        }
        let field = |col: usize| record.get(col).unwrap_or_default();
        let (text, invalid) = decode_utf8_lossy(field(self.text).to_vec());
        let warning = (invalid > 0).then(|| {
            format!(
                "{shown}:{line}: invalid UTF-8, {} replaced with U+FFFD",
                plural(invalid, "byte", "bytes")
            )
        });
        let id = self
            .id
            .map(|c| String::from_utf8_lossy(field(c)).into_owned())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| format!("{}:{line}", self.name));
        let label = self
            .label
            .map(|c| String::from_utf8_lossy(field(c)).into_owned())
            .filter(|l| !l.is_empty());
        Ok(Some((
            Document {
                id,
                label,
                text,
                path: None,
            },
            warning,
        )))
    }
}
