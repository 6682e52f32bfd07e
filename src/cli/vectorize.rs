//! `nmf-topics vectorize`, and the steps from inputs to a matrix that `fit` and `transform`
//! share.

use std::path::PathBuf;

use nmf_topics::corpus::{self, Corpus, CorpusOptions};
use nmf_topics::report::StagedDir;
use nmf_topics::text::Analyzer;
use nmf_topics::vectorize::{self, DocTermMatrix, VectorizeOptions};

use super::config::VectorizeConfig;
use super::ui::{self, interrupt, Ui};

/// Runs `vectorize`.
pub fn run(c: VectorizeConfig) -> anyhow::Result<()> {
    let corpus = load_corpus(&c.ui, &c.text.inputs, &c.text.corpus)?;
    let dtm = build_matrix(&c.ui, &corpus, &c.text.analyzer, &c.text.vectorize)?;
    drop(corpus);

    c.ui.info(&format!("writing outputs to {}…", c.out.display()));
    let staged = StagedDir::new(&c.out)?;
    let _protected = interrupt::protect(staged.path());
    dtm.write_files_into(staged.path())?;
    ui::test_commit_delay();
    interrupt::commit(|| staged.commit(&DocTermMatrix::FILES))?;

    c.ui.print(&format!(
        "{}wrote {}/{{matrix.mtx,terms.tsv,documents.tsv}}\n",
        matrix_summary(&dtm),
        c.out.display()
    ))?;
    Ok(())
}

/// Reads the inputs into a corpus, printing warnings and the summary line.
pub fn load_corpus(ui: &Ui, inputs: &[PathBuf], opts: &CorpusOptions) -> anyhow::Result<Corpus> {
    let pb = ui.spinner("reading documents");
    let corpus = corpus::load(inputs, opts);
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let corpus = corpus?;
    for w in &corpus.warnings {
        ui.warn(w);
    }
    ui.info(&corpus.summary());
    Ok(corpus)
}

/// Analyzes and weights a corpus, printing the summary line.
pub fn build_matrix(
    ui: &Ui,
    corpus: &Corpus,
    analyzer: &Analyzer,
    opts: &VectorizeOptions,
) -> anyhow::Result<DocTermMatrix> {
    let pb = ui.spinner("analyzing text");
    let result = vectorize::vectorize(&corpus.documents, analyzer, opts);
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let (dtm, summary) = result?;
    let mut line = format!(
        "matrix: {} documents × {} terms, {} nonzeros ({} distinct terms before filters)",
        dtm.x.rows(),
        dtm.x.cols(),
        dtm.x.nnz(),
        summary.terms_before_filters
    );
    if summary.empty_documents > 0 {
        line.push_str(&format!(
            "; {} documents have no term left",
            summary.empty_documents
        ));
    }
    ui.info(&line);
    Ok(dtm)
}

/// The one-screen summary of a matrix: sizes, density, the most common terms.
fn matrix_summary(dtm: &DocTermMatrix) -> String {
    let top: Vec<String> = dtm
        .top_terms_by_df(15)
        .iter()
        .map(|t| format!("{} ({})", t.surface, t.df))
        .collect();
    format!(
        "documents  {}\nterms      {}\nnonzeros   {}\ndensity    {:.4}%\ntop terms  {}\n",
        dtm.x.rows(),
        dtm.x.cols(),
        dtm.x.nnz(),
        100.0 * dtm.density(),
        top.join(", ")
    )
}
