//! `nmf-topics transform`.

use nmf_topics::nmf;
use nmf_topics::report::{self, StagedDir};
use nmf_topics::vectorize::{self, DocInfo};

use super::config::TransformConfig;
use super::ui::{self, interrupt};
use super::vectorize::load_corpus;

/// Runs `transform`.
pub fn run(c: TransformConfig) -> anyhow::Result<()> {
    let ui = c.ui;
    let corpus = load_corpus(&ui, &c.inputs, &c.corpus)?;
    let x = vectorize::vectorize_with_vocabulary(
        &corpus.documents,
        &c.analyzer,
        &c.model.terms,
        c.model.idf.as_deref(),
        &c.vectorize,
    )?;
    let h = c.model.h_matrix();
    let w = nmf::transform(&x, &h, &c.params, None)?;
    let documents: Vec<DocInfo> = corpus
        .documents
        .iter()
        .map(|d| DocInfo {
            id: d.id.clone(),
            label: d.label.clone(),
        })
        .collect();

    let folder = match c.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => ".".into(),
    };
    let name = c.out.file_name().unwrap_or_default();
    let staged = StagedDir::new(&folder)?;
    let _protected = interrupt::protect(staged.path());
    report::tables::write_transformed(&staged.path().join(name), &documents, w.view())?;
    ui::test_commit_delay();
    interrupt::commit(|| staged.commit(&[]))?;
    ui.info(&format!(
        "wrote {} ({} documents × {} topics)",
        c.out.display(),
        documents.len(),
        h.nrows()
    ));
    let _ = &c.model_path;
    Ok(())
}
