//! Reading the inputs as a stream of document blocks, so that no pass holds every text.
//!
//! A [`Source`] is the plan of a load: the inputs checked, folders walked (paths sorted), and,
//! for folders with HTML pages, the text blocks that recur on most pages (found by one scan of
//! those pages, [`Source::open`]). Nothing else is read when it is opened.
//!
//! [`Source::scan`] (the first pass) reads the documents in input order and hands them to the
//! caller in blocks: at most [`BLOCK_DOCUMENTS`] documents or about [`BLOCK_BYTES`] of text,
//! read in parallel within the block (files, JSON Lines lines), in document order. Only one
//! block is held at a time. The first pass keeps what is small and needed later: each
//! document's id and label ([`DocInfo`], made unique at the end of the pass as [`super::load`]
//! describes) and where it can be read again ([`Locator`]: 16 bytes), plus the warnings and
//! counts of a [`Corpus`]. The result, a [`StreamedCorpus`], can read the documents again in
//! blocks ([`StreamedCorpus::for_each_block`], warnings not repeated) or fetch a few of them
//! by row ([`StreamedCorpus::fetch`]: the report's snippets of the top documents).
//!
//! Memory: one block of text (at most 16 MiB of text, or 16,384 documents), plus per document
//! its id, label and locator, plus, per folder with HTML pages, one hash per distinct text
//! block while its recurring blocks are counted (kept afterwards for the recurring ones only).
//! The size of the text as a whole never matters.
//!
//! If the inputs change between two passes (a file removed, a JSON Lines file shortened), the
//! later pass refuses to go on when it finds a different number of documents: an
//! [`Error::Input`] saying so.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read as _, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::records::{CsvFields, JsonlFile, Line};
use super::{
    block_hash, block_parts, describe_extensions, make_ids_unique, plural, read_document,
    text_blocks, walk, Boilerplate, Corpus, CorpusOptions, Document, ExtensionKinds, FoundFile,
    InputKind, InputSpan, Kind, Read, BOILERPLATE_MIN_PAGES, BOILERPLATE_SHARE, HTML_EXTENSIONS,
};
use crate::{Error, Result};

/// Most documents in one block.
pub const BLOCK_DOCUMENTS: usize = 16_384;
/// A block is handed over once its texts reach this many bytes.
pub const BLOCK_BYTES: usize = 16 << 20;
/// Files of a folder read together (in parallel) before they join the block.
const FILES_PER_READ: usize = 1024;
/// Bytes of a JSON Lines file read at once.
const JSONL_CHUNK: usize = 8 << 20;

/// The sizes of a scan's reads and blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    block_documents: usize,
    block_bytes: usize,
    files_per_read: usize,
    jsonl_chunk: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            block_documents: BLOCK_DOCUMENTS,
            block_bytes: BLOCK_BYTES,
            files_per_read: FILES_PER_READ,
            jsonl_chunk: JSONL_CHUNK,
        }
    }
}

/// A document's id and label: what is kept of every document after a pass.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DocInfo {
    /// Document id.
    pub id: String,
    /// Document label, if any. Shared by the documents of a pass with the same label (a corpus
    /// has few distinct labels: one allocation each instead of one per document).
    pub label: Option<std::sync::Arc<str>>,
}

/// Where a document can be read again: the input (its index among the inputs) and the file's
/// index in the folder's sorted list, or the record's byte offset in its data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locator {
    input: u32,
    item: u64,
}

/// Text blocks that recur on most HTML pages of one folder (see [`super::load`]).
#[derive(Debug, Clone, Default)]
struct Recurring {
    /// Hashes of the recurring blocks and block parts, with the number of pages holding each.
    pages: HashMap<u64, usize, rustc_hash::FxBuildHasher>,
}

/// One input, planned.
enum Planned {
    /// A folder: its files sorted by id, what the walk found besides.
    Folder {
        root: PathBuf,
        files: Vec<FoundFile>,
        walk_warnings: Vec<String>,
        ignored: usize,
        ignored_extensions: BTreeMap<String, usize>,
        recurring: Option<Recurring>,
    },
    /// A single text or HTML file.
    File {
        path: PathBuf,
        kind: Kind,
        id: String,
    },
    /// A JSON Lines file.
    Jsonl(PathBuf),
    /// A CSV file.
    Csv(PathBuf),
}

/// The inputs of a load, planned (see the module docs).
pub struct Source {
    limits: Limits,
    inputs: Vec<PathBuf>,
    opts: CorpusOptions,
    kinds: ExtensionKinds,
    planned: Vec<Planned>,
}

/// Which pass a scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// The first: warnings and counts are recorded.
    First,
    /// A later one: the same documents again, nothing recorded.
    Again,
}

/// Documents gathered for the caller.
struct BlockBuilder<'f> {
    limits: Limits,
    docs: Vec<Document>,
    locators: Vec<Locator>,
    bytes: usize,
    /// Row of the block's first document.
    first: usize,
    sink: &'f mut Sink<'f>,
}

/// What a pass hands each block to: `(first_row, documents, locators)`; it may take the
/// documents out of the vector.
type Sink<'f> = dyn FnMut(usize, &mut Vec<Document>, &[Locator]) -> Result<()> + 'f;

impl BlockBuilder<'_> {
    fn push(&mut self, doc: Document, at: Locator) -> Result<()> {
        self.bytes += doc.text.len();
        self.docs.push(doc);
        self.locators.push(at);
        if self.docs.len() >= self.limits.block_documents || self.bytes >= self.limits.block_bytes {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.docs.is_empty() {
            return Ok(());
        }
        let n = self.docs.len();
        (self.sink)(self.first, &mut self.docs, &self.locators)?;
        self.first += n;
        self.docs.clear();
        self.locators.clear();
        self.bytes = 0;
        Ok(())
    }
}

/// The state of one scan over the inputs.
struct Scan<'s, 'f> {
    pass: Pass,
    /// Warnings and counts (first pass only; `documents` stays empty).
    corpus: Corpus,
    /// Ids and labels as read, and locators (first pass only).
    infos: Vec<DocInfo>,
    /// The distinct labels read so far, shared by the documents' [`DocInfo`]s.
    labels: std::collections::HashSet<std::sync::Arc<str>>,
    locators: Vec<Locator>,
    block: BlockBuilder<'f>,
    source: &'s Source,
}

impl Scan<'_, '_> {
    fn warn(&mut self, w: String) {
        if self.pass == Pass::First {
            self.corpus.warnings.push(w);
        }
    }

    fn skip(&mut self, w: String) {
        if self.pass == Pass::First {
            self.corpus.skipped += 1;
            self.corpus.warnings.push(w);
        }
    }

    /// Number of documents read so far in this pass.
    fn count(&self) -> usize {
        self.block.first + self.block.docs.len()
    }

    fn push(&mut self, doc: Document, at: Locator) -> Result<()> {
        if self.pass == Pass::First {
            if doc.text.trim().is_empty() {
                self.corpus.empty += 1;
            }
            let label = doc.label.as_deref().map(|l| match self.labels.get(l) {
                Some(shared) => shared.clone(),
                None => {
                    let shared: std::sync::Arc<str> = l.into();
                    self.labels.insert(shared.clone());
                    shared
                }
            });
            self.infos.push(DocInfo {
                id: doc.id.clone(),
                label,
            });
            self.locators.push(at);
        }
        self.block.push(doc, at)
    }
}

impl Source {
    /// Plans the load of `inputs` (see the module docs): checks that every input exists, walks
    /// the folders, and finds the text blocks recurring on most HTML pages of each folder
    /// (unless [`CorpusOptions::keep_boilerplate`]).
    ///
    /// Errors ([`Error::Input`]): no input, a missing input, an input that is neither a
    /// regular file nor a folder, an invalid `--include`/`--exclude` glob.
    pub fn open(inputs: &[PathBuf], opts: &CorpusOptions) -> Result<Source> {
        if inputs.is_empty() {
            return Err(Error::input("no input given"));
        }
        let kinds = ExtensionKinds::new(opts);
        let mut planned = Vec::with_capacity(inputs.len());
        for input in inputs {
            planned.push(plan(input, opts, &kinds)?);
        }
        let mut source = Source {
            limits: Limits::default(),
            inputs: inputs.to_vec(),
            opts: opts.clone(),
            kinds,
            planned,
        };
        if !opts.keep_boilerplate {
            let html = opts.html_options();
            for p in &mut source.planned {
                if let Planned::Folder {
                    files, recurring, ..
                } = p
                {
                    *recurring = find_recurring(files, &html, FILES_PER_READ);
                }
            }
        }
        Ok(source)
    }

    /// The inputs as given.
    pub fn inputs(&self) -> &[PathBuf] {
        &self.inputs
    }

    /// Smaller blocks than [`BLOCK_DOCUMENTS`] and [`BLOCK_BYTES`] (both at least 1): also the
    /// number of a folder's files read at once and the bytes of a JSON Lines file read at
    /// once. The documents and what is made of them do not depend on it; tests use tiny blocks
    /// to cross every boundary.
    pub fn with_block_limits(mut self, documents: usize, bytes: usize) -> Self {
        let documents = documents.clamp(1, BLOCK_DOCUMENTS);
        let bytes = bytes.clamp(1, BLOCK_BYTES);
        self.limits = Limits {
            block_documents: documents,
            block_bytes: bytes,
            files_per_read: documents.min(FILES_PER_READ),
            jsonl_chunk: bytes.min(JSONL_CHUNK),
        };
        self
    }

    /// The first pass: reads every document in order and calls `sink(first_row, documents)`
    /// for each block (see the module docs). Documents carry their ids as read; the ids of
    /// the result are made unique at the end ([`super::load`]).
    ///
    /// Errors ([`Error::Input`]): as [`super::load`]; an error of `sink` stops the pass.
    pub fn scan(
        self,
        mut sink: impl FnMut(usize, &[Document]) -> Result<()>,
    ) -> Result<StreamedCorpus> {
        self.scan_owned(&mut |first, docs: &mut Vec<Document>| sink(first, docs))
    }

    /// [`Source::scan`] handing over the block's vector, whose documents the caller may take.
    pub(crate) fn scan_owned(
        self,
        sink: &mut dyn FnMut(usize, &mut Vec<Document>) -> Result<()>,
    ) -> Result<StreamedCorpus> {
        let mut adapter = |first: usize, docs: &mut Vec<Document>, _: &[Locator]| sink(first, docs);
        let (corpus, infos, locators) = self.run(Pass::First, &mut adapter)?;
        Ok(StreamedCorpus {
            source: self,
            corpus,
            n: infos.len(),
            documents: infos,
            locators,
        })
    }

    /// Runs one pass; returns what the first pass records.
    fn run<'f>(
        &self,
        pass: Pass,
        sink: &'f mut Sink<'f>,
    ) -> Result<(Corpus, Vec<DocInfo>, Vec<Locator>)> {
        let mut scan = Scan {
            pass,
            corpus: Corpus::default(),
            infos: Vec::new(),
            labels: Default::default(),
            locators: Vec::new(),
            block: BlockBuilder {
                limits: self.limits,
                docs: Vec::new(),
                locators: Vec::new(),
                bytes: 0,
                first: 0,
                sink,
            },
            source: self,
        };
        let mut spans = Vec::with_capacity(self.planned.len());
        let mut empty_inputs = Vec::new();
        for (i, p) in self.planned.iter().enumerate() {
            let start = scan.count();
            let kind = scan_input(&mut scan, i, p)?;
            if let InputKind::EmptyFolder(msg) = &kind {
                empty_inputs.push(msg.clone());
            }
            spans.push(InputSpan {
                input: &self.inputs[i],
                kind,
                documents: start..scan.count(),
            });
        }
        scan.block.flush()?;
        let n = scan.count();
        let Scan {
            mut corpus,
            mut infos,
            locators,
            ..
        } = scan;
        if pass == Pass::Again {
            return Ok((corpus, infos, locators));
        }
        if n == 0 {
            if empty_inputs.len() == self.inputs.len() {
                return Err(Error::Input(empty_inputs.join("; ")));
            }
            let names: Vec<String> = self
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            let mut msg = format!("{}: no readable documents", names.join(", "));
            if let Some(first) = corpus.warnings.first() {
                msg.push_str(&format!(
                    " ({} skipped; first: {first})",
                    plural(corpus.skipped, "file or record", "files or records")
                ));
            }
            return Err(Error::Input(msg));
        }
        for msg in empty_inputs {
            corpus
                .warnings
                .push(format!("{msg}; the other inputs are read"));
        }
        make_ids_unique(&mut infos, &mut corpus.warnings, &spans);
        Ok((corpus, infos, locators))
    }
}

/// Checks one input and plans it.
fn plan(input: &Path, opts: &CorpusOptions, kinds: &ExtensionKinds) -> Result<Planned> {
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
        let walked = walk(input, kinds, opts.overrides(input)?);
        return Ok(Planned::Folder {
            root: input.to_path_buf(),
            files: walked.files,
            walk_warnings: walked.warnings,
            ignored: walked.ignored,
            ignored_extensions: walked.ignored_extensions,
            recurring: None,
        });
    }
    if !meta.is_file() {
        return Err(Error::Input(format!(
            "{}: not a regular file or folder",
            input.display()
        )));
    }
    let ext = super::extension(input);
    if ext.eq_ignore_ascii_case("jsonl") {
        return Ok(Planned::Jsonl(input.to_path_buf()));
    }
    if ext.eq_ignore_ascii_case("csv") {
        return Ok(Planned::Csv(input.to_path_buf()));
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
    Ok(Planned::File {
        path: input.to_path_buf(),
        kind,
        id,
    })
}

/// The folder's label of a file: its first subfolder.
fn label_of(id: &str) -> Option<String> {
    id.split_once('/').map(|(first, _)| first.to_string())
}

/// The hashes of a page's text blocks and block parts, sorted and deduplicated.
fn page_hashes(text: &str) -> Vec<u64> {
    let mut hashes: Vec<u64> = Vec::new();
    for block in text_blocks(text) {
        let parts = block_parts(&block);
        if parts.len() > 1 || parts.first().is_some_and(|p| *p != block) {
            hashes.extend(parts.iter().map(|p| block_hash(p)));
        }
        hashes.push(block_hash(&block));
    }
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// Finds the text blocks and block parts found verbatim (whitespace aside) on at least
/// [`BOILERPLATE_SHARE`] of a folder's readable HTML pages and on at least
/// [`BOILERPLATE_MIN_PAGES`]: one read of its HTML pages, in parallel blocks, counting pages
/// per block hash. `None` when there are none (or too few pages).
fn find_recurring(
    files: &[FoundFile],
    html: &super::HtmlOptions,
    per_read: usize,
) -> Option<Recurring> {
    let pages: Vec<&FoundFile> = files.iter().filter(|f| f.kind == Kind::Html).collect();
    if pages.len() < BOILERPLATE_MIN_PAGES {
        return None;
    }
    let mut pages_of: HashMap<u64, usize, rustc_hash::FxBuildHasher> = HashMap::default();
    let mut read = 0usize;
    for group in pages.chunks(per_read) {
        let hashes: Vec<Option<Vec<u64>>> = group
            .par_iter()
            .map(
                |f| match read_document(f.path.clone(), String::new(), None, f.kind, html) {
                    Read::Document { doc, .. } => Some(page_hashes(&doc.text)),
                    Read::Skipped(_) => None,
                },
            )
            .collect();
        for h in hashes.into_iter().flatten() {
            read += 1;
            for x in h {
                *pages_of.entry(x).or_insert(0) += 1;
            }
        }
    }
    let threshold = BOILERPLATE_MIN_PAGES.max((BOILERPLATE_SHARE * read as f64).ceil() as usize);
    if read < threshold {
        return None;
    }
    pages_of.retain(|_, n| *n >= threshold);
    (!pages_of.is_empty()).then_some(Recurring { pages: pages_of })
}

/// What removing the recurring blocks took out of one page.
#[derive(Default)]
struct Removed {
    removed: usize,
    /// The removed block found on the most pages (ties: the smaller text), with that number.
    example: Option<(usize, String)>,
}

/// Removes the recurring blocks and block parts from a page's text.
fn strip_recurring(text: &str, rec: &Recurring) -> (String, Removed) {
    let mut out = Removed::default();
    let mut note = |block: &str, h: u64| {
        out.removed += 1;
        let n = rec.pages[&h];
        if out
            .example
            .as_ref()
            .is_none_or(|(m, e)| n > *m || (n == *m && block < e.as_str()))
        {
            out.example = Some((n, block.to_string()));
        }
    };
    let mut kept_text = String::with_capacity(text.len());
    for block in text_blocks(text) {
        let h = block_hash(&block);
        if rec.pages.contains_key(&h) {
            note(&block, h);
            continue;
        }
        let parts = block_parts(&block);
        let kept: Vec<&str> = parts
            .iter()
            .copied()
            .filter(|p| {
                let ph = block_hash(p);
                if rec.pages.contains_key(&ph) && *p != block {
                    note(p, ph);
                    false
                } else {
                    true
                }
            })
            .collect();
        if !kept_text.is_empty() {
            kept_text.push('\n');
        }
        if kept.len() == parts.len() {
            kept_text.push_str(&block);
        } else {
            kept_text.push_str(&kept.join(" — "));
        }
    }
    (kept_text, out)
}

/// Reads one file of a folder: the document (with the recurring blocks removed from an HTML
/// page) or why it was skipped.
fn read_folder_file(
    f: &FoundFile,
    html: &super::HtmlOptions,
    recurring: Option<&Recurring>,
) -> (Read, Removed) {
    let r = read_document(f.path.clone(), f.id.clone(), label_of(&f.id), f.kind, html);
    match (r, recurring) {
        (Read::Document { mut doc, warning }, Some(rec)) if f.kind == Kind::Html => {
            let (text, removed) = strip_recurring(&doc.text, rec);
            doc.text = text;
            (Read::Document { doc, warning }, removed)
        }
        (r, _) => (r, Removed::default()),
    }
}

/// Reads one input into the scan; says what it was.
fn scan_input(scan: &mut Scan<'_, '_>, index: usize, planned: &Planned) -> Result<InputKind> {
    let html = scan.source.opts.html_options();
    match planned {
        Planned::Folder {
            root,
            files,
            walk_warnings,
            ignored,
            ignored_extensions,
            recurring,
        } => {
            if scan.pass == Pass::First {
                scan.corpus.ignored += ignored;
                for (ext, n) in ignored_extensions {
                    *scan
                        .corpus
                        .ignored_extensions
                        .entry(ext.clone())
                        .or_insert(0) += n;
                }
                scan.corpus.skipped += walk_warnings.len();
                scan.corpus.warnings.extend(walk_warnings.iter().cloned());
            }
            let mut first_skip = walk_warnings.first().cloned();
            let before = scan.count();
            let mut found = Boilerplate {
                blocks: recurring.as_ref().map_or(0, |r| {
                    // Distinct blocks: every recurring hash, as the in-memory count had.
                    r.pages.len()
                }),
                ..Boilerplate::default()
            };
            let mut example: Option<(usize, String)> = None;
            let per_read = scan.source.limits.files_per_read;
            for (g, group) in files.chunks(per_read).enumerate() {
                let read: Vec<(Read, Removed)> = group
                    .par_iter()
                    .map(|f| read_folder_file(f, &html, recurring.as_ref()))
                    .collect();
                for (i, (r, removed)) in read.into_iter().enumerate() {
                    found.removed += removed.removed;
                    if let Some((n, e)) = removed.example {
                        let better = example
                            .as_ref()
                            .is_none_or(|(m, x)| n > *m || (n == *m && e < *x));
                        if better {
                            example = Some((n, e));
                        }
                    }
                    let at = Locator {
                        input: index as u32,
                        item: (g * per_read + i) as u64,
                    };
                    match r {
                        Read::Document { doc, warning } => {
                            if let Some(w) = warning {
                                scan.warn(w);
                            }
                            scan.push(doc, at)?;
                        }
                        Read::Skipped(warning) => {
                            first_skip.get_or_insert_with(|| warning.clone());
                            scan.skip(warning);
                        }
                    }
                }
            }
            if scan.pass == Pass::First && found.blocks > 0 {
                if let Some((n, e)) = example {
                    found.example = Some(e);
                    found.example_pages = n;
                }
                let b = &mut scan.corpus.boilerplate;
                if b.example.is_none() || found.example_pages > b.example_pages {
                    b.example = found.example;
                    b.example_pages = found.example_pages;
                }
                b.blocks += found.blocks;
                b.removed += found.removed;
            }
            if scan.count() == before {
                let mut msg = format!(
                    "{}: no readable documents ({})",
                    root.display(),
                    scan.source.kinds.describe()
                );
                if *ignored > 0 {
                    msg.push_str(&format!(
                        "; {} with other extensions ignored: {} (--ext reads more)",
                        plural(*ignored, "file", "files"),
                        describe_extensions(ignored_extensions, 3)
                    ));
                }
                let o = &scan.source.opts;
                if !o.include.is_empty() || !o.exclude.is_empty() {
                    msg.push_str("; --include/--exclude apply");
                }
                if let Some(w) = first_skip {
                    msg.push_str(&format!("; skipped: {w}"));
                }
                return Ok(InputKind::EmptyFolder(msg));
            }
            Ok(InputKind::Folder)
        }
        Planned::File { path, kind, id } => {
            match read_document(path.clone(), id.clone(), None, *kind, &html) {
                Read::Document { doc, warning } => {
                    if let Some(w) = warning {
                        scan.warn(w);
                    }
                    let at = Locator {
                        input: index as u32,
                        item: 0,
                    };
                    scan.push(doc, at)?;
                }
                Read::Skipped(warning) => scan.skip(warning),
            }
            Ok(InputKind::File)
        }
        Planned::Jsonl(path) => {
            scan_jsonl(scan, index, path)?;
            Ok(InputKind::Records)
        }
        Planned::Csv(path) => {
            scan_csv(scan, index, path)?;
            Ok(InputKind::Records)
        }
    }
}

/// Reads a JSON Lines file in chunks of lines, each chunk's lines parsed in parallel.
fn scan_jsonl(scan: &mut Scan<'_, '_>, index: usize, path: &Path) -> Result<()> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            scan.skip(format!("{}: skipped, cannot read: {e}", path.display()));
            return Ok(());
        }
    };
    let mut state = JsonlFile::new(path, &scan.source.opts);
    let chunk = scan.source.limits.jsonl_chunk;
    let mut buf: Vec<u8> = Vec::with_capacity(chunk + 4096);
    // File offset of buf[0], and the number of the line starting there.
    let mut offset = 0u64;
    let mut line_no = 1usize;
    let mut at_start = true;
    let mut eof = false;
    while !eof {
        // A chunk more than what is carried over (a line longer than a chunk grows the buffer).
        let want = buf.len() + chunk;
        let before = buf.len();
        buf.resize(want, 0);
        let mut filled = before;
        while filled < want {
            match file.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(k) => filled += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    buf.truncate(filled);
                    if scan.count() == 0 && offset == 0 && before == 0 {
                        scan.skip(format!("{}: skipped, cannot read: {e}", path.display()));
                        return Ok(());
                    }
                    return Err(Error::io(path, e));
                }
            }
        }
        buf.truncate(filled);
        if at_start {
            if buf.len() < 3 && !eof {
                continue;
            }
            at_start = false;
            if buf.starts_with(b"\xEF\xBB\xBF") {
                buf.drain(..3);
                offset += 3;
            }
        }
        // Complete lines only, unless at the end of the file.
        let end = if eof {
            buf.len()
        } else {
            match buf.iter().rposition(|&c| c == b'\n') {
                Some(p) => p + 1,
                None => continue,
            }
        };
        let mut lines: Vec<(usize, u64, &[u8])> = Vec::new();
        let mut start = 0usize;
        while start < end {
            let stop = buf[start..end]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(end, |p| start + p);
            let l = &buf[start..stop];
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            if !l.iter().all(u8::is_ascii_whitespace) {
                lines.push((line_no, offset + start as u64, l));
            }
            line_no += 1;
            start = stop + 1;
        }
        let parsed: Vec<(u64, Line)> = lines
            .into_par_iter()
            .map(|(n, at, l)| (at, state.parse(l, n)))
            .collect();
        for (at, p) in parsed {
            match state.take(p) {
                Ok(doc) => scan.push(
                    doc,
                    Locator {
                        input: index as u32,
                        item: at,
                    },
                )?,
                Err(w) => scan.skip(w),
            }
        }
        buf.drain(..end);
        offset += end as u64;
    }
    state.finish()
}

/// Reads a CSV file record by record.
fn scan_csv(scan: &mut Scan<'_, '_>, index: usize, path: &Path) -> Result<()> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            scan.skip(format!("{}: skipped, cannot read: {e}", path.display()));
            return Ok(());
        }
    };
    let (reader, skip) = match without_bom(file) {
        Ok(r) => r,
        Err(e) => {
            scan.skip(format!("{}: skipped, cannot read: {e}", path.display()));
            return Ok(());
        }
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let fields = CsvFields::from_header(&mut csv, path, &scan.source.opts)?;
    let mut record = csv::ByteRecord::new();
    loop {
        match fields.next(&mut csv, &mut record) {
            Ok(None) => break,
            Ok(Some((doc, warning))) => {
                if let Some(w) = warning {
                    scan.warn(w);
                }
                let at = record.position().map_or(0, csv::Position::byte) + skip as u64;
                scan.push(
                    doc,
                    Locator {
                        input: index as u32,
                        item: at,
                    },
                )?;
            }
            Err((w, stop)) => {
                scan.skip(w);
                if stop {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// The documents of a load, read once (by [`Source::scan`]): their ids and labels, warnings
/// and counts, and the means to read them again without holding their texts.
pub struct StreamedCorpus {
    source: Source,
    /// Warnings and counts of the first pass; `documents` is empty (the texts are not kept).
    pub corpus: Corpus,
    /// Every document's id (unique) and label, in row order. A caller may take them (the
    /// matrix keeps them); later passes then give the documents their ids as read.
    pub documents: Vec<DocInfo>,
    /// Number of documents.
    n: usize,
    locators: Vec<Locator>,
}

impl StreamedCorpus {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there is no document (never, after a successful scan).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The inputs as given.
    pub fn inputs(&self) -> &[PathBuf] {
        &self.source.inputs
    }

    /// The one-line summary of the first pass ([`Corpus::summary`]).
    pub fn summary(&self) -> String {
        self.corpus.summary_of(self.n)
    }

    /// Reads every document again, in row order and in blocks: `f(first_row, documents)`.
    /// Ids are the unique ids of [`StreamedCorpus::documents`] (the ids as read when those
    /// were taken); warnings are not repeated.
    ///
    /// Errors: an error of `f`; inputs that no longer hold the same number of documents
    /// ([`Error::Input`]); a file that can no longer be read midway ([`Error::Io`]).
    pub fn for_each_block(
        &self,
        mut f: impl FnMut(usize, &[Document]) -> Result<()>,
    ) -> Result<()> {
        let n = self.n;
        let ids = self.documents.len() == n;
        let changed = || {
            Error::input(format!(
                "the inputs changed while they were read: {} no longer holds the {n} documents \
                 it held",
                self.describe_inputs()
            ))
        };
        let mut seen = 0usize;
        let mut sink = |first: usize, docs: &mut Vec<Document>, _: &[Locator]| -> Result<()> {
            if first + docs.len() > n {
                return Err(changed());
            }
            seen = first + docs.len();
            if ids {
                for (d, info) in docs.iter_mut().zip(&self.documents[first..]) {
                    d.id.clone_from(&info.id);
                }
            }
            f(first, docs)
        };
        self.source.run(Pass::Again, &mut sink)?;
        if seen != n {
            return Err(changed());
        }
        Ok(())
    }

    fn describe_inputs(&self) -> String {
        let names: Vec<String> = self
            .source
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        names.join(", ")
    }

    /// The documents at `rows` (in the order given), read again from their files: for the
    /// snippets of a few documents. HTML pages lose their recurring blocks again.
    ///
    /// Errors: a row out of range, a file that can no longer be read or parsed
    /// ([`Error::Input`] naming it).
    pub fn fetch(&self, rows: &[usize]) -> Result<Vec<Document>> {
        rows.par_iter()
            .map(|&r| self.fetch_one(r))
            .collect::<Result<Vec<_>>>()
    }

    fn fetch_one(&self, row: usize) -> Result<Document> {
        let Some(at) = self.locators.get(row) else {
            return Err(Error::input(format!(
                "row {row} is out of range: there are {} documents",
                self.n
            )));
        };
        let info = self.documents.get(row);
        let name = info.map_or_else(|| format!("row {row}"), |i| i.id.clone());
        let html = self.source.opts.html_options();
        let gone = |path: &Path, why: String| {
            Error::input(format!(
                "{}: cannot read document {name} again: {why}",
                path.display(),
            ))
        };
        let mut doc = match &self.source.planned[at.input as usize] {
            Planned::Folder {
                files, recurring, ..
            } => {
                let f = &files[at.item as usize];
                match read_folder_file(f, &html, recurring.as_ref()).0 {
                    Read::Document { doc, .. } => doc,
                    Read::Skipped(w) => return Err(Error::input(w)),
                }
            }
            Planned::File { path, kind, id } => {
                match read_document(path.clone(), id.clone(), None, *kind, &html) {
                    Read::Document { doc, .. } => doc,
                    Read::Skipped(w) => return Err(Error::input(w)),
                }
            }
            Planned::Jsonl(path) => {
                let line = read_line_at(path, at.item).map_err(|e| gone(path, e.to_string()))?;
                let mut state = JsonlFile::new(path, &self.source.opts);
                let parsed = state.parse(&line, 0);
                match state.take(parsed) {
                    Ok(doc) => doc,
                    Err(_) => return Err(gone(path, "the record changed".into())),
                }
            }
            Planned::Csv(path) => self.fetch_csv(path, at.item).map_err(|e| gone(path, e))?,
        };
        if let Some(info) = info {
            doc.id.clone_from(&info.id);
            doc.label = info.label.as_deref().map(str::to_owned);
        }
        Ok(doc)
    }

    fn fetch_csv(&self, path: &Path, offset: u64) -> std::result::Result<Document, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let (reader, _) = without_bom(file).map_err(|e| e.to_string())?;
        let mut header = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(reader);
        let fields = CsvFields::from_header(&mut header, path, &self.source.opts)
            .map_err(|e| e.to_string())?;
        let mut file = File::open(path).map_err(|e| e.to_string())?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| e.to_string())?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(BufReader::new(file));
        let mut record = csv::ByteRecord::new();
        match fields.next(&mut reader, &mut record) {
            Ok(Some((doc, _))) => Ok(doc),
            _ => Err("the record changed".into()),
        }
    }
}

/// A buffered reader past a leading UTF-8 byte order mark, and the bytes skipped (0 or 3).
fn without_bom(file: File) -> std::io::Result<(BufReader<File>, usize)> {
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let bom = reader.fill_buf()?.starts_with(b"\xEF\xBB\xBF");
    let skip = if bom { 3 } else { 0 };
    reader.consume(skip);
    Ok((reader, skip))
}

/// The line of a file starting at byte `offset`, without its line break.
fn read_line_at(path: &Path, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut file = BufReader::new(File::open(path)?);
    file.seek(SeekFrom::Start(offset))?;
    let mut line = Vec::new();
    file.read_until(b'\n', &mut line)?;
    if line.ends_with(b"\n") {
        line.pop();
    }
    if line.ends_with(b"\r") {
        line.pop();
    }
    Ok(line)
}

/// The texts of a corpus, in row order, however they are held: in memory (a slice of
/// [`Document`]s) or read again from the inputs ([`StreamedCorpus`]). What the outputs need
/// after the fit: a few documents for the report's snippets, and one more pass for the
/// window coherence.
pub trait Texts: Sync {
    /// Number of documents.
    fn count(&self) -> usize;
    /// The documents at `rows`, in the order given.
    fn fetch(&self, rows: &[usize]) -> Result<Vec<Document>>;
    /// Every document in row order, in blocks: `f(first_row, documents)`.
    fn for_each_block(&self, f: &mut dyn FnMut(usize, &[Document]) -> Result<()>) -> Result<()>;
    /// The documents at `rows`, in the order given, in blocks (fetched a block at a time):
    /// `f(index of the block's first document in rows, documents)`.
    fn for_each_block_of(
        &self,
        rows: &[usize],
        f: &mut dyn FnMut(usize, &[Document]) -> Result<()>,
    ) -> Result<()> {
        const FETCH_BLOCK: usize = 4096;
        for (i, part) in rows.chunks(FETCH_BLOCK).enumerate() {
            f(i * FETCH_BLOCK, &self.fetch(part)?)?;
        }
        Ok(())
    }
}

impl Texts for &[Document] {
    fn count(&self) -> usize {
        self.len()
    }

    fn fetch(&self, rows: &[usize]) -> Result<Vec<Document>> {
        rows.iter()
            .map(|&r| {
                self.get(r).cloned().ok_or_else(|| {
                    Error::input(format!(
                        "row {r} is out of range: there are {} documents",
                        self.len()
                    ))
                })
            })
            .collect()
    }

    fn for_each_block(&self, f: &mut dyn FnMut(usize, &[Document]) -> Result<()>) -> Result<()> {
        for (i, block) in self.chunks(BLOCK_DOCUMENTS).enumerate() {
            f(i * BLOCK_DOCUMENTS, block)?;
        }
        Ok(())
    }
}

impl Texts for Vec<Document> {
    fn count(&self) -> usize {
        self.len()
    }

    fn fetch(&self, rows: &[usize]) -> Result<Vec<Document>> {
        self.as_slice().fetch(rows)
    }

    fn for_each_block(&self, f: &mut dyn FnMut(usize, &[Document]) -> Result<()>) -> Result<()> {
        self.as_slice().for_each_block(f)
    }
}

impl Texts for StreamedCorpus {
    fn count(&self) -> usize {
        self.len()
    }

    fn fetch(&self, rows: &[usize]) -> Result<Vec<Document>> {
        StreamedCorpus::fetch(self, rows)
    }

    fn for_each_block(&self, f: &mut dyn FnMut(usize, &[Document]) -> Result<()>) -> Result<()> {
        StreamedCorpus::for_each_block(self, |first, docs| f(first, docs))
    }
}
