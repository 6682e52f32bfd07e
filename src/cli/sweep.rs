//! `nmf-topics sweep` and the restarts of `fit --restarts`: glue between the command line and
//! [`nmf_topics::sweep`] / [`nmf_topics::restarts`]. No numerics here.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Args;

use nmf_topics::nmf::{Init, Loss, NmfParams, Solver};
use nmf_topics::report::{self, FitExtras, FitRun, OutputOptions};
use nmf_topics::restarts::{self, check_restarts};
use nmf_topics::sweep::output::{write_sweep_outputs, SweepCorpus};
use nmf_topics::sweep::{self, KRange, SweepEvent, SweepInput, SweepOptions, DEFAULT_NPMI_MARGIN};
use nmf_topics::text::Analyzer;
use nmf_topics::topics::quality::TokenStreams;
use nmf_topics::Error;

use super::{build_matrix, create_dir, load_corpus, AnalysisArgs, CommonArgs, CorpusArgs, Ui};

/// Fit every k of a range with restarts, measure each fit and recommend a k.
#[derive(Debug, Args)]
pub(super) struct SweepCmd {
    /// Folders, text/HTML files, JSON Lines (.jsonl) or CSV (.csv) files.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output folder (created if missing): sweep.json, sweep.csv, sweep.html.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The ks: START..END:STEP (END included), START..END, or one K.
    #[arg(
        short = 'k',
        long = "topics",
        default_value = "5..40:5",
        value_name = "RANGE"
    )]
    k: String,
    /// Fits per k, with seeds seed, seed+1, … (random starts after the first).
    #[arg(long, default_value_t = 3, value_name = "R")]
    restarts: usize,
    /// Also write the full fit of the recommended k (topics.json, report.html, …) into DIR/best.
    #[arg(long)]
    fit_best: bool,
    /// The recommendation considers the ks within this much of the best mean NPMI.
    #[arg(long, default_value_t = DEFAULT_NPMI_MARGIN, value_name = "M")]
    npmi_margin: f64,
    /// Objective.
    #[arg(long, value_enum, default_value_t = Loss::Frobenius)]
    loss: Loss,
    /// Algorithm.
    #[arg(long, value_enum, default_value_t = Solver::Mu)]
    solver: Solver,
    /// Initialization of each k's first restart (nndsvd* share one SVD at the largest k).
    #[arg(long, value_enum, default_value_t = Init::Nndsvda)]
    init: Init,
    /// Regularization of W (scikit-learn's alpha_W).
    #[arg(
        long,
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_name = "A"
    )]
    alpha_w: f64,
    /// Regularization of H (default: same as --alpha-w).
    #[arg(long, allow_negative_numbers = true, value_name = "A")]
    alpha_h: Option<f64>,
    /// Share of L1 in the regularization, in [0, 1].
    #[arg(
        long,
        default_value_t = 0.0,
        allow_negative_numbers = true,
        value_name = "R"
    )]
    l1_ratio: f64,
    /// Maximum number of iterations per fit.
    #[arg(long, default_value_t = 200, value_name = "N")]
    max_iter: usize,
    /// Relative tolerance of the stopping rule.
    #[arg(
        long,
        default_value_t = 1e-4,
        allow_negative_numbers = true,
        value_name = "T"
    )]
    tol: f64,
    /// Seed of the first restart.
    #[arg(long, default_value_t = 0, value_name = "S")]
    seed: u64,
    #[command(flatten)]
    corpus: CorpusArgs,
    #[command(flatten)]
    analysis: AnalysisArgs,
    #[command(flatten)]
    common: CommonArgs,
}

/// Sets `flag` on the first Ctrl-C (the sweep then keeps the finished ks); a second Ctrl-C
/// exits at once.
fn cancel_on_ctrl_c(flag: Arc<AtomicBool>) {
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("nmf-topics: interrupted: finishing the running fits, keeping the finished ks");
    });
}

pub(super) fn run_sweep(cmd: SweepCmd) -> anyhow::Result<()> {
    let ui = Ui::new(&cmd.common)?;
    let ks = KRange::parse(&cmd.k)?;
    check_restarts(cmd.restarts)?;
    if !(cmd.npmi_margin >= 0.0 && cmd.npmi_margin.is_finite()) {
        return Err(Error::input(format!(
            "--npmi-margin must be non-negative (got {})",
            cmd.npmi_margin
        ))
        .into());
    }
    let mut params = NmfParams::new(ks.start)
        .loss(cmd.loss)
        .solver(cmd.solver)
        .init(cmd.init)
        .alpha_w(cmd.alpha_w)
        .alpha_h(cmd.alpha_h)
        .l1_ratio(cmd.l1_ratio)
        .max_iter(cmd.max_iter)
        .tol(cmd.tol)
        .seed(cmd.seed);
    if params.init == Init::Custom {
        return Err(Error::input(
            "--init custom cannot be used with sweep: the starting factors are for one k",
        )
        .into());
    }
    params.clone().check()?;

    let opts = cmd.analysis.vectorize_options()?;
    let analyzer = Analyzer::new(&cmd.analysis.analyzer_config())?;
    let corpus = load_corpus(&ui, &cmd.inputs, &cmd.corpus)?;
    let dtm = build_matrix(&ui, &corpus, &analyzer, &opts)?;
    ks.check(dtm.x.rows(), dtm.x.cols())?;
    let streams = TokenStreams::from_documents(&corpus.documents, &analyzer, &dtm.terms)?;
    let labels: Vec<Option<&str>> = dtm.documents.iter().map(|d| d.label.as_deref()).collect();
    let has_labels = labels.iter().any(Option::is_some);
    let input = SweepInput {
        x: &dtm.x,
        streams: Some(&streams),
        labels: has_labels.then_some(labels.as_slice()),
    };
    params.k = ks.end;
    let mut sweep_opts = SweepOptions::new(ks, cmd.restarts);
    sweep_opts.params = params;
    sweep_opts.npmi_margin = cmd.npmi_margin;
    sweep_opts.keep_models = cmd.fit_best;

    let cancel = Arc::new(AtomicBool::new(false));
    cancel_on_ctrl_c(cancel.clone());
    let total = (ks.ks().len() * cmd.restarts) as u64;
    let bar = ui.bar(total, "fitting");
    let progress = |e: &SweepEvent| {
        let Some(pb) = &bar else { return };
        match *e {
            SweepEvent::Svd { rank, seconds } => {
                pb.set_prefix(format!("SVD of rank {rank} in {seconds:.1} s"))
            }
            SweepEvent::Fit { k, done, .. } => {
                pb.set_position(done as u64);
                pb.set_prefix(format!("k = {k} done"));
            }
            _ => {}
        }
    };
    let mut result = sweep::sweep(&input, &sweep_opts, &progress, &cancel)?;
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }

    create_dir(&cmd.out)?;
    let inputs: Vec<String> = cmd.inputs.iter().map(|p| p.display().to_string()).collect();
    let info = SweepCorpus {
        documents: dtm.x.rows(),
        terms: dtm.x.cols(),
        nnz: dtm.x.nnz(),
        inputs: &inputs,
    };
    write_sweep_outputs(&cmd.out, &result, &info)?;

    if cmd.fit_best {
        if let Some(k) = result.recommended {
            let at = result.models.iter().position(|(mk, _)| *mk == k);
            if let Some(at) = at {
                let (_, model) = result.models.swap_remove(at);
                let row = result.row(k).expect("the recommended k has a row");
                let mut recorded = restarts::restart_params(&result.params, row.best_restart);
                recorded.k = k;
                let config = analyzer.frozen_config();
                let run = FitRun {
                    dtm: &dtm,
                    documents: Some(&corpus.documents),
                    model: &model,
                    params: &recorded,
                    inputs: &inputs,
                    analyzer: Some(&config),
                    vectorize: Some(&opts),
                };
                let summary = result
                    .summaries
                    .iter()
                    .find(|(sk, _)| *sk == k)
                    .map(|(_, s)| s);
                let extras = FitExtras {
                    quality: None,
                    restarts: summary,
                };
                report::write_fit_outputs_with(
                    &cmd.out.join("best"),
                    &run,
                    &OutputOptions::default(),
                    &extras,
                )?;
            }
        }
    }

    if !cmd.common.quiet {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{:>4}  {:>10}  {:>8}  {:>8}  {:>9}  {:>9}  {:>7}",
            "k", "NPMI", "UMass", "diversity", "stability", "cophenetic", "seconds"
        )?;
        for r in &result.rows {
            let f = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.4}"));
            writeln!(
                out,
                "{:>4}  {:>10}  {:>8}  {:>8}  {:>9}  {:>9}  {:>7.2}{}",
                r.k,
                f(r.npmi),
                f(r.umass),
                f(r.diversity),
                f(r.stability),
                f(r.cophenetic),
                r.seconds,
                if result.recommended == Some(r.k) {
                    "  ← recommended"
                } else {
                    ""
                }
            )?;
        }
        if result.cancelled {
            writeln!(
                out,
                "interrupted: {} of {} ks finished",
                result.rows.len(),
                ks.ks().len()
            )?;
        }
        writeln!(out, "report: {}", cmd.out.join("sweep.html").display())?;
    }
    Ok(())
}
