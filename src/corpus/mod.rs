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
//! file is a candidate, unless [`CorpusOptions::include`] / [`CorpusOptions::exclude`] globs
//! leave it out. Files ending in `.txt`, `.md`, `.text` (plain text), `.html`, `.htm`
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
//! # Ids
//! Ids are unique across the inputs: see [`load`].
//!
//! # Streaming
//! [`load`] holds every document. [`Source`] reads the same documents as a stream of blocks
//! (the first pass keeps only ids, labels and where each document can be read again; later
//! passes and fetches by row read them again): see [`source`]. `load` is one such pass that
//! keeps the blocks, so both give the same documents, warnings and ids.
//!
//! # Errors
//! A missing input path and a load that yields no document at all are [`Error::Input`] (exit
//! code 2), naming the input; a folder without any readable document among inputs that have
//! some is a warning.

mod html;
mod records;
pub mod source;

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub use html::{strip_html, strip_html_with, text_blocks, HtmlOptions};
pub use source::{DocInfo, Source, StreamedCorpus, Texts, BLOCK_BYTES, BLOCK_DOCUMENTS};

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
    /// Globs (gitignore syntax, relative to each folder input): when any is given, only the
    /// files of folders that match one are read. Files given as inputs of their own are
    /// always read.
    pub include: Vec<String>,
    /// Globs (gitignore syntax, relative to each folder input) of files and folders not to
    /// read; they win over [`CorpusOptions::include`].
    pub exclude: Vec<String>,
    /// Keep the boilerplate of HTML pages: their navigation, headers and footers
    /// ([`HtmlOptions::keep_boilerplate`]) and the text blocks that recur on most pages of a
    /// folder (see the module docs).
    pub keep_boilerplate: bool,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        CorpusOptions {
            extensions: Vec::new(),
            text_field: "text".to_string(),
            id_field: None,
            label_field: None,
            include: Vec::new(),
            exclude: Vec::new(),
            keep_boilerplate: false,
        }
    }
}

impl CorpusOptions {
    /// The options of the HTML scanner.
    fn html_options(&self) -> HtmlOptions {
        HtmlOptions {
            keep_boilerplate: self.keep_boilerplate,
        }
    }

    /// Checks the options that can be checked without inputs: the globs.
    ///
    /// Errors ([`Error::Input`]): a glob that does not parse, naming `--include` or
    /// `--exclude`.
    pub fn check(&self) -> Result<()> {
        self.overrides(Path::new(".")).map(|_| ())
    }

    /// The include and exclude globs as the walk of `root` applies them (the `ignore` crate's
    /// overrides: a glob whitelists, a `!glob` ignores, the last match wins; excludes are added
    /// last so that they win).
    fn overrides(&self, root: &Path) -> Result<ignore::overrides::Override> {
        let mut builder = ignore::overrides::OverrideBuilder::new(root);
        for (option, globs, negate) in [
            ("--include", &self.include, false),
            ("--exclude", &self.exclude, true),
        ] {
            for glob in globs {
                let pattern = if negate {
                    format!("!{glob}")
                } else {
                    glob.clone()
                };
                builder.add(&pattern).map_err(|e| {
                    Error::input(format!(
                        "{option} {glob}: not a valid glob ({})",
                        glob_error(&e)
                    ))
                })?;
            }
        }
        builder
            .build()
            .map_err(|e| Error::input(format!("--include/--exclude: {}", glob_error(&e))))
    }
}

/// The message of a glob error without the repeated glob.
fn glob_error(e: &ignore::Error) -> String {
    match e {
        ignore::Error::Glob { err, .. } => err.clone(),
        other => other.to_string(),
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
    /// The same files by extension (lowercase, without the dot; empty for none).
    pub ignored_extensions: BTreeMap<String, usize>,
    /// Boilerplate text blocks removed from HTML pages.
    pub boilerplate: Boilerplate,
}

/// What the removal of recurring text blocks took out of the HTML pages of folder inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Boilerplate {
    /// Distinct blocks found to recur (summed over the folder inputs).
    pub blocks: usize,
    /// Their occurrences removed from pages.
    pub removed: usize,
    /// The block found on the most pages, for messages.
    pub example: Option<String>,
    /// The number of pages `example` was found on.
    pub example_pages: usize,
}

impl Corpus {
    /// The one-line summary printed to stderr after loading: documents read, empty, skipped
    /// and warnings, then the files not read for their extension with the three most common
    /// extensions (`; 12 files not read for their extension: .rst 8, .pdf 3, no extension 1`).
    pub fn summary(&self) -> String {
        self.summary_of(self.documents.len())
    }

    /// [`Corpus::summary`] for `documents` documents (a corpus read as a stream keeps no
    /// texts, [`StreamedCorpus`]).
    pub fn summary_of(&self, documents: usize) -> String {
        let mut line = format!(
            "read {} documents ({} empty), skipped {}, {} warnings",
            documents,
            self.empty,
            self.skipped,
            self.warnings.len()
        );
        if self.boilerplate.blocks > 0 {
            let example = self
                .boilerplate
                .example
                .as_deref()
                .map(|e| {
                    let short: String = e.chars().take(40).collect();
                    let more = if short.len() < e.len() { "…" } else { "" };
                    format!(" such as \"{short}{more}\"")
                })
                .unwrap_or_default();
            line.push_str(&format!(
                "; removed {} recurring on most HTML pages of a folder{example} \
                 (--keep-boilerplate keeps them)",
                plural(self.boilerplate.blocks, "text block", "text blocks"),
            ));
        }
        if self.ignored > 0 {
            line.push_str(&format!(
                "; {} not read for their extension: {} (--ext reads more)",
                plural(self.ignored, "file", "files"),
                self.top_ignored_extensions(3)
            ));
        }
        line
    }

    /// The `n` most common extensions of [`Corpus::ignored_extensions`] (see
    /// [`describe_extensions`]).
    fn top_ignored_extensions(&self, n: usize) -> String {
        describe_extensions(&self.ignored_extensions, n)
    }
}

/// Loads every input into one corpus.
///
/// Document ids are unique: when inputs hold documents with the same id (two folders that
/// both have `x.txt`), the ids of those inputs' documents are prefixed by the input as given
/// (`a/x.txt`, `b/x.txt`; a single file's id becomes its path, a record's `input:id`), with a
/// warning; an id still repeated after that (the same input given twice, an id field with
/// repeats) gets `#2`, `#3`, … appended, with a warning. A folder input without any readable
/// document is a warning when other inputs have documents.
///
/// Errors (exit code 2): a missing input path, no readable document in any input, a JSON
/// Lines / CSV file without the text field.
pub fn load(inputs: &[PathBuf], opts: &CorpusOptions) -> Result<Corpus> {
    let source = Source::open(inputs, opts)?;
    let mut documents: Vec<Document> = Vec::new();
    let streamed = source.scan_owned(&mut |_, docs: &mut Vec<Document>| {
        documents.append(docs);
        Ok(())
    })?;
    let mut corpus = streamed.corpus;
    for (d, info) in documents.iter_mut().zip(streamed.documents) {
        d.id = info.id;
    }
    corpus.documents = documents;
    Ok(corpus)
}

/// What one input was.
#[derive(Debug, Clone, PartialEq, Eq)]
enum InputKind {
    /// A folder with documents.
    Folder,
    /// A folder without any readable document; the message says what it holds.
    EmptyFolder(String),
    /// A single text or HTML file.
    File,
    /// A JSON Lines or CSV file.
    Records,
}

/// The documents one input contributed.
struct InputSpan<'a> {
    input: &'a Path,
    kind: InputKind,
    documents: std::ops::Range<usize>,
}

/// See [`load`]: prefixes the ids of inputs whose ids collide with another input's, then
/// numbers the ids still repeated.
fn make_ids_unique(docs: &mut [DocInfo], warnings: &mut Vec<String>, spans: &[InputSpan<'_>]) {
    if spans.len() > 1 {
        let mut owner: HashMap<&str, usize> = HashMap::new();
        let mut colliding = vec![false; spans.len()];
        let mut example = None;
        for (s, span) in spans.iter().enumerate() {
            for doc in &docs[span.documents.clone()] {
                match owner.get(doc.id.as_str()) {
                    Some(&other) if other != s => {
                        colliding[s] = true;
                        colliding[other] = true;
                        example.get_or_insert_with(|| doc.id.clone());
                    }
                    Some(_) => {}
                    None => {
                        owner.insert(doc.id.as_str(), s);
                    }
                }
            }
        }
        if let Some(example) = example {
            let mut names = Vec::new();
            for (span, _) in spans.iter().zip(&colliding).filter(|(_, c)| **c) {
                let prefix = input_prefix(span.input);
                for doc in &mut docs[span.documents.clone()] {
                    doc.id = prefixed_id(&prefix, &span.kind, &doc.id);
                }
                names.push(prefix);
            }
            warnings.push(format!(
                "inputs {} hold documents with the same ids (such as {example}): their ids are \
                 prefixed by their input",
                names.join(", ")
            ));
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut renamed = 0usize;
    let mut first = None;
    for doc in docs.iter_mut() {
        let n = seen.entry(doc.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            let mut k = *n;
            let mut id = format!("{}#{k}", doc.id);
            while seen.contains_key(&id) {
                k += 1;
                id = format!("{}#{k}", doc.id);
            }
            first.get_or_insert_with(|| doc.id.clone());
            seen.insert(id.clone(), 1);
            doc.id = id;
            renamed += 1;
        }
    }
    if let Some(first) = first {
        warnings.push(format!(
            "{} repeat an earlier id (such as {first}): #2, #3, … appended to make them unique",
            plural(renamed, "document's id", "documents' ids")
        ));
    }
}

/// An input as given, with `/` separators and without trailing separators.
fn input_prefix(input: &Path) -> String {
    let s = input
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "/");
    let trimmed = s.trim_end_matches('/');
    if trimmed.is_empty() {
        s
    } else {
        trimmed.to_string()
    }
}

/// The id of a document of an input whose ids collide with another input's.
fn prefixed_id(prefix: &str, kind: &InputKind, id: &str) -> String {
    match kind {
        InputKind::File => prefix.to_string(),
        InputKind::Records => {
            let name = prefix.rsplit('/').next().unwrap_or(prefix);
            match id
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(':'))
            {
                Some(line) => format!("{prefix}:{line}"),
                None => format!("{prefix}:{id}"),
            }
        }
        InputKind::Folder | InputKind::EmptyFolder(_) => format!("{prefix}/{id}"),
    }
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
    /// The same, by lowercase extension.
    ignored_extensions: BTreeMap<String, usize>,
}

/// Walks `root` (see the module docs) and returns the files to read, sorted by id.
///
/// The walk runs on as many threads as rayon's current pool has (the directory reads and, since
/// links are followed, one `stat` per entry are the cost); each thread collects into its own
/// [`Walked`], merged and sorted at the end, so the result does not depend on the thread count.
fn walk(root: &Path, kinds: &ExtensionKinds, overrides: ignore::overrides::Override) -> Walked {
    let threads = rayon::current_num_threads();
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .standard_filters(false)
        .hidden(true)
        .follow_links(true)
        .overrides(overrides)
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
            *self
                .ignored_extensions
                .entry(extension(&path).to_lowercase())
                .or_insert(0) += 1;
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
        for (ext, n) in std::mem::take(&mut other.ignored_extensions) {
            *self.ignored_extensions.entry(ext).or_insert(0) += n;
        }
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

/// A text block recurs on "most" HTML pages of a folder input when it is on at least this
/// share of them…
pub const BOILERPLATE_SHARE: f64 = 0.5;
/// … and on at least this many.
pub const BOILERPLATE_MIN_PAGES: usize = 5;

/// Separators of the parts of a block that are compared on their own (a page title such as
/// `asyncio — Python 3.11 documentation` has a recurring part after the dash).
const BLOCK_PART_SEPARATORS: &[&str] = &[" — ", " – ", " | "];

fn block_hash(block: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    block.hash(&mut h);
    h.finish()
}

/// The parts of a block (itself when it has no separator), with a letter each.
fn block_parts(block: &str) -> Vec<&str> {
    let mut parts = vec![block];
    for sep in BLOCK_PART_SEPARATORS {
        parts = parts.iter().flat_map(|p| p.split(sep)).collect();
    }
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| p.chars().any(char::is_alphabetic))
        .collect()
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
fn read_document(
    path: PathBuf,
    id: String,
    label: Option<String>,
    kind: Kind,
    html: &HtmlOptions,
) -> Read {
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
        Kind::Html => strip_html_with(&text, html),
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

/// The `n` most common extensions of `counts` with their counts, most common first (ties:
/// alphabetically), and how many files the others hold: `.rst 8, .pdf 3, other 2`.
fn describe_extensions(counts: &BTreeMap<String, usize>, n: usize) -> String {
    let mut by_count: Vec<(&String, &usize)> = counts.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut parts: Vec<String> = by_count
        .iter()
        .take(n)
        .map(|(ext, count)| {
            if ext.is_empty() {
                format!("no extension {count}")
            } else {
                format!(".{ext} {count}")
            }
        })
        .collect();
    let rest: usize = by_count.iter().skip(n).map(|(_, c)| **c).sum();
    if rest > 0 {
        parts.push(format!("other {rest}"));
    }
    parts.join(", ")
}

/// `1 file`, `2 files`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests;
