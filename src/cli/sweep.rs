//! `nmf-topics sweep`: glue between the command line and [`nmf_topics::sweep`].

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use nmf_topics::report::{self, FitExtras, FitRun, OutputOptions, StagedDir, OUTPUT_FILES};
use nmf_topics::restarts;
use nmf_topics::sweep::output::{write_sweep_outputs, SweepCorpus, SWEEP_FILES};
use nmf_topics::sweep::{self, SweepEvent, SweepInput, SweepOptions, SweepResult};
use nmf_topics::topics::quality::TokenStreams;
use nmf_topics::vectorize::{DocTermMatrix, Vocabulary};

use super::config::SweepConfig;
use super::ui::{self, interrupt};
use super::vectorize::read_and_vectorize;

/// Runs `sweep`.
pub fn run(c: SweepConfig) -> anyhow::Result<()> {
    let ui = c.ui;
    let (dtm, corpus) = read_and_vectorize(&ui, &c.text)?;
    c.ks.check(dtm.x.rows(), dtm.x.cols())?;
    // Every column's tokens: the ks' top words are known only after their fits.
    let vocabulary = Vocabulary::of_terms(&dtm.terms, &c.text.vectorize)?;
    let streams =
        TokenStreams::from_texts_with(&corpus, None, &c.text.analyzer, dtm.terms.len(), &|t| {
            vocabulary.column(t).map(|c| c as u32)
        })?;
    let labels: Vec<Option<&str>> = dtm.documents.iter().map(|d| d.label.as_deref()).collect();
    let input = SweepInput {
        x: &dtm.x,
        streams: Some(&streams),
        labels: labels
            .iter()
            .any(Option::is_some)
            .then_some(labels.as_slice()),
    };
    let mut opts = SweepOptions::new(c.ks, c.restarts);
    opts.params = c.params.clone();
    opts.params.doc_graph = super::fit::prepare_graph(&ui, &c.params, &dtm)?;
    opts.npmi_margin = c.npmi_margin;
    opts.keep_models = c.fit_best;

    let fits = c.ks.ks().len() * c.restarts;
    let bar = ui.bar(fits as u64, "fitting");
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
    let cancel = Arc::new(AtomicBool::new(false));
    let result = {
        let _cancellable = interrupt::cancel_with(
            cancel.clone(),
            "nmf-topics: interrupted: finishing the running fits and keeping the finished ks \
             (Ctrl-C again to stop at once)",
        );
        sweep::sweep(&input, &opts, &progress, &cancel)
    };
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let mut result = result?;

    let inputs: Vec<String> = c
        .text
        .inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let info = SweepCorpus {
        documents: dtm.x.rows(),
        terms: dtm.x.cols(),
        nnz: dtm.x.nnz(),
        inputs: &inputs,
    };
    ui.info(&format!("writing outputs to {}…", c.out.display()));
    let staged = StagedDir::new(&c.out)?;
    let protected = interrupt::protect(staged.path());
    write_sweep_outputs(staged.path(), &result, &info)?;
    ui::test_commit_delay();
    interrupt::commit(|| staged.commit(&SWEEP_FILES))?;
    drop(protected);

    if c.fit_best {
        write_best(&c, &dtm, &corpus, &inputs, &mut result)?;
    }
    ui.print(&table(&result, c.ks.ks().len()))?;
    ui.print(&format!(
        "report: {}\n",
        c.out.join(SWEEP_FILES[2]).display()
    ))?;
    Ok(())
}

/// `--fit-best`: the full outputs of the recommended k's best fit into `out/best`.
fn write_best(
    c: &SweepConfig,
    dtm: &DocTermMatrix,
    documents: &dyn nmf_topics::corpus::Texts,
    inputs: &[String],
    result: &mut SweepResult,
) -> anyhow::Result<()> {
    let Some(k) = result.recommended else {
        c.ui.warn("no k could be recommended, so --fit-best writes nothing");
        return Ok(());
    };
    let Some(at) = result.models.iter().position(|(mk, _)| *mk == k) else {
        return Ok(());
    };
    let (_, model) = result.models.swap_remove(at);
    let best_restart = result.row(k).map_or(0, |r| r.best_restart);
    let mut recorded = restarts::restart_params(&result.params, best_restart);
    recorded.k = k;
    let analyzer = c.text.analyzer.frozen_config();
    let run = FitRun {
        dtm,
        documents: Some(documents),
        model: &model,
        params: &recorded,
        inputs,
        analyzer: Some(&analyzer),
        vectorize: Some(&c.text.vectorize),
    };
    let summary = result
        .summaries
        .iter()
        .find(|(sk, _)| *sk == k)
        .map(|(_, s)| s);
    let extras = FitExtras {
        quality: None,
        restarts: summary,
        topics: None,
    };
    let dir = c.out.join("best");
    let staged = StagedDir::new(&dir)?;
    let _protected = interrupt::protect(staged.path());
    report::write_fit_files_with(
        staged.path(),
        &dir,
        &run,
        &OutputOptions::default(),
        &extras,
    )?;
    interrupt::commit(|| staged.commit(&OUTPUT_FILES))?;
    Ok(())
}

/// The table printed on stdout: one line per finished k, the recommended one marked.
fn table(result: &SweepResult, asked: usize) -> String {
    let f = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.4}"));
    let mut out = format!(
        "{:>4}  {:>8}  {:>8}  {:>9}  {:>9}  {:>10}  {:>7}\n",
        "k", "NPMI", "UMass", "diversity", "stability", "cophenetic", "seconds"
    );
    for r in &result.rows {
        out.push_str(&format!(
            "{:>4}  {:>8}  {:>8}  {:>9}  {:>9}  {:>10}  {:>7.2}{}\n",
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
        ));
    }
    if result.cancelled {
        out.push_str(&format!(
            "interrupted: {} of {asked} ks finished\n",
            result.rows.len()
        ));
    }
    out
}
