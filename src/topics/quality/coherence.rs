//! Coherence of a topic's top words, from co-occurrence counts in the corpus, and topic
//! diversity.
//!
//! Every measure here scores a list of words (columns of X, best word first) by how often the
//! words occur together. The counts come from one of two sources:
//!
//! - **documents** ([`CoOccurrence::from_documents`]): a word occurs in a document when its
//!   entry of X is positive (binary per document, one pass over the rows of X). Counted on the
//!   columns, so with stemming "file" and "files" are one word. This is gensim's
//!   `p_boolean_document` estimate, the one its `u_mass` uses.
//! - **sliding windows** ([`CoOccurrence::from_windows`]): every window of `w` consecutive
//!   token positions of a document is a virtual document (gensim's `p_boolean_sliding_window`,
//!   which its `c_npmi` uses with w = 10); a document with at most `w` positions (an empty one
//!   included) is a single window. A word is in a window when one of its occurrences is.
//!
//! With N the number of documents (windows), D(a) the number containing word a, D(a, b) the
//! number containing both, P(·) = D(·)/N and ε = 10⁻¹² ([`EPSILON`], gensim's):
//!
//! ```text
//! UMass(t) = mean over i > j of  ln( (P(w_i, w_j) + ε) / P(w_j) )          (ordered pairs: w_j ranks above w_i)
//! NPMI(a, b) = ln( (P(a, b) + ε) / (P(a)·P(b)) ) / −ln( P(a, b) + ε )
//! NPMI(t)  = mean over all pairs i ≠ j of NPMI(w_i, w_j)                     (symmetric: the mean over i < j)
//! ```
//!
//! UMass is ≤ 0 up to ε (higher is better); NPMI lies in [−1, 1] (1: the words always occur
//! together, about 0: independent, −1: never together). Two cases gensim leaves undefined are
//! fixed here: a pair whose word (for UMass the conditioning word w_j) occurs nowhere contributes 0
//! (gensim's UMass does the same by catching the division by zero), and a pair occurring in every
//! document has NPMI 1 (gensim's formula would give −1 there, the ε making the numerator and the
//! denominator both ±10⁻¹²). A topic with fewer than two words has no coherence (`None`).
//!
//! **Difference from gensim's sliding window.** gensim's accumulator updates the window's word
//! set incrementally and drops the word at the window's left edge even when another occurrence
//! of it is still inside the window, so a word repeated within `w` tokens is undercounted
//! (for the tokens `a x a y z b` and w = 3 it counts `a` in 1 window of 4; it is in 3). The counts
//! here are the exact ones; on texts without such repeats both agree (the fixture test checks
//! both cases, see `tools/make_coherence_fixture.py`).
//!
//! References: D. Mimno et al., *Optimizing semantic coherence in topic models*, EMNLP 2011
//! (UMass); G. Bouma, *Normalized (pointwise) mutual information in collocation extraction*,
//! GSCL 2009; M. Röder, A. Both, A. Hinneburg, *Exploring the space of topic coherence
//! measures*, WSDM 2015 (the sliding window, gensim's pipeline); A. B. Dieng, F. J. R. Ruiz,
//! D. M. Blei, *Topic modeling in embedding spaces*, TACL 2020 (topic diversity).

use crate::matrix::Matrix;
use ndarray::ArrayView2;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::corpus::{Document, Texts};
use crate::kernels::CsrRef;
use crate::text::{Analyzer, Scratch};
use crate::vectorize::Term;
use crate::{Error, Result};

/// ε added to joint probabilities, as gensim's `direct_confirmation_measure.EPSILON`.
pub const EPSILON: f64 = 1e-12;
/// Words per topic scored by the coherence measures, unless told otherwise.
pub const DEFAULT_TOP_N: usize = 10;
/// Words per topic of [`topic_diversity`] (Dieng et al.'s 25).
pub const DIVERSITY_TOP_N: usize = 25;
/// The sliding window of gensim's `c_npmi`, in token positions.
pub const DEFAULT_WINDOW: usize = 10;

/// Marks a column that is not among the counted words.
const NONE: u32 = u32::MAX;

/// The `n` columns with the largest entries of each row of `h` (positive entries only), largest
/// first, ties broken by the lower column. These are the words the coherence measures score;
/// they do not depend on a relevance λ.
pub fn top_columns(h: ArrayView2<'_, f64>, n: usize) -> Vec<Vec<usize>> {
    h.outer_iter()
        .map(|row| {
            let mut cols: Vec<usize> = (0..row.len())
                .filter(|&j| row[j] > 0.0 && row[j].is_finite())
                .collect();
            let by_weight = |a: &usize, b: &usize| row[*b].total_cmp(&row[*a]).then(a.cmp(b));
            if cols.len() > n {
                cols.select_nth_unstable_by(n, by_weight);
                cols.truncate(n);
            }
            cols.sort_by(by_weight);
            cols
        })
        .collect()
}

/// Occurrence and co-occurrence counts of a set of words (columns) over documents or windows.
#[derive(Debug, Clone, PartialEq)]
pub struct CoOccurrence {
    /// N: documents (or windows) counted.
    pub total: u64,
    /// Column → index into `counts`, [`NONE`] for columns not counted.
    local: Vec<u32>,
    /// D(a) per counted word.
    counts: Vec<u64>,
    /// D(a, b), r × r, filled for a < b (local indices).
    pairs: Vec<u64>,
}

/// The counted words of one document into `present` (cleared first): the local index of each
/// column with a positive entry that the table counts, once each.
fn present_words(
    local: &[u32],
    entries: impl Iterator<Item = (usize, f64)>,
    present: &mut Vec<u32>,
) {
    present.clear();
    for (j, v) in entries {
        let l = local[j];
        if l != NONE && v > 0.0 && !present.contains(&l) {
            present.push(l);
        }
    }
}

impl CoOccurrence {
    /// A table for the distinct columns among `words` (each < `m`).
    fn empty(m: usize, words: &[Vec<usize>]) -> Self {
        let mut local = vec![NONE; m];
        let mut r = 0u32;
        for &c in words.iter().flatten() {
            if local[c] == NONE {
                local[c] = r;
                r += 1;
            }
        }
        let r = r as usize;
        CoOccurrence {
            total: 0,
            local,
            counts: vec![0; r],
            pairs: vec![0; r * r],
        }
    }

    /// Number of distinct words counted.
    pub fn words(&self) -> usize {
        self.counts.len()
    }

    /// Adds one document (window) holding the distinct local words `present`, `times` times.
    fn add(&mut self, present: &[u32], times: u64) {
        let r = self.counts.len();
        for (i, &a) in present.iter().enumerate() {
            self.counts[a as usize] += times;
            for &b in &present[i + 1..] {
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                self.pairs[lo as usize * r + hi as usize] += times;
            }
        }
    }

    /// Adds the counts of `other` (same words).
    fn merge(&mut self, other: &CoOccurrence) {
        self.total += other.total;
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        for (a, b) in self.pairs.iter_mut().zip(&other.pairs) {
            *a += b;
        }
    }

    /// The table of the columns in `words` (each < `m`) before any document is counted; a
    /// corpus read in blocks is then counted by [`CoOccurrence::add_documents`], with the
    /// counts [`CoOccurrence::from_documents`] gives for the whole matrix.
    ///
    /// Errors ([`Error::Input`]): a column index ≥ `m`.
    pub fn for_words(m: usize, words: &[Vec<usize>]) -> Result<Self> {
        check_columns(words, m)?;
        Ok(Self::empty(m, words))
    }

    /// Counts the rows of `x`, each a document (a word occurs in a document when its entry is
    /// positive), as [`CoOccurrence::from_documents`] does.
    ///
    /// # Panics
    /// If `x` has other columns than the table was made for.
    pub fn add_documents(&mut self, x: CsrRef<'_>) {
        assert_eq!(x.ncols, self.local.len(), "CoOccurrence: columns");
        let mut present: Vec<u32> = Vec::new();
        for i in 0..x.nrows {
            let (cols, vals) = x.row(i);
            present_words(
                &self.local,
                cols.iter().map(|&c| c as usize).zip(vals.iter().copied()),
                &mut present,
            );
            self.total += 1;
            self.add(&present, 1);
        }
    }

    /// Whether every column of `words` is counted.
    pub fn counts_words(&self, words: &[Vec<usize>]) -> bool {
        words
            .iter()
            .flatten()
            .all(|&c| self.local.get(c).is_some_and(|&l| l != NONE))
    }

    /// Document co-occurrence of the columns in `words` over the rows of `x` (a word occurs in
    /// a document when its entry is positive). One pass over the stored entries, in parallel
    /// over fixed blocks of rows (integer counts, so the result does not depend on the threads).
    ///
    /// Errors ([`Error::Input`]): a column index ≥ the number of columns of `x`.
    pub fn from_documents(x: &Matrix, words: &[Vec<usize>]) -> Result<Self> {
        let m = x.cols();
        check_columns(words, m)?;
        let csr_copy;
        let x = if x.is_csr() {
            x
        } else {
            csr_copy = x.to_csr();
            &csr_copy
        };
        let base = Self::empty(m, words);
        let n = x.rows();
        const BLOCK: usize = 4096;
        let empty = || CoOccurrence {
            total: 0,
            local: Vec::new(),
            counts: vec![0; base.counts.len()],
            pairs: vec![0; base.pairs.len()],
        };
        // One table per thread, the blocks folded into it (integer counts: any grouping gives
        // the same result), instead of one table per block held until all are merged.
        let summed = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .fold(empty, |mut part, b| {
                let mut present: Vec<u32> = Vec::new();
                for i in b * BLOCK..((b + 1) * BLOCK).min(n) {
                    present.clear();
                    if let Some(row) = x.outer_view(i) {
                        present_words(&base.local, row.iter().map(|(j, &v)| (j, v)), &mut present);
                    }
                    part.total += 1;
                    part.add(&present, 1);
                }
                part
            })
            .reduce_with(|mut a, b| {
                a.merge(&b);
                a
            });
        let mut out = base;
        if let Some(part) = summed {
            out.merge(&part);
        }
        Ok(out)
    }

    /// Boolean sliding-window co-occurrence of the columns in `words` over the token streams:
    /// every run of `window` consecutive positions of a document is one virtual document, a
    /// document with at most `window` positions is one. Exact counts (see the module
    /// documentation for the difference from gensim). Parallel over documents in fixed blocks.
    ///
    /// The windows are not enumerated one by one: between two consecutive window starts at
    /// which a counted word enters or leaves, the window's word set is constant, so each run of
    /// identical windows is added once with its length. The cost is linear in the number of
    /// occurrences of the counted words, not in the number of windows.
    ///
    /// Errors ([`Error::Input`]): a window of 0, a column index ≥ the streams' vocabulary size.
    pub fn from_windows(
        streams: &TokenStreams,
        words: &[Vec<usize>],
        window: usize,
    ) -> Result<Self> {
        if window == 0 {
            return Err(Error::input(
                "the coherence window must be at least 1 token",
            ));
        }
        check_columns(words, streams.vocabulary)?;
        let base = Self::empty(streams.vocabulary, words);
        let n = streams.documents();
        const BLOCK: usize = 1024;
        let blocks: Vec<CoOccurrence> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let mut part = CoOccurrence {
                    total: 0,
                    local: Vec::new(),
                    counts: vec![0; base.counts.len()],
                    pairs: vec![0; base.pairs.len()],
                };
                let mut scan = WindowScan::new(base.counts.len());
                for d in b * BLOCK..((b + 1) * BLOCK).min(n) {
                    scan.document(streams, d, &base.local, window, &mut part);
                }
                part
            })
            .collect();
        let mut out = base;
        for part in &blocks {
            out.merge(part);
        }
        Ok(out)
    }

    /// D(a) for column `a` (0 if `a` is not counted).
    pub fn count(&self, a: usize) -> u64 {
        match self.local.get(a) {
            Some(&l) if l != NONE => self.counts[l as usize],
            _ => 0,
        }
    }

    /// D(a, b) for columns `a`, `b` (D(a) when a = b; 0 if either is not counted).
    pub fn joint(&self, a: usize, b: usize) -> u64 {
        let (Some(&la), Some(&lb)) = (self.local.get(a), self.local.get(b)) else {
            return 0;
        };
        if la == NONE || lb == NONE {
            return 0;
        }
        if la == lb {
            return self.counts[la as usize];
        }
        let (lo, hi) = if la < lb { (la, lb) } else { (lb, la) };
        self.pairs[lo as usize * self.counts.len() + hi as usize]
    }

    /// UMass of one word list (best word first): the mean over i > j of
    /// ln((P(w_i, w_j) + ε) / P(w_j)); a pair whose w_j occurs nowhere contributes 0. `None` for
    /// fewer than two words.
    pub fn umass(&self, words: &[usize]) -> Option<f64> {
        if words.len() < 2 || self.total == 0 {
            return None;
        }
        let n = self.total as f64;
        let mut sum = 0.0;
        let mut pairs = 0usize;
        for i in 1..words.len() {
            for j in 0..i {
                let star = self.count(words[j]);
                if star > 0 {
                    let joint = self.joint(words[i], words[j]) as f64 / n;
                    sum += ((joint + EPSILON) / (star as f64 / n)).ln();
                }
                pairs += 1;
            }
        }
        Some(sum / pairs as f64)
    }

    /// NPMI(a, b) = ln((P(a,b) + ε)/(P(a)·P(b))) / −ln(P(a,b) + ε); 0 when a or b occurs
    /// nowhere, 1 when both occur everywhere.
    pub fn npmi_pair(&self, a: usize, b: usize) -> f64 {
        let n = self.total as f64;
        let (ca, cb) = (self.count(a), self.count(b));
        if ca == 0 || cb == 0 || self.total == 0 {
            return 0.0;
        }
        let joint = self.joint(a, b);
        if joint == self.total {
            return 1.0;
        }
        let pj = joint as f64 / n;
        let pmi = ((pj + EPSILON) / ((ca as f64 / n) * (cb as f64 / n))).ln();
        pmi / -(pj + EPSILON).ln()
    }

    /// NPMI of one word list: the mean of [`CoOccurrence::npmi_pair`] over all pairs. `None`
    /// for fewer than two words.
    pub fn npmi(&self, words: &[usize]) -> Option<f64> {
        if words.len() < 2 || self.total == 0 {
            return None;
        }
        let mut sum = 0.0;
        let mut pairs = 0usize;
        for i in 1..words.len() {
            for j in 0..i {
                sum += self.npmi_pair(words[i], words[j]);
                pairs += 1;
            }
        }
        Some(sum / pairs as f64)
    }
}

fn check_columns(words: &[Vec<usize>], m: usize) -> Result<()> {
    if let Some(&c) = words.iter().flatten().find(|&&c| c >= m) {
        return Err(Error::input(format!(
            "word column {c} is out of range: the matrix has {m} columns"
        )));
    }
    Ok(())
}

/// The state of the window scan of one document, reused between documents.
struct WindowScan {
    /// How many occurrences of each local word the current window holds.
    inside: Vec<u32>,
    /// The distinct local words of the current window.
    present: Vec<u32>,
    /// (position, local word) of the counted occurrences of the document.
    hits: Vec<(u32, u32)>,
}

impl WindowScan {
    fn new(r: usize) -> Self {
        WindowScan {
            inside: vec![0; r],
            present: Vec::new(),
            hits: Vec::new(),
        }
    }

    fn enter(&mut self, l: u32) {
        if self.inside[l as usize] == 0 {
            self.present.push(l);
        }
        self.inside[l as usize] += 1;
    }

    fn leave(&mut self, l: u32) {
        self.inside[l as usize] -= 1;
        if self.inside[l as usize] == 0 {
            let at = self.present.iter().position(|&p| p == l).expect("present");
            self.present.swap_remove(at);
        }
    }

    /// Adds the windows of document `d` to `out`.
    fn document(
        &mut self,
        s: &TokenStreams,
        d: usize,
        local: &[u32],
        w: usize,
        out: &mut CoOccurrence,
    ) {
        let len = s.lengths[d] as usize;
        let range = s.starts[d]..s.starts[d + 1];
        self.hits.clear();
        for e in range {
            let l = local[s.columns[e] as usize];
            if l != NONE {
                self.hits.push((s.positions[e], l));
            }
        }
        if len <= w {
            out.total += 1;
            self.present.clear();
            for i in 0..self.hits.len() {
                let l = self.hits[i].1;
                if !self.present.contains(&l) {
                    self.present.push(l);
                }
            }
            out.add(&self.present, 1);
            self.present.clear();
            return;
        }
        let starts = (len - w + 1) as u64; // window starts p = 0..=len−w
        out.total += starts;
        // An occurrence at position q is inside the windows p ∈ [q−w+1, q] ∩ [0, len−w]: it
        // enters at max(0, q−w+1) and leaves at min(q, len−w) + 1. Both sequences are sorted
        // by q, so the events are merged in order of p.
        let hits = std::mem::take(&mut self.hits);
        let enter_at = |q: u32| (q as u64 + 1).saturating_sub(w as u64);
        let leave_at = |q: u32| (q as u64).min(starts - 1) + 1;
        let (mut ie, mut il) = (0usize, 0usize);
        let mut p = 0u64;
        while il < hits.len() {
            let next_enter = hits.get(ie).map(|h| enter_at(h.0)).unwrap_or(u64::MAX);
            let next_leave = leave_at(hits[il].0);
            let next = next_enter.min(next_leave);
            if next > p && !self.present.is_empty() {
                out.add(&self.present, next - p);
            }
            p = next;
            // leaves first: an occurrence leaving at p is not in window p
            while il < hits.len() && leave_at(hits[il].0) == p {
                self.leave(hits[il].1);
                il += 1;
            }
            while ie < hits.len() && enter_at(hits[ie].0) == p {
                self.enter(hits[ie].1);
                ie += 1;
            }
        }
        debug_assert!(self.present.is_empty());
        self.hits = hits;
    }
}

/// The analyzed documents as streams of column ids, for the sliding-window coherence.
///
/// Built by re-analyzing the documents with the analyzer that built the matrix
/// ([`TokenStreams::from_documents`]): each kept token (after lowercasing, the length, number
/// and stopword filters) is one position; a token whose term (stem) is a column of the matrix
/// is stored as (position, column), the others (terms the vocabulary filters removed) only take
/// their position, as the "none" token of gensim's windows. With n-grams, an n-gram column is
/// stored at the position of its last token. Memory: 8 bytes per stored token (about 20 MB for
/// the 64k-document Debian corpus); the matrix itself does not keep token order, so this one
/// extra analysis pass (parallel, like the vectorizer's) is the cheapest exact source of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenStreams {
    /// Number of columns of the matrix the column ids refer to.
    vocabulary: usize,
    /// Per document: its first entry (plus one final end).
    starts: Vec<usize>,
    /// Per document: its number of token positions.
    lengths: Vec<u32>,
    /// Per entry: the position within its document.
    positions: Vec<u32>,
    /// Per entry: the column.
    columns: Vec<u32>,
}

impl TokenStreams {
    /// Re-analyzes `docs` with `analyzer` and maps their terms to the columns of `terms` (by
    /// stem), in parallel over fixed blocks of documents (the result does not depend on the
    /// number of threads).
    ///
    /// Errors ([`Error::Input`]): a vocabulary that lists a term twice.
    pub fn from_documents(docs: &[Document], analyzer: &Analyzer, terms: &[Term]) -> Result<Self> {
        Self::from_texts(&docs, analyzer, terms, None)
    }

    /// [`TokenStreams::from_documents`] for texts held in any way ([`Texts`]: read again block
    /// by block from the inputs, so no text is held whole), storing only the columns marked in
    /// `keep` (all when `None`). The other tokens keep their positions, so the window
    /// coherence of words among the kept columns is the same: 8 bytes per kept token and 4 per
    /// document.
    ///
    /// Errors ([`Error::Input`]): a vocabulary that lists a term twice, a `keep` of another
    /// length than `terms`; the errors of reading the texts again.
    pub fn from_texts(
        texts: &dyn Texts,
        analyzer: &Analyzer,
        terms: &[Term],
        keep: Option<&[bool]>,
    ) -> Result<Self> {
        if keep.is_some_and(|k| k.len() != terms.len()) {
            return Err(Error::input(format!(
                "the columns to keep are {}, but there are {} terms",
                keep.map_or(0, <[bool]>::len),
                terms.len()
            )));
        }
        let mut column: FxHashMap<&str, u32> = FxHashMap::default();
        column.reserve(terms.len());
        for (i, t) in terms.iter().enumerate() {
            if column.insert(t.stem.as_str(), i as u32).is_some() {
                return Err(Error::input(format!(
                    "the vocabulary lists the term '{}' twice",
                    t.stem
                )));
            }
        }
        if let Some(keep) = keep {
            column.retain(|_, c| keep[*c as usize]);
        }
        Self::from_texts_with(texts, None, analyzer, terms.len(), &|term| {
            column.get(term).copied()
        })
    }

    /// [`TokenStreams::from_texts`] with the column of each term given by `column` (`None`:
    /// the term takes its position only), for `vocabulary` columns: a hashed vocabulary
    /// ([`crate::vectorize::Vocabulary::column`]) maps terms without listing them. With
    /// `rows`, only those documents are read (fetched by row), in that order.
    ///
    /// Errors: those of reading the texts again.
    pub fn from_texts_with(
        texts: &dyn Texts,
        rows: Option<&[usize]>,
        analyzer: &Analyzer,
        vocabulary: usize,
        column: &(dyn Fn(&str) -> Option<u32> + Sync),
    ) -> Result<Self> {
        const BLOCK: usize = 256;
        let mut parts: Vec<TokenStreams> = Vec::new();
        let mut block = |_: usize, docs: &[Document]| -> Result<()> {
            parts.extend(
                docs.par_chunks(BLOCK)
                    .map(|chunk| {
                        let mut part = TokenStreams::default();
                        let mut scratch = Scratch::default();
                        for doc in chunk {
                            part.starts.push(part.columns.len());
                            let mut pos: u32 = 0;
                            analyzer.for_each_term(&doc.text, &mut scratch, |term, _| {
                                // n-grams (joined by a space) end at the token just emitted
                                let at = if term.contains(' ') {
                                    pos.saturating_sub(1)
                                } else {
                                    pos += 1;
                                    pos - 1
                                };
                                if let Some(c) = column(term) {
                                    part.positions.push(at);
                                    part.columns.push(c);
                                }
                            });
                            part.lengths.push(pos);
                        }
                        part
                    })
                    .collect::<Vec<_>>(),
            );
            Ok(())
        };
        match rows {
            Some(rows) => texts.for_each_block_of(rows, &mut block)?,
            None => texts.for_each_block(&mut block)?,
        }
        Ok(Self::concat(vocabulary, parts))
    }

    /// Streams from documents given directly as lists of column ids, one position each (for
    /// tests and for callers with their own tokenization). Errors: a column ≥ `vocabulary`.
    pub fn from_columns(vocabulary: usize, docs: &[Vec<usize>]) -> Result<Self> {
        let mut s = TokenStreams {
            vocabulary,
            ..TokenStreams::default()
        };
        for doc in docs {
            s.starts.push(s.columns.len());
            for (p, &c) in doc.iter().enumerate() {
                if c >= vocabulary {
                    return Err(Error::input(format!(
                        "token column {c} is out of range: the vocabulary has {vocabulary} terms"
                    )));
                }
                s.positions.push(p as u32);
                s.columns.push(c as u32);
            }
            s.lengths.push(doc.len() as u32);
        }
        s.starts.push(s.columns.len());
        Ok(s)
    }

    fn concat(vocabulary: usize, parts: Vec<TokenStreams>) -> Self {
        let total: usize = parts.iter().map(|p| p.columns.len()).sum();
        let docs: usize = parts.iter().map(|p| p.lengths.len()).sum();
        let mut s = TokenStreams {
            vocabulary,
            starts: Vec::with_capacity(docs + 1),
            lengths: Vec::with_capacity(docs),
            positions: Vec::with_capacity(total),
            columns: Vec::with_capacity(total),
        };
        for p in parts {
            let offset = s.columns.len();
            s.starts.extend(p.starts.iter().map(|&v| v + offset));
            s.lengths.extend_from_slice(&p.lengths);
            s.positions.extend_from_slice(&p.positions);
            s.columns.extend_from_slice(&p.columns);
        }
        s.starts.push(s.columns.len());
        s
    }

    /// Number of documents.
    pub fn documents(&self) -> usize {
        self.lengths.len()
    }

    /// Number of token positions over all documents.
    pub fn positions(&self) -> u64 {
        self.lengths.iter().map(|&l| l as u64).sum()
    }

    /// Number of stored (in-vocabulary) tokens.
    pub fn stored(&self) -> usize {
        self.columns.len()
    }

    /// Size of the vocabulary the column ids refer to.
    pub fn vocabulary(&self) -> usize {
        self.vocabulary
    }
}

/// Per-topic coherence and its mean.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coherence {
    /// UMass per word list (`None` for fewer than two words).
    pub umass: Vec<Option<f64>>,
    /// NPMI per word list.
    pub npmi: Vec<Option<f64>>,
    /// Mean of the defined per-list UMass values.
    pub mean_umass: Option<f64>,
    /// Mean of the defined per-list NPMI values.
    pub mean_npmi: Option<f64>,
}

/// The mean of the defined values (`None` if there is none).
pub fn mean_defined(values: &[Option<f64>]) -> Option<f64> {
    let defined: Vec<f64> = values.iter().flatten().copied().collect();
    (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64)
}

/// UMass and NPMI of each list in `lists` from the counts `co`, each list cut to its first
/// `top_n` words.
pub fn coherence_from_counts(co: &CoOccurrence, lists: &[Vec<usize>], top_n: usize) -> Coherence {
    let cut = |l: &Vec<usize>| l[..l.len().min(top_n)].to_vec();
    let umass: Vec<Option<f64>> = lists.iter().map(|l| co.umass(&cut(l))).collect();
    let npmi: Vec<Option<f64>> = lists.iter().map(|l| co.npmi(&cut(l))).collect();
    Coherence {
        mean_umass: mean_defined(&umass),
        mean_npmi: mean_defined(&npmi),
        umass,
        npmi,
    }
}

/// Scores arbitrary word lists on the matrix `x` by document co-occurrence: UMass and NPMI
/// (see the module documentation for the formulas) of the first `top_n` words of each list
/// (column indices of `x`, best word first), and their means. This is what the fit's own topics
/// get ([`crate::topics::quality::evaluate`] with `top_n` = 10 for NPMI@10), so the topics of
/// another tool mapped onto the same columns can be compared on equal terms.
///
/// Errors ([`Error::Input`]): a column index out of range.
///
/// ```
/// use nmf_topics::topics::quality::score_word_lists;
/// use nmf_topics::matrix::Triplets;
/// // three documents over three words; words 0 and 1 always occur together
/// let mut t = Triplets::new((3, 3));
/// for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2)] {
///     t.add_triplet(i, j, 1.0);
/// }
/// let c = score_word_lists(&t.to_csr(), &[vec![0, 1], vec![0, 2]], 10).unwrap();
/// assert!((c.npmi[0].unwrap() - 1.0).abs() < 1e-9);
/// assert!(c.npmi[1].unwrap() < -0.9);
/// ```
pub fn score_word_lists(x: &Matrix, lists: &[Vec<usize>], top_n: usize) -> Result<Coherence> {
    let cut: Vec<Vec<usize>> = lists
        .iter()
        .map(|l| l[..l.len().min(top_n)].to_vec())
        .collect();
    let co = CoOccurrence::from_documents(x, &cut)?;
    Ok(coherence_from_counts(&co, &cut, top_n))
}

/// NPMI of the first `top_n` words of each list with sliding windows of `window` positions over
/// `streams` (gensim's `c_npmi` with exact window counts), per list and the mean.
///
/// Errors ([`Error::Input`]): a window of 0, a column out of range.
pub fn window_npmi(
    streams: &TokenStreams,
    lists: &[Vec<usize>],
    top_n: usize,
    window: usize,
) -> Result<(Vec<Option<f64>>, Option<f64>)> {
    let cut: Vec<Vec<usize>> = lists
        .iter()
        .map(|l| l[..l.len().min(top_n)].to_vec())
        .collect();
    let co = CoOccurrence::from_windows(streams, &cut, window)?;
    let per: Vec<Option<f64>> = cut.iter().map(|l| co.npmi(l)).collect();
    let mean = mean_defined(&per);
    Ok((per, mean))
}

/// Topic diversity (Dieng et al. 2020): the share of distinct words among all topics' top-`n`
/// lists, |⋃_t top_n(t)| / Σ_t |top_n(t)|, in (0, 1]; 1 when no word is shared. Topics with
/// fewer than `n` positive words contribute the words they have; `None` when no topic has any.
pub fn topic_diversity(lists: &[Vec<usize>], n: usize) -> Option<f64> {
    let mut all: Vec<usize> = lists
        .iter()
        .flat_map(|l| l[..l.len().min(n)].iter().copied())
        .collect();
    let total = all.len();
    if total == 0 {
        return None;
    }
    all.sort_unstable();
    all.dedup();
    Some(all.len() as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_blocks_of_rows_gives_the_whole_matrix_counts() {
        let mut t = Triplets::new((9, 6));
        for (i, j, v) in [
            (0, 0, 1.0),
            (0, 1, 2.0),
            (1, 1, 1.0),
            (2, 0, 0.5),
            (2, 3, 1.0),
            (3, 5, 1.0),
            (4, 0, 1.0),
            (4, 1, 1.0),
            (4, 3, 1.0),
            (6, 2, 1.0),
            (7, 1, 0.0),
            (8, 0, 3.0),
            (8, 3, 1.0),
        ] {
            t.add_triplet(i, j, v);
        }
        let x: Matrix = t.to_csr();
        let words = vec![vec![0, 1, 3], vec![3, 5]];
        let whole = CoOccurrence::from_documents(&x, &words).unwrap();
        let mut blocks = CoOccurrence::for_words(6, &words).unwrap();
        let ip = x.indptr();
        let ip = ip.raw_storage();
        for (r0, r1) in [(0, 4), (4, 5), (5, 9)] {
            let rebased: Vec<usize> = ip[r0..=r1].iter().map(|p| p - ip[r0]).collect();
            blocks.add_documents(CsrRef {
                nrows: r1 - r0,
                ncols: 6,
                indptr: &rebased,
                indices: &x.indices()[ip[r0]..ip[r1]],
                data: &x.data()[ip[r0]..ip[r1]],
            });
        }
        assert_eq!(blocks, whole);
        assert!(blocks.counts_words(&words));
        assert!(!blocks.counts_words(&[vec![2]]));
        assert!(CoOccurrence::for_words(6, &[vec![6]]).is_err());
    }
    use crate::matrix::Triplets;
    use ndarray::array;

    /// Binary matrix with the given documents (lists of columns).
    fn binary(docs: &[&[usize]], m: usize) -> Matrix {
        let mut t = Triplets::new((docs.len(), m));
        for (i, d) in docs.iter().enumerate() {
            for &j in *d {
                t.add_triplet(i, j, 0.5);
            }
        }
        t.to_csr()
    }

    #[test]
    fn top_columns_by_weight_then_column() {
        let h = array![[0.1, 0.5, 0.0, 0.5, 0.2], [0.0, 0.0, 0.0, 0.0, 0.0]];
        let top = top_columns(h.view(), 3);
        assert_eq!(top, vec![vec![1, 3, 4], vec![]]);
        assert_eq!(top_columns(h.view(), 10)[0], vec![1, 3, 4, 0]);
    }

    #[test]
    fn document_counts_are_binary() {
        // doc 0 holds word 0 twice (duplicate triplets are summed by sprs) and word 1
        let x = binary(&[&[0, 1], &[0], &[1, 2], &[]], 3);
        let co = CoOccurrence::from_documents(&x, &[vec![0, 1, 2]]).unwrap();
        assert_eq!(co.total, 4);
        assert_eq!((co.count(0), co.count(1), co.count(2)), (2, 2, 1));
        assert_eq!((co.joint(0, 1), co.joint(1, 0), co.joint(1, 2)), (1, 1, 1));
        assert_eq!(co.joint(0, 2), 0);
        assert_eq!(co.joint(2, 2), 1);
    }

    #[test]
    fn umass_and_npmi_by_hand() {
        // N = 4 documents: {a, b}, {a, b}, {a}, {c}
        let x = binary(&[&[0, 1], &[0, 1], &[0], &[2]], 3);
        let co = CoOccurrence::from_documents(&x, &[vec![0, 1, 2]]).unwrap();
        // UMass([a, b]) = ln((2/4 + ε) / (3/4)) = ln(2/3)
        let u = co.umass(&[0, 1]).unwrap();
        assert!((u - (2.0f64 / 3.0).ln()).abs() < 1e-11, "{u}");
        // order matters: UMass([b, a]) = ln((2/4 + ε) / (2/4)) ≈ 0
        assert!(co.umass(&[1, 0]).unwrap().abs() < 1e-11);
        // UMass([a, b, c]) = mean(ln(2/3), ln(ε/(3/4)), ln(ε/(2/4)))
        let want = ((2.0f64 / 3.0).ln() + (EPSILON / 0.75).ln() + (EPSILON / 0.5).ln()) / 3.0;
        assert!((co.umass(&[0, 1, 2]).unwrap() - want).abs() < 1e-9);
        // NPMI(a, b) = ln((1/2) / (3/4 · 1/2)) / −ln(1/2) = ln(4/3) / ln 2
        let want = (4.0f64 / 3.0).ln() / 2.0f64.ln();
        assert!((co.npmi_pair(0, 1) - want).abs() < 1e-11);
        assert!((co.npmi(&[0, 1]).unwrap() - want).abs() < 1e-11);
        // never together: ln(ε / (3/4 · 1/4)) / −ln ε, close to −1
        let never = (EPSILON / (0.75 * 0.25)).ln() / -EPSILON.ln();
        assert!((co.npmi_pair(0, 2) - never).abs() < 1e-12);
        assert!(never < -0.9);
        assert!(co.npmi(&[0]).is_none() && co.umass(&[]).is_none());
    }

    #[test]
    fn degenerate_pairs() {
        // a and b in every document: NPMI 1 (not gensim's −1); a word never seen: 0
        let x = binary(&[&[0, 1], &[0, 1]], 3);
        let co = CoOccurrence::from_documents(&x, &[vec![0, 1, 2]]).unwrap();
        assert_eq!(co.npmi_pair(0, 1), 1.0);
        assert_eq!(co.npmi_pair(0, 2), 0.0);
        // UMass: w* = 2 never occurs → that pair contributes 0
        assert_eq!(co.umass(&[0, 2]).unwrap(), (EPSILON / 1.0).ln());
        assert_eq!(co.umass(&[2, 0]).unwrap(), 0.0);
        assert!(CoOccurrence::from_documents(&x, &[vec![3]]).is_err());
    }

    /// Brute force: enumerate every window and its word set.
    fn brute_windows(docs: &[Vec<usize>], words: &[usize], w: usize) -> (u64, Vec<u64>, u64) {
        let (mut total, mut counts, mut both) = (0u64, vec![0u64; words.len()], 0u64);
        for d in docs {
            let wins: Vec<&[usize]> = if d.len() <= w {
                vec![d.as_slice()]
            } else {
                d.windows(w).collect()
            };
            for win in wins {
                total += 1;
                for (i, x) in words.iter().enumerate() {
                    if win.contains(x) {
                        counts[i] += 1;
                    }
                }
                if win.contains(&words[0]) && win.contains(&words[1]) {
                    both += 1;
                }
            }
        }
        (total, counts, both)
    }

    #[test]
    fn windows_match_brute_force() {
        // the example of the module documentation: a x a y z b, w = 3
        let s = TokenStreams::from_columns(6, &[vec![0, 1, 0, 2, 3, 4]]).unwrap();
        let co = CoOccurrence::from_windows(&s, &[vec![0, 4]], 3).unwrap();
        assert_eq!(
            (co.total, co.count(0), co.count(4), co.joint(0, 4)),
            (4, 3, 1, 0)
        );
        // pseudo-random documents, some shorter than the window, one empty
        let mut state = 12345u64;
        let mut next = |m: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let docs: Vec<Vec<usize>> = (0..40)
            .map(|i| {
                let len = if i == 7 { 0 } else { next(30) as usize };
                (0..len).map(|_| next(6) as usize).collect()
            })
            .collect();
        let s = TokenStreams::from_columns(6, &docs).unwrap();
        for w in [1, 2, 3, 5, 10, 40] {
            for (a, b) in [(0, 1), (2, 5), (3, 3)] {
                let co = CoOccurrence::from_windows(&s, &[vec![a, b]], w).unwrap();
                let (total, counts, both) = brute_windows(&docs, &[a, b], w);
                assert_eq!(co.total, total, "w={w}");
                assert_eq!((co.count(a), co.count(b)), (counts[0], counts[1]), "w={w}");
                assert_eq!(co.joint(a, b), both, "w={w} pair ({a},{b})");
            }
        }
        assert!(CoOccurrence::from_windows(&s, &[vec![0]], 0).is_err());
        assert!(TokenStreams::from_columns(2, &[vec![2]]).is_err());
    }

    #[test]
    fn streams_from_text_map_stems_to_columns() {
        use crate::text::{AnalyzerConfig, StopwordSpec};
        let cfg = AnalyzerConfig {
            stopwords: StopwordSpec::Language("english".into()),
            ..AnalyzerConfig::default()
        };
        let analyzer = Analyzer::new(&cfg).unwrap();
        let terms: Vec<Term> = ["file", "open"]
            .iter()
            .map(|s| Term {
                stem: s.to_string(),
                surface: s.to_string(),
                df: 1,
            })
            .collect();
        let doc = |t: &str| Document {
            id: "d".into(),
            label: None,
            text: t.into(),
            path: None,
        };
        // "the" is a stopword (no position); "files" stems to "file"; "quickly" is kept but
        // not a column (a position without an entry)
        let docs = [doc("Open the files quickly, open file"), doc("")];
        let s = TokenStreams::from_documents(&docs, &analyzer, &terms).unwrap();
        assert_eq!(s.documents(), 2);
        assert_eq!(s.lengths, vec![5, 0]);
        assert_eq!(s.positions, vec![0, 1, 3, 4]);
        assert_eq!(s.columns, vec![1, 0, 1, 0]);
        assert_eq!(s.positions(), 5);
    }

    #[test]
    fn diversity_counts_distinct_words() {
        assert_eq!(topic_diversity(&[vec![0, 1], vec![2, 3]], 25), Some(1.0));
        assert_eq!(topic_diversity(&[vec![0, 1], vec![1, 2]], 25), Some(0.75));
        assert_eq!(
            topic_diversity(&[vec![0, 1, 9], vec![1, 0, 8]], 2),
            Some(0.5)
        );
        assert_eq!(topic_diversity(&[vec![], vec![]], 25), None);
    }

    #[test]
    fn score_word_lists_cuts_and_checks() {
        let x = binary(&[&[0, 1], &[0, 1], &[0], &[2]], 3);
        let c = score_word_lists(&x, &[vec![0, 1, 2], vec![2]], 2).unwrap();
        let co = CoOccurrence::from_documents(&x, &[vec![0, 1]]).unwrap();
        assert_eq!(c.umass[0], co.umass(&[0, 1]));
        assert_eq!(c.npmi[1], None);
        assert_eq!(c.mean_npmi, c.npmi[0]);
        assert!(score_word_lists(&x, &[vec![5]], 2).is_err());
    }
}
