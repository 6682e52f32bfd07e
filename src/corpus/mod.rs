//! Loading inputs into documents.
//!
//! Inputs are any mix of folders (walked recursively), single text/Markdown/HTML files, JSON Lines
//! files and CSV files. Paths are collected and sorted before the files are read in parallel, so
//! the order of documents never depends on thread timing. Problems with one file among many are
//! warnings ([`Corpus::warnings`]); problems that leave nothing to work on are errors.
//!
//! # Folders
//! Walked with the `ignore` crate: recursively, following symbolic links (a link back to an
//! ancestor is a loop: a warning, and the walk goes on), skipping hidden files and folders
//! (names starting with `.`). `.gitignore` and `.ignore` files are *not* applied: every visible
//! file is a candidate. Files ending in `.txt`, `.md`, `.text` (plain text), `.html`, `.htm`
//! (HTML, see [`strip_html`]) or one of [`CorpusOptions::extensions`] (plain text) are read,
//! extensions compared without regard to case; other files are ignored silently (JSON Lines
//! and CSV files are only read when given as inputs of their own). A document's id is its path
//! relative to the input folder with `/` separators, its label the first subfolder under the
//! input folder (`None` for files directly in it). Documents come in the order of their ids,
//! compared component by component (`a/z.txt` before `a.txt`, since `a` < `a.txt`).
//!
//! # Single files
//! A file given as an input is read by its extension: `.jsonl` as JSON Lines, `.csv` as CSV,
//! `.html`/`.htm` as HTML, anything else as plain text. Its id is its file name.
//!
//! # JSON Lines and CSV
//! See [`CorpusOptions`] for the fields. One document per record; a malformed record is a
//! warning naming the file and line and is skipped. A text field absent from every record (JSON
//! Lines) or from the header (CSV) is an error, as is an id or label field given in the options
//! but found nowhere; a record that lacks a field other records have is a warning (text) or
//! falls back to the default (id `file:line`, no label).
//!
//! # Bad files
//! A file with a NUL byte is binary: skipped with a warning. Invalid UTF-8 is decoded lossily
//! (each invalid sequence becomes U+FFFD) with a warning counting the invalid bytes. A file that
//! cannot be read is skipped with a warning. An empty file (or one of only whitespace) is kept
//! as an empty document, counted in [`Corpus::empty`], so that row counts match file counts. A
//! leading UTF-8 byte order mark is removed.
//!
//! # Errors
//! A missing input path, a folder without any readable document, and a load that yields no
//! document at all are [`Error::Input`] (exit code 2), naming the input.

mod html;
mod records;

use std::cell::RefCell;
use std::cmp::Ordering;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub use html::strip_html;

/// Extensions read as plain text by default.
const TEXT_EXTENSIONS: &[&str] = &["txt", "md", "text"];
/// Extensions read as HTML.
const HTML_EXTENSIONS: &[&str] = &["html", "htm"];

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
    /// Files found in folders but not read because of their extension (not warnings: folders
    /// often hold other files; [`CorpusOptions::extensions`] adds extensions).
    pub ignored: usize,
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

    /// Adds a document, counting it in [`Corpus::empty`] when its text is only whitespace.
    fn push_document(&mut self, doc: Document) {
        if doc.text.trim().is_empty() {
            self.empty += 1;
        }
        self.documents.push(doc);
    }

    /// Records a skipped file or record with its warning.
    fn push_skipped(&mut self, warning: String) {
        self.skipped += 1;
        self.warnings.push(warning);
    }
}

/// Loads every input into one corpus.
///
/// Errors (exit code 2): a missing input path, an input with no readable document, a JSON
/// Lines / CSV file without the text field.
pub fn load(inputs: &[PathBuf], opts: &CorpusOptions) -> Result<Corpus> {
    if inputs.is_empty() {
        return Err(Error::input("no input given"));
    }
    let kinds = ExtensionKinds::new(opts);
    let mut corpus = Corpus::default();
    for input in inputs {
        load_one(input, opts, &kinds, &mut corpus)?;
    }
    if corpus.documents.is_empty() {
        let names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
        let mut msg = format!("{}: no readable documents", names.join(", "));
        if let Some(first) = corpus.warnings.first() {
            msg.push_str(&format!(
                " ({} skipped; first: {first})",
                plural(corpus.skipped, "file or record", "files or records")
            ));
        }
        return Err(Error::Input(msg));
    }
    Ok(corpus)
}

/// Loads one input (folder, JSON Lines, CSV or single file) into `corpus`.
fn load_one(
    input: &Path,
    opts: &CorpusOptions,
    kinds: &ExtensionKinds,
    corpus: &mut Corpus,
) -> Result<()> {
    let meta = match std::fs::metadata(input) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Input(format!(
                "{}: no such file or directory",
                input.display()
            )));
        }
        Err(e) => return Err(Error::Input(format!("{}: {e}", input.display()))),
    };
    if meta.is_dir() {
        return load_folder(input, kinds, corpus);
    }
    if !meta.is_file() {
        return Err(Error::Input(format!(
            "{}: not a regular file or folder",
            input.display()
        )));
    }
    let ext = extension(input);
    if ext.eq_ignore_ascii_case("jsonl") {
        return records::load_jsonl(input, opts, corpus);
    }
    if ext.eq_ignore_ascii_case("csv") {
        return records::load_csv(input, opts, corpus);
    }
    let kind = if HTML_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)) {
        Kind::Html
    } else {
        Kind::Text
    };
    let id = input.file_name().map_or_else(
        || input.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    match read_document(input.to_path_buf(), id, None, kind) {
        Read::Document { doc, warning } => {
            corpus.warnings.extend(warning);
            corpus.push_document(doc);
        }
        Read::Skipped(warning) => corpus.push_skipped(warning),
    }
    Ok(())
}

/// How a file's contents become text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Plain text (also Markdown): read as is.
    Text,
    /// HTML: see [`strip_html`].
    Html,
}

/// Which file extensions are read when walking a folder, and how.
struct ExtensionKinds {
    /// [`CorpusOptions::extensions`], without a leading dot.
    extra: Vec<String>,
}

impl ExtensionKinds {
    fn new(opts: &CorpusOptions) -> Self {
        let extra = opts
            .extensions
            .iter()
            .map(|e| e.trim().trim_start_matches('.').to_string())
            .filter(|e| !e.is_empty())
            .collect();
        ExtensionKinds { extra }
    }

    /// The kind of a file found in a folder, `None` when it is not read.
    fn kind(&self, path: &Path) -> Option<Kind> {
        let ext = extension(path);
        if ext.is_empty() {
            return None;
        }
        if HTML_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext)) {
            Some(Kind::Html)
        } else if TEXT_EXTENSIONS
            .iter()
            .copied()
            .chain(self.extra.iter().map(String::as_str))
            .any(|e| e.eq_ignore_ascii_case(ext))
        {
            Some(Kind::Text)
        } else {
            None
        }
    }

    /// The extensions read, for messages: `.txt, .md, …`.
    fn describe(&self) -> String {
        TEXT_EXTENSIONS
            .iter()
            .chain(HTML_EXTENSIONS)
            .copied()
            .chain(self.extra.iter().map(String::as_str))
            .map(|e| format!(".{e}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The extension of `path` (empty when it has none or it is not UTF-8).
fn extension(path: &Path) -> &str {
    path.extension().and_then(|e| e.to_str()).unwrap_or("")
}

/// A file found while walking a folder.
struct FoundFile {
    /// Path relative to the input folder, `/`-separated: the document id.
    id: String,
    /// Full path (the input folder joined with the relative path).
    path: PathBuf,
    kind: Kind,
}

/// What walking a folder found.
#[derive(Default)]
struct Walked {
    files: Vec<FoundFile>,
    /// Walk errors (unreadable folders, symlink loops, dangling links), sorted.
    warnings: Vec<String>,
    /// Files skipped because of their extension.
    ignored: usize,
}

/// Walks `root` (see the module docs) and returns the files to read, sorted by id.
///
/// The walk runs on as many threads as rayon's current pool has (the directory reads and, since
/// links are followed, one `stat` per entry are the cost); each thread collects into its own
/// [`Walked`], merged and sorted at the end, so the result does not depend on the thread count.
fn walk(root: &Path, kinds: &ExtensionKinds) -> Walked {
    let threads = rayon::current_num_threads();
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .standard_filters(false)
        .hidden(true)
        .follow_links(true)
        .threads(threads);
    let mut walked = if threads <= 1 {
        let mut walked = Walked::default();
        for entry in builder.build() {
            walked.visit(root, kinds, entry);
        }
        walked
    } else {
        let shared = Mutex::new(Walked::default());
        builder.build_parallel().visit(&mut WalkCollectorBuilder {
            root,
            kinds,
            shared: &shared,
        });
        shared.into_inner().unwrap_or_else(PoisonError::into_inner)
    };
    walked
        .files
        .par_sort_unstable_by(|a, b| compare_ids(&a.id, &b.id));
    walked.warnings.sort();
    walked
}

impl Walked {
    /// Takes one entry of the walk.
    fn visit(
        &mut self,
        root: &Path,
        kinds: &ExtensionKinds,
        entry: std::result::Result<ignore::DirEntry, ignore::Error>,
    ) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                self.warnings.push(walk_warning(root, &e));
                return;
            }
        };
        if entry.depth() == 0 || !entry.file_type().is_some_and(|t| t.is_file()) {
            return;
        }
        let path = entry.into_path();
        let Some(kind) = kinds.kind(&path) else {
            self.ignored += 1;
            return;
        };
        let id = relative_id(root, &path);
        self.files.push(FoundFile { id, path, kind });
    }

    /// Moves everything `other` found into `self`.
    fn absorb(&mut self, other: &mut Walked) {
        self.files.append(&mut other.files);
        self.warnings.append(&mut other.warnings);
        self.ignored += std::mem::take(&mut other.ignored);
    }
}

/// Makes one [`WalkCollector`] per walking thread.
struct WalkCollectorBuilder<'a> {
    root: &'a Path,
    kinds: &'a ExtensionKinds,
    shared: &'a Mutex<Walked>,
}

impl<'s> ignore::ParallelVisitorBuilder<'s> for WalkCollectorBuilder<'s> {
    fn build(&mut self) -> Box<dyn ignore::ParallelVisitor + 's> {
        Box::new(WalkCollector {
            root: self.root,
            kinds: self.kinds,
            shared: self.shared,
            local: Walked::default(),
        })
    }
}

/// Collects one walking thread's entries locally; hands them over when the thread is done.
struct WalkCollector<'a> {
    root: &'a Path,
    kinds: &'a ExtensionKinds,
    shared: &'a Mutex<Walked>,
    local: Walked,
}

impl ignore::ParallelVisitor for WalkCollector<'_> {
    fn visit(
        &mut self,
        entry: std::result::Result<ignore::DirEntry, ignore::Error>,
    ) -> ignore::WalkState {
        self.local.visit(self.root, self.kinds, entry);
        ignore::WalkState::Continue
    }
}

impl Drop for WalkCollector<'_> {
    fn drop(&mut self) {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.absorb(&mut self.local);
    }
}

/// One line for an error met while walking `root`, naming the file or folder at fault.
fn walk_warning(root: &Path, err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_warning(root, err)
        }
        ignore::Error::WithPath { path, err } => {
            let dangling = path
                .symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
                && !path.exists();
            if dangling {
                format!("{}: skipped, broken symbolic link", path.display())
            } else {
                let text = match &**err {
                    ignore::Error::Io(e) => e.to_string(),
                    other => other.to_string(),
                };
                format!("{}: skipped, {text}", path.display())
            }
        }
        ignore::Error::Loop { ancestor, child } => format!(
            "{}: skipped, symbolic link loop (it points to {}, a folder above it)",
            child.display(),
            ancestor.display()
        ),
        other => format!("{}: skipped, {other}", root.display()),
    }
}

/// `path` relative to `root`, with `/` separators.
fn relative_id(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let id = rel.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        id.into_owned()
    } else {
        id.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// Orders `/`-separated ids component by component: like comparing the bytes, except that `/`
/// sorts before every other byte, so a folder's files stay together (`a/z` < `a.txt`).
fn compare_ids(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let key = |s: &[u8]| {
        s.get(common)
            .map(|&c| if c == b'/' { 0 } else { u16::from(c) + 1 })
    };
    key(a).cmp(&key(b))
}

/// Loads the documents of one folder input.
fn load_folder(root: &Path, kinds: &ExtensionKinds, corpus: &mut Corpus) -> Result<()> {
    let walked = walk(root, kinds);
    corpus.ignored += walked.ignored;
    corpus.skipped += walked.warnings.len();
    let first_walk_warning = walked.warnings.first().cloned();
    corpus.warnings.extend(walked.warnings);
    let read: Vec<Read> = walked
        .files
        .into_par_iter()
        .map(|f| {
            let label = f.id.split_once('/').map(|(first, _)| first.to_string());
            read_document(f.path, f.id, label, f.kind)
        })
        .collect();
    corpus.documents.reserve(read.len());
    let before = corpus.documents.len();
    let mut first_skip = first_walk_warning;
    for r in read {
        match r {
            Read::Document { doc, warning } => {
                corpus.warnings.extend(warning);
                corpus.push_document(doc);
            }
            Read::Skipped(warning) => {
                first_skip.get_or_insert_with(|| warning.clone());
                corpus.push_skipped(warning);
            }
        }
    }
    if corpus.documents.len() == before {
        let mut msg = format!(
            "{}: no readable documents ({})",
            root.display(),
            kinds.describe()
        );
        if walked.ignored > 0 {
            msg.push_str(&format!(
                "; {} with other extensions ignored (see --ext)",
                plural(walked.ignored, "file", "files")
            ));
        }
        if let Some(w) = first_skip {
            msg.push_str(&format!("; skipped: {w}"));
        }
        return Err(Error::Input(msg));
    }
    Ok(())
}

/// The outcome of reading one file.
enum Read {
    /// The file became a document, perhaps with a warning (lossy UTF-8).
    Document {
        doc: Document,
        warning: Option<String>,
    },
    /// The file was skipped (binary or unreadable); the warning says why.
    Skipped(String),
}

/// Reads one file into a document (the only per-file work: one read, one scan for NUL, one UTF-8
/// validation, and the HTML scan for HTML files).
fn read_document(path: PathBuf, id: String, label: Option<String>, kind: Kind) -> Read {
    let bytes = match read_file(&path) {
        Ok(bytes) => bytes,
        Err(e) => return Read::Skipped(format!("{}: skipped, cannot read: {e}", path.display())),
    };
    let (text, warning) = match decode(bytes, &path) {
        Ok(decoded) => decoded,
        Err(warning) => return Read::Skipped(warning),
    };
    let text = match kind {
        Kind::Text => text,
        Kind::Html => strip_html(&text),
    };
    Read::Document {
        doc: Document {
            id,
            label,
            text,
            path: Some(path),
        },
        warning,
    }
}

/// Initial size of each thread's read buffer.
const READ_BUF_START: usize = 1 << 16;
/// A thread's read buffer is released after reading a file larger than this.
const READ_BUF_KEEP: usize = 1 << 22;

thread_local! {
    /// Each thread's read buffer (all of it initialized, so it can be read into directly).
    static READ_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Reads a whole file: `open`, `read` until end of file, `close`, into the thread's reused
/// buffer, then copied out at its exact size. Unlike `std::fs::read` it does not ask for the
/// file's size first, which saves a `statx` per file (a third of the system calls for the
/// small files of a typical corpus).
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    READ_BUF.with_borrow_mut(|buf| {
        if buf.len() < READ_BUF_START {
            buf.resize(READ_BUF_START, 0);
        }
        let mut n = 0;
        let result = loop {
            if n == buf.len() {
                buf.resize(2 * buf.len(), 0);
            }
            match file.read(&mut buf[n..]) {
                Ok(0) => break Ok(buf[..n].to_vec()),
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        if buf.len() > READ_BUF_KEEP {
            *buf = Vec::new();
        }
        result
    })
}

/// Turns a file's bytes into text: `Err(warning)` for a binary file (a NUL byte), otherwise the
/// text (invalid UTF-8 replaced, leading byte order mark removed) and a warning when bytes were
/// replaced.
fn decode(bytes: Vec<u8>, path: &Path) -> std::result::Result<(String, Option<String>), String> {
    if bytes.contains(&0) {
        return Err(format!(
            "{}: skipped, binary file (contains NUL bytes)",
            path.display()
        ));
    }
    let (mut text, invalid) = decode_utf8_lossy(bytes);
    if text.starts_with('\u{FEFF}') {
        text.replace_range(..'\u{FEFF}'.len_utf8(), "");
    }
    let warning = (invalid > 0).then(|| {
        format!(
            "{}: invalid UTF-8, {} replaced with U+FFFD",
            path.display(),
            plural(invalid, "byte", "bytes")
        )
    });
    Ok((text, warning))
}

/// Decodes UTF-8, replacing invalid sequences with U+FFFD; returns the text and the number of
/// invalid bytes. Valid input is not copied.
pub(crate) fn decode_utf8_lossy(bytes: Vec<u8>) -> (String, usize) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, 0),
        Err(e) => {
            let bytes = e.into_bytes();
            let invalid = count_invalid_utf8(&bytes);
            (String::from_utf8_lossy(&bytes).into_owned(), invalid)
        }
    }
}

/// Number of bytes of `bytes` that are not part of a valid UTF-8 sequence.
fn count_invalid_utf8(mut bytes: &[u8]) -> usize {
    let mut invalid = 0;
    loop {
        match std::str::from_utf8(bytes) {
            Ok(_) => return invalid,
            Err(e) => {
                let valid = e.valid_up_to();
                match e.error_len() {
                    Some(len) => {
                        invalid += len;
                        bytes = &bytes[valid + len..];
                    }
                    // Truncated sequence at the end.
                    None => return invalid + (bytes.len() - valid),
                }
            }
        }
    }
}

/// `1 file`, `2 files`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests;
