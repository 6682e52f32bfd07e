//! Synthetic fitted models for the report tests (included by the other `report_*` tests with
//! `#[path]`; as a test target of its own it only checks that the fixture is consistent).
#![allow(dead_code)]

use std::path::PathBuf;

use ndarray::Array2;
use nmf_topics::corpus::Document;
use nmf_topics::matrix::Triplets;
use nmf_topics::nmf::{Metrics, NmfModel, NmfParams};
use nmf_topics::report::FitRun;
use nmf_topics::text::AnalyzerConfig;
use nmf_topics::vectorize::{DocInfo, DocTermMatrix, Term, VectorizeOptions};

/// Everything a [`FitRun`] borrows.
pub struct Fixture {
    /// The matrix.
    pub dtm: DocTermMatrix,
    /// The documents, in row order.
    pub docs: Vec<Document>,
    /// The "fitted" model.
    pub model: NmfModel,
    /// Its parameters.
    pub params: NmfParams,
    /// The inputs.
    pub inputs: Vec<String>,
    /// Analyzer settings.
    pub analyzer: AnalyzerConfig,
    /// Vectorizer settings.
    pub vectorize: VectorizeOptions,
}

impl Fixture {
    /// The run as the writers take it.
    pub fn run(&self) -> FitRun<'_> {
        FitRun {
            dtm: &self.dtm,
            documents: Some(&self.docs),
            model: &self.model,
            params: &self.params,
            inputs: &self.inputs,
            analyzer: Some(&self.analyzer),
            vectorize: Some(&self.vectorize),
        }
    }
}

/// The id of the document that tries to inject markup.
pub const EVIL_ID: &str = "<script>alert(1)</script>";
/// An id that needs CSV quoting.
pub const CSV_ID: &str = "a \"quoted\", id\nwith a newline";

/// Stems and surface forms. Term 0, "common", is frequent in every document: it carries the
/// largest weight of every topic but has the lowest lift, so it moves down as λ goes to 0.
pub const TERMS: [(&str, &str); 10] = [
    ("common", "common"),
    ("appl", "apples"),
    ("pear", "pears"),
    ("fruit", "fruits"),
    ("car", "cars"),
    ("engin", "engine"),
    ("wheel", "wheels"),
    ("star", "stars"),
    ("planet", "planets"),
    ("orbit", "orbits"),
];

/// Three clear topics (fruit, cars, space) over 13 documents: four per topic with labels
/// `fruit`, `cars`, `space`, and one empty document (an all-zero row).
pub fn synthetic() -> Fixture {
    let k = 3;
    let m = TERMS.len();
    let h = ndarray::array![
        [3.0, 2.0, 1.5, 1.0, 0.0, 0.0, 0.0, 0.01, 0.0, 0.0],
        [3.0, 0.0, 0.0, 0.0, 2.2, 1.4, 0.9, 0.0, 0.0, 0.0],
        [3.0, 0.0, 0.02, 0.0, 0.0, 0.0, 0.0, 1.8, 1.6, 1.1]
    ];
    let labels = ["fruit", "cars", "space"];
    let mut w = Array2::zeros((13, k));
    let mut docs = Vec::new();
    for i in 0..12 {
        let t = i / 4;
        w[[i, t]] = 1.0 + 0.1 * (i % 4) as f64;
        w[[i, (t + 1) % k]] = 0.05 * (i % 4) as f64;
        let id = match i {
            1 => EVIL_ID.to_string(),
            2 => CSV_ID.to_string(),
            _ => format!("{}/doc{i}.txt", labels[t]),
        };
        let text = match i {
            1 => "Apples </script><script>alert(2)</script> and pears, see https://example.org/x"
                .to_string(),
            _ => format!(
                "Document {i} about {}.\n\n  It talks about {} and {} a lot; common words too. {}",
                labels[t],
                TERMS[1 + 3 * t].1,
                TERMS[2 + 3 * t].1,
                "Filler text that makes the snippet long enough to be cut. ".repeat(5)
            ),
        };
        docs.push(Document {
            id,
            label: Some(labels[t].to_string()),
            text,
            path: Some(PathBuf::from(format!("/corpus/{}/doc {i}.txt", labels[t]))),
        });
    }
    docs.push(Document {
        id: "empty.txt".to_string(),
        label: None,
        text: String::new(),
        path: None,
    });
    let x = w.dot(&h);
    let mut tri = Triplets::new((13, m));
    for ((i, j), &v) in x.indexed_iter() {
        if v > 0.05 {
            tri.add_triplet(i, j, v);
        }
    }
    let dtm = DocTermMatrix {
        x: tri.to_csr(),
        terms: TERMS
            .iter()
            .map(|(stem, surface)| Term {
                stem: stem.to_string(),
                surface: surface.to_string(),
                df: 4,
            })
            .collect(),
        documents: docs
            .iter()
            .map(|d| DocInfo {
                id: d.id.clone(),
                label: d.label.as_deref().map(Into::into),
            })
            .collect(),
        idf: Some((0..m).map(|j| 1.0 + j as f64 / 10.0).collect()),
        streamed: None,
    };
    let history: Vec<f64> = (0..60).map(|i| 2.0 + 40.0 / (1.0 + i as f64)).collect();
    let model = NmfModel {
        w,
        h,
        history,
        iterations: 60,
        converged: true,
        seconds: 0.012,
        seconds_per_iteration: 0.0,
        init_seconds: 0.0,
        method: Default::default(),
        graph: None,
        metrics: Metrics {
            loss: 2.6,
            divergence: 2.6,
            reconstruction_error: 2.28,
            explained_variance: 0.93,
            sparsity_w: 0.71,
            sparsity_h: 0.55,
            zeros_w: 0.4,
            zeros_h: 0.5,
            iterations: 60,
            converged: true,
            seconds: 0.012,
        },
    };
    Fixture {
        dtm,
        docs,
        model,
        params: NmfParams::new(k),
        inputs: vec!["corpus/".to_string()],
        analyzer: AnalyzerConfig::default(),
        vectorize: VectorizeOptions::default(),
    }
}

/// A large corpus for size checks: `n` documents, `k` topics, `m` terms, with labels and texts.
pub fn large(n: usize, k: usize, m: usize) -> Fixture {
    let mut h = Array2::zeros((k, m));
    for t in 0..k {
        for j in 0..m {
            if j % k == t || j % 7 == 0 {
                h[[t, j]] = 1.0 + ((t * 31 + j * 17) % 13) as f64 / 13.0;
            }
        }
    }
    let mut w = Array2::zeros((n, k));
    let mut tri = Triplets::new((n, m));
    let mut docs = Vec::with_capacity(n);
    for i in 0..n {
        let t = i % k;
        w[[i, t]] = 1.0;
        w[[i, (t + 1) % k]] = 0.2;
        for s in 0..5 {
            tri.add_triplet(i, (t + k * (s + i % 3)) % m, 1.0 + s as f64);
        }
        docs.push(Document {
            id: format!("folder{}/document-{i:06}.txt", i % 40),
            label: Some(format!("label{}", i % 40)),
            text: format!("Text of document {i}. ").repeat(20),
            path: Some(PathBuf::from(format!(
                "/corpus/folder{}/document-{i:06}.txt",
                i % 40
            ))),
        });
    }
    let dtm = DocTermMatrix {
        x: tri.to_csr(),
        terms: (0..m)
            .map(|j| Term {
                stem: format!("term{j}"),
                surface: format!("term{j}"),
                df: 1,
            })
            .collect(),
        documents: docs
            .iter()
            .map(|d| DocInfo {
                id: d.id.clone(),
                label: d.label.as_deref().map(Into::into),
            })
            .collect(),
        idf: None,
        streamed: None,
    };
    let model = NmfModel {
        w,
        h,
        history: (0..200).map(|i| 10.0 / (1.0 + i as f64)).collect(),
        iterations: 200,
        converged: false,
        seconds: 1.0,
        seconds_per_iteration: 0.0,
        metrics: Metrics::default(),
        ..NmfModel::default()
    };
    Fixture {
        dtm,
        docs,
        model,
        params: NmfParams::new(k),
        inputs: vec!["big/".to_string()],
        analyzer: AnalyzerConfig::default(),
        vectorize: VectorizeOptions::default(),
    }
}

#[test]
fn fixture_is_consistent() {
    let f = synthetic();
    assert_eq!(f.dtm.x.rows(), f.docs.len());
    assert_eq!(f.model.w.nrows(), f.docs.len());
    assert_eq!(f.model.h.ncols(), f.dtm.terms.len());
}
