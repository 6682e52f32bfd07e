//! Parallel counting: from documents to per-document term counts, in one pass over the text.
//!
//! 1. **Analysis** (parallel over chunks of documents). Each rayon worker owns an interner of
//!    surface forms (lowercased tokens) with a fast hasher, so a token costs one hash lookup
//!    and no allocation unless it is new to that worker. Without n-grams the worker also
//!    caches, per distinct word as segmented, the id of its token (or that it is dropped), so
//!    a repeated word skips lowercasing and the filters. A document becomes a list of
//!    `(local surface id, count)` pairs, built with a sparse accumulator.
//! 2. **Merge** (sequential, over distinct surfaces only). The workers' interners are merged
//!    into one global table of surfaces with their corpus totals.
//! 3. **Stemming** (parallel over distinct surfaces). Each distinct surface is stemmed once;
//!    the distinct terms are sorted by bytes, and a term's rank in that order is its id. A
//!    term's display form is its most frequent surface (ties: the alphabetically first).
//! 4. **Rows** (parallel over chunks). Surface ids are replaced by term ranks, each row is
//!    sorted and duplicate terms (two surfaces with one stem) merged.
//!
//! Everything after step 1 is a function of integer counts and sorted strings, so the result
//! does not depend on how rayon split the work or on the number of threads.
//!
//! With n-grams the analyzer's [`Analyzer::for_each_term`] gives `(term, surface)` pairs; the
//! term is a function of the surface, so the same tables work, with the term recorded when
//! the surface is first seen instead of stemming in step 3.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::Mutex;

use rayon::prelude::*;

use super::HashFeatures;
use crate::corpus::Document;
use crate::text::{Analyzer, Scratch};

/// `HashMap` with rustc's fast non-cryptographic FxHash (keys are the corpus' own words, so
/// hash flooding is not a concern).
pub(crate) type WordMap<K, V> = HashMap<K, V, rustc_hash::FxBuildHasher>;

/// A surface of at most 15 bytes packed into two words: the bytes in order (little-endian),
/// zero padding, and the length in the last byte. The common short words are then hashed and
/// compared as two machine words, without following a pointer, and a table entry is 24 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShortKey([u64; 2]);

impl std::hash::Hash for ShortKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(u128::from(self.0[0]) | (u128::from(self.0[1]) << 64));
    }
}

#[inline]
fn load_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[inline]
fn load_u32(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u64::from(u32::from_le_bytes(w))
}

/// Packs `s` into a [`ShortKey`] with a few (possibly overlapping) word loads, or `None` when
/// it is longer than 15 bytes.
#[inline]
pub(crate) fn short_key(s: &str) -> Option<ShortKey> {
    let b = s.as_bytes();
    let n = b.len();
    let (lo, hi) = match n {
        16.. => return None,
        // Bytes 8..n are the top n - 8 bytes of the word ending at n.
        9..=15 => (load_u64(b, 0), load_u64(b, n - 8) >> (8 * (16 - n))),
        8 => (load_u64(b, 0), 0),
        // Two overlapping 4-byte loads; the shared bytes land on the same positions.
        4..=7 => (load_u32(b, 0) | (load_u32(b, n - 4) << (8 * (n - 4))), 0),
        _ => {
            let mut lo = 0u64;
            for (i, &x) in b.iter().enumerate() {
                lo |= u64::from(x) << (8 * i);
            }
            (lo, 0)
        }
    };
    Some(ShortKey([lo, hi | ((n as u64) << 56)]))
}

/// The surface packed by [`short_key`].
fn unpack_short_key(key: ShortKey) -> String {
    let mut buf = [0u8; 16];
    buf[..8].copy_from_slice(&key.0[0].to_le_bytes());
    buf[8..].copy_from_slice(&key.0[1].to_le_bytes());
    let len = usize::from(buf[15]).min(15);
    // The bytes came from a `&str`, so the conversion is exact.
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// One worker's interner and buffers.
#[derive(Default)]
struct Worker {
    /// Surfaces of at most 15 bytes ([`short_key`]) → local id.
    short: WordMap<ShortKey, u32>,
    /// Longer surfaces → local id.
    long: WordMap<Box<str>, u32>,
    /// Corpus total of each local surface (over the documents this worker analyzed).
    totals: Vec<u64>,
    /// With n-grams: the term of each local surface.
    terms: Vec<Box<str>>,
    /// Sparse accumulator: count of each local surface in the current document (zero outside).
    acc: Vec<u32>,
    /// Local ids with a non-zero `acc`.
    touched: Vec<u32>,
    /// Without n-grams: words as segmented, of at most 15 bytes ([`short_key`]) → local id
    /// of their token, or [`DROPPED`]. A word's token depends only on the word, so each
    /// distinct word is lowercased and filtered once per worker.
    word_short: WordMap<ShortKey, u32>,
    /// Longer words → local id or [`DROPPED`].
    word_long: WordMap<Box<str>, u32>,
    scratch: Scratch,
    /// Without kept rows: document frequencies per term, counted as documents are flushed.
    df: Option<TermDf>,
}

/// A worker's document frequencies by term (for a count that keeps no rows): each local
/// surface's term is interned when the surface is first seen.
#[derive(Default)]
struct TermDf {
    /// Local term of each local surface.
    surface_term: Vec<u32>,
    /// Term → local term id.
    ids: WordMap<Box<str>, u32>,
    /// Local term names.
    names: Vec<Box<str>>,
    /// Documents holding each local term.
    df: Vec<u64>,
    /// The last document (by `stamp`) that counted each local term.
    mark: Vec<u32>,
    /// The current document's stamp.
    stamp: u32,
    /// With hashing: the bucket of each local term and its per-document sums.
    hashed: Option<HashedDf>,
}

/// A worker's counts per hash bucket (hashing without kept rows).
struct HashedDf {
    hash: HashFeatures,
    /// Bucket and sign of each local term.
    term_bucket: Vec<(u32, bool)>,
    /// The current document's signed sum per bucket, and whether a bucket is in `touched`.
    acc: Vec<i64>,
    listed: Vec<bool>,
    touched: Vec<u32>,
    /// Documents with a non-zero sum in each bucket, and the sums of their absolute values.
    df: Vec<u64>,
    totals: Vec<u64>,
}

impl TermDf {
    /// Records the term of a new local surface.
    fn new_surface(&mut self, term: &str) {
        let id = match self.ids.get(term) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                if let Some(h) = &mut self.hashed {
                    h.term_bucket.push(h.hash.bucket(term));
                }
                self.names.push(term.into());
                self.ids.insert(term.into(), id);
                self.df.push(0);
                self.mark.push(u32::MAX);
                id
            }
        };
        self.surface_term.push(id);
    }
}

/// Marks a word whose token is dropped (stopword, too short, number).
const DROPPED: u32 = u32::MAX;

impl Worker {
    /// A worker with room for about `capacity` distinct short surfaces.
    fn new(capacity: usize) -> Self {
        Worker {
            short: WordMap::with_capacity_and_hasher(capacity, Default::default()),
            word_short: WordMap::with_capacity_and_hasher(capacity, Default::default()),
            ..Worker::default()
        }
    }

    /// A new local id for `surface` (with its `term` in n-gram mode).
    #[cold]
    fn new_id(&mut self, surface: &str, term: Option<&str>, analyzer: &Analyzer) -> u32 {
        let id = self.totals.len() as u32;
        self.totals.push(0);
        self.acc.push(0);
        if let Some(t) = term {
            self.terms.push(t.into());
        }
        if let Some(df) = &mut self.df {
            match term {
                Some(t) => df.new_surface(t),
                None => df.new_surface(&analyzer.stem(surface)),
            }
        }
        id
    }

    /// Counts one occurrence of `surface` (with its `term` in n-gram mode).
    #[inline]
    fn add(&mut self, surface: &str, term: Option<&str>, analyzer: &Analyzer) {
        let id = self.surface_id(surface, term, analyzer);
        self.count(id);
    }

    /// Counts one occurrence of a word as segmented (without n-grams): its token is looked up
    /// in the word cache, and computed with [`Analyzer::token_of_word`] when the word is new.
    #[inline]
    fn add_word(&mut self, word: &str, analyzer: &Analyzer) {
        let id = if let Some(key) = short_key(word) {
            match self.word_short.get(&key) {
                Some(&id) => id,
                None => {
                    let id = self.word_id(word, analyzer);
                    self.word_short.insert(key, id);
                    id
                }
            }
        } else {
            match self.word_long.get(word) {
                Some(&id) => id,
                None => {
                    let id = self.word_id(word, analyzer);
                    self.word_long.insert(word.into(), id);
                    id
                }
            }
        };
        if id != DROPPED {
            self.count(id);
        }
    }

    /// The local id of a new word's token, or [`DROPPED`].
    #[cold]
    fn word_id(&mut self, word: &str, analyzer: &Analyzer) -> u32 {
        let mut scratch = std::mem::take(&mut self.scratch);
        let id = match analyzer.token_of_word(word, &mut scratch) {
            Some(token) => self.surface_id(token, None, analyzer),
            None => DROPPED,
        };
        self.scratch = scratch;
        id
    }

    /// Adds one to the current document's count of local id `id`.
    #[inline]
    fn count(&mut self, id: u32) {
        let slot = &mut self.acc[id as usize];
        if *slot == 0 {
            self.touched.push(id);
        }
        *slot += 1;
    }

    /// The local id of `surface`, new if needed (with its `term` in n-gram mode).
    #[inline]
    fn surface_id(&mut self, surface: &str, term: Option<&str>, analyzer: &Analyzer) -> u32 {
        if let Some(key) = short_key(surface) {
            match self.short.get(&key) {
                Some(&id) => id,
                None => {
                    let id = self.new_id(surface, term, analyzer);
                    self.short.insert(key, id);
                    id
                }
            }
        } else {
            match self.long.get(surface) {
                Some(&id) => id,
                None => {
                    let id = self.new_id(surface, term, analyzer);
                    self.long.insert(surface.into(), id);
                    id
                }
            }
        }
    }

    /// Moves the current document's counts to `entries`; returns how many were pushed.
    fn flush(&mut self, entries: &mut Vec<(u32, u32)>) -> u32 {
        let n = self.touched.len() as u32;
        for &id in &self.touched {
            let c = std::mem::take(&mut self.acc[id as usize]);
            self.totals[id as usize] += u64::from(c);
            entries.push((id, c));
        }
        self.touched.clear();
        n
    }

    /// Ends the current document without keeping its row: adds its counts to the totals and
    /// one to the document frequency of each of its terms.
    fn flush_df(&mut self) {
        let Some(df) = &mut self.df else {
            return;
        };
        if let Some(h) = &mut df.hashed {
            for &id in &self.touched {
                let c = std::mem::take(&mut self.acc[id as usize]);
                self.totals[id as usize] += u64::from(c);
                let (b, negative) = h.term_bucket[df.surface_term[id as usize] as usize];
                if !h.listed[b as usize] {
                    h.listed[b as usize] = true;
                    h.touched.push(b);
                }
                let c = i64::from(c);
                h.acc[b as usize] += if negative { -c } else { c };
            }
            for &b in &h.touched {
                let v = std::mem::take(&mut h.acc[b as usize]);
                h.listed[b as usize] = false;
                if v != 0 {
                    h.df[b as usize] += 1;
                    h.totals[b as usize] += v.unsigned_abs();
                }
            }
            h.touched.clear();
            self.touched.clear();
            return;
        }
        df.stamp = df.stamp.wrapping_add(1);
        if df.stamp == u32::MAX {
            df.mark.fill(u32::MAX - 1);
            df.stamp = 0;
        }
        for &id in &self.touched {
            let c = std::mem::take(&mut self.acc[id as usize]);
            self.totals[id as usize] += u64::from(c);
            let t = df.surface_term[id as usize] as usize;
            if df.mark[t] != df.stamp {
                df.mark[t] = df.stamp;
                df.df[t] += 1;
            }
        }
        self.touched.clear();
    }
}

/// The rows of one chunk of consecutive documents.
pub(crate) struct ChunkRows {
    /// The worker whose local ids `entries` uses (until [`count`] rewrites them to ranks).
    worker: usize,
    /// Number of entries of each row.
    pub row_len: Vec<u32>,
    /// `(id, count)` pairs, row after row. After [`count`]: term ranks, sorted within rows.
    pub entries: Vec<(u32, u32)>,
}

/// Documents with a non-zero sum and total absolute counts per hash bucket.
pub(crate) struct BucketCounts {
    pub df: Vec<usize>,
    pub totals: Vec<u64>,
}

/// The counted corpus.
pub(crate) struct Counts {
    /// Distinct terms, sorted by bytes; a term's index is its rank.
    pub terms: Vec<String>,
    /// Display form of each term: its most frequent surface (ties: alphabetically first).
    pub surfaces: Vec<String>,
    /// Total count of each term in the corpus.
    pub totals: Vec<u64>,
    /// Number of documents containing each term (not counted with hashing without rows).
    pub df: Vec<usize>,
    /// Hashing without rows: the documents and total counts per bucket.
    pub buckets: Option<BucketCounts>,
    /// Rows in document order, by chunk (empty for a count that keeps no rows).
    pub chunks: Vec<ChunkRows>,
    /// Number of documents.
    pub n_docs: usize,
}

/// Documents per chunk: small enough to balance the load, large enough that the per-chunk
/// overhead (a lock, two vectors) is negligible.
fn chunk_len(n_docs: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    n_docs.div_ceil(threads * 16).clamp(1, 512)
}

/// Analyzes and counts every document (see the module documentation), keeping the rows.
pub(crate) fn count(docs: &[Document], analyzer: &Analyzer) -> Counts {
    let mut counter = Counter::new(analyzer, true, docs.len(), None);
    counter.add(docs);
    counter.finish()
}

/// Counts documents given block by block, in document order (see the module documentation):
/// [`Counter::add`] for each block, then [`Counter::finish`]. With `keep_rows`, the rows
/// (term, count) of every document are kept (8 bytes per distinct term of a document) to build
/// the matrix from; without, only the document frequencies and totals of the terms are
/// counted, and memory does not grow with the number of documents.
pub(crate) struct Counter<'a> {
    analyzer: &'a Analyzer,
    ngrams: bool,
    keep_rows: bool,
    workers: Vec<Mutex<Worker>>,
    chunks: Vec<ChunkRows>,
    n_docs: usize,
}

impl<'a> Counter<'a> {
    /// A counter; `expected_docs` sizes the first allocations.
    pub(crate) fn new(
        analyzer: &'a Analyzer,
        keep_rows: bool,
        expected_docs: usize,
        hash: Option<HashFeatures>,
    ) -> Self {
        let n_workers = rayon::current_num_threads().max(1);
        let capacity = (expected_docs * 4).min(1 << 15);
        let workers = (0..n_workers)
            .map(|_| {
                let mut w = Worker::new(capacity);
                if !keep_rows {
                    w.df = Some(TermDf {
                        hashed: hash.map(|hash| HashedDf {
                            hash,
                            term_bucket: Vec::new(),
                            acc: vec![0; hash.features],
                            listed: vec![false; hash.features],
                            touched: Vec::new(),
                            df: vec![0; hash.features],
                            totals: vec![0; hash.features],
                        }),
                        ..TermDf::default()
                    });
                }
                Mutex::new(w)
            })
            .collect();
        Counter {
            analyzer,
            ngrams: analyzer.has_ngrams(),
            keep_rows,
            workers,
            chunks: Vec::new(),
            n_docs: 0,
        }
    }

    /// Analyzes and counts the next block of documents.
    pub(crate) fn add(&mut self, docs: &[Document]) {
        let (analyzer, ngrams, keep_rows) = (self.analyzer, self.ngrams, self.keep_rows);
        let workers = &self.workers;
        let n_workers = workers.len();
        // 1. Analysis. Each chunk locks the worker slot of the thread running it; the lock is
        //    uncontended (one slot per thread) and the analyzer never calls back into rayon, so
        //    a thread never re-enters its own slot.
        let chunks: Vec<ChunkRows> = docs
            .par_chunks(chunk_len(docs.len()))
            .map(|chunk| {
                let slot = rayon::current_thread_index().unwrap_or(0) % n_workers;
                let mut guard = workers[slot].lock().unwrap_or_else(|p| p.into_inner());
                let w = &mut *guard;
                let mut row_len = Vec::with_capacity(if keep_rows { chunk.len() } else { 0 });
                // About one distinct token per 12 bytes of text.
                let bytes: usize = chunk.iter().map(|d| d.text.len()).sum();
                let mut entries = Vec::with_capacity(if keep_rows { bytes / 12 } else { 0 });
                for doc in chunk {
                    if ngrams {
                        let mut scratch = std::mem::take(&mut w.scratch);
                        analyzer.for_each_term(&doc.text, &mut scratch, |term, surface| {
                            w.add(surface, Some(term), analyzer)
                        });
                        w.scratch = scratch;
                    } else {
                        analyzer.for_each_word(&doc.text, |word| w.add_word(word, analyzer));
                    }
                    if keep_rows {
                        row_len.push(w.flush(&mut entries));
                    } else {
                        w.flush_df();
                    }
                }
                ChunkRows {
                    worker: slot,
                    row_len,
                    entries,
                }
            })
            .collect();
        if keep_rows {
            self.chunks.extend(chunks);
        }
        self.n_docs += docs.len();
    }

    /// Merges the workers' counts (see the module documentation).
    pub(crate) fn finish(self) -> Counts {
        let Counter {
            analyzer,
            ngrams,
            keep_rows,
            workers,
            mut chunks,
            n_docs,
        } = self;
        let workers: Vec<Worker> = workers
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .collect();
        merge(analyzer, ngrams, keep_rows, workers, &mut chunks, n_docs)
    }
}

/// Steps 2-4 of the module documentation.
fn merge(
    analyzer: &Analyzer,
    ngrams: bool,
    keep_rows: bool,
    workers: Vec<Worker>,
    chunks: &mut Vec<ChunkRows>,
    n_docs: usize,
) -> Counts {
    // 2. Merge the interners: local id → global surface id.
    let mut global_short: WordMap<ShortKey, u32> = WordMap::default();
    let mut global_long: WordMap<&str, u32> = WordMap::default();
    let mut surfaces: Vec<String> = Vec::new();
    let mut surface_totals: Vec<u64> = Vec::new();
    let mut surface_terms: Vec<&str> = Vec::new();
    let mut remaps: Vec<Vec<u32>> = Vec::with_capacity(workers.len());
    for w in &workers {
        let mut remap = vec![0u32; w.totals.len()];
        let mut new_surface = |name: String, local: u32| {
            surfaces.push(name);
            surface_totals.push(0);
            if ngrams {
                surface_terms.push(&w.terms[local as usize]);
            }
            (surfaces.len() - 1) as u32
        };
        for (&key, &local) in &w.short {
            let gid = *global_short
                .entry(key)
                .or_insert_with(|| new_surface(unpack_short_key(key), local));
            remap[local as usize] = gid;
        }
        for (key, &local) in &w.long {
            let gid = *global_long
                .entry(key)
                .or_insert_with(|| new_surface(key.to_string(), local));
            remap[local as usize] = gid;
        }
        for (local, &gid) in remap.iter().enumerate() {
            surface_totals[gid as usize] += w.totals[local];
        }
        remaps.push(remap);
    }

    // 3. Terms: stem each distinct surface once, sort the distinct terms.
    let stems: Vec<Cow<str>> = if ngrams {
        surface_terms.iter().map(|&t| Cow::Borrowed(t)).collect()
    } else {
        surfaces.par_iter().map(|s| analyzer.stem(s)).collect()
    };
    let identity = stems.iter().zip(&surfaces).all(|(t, s)| t == s);
    let (term_strs, surface_term): (Vec<&str>, Vec<u32>) = if identity {
        // No stemming: every surface is its own term.
        (
            surfaces.iter().map(String::as_str).collect(),
            (0..surfaces.len() as u32).collect(),
        )
    } else {
        let mut term_ids: WordMap<&str, u32> = WordMap::default();
        let mut term_strs: Vec<&str> = Vec::new();
        let surface_term = stems
            .iter()
            .map(|s| {
                let s: &str = s;
                *term_ids.entry(s).or_insert_with(|| {
                    term_strs.push(s);
                    (term_strs.len() - 1) as u32
                })
            })
            .collect();
        (term_strs, surface_term)
    };
    let mut order: Vec<u32> = (0..term_strs.len() as u32).collect();
    order.par_sort_unstable_by(|&a, &b| term_strs[a as usize].cmp(term_strs[b as usize]));
    let mut rank_of_term = vec![0u32; term_strs.len()];
    for (rank, &t) in order.iter().enumerate() {
        rank_of_term[t as usize] = rank as u32;
    }
    let n_terms = term_strs.len();
    let mut totals = vec![0u64; n_terms];
    let mut best: Vec<Option<u32>> = vec![None; n_terms];
    let surface_rank: Vec<u32> = surface_term
        .iter()
        .map(|&t| rank_of_term[t as usize])
        .collect();
    for (sid, &rank) in surface_rank.iter().enumerate() {
        let r = rank as usize;
        totals[r] += surface_totals[sid];
        let better = match best[r] {
            None => true,
            Some(b) => prefer_surface(
                (surface_totals[sid], &surfaces[sid]),
                (surface_totals[b as usize], &surfaces[b as usize]),
            ),
        };
        if better {
            best[r] = Some(sid as u32);
        }
    }
    let terms: Vec<String> = order
        .par_iter()
        .map(|&t| term_strs[t as usize].to_string())
        .collect();
    let display: Vec<String> = best
        .par_iter()
        .map(|b| {
            b.map(|s| surfaces[s as usize].to_string())
                .unwrap_or_default()
        })
        .collect();

    // 4. Rows: local ids → term ranks, sorted, duplicates merged.
    chunks.par_iter_mut().for_each(|chunk| {
        let remap = &remaps[chunk.worker];
        for e in chunk.entries.iter_mut() {
            e.0 = surface_rank[remap[e.0 as usize] as usize];
        }
        // Sort each row by rank and merge equal ranks (two surfaces with one stem), compacting
        // in place: the write position never passes the read position.
        let entries = &mut chunk.entries;
        let mut read = 0usize;
        let mut write = 0usize;
        for len in chunk.row_len.iter_mut() {
            let end = read + *len as usize;
            entries[read..end].sort_unstable_by_key(|e| e.0);
            let row_start = write;
            let mut k = read;
            while k < end {
                let (t, mut c) = entries[k];
                k += 1;
                while k < end && entries[k].0 == t {
                    c += entries[k].1;
                    k += 1;
                }
                entries[write] = (t, c);
                write += 1;
            }
            *len = (write - row_start) as u32;
            read = end;
        }
        entries.truncate(write);
    });

    // Document frequencies: from the rows (each term at most once per row), or from the
    // workers' counts by term.
    let mut df = vec![0usize; n_terms];
    if keep_rows {
        for chunk in chunks.iter() {
            for &(t, _) in &chunk.entries {
                df[t as usize] += 1;
            }
        }
    } else {
        let rank_of: WordMap<&str, u32> = terms
            .iter()
            .enumerate()
            .map(|(r, t)| (t.as_str(), r as u32))
            .collect();
        for w in &workers {
            if let Some(tdf) = &w.df {
                for (name, &n) in tdf.names.iter().zip(&tdf.df) {
                    if let Some(&r) = rank_of.get(&**name) {
                        df[r as usize] += n as usize;
                    }
                }
            }
        }
    }

    let mut buckets: Option<BucketCounts> = None;
    for w in &workers {
        if let Some(h) = w.df.as_ref().and_then(|d| d.hashed.as_ref()) {
            let b = buckets.get_or_insert_with(|| BucketCounts {
                df: vec![0; h.df.len()],
                totals: vec![0; h.df.len()],
            });
            for (x, &y) in b.df.iter_mut().zip(&h.df) {
                *x += y as usize;
            }
            for (x, &y) in b.totals.iter_mut().zip(&h.totals) {
                *x += y;
            }
        }
    }

    Counts {
        terms,
        surfaces: display,
        totals,
        df,
        buckets,
        chunks: std::mem::take(chunks),
        n_docs,
    }
}

/// Whether surface `a` should be shown for a term rather than `b`: the more frequent one,
/// and between equally frequent ones the alphabetically (byte-wise) first.
pub(crate) fn prefer_surface(a: (u64, &str), b: (u64, &str)) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 < b.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_unique_and_unpack() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdef",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "abcdefghij",
            "abcdefghijklmn",
            "abcdefghijklmno",
            "é",
            "né",
            "naïve",
            "ab\0",
            "ab\0\0",
        ];
        let mut seen = std::collections::HashSet::new();
        for w in words {
            let k = short_key(w).unwrap();
            assert_eq!(unpack_short_key(k), w);
            assert!(seen.insert(k.0), "{w:?} collides");
        }
        assert!(short_key("abcdefghijklmnop").is_none());
        // The packing equals the plain byte layout.
        for w in words {
            let mut buf = [0u8; 16];
            buf[..w.len()].copy_from_slice(w.as_bytes());
            buf[15] = w.len() as u8;
            let want = u128::from_le_bytes(buf);
            let k = short_key(w).unwrap();
            assert_eq!(
                u128::from(k.0[0]) | (u128::from(k.0[1]) << 64),
                want,
                "{w:?}"
            );
        }
    }
}
