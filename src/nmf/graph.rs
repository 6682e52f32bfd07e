//! The document graph of graph-regularized NMF (`--solver gnmf`, [`super::gnmf`]): a
//! symmetric, non-negative affinity matrix S (documents × documents, nothing on the diagonal)
//! in CSR, with the degrees d_i = Σ_j S_ij, built one of two ways.
//!
//! # The cosine k-nearest-neighbour graph (`--graph knn:P`)
//! Cai et al.'s p-nearest-neighbour graph on the rows of X: document j is a neighbour of i
//! when it is among the P documents with the largest cosine similarity
//! `cos(x_i, x_j) = x_i·x_j / (‖x_i‖‖x_j‖)` to i (j ≠ i, similarity > 0, ties to the lower
//! row), and the graph links i and j when either is a neighbour of the other:
//!
//! ```text
//! S_ij = S_ji = w(i, j)   if j ∈ N_P(i) or i ∈ N_P(j),   else 0
//! w = 1 (--graph-weight binary)   or   w = cos(x_i, x_j) (--graph-weight cosine, the default)
//! ```
//!
//! The similarities are those of X's rows as they are (TF-IDF with the default weighting);
//! the norms are divided out, so rows need not be normalized. A document that shares no term
//! with any other has no neighbours.
//!
//! *Computation.* No n × n matrix and no transposed copy of X: the rows are cut into blocks
//! of [`KNN_BLOCK`] documents, processed in parallel. A block builds an inverted index of its
//! own rows (for each term, the block's rows holding it), then streams the rows j of X from
//! its own first row on: for each stored entry (t, x_jt) it adds x_jt·x_bt to the accumulator
//! of each of the block's rows b holding t, then offers x_b·x_j / (‖x_b‖‖x_j‖) to the top-P
//! list of every row b it touched and, when j lies after the block, the block's best P
//! partners to j's list (one lock per row). So each pair of documents is scored once, by the
//! block of the earlier one. Work: about ½·Σ_t df_t² multiply-adds (df_t the number of
//! documents holding term t) plus one read of part of X per block; memory: the lists (2·n·P
//! entries) plus, per thread, one index of O(m + the block's stored entries) and the block's
//! accumulators and lists (O(KNN_BLOCK·P)). A list keeps the best P under a total order
//! (similarity, then the lower row), so the result does not depend on the order of the offers
//! or the number of threads, and each dot product is summed over the common terms in
//! increasing term order.
//!
//! # A graph file (`--graph FILE`)
//! A tab-separated file of document links, one per line: `id<TAB>id[<TAB>weight]`, with the
//! documents' ids as in `documents.tsv` (and `doc_topics.csv`), escaped the same way
//! (`\t`, `\n`, `\r`, `\\`) — citations, hyperlinks, replies. Links are undirected: S_ij =
//! S_ji = the sum of the weights of every line linking i and j in either direction (a repeat
//! is a *duplicate*, summed and counted); the weight defaults to 1. Blank lines and lines
//! starting with `#` are skipped, and so is a first line that names no known document and
//! has no numeric weight (a header such as `source<TAB>target<TAB>weight`). An id that is not
//! a document's is a warning naming the file and line, and the link is skipped; a link from a
//! document to itself is ignored (counted); a weight that is negative, NaN, infinite or not a
//! number, or a line without two or three fields, is an error naming the file and line.
//!
//! # References
//! - D. Cai, X. He, J. Han, T. S. Huang, *Graph regularized nonnegative matrix factorization
//!   for data representation*, IEEE TPAMI 33(8), 2011 (section 3 and the p-nearest-neighbour
//!   graph of the experiments).

use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::NmfError;
use crate::kernels::CsrRef;
use crate::matrix::{Idx, Matrix};
use crate::vectorize::unescape;

/// Documents per block of the k-nearest-neighbour search (a constant power of 2: the result
/// does not depend on it, only the memory per thread).
pub const KNN_BLOCK: usize = 1024;

/// The length of the list of a row's touched rows: a power of 2 above [`KNN_BLOCK`] (the
/// list is written one past its end without a branch).
const TOUCHED: usize = 2 * KNN_BLOCK;

/// The default number of neighbours of `--graph knn` (Cai et al.'s p = 5).
pub const DEFAULT_NEIGHBOURS: usize = 5;

/// How many warnings about unknown ids [`read_links`] keeps word for word (the rest are
/// counted).
pub const MAX_LINK_WARNINGS: usize = 20;

/// The weights of the links of a k-nearest-neighbour graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GraphWeight {
    /// 1 for every link (Cai et al.'s 0-1 weighting).
    Binary,
    /// The cosine similarity of the two documents (Cai et al.'s dot-product weighting on
    /// normalized rows).
    #[default]
    Cosine,
}

impl fmt::Display for GraphWeight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GraphWeight::Binary => "binary",
            GraphWeight::Cosine => "cosine",
        })
    }
}

/// Where the graph of `--solver gnmf` comes from (`--graph`).
#[derive(Debug, Clone, PartialEq)]
pub enum GraphSpec {
    /// The cosine P-nearest-neighbour graph of X's rows.
    Knn {
        /// P, the neighbours of each document (≥ 1, fewer than the documents).
        neighbours: usize,
        /// The links' weights.
        weight: GraphWeight,
    },
    /// A TSV file of document links (read with [`read_links`]).
    File(PathBuf),
}

impl Default for GraphSpec {
    fn default() -> Self {
        GraphSpec::Knn {
            neighbours: DEFAULT_NEIGHBOURS,
            weight: GraphWeight::default(),
        }
    }
}

impl GraphSpec {
    /// Parses the value of `--graph`: `knn` (P = 5) or `knn:P` give the k-nearest-neighbour
    /// graph with `weight`, anything else names a file (write `./knn` for a file of that
    /// name). Errors name `--graph`; the file is not opened here.
    pub fn parse(value: &str, weight: GraphWeight) -> Result<GraphSpec, NmfError> {
        let bad = |m: String| Err(NmfError::Params(m));
        if value.is_empty() {
            return bad("--graph needs knn, knn:P or a file of links".into());
        }
        let Some(rest) = value.strip_prefix("knn") else {
            return Ok(GraphSpec::File(PathBuf::from(value)));
        };
        let neighbours = match rest.strip_prefix(':') {
            None if rest.is_empty() => DEFAULT_NEIGHBOURS,
            None => return Ok(GraphSpec::File(PathBuf::from(value))),
            Some(p) => match p.trim().parse::<usize>() {
                Ok(p) => p,
                Err(_) => {
                    return bad(format!(
                        "--graph {value}: P must be a whole number of neighbours (e.g. knn:5)"
                    ))
                }
            },
        };
        let spec = GraphSpec::Knn { neighbours, weight };
        spec.check()?;
        Ok(spec)
    }

    /// Checks what does not depend on the data: P ≥ 1.
    pub fn check(&self) -> Result<(), NmfError> {
        if let GraphSpec::Knn { neighbours: 0, .. } = self {
            return Err(NmfError::Params(
                "--graph knn:0: the number of neighbours P must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for GraphSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphSpec::Knn { neighbours, .. } => write!(f, "knn:{neighbours}"),
            GraphSpec::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// What a graph file held (see [`read_links`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LinkCounts {
    /// Link lines read (comments, blank lines and a header not counted).
    pub lines: usize,
    /// Links that entered the graph (`lines − skipped − self_loops`; duplicates included).
    pub used: usize,
    /// Links skipped because an id is not a document's.
    pub skipped: usize,
    /// Links from a document to itself, ignored.
    pub self_loops: usize,
    /// Links repeating a pair already linked (either direction), whose weights were added.
    pub duplicates: usize,
}

/// How a graph was built and what it holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GraphSummary {
    /// `knn`, `file` or `links` (given by a caller of the library).
    pub kind: String,
    /// P of a k-nearest-neighbour graph.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub neighbours: Option<usize>,
    /// The weights of a k-nearest-neighbour graph.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weight: Option<GraphWeight>,
    /// The graph file, as given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub file: Option<String>,
    /// The file's lines and what became of them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub links: Option<LinkCounts>,
    /// Undirected links (pairs i < j with S_ij > 0).
    pub edges: usize,
    /// The mean degree of the documents with links, d̄ = Σ_ij S_ij / |{i : d_i > 0}| (the
    /// scale of λ, see [`DocGraph::scaled_lambda`]).
    pub mean_degree: f64,
    /// Documents without any link.
    pub isolated: usize,
    /// Seconds to build the graph (reading the file included).
    pub seconds: f64,
}

/// A symmetric affinity matrix S of n documents (CSR, columns increasing, no diagonal) and
/// its degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct DocGraph {
    n: usize,
    indptr: Vec<usize>,
    indices: Vec<Idx>,
    weights: Vec<f64>,
    degree: Vec<f64>,
    summary: GraphSummary,
}

impl DocGraph {
    /// Builds S from undirected links (i, j, weight) between documents 0..n: both directions
    /// are stored, links i–i are ignored, repeated pairs (in either direction) have their
    /// weights added, and pairs whose weights sum to 0 are left out. The summary's `kind` is
    /// `links`, with the self-loops and duplicates in its `links` counts.
    ///
    /// Errors ([`NmfError::Data`]): an index ≥ n, a weight that is negative or not finite.
    pub fn from_links(n: usize, links: &[(usize, usize, f64)]) -> Result<DocGraph, NmfError> {
        let start = Instant::now();
        let mut pairs = Vec::with_capacity(links.len());
        let mut counts = LinkCounts {
            lines: links.len(),
            ..LinkCounts::default()
        };
        for (t, &(i, j, w)) in links.iter().enumerate() {
            if i >= n || j >= n {
                return Err(NmfError::Data(format!(
                    "link {} joins document {} and {}, but there are {n} documents",
                    t + 1,
                    i,
                    j
                )));
            }
            if !(w >= 0.0 && w.is_finite()) {
                return Err(NmfError::Data(format!(
                    "link {} has the weight {w}; weights must be finite and non-negative",
                    t + 1
                )));
            }
            if i == j {
                counts.self_loops += 1;
                continue;
            }
            pairs.push((i.min(j), i.max(j), w));
        }
        counts.used = pairs.len();
        pairs.sort_by_key(|a| (a.0, a.1));
        let mut merged: Vec<(usize, usize, f64)> = Vec::with_capacity(pairs.len());
        for (i, j, w) in pairs {
            match merged.last_mut() {
                Some(last) if (last.0, last.1) == (i, j) => {
                    last.2 += w;
                    counts.duplicates += 1;
                }
                _ => merged.push((i, j, w)),
            }
        }
        merged.retain(|p| p.2 > 0.0);
        let mut g = DocGraph::from_pairs(n, &merged);
        g.summary.kind = "links".into();
        g.summary.links = Some(counts);
        g.summary.seconds = start.elapsed().as_secs_f64();
        Ok(g)
    }

    /// S from sorted, distinct pairs i < j with positive weights (both directions stored;
    /// each row's columns come out increasing: first the smaller partners, then the larger).
    fn from_pairs(n: usize, pairs: &[(usize, usize, f64)]) -> DocGraph {
        let mut indptr = vec![0usize; n + 1];
        for &(i, j, _) in pairs {
            indptr[i + 1] += 1;
            indptr[j + 1] += 1;
        }
        for r in 0..n {
            indptr[r + 1] += indptr[r];
        }
        let mut next = indptr.clone();
        let nnz = indptr[n];
        let mut indices: Vec<Idx> = vec![0; nnz];
        let mut weights = vec![0.0; nnz];
        for &(i, j, w) in pairs {
            for (a, b) in [(i, j), (j, i)] {
                let p = next[a];
                indices[p] = b as Idx;
                weights[p] = w;
                next[a] += 1;
            }
        }
        let degree: Vec<f64> = (0..n)
            .map(|r| weights[indptr[r]..indptr[r + 1]].iter().sum())
            .collect();
        let isolated = (0..n).filter(|&r| indptr[r] == indptr[r + 1]).count();
        let total: f64 = degree.iter().sum();
        let linked = n - isolated;
        DocGraph {
            n,
            summary: GraphSummary {
                edges: pairs.len(),
                mean_degree: if linked > 0 {
                    total / linked as f64
                } else {
                    0.0
                },
                isolated,
                ..GraphSummary::default()
            },
            indptr,
            indices,
            weights,
            degree,
        }
    }

    /// Number of documents.
    pub fn n(&self) -> usize {
        self.n
    }

    /// S as a CSR matrix (n × n).
    pub fn s(&self) -> CsrRef<'_> {
        CsrRef {
            nrows: self.n,
            ncols: self.n,
            indptr: &self.indptr,
            indices: &self.indices,
            data: &self.weights,
        }
    }

    /// The degrees d_i = Σ_j S_ij.
    pub fn degree(&self) -> &[f64] {
        &self.degree
    }

    /// The linked documents of `i` and the links' weights (columns increasing).
    pub fn neighbours(&self, i: usize) -> (&[Idx], &[f64]) {
        let (s, e) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[s..e], &self.weights[s..e])
    }

    /// How the graph was built and what it holds.
    pub fn summary(&self) -> &GraphSummary {
        &self.summary
    }

    /// The weight of the graph term for `--graph-lambda λ`: λ' = λ / d̄ with d̄ the mean
    /// degree of the documents with links. A linked document i then carries the graph term
    /// `(λ/4)·(d_i/d̄)·Σ_j (S_ij/d_i)·‖w_i − w_j‖²` (Frobenius): λ times its links' mean
    /// disagreement, whatever the number of neighbours, the weighting, the number of
    /// documents or how many of them have links, against its data term ½‖x_i − w_i·H‖². 0
    /// for a graph without links.
    pub fn scaled_lambda(&self, lambda: f64) -> f64 {
        if self.summary.mean_degree > 0.0 {
            lambda / self.summary.mean_degree
        } else {
            0.0
        }
    }
}

/// The cosine `neighbours`-nearest-neighbour graph of the rows of X (documents × terms; see
/// the module docs).
///
/// Errors: [`NmfError::Params`], naming `--graph`, for P = 0 or P ≥ n (a document has at most
/// n − 1 others); [`NmfError::Data`] for an empty X or a negative, NaN or infinite entry.
pub fn knn_graph(x: &Matrix, neighbours: usize, weight: GraphWeight) -> Result<DocGraph, NmfError> {
    let xs = super::data::Sparse::new(x)?;
    knn_graph_csr(xs.x(), neighbours, weight)
}

/// [`knn_graph`] of a CSR matrix.
pub(crate) fn knn_graph_csr(
    x: CsrRef<'_>,
    neighbours: usize,
    weight: GraphWeight,
) -> Result<DocGraph, NmfError> {
    let start = Instant::now();
    let n = x.nrows;
    let p = neighbours;
    GraphSpec::Knn {
        neighbours: p,
        weight,
    }
    .check()?;
    if p >= n {
        return Err(NmfError::Params(format!(
            "--graph knn:{p}: P must be less than the number of documents ({n})"
        )));
    }
    let lists = knn_lists(x, p);
    // Both directions of every neighbour relation; a pair found from both sides has the
    // same similarity (see the module docs), so merging keeps either.
    let mut pairs: Vec<(usize, usize, f64)> = Vec::with_capacity(2 * n * p);
    for (i, list) in lists.iter().enumerate() {
        for &(j, sim) in list {
            let w = match weight {
                GraphWeight::Binary => 1.0,
                GraphWeight::Cosine => sim,
            };
            pairs.push((i.min(j), i.max(j), w));
        }
    }
    drop(lists);
    pairs.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)));
    pairs.dedup_by(|b, a| (a.0, a.1) == (b.0, b.1));
    let mut g = DocGraph::from_pairs(n, &pairs);
    g.summary.kind = "knn".into();
    g.summary.neighbours = Some(p);
    g.summary.weight = Some(weight);
    g.summary.seconds = start.elapsed().as_secs_f64();
    Ok(g)
}

/// For every row i of X, its up to `p` most similar other rows `(j, cos)`, by decreasing
/// similarity (ties: lower j), similarities > 0 only.
///
/// Each pair of rows is scored once, by the block of the lower row (a block scans the rows
/// from its own first row on): the block keeps the lists of its own rows, and offers each
/// later row j its best partners among the block's rows through `later[j]` (a lock per row).
/// A list is the best `p` of a set under a total order (similarity, then row), so the order
/// in which the blocks offer does not matter: the same lists with any number of threads.
pub fn knn_lists(x: CsrRef<'_>, p: usize) -> Vec<Vec<(usize, f64)>> {
    let n = x.nrows;
    let norms: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| x.row(i).1.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    let later: Vec<std::sync::Mutex<Vec<(usize, f64)>>> =
        (0..n).map(|_| std::sync::Mutex::new(Vec::new())).collect();
    let nblocks = n.div_ceil(KNN_BLOCK);
    let blocks: Vec<Vec<Vec<(usize, f64)>>> = (0..nblocks)
        .into_par_iter()
        .map_init(
            || Scan::new(x.ncols),
            |scan, blk| {
                let r0 = blk * KNN_BLOCK;
                scan.block(x, &norms, r0, (r0 + KNN_BLOCK).min(n), p, &later)
            },
        )
        .collect();
    blocks
        .into_iter()
        .flatten()
        .zip(later)
        .map(|(mut own, offered)| {
            for (j, sim) in offered.into_inner().unwrap_or_else(|e| e.into_inner()) {
                offer(&mut own, p, j, sim);
            }
            own
        })
        .collect()
}

/// The scratch space of one block's scan: the block's inverted index (`offsets` over the
/// terms into the postings `(row in block, value)`), the accumulators, the rows touched by
/// the current row and the block's candidates for a later row.
struct Scan {
    offsets: Vec<usize>,
    cursor: Vec<usize>,
    post_row: Vec<u32>,
    post_val: Vec<f64>,
    acc: Box<[f64; KNN_BLOCK]>,
    touched: Box<[u32; TOUCHED]>,
    candidates: Vec<(usize, f64)>,
}

impl Scan {
    fn new(m: usize) -> Self {
        Scan {
            offsets: vec![0; m + 1],
            cursor: vec![0; m + 1],
            post_row: Vec::new(),
            post_val: Vec::new(),
            acc: Box::new([0.0; KNN_BLOCK]),
            touched: Box::new([0; TOUCHED]),
            candidates: Vec::new(),
        }
    }

    /// The neighbour lists of rows r0..r1 among the rows from r0 on, offering the later rows
    /// their candidates among r0..r1 through `later`.
    fn block(
        &mut self,
        x: CsrRef<'_>,
        norms: &[f64],
        r0: usize,
        r1: usize,
        p: usize,
        later: &[std::sync::Mutex<Vec<(usize, f64)>>],
    ) -> Vec<Vec<(usize, f64)>> {
        let rows = r1 - r0;
        // The block's inverted index.
        self.offsets.fill(0);
        for i in r0..r1 {
            for &t in x.row(i).0 {
                self.offsets[t as usize + 1] += 1;
            }
        }
        for t in 0..x.ncols {
            self.offsets[t + 1] += self.offsets[t];
        }
        let total = self.offsets[x.ncols];
        self.post_row.resize(total, 0);
        self.post_val.resize(total, 0.0);
        self.cursor.copy_from_slice(&self.offsets);
        for i in r0..r1 {
            let (cols, vals) = x.row(i);
            for (&t, &v) in cols.iter().zip(vals) {
                let t = t as usize;
                let q = self.cursor[t];
                self.post_row[q] = (i - r0) as u32;
                self.post_val[q] = v;
                self.cursor[t] += 1;
            }
        }
        let mut best: Vec<Vec<(usize, f64)>> = vec![Vec::with_capacity(p + 1); rows];
        let (acc, touched) = (&mut *self.acc, &mut *self.touched);
        let (offsets, post_row, post_val) =
            (&self.offsets[..], &self.post_row[..], &self.post_val[..]);
        for j in r0..x.nrows {
            let nj = norms[j];
            if nj == 0.0 {
                continue;
            }
            // x_b·x_j for the block's rows b sharing a term with j, summed over the common
            // terms in increasing order. All products are ≥ 0, so a row is new to the list
            // when its sum leaves 0 (the list is written without a branch; the masks only
            // spare the bound checks: b < KNN_BLOCK and count ≤ KNN_BLOCK).
            let mut count = 0;
            let (cols, vals) = x.row(j);
            for (&t, &v) in cols.iter().zip(vals) {
                let t = t as usize;
                let (s, e) = (offsets[t], offsets[t + 1]);
                for (&b, &xb) in post_row[s..e].iter().zip(&post_val[s..e]) {
                    let bi = b as usize & (KNN_BLOCK - 1);
                    let old = acc[bi];
                    let new = old + v * xb;
                    acc[bi] = new;
                    touched[count & (TOUCHED - 1)] = b;
                    count += usize::from(old == 0.0 && new != 0.0);
                }
            }
            let external = j >= r1;
            self.candidates.clear();
            for &b in &touched[..count] {
                let b = b as usize & (KNN_BLOCK - 1);
                let dot = std::mem::take(&mut acc[b]);
                let i = r0 + b;
                if dot <= 0.0 || i == j {
                    continue;
                }
                let sim = dot / (norms[i] * nj);
                offer(&mut best[b], p, j, sim);
                if external {
                    offer(&mut self.candidates, p, i, sim);
                }
            }
            if external && !self.candidates.is_empty() {
                let mut list = later[j].lock().unwrap_or_else(|e| e.into_inner());
                for &(i, sim) in &self.candidates {
                    offer(&mut list, p, i, sim);
                }
            }
        }
        best
    }
}

/// Offers `(j, sim)` to a list of at most `p` entries kept in decreasing order of
/// (similarity, then lower index first): the best `p` of everything offered, whatever the
/// order of the offers.
#[inline]
fn offer(list: &mut Vec<(usize, f64)>, p: usize, j: usize, sim: f64) {
    let before = |e: &(usize, f64)| e.1 > sim || (e.1 == sim && e.0 < j);
    if list.len() == p {
        if list.last().is_some_and(before) {
            return;
        }
        list.pop();
    }
    let pos = list.partition_point(before);
    list.insert(pos, (j, sim));
}

/// An OS error without Rust's ` (os error N)` suffix.
fn os_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// What [`read_links`] has to say besides the graph: warnings about unknown ids (the first
/// [`MAX_LINK_WARNINGS`]) and how many more there were.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkWarnings {
    /// `FILE:LINE: …` messages.
    pub shown: Vec<String>,
    /// Warnings not kept in `shown`.
    pub more: usize,
}

/// One link line of a graph file: its number, the two ids (unescaped) and the weight field
/// as written.
struct LinkLine<'t> {
    line: usize,
    a: String,
    b: String,
    weight: Option<&'t str>,
}

/// Reads the link lines of a graph file (blank lines and `#` comments skipped), checking the
/// number of fields and the ids' escapes; `f` sees each line. Errors name the file and line.
fn for_each_link_line(
    path: &Path,
    mut f: impl FnMut(LinkLine<'_>) -> Result<(), NmfError>,
) -> Result<(), NmfError> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| {
        NmfError::Data(format!(
            "--graph {shown}: cannot read the graph file: {}",
            os_message(&e)
        ))
    })?;
    let bad = |line: usize, msg: String| NmfError::Data(format!("{shown}:{line}: {msg}"));
    let mut reader = std::io::BufReader::new(file);
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        let read = reader.read_until(b'\n', &mut buf).map_err(|e| {
            NmfError::Data(format!(
                "{shown}: cannot read the graph file: {}",
                os_message(&e)
            ))
        })?;
        if read == 0 {
            return Ok(());
        }
        line_no += 1;
        let text = std::str::from_utf8(&buf)
            .map_err(|_| bad(line_no, "the line is not valid UTF-8 text".into()))?;
        let line = text.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if !(2..=3).contains(&fields.len()) {
            return Err(bad(
                line_no,
                format!(
                    "expected 2 or 3 tab-separated fields (id, id, optional weight), found {}",
                    fields.len()
                ),
            ));
        }
        f(LinkLine {
            line: line_no,
            a: unescape(fields[0]).map_err(|m| bad(line_no, format!("{m} in an id")))?,
            b: unescape(fields[1]).map_err(|m| bad(line_no, format!("{m} in an id")))?,
            weight: fields.get(2).map(|w| w.trim()),
        })?;
    }
}

/// A link's weight: 1 when absent, else a finite non-negative number.
fn link_weight(path: &Path, line: usize, text: Option<&str>) -> Result<f64, NmfError> {
    let bad = |m: String| Err(NmfError::Data(format!("{}:{line}: {m}", path.display())));
    match text.map(|t| (t, t.parse::<f64>())) {
        None => Ok(1.0),
        Some((t, Err(_))) => bad(format!("the weight '{t}' is not a number")),
        Some((_, Ok(w))) if w >= 0.0 && w.is_finite() => Ok(w),
        Some((t, Ok(_))) => bad(format!(
            "the weight {t} is not allowed: weights must be finite and non-negative"
        )),
    }
}

/// Checks a graph file's form before the documents are known (so that a bad line stops a run
/// before the long work): the fields, the escapes and the weights, as [`read_links`] will
/// (a first line with a weight that is not a number may be a header and is skipped).
pub fn check_links(path: &Path) -> Result<(), NmfError> {
    let mut first = true;
    for_each_link_line(path, |l| {
        let maybe_header =
            std::mem::take(&mut first) && l.weight.is_some_and(|w| w.parse::<f64>().is_err());
        if !maybe_header {
            link_weight(path, l.line, l.weight)?;
        }
        Ok(())
    })
}

/// Reads a graph file (see the module docs) for the documents `ids` (row order) and builds
/// the graph. Its summary has `kind` `file`, the file and the [`LinkCounts`].
///
/// Errors ([`NmfError::Data`], naming the file and, for its content, the line): the file
/// cannot be read or is not UTF-8 text, a line without two or three tab-separated fields, an
/// id with a bad escape, a weight that is not a number or is negative, NaN or infinite.
pub fn read_links<S: AsRef<str>>(
    path: &Path,
    ids: &[S],
) -> Result<(DocGraph, LinkWarnings), NmfError> {
    let start = Instant::now();
    let shown = path.display();
    let index: HashMap<&str, usize, rustc_hash::FxBuildHasher> = ids
        .iter()
        .enumerate()
        .rev() // a repeated id means its first document
        .map(|(i, s)| (s.as_ref(), i))
        .collect();
    let mut links = Vec::new();
    let mut warnings = LinkWarnings::default();
    let mut skipped = 0;
    let mut first = true;
    for_each_link_line(path, |l| {
        let (ia, ib) = (index.get(l.a.as_str()), index.get(l.b.as_str()));
        if std::mem::take(&mut first)
            && ia.is_none()
            && ib.is_none()
            && l.weight.is_none_or(|w| w.parse::<f64>().is_err())
        {
            return Ok(()); // a header line
        }
        let w = link_weight(path, l.line, l.weight)?;
        match (ia, ib) {
            (Some(&i), Some(&j)) => links.push((i, j, w)),
            _ => {
                skipped += 1;
                let unknown: Vec<String> = [(ia, &l.a), (ib, &l.b)]
                    .iter()
                    .filter(|(i, _)| i.is_none())
                    .map(|(_, id)| format!("'{id}'"))
                    .collect();
                if warnings.shown.len() < MAX_LINK_WARNINGS {
                    let what = if unknown.len() == 1 {
                        format!("id {} is not a document", unknown[0])
                    } else {
                        format!("ids {} are not documents", unknown.join(" and "))
                    };
                    warnings.shown.push(format!(
                        "{shown}:{}: {what} of the corpus; link skipped",
                        l.line
                    ));
                } else {
                    warnings.more += 1;
                }
            }
        }
        Ok(())
    })?;
    let mut g = DocGraph::from_links(ids.len(), &links)?;
    let counts = g.summary.links.get_or_insert_with(LinkCounts::default);
    counts.lines += skipped;
    counts.skipped = skipped;
    g.summary.kind = "file".into();
    g.summary.file = Some(path.display().to_string());
    g.summary.seconds = start.elapsed().as_secs_f64();
    Ok((g, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::{dense, sample};

    /// The cosine neighbour lists by brute force: all pairs, dense, sorted.
    fn brute(x: CsrRef<'_>, p: usize) -> Vec<Vec<(usize, f64)>> {
        let (n, m) = (x.nrows, x.ncols);
        let d = dense(x);
        let norm = |i: usize| (0..m).map(|t| d[i * m + t].powi(2)).sum::<f64>().sqrt();
        (0..n)
            .map(|i| {
                let mut all: Vec<(usize, f64)> = (0..n)
                    .filter(|&j| j != i && norm(i) > 0.0 && norm(j) > 0.0)
                    .map(|j| {
                        let dot: f64 = (0..m).map(|t| d[i * m + t] * d[j * m + t]).sum();
                        (j, dot / (norm(i) * norm(j)))
                    })
                    .filter(|e| e.1 > 0.0)
                    .collect();
                all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                all.truncate(p);
                all
            })
            .collect()
    }

    #[test]
    fn knn_lists_equal_a_brute_force_search() {
        // 2,500 rows: three blocks, the last one partial; some rows empty.
        let mut x = sample(2500, 40, 3);
        // Sparser rows so that similarities vary: keep every third stored entry.
        let mut keep = crate::kernels::Csr {
            nrows: x.nrows,
            ncols: x.ncols,
            indptr: vec![0],
            indices: vec![],
            data: vec![],
        };
        for i in 0..x.nrows {
            let (c, v) = x.view().row(i);
            for (t, (&j, &val)) in c.iter().zip(v).enumerate() {
                if (t + i) % 3 == 0 && i % 97 != 5 {
                    keep.indices.push(j);
                    keep.data.push(val);
                }
            }
            keep.indptr.push(keep.indices.len());
        }
        x = keep;
        let got = knn_lists(x.view(), 4);
        let want = brute(x.view(), 4);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.len(), w.len(), "row {i}");
            for (a, b) in g.iter().zip(w) {
                // The same neighbours unless two similarities tie to rounding.
                assert!((a.1 - b.1).abs() < 1e-12, "row {i}: {g:?} vs {w:?}");
                if a.0 != b.0 {
                    let other = w.iter().find(|e| e.0 == a.0).map(|e| e.1);
                    assert!(other.is_some_and(|s| (s - a.1).abs() < 1e-12), "row {i}");
                }
            }
        }
        assert!(got[5].is_empty(), "an empty row has no neighbours");
    }

    #[test]
    fn the_knn_graph_is_symmetric_weighted_and_the_same_with_any_number_of_threads() {
        let x = sample(1500, 30, 8);
        let build = |threads: usize, w: GraphWeight| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| knn_graph_csr(x.view(), 3, w).unwrap())
        };
        let g = build(1, GraphWeight::Cosine);
        let timeless = |mut g: DocGraph| {
            g.summary.seconds = 0.0;
            g
        };
        for t in [2, 3] {
            assert_eq!(
                timeless(build(t, GraphWeight::Cosine)),
                timeless(g.clone()),
                "{t} threads"
            );
        }
        let lists = knn_lists(x.view(), 3);
        let s = g.s();
        for i in 0..g.n() {
            let (cols, ws) = g.neighbours(i);
            assert!(cols.windows(2).all(|c| c[0] < c[1]));
            for (&j, &w) in cols.iter().zip(ws) {
                let j = j as usize;
                let back = g.neighbours(j);
                let pos = back
                    .0
                    .iter()
                    .position(|&c| c as usize == i)
                    .expect("symmetric");
                assert_eq!(back.1[pos].to_bits(), w.to_bits());
                // j is a neighbour of i or i of j, with weight their cosine.
                let found = lists[i]
                    .iter()
                    .chain(&lists[j])
                    .find(|e| e.0 == j || e.0 == i);
                assert_eq!(found.unwrap().1, w);
            }
            for &(j, _) in &lists[i] {
                assert!(cols.contains(&(j as u32)));
            }
            let d: f64 = ws.iter().sum();
            assert_eq!(g.degree()[i], d);
        }
        assert_eq!(s.nnz(), 2 * g.summary().edges);
        let b = build(2, GraphWeight::Binary);
        assert_eq!(b.s().indices, g.s().indices);
        assert!(b.s().data.iter().all(|&w| w == 1.0));
        assert_eq!(b.summary().weight, Some(GraphWeight::Binary));
    }

    #[test]
    fn knn_needs_fewer_neighbours_than_documents() {
        let x = sample(4, 6, 1);
        let e = knn_graph_csr(x.view(), 4, GraphWeight::Binary).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--graph knn:4: P must be less than the number of documents (4)"
        );
        let e = knn_graph_csr(x.view(), 0, GraphWeight::Binary).unwrap_err();
        assert!(e.to_string().starts_with("--graph knn:0:"), "{e}");
        assert!(knn_graph_csr(x.view(), 3, GraphWeight::Binary).is_ok());
    }

    #[test]
    fn graph_specs_parse() {
        let c = GraphWeight::Cosine;
        assert_eq!(
            GraphSpec::parse("knn", c).unwrap(),
            GraphSpec::Knn {
                neighbours: 5,
                weight: c
            }
        );
        assert_eq!(
            GraphSpec::parse("knn:12", GraphWeight::Binary).unwrap(),
            GraphSpec::Knn {
                neighbours: 12,
                weight: GraphWeight::Binary
            }
        );
        assert_eq!(
            GraphSpec::parse("links.tsv", c).unwrap(),
            GraphSpec::File("links.tsv".into())
        );
        assert_eq!(
            GraphSpec::parse("knnlinks.tsv", c).unwrap(),
            GraphSpec::File("knnlinks.tsv".into())
        );
        let e = GraphSpec::parse("knn:x", c).unwrap_err().to_string();
        assert!(
            e.starts_with("--graph knn:x: P must be a whole number"),
            "{e}"
        );
        let e = GraphSpec::parse("knn:0", c).unwrap_err().to_string();
        assert!(e.contains("at least 1"), "{e}");
    }

    #[test]
    fn links_are_undirected_summed_and_self_loops_ignored() {
        let g =
            DocGraph::from_links(4, &[(0, 1, 1.0), (1, 0, 2.0), (2, 2, 5.0), (3, 1, 0.5)]).unwrap();
        assert_eq!(g.neighbours(1), (&[0u32, 3][..], &[3.0, 0.5][..]));
        assert_eq!(g.neighbours(0), (&[1u32][..], &[3.0][..]));
        assert_eq!(g.neighbours(2).0.len(), 0);
        assert_eq!(g.degree(), &[3.0, 3.5, 0.0, 0.5]);
        let s = g.summary();
        assert_eq!((s.edges, s.isolated), (2, 1));
        assert_eq!(s.mean_degree, 7.0 / 3.0);
        let c = s.links.unwrap();
        assert_eq!((c.lines, c.used, c.self_loops, c.duplicates), (4, 3, 1, 1));
        assert_eq!(g.scaled_lambda(2.0), 2.0 * 3.0 / 7.0);
        assert!(DocGraph::from_links(2, &[(0, 2, 1.0)]).is_err());
        assert!(DocGraph::from_links(2, &[(0, 1, -1.0)]).is_err());
        assert!(DocGraph::from_links(2, &[(0, 1, f64::NAN)]).is_err());
        let empty = DocGraph::from_links(3, &[]).unwrap();
        assert_eq!(empty.scaled_lambda(1.0), 0.0);
    }

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("links.tsv");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn a_graph_file_is_read_with_warnings_for_unknown_ids() {
        let tmp = tempfile::tempdir().unwrap();
        let ids = ["a.txt", "b\tc.txt", "d.txt"];
        let p = write(
            tmp.path(),
            "source\ttarget\tweight\n# a comment\n\na.txt\tb\\tc.txt\t2\nd.txt\ta.txt\n\
             a.txt\tnope.txt\t1\nd.txt\td.txt\nb\\tc.txt\ta.txt\t0.5\r\n",
        );
        let (g, warn) = read_links(&p, &ids).unwrap();
        assert_eq!(g.neighbours(0), (&[1u32, 2][..], &[2.5, 1.0][..]));
        let c = g.summary().links.unwrap();
        assert_eq!(
            (c.lines, c.used, c.skipped, c.self_loops, c.duplicates),
            (5, 3, 1, 1, 1)
        );
        assert_eq!(g.summary().kind, "file");
        assert_eq!(warn.shown.len(), 1);
        assert!(
            warn.shown[0].ends_with(
                "links.tsv:6: id 'nope.txt' is not a document of the corpus; link skipped"
            ),
            "{:?}",
            warn.shown
        );
    }

    #[test]
    fn bad_graph_files_are_errors_naming_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        let ids = ["a", "b"];
        for (text, want) in [
            ("a\tb\t-1\n", ":1: the weight -1 is not allowed"),
            ("a\tb\n\na\tb\tNaN\n", ":3: the weight NaN is not allowed"),
            ("a\tb\tinf\n", ":1: the weight inf is not allowed"),
            ("a\tb\theavy\n", ":1: the weight 'heavy' is not a number"),
            ("a\tb\n a b\n", ":2: expected 2 or 3 tab-separated fields"),
            ("a\tb\t1\t2\n", ":1: expected 2 or 3 tab-separated fields"),
            ("a\tb\\x\n", ":1: unknown escape"),
        ] {
            let p = write(tmp.path(), text);
            let e = read_links(&p, &ids).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
            assert!(e.contains("links.tsv"), "{e}");
        }
        // check_links finds the same errors without the ids.
        for text in ["a\tb\t-1\n", "x\ty\n a b\n", "a\tb\n\na\tb\tNaN\n"] {
            let p = write(tmp.path(), text);
            assert_eq!(
                check_links(&p).unwrap_err().to_string(),
                read_links(&p, &ids).unwrap_err().to_string()
            );
        }
        let p = write(tmp.path(), "source\ttarget\tweight\na\tb\t2\n");
        assert!(check_links(&p).is_ok());
        let e = read_links(&tmp.path().join("missing.tsv"), &ids)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--graph ") && e.contains("missing.tsv"),
            "{e}"
        );
        // More unknown ids than are kept word for word.
        let many: String = (0..30).map(|i| format!("a\tx{i}\n")).collect();
        let p = write(tmp.path(), &many);
        let (g, warn) = read_links(&p, &ids).unwrap();
        assert_eq!(g.summary().edges, 0);
        assert_eq!((warn.shown.len(), warn.more), (MAX_LINK_WARNINGS, 10));
    }
}
