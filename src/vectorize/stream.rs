//! Vectorizing a corpus read as a stream ([`crate::corpus::Source`]), without holding its
//! texts.
//!
//! Two ways, both giving exactly the matrix of [`super::vectorize`] (the same bits):
//!
//! - **One pass, rows kept** ([`vectorize_source`]): each block of documents is analyzed and
//!   counted as it is read; only the counted rows are kept (8 bytes per distinct term of a
//!   document), and the matrix is built from them once the vocabulary is known, consuming the
//!   rows as it goes. Peak memory: the per-thread vocabulary tables, plus the matrix (12 bytes
//!   per stored entry: an f64 value and a u32 column), plus one block of text (≤ [`crate::corpus::BLOCK_BYTES`]); the size of
//!   the text as a whole does not count. This is what `vectorize`, `fit` and `sweep` use.
//! - **Two passes, rows streamed** ([`Vocabulary::learn`], then [`RowStreamer`]): the first
//!   pass counts only document frequencies and totals (memory: the vocabulary); the second
//!   reads the documents again and turns each block into CSR rows ([`RowBlock`]) in document
//!   order, analyzed in parallel within the block. Nothing grows with the number of documents
//!   but their ids: a consumer such as a mini-batch solver takes the rows block by block and
//!   never needs X whole.
//!
//! ```no_run
//! # fn main() -> nmf_topics::Result<()> {
//! use nmf_topics::corpus::{CorpusOptions, Source};
//! use nmf_topics::text::{Analyzer, AnalyzerConfig};
//! use nmf_topics::vectorize::{RowStreamer, VectorizeOptions, Vocabulary};
//!
//! let source = Source::open(&["corpus.jsonl".into()], &CorpusOptions::default())?;
//! let analyzer = Analyzer::new(&AnalyzerConfig::default())?;
//! // Pass 1: the vocabulary (columns, df, idf).
//! let (vocabulary, corpus) =
//!     Vocabulary::learn(source, &analyzer, &VectorizeOptions::default(), &mut |_| {})?;
//! // Pass 2: rows block by block, in document order.
//! let rows = RowStreamer::new(&vocabulary, &analyzer);
//! rows.stream(&corpus, |block| {
//!     // rows block.first .. block.first + block.rows(), CSR in block.indptr/indices/data
//!     Ok(())
//! })?;
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use crate::matrix::{Idx, Matrix};
use rayon::prelude::*;

use super::count::{short_key, Counter, Counts, ShortKey, WordMap};
use super::{
    from_counts, vocabulary_of, weigh_row, Columns, DocTermMatrix, Term, VectorizeOptions,
};
use super::{idf_value, VectorizeSummary, Weighting};
use crate::corpus::{Document, Source, StreamedCorpus, Texts};
use crate::kernels::CsrRef;
use crate::nmf::stream::RowBlocks;
use crate::text::{Analyzer, Scratch};
use crate::{Error, Result};

/// The columns of a matrix, fixed by a first pass over the documents: the kept terms (in column
/// order) with their document frequencies, the idf, and the lookup from term to column.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    /// Column descriptions, in column order (sorted by term).
    pub terms: Vec<Term>,
    /// The idf of each column when the weighting uses one.
    pub idf: Option<Vec<f64>>,
    /// Number of documents of the first pass.
    pub n_docs: usize,
    /// Distinct terms before the document-frequency and max-features filters.
    pub terms_before_filters: usize,
    opts: VectorizeOptions,
    column: HashMap<Box<str>, u32, rustc_hash::FxBuildHasher>,
    /// With hashing: bucket → column.
    col_of_bucket: HashMap<u32, u32, rustc_hash::FxBuildHasher>,
}

impl Vocabulary {
    /// A vocabulary of the given columns (sorted by term, as the vectorizer makes them).
    pub(crate) fn new(
        terms: Vec<Term>,
        n_docs: usize,
        opts: &VectorizeOptions,
        terms_before_filters: usize,
    ) -> Result<Self> {
        let idf = (opts.weighting == Weighting::Tfidf).then(|| {
            terms
                .iter()
                .map(|t| idf_value(n_docs, t.df, opts.smooth_idf))
                .collect::<Vec<f64>>()
        });
        let mut column: HashMap<Box<str>, u32, rustc_hash::FxBuildHasher> = HashMap::default();
        column.reserve(terms.len());
        let mut col_of_bucket: HashMap<u32, u32, rustc_hash::FxBuildHasher> = HashMap::default();
        for (i, t) in terms.iter().enumerate() {
            if column.insert(t.stem.as_str().into(), i as u32).is_some() {
                return Err(Error::input(format!(
                    "the vocabulary lists the term '{}' twice",
                    t.stem
                )));
            }
            if let Some(h) = opts.hash {
                if col_of_bucket
                    .insert(h.bucket(&t.stem).0, i as u32)
                    .is_some()
                {
                    return Err(Error::input(format!(
                        "the hashed vocabulary has two columns for the hash of '{}'",
                        t.stem
                    )));
                }
            }
        }
        Ok(Vocabulary {
            terms,
            idf,
            n_docs,
            terms_before_filters,
            opts: opts.clone(),
            column,
            col_of_bucket,
        })
    }

    /// The first pass of the two-pass way (see the module docs): reads every document of
    /// `source` once, counting document frequencies and totals only, and applies the
    /// vocabulary rules of [`super::vectorize`]. `progress` is called with the number of
    /// documents read after each block. Returns the vocabulary and the read corpus (ids,
    /// labels, warnings), which [`RowStreamer::stream`] reads again.
    ///
    /// Errors: those of [`Source::scan`] and of [`super::vectorize`].
    pub fn learn(
        source: Source,
        analyzer: &Analyzer,
        opts: &VectorizeOptions,
        progress: &mut dyn FnMut(usize),
    ) -> Result<(Vocabulary, StreamedCorpus)> {
        opts.check()?;
        let (counts, corpus) = count_pass(source, analyzer, false, opts.hash, progress)?;
        let (vocabulary, _) = vocabulary_of(&counts, opts)?;
        Ok((vocabulary, corpus))
    }

    /// The lookup of the columns of a matrix's `terms` (as `vectorize` made them with `opts`):
    /// by stem, or by hash with [`VectorizeOptions::hash`]. There are no document counts (the
    /// idf is not meaningful).
    ///
    /// Errors ([`Error::Input`]): a term listed twice, two terms of one hash bucket.
    pub fn of_terms(terms: &[Term], opts: &VectorizeOptions) -> Result<Self> {
        Vocabulary::new(terms.to_vec(), 0, opts, terms.len())
    }

    /// The column of an analyzed term (a stem, or stems joined by spaces), if it has one:
    /// its entry in the vocabulary, or with hashing the column of its bucket.
    pub fn column(&self, term: &str) -> Option<usize> {
        self.signed_column(term).map(|c| c.0)
    }

    /// [`Vocabulary::column`], and whether the term's count is subtracted (hashing with
    /// alternate signs, see [`super::hashing`]).
    pub fn signed_column(&self, term: &str) -> Option<(usize, bool)> {
        match self.opts.hash {
            None => self.column.get(term).map(|&c| (c as usize, false)),
            Some(h) => {
                let (b, negative) = h.bucket(term);
                self.col_of_bucket.get(&b).map(|&c| (c as usize, negative))
            }
        }
    }

    /// The number of stored entries of the whole matrix: the sum of the columns' document
    /// frequencies (each document holds a term once).
    pub fn nnz(&self) -> usize {
        self.terms.iter().map(|t| t.df).sum()
    }

    /// The vectorizing options the vocabulary was made with.
    pub fn options(&self) -> &VectorizeOptions {
        &self.opts
    }
}

/// The one-pass way (see the module docs): reads `source` once, analyzing and counting each
/// block as it arrives, and builds the weighted matrix. `progress` is called with the number of
/// documents read after each block. The matrix's documents are the corpus' ids and labels
/// (moved out of the returned [`StreamedCorpus`], whose `documents` is then empty).
///
/// Errors: those of [`Source::scan`] and of [`super::vectorize`].
pub fn vectorize_source(
    source: Source,
    analyzer: &Analyzer,
    opts: &VectorizeOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<(DocTermMatrix, VectorizeSummary, StreamedCorpus)> {
    count_source(source, analyzer, opts, progress)?.into_matrix()
}

/// The first half of [`vectorize_source`]: reads and counts `source` once, keeping the counted
/// rows, and fixes the vocabulary. The rows can then become the matrix
/// ([`CountedCorpus::into_matrix`]) or be weighed block by block without the matrix ever being
/// whole ([`CountedCorpus::into_row_blocks`]: `vectorize` writes matrix.mtx so).
///
/// Errors: those of [`Source::scan`] and of [`super::vectorize`].
pub fn count_source(
    source: Source,
    analyzer: &Analyzer,
    opts: &VectorizeOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<CountedCorpus> {
    opts.check()?;
    let (counts, corpus) = count_pass(source, analyzer, true, None, progress)?;
    let (vocabulary, columns) = vocabulary_of(&counts, opts)?;
    Ok(CountedCorpus {
        vocabulary,
        corpus,
        counts,
        columns,
    })
}

/// Reads every document of `source` once through a [`Counter`] (keeping the counted rows when
/// `keep_rows`), calling `progress` with the documents read after each block: the counts and
/// the read corpus.
fn count_pass(
    source: Source,
    analyzer: &Analyzer,
    keep_rows: bool,
    hash: Option<super::HashFeatures>,
    progress: &mut dyn FnMut(usize),
) -> Result<(Counts, StreamedCorpus)> {
    let mut counter = Counter::new(analyzer, keep_rows, 1 << 14, hash);
    let corpus = source.scan(|first, docs| {
        counter.add(docs);
        progress(first + docs.len());
        Ok(())
    })?;
    Ok((counter.finish(), corpus))
}

/// A corpus read and counted once ([`count_source`]): its vocabulary, its documents, and the
/// counted rows (8 bytes per distinct term of a document).
pub struct CountedCorpus {
    /// The columns.
    pub vocabulary: Vocabulary,
    /// The documents: ids, labels, warnings, and the means to read them again.
    pub corpus: StreamedCorpus,
    counts: Counts,
    columns: Columns,
}

impl CountedCorpus {
    /// Number of documents left without any term by the vocabulary.
    pub fn empty_documents(&self) -> usize {
        let columns = &self.columns;
        self.counts
            .chunks
            .par_iter()
            .map(|chunk| {
                let mut at = 0usize;
                let mut empty = 0usize;
                let (mut out, mut signed) = (Vec::new(), Vec::new());
                for &len in &chunk.row_len {
                    let row = &chunk.entries[at..at + len as usize];
                    at += len as usize;
                    columns.map_row(row, &mut out, &mut signed);
                    empty += usize::from(out.is_empty());
                }
                empty
            })
            .sum()
    }

    /// The weighted matrix (the rows are consumed as it is built, so the two are not held
    /// whole together); the corpus' ids and labels move into it.
    pub fn into_matrix(self) -> Result<(DocTermMatrix, VectorizeSummary, StreamedCorpus)> {
        let CountedCorpus {
            vocabulary,
            mut corpus,
            counts,
            ..
        } = self;
        let documents = std::mem::take(&mut corpus.documents);
        let (dtm, summary) = from_counts(counts, documents, &vocabulary.opts)?;
        Ok((dtm, summary, corpus))
    }

    /// The weighted rows handed to `f` block by block in document order (the rows of
    /// [`CountedCorpus::into_matrix`], bit for bit), the counted rows freed as they go.
    /// Returns the vocabulary, the corpus and the number of documents without any term.
    pub fn into_row_blocks(
        self,
        mut f: impl FnMut(RowBlock) -> Result<()>,
    ) -> Result<(Vocabulary, StreamedCorpus, usize)> {
        let CountedCorpus {
            vocabulary,
            corpus,
            counts,
            columns,
        } = self;
        // Rows gathered into blocks of about ROW_BLOCK_ENTRIES entries.
        const ROW_BLOCK_ENTRIES: usize = 1 << 18;
        let mut empty = 0usize;
        let mut pending = RowBlock {
            first: 0,
            indptr: vec![0],
            indices: Vec::new(),
            data: Vec::new(),
        };
        super::weigh_groups(
            counts,
            &columns,
            vocabulary.idf.as_deref(),
            &vocabulary.opts,
            &mut |lens, indices, data| {
                for n in lens {
                    empty += usize::from(n == 0);
                    let last = pending.indptr[pending.indptr.len() - 1];
                    pending.indptr.push(last + n);
                }
                pending.indices.extend_from_slice(&indices);
                pending.data.extend_from_slice(&data);
                if pending.indices.len() >= ROW_BLOCK_ENTRIES {
                    let next = RowBlock {
                        first: pending.first + pending.rows(),
                        indptr: vec![0],
                        indices: Vec::new(),
                        data: Vec::new(),
                    };
                    f(std::mem::replace(&mut pending, next))?;
                }
                Ok(())
            },
        )?;
        if pending.rows() > 0 {
            f(pending)?;
        }
        Ok((vocabulary, corpus, empty))
    }
}

/// Rows `first .. first + rows()` of the matrix, in CSR form: row `first + i` has the columns
/// `indices[indptr[i]..indptr[i + 1]]` (increasing) with the weights `data[…]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RowBlock {
    /// The row of the block's first document.
    pub first: usize,
    /// Row starts, `rows() + 1` of them, from 0.
    pub indptr: Vec<usize>,
    /// Columns.
    pub indices: Vec<Idx>,
    /// Weights.
    pub data: Vec<f64>,
}

impl RowBlock {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// The block as a CSR matrix of `columns` columns.
    pub fn into_csr(self, columns: usize) -> Result<Matrix> {
        let rows = self.rows();
        Matrix::try_new((rows, columns), self.indptr, self.indices, self.data).map_err(
            |(_, _, _, e)| Error::Runtime(format!("internal error building a row block: {e}")),
        )
    }
}

/// The rows of a corpus analyzed and weighed again on every read ([`RowStreamer::stream`]):
/// the matrix as [`RowBlocks`], for a fit that never holds it whole
/// ([`crate::nmf::stream::fit_streamed`]).
pub struct TextRows<'a> {
    streamer: &'a RowStreamer<'a>,
    corpus: &'a StreamedCorpus,
}

impl<'a> TextRows<'a> {
    /// The rows of `corpus` (read once by the first pass of `streamer`'s vocabulary).
    pub fn new(streamer: &'a RowStreamer<'a>, corpus: &'a StreamedCorpus) -> Self {
        TextRows { streamer, corpus }
    }
}

impl RowBlocks for TextRows<'_> {
    fn shape(&self) -> (usize, usize) {
        (self.corpus.len(), self.streamer.vocab.terms.len())
    }

    fn for_each_block(&self, f: &mut dyn FnMut(usize, CsrRef<'_>) -> Result<bool>) -> Result<()> {
        let ncols = self.streamer.vocab.terms.len();
        let mut stopped = false;
        let read = self.streamer.stream(self.corpus, |block| {
            let x = CsrRef {
                nrows: block.rows(),
                ncols,
                indptr: &block.indptr,
                indices: &block.indices,
                data: &block.data,
            };
            if f(block.first, x)? {
                Ok(())
            } else {
                // Ends the reading; not an error of the caller's.
                stopped = true;
                Err(Error::Runtime("stopped".into()))
            }
        });
        match read {
            Err(_) if stopped => Ok(()),
            r => r,
        }
    }

    /// The documents at `rows`, fetched from their files a block at a time
    /// ([`Texts::for_each_block_of`]) and analyzed: no pass over the whole corpus, and no more
    /// than one block of their texts held at once.
    fn rows_at(&self, rows: &[usize]) -> Result<Matrix> {
        let (mut indptr, mut indices, mut data) = (vec![0usize], Vec::new(), Vec::new());
        self.corpus.for_each_block_of(rows, &mut |_, docs| {
            let block = self.streamer.block(0, docs);
            let base = indices.len();
            indptr.extend(block.indptr[1..].iter().map(|p| p + base));
            indices.extend_from_slice(&block.indices);
            data.extend_from_slice(&block.data);
            Ok(())
        })?;
        RowBlock {
            first: 0,
            indptr,
            indices,
            data,
        }
        .into_csr(self.streamer.vocab.terms.len())
    }
}

/// Marks a word without a column (dropped by the analyzer or not in the vocabulary).
const NO_COLUMN: u32 = u32::MAX;
/// Set in a cached column whose counts are subtracted (hashing with alternate signs).
const NEGATIVE: u32 = 1 << 31;

/// One thread's cache of word → column, and its row accumulator.
#[derive(Default)]
struct RowWorker {
    short: WordMap<ShortKey, u32>,
    long: WordMap<Box<str>, u32>,
    /// Count of each column in the current document (zero outside `touched`; signed sums
    /// with hashing).
    acc: Vec<i64>,
    /// Whether each column is in `touched`.
    listed: Vec<bool>,
    touched: Vec<u32>,
    scratch: Scratch,
}

impl RowWorker {
    /// Counts one occurrence of a packed column (with its [`NEGATIVE`] bit).
    #[inline]
    fn count(&mut self, packed: u32) {
        let col = packed & !NEGATIVE;
        if !self.listed[col as usize] {
            self.listed[col as usize] = true;
            self.touched.push(col);
        }
        self.acc[col as usize] += if packed & NEGATIVE != 0 { -1 } else { 1 };
    }

    /// The column of a word as segmented (without n-grams), cached.
    #[inline]
    fn word_column(&mut self, word: &str, vocab: &Vocabulary, analyzer: &Analyzer) -> u32 {
        if let Some(key) = short_key(word) {
            if let Some(&c) = self.short.get(&key) {
                return c;
            }
            let c = self.new_word(word, vocab, analyzer);
            self.short.insert(key, c);
            c
        } else {
            if let Some(&c) = self.long.get(word) {
                return c;
            }
            let c = self.new_word(word, vocab, analyzer);
            self.long.insert(word.into(), c);
            c
        }
    }

    #[cold]
    fn new_word(&mut self, word: &str, vocab: &Vocabulary, analyzer: &Analyzer) -> u32 {
        match analyzer.token_of_word(word, &mut self.scratch) {
            Some(token) => pack(vocab.signed_column(&analyzer.stem(token))),
            None => NO_COLUMN,
        }
    }
}

/// A column and its sign as cached: [`NO_COLUMN`], or the column with [`NEGATIVE`] set when
/// its counts are subtracted.
fn pack(c: Option<(usize, bool)>) -> u32 {
    match c {
        None => NO_COLUMN,
        Some((c, negative)) => c as u32 | if negative { NEGATIVE } else { 0 },
    }
}

/// The second pass of the two-pass way (see the module docs): turns blocks of documents into
/// weighted CSR rows against a fixed [`Vocabulary`], analyzing each block in parallel (each
/// thread caches the column of every word it has seen). The rows are those of
/// [`super::vectorize`] for the same documents, bit for bit, whatever the number of threads.
pub struct RowStreamer<'a> {
    vocab: &'a Vocabulary,
    analyzer: &'a Analyzer,
    workers: Vec<Mutex<RowWorker>>,
}

impl<'a> RowStreamer<'a> {
    /// A streamer for `vocab`, analyzing with `analyzer` (the one the vocabulary was learnt
    /// with).
    pub fn new(vocab: &'a Vocabulary, analyzer: &'a Analyzer) -> Self {
        let n = rayon::current_num_threads().max(1);
        let workers = (0..n)
            .map(|_| {
                Mutex::new(RowWorker {
                    acc: vec![0; vocab.terms.len()],
                    listed: vec![false; vocab.terms.len()],
                    ..RowWorker::default()
                })
            })
            .collect();
        RowStreamer {
            vocab,
            analyzer,
            workers,
        }
    }

    /// The rows of `docs`, the documents of rows `first..first + docs.len()`.
    pub fn block(&self, first: usize, docs: &[Document]) -> RowBlock {
        let chunk = docs.len().div_ceil(self.workers.len() * 8).clamp(1, 512);
        let parts: Vec<(Vec<usize>, Vec<Idx>, Vec<f64>)> = docs
            .par_chunks(chunk)
            .map(|chunk| self.rows_of(chunk))
            .collect();
        let mut indptr = Vec::with_capacity(docs.len() + 1);
        indptr.push(0);
        let total: usize = parts.iter().map(|p| p.1.len()).sum();
        let mut indices = Vec::with_capacity(total);
        let mut data = Vec::with_capacity(total);
        for (lens, ind, dat) in parts {
            for n in lens {
                indptr.push(indptr[indptr.len() - 1] + n);
            }
            indices.extend_from_slice(&ind);
            data.extend_from_slice(&dat);
        }
        RowBlock {
            first,
            indptr,
            indices,
            data,
        }
    }

    /// Rows of a few documents: entries per row, columns, weights.
    fn rows_of(&self, docs: &[Document]) -> (Vec<usize>, Vec<Idx>, Vec<f64>) {
        let slot = rayon::current_thread_index().unwrap_or(0) % self.workers.len();
        let mut guard = self.workers[slot].lock().unwrap_or_else(|p| p.into_inner());
        let w = &mut *guard;
        let (vocab, analyzer) = (self.vocab, self.analyzer);
        let mut lens = Vec::with_capacity(docs.len());
        let mut ind: Vec<Idx> = Vec::new();
        let mut dat: Vec<f64> = Vec::new();
        let mut cnt: Vec<u32> = Vec::new();
        for doc in docs {
            if analyzer.has_ngrams() {
                let mut scratch = std::mem::take(&mut w.scratch);
                analyzer.for_each_term(&doc.text, &mut scratch, |term, _| {
                    let c = pack(vocab.signed_column(term));
                    if c != NO_COLUMN {
                        w.count(c);
                    }
                });
                w.scratch = scratch;
            } else {
                analyzer.for_each_word(&doc.text, |word| {
                    let c = w.word_column(word, vocab, analyzer);
                    if c != NO_COLUMN {
                        w.count(c);
                    }
                });
            }
            w.touched.sort_unstable();
            let start = ind.len();
            cnt.clear();
            for &c in &w.touched {
                // A hashed column whose signed counts cancel is not stored.
                let v = std::mem::take(&mut w.acc[c as usize]);
                w.listed[c as usize] = false;
                if v != 0 {
                    ind.push(c as Idx);
                    cnt.push(u32::try_from(v.unsigned_abs()).unwrap_or(u32::MAX));
                }
            }
            w.touched.clear();
            dat.resize(ind.len(), 0.0);
            weigh_row(
                &ind[start..],
                &cnt,
                vocab.idf.as_deref(),
                &vocab.opts,
                &mut dat[start..],
            );
            lens.push(ind.len() - start);
        }
        (lens, ind, dat)
    }

    /// Reads `corpus` again ([`StreamedCorpus::for_each_block`]) and hands its rows to `f`
    /// block by block, in document order.
    ///
    /// Errors: those of `f` and of reading the corpus again; a corpus with another number of
    /// documents than the vocabulary's first pass ([`Error::Input`]).
    pub fn stream(
        &self,
        corpus: &StreamedCorpus,
        mut f: impl FnMut(RowBlock) -> Result<()>,
    ) -> Result<()> {
        if corpus.len() != self.vocab.n_docs {
            return Err(Error::input(format!(
                "the vocabulary was learnt from {} documents, but the corpus has {}",
                self.vocab.n_docs,
                corpus.len()
            )));
        }
        corpus.for_each_block(|first, docs| f(self.block(first, docs)))
    }
}
