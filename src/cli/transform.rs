//! `nmf-topics transform`.

use nmf_topics::nmf;
use nmf_topics::report::{self, StagedDir};
use nmf_topics::vectorize::{self, Coverage, DocInfo};

use super::config::TransformConfig;
use super::ui::{self, interrupt};
use super::vectorize::load_corpus;

/// Runs `transform`.
pub fn run(c: TransformConfig) -> anyhow::Result<()> {
    let ui = c.ui;
    ui.info(&format!(
        "model: {} ({} topics, {} terms)",
        c.model_path.display(),
        c.model.h.len(),
        c.model.terms.len()
    ));
    let corpus = load_corpus(&ui, &c.inputs, &c.corpus)?;
    let (x, coverage) = vectorize::transform_matrix(
        &corpus.documents,
        &c.analyzer,
        &c.model.terms,
        c.model.idf.as_deref(),
        &c.vectorize,
    )?;
    warn_about_coverage(&ui, &coverage);
    let h = c.model.h_matrix();
    let w = nmf::transform(&x, &h, &c.params, None)?;
    let documents: Vec<DocInfo> = corpus
        .documents
        .iter()
        .map(|d| DocInfo {
            id: d.id.clone(),
            label: d.label.as_deref().map(Into::into),
        })
        .collect();

    let folder = match c.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => ".".into(),
    };
    let name = c.out.file_name().unwrap_or_default();
    let staged = StagedDir::new(&folder)?;
    let _protected = interrupt::protect(staged.path());
    report::tables::write_transformed(&staged.path().join(name), &documents, w.view(), &coverage)?;
    ui::test_commit_delay();
    interrupt::commit(|| staged.commit(&[]))?;
    ui.info(&format!(
        "wrote {} ({} documents × {} topics)",
        c.out.display(),
        documents.len(),
        h.nrows()
    ));
    Ok(())
}

/// Below this median share of known words, most documents know few of the model's words.
const FEW_KNOWN_WORDS: f64 = 0.3;

/// Warns when the median document has less than [`FEW_KNOWN_WORDS`] of its words in the
/// model's vocabulary: its topic weights then rest on a handful of words.
fn warn_about_coverage(ui: &ui::Ui, coverage: &[Coverage]) {
    let mut shares: Vec<f64> = coverage
        .iter()
        .filter(|c| c.words > 0)
        .map(Coverage::share)
        .collect();
    if shares.is_empty() {
        return;
    }
    shares.sort_by(f64::total_cmp);
    let median = shares[shares.len() / 2];
    if median < FEW_KNOWN_WORDS {
        ui.warn(&format!(
            "most documents share few words with the model: the median document has {:.0}% of \
             its words in the vocabulary (column known_words); were they written in the \
             language and on the subjects of the fit?",
            100.0 * median
        ));
    }
}
