//! `nmf-topics fit`.

use nmf_topics::report::{self, html::fmt_num, FitExtras, FitRun, StagedDir, OUTPUT_FILES};
use nmf_topics::restarts;
use nmf_topics::vectorize::DocTermMatrix;

use super::config::{check_factor_memory, FitConfig, FitInput};
use super::ui::{self, interrupt};
use super::vectorize::{build_matrix, load_corpus};

/// Runs `fit`.
pub fn run(c: FitConfig) -> anyhow::Result<()> {
    let ui = c.ui;
    // Inputs: text (analysis + vectorizing) or a Matrix Market file.
    let (dtm, corpus, analyzer, vectorize, inputs) = match &c.input {
        FitInput::Matrix {
            matrix,
            terms,
            documents,
        } => {
            let dtm =
                DocTermMatrix::from_matrix_market(matrix, terms.as_deref(), documents.as_deref())?;
            ui.info(&format!(
                "matrix: {} documents × {} terms, {} nonzeros",
                dtm.x.rows(),
                dtm.x.cols(),
                dtm.x.nnz()
            ));
            (dtm, None, None, None, vec![matrix.display().to_string()])
        }
        FitInput::Text(text) => {
            let corpus = load_corpus(&ui, &text.inputs, &text.corpus)?;
            let dtm = build_matrix(&ui, &corpus, &text.analyzer, &text.vectorize)?;
            let inputs = text
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            (
                dtm,
                Some(corpus),
                Some(text.analyzer.frozen_config()),
                Some(text.vectorize.clone()),
                inputs,
            )
        }
    };

    check_factor_memory(c.recorded.k, dtm.x.rows(), dtm.x.cols())?;
    let max_iter = c.recorded.max_iter as u64;
    let bar = ui.bar(max_iter * c.restarts as u64, "fitting");
    let restarts = c.restarts;
    let mut progress = |restart: usize, iteration: usize, objective: f64| {
        if let Some(pb) = &bar {
            pb.set_position(restart as u64 * max_iter + iteration as u64);
            let run = if restarts > 1 {
                format!("restart {}/{restarts}, ", restart + 1)
            } else {
                String::new()
            };
            pb.set_prefix(format!("{run}loss {}", fmt_num(objective)));
        }
    };
    let fitted = if c.restarts > 1 {
        restarts::fit_restarts(&dtm.x, &c.params, c.restarts, &mut progress)
            .map(|r| {
                let summary = r.summary();
                (r.best, Some(summary))
            })
            .map_err(anyhow::Error::from)
    } else {
        // Consumes the parameters: a custom W0 becomes W instead of being copied.
        c.params
            .into_fit(&dtm.x, &mut |i, o| progress(0, i, o))
            .map(|m| (m, None))
            .map_err(anyhow::Error::from)
    };
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let (model, summary) = fitted?;

    let run = FitRun {
        dtm: &dtm,
        documents: corpus.as_ref().map(|c| c.documents.as_slice()),
        model: &model,
        params: &c.recorded,
        inputs: &inputs,
        analyzer: analyzer.as_ref(),
        vectorize: vectorize.as_ref(),
    };
    let extras = FitExtras {
        quality: None,
        restarts: summary.as_ref(),
    };
    write_outputs(&ui, &c.out, &c.output, &run, &extras)
}

/// Writes the files of a fit into `out` as a set (staged, then moved into place) and prints
/// the topic table: a local fit's outputs, also written by rank 0 of a distributed fit.
pub fn write_outputs(
    ui: &ui::Ui,
    out: &std::path::Path,
    output: &report::OutputOptions,
    run: &FitRun<'_>,
    extras: &FitExtras<'_>,
) -> anyhow::Result<()> {
    ui.info(&format!("writing outputs to {}…", out.display()));
    let staged = StagedDir::new(out)?;
    let _protected = interrupt::protect(staged.path());
    report::write_fit_files_with(staged.path(), out, run, output, extras)?;
    ui::test_commit_delay();
    interrupt::commit(|| staged.commit(&OUTPUT_FILES))?;

    ui.print(&format!(
        "{}report: {}\n",
        report::topic_table(run, output),
        out.join("report.html").display()
    ))?;
    Ok(())
}
