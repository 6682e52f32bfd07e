//! The files `fit` writes: topics.json, doc_topics.csv, topic_terms.csv, model.json, W/H.mtx.

#[path = "report_fixture.rs"]
mod fixture;

use std::fs;
use std::path::Path;

use nmf_topics::report::model::{ModelFile, MODEL_VERSION};
use nmf_topics::report::{topic_table, write_fit_outputs, OutputOptions};
use nmf_topics::Error;
use serde_json::Value;

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn writes_every_file_and_no_temporary() {
    let f = fixture::synthetic();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let written = write_fit_outputs(&out, &f.run(), &OutputOptions::default()).unwrap();
    let mut listed: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, names_in(&out), "returned paths = files on disk");
    assert_eq!(
        names_in(&out),
        vec![
            "doc_topics.csv",
            "model.json",
            "report.html",
            "topic_terms.csv",
            "topics.json"
        ]
    );
    assert!(names_in(&out).iter().all(|n| !n.contains(".tmp-")));
}

#[test]
fn topics_json_has_the_version_1_schema() {
    let f = fixture::synthetic();
    let dir = tempfile::tempdir().unwrap();
    write_fit_outputs(dir.path(), &f.run(), &OutputOptions::default()).unwrap();
    let text = fs::read_to_string(dir.path().join("topics.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], 1);
    let obj = |v: &Value, keys: &[&str]| {
        for k in keys {
            assert!(v.get(*k).is_some(), "missing key {k} in {v}");
        }
    };
    obj(&v["corpus"], &["documents", "terms", "nnz", "inputs"]);
    assert_eq!(v["corpus"]["documents"], 13);
    assert_eq!(v["corpus"]["terms"], 10);
    assert_eq!(v["corpus"]["nnz"], f.dtm.x.nnz());
    assert_eq!(v["corpus"]["inputs"][0], "corpus/");
    obj(
        &v["params"],
        &[
            "k", "loss", "solver", "init", "alpha_w", "alpha_h", "l1_ratio", "max_iter", "tol",
            "seed",
        ],
    );
    assert_eq!(v["params"]["loss"], "frobenius");
    assert_eq!(v["params"]["init"], "nndsvda");
    obj(
        &v["fit"],
        &[
            "iterations",
            "converged",
            "seconds",
            "seconds_per_iteration",
            "loss_history",
        ],
    );
    assert_eq!(v["fit"]["loss_history"].as_array().unwrap().len(), 60);
    obj(
        &v["metrics"],
        &[
            "loss",
            "reconstruction_error",
            "explained_variance",
            "sparsity_w",
            "sparsity_h",
        ],
    );
    let topics = v["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 3);
    for (i, t) in topics.iter().enumerate() {
        obj(t, &["id", "label", "prevalence", "terms", "documents"]);
        assert_eq!(t["id"], i, "model order");
        let terms = t["terms"].as_array().unwrap();
        let nonzero = f.model.h.row(i).iter().filter(|&&x| x > 0.0).count();
        assert_eq!(terms.len(), nonzero, "only terms with weight");
        obj(&terms[0], &["term", "stem", "weight"]);
        assert_eq!(terms[0]["stem"], "common", "λ = 1 ranks by weight");
        let weights: Vec<f64> = terms
            .iter()
            .map(|x| x["weight"].as_f64().unwrap())
            .collect();
        assert!(weights.windows(2).all(|p| p[0] >= p[1]));
        obj(&t["documents"][0], &["id", "weight"]);
    }
    assert_eq!(topics[0]["label"], "common · apples · pears");
    let prevalence: f64 = topics
        .iter()
        .map(|t| t["prevalence"].as_f64().unwrap())
        .sum();
    // Weights have 6 significant digits.
    assert!((prevalence - 1.0).abs() < 1e-5);
    let docs = v["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 13);
    for d in docs {
        obj(d, &["id", "label", "dominant_topic", "weights"]);
    }
    assert_eq!(docs[1]["id"], fixture::EVIL_ID);
    let w: Vec<(u64, f64)> = docs[5]["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_u64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    assert_eq!(w.len(), 2, "non-zero topics only: {w:?}");
    assert_eq!(w[0].0, 1);
    assert!(w[0].1 > w[1].1, "largest first");
    assert!((w[0].1 + w[1].1 - 1.0).abs() < 1e-5);
    assert_eq!(docs[12]["dominant_topic"], Value::Null);
    assert_eq!(docs[12]["label"], Value::Null);
    assert_eq!(docs[12]["weights"].as_array().unwrap().len(), 0);
    assert!(!text.contains("NaN"));
}

#[test]
fn nan_or_infinite_numbers_are_an_error_naming_them_and_nothing_is_written() {
    type Spoil = fn(&mut fixture::Fixture);
    let cases: [(Spoil, &str); 4] = [
        (
            |f| f.model.metrics.explained_variance = f64::NAN,
            "NaN value in the metric explained_variance",
        ),
        (
            |f| f.model.seconds = f64::INFINITY,
            "infinite value in the timing seconds",
        ),
        (
            |f| f.model.history[3] = f64::NAN,
            "NaN value in the objective after iteration 4 (loss_history[3])",
        ),
        (
            |f| f.model.h[[1, 2]] = f64::NAN,
            "NaN value in H[1, 2] (topic 1, term ",
        ),
    ];
    for (spoil, message) in cases {
        let mut f = fixture::synthetic();
        spoil(&mut f);
        let dir = tempfile::tempdir().unwrap();
        let err = write_fit_outputs(dir.path(), &f.run(), &OutputOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{err}");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{message}: files written"
        );
    }
}

#[test]
fn doc_topics_csv_parses_back() {
    let f = fixture::synthetic();
    let dir = tempfile::tempdir().unwrap();
    write_fit_outputs(dir.path(), &f.run(), &OutputOptions::default()).unwrap();
    let mut rdr = csv::Reader::from_path(dir.path().join("doc_topics.csv")).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        vec![
            "id",
            "label",
            "dominant_topic",
            "topic_0",
            "topic_1",
            "topic_2"
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 13);
    for (row, doc) in rows.iter().zip(&f.docs) {
        assert_eq!(&row[0], doc.id, "ids round-trip through RFC 4180 quoting");
        assert_eq!(&row[1], doc.label.as_deref().unwrap_or(""));
    }
    assert_eq!(&rows[2][0], fixture::CSV_ID);
    for row in &rows[..12] {
        let w: Vec<f64> = (3..6).map(|j| row[j].parse().unwrap()).collect();
        assert!(
            (w.iter().sum::<f64>() - 1.0).abs() < 1e-5,
            "6 significant digits"
        );
        let dominant: usize = row[2].parse().unwrap();
        assert!(w.iter().all(|&x| x <= w[dominant]));
    }
    assert_eq!(&rows[12][2], "", "empty document: no dominant topic");
    assert!((3..6).all(|j| &rows[12][j] == "0"));
}

#[test]
fn topic_terms_csv_parses_back() {
    let f = fixture::synthetic();
    let dir = tempfile::tempdir().unwrap();
    let opts = OutputOptions {
        top_terms: 3,
        ..OutputOptions::default()
    };
    write_fit_outputs(dir.path(), &f.run(), &opts).unwrap();
    let mut rdr = csv::Reader::from_path(dir.path().join("topic_terms.csv")).unwrap();
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        vec!["topic", "rank", "term", "stem", "weight"]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 9);
    assert_eq!(
        rows[..3]
            .iter()
            .map(|r| r[2].to_string())
            .collect::<Vec<_>>(),
        vec!["common", "apples", "pears"]
    );
    assert_eq!(
        rows.iter().map(|r| r[1].to_string()).collect::<Vec<_>>()[..3],
        ["1", "2", "3"]
    );
    assert_eq!(&rows[3][0], "1");
    assert_eq!(rows[0][4].parse::<f64>().unwrap(), 3.0, "weight = H entry");

    // with λ = 0 the ubiquitous word drops out of the top three; weights stay H's
    let opts = OutputOptions {
        top_terms: 3,
        relevance_lambda: 0.0,
        ..OutputOptions::default()
    };
    write_fit_outputs(dir.path(), &f.run(), &opts).unwrap();
    let mut rdr = csv::Reader::from_path(dir.path().join("topic_terms.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert!(rows.iter().all(|r| &r[3] != "common"));
}

#[test]
fn topic_table_lists_topics() {
    let f = fixture::synthetic();
    let table = topic_table(&f.run(), &OutputOptions::default());
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 1 + 3 + 1, "{table}");
    assert!(lines[1].trim_start().starts_with("0 "), "{table}");
    assert!(
        lines[1].contains("common, apples, pears, fruits"),
        "{table}"
    );
    assert!(lines[4].contains("explained variance"), "{table}");
}

#[test]
fn bad_lambda_and_shapes_are_input_errors() {
    let f = fixture::synthetic();
    let dir = tempfile::tempdir().unwrap();
    let opts = OutputOptions {
        relevance_lambda: -0.5,
        ..OutputOptions::default()
    };
    let err = write_fit_outputs(dir.path(), &f.run(), &opts).unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    let mut g = fixture::synthetic();
    g.model.h = ndarray::Array2::zeros((3, 4));
    let err = write_fit_outputs(dir.path(), &g.run(), &OutputOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err}");
}

#[test]
fn model_file_round_trips() {
    let f = fixture::synthetic();
    let dir = tempfile::tempdir().unwrap();
    write_fit_outputs(dir.path(), &f.run(), &OutputOptions::default()).unwrap();
    let path = dir.path().join("model.json");
    let model = ModelFile::read(&path).unwrap();
    assert_eq!(model, ModelFile::from_run(&f.run()));
    assert_eq!(model.version, MODEL_VERSION);
    assert_eq!(model.h_matrix(), f.model.h, "H round-trips exactly");
    assert_eq!(model.terms, f.dtm.terms);
    assert_eq!(model.idf, f.dtm.idf);
    assert_eq!(model.analyzer.as_ref(), Some(&f.analyzer));
    let params = model.nmf_params();
    assert_eq!(params.k, 3);
    assert_eq!(params.alpha_h, Some(0.0));
    assert_eq!(params.max_iter, f.params.max_iter);
}

fn read_err(dir: &Path, text: &str) -> String {
    let path = dir.join("model.json");
    fs::write(&path, text).unwrap();
    let err = ModelFile::read(&path).unwrap_err();
    assert!(matches!(err, Error::Input(_)), "{err}");
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(msg.contains("model.json"), "names the file: {msg}");
    msg
}

#[test]
fn model_file_errors() {
    let f = fixture::synthetic();
    let dir = tempfile::tempdir().unwrap();
    let good = serde_json::to_string_pretty(&ModelFile::from_run(&f.run())).unwrap();

    let newer = good.replacen("\"version\": 1", "\"version\": 2", 1);
    let msg = read_err(dir.path(), &newer);
    assert!(
        msg.ends_with("model.json: version 2 is newer than this nmf-topics understands (1)"),
        "{msg}"
    );

    let truncated = &good[..good.len() / 2];
    let msg = read_err(dir.path(), truncated);
    assert!(msg.contains("truncated") && msg.contains("line "), "{msg}");

    let corrupt = good.replacen("\"terms\"", "\"terms\" ::", 1);
    let msg = read_err(dir.path(), &corrupt);
    assert!(msg.contains("corrupt") && msg.contains("column"), "{msg}");

    let msg = read_err(dir.path(), "[1, 2, 3]");
    assert!(msg.contains("model.json"), "{msg}");

    let msg = read_err(dir.path(), "{\"hello\": 1}");
    assert!(msg.contains("version"), "{msg}");

    let mut model = ModelFile::from_run(&f.run());
    model.h[1].pop();
    let msg = read_err(dir.path(), &serde_json::to_string(&model).unwrap());
    assert!(
        msg.contains("row 1 of H has 9 entries but there are 10 terms"),
        "{msg}"
    );

    let mut model = ModelFile::from_run(&f.run());
    model.params.k = 4;
    let msg = read_err(dir.path(), &serde_json::to_string(&model).unwrap());
    assert!(msg.contains("params.k"), "{msg}");

    let mut model = ModelFile::from_run(&f.run());
    model.h[0][0] = -1.0;
    let msg = read_err(dir.path(), &serde_json::to_string(&model).unwrap());
    assert!(msg.contains("negative"), "{msg}");

    let err = ModelFile::read(&dir.path().join("missing.json")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

/// W.mtx and H.mtx go through `mtx::write_array`; skipped while that is still a stub.
#[test]
fn save_factors_writes_w_and_h() {
    let probe = tempfile::tempdir().unwrap();
    let p = probe.path().join("probe.mtx");
    nmf_topics::mtx::write_array(&p, ndarray::Array2::<f64>::zeros((1, 1)).view()).unwrap();
    if !p.exists() {
        eprintln!("skipping: mtx::write_array is not implemented in this tree");
        return;
    }
    let f = fixture::synthetic();
    let dir = tempfile::tempdir().unwrap();
    let opts = OutputOptions {
        save_factors: true,
        ..OutputOptions::default()
    };
    let written = write_fit_outputs(dir.path(), &f.run(), &opts).unwrap();
    assert_eq!(written.len(), 7);
    let w = nmf_topics::mtx::read_dense(&dir.path().join("W.mtx")).unwrap();
    let h = nmf_topics::mtx::read_dense(&dir.path().join("H.mtx")).unwrap();
    assert_eq!(w, f.model.w);
    assert_eq!(h, f.model.h);
    assert!(names_in(dir.path()).iter().all(|n| !n.contains(".tmp-")));
}
