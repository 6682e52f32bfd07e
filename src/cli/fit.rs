//! `nmf-topics fit`.

use nmf_topics::report::{self, html::fmt_num, FitRun, StagedDir, OUTPUT_FILES};
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
    let bar = ui.bar(c.recorded.max_iter as u64, "fitting");
    let mut progress = |iteration: usize, objective: f64| {
        if let Some(pb) = &bar {
            pb.set_position(iteration as u64);
            pb.set_prefix(format!("loss {}", fmt_num(objective)));
        }
    };
    // Consumes the parameters: a custom W0 becomes W instead of being copied.
    let model = c.params.into_fit(&dtm.x, &mut progress);
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let model = model?;

    let run = FitRun {
        dtm: &dtm,
        documents: corpus.as_ref().map(|c| c.documents.as_slice()),
        model: &model,
        params: &c.recorded,
        inputs: &inputs,
        analyzer: analyzer.as_ref(),
        vectorize: vectorize.as_ref(),
    };
    ui.info(&format!("writing outputs to {}…", c.out.display()));
    let staged = StagedDir::new(&c.out)?;
    let _protected = interrupt::protect(staged.path());
    report::write_fit_files(staged.path(), &c.out, &run, &c.output)?;
    ui::test_commit_delay();
    interrupt::commit(|| staged.commit(&OUTPUT_FILES))?;

    ui.print(&format!(
        "{}report: {}\n",
        report::topic_table(&run, &c.output),
        c.out.join("report.html").display()
    ))?;
    Ok(())
}
