//! Loading inputs into documents.
//!
//! Inputs are any mix of folders (walked recursively), single text/Markdown/HTML files, JSON Lines
//! files and CSV files. Paths are collected and sorted before the files are read in parallel, so
//! the order of documents never depends on thread timing. Problems with one file among many are
//! warnings ([`Corpus::warnings`]); problems that leave nothing to work on are errors.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One document: an id, an optional label and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Identifier: the path relative to its input folder, the file name for a single file, or
    /// the id field / `file:line` for JSON Lines and CSV records.
    pub id: String,
    /// Label: the first subfolder under the input folder, or the label field.
    pub label: Option<String>,
    /// The plain text (HTML already stripped of tags, scripts and styles).
    pub text: String,
    /// The file the document was read from, when it was a file of its own (used for links in
    /// the report); `None` for JSON Lines and CSV records.
    pub path: Option<PathBuf>,
}

/// Options for [`load`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusOptions {
    /// Extra file extensions (without dot) read as plain text when walking folders, besides
    /// `txt`, `md`, `text`, `html` and `htm`.
    pub extensions: Vec<String>,
    /// JSON Lines / CSV field holding the text (default `text`).
    pub text_field: String,
    /// JSON Lines / CSV field holding the id (default: `file:line`).
    pub id_field: Option<String>,
    /// JSON Lines / CSV field holding the label.
    pub label_field: Option<String>,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        CorpusOptions {
            extensions: Vec::new(),
            text_field: "text".to_string(),
            id_field: None,
            label_field: None,
        }
    }
}

/// The loaded documents, plus what went wrong along the way.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Documents in a deterministic order (inputs in the order given, files in sorted path
    /// order, records in file order).
    pub documents: Vec<Document>,
    /// One line per problem that did not stop the load (binary file skipped, lossy UTF-8,
    /// unreadable file, malformed record), each naming the file (and line).
    pub warnings: Vec<String>,
    /// Files or records skipped (binary, unreadable, malformed).
    pub skipped: usize,
    /// Documents kept with empty text.
    pub empty: usize,
}

impl Corpus {
    /// The one-line summary printed to stderr after loading.
    pub fn summary(&self) -> String {
        format!(
            "read {} documents ({} empty), skipped {}, {} warnings",
            self.documents.len(),
            self.empty,
            self.skipped,
            self.warnings.len()
        )
    }
}

/// Loads every input into one corpus.
///
/// Errors (exit code 2): a missing input path, an input with no readable document, a JSON
/// Lines / CSV file without the text field.
pub fn load(inputs: &[PathBuf], opts: &CorpusOptions) -> Result<Corpus> {
    let _ = opts;
    let mut corpus = Corpus::default();
    for input in inputs {
        load_one(input, &mut corpus)?;
    }
    Ok(corpus)
}

fn load_one(input: &Path, corpus: &mut Corpus) -> Result<()> {
    // Placeholder until the real loader lands: reads a single text file.
    let text = std::fs::read_to_string(input).map_err(|e| Error::io(input, e))?;
    corpus.documents.push(Document {
        id: input.display().to_string(),
        label: None,
        text,
        path: Some(input.to_path_buf()),
    });
    Ok(())
}
