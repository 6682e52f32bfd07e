//! Online NMF over a matrix that is read as a stream of row blocks and never held whole
//! ([`fit_streamed`]): a corpus larger than memory, read again from its files for each epoch.
//!
//! The algorithm is the online solver's ([`super::online`], scikit-learn's `MiniBatchNMF`):
//! epochs over the rows in consecutive batches of `batch_size` rows (the last one shorter),
//! each batch one [`MiniBatch::step`]. The batches are cut from the blocks as they arrive, so
//! the block sizes of the reader do not matter. What differs from the in-memory solver:
//!
//! - **Start.** With `--init custom` the given W0 and H0, and the fit is then the in-memory
//!   online fit: the same factors bit for bit, the same iterations, the metrics to rounding
//!   (`tests/streaming_fit.rs`). Otherwise the chosen initialization of a
//!   sample of S = min(n, max([`START_ROWS`], batch_size)) rows, evenly spaced (rows i·n/S,
//!   fetched by [`RowBlocks::rows_at`]), gives H0. When the sample is the whole matrix its W0
//!   is every row's start too, and the fit is again the in-memory one. Otherwise each row's W
//!   is solved from the current H when the first epoch reaches it (from √(mean(X_b)/k) by
//!   multiplicative updates, as [`MiniBatch::partial_fit`] does for new rows) before its
//!   batch's step.
//! - **History.** The objective recorded for an epoch is the sum over its batches of the batch
//!   cost times the batch's rows, Σ_b |b|·cost_b: the objective as the batches saw it, each with
//!   the H of its step (a full evaluation after every epoch would cost another pass); the last
//!   entry is the final evaluation's objective, as for every fit.
//! - **Fresh restarts.** The final W is solved batch by batch (scikit-learn solves it for all
//!   of X at once, with one stopping test for the whole matrix).
//! - **A stop within the first epoch.** Rows the first epoch did not reach, and that had no
//!   start, get their W in the final pass, solved with H fixed as the first epoch solves a new
//!   batch's (up to `fresh_restarts_max_iter` updates).
//!
//! After the last epoch, one more pass evaluates the final factors (the same metrics as an
//! in-memory fit: loss, divergence, ‖X − WH‖²_F via traces) and hands every batch with its W to
//! the caller, which gathers what its outputs need from X.
//!
//! The solver runs at the rank of the register kernels, kp ≥ k
//! ([`crate::kernels::register_rank`], [`MiniBatch::with_rank`]: 50 → 52), the padding columns
//! of W and H zero throughout; the caller sees rank-k factors.
//!
//! Memory: W (n × kp; with `--init custom` W0 too), Hᵀ with the statistics of its update
//! (4 · m × kp, and copies of Hᵀ in the last pass), one batch, the start's sample while the
//! start is made, and whatever the reader holds (one block); X itself is never held. With
//! [`fit_streamed_on_disk`] W is kept in an unlinked temporary file ([`WFile`], n × k) and only
//! the batch at hand is in memory: nothing of the fit then grows with the number of rows,
//! except a custom W0 given in the parameters (the file is read and written once per pass, in
//! row order, the same bytes as W in memory).

use std::path::Path;
use std::time::Instant;

use crate::matrix::{Idx, Matrix};

use super::data::{check_entries, check_rank, Sparse};
use super::driver::{Evaluation, Run};
use super::init::{check_custom_factors, initialize};
use super::metrics::ColumnNorms;
use super::online::{row_block, MiniBatch};
use super::start::transposed;
use super::wfile::WFile;
use super::{
    copy_columns, model, pad_columns, unpad_columns, Init, Loss, Method, NmfError, NmfModel,
    NmfValidParams,
};
use crate::kernels::{eval_at_nonzeros_with, factor_stats, CsrRef, FactorStatsSum, EPSILON};
use crate::{Error, Result};

/// The rows of the sample a streamed fit starts from (unless `--init custom`), or the batch
/// size if larger: H0 is the initialization of these rows, evenly spaced over the matrix.
pub const START_ROWS: usize = 20_000;

/// A matrix read in blocks of consecutive rows, as many times as asked.
pub trait RowBlocks {
    /// (rows, columns) of the whole matrix.
    fn shape(&self) -> (usize, usize);

    /// Reads the matrix once, handing its rows to `f` in blocks, in row order: `f(first, rows)`
    /// with the row number of the block's first row. `f` returns `Ok(false)` to stop the
    /// reading early (the call then returns `Ok(())`).
    ///
    /// Errors: those of `f`, and of reading the matrix.
    fn for_each_block(&self, f: &mut dyn FnMut(usize, CsrRef<'_>) -> Result<bool>) -> Result<()>;

    /// The rows `rows` (increasing), as a CSR matrix of their own. The default reads the
    /// matrix once and keeps those rows; a reader that can fetch rows directly does better.
    ///
    /// Errors: a row out of range; those of reading the matrix.
    fn rows_at(&self, rows: &[usize]) -> Result<Matrix> {
        let (n, m) = self.shape();
        if rows.windows(2).any(|p| p[0] >= p[1]) {
            return Err(Error::Runtime(
                "internal error: the rows asked for are not increasing".into(),
            ));
        }
        if let Some(&r) = rows.iter().find(|&&r| r >= n) {
            return Err(Error::input(format!(
                "row {r} is out of range: there are {n} rows"
            )));
        }
        let mut kept = Pending::new();
        let mut want = rows.iter().peekable();
        self.for_each_block(&mut |first, xb| {
            while let Some(&&r) = want.peek() {
                if r >= first + xb.nrows {
                    break;
                }
                if r >= first {
                    kept.push(xb, r - first, r - first + 1);
                }
                want.next();
            }
            Ok(want.peek().is_some())
        })?;
        Matrix::try_new((kept.rows(), m), kept.indptr, kept.indices, kept.data)
            .map_err(|(_, _, _, e)| Error::Runtime(format!("internal error: the rows kept: {e}")))
    }
}

/// A matrix in memory read in blocks of a fixed number of rows: to compare a streamed fit with
/// the in-memory one, and to stream a matrix whose row blocks are at hand.
#[derive(Debug)]
pub struct MatrixBlocks<'a> {
    x: Sparse<'a>,
    rows: usize,
}

impl<'a> MatrixBlocks<'a> {
    /// `x` (CSR or CSC) in blocks of `rows` rows.
    ///
    /// Errors: an empty X, a negative or non-finite entry ([`NmfError::Data`]), `rows` = 0.
    pub fn new(x: &'a Matrix, rows: usize) -> Result<Self> {
        if rows == 0 {
            return Err(Error::input("a block must hold at least one row"));
        }
        Ok(MatrixBlocks {
            x: Sparse::new(x)?,
            rows,
        })
    }
}

impl RowBlocks for MatrixBlocks<'_> {
    fn shape(&self) -> (usize, usize) {
        (self.x.nrows(), self.x.ncols())
    }

    fn for_each_block(&self, f: &mut dyn FnMut(usize, CsrRef<'_>) -> Result<bool>) -> Result<()> {
        let x = self.x.x();
        let mut indptr = Vec::new();
        let mut r0 = 0;
        while r0 < x.nrows {
            let r1 = (r0 + self.rows).min(x.nrows);
            if !f(r0, row_block(x, r0, r1, &mut indptr))? {
                break;
            }
            r0 = r1;
        }
        Ok(())
    }
}

/// What [`fit_streamed`] reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StreamProgress {
    /// Reading the sample of the start.
    Start,
    /// Within epoch `epoch` (from 1), `rows` rows done, smoothed batch cost `cost` (`None`
    /// before the second step).
    Batch {
        /// The epoch, from 1.
        epoch: usize,
        /// Rows of this epoch done.
        rows: usize,
        /// The smoothed batch cost.
        cost: Option<f64>,
    },
    /// Epoch `epoch` ended with the objective `objective` (see the module docs).
    Epoch {
        /// The epoch, from 1.
        epoch: usize,
        /// Σ_b |b|·cost_b over the epoch's batches.
        objective: f64,
    },
    /// The final pass (evaluation and outputs), `rows` rows done.
    Final {
        /// Rows done.
        rows: usize,
    },
}

/// Where a streamed fit keeps W (n rows, row-major). The solver works on rows of `kp`
/// columns, the rank k padded to a rank of the register kernels with zero columns
/// ([`super::pad_columns`]).
enum WStore {
    /// n × kp.
    Memory(Vec<f64>),
    /// n × k on disk (the document weights' file), with a buffer for the batch at hand
    /// (rows × kp) and one for its rows as stored (rows × k).
    File(WFile, Vec<f64>, Vec<f64>),
}

impl WStore {
    /// Runs `f` on rows `r0..r0 + rows` of W (rows × kp); with `write`, what `f` leaves in them
    /// is kept (the padding columns, which the solver keeps at zero, are not stored on disk).
    fn with_rows<T>(
        &mut self,
        r0: usize,
        rows: usize,
        (k, kp): (usize, usize),
        write: bool,
        f: impl FnOnce(&mut [f64]) -> T,
    ) -> Result<T> {
        match self {
            WStore::Memory(w) => Ok(f(&mut w[r0 * kp..(r0 + rows) * kp])),
            WStore::File(file, buf, stored) => {
                stored.resize(rows * k, 0.0);
                file.read_rows(r0, stored)?;
                buf.clear();
                buf.resize(rows * kp, 0.0);
                copy_columns(stored, k, buf, kp);
                let out = f(buf);
                if write {
                    copy_columns(buf, kp, stored, k);
                    file.write_rows(r0, stored)?;
                }
                Ok(out)
            }
        }
    }

    /// W's first rows set to the rows of `a` (r × k, any layout).
    fn set_first_rows(&mut self, a: &ndarray::Array2<f64>, kp: usize) -> Result<()> {
        match self {
            WStore::Memory(w) => {
                for (dst, src) in w.chunks_exact_mut(kp).zip(a.rows()) {
                    for (d, s) in dst.iter_mut().zip(src) {
                        *d = *s;
                    }
                }
            }
            WStore::File(file, _, stored) => {
                const ROWS: usize = 4096;
                for (b, chunk) in a.axis_chunks_iter(ndarray::Axis(0), ROWS).enumerate() {
                    stored.clear();
                    stored.extend(chunk.iter().copied());
                    file.write_rows(b * ROWS, stored)?;
                }
            }
        }
        Ok(())
    }
}

/// The caller's part of the final pass: `f(first, x_b, w_b, ht)` for each batch of rows `x_b`
/// from row `first`, with their final W (rows × k) and the final Hᵀ (m × k), row-major.
pub type LastPass<'f> = dyn FnMut(usize, CsrRef<'_>, &[f64], &[f64]) -> Result<()> + 'f;

/// Consecutive rows gathered from blocks into one batch (rows `first..first + rows()`).
struct Pending {
    first: usize,
    indptr: Vec<usize>,
    indices: Vec<Idx>,
    data: Vec<f64>,
}

impl Pending {
    fn new() -> Self {
        Pending {
            first: 0,
            indptr: vec![0],
            indices: Vec::new(),
            data: Vec::new(),
        }
    }

    fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    fn clear(&mut self, first: usize) {
        self.first = first;
        self.indptr.truncate(1);
        self.indices.clear();
        self.data.clear();
    }

    /// Appends rows `r0..r1` of `x`.
    fn push(&mut self, x: CsrRef<'_>, r0: usize, r1: usize) {
        let (s, e) = (x.indptr[r0], x.indptr[r1]);
        let base = self.indices.len();
        self.indices.extend_from_slice(&x.indices[s..e]);
        self.data.extend_from_slice(&x.data[s..e]);
        self.indptr
            .extend(x.indptr[r0 + 1..=r1].iter().map(|p| p - s + base));
    }

    fn view(&self, ncols: usize) -> CsrRef<'_> {
        CsrRef {
            nrows: self.rows(),
            ncols,
            indptr: &self.indptr,
            indices: &self.indices,
            data: &self.data,
        }
    }
}

/// One read of the matrix cut into batches of `bs` rows: `batch(r0, x_b)` for each batch in
/// order, returning `Ok(false)` to stop. Checks the blocks (order, columns, entries) and, when
/// the read was not stopped, that it had all `n` rows.
fn for_each_batch(
    rows: &dyn RowBlocks,
    (n, m): (usize, usize),
    bs: usize,
    batch: &mut dyn FnMut(usize, CsrRef<'_>) -> Result<bool>,
) -> Result<()> {
    let mut pending = Pending::new();
    let mut next = 0usize;
    let mut end = bs.min(n);
    let mut stopped = false;
    let mut indptr = Vec::new();
    rows.for_each_block(&mut |first, xb| {
        if first != next || xb.ncols != m {
            return Err(Error::Runtime(format!(
                "internal error: a block of rows {first}.. with {} columns where rows {next}.. \
                 with {m} columns were expected",
                xb.ncols
            )));
        }
        if next + xb.nrows > n {
            return Err(Error::input(format!(
                "the matrix has more rows on this pass than the {n} of the first"
            )));
        }
        check_entries(xb, true, first)?;
        next += xb.nrows;
        let mut i = 0;
        while i < xb.nrows {
            let at = pending.first + pending.rows();
            let take = (end - at).min(xb.nrows - i);
            let go = if pending.rows() == 0 && at + take == end {
                // A whole batch inside the block: no copy.
                batch(at, row_block(xb, i, i + take, &mut indptr))?
            } else {
                pending.push(xb, i, i + take);
                if at + take < end {
                    true
                } else {
                    let go = batch(pending.first, pending.view(m))?;
                    pending.clear(end);
                    go
                }
            };
            i += take;
            if !go {
                stopped = true;
                return Ok(false);
            }
            if at + take == end {
                pending.clear(end);
                end = (end + bs).min(n);
            }
        }
        Ok(true)
    })?;
    if !stopped && next != n {
        return Err(Error::input(format!(
            "the matrix has {next} rows on this pass but {n} on the first"
        )));
    }
    Ok(())
}

/// Fits `params` (which must use the online solver) on the matrix read from `rows`, never
/// holding it whole (see the module docs). `progress` is told of the start, of each batch and
/// epoch, and of the last pass.
/// `last_pass(first, x_b, w_b, ht)` is called in the final pass with each batch of rows, their
/// final W (rows × k, row-major) and the final Hᵀ (m × k, row-major), in row order.
///
/// Errors: parameters of another solver; k larger than the matrix (or, for an NNDSVD start,
/// than the start's sample); custom factors of the wrong shape; bad entries of X; those of
/// reading the matrix and of `last_pass`.
pub fn fit_streamed(
    params: &NmfValidParams,
    rows: &dyn RowBlocks,
    progress: &mut dyn FnMut(StreamProgress),
    last_pass: &mut LastPass<'_>,
) -> Result<NmfModel> {
    fit_streamed_with(params, rows, START_ROWS, progress, last_pass)
}

/// [`fit_streamed`] starting from a sample of at most `max(start_rows, batch_size)` rows
/// (instead of [`START_ROWS`]).
pub fn fit_streamed_with(
    params: &NmfValidParams,
    rows: &dyn RowBlocks,
    start_rows: usize,
    progress: &mut dyn FnMut(StreamProgress),
    last_pass: &mut LastPass<'_>,
) -> Result<NmfModel> {
    let (model, _) = fit(params, rows, start_rows, None, progress, last_pass)?;
    Ok(model)
}

/// [`fit_streamed`] with W kept on disk, in an unlinked temporary file in the folder `dir`
/// ([`WFile`]), instead of in memory: the memory of the fit then does not grow with the rows.
/// Returns the model, whose W is 0 × k (its metrics are W's all the same), and the file with
/// the final W; the factors are those of [`fit_streamed`] bit for bit.
///
/// Errors: those of [`fit_streamed`], and of making, reading or writing the file.
pub fn fit_streamed_on_disk(
    params: &NmfValidParams,
    rows: &dyn RowBlocks,
    dir: &Path,
    progress: &mut dyn FnMut(StreamProgress),
    last_pass: &mut LastPass<'_>,
) -> Result<(NmfModel, WFile)> {
    fit_streamed_on_disk_with(params, rows, START_ROWS, dir, progress, last_pass)
}

/// [`fit_streamed_on_disk`] starting from a sample of at most `max(start_rows, batch_size)`
/// rows.
pub fn fit_streamed_on_disk_with(
    params: &NmfValidParams,
    rows: &dyn RowBlocks,
    start_rows: usize,
    dir: &Path,
    progress: &mut dyn FnMut(StreamProgress),
    last_pass: &mut LastPass<'_>,
) -> Result<(NmfModel, WFile)> {
    let (model, file) = fit(params, rows, start_rows, Some(dir), progress, last_pass)?;
    let file = file.ok_or_else(|| Error::Runtime("internal error: W is not on disk".into()))?;
    Ok((model, file))
}

/// The streamed fit, W in memory (`dir` `None`) or in a file in `dir`.
fn fit(
    params: &NmfValidParams,
    rows: &dyn RowBlocks,
    start_rows: usize,
    dir: Option<&Path>,
    progress: &mut dyn FnMut(StreamProgress),
    last_pass: &mut LastPass<'_>,
) -> Result<(NmfModel, Option<WFile>)> {
    let started = Instant::now();
    let p = params.params();
    let Method::Online { opts } = params.method() else {
        return Err(NmfError::Params(
            "a streamed fit needs the online solver (--solver online)".into(),
        )
        .into());
    };
    let (n, m) = rows.shape();
    if n == 0 || m == 0 {
        return Err(NmfError::Data(format!("X is empty ({n} documents × {m} terms)")).into());
    }
    let k = p.k;
    check_rank(k, n, m)?;
    // The solver runs at the rank of the register kernels (zero columns added).
    let kp = params.padded_rank();
    // What is held: W and Hᵀ with its statistics, or only the latter with W on disk.
    if dir.is_some() {
        crate::memory::check(
            &format!("-k {k}: H and the statistics of its update for {m} terms"),
            crate::memory::factor_bytes(0, m, kp).saturating_mul(3),
        )?;
    } else {
        crate::memory::check(
            &format!("-k {k}: W and H for {n} documents × {m} terms"),
            crate::memory::factor_bytes(n, m, kp),
        )?;
    }
    let bs = opts.batch_size.min(n).max(1);
    let kl = p.loss == Loss::Kl;

    // The start: W (rows 0..have_w) and Hᵀ.
    progress(StreamProgress::Start);
    let mut w = match dir {
        None => WStore::Memory(vec![0.0; n * kp]),
        Some(d) => WStore::File(WFile::zeros_in(d, n, k)?, Vec::new(), Vec::new()),
    };
    let (ht, have_w) = if p.init == Init::Custom {
        let (Some(w0), Some(h0)) = (&p.w0, &p.h0) else {
            return Err(NmfError::Params("--init custom needs --w0 and --h0".into()).into());
        };
        check_custom_factors(n, m, k, w0, h0)?;
        w.set_first_rows(w0, kp)?;
        (pad_columns(transposed(h0), k, kp), n)
    } else {
        // Evenly spaced rows i·n/S, i < S: a sample of every part of the corpus (the first
        // rows of a corpus read folder by folder may hold a single topic).
        let sample_rows = start_rows.max(bs).min(n);
        let sample: Vec<usize> = (0..sample_rows).map(|i| i * n / sample_rows).collect();
        let xs = rows.rows_at(&sample)?;
        if xs.rows() != sample_rows || xs.cols() != m || !xs.is_csr() {
            return Err(Error::Runtime(format!(
                "internal error: the start's sample is {} × {}, not {sample_rows} × {m}",
                xs.rows(),
                xs.cols()
            )));
        }
        let indptr = xs.indptr();
        let xr = CsrRef {
            nrows: sample_rows,
            ncols: m,
            indptr: indptr.raw_storage(),
            indices: xs.indices(),
            data: xs.data(),
        };
        let mut one = Vec::new();
        for (i, &r) in sample.iter().enumerate() {
            check_entries(row_block(xr, i, i + 1, &mut one), true, r)?;
        }
        let (w0, h0) = initialize(&xs, k, p.init, p.seed, None, None)?;
        // The whole corpus sampled: its W0 is every row's start, as in memory.
        let have_w = if sample_rows == n {
            w.set_first_rows(&w0, kp)?;
            n
        } else {
            0
        };
        (pad_columns(transposed(&h0), k, kp), have_w)
    };
    let init_seconds = started.elapsed().as_secs_f64();

    let alpha_h = p.alpha_h.unwrap_or(p.alpha_w);
    let mut state =
        MiniBatch::new(ht, kp, kl, opts, n, p.alpha_w, alpha_h, p.l1_ratio, p.tol).with_rank(k);
    let mut history = Vec::new();
    let mut converged = false;
    // Rows 0..reached have been through a step.
    let mut reached = 0usize;
    let loop_started = Instant::now();
    for epoch in 1..=p.max_iter {
        let mut objective = 0.0;
        let mut done = 0usize;
        for_each_batch(rows, (n, m), bs, &mut |r0, xb| {
            reached = reached.max(r0 + xb.nrows);
            let report = w.with_rows(r0, xb.nrows, (k, kp), true, |wb| {
                // (With fresh restarts the step solves every batch's W itself.)
                if r0 >= have_w && epoch == 1 && !opts.fresh_restarts {
                    let fresh = state.solve_w(xb, opts.fresh_restarts_max_iter);
                    wb.copy_from_slice(&fresh);
                }
                state.step(xb, wb, true)
            })?;
            objective += report.cost * xb.nrows as f64;
            done += xb.nrows;
            progress(StreamProgress::Batch {
                epoch,
                rows: done,
                cost: report.smoothed,
            });
            converged = report.stop;
            Ok(!report.stop)
        })?;
        history.push(objective);
        progress(StreamProgress::Epoch { epoch, objective });
        if converged {
            break;
        }
    }
    let loop_seconds = loop_started.elapsed().as_secs_f64();

    // The final pass: W of fresh restarts, the evaluation, the caller's outputs.
    let ht = state.ht().to_vec();
    // The caller's Hᵀ and batches of W are rank k.
    let ht_k = unpad_columns(ht.clone(), kp, k);
    let mut wb_k = Vec::new();
    let (mut logsum, mut cross, mut x_sq, mut x_sum) = (0.0, 0.0, 0.0, 0.0);
    let mut done = 0usize;
    for_each_batch(rows, (n, m), bs, &mut |r0, xb| {
        // Rows the first epoch did not reach before the stop have no W yet: solved as the
        // first epoch solves a new batch's.
        let solve = opts.fresh_restarts || r0 >= have_w.max(reached);
        w.with_rows(r0, xb.nrows, (k, kp), solve, |wb| {
            if opts.fresh_restarts {
                let solved = state.solve_w(xb, p.max_iter);
                wb.copy_from_slice(&solved);
            } else if solve {
                let solved = state.solve_w(xb, opts.fresh_restarts_max_iter);
                wb.copy_from_slice(&solved);
            }
            let (l, c) = eval_at_nonzeros_with(xb, wb, &ht, kp, kl);
            logsum += l;
            cross += c;
            x_sq += xb.data.iter().map(|v| v * v).sum::<f64>();
            x_sum += xb.data.iter().filter(|v| **v > EPSILON).sum::<f64>();
            let wb = if kp == k {
                &wb[..]
            } else {
                wb_k.resize(xb.nrows * k, 0.0);
                copy_columns(wb, kp, &mut wb_k, k);
                &wb_k[..]
            };
            last_pass(r0, xb, wb, &ht_k)
        })??;
        done += xb.nrows;
        progress(StreamProgress::Final { rows: done });
        Ok(true)
    })?;
    // W's statistics (and, on disk, its metrics), a window of rows at a time.
    // (Those of the padded W, as the in-memory fit takes them.)
    let mut w_norms = ColumnNorms::new(k);
    let fw = match &w {
        WStore::Memory(w) => factor_stats(w, kp, true),
        WStore::File(file, _, _) => {
            let mut sum = FactorStatsSum::new(kp, true);
            file.for_each_block(FactorStatsSum::WINDOW_ROWS, &mut |_, v| {
                w_norms.add_rows(v);
                sum.add_window(&pad_columns(v.to_vec(), k, kp));
                Ok(())
            })?;
            sum.finish()
        }
    };
    let fh = factor_stats(&ht, kp, true);
    let eval = Evaluation::of_sums(
        [logsum, cross, x_sq, x_sum],
        &fw,
        &fh,
        kl,
        &params.regularization(n, m),
    );
    let loss = eval.loss;
    // As the driver does: the last epoch's figure becomes the evaluated objective, so the
    // history ends at the reported loss.
    if let Some(last) = history.last_mut() {
        *last = loss;
    }
    let seconds = started.elapsed().as_secs_f64();
    let (w, file) = match w {
        WStore::Memory(w) => (unpad_columns(w, kp, k), None),
        WStore::File(file, _, _) => (Vec::new(), Some(file)),
    };
    let run = Run {
        w,
        ht: ht_k,
        iterations: history.len(),
        history,
        converged,
        loop_seconds,
        eval,
    };
    let method = params.method();
    Ok(match file {
        None => (
            model::assemble(run, n, m, k, seconds, init_seconds, method),
            None,
        ),
        Some(file) => (
            model::assemble_without_w(run, &w_norms, m, k, seconds, init_seconds, method),
            Some(file),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nmf::online::OnlineOptions;
    use crate::nmf::{NmfParams, Solver};
    use ndarray::Array2;

    fn sample(n: usize, m: usize, seed: u64) -> Matrix {
        let mut t = crate::matrix::Triplets::new((n, m));
        let mut s = seed;
        for i in 0..n {
            for j in 0..m {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                if (s >> 33).is_multiple_of(3) {
                    t.add_triplet(i, j, ((s >> 40) % 1000) as f64 / 250.0 + 0.01);
                }
            }
        }
        t.to_csr()
    }

    fn online(k: usize, loss: Loss, batch: usize, fresh: bool) -> NmfParams {
        let mut p = NmfParams::new(k);
        p.loss = loss;
        p.solver = Some(Solver::Online);
        p.online = Some(OnlineOptions {
            batch_size: batch,
            fresh_restarts: fresh,
            ..OnlineOptions::default()
        });
        p.max_iter = 6;
        p.tol = 0.0;
        p
    }

    fn custom(mut p: NmfParams, x: &Matrix) -> NmfParams {
        let (w0, h0) = initialize(x, p.k, Init::Random, 3, None, None).unwrap();
        p.init = Init::Custom;
        p.w0 = Some(w0);
        p.h0 = Some(h0);
        p
    }

    fn bits(a: &Array2<f64>) -> Vec<u64> {
        a.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn from_the_same_start_a_streamed_fit_is_the_in_memory_fit_whatever_the_blocks() {
        let x = sample(53, 17, 7);
        for loss in [Loss::Frobenius, Loss::Kl] {
            let p = custom(online(3, loss, 8, false), &x).check().unwrap();
            let memory = p.fit(&x, &mut |_, _| {}).unwrap();
            for block in [1, 5, 8, 13, 53, 100] {
                let blocks = MatrixBlocks::new(&x, block).unwrap();
                let mut seen = Vec::new();
                let streamed = fit_streamed(&p, &blocks, &mut |_| {}, &mut |r0, xb, wb, _| {
                    seen.push((r0, xb.nrows, wb.len()));
                    Ok(())
                })
                .unwrap();
                assert_eq!(
                    bits(&streamed.w),
                    bits(&memory.w),
                    "{loss:?} W, blocks of {block}"
                );
                assert_eq!(
                    bits(&streamed.h),
                    bits(&memory.h),
                    "{loss:?} H, blocks of {block}"
                );
                assert_eq!(streamed.iterations, memory.iterations);
                // Both record each epoch's Σ_b |b|·cost_b, then the evaluated loss.
                let hist = |m: &NmfModel| -> Vec<u64> {
                    let h = &m.history[..m.history.len() - 1];
                    h.iter().map(|v| v.to_bits()).collect()
                };
                assert_eq!(
                    hist(&streamed),
                    hist(&memory),
                    "{loss:?} history, blocks of {block}"
                );
                let (a, b) = (streamed.metrics.loss, memory.metrics.loss);
                assert!((a - b).abs() <= 1e-12 * b.abs(), "{loss:?} loss {a} vs {b}");
                let (a, b) = (
                    streamed.metrics.explained_variance,
                    memory.metrics.explained_variance,
                );
                assert!(
                    (a - b).abs() <= 1e-12,
                    "{loss:?} explained variance {a} vs {b}"
                );
                // The last pass saw every row once, in batches, in order.
                let mut next = 0;
                for (r0, rows, wl) in seen {
                    assert_eq!(r0, next);
                    assert_eq!(wl, rows * 3);
                    next += rows;
                }
                assert_eq!(next, 53);
            }
        }
    }

    /// W read back from the file of a fit on disk.
    fn w_of(file: &WFile) -> Array2<f64> {
        let (n, k) = file.shape();
        let mut v = vec![0.0; n * k];
        file.read_rows(0, &mut v).unwrap();
        Array2::from_shape_vec((n, k), v).unwrap()
    }

    #[test]
    fn w_on_disk_gives_the_bits_of_w_in_memory() {
        let x = sample(80, 15, 3);
        let dir = tempfile::tempdir().unwrap();
        // A custom start; a sample start (16 of 80 rows); a stop within the first epoch;
        // fresh restarts; KL.
        let mut stop_early = online(3, Loss::Frobenius, 8, false);
        stop_early.online.as_mut().unwrap().max_no_improvement = Some(1);
        stop_early.tol = 0.5;
        let cases = [
            custom(online(3, Loss::Frobenius, 8, false), &x),
            online(3, Loss::Frobenius, 8, false),
            stop_early,
            online(3, Loss::Frobenius, 8, true),
            online(2, Loss::Kl, 16, false),
        ];
        for (c, p) in cases.into_iter().enumerate() {
            let p = p.check().unwrap();
            let blocks = MatrixBlocks::new(&x, 11).unwrap();
            let mut memory_pass = Vec::new();
            let memory = fit_streamed_with(&p, &blocks, 16, &mut |_| {}, &mut |r0, _, wb, _| {
                memory_pass.push((
                    r0,
                    bits(&Array2::from_shape_vec((1, wb.len()), wb.to_vec()).unwrap()),
                ));
                Ok(())
            })
            .unwrap();
            let mut disk_pass = Vec::new();
            let (disk, file) = fit_streamed_on_disk_with(
                &p,
                &blocks,
                16,
                dir.path(),
                &mut |_| {},
                &mut |r0, _, wb, _| {
                    disk_pass.push((
                        r0,
                        bits(&Array2::from_shape_vec((1, wb.len()), wb.to_vec()).unwrap()),
                    ));
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(disk.w.dim(), (0, p.params().k), "case {c}");
            assert_eq!(bits(&w_of(&file)), bits(&memory.w), "case {c}: W");
            assert_eq!(bits(&disk.h), bits(&memory.h), "case {c}: H");
            assert_eq!(disk_pass, memory_pass, "case {c}: the last pass's W");
            assert_eq!(disk.history.len(), memory.history.len());
            for (a, b) in disk.history.iter().zip(&memory.history) {
                assert_eq!(a.to_bits(), b.to_bits(), "case {c}: history");
            }
            let (a, b) = (&disk.metrics, &memory.metrics);
            for (what, u, v) in [
                ("loss", a.loss, b.loss),
                ("divergence", a.divergence, b.divergence),
                (
                    "explained variance",
                    a.explained_variance,
                    b.explained_variance,
                ),
                ("sparsity of W", a.sparsity_w, b.sparsity_w),
                ("zeros of W", a.zeros_w, b.zeros_w),
                ("sparsity of H", a.sparsity_h, b.sparsity_h),
            ] {
                assert_eq!(u.to_bits(), v.to_bits(), "case {c}: {what} {u} vs {v}");
            }
            assert_eq!(
                (a.iterations, a.converged),
                (b.iterations, b.converged),
                "case {c}"
            );
        }
        // The files were unlinked: nothing is left in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // A folder that cannot take the file is an error naming it, before any pass.
        let p = online(3, Loss::Frobenius, 8, false).check().unwrap();
        let blocks = MatrixBlocks::new(&x, 11).unwrap();
        let missing = dir.path().join("missing");
        let e = fit_streamed_on_disk(&p, &blocks, &missing, &mut |_| {}, &mut |_, _, _, _| {
            panic!("no pass")
        })
        .unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
    }

    #[test]
    fn a_streamed_fit_from_its_own_start_lowers_the_cost_and_is_deterministic() {
        let x = sample(60, 20, 11);
        let mut p = online(4, Loss::Frobenius, 10, false);
        p.max_iter = 30;
        let p = p.check().unwrap();
        // A start from 10 of the 60 rows: the later rows' W is solved in the first epoch.
        let run = || {
            let blocks = MatrixBlocks::new(&x, 7).unwrap();
            fit_streamed_with(&p, &blocks, 5, &mut |_| {}, &mut |_, _, _, _| Ok(())).unwrap()
        };
        let a = run();
        let b = run();
        assert_eq!(bits(&a.w), bits(&b.w));
        assert_eq!(bits(&a.h), bits(&b.h));
        assert!(a.w.iter().chain(a.h.iter()).all(|v| *v >= 0.0));
        let first = a.history[0];
        let last = *a.history.last().unwrap();
        assert!(last < first, "epoch objective {first} → {last}");
        // The final evaluation is the whole matrix's: recompute it densely.
        let wh = a.w.dot(&a.h);
        let dense = x.to_dense();
        let resid: f64 = (&dense - &wh).iter().map(|v| v * v).sum();
        assert!((a.metrics.divergence - 0.5 * resid).abs() <= 1e-9 * resid);
    }

    #[test]
    fn rows_after_a_stop_in_the_first_epoch_get_their_w_in_the_last_pass() {
        let x = sample(80, 15, 3);
        let mut p = online(3, Loss::Frobenius, 8, false);
        p.online.as_mut().unwrap().max_no_improvement = Some(1);
        p.tol = 0.5;
        let p = p.check().unwrap();
        let blocks = MatrixBlocks::new(&x, 11).unwrap();
        let mut reached = 0;
        let m = fit_streamed_with(
            &p,
            &blocks,
            8,
            &mut |e| {
                if let StreamProgress::Batch { rows, epoch: 1, .. } = e {
                    reached = rows;
                }
            },
            &mut |_, _, _, _| Ok(()),
        )
        .unwrap();
        assert_eq!(m.iterations, 1);
        assert!(
            reached < 80,
            "the fit stopped within the first epoch ({reached} rows)"
        );
        for (i, row) in m.w.rows().into_iter().enumerate() {
            let has_terms = x.outer_view(i).is_some_and(|r| r.nnz() > 0);
            assert!(
                !has_terms || row.iter().any(|v| *v > 0.0),
                "row {i} (reached {reached}) has no W"
            );
        }
    }

    #[test]
    fn fresh_restarts_solve_the_final_w_batch_by_batch() {
        let x = sample(40, 12, 5);
        let p = custom(online(2, Loss::Kl, 16, true), &x).check().unwrap();
        let blocks = MatrixBlocks::new(&x, 9).unwrap();
        let m = fit_streamed(&p, &blocks, &mut |_| {}, &mut |_, _, _, _| Ok(())).unwrap();
        assert!(m.w.iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!(m.metrics.divergence.is_finite());
    }

    #[test]
    fn bad_settings_and_bad_entries_are_refused() {
        let x = sample(30, 10, 1);
        let blocks = MatrixBlocks::new(&x, 4).unwrap();
        let mut mu = NmfParams::new(2);
        mu.solver = Some(Solver::Mu);
        let e = fit_streamed(
            &mu.check().unwrap(),
            &blocks,
            &mut |_| {},
            &mut |_, _, _, _| Ok(()),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--solver online"), "{e}");
        // An error of the caller's last pass ends the fit.
        let p = online(2, Loss::Frobenius, 8, false).check().unwrap();
        let e = fit_streamed(&p, &blocks, &mut |_| {}, &mut |_, _, _, _| {
            Err(Error::Runtime("disk full".into()))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "disk full");
    }

    /// Blocks whose second read has fewer rows, or a negative entry.
    struct Shifty<'a>(MatrixBlocks<'a>, std::cell::Cell<usize>, bool);

    impl RowBlocks for Shifty<'_> {
        fn shape(&self) -> (usize, usize) {
            self.0.shape()
        }
        fn for_each_block(
            &self,
            f: &mut dyn FnMut(usize, CsrRef<'_>) -> Result<bool>,
        ) -> Result<()> {
            let read = self.1.get();
            self.1.set(read + 1);
            let negative = self.2;
            self.0.for_each_block(&mut |r0, xb| {
                if read >= 1 && r0 >= 20 && !negative {
                    return Ok(true);
                }
                if negative && r0 >= 20 {
                    let data: Vec<f64> = xb.data.iter().map(|v| -v).collect();
                    let yb = CsrRef { data: &data, ..xb };
                    return f(r0, yb);
                }
                f(r0, xb)
            })
        }
    }

    #[test]
    fn a_matrix_that_changes_between_passes_is_an_error() {
        let x = sample(30, 10, 2);
        let p = online(2, Loss::Frobenius, 8, false).check().unwrap();
        let s = Shifty(MatrixBlocks::new(&x, 4).unwrap(), 0.into(), false);
        let e = fit_streamed(&p, &s, &mut |_| {}, &mut |_, _, _, _| Ok(())).unwrap_err();
        assert!(e.to_string().contains("rows on this pass"), "{e}");
        let s = Shifty(MatrixBlocks::new(&x, 4).unwrap(), 0.into(), true);
        let e = fit_streamed(&p, &s, &mut |_| {}, &mut |_, _, _, _| Ok(())).unwrap_err();
        assert!(e.to_string().contains("negative entry"), "{e}");
        assert!(e.to_string().contains("row 21"), "{e}");
    }
}
