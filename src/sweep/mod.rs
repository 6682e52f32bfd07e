//! Choosing k: fit a range of k, each with restarts, measure every fit, recommend one.
//!
//! [`sweep`] takes the matrix (vectorized once by the caller) and for every k of a [`KRange`]
//! runs R restarts ([`crate::restarts`]) with the parameters' solver, then measures the best fit
//! of each k ([`SweepRow`]): objective and its spread over the restarts, reconstruction error,
//! explained variance, sparsity, mean coherence (UMass and NPMI by document co-occurrence,
//! window NPMI when the token streams are given), topic diversity, stability of the topics
//! across the restarts, Brunet's cophenetic correlation, agreement with labels when given, and
//! seconds.
//!
//! # What is reused
//! With an NNDSVD initialization (nndsvd, nndsvda, nndsvdar) one randomized SVD at the largest
//! k is computed, and the first restart of every k starts from its leading k triplets
//! ([`crate::nmf::init::nndsvd_from_svd`]); nndsvdar's later restarts reuse it too, with their
//! own seeds for the random fill. Later restarts of nndsvd/nndsvda start at random
//! ([`crate::restarts::restart_params`]). A fit with restart r of k therefore gives the same bits
//! as `fit` with `-k k --seed seed+r` only for random starts; the NNDSVD start of a sweep comes
//! from the SVD at the largest k (seeded with `seed`).
//!
//! # Parallelism
//! The fits are independent, so with several threads in the current rayon pool they run side
//! by side, one fit per worker, each on a single-threaded pool of its own (no nested
//! parallelism, never more busy threads than the pool has); [`Parallelism::Auto`] does this
//! whenever there are at least two fits and two threads. Measured on 2 cores with `mu`
//! (Debian matrix 63,681 × 13,699, k = 5..40:5, 3 restarts): fitting took 53.6 s side by side
//! against 99.3 s one fit at a time with the parallel kernels, run back to back (the kernels
//! kept 1.1 cores busy on average, the side-by-side fits 1.75); on the 303-document sample
//! corpus 1.8 s against 2.2 s (medians of 3). When other processes hold the cores both modes
//! get the same CPU time and take about as long. Jobs are taken largest k first so the long
//! fits do not come last. A fit's result does not depend on its thread count, so the sweep
//! gives the same numbers either way (a test checks the bits).
//!
//! # Progress and cancellation
//! `progress` receives a [`SweepEvent`] after the SVD, after every iteration and every finished
//! fit (from the worker threads), and after each k is measured. `cancel` is checked before
//! every fit: once set, no new fit starts, the running ones finish, and the ks whose restarts
//! all finished are measured and returned ([`SweepResult::cancelled`]).
//!
//! # The recommended k
//! [`recommend`]: among the ks whose mean NPMI is within `npmi_margin` (default
//! [`DEFAULT_NPMI_MARGIN`]) of the best mean NPMI of the sweep, the one with the highest
//! cophenetic correlation of the restarts' consensus (Brunet et al. 2004), then the highest
//! stability; with one restart (no consensus), the highest NPMI; remaining ties go to the
//! smaller k. The consensus asks whether every start puts the same documents together: at a k
//! that matches the corpus's structure the restarts agree, while one k too many or too few
//! forces arbitrary splits or merges that differ from start to start. The NPMI margin keeps
//! out the ks whose topics are clearly less coherent than the best (typically very small k,
//! where a few broad topics are reproducible but say little). NPMI alone keeps rising with k
//! on many corpora as topics split into coherent sub-topics, and the stability of matched
//! topic-word vectors is pulled down by any restart that falls into a poorer local minimum;
//! on `corpora/sample` (8 subjects) the cophenetic rule recommended 6–10 in 60 of 60 cases
//! with `hals` (10 seeds × 6 ranges of k, 3 restarts) and 56 of 60 with `mu`, where the
//! stability rule managed 15 and 38.
//!
//! # Outputs
//! [`output`] writes `sweep.json`, `sweep.csv` and the self-contained `sweep.html`.

pub mod output;

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::matrix::Matrix;
use serde::Serialize;

use crate::nmf::init::nndsvd_from_svd;
use crate::nmf::svd::{randomized_svd, TruncatedSvd};
use crate::nmf::{Init, NmfModel, NmfParams};
use crate::restarts::{
    better, check_restarts, restart_params, RestartRun, RestartSummary, Restarts,
};
use crate::topics::quality::{self, LabelAgreement, QualityOptions, TokenStreams};
use crate::{Error, Result};

/// Default NPMI margin of [`recommend`].
pub const DEFAULT_NPMI_MARGIN: f64 = 0.1;

/// A range of k: `start..end:step` with `end` included (`5..40:5` is 5, 10, …, 40), or one k.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KRange {
    /// First k.
    pub start: usize,
    /// Last k (included when reached by the steps).
    pub end: usize,
    /// Step.
    pub step: usize,
}

impl KRange {
    /// The range `start..=end` by `step`, unchecked.
    pub fn new(start: usize, end: usize, step: usize) -> Self {
        KRange { start, end, step }
    }

    /// Parses `START..END:STEP`, `START..END` (step 1) or `K`. Errors ([`Error::Input`]) name
    /// the option `-k` and cover malformed text, k = 0, a reversed range and a step of 0.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |why: &str| Error::input(format!("-k {s}: {why}"));
        let num = |t: &str, what: &str| -> Result<usize> {
            t.trim()
                .parse::<usize>()
                .map_err(|_| bad(&format!("{what} '{t}' is not a whole number")))
        };
        let (range, step) = match s.split_once(':') {
            Some((r, st)) => (r, num(st, "the step")?),
            None => (s, 1),
        };
        let (start, end) = match range.split_once("..") {
            Some((a, b)) => (
                num(a, "the start")?,
                num(b.trim_start_matches('='), "the end")?,
            ),
            None if !s.contains(':') => {
                let k = num(range, "k")?;
                (k, k)
            }
            None => return Err(bad("expected START..END:STEP, START..END or K")),
        };
        let r = KRange { start, end, step };
        r.check_shape()?;
        Ok(r)
    }

    fn check_shape(&self) -> Result<()> {
        let bad = |why: String| Err(Error::input(format!("-k {self}: {why}")));
        if self.step == 0 {
            return bad("the step must be at least 1".into());
        }
        if self.start == 0 {
            return bad("k must be at least 1".into());
        }
        if self.start > self.end {
            return bad(format!(
                "the range is empty (start {} > end {})",
                self.start, self.end
            ));
        }
        Ok(())
    }

    /// Checks the range against a matrix of `n` documents and `m` terms: a non-empty range of
    /// ks ≥ 1 with a step ≥ 1 and no k above min(n, m). Errors name `-k`.
    pub fn check(&self, n: usize, m: usize) -> Result<()> {
        self.check_shape()?;
        let top = *self.ks().last().expect("non-empty");
        if top > n.min(m) {
            return Err(Error::input(format!(
                "-k {self}: k = {top} is larger than min(documents, terms) = {} of the matrix",
                n.min(m)
            )));
        }
        Ok(())
    }

    /// The ks, ascending.
    pub fn ks(&self) -> Vec<usize> {
        if self.step == 0 || self.start > self.end {
            return Vec::new();
        }
        (self.start..=self.end).step_by(self.step).collect()
    }
}

impl fmt::Display for KRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}..{}:{}", self.start, self.end, self.step)
        }
    }
}

impl FromStr for KRange {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        KRange::parse(s)
    }
}

/// How the fits of a sweep use the threads of the current rayon pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parallelism {
    /// Several fits at once when there are at least two fits and two threads, else
    /// [`Parallelism::Kernels`].
    #[default]
    Auto,
    /// This many fits at once, each single-threaded (capped at the pool's threads and the
    /// number of fits).
    Fits(usize),
    /// One fit at a time, with the parallel kernels on the whole pool.
    Kernels,
}

/// Settings of a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The ks to fit.
    pub ks: KRange,
    /// Restarts per k (R ≥ 1).
    pub restarts: usize,
    /// The fit's parameters; `k` is replaced by each k of the range, `seed` is the first
    /// restart's seed.
    pub params: NmfParams,
    /// Words scored by the coherence and diversity measures.
    pub quality: QualityOptions,
    /// Threads: fits side by side or parallel kernels.
    pub parallelism: Parallelism,
    /// The NPMI margin of [`recommend`].
    pub npmi_margin: f64,
    /// Keep each k's best model (W included) in [`SweepResult::models`].
    pub keep_models: bool,
}

impl SweepOptions {
    /// A sweep over `ks` with `restarts` restarts and the default parameters otherwise.
    pub fn new(ks: KRange, restarts: usize) -> Self {
        SweepOptions {
            ks,
            restarts,
            params: NmfParams::default(),
            quality: QualityOptions::default(),
            parallelism: Parallelism::Auto,
            npmi_margin: DEFAULT_NPMI_MARGIN,
            keep_models: false,
        }
    }
}

/// What a sweep measures on.
#[derive(Debug, Clone, Copy)]
pub struct SweepInput<'a> {
    /// The document-term matrix (documents × terms).
    pub x: &'a Matrix,
    /// The analyzed texts as token streams, for the window NPMI (when fitting from text).
    pub streams: Option<&'a TokenStreams>,
    /// One label per document (row order), for the agreement measures.
    pub labels: Option<&'a [Option<&'a str>]>,
}

/// Progress of a sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SweepEvent {
    /// The shared SVD is computed.
    Svd {
        /// Its rank (the largest k).
        rank: usize,
        /// Seconds it took.
        seconds: f64,
    },
    /// An iteration of a fit finished.
    Iteration {
        /// The fit's k.
        k: usize,
        /// Its restart.
        restart: usize,
        /// The iteration.
        iteration: usize,
    },
    /// A fit finished.
    Fit {
        /// Its k.
        k: usize,
        /// Its restart.
        restart: usize,
        /// Its objective.
        objective: f64,
        /// Its seconds.
        seconds: f64,
        /// Fits finished so far.
        done: usize,
        /// Fits in the sweep.
        total: usize,
    },
    /// A k is measured.
    Measured {
        /// The k.
        k: usize,
    },
}

/// The measures of one k.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRow {
    /// The number of topics.
    pub k: usize,
    /// Restarts fitted.
    pub restarts: usize,
    /// The restart with the lowest objective.
    pub best_restart: usize,
    /// The best objective.
    pub objective: f64,
    /// Highest objective over the restarts (the lowest is `objective`).
    pub objective_max: f64,
    /// Reconstruction error of the best fit.
    pub reconstruction_error: f64,
    /// Explained variance of the best fit.
    pub explained_variance: f64,
    /// Mean Hoyer sparsity of W's columns (best fit).
    pub sparsity_w: f64,
    /// Mean Hoyer sparsity of H's rows (best fit).
    pub sparsity_h: f64,
    /// Mean UMass of the topics' top words (best fit).
    pub umass: Option<f64>,
    /// Mean NPMI by document co-occurrence (best fit).
    pub npmi: Option<f64>,
    /// Mean window NPMI (gensim's `c_npmi`, best fit), when the token streams are given.
    pub c_npmi: Option<f64>,
    /// Topic diversity (best fit).
    pub diversity: Option<f64>,
    /// Stability of the topics across the restarts (`None` for one restart).
    pub stability: Option<f64>,
    /// Cophenetic correlation of the consensus (`None` for one restart).
    pub cophenetic: Option<f64>,
    /// Agreement of the best fit's dominant topics with the labels, when given.
    pub labels: Option<LabelAgreement>,
    /// Iterations of the best fit.
    pub iterations: usize,
    /// Whether the best fit converged.
    pub converged: bool,
    /// Seconds of fitting (all restarts, summed) and measuring this k.
    pub seconds: f64,
    /// Of `seconds`, the measuring.
    pub measure_seconds: f64,
}

/// Wall-clock seconds of the phases of a sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SweepTiming {
    /// The shared SVD.
    pub svd: f64,
    /// All fits (wall clock; the fits run side by side).
    pub fitting: f64,
    /// All measures.
    pub measuring: f64,
    /// The whole sweep.
    pub total: f64,
}

/// The result of [`sweep`].
#[derive(Debug, Clone)]
pub struct SweepResult {
    /// The ks asked for.
    pub ks: KRange,
    /// Restarts per k.
    pub restarts: usize,
    /// The base parameters.
    pub params: NmfParams,
    /// One row per finished k, ascending.
    pub rows: Vec<SweepRow>,
    /// The recommended k ([`recommend`]).
    pub recommended: Option<usize>,
    /// The NPMI margin used by the recommendation.
    pub npmi_margin: f64,
    /// Whether the sweep was cancelled (rows hold only the finished ks).
    pub cancelled: bool,
    /// Timing of the phases.
    pub timing: SweepTiming,
    /// Fits run side by side (1: one at a time with parallel kernels).
    pub parallel_fits: usize,
    /// With [`SweepOptions::keep_models`]: each finished k's best model, ascending k.
    pub models: Vec<(usize, NmfModel)>,
    /// Each finished k's restarts (objectives, winner, per-topic stability), ascending k.
    pub summaries: Vec<(usize, RestartSummary)>,
}

impl SweepResult {
    /// The row of `k`.
    pub fn row(&self, k: usize) -> Option<&SweepRow> {
        self.rows.iter().find(|r| r.k == k)
    }
}

/// The recommended k of `rows` (see the module documentation): among the rows whose NPMI is
/// within `margin` of the best NPMI, the highest cophenetic correlation, then the highest
/// stability; without restarts (no cophenetic correlation), the best NPMI; remaining ties to
/// the smaller k. `None` when no row has an NPMI.
pub fn recommend(rows: &[SweepRow], margin: f64) -> Option<usize> {
    let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
    let best = rows
        .iter()
        .filter_map(|r| finite(r.npmi))
        .fold(f64::NEG_INFINITY, f64::max);
    if !best.is_finite() {
        return None;
    }
    let mut candidates: Vec<&SweepRow> = rows
        .iter()
        .filter(|r| finite(r.npmi).is_some_and(|v| v >= best - margin))
        .collect();
    candidates.sort_by_key(|r| r.k);
    let with_consensus = candidates.iter().any(|r| finite(r.cophenetic).is_some());
    let low = f64::NEG_INFINITY;
    let score = |r: &SweepRow| {
        if with_consensus {
            (
                finite(r.cophenetic).unwrap_or(low),
                finite(r.stability).unwrap_or(low),
            )
        } else {
            (finite(r.npmi).unwrap_or(low), 0.0)
        }
    };
    let mut pick: Option<&SweepRow> = None;
    for r in candidates {
        if pick.is_none_or(|p| score(r) > score(p)) {
            pick = Some(r);
        }
    }
    pick.map(|r| r.k)
}

/// One fit of the sweep: (k, restart).
#[derive(Debug, Clone, Copy)]
struct Job {
    k: usize,
    restart: usize,
    slot: usize,
}

/// The finished runs of one k.
#[derive(Default)]
struct Slot {
    runs: Vec<RestartRun>,
    best: Option<(usize, NmfModel)>,
    fit_seconds: f64,
}

/// Fits every k of `opts.ks` with `opts.restarts` restarts and measures each (see the module
/// documentation).
///
/// Errors ([`Error::Input`] naming the option): a bad k range or one beyond the matrix (`-k`),
/// no restarts (`--restarts`), `--init custom`, invalid parameters; any fit's error.
pub fn sweep(
    input: &SweepInput<'_>,
    opts: &SweepOptions,
    progress: &(dyn Fn(&SweepEvent) + Sync),
    cancel: &AtomicBool,
) -> Result<SweepResult> {
    let start = Instant::now();
    let x = input.x;
    let (n, m) = x.shape();
    opts.ks.check(n, m)?;
    check_restarts(opts.restarts)?;
    if opts.params.init == Init::Custom {
        return Err(Error::input(
            "--init custom cannot be used with sweep: the starting factors are for one k",
        ));
    }
    let mut base = opts.params.clone();
    base.w0 = None;
    base.h0 = None;
    base.clone().check()?;
    if let Some(labels) = input.labels {
        if labels.len() != n {
            return Err(Error::input(format!(
                "{} labels for a matrix of {n} documents",
                labels.len()
            )));
        }
    }
    let ks = opts.ks.ks();
    let k_max = *ks.last().expect("a checked range is non-empty");

    // the shared SVD
    let uses_svd = matches!(base.init, Init::Nndsvd | Init::Nndsvda | Init::Nndsvdar);
    let t = Instant::now();
    let svd: Option<TruncatedSvd> = if uses_svd {
        Some(randomized_svd(x, k_max, base.seed)?)
    } else {
        None
    };
    let svd_seconds = t.elapsed().as_secs_f64();
    if uses_svd {
        progress(&SweepEvent::Svd {
            rank: k_max,
            seconds: svd_seconds,
        });
    }

    // the fits, largest k first
    let mut jobs: Vec<Job> = Vec::with_capacity(ks.len() * opts.restarts);
    for (slot, &k) in ks.iter().enumerate().rev() {
        for restart in 0..opts.restarts {
            jobs.push(Job { k, restart, slot });
        }
    }
    let threads = rayon::current_num_threads().max(1);
    let workers = match opts.parallelism {
        Parallelism::Kernels => 1,
        Parallelism::Fits(w) => w.clamp(1, threads).min(jobs.len()),
        Parallelism::Auto => {
            if threads >= 2 && jobs.len() >= 2 {
                threads.min(jobs.len())
            } else {
                1
            }
        }
    };
    let slots: Vec<Mutex<Slot>> = ks.iter().map(|_| Mutex::new(Slot::default())).collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<(usize, Error)>> = Mutex::new(None);
    let total = jobs.len();
    let fit_start = Instant::now();
    let run_jobs = || loop {
        if cancel.load(Ordering::Relaxed) || failed.load(Ordering::Relaxed) {
            break;
        }
        let j = next.fetch_add(1, Ordering::Relaxed);
        let Some(&job) = jobs.get(j) else { break };
        match fit_job(x, &base, svd.as_ref(), job, progress) {
            Ok((params, model)) => {
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(&SweepEvent::Fit {
                    k: job.k,
                    restart: job.restart,
                    objective: model.metrics.loss,
                    seconds: model.seconds,
                    done: finished,
                    total,
                });
                let run = RestartRun::from_model(job.restart, &params, &model);
                let mut slot = slots[job.slot].lock().expect("no panics while held");
                slot.fit_seconds += model.seconds;
                let wins = match &slot.best {
                    None => true,
                    Some((i, b)) => better(model.metrics.loss, job.restart, b.metrics.loss, *i),
                };
                if wins {
                    slot.best = Some((job.restart, model));
                }
                slot.runs.push(run);
            }
            Err(e) => {
                failed.store(true, Ordering::Relaxed);
                let mut first = first_error.lock().expect("no panics while held");
                if first.as_ref().is_none_or(|(i, _)| j < *i) {
                    *first = Some((j, e));
                }
                break;
            }
        }
    };
    if workers <= 1 {
        run_jobs();
    } else {
        let pools: Vec<rayon::ThreadPool> = (0..workers)
            .map(|_| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .build()
                    .map_err(|e| Error::Runtime(format!("cannot start a worker thread: {e}")))
            })
            .collect::<Result<_>>()?;
        std::thread::scope(|s| {
            for pool in &pools {
                let run_jobs = &run_jobs;
                s.spawn(move || pool.install(run_jobs));
            }
        });
    }
    if let Some((_, e)) = first_error.into_inner().expect("no panics while held") {
        return Err(e);
    }
    let fitting = fit_start.elapsed().as_secs_f64();

    // measures, ascending k; only ks whose restarts all finished
    let measure_start = Instant::now();
    let mut rows = Vec::new();
    let mut models = Vec::new();
    let mut summaries = Vec::new();
    for (slot, &k) in slots.into_iter().zip(&ks) {
        let mut slot = slot.into_inner().expect("no panics while held");
        if slot.runs.len() < opts.restarts {
            continue;
        }
        slot.runs.sort_by_key(|r| r.index);
        let t = Instant::now();
        let (best_index, best) = slot.best.take().expect("finished runs");
        let objective_max = slot
            .runs
            .iter()
            .map(|r| r.objective)
            .filter(|v| v.is_finite())
            .fold(best.metrics.loss, f64::max);
        let best_dominant = slot.runs[best_index].dominant.clone();
        let q = quality::evaluate(
            x,
            best.h.view(),
            &best_dominant,
            input.labels,
            input.streams,
            &opts.quality,
        )?;
        let fits = Restarts::assemble(slot.runs, best, best_index, base.seed);
        let measure_seconds = t.elapsed().as_secs_f64();
        let mt = &fits.best.metrics;
        rows.push(SweepRow {
            k,
            restarts: fits.runs.len(),
            best_restart: best_index,
            objective: mt.loss,
            objective_max,
            reconstruction_error: mt.reconstruction_error,
            explained_variance: mt.explained_variance,
            sparsity_w: mt.sparsity_w,
            sparsity_h: mt.sparsity_h,
            umass: q.mean_umass,
            npmi: q.mean_npmi,
            c_npmi: q.mean_c_npmi,
            diversity: q.diversity,
            stability: fits.stability.as_ref().map(|s| s.mean),
            cophenetic: fits.cophenetic,
            labels: q.labels,
            iterations: mt.iterations,
            converged: mt.converged,
            seconds: slot.fit_seconds + measure_seconds,
            measure_seconds,
        });
        progress(&SweepEvent::Measured { k });
        summaries.push((k, fits.summary()));
        if opts.keep_models {
            models.push((k, fits.best));
        }
    }
    let measuring = measure_start.elapsed().as_secs_f64();
    let cancelled = rows.len() < ks.len();
    Ok(SweepResult {
        ks: opts.ks,
        restarts: opts.restarts,
        params: base,
        recommended: recommend(&rows, opts.npmi_margin),
        npmi_margin: opts.npmi_margin,
        rows,
        cancelled,
        timing: SweepTiming {
            svd: svd_seconds,
            fitting,
            measuring,
            total: start.elapsed().as_secs_f64(),
        },
        parallel_fits: workers,
        models,
        summaries,
    })
}

/// Runs one fit of the sweep; returns the parameters it recorded (seed, init) and the model.
fn fit_job(
    x: &Matrix,
    base: &NmfParams,
    svd: Option<&TruncatedSvd>,
    job: Job,
    progress: &(dyn Fn(&SweepEvent) + Sync),
) -> Result<(NmfParams, NmfModel)> {
    let mut based = base.clone();
    based.k = job.k;
    let recorded = restart_params(&based, job.restart);
    let valid = match (svd, recorded.init) {
        (Some(svd), Init::Nndsvd | Init::Nndsvda | Init::Nndsvdar) => {
            let (w0, h0) = nndsvd_from_svd(x, svd, job.k, recorded.init, recorded.seed)?;
            recorded.clone().custom_init(w0, h0).check()?
        }
        _ => recorded.clone().check()?,
    };
    let (k, restart) = (job.k, job.restart);
    let model = valid.into_fit(x, &mut |iteration, _| {
        progress(&SweepEvent::Iteration {
            k,
            restart,
            iteration,
        })
    })?;
    Ok((recorded, model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Triplets;

    #[test]
    fn ranges_parse_and_validate() {
        assert_eq!(
            KRange::parse("5..40:5").unwrap().ks(),
            vec![5, 10, 15, 20, 25, 30, 35, 40]
        );
        assert_eq!(KRange::parse("2..5").unwrap().ks(), vec![2, 3, 4, 5]);
        assert_eq!(KRange::parse("2..=5:2").unwrap().ks(), vec![2, 4]);
        assert_eq!(KRange::parse("8").unwrap().ks(), vec![8]);
        assert_eq!(KRange::parse("5..40:5").unwrap().to_string(), "5..40:5");
        for (bad, why) in [
            ("40..5", "empty"),
            ("5..40:0", "step"),
            ("0..4", "at least 1"),
            ("a..4", "whole number"),
            ("3:2", "expected"),
            ("", "whole number"),
        ] {
            let e = KRange::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("-k ") && e.contains(why), "{bad}: {e}");
        }
        let e = KRange::new(2, 50, 8)
            .check(303, 40)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("-k 2..50:8") && e.contains("k = 50") && e.contains("40"),
            "{e}"
        );
        assert!(KRange::new(2, 50, 8).check(303, 50).is_ok());
    }

    fn row(k: usize, npmi: f64, stability: Option<f64>, cophenetic: Option<f64>) -> SweepRow {
        SweepRow {
            k,
            restarts: 1,
            best_restart: 0,
            objective: 0.0,
            objective_max: 0.0,
            reconstruction_error: 0.0,
            explained_variance: 0.0,
            sparsity_w: 0.0,
            sparsity_h: 0.0,
            umass: None,
            npmi: Some(npmi),
            c_npmi: None,
            diversity: None,
            stability,
            cophenetic,
            labels: None,
            iterations: 0,
            converged: true,
            seconds: 0.0,
            measure_seconds: 0.0,
        }
    }

    #[test]
    fn recommendation_rule() {
        // NPMI best at 6 (0.30); 4 and 8 within 0.02; 8 has the best consensus of those
        let rows = vec![
            row(2, 0.10, Some(0.99), Some(0.999)),
            row(4, 0.29, Some(0.90), Some(0.95)),
            row(6, 0.30, Some(0.85), Some(0.96)),
            row(8, 0.285, Some(0.80), Some(0.98)),
            row(10, 0.20, Some(0.97), Some(0.99)),
        ];
        assert_eq!(recommend(&rows, 0.02), Some(8));
        assert_eq!(recommend(&rows, 0.0), Some(6));
        assert_eq!(recommend(&rows, 1.0), Some(2));
        // equal consensus: the more stable; then the smaller k
        let tie = vec![
            row(3, 0.3, Some(0.8), Some(1.0)),
            row(5, 0.3, Some(0.9), Some(1.0)),
            row(7, 0.3, Some(0.9), Some(1.0)),
        ];
        assert_eq!(recommend(&tie, 0.02), Some(5));
        // a consensus that could not be measured counts as the lowest
        let nan = vec![
            row(3, 0.3, Some(0.9), Some(f64::NAN)),
            row(5, 0.3, Some(0.1), Some(0.5)),
        ];
        assert_eq!(recommend(&nan, 0.02), Some(5));
        // one restart: the best NPMI
        let single = vec![
            row(3, 0.2, None, None),
            row(5, 0.3, None, None),
            row(7, 0.29, None, None),
        ];
        assert_eq!(recommend(&single, 0.02), Some(5));
        assert_eq!(recommend(&[], 0.02), None);
    }

    fn blocks(n_blocks: usize, docs_per_block: usize, terms_per_block: usize) -> Matrix {
        let n = n_blocks * docs_per_block;
        let mut t = Triplets::new((n, n_blocks * terms_per_block));
        for i in 0..n {
            let b = i % n_blocks;
            for j in 0..terms_per_block {
                if (i + j) % 3 != 0 {
                    t.add_triplet(i, b * terms_per_block + j, 1.0 + ((i * 5 + j) % 3) as f64);
                }
            }
            // a little shared noise
            t.add_triplet(i, (i * 7) % (n_blocks * terms_per_block), 0.2);
        }
        t.to_csr()
    }

    #[test]
    fn sweep_finds_planted_blocks_and_is_schedule_independent() {
        let x = blocks(4, 12, 6);
        let input = SweepInput {
            x: &x,
            streams: None,
            labels: None,
        };
        let mut opts = SweepOptions::new(KRange::new(2, 6, 1), 3);
        opts.params = NmfParams::new(1).max_iter(300);
        let events = Mutex::new(Vec::new());
        let record = |e: &SweepEvent| {
            if !matches!(e, SweepEvent::Iteration { .. }) {
                events.lock().unwrap().push(*e);
            }
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let a = pool
            .install(|| sweep(&input, &opts, &record, &AtomicBool::new(false)))
            .unwrap();
        assert_eq!(a.parallel_fits, 2);
        assert_eq!(
            a.rows.iter().map(|r| r.k).collect::<Vec<_>>(),
            vec![2, 3, 4, 5, 6]
        );
        assert_eq!(a.recommended, Some(4), "{:#?}", a.rows);
        let ev = events.into_inner().unwrap();
        assert!(matches!(ev[0], SweepEvent::Svd { rank: 6, .. }));
        let fits = ev
            .iter()
            .filter(|e| matches!(e, SweepEvent::Fit { .. }))
            .count();
        assert_eq!(fits, 15);
        opts.parallelism = Parallelism::Kernels;
        let b = pool
            .install(|| sweep(&input, &opts, &|_| {}, &AtomicBool::new(false)))
            .unwrap();
        assert_eq!(b.parallel_fits, 1);
        for (ra, rb) in a.rows.iter().zip(&b.rows) {
            assert_eq!(ra.objective.to_bits(), rb.objective.to_bits(), "k={}", ra.k);
            assert_eq!(ra.stability, rb.stability);
            assert_eq!(ra.npmi, rb.npmi);
        }
    }

    #[test]
    fn cancellation_keeps_finished_ks() {
        let x = blocks(3, 10, 5);
        let input = SweepInput {
            x: &x,
            streams: None,
            labels: None,
        };
        let mut opts = SweepOptions::new(KRange::new(2, 5, 1), 2);
        opts.parallelism = Parallelism::Kernels;
        opts.keep_models = true;
        let cancel = AtomicBool::new(false);
        // cancel after the fourth fit: jobs run largest k first, so ks 5 and 4 are complete
        let stop = |e: &SweepEvent| {
            if let SweepEvent::Fit { done: 4, .. } = e {
                cancel.store(true, Ordering::Relaxed);
            }
        };
        let r = sweep(&input, &opts, &stop, &cancel).unwrap();
        assert!(r.cancelled);
        assert_eq!(r.rows.iter().map(|r| r.k).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(r.models.len(), 2);
        assert_eq!(r.models[0].1.w.ncols(), 4);
    }

    #[test]
    fn bad_sweeps_name_the_option() {
        let x = blocks(2, 3, 2);
        let input = SweepInput {
            x: &x,
            streams: None,
            labels: None,
        };
        let never = AtomicBool::new(false);
        let run = |opts: &SweepOptions| {
            sweep(&input, opts, &|_| {}, &never)
                .unwrap_err()
                .to_string()
        };
        let e = run(&SweepOptions::new(KRange::new(2, 9, 1), 1));
        assert!(
            e.starts_with("-k ") && e.contains("min(documents, terms) = 4"),
            "{e}"
        );
        let e = run(&SweepOptions::new(KRange::new(2, 3, 1), 0));
        assert!(e.contains("--restarts"), "{e}");
        let e = run(&SweepOptions::new(KRange::new(3, 2, 1), 1));
        assert!(e.starts_with("-k "), "{e}");
        let e = run(&SweepOptions::new(KRange::new(2, 3, 0), 1));
        assert!(e.contains("step"), "{e}");
        let mut custom = SweepOptions::new(KRange::new(2, 3, 1), 1);
        custom.params = NmfParams::new(2).init(Init::Custom);
        assert!(run(&custom).contains("--init custom"));
    }
}
