//! The `fit` command end to end: outputs on the sample corpus, topic quality, bad inputs.

mod util;

use std::collections::HashMap;

use util::{run, run_in, sample_corpus, small_corpus, write};

/// Normalized mutual information (arithmetic mean normalization, as scikit-learn's default).
fn nmi(a: &[String], b: &[String]) -> f64 {
    let n = a.len() as f64;
    let mut ca: HashMap<&str, f64> = HashMap::new();
    let mut cb: HashMap<&str, f64> = HashMap::new();
    let mut cab: HashMap<(&str, &str), f64> = HashMap::new();
    for (x, y) in a.iter().zip(b) {
        *ca.entry(x).or_default() += 1.0;
        *cb.entry(y).or_default() += 1.0;
        *cab.entry((x, y)).or_default() += 1.0;
    }
    let h = |c: &HashMap<&str, f64>| -c.values().map(|v| v / n * (v / n).ln()).sum::<f64>();
    let mi: f64 = cab
        .iter()
        .map(|((x, y), v)| v / n * ((v / n) / (ca[x] / n * cb[y] / n)).ln())
        .sum();
    let denom = (h(&ca) + h(&cb)) / 2.0;
    if denom == 0.0 {
        1.0
    } else {
        mi / denom
    }
}

#[test]
fn fit_on_sample_corpus_recovers_its_subjects() {
    let sample = sample_corpus();
    let subjects = std::fs::read_dir(&sample)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert!(subjects >= 8);
    let tmp = tempfile::tempdir().unwrap();
    let k = subjects.to_string();
    let r = run(
        tmp.path(),
        &[
            "fit",
            sample.to_str().unwrap(),
            "-k",
            &k,
            "--out",
            "out",
            "--save-factors",
        ],
    );
    r.expect_code(0);
    assert!(r.stdout.contains("report.html"), "{}", r.stdout);
    for f in [
        "topics.json",
        "doc_topics.csv",
        "topic_terms.csv",
        "report.html",
        "model.json",
        "W.mtx",
        "H.mtx",
    ] {
        assert!(tmp.path().join("out").join(f).exists(), "{f} missing");
    }

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("out/topics.json")).unwrap())
            .unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["topics"].as_array().unwrap().len(), subjects);
    let docs = json["documents"].as_array().unwrap();
    let labels: Vec<String> = docs
        .iter()
        .map(|d| d["label"].as_str().unwrap().to_string())
        .collect();
    let dominant: Vec<String> = docs
        .iter()
        .map(|d| d["dominant_topic"].to_string())
        .collect();
    let score = nmi(&labels, &dominant);
    assert!(
        score >= 0.8,
        "NMI of dominant topics vs subject folders = {score:.3}"
    );

    // Loss history: one entry per iteration, never NaN.
    let history = json["fit"]["loss_history"].as_array().unwrap();
    assert_eq!(
        history.len() as u64,
        json["fit"]["iterations"].as_u64().unwrap()
    );
    assert!(history
        .iter()
        .all(|v| v.as_f64().is_some_and(f64::is_finite)));

    // doc_topics.csv: header and one row per document, weights summing to 1.
    let mut rdr = csv::Reader::from_path(tmp.path().join("out/doc_topics.csv")).unwrap();
    let header = rdr.headers().unwrap().clone();
    assert_eq!(&header[0], "id");
    assert_eq!(&header[2], "dominant_topic");
    assert_eq!(header.len(), 3 + subjects);
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let s: f64 = (3..rec.len()).map(|i| rec[i].parse::<f64>().unwrap()).sum();
        // Weights have 6 significant digits.
        assert!((s - 1.0).abs() < 1e-5 || s == 0.0, "row sums to {s}");
        rows += 1;
    }
    assert_eq!(rows, docs.len());
}

#[test]
fn fit_is_deterministic_across_thread_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let d = docs.to_str().unwrap();
    for n in ["1", "2"] {
        run_in(
            tmp.path(),
            &[
                "fit",
                d,
                "-k",
                "3",
                "--out",
                n,
                "--save-factors",
                "--quiet",
                "--loss",
                "kl",
            ],
            &[("RAYON_NUM_THREADS", n)],
        )
        .expect_code(0);
    }
    for f in ["W.mtx", "H.mtx", "doc_topics.csv"] {
        let a = std::fs::read(tmp.path().join("1").join(f)).unwrap();
        let b = std::fs::read(tmp.path().join("2").join(f)).unwrap();
        assert!(a == b, "{f} differs between 1 and 2 threads");
    }
}

#[test]
fn fit_from_matrix_with_custom_init() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    run(
        tmp.path(),
        &["vectorize", docs.to_str().unwrap(), "--out", "v", "--quiet"],
    )
    .expect_code(0);
    let terms = std::fs::read_to_string(tmp.path().join("v/terms.tsv")).unwrap();
    let m = terms.lines().count() - 1;
    let k = 2;
    let mut w0 = format!("%%MatrixMarket matrix array real general\n9 {k}\n");
    for i in 0..9 * k {
        w0.push_str(&format!("{}\n", 0.1 + (i % 5) as f64 * 0.1));
    }
    let mut h0 = format!("%%MatrixMarket matrix array real general\n{k} {m}\n");
    for i in 0..k * m {
        h0.push_str(&format!("{}\n", 0.2 + (i % 7) as f64 * 0.05));
    }
    write(tmp.path(), "w0.mtx", &w0);
    write(tmp.path(), "h0.mtx", &h0);
    let r = run(
        tmp.path(),
        &[
            "fit",
            "--matrix",
            "v/matrix.mtx",
            "--terms",
            "v/terms.tsv",
            "--documents",
            "v/documents.tsv",
            "-k",
            "2",
            "--init",
            "custom",
            "--w0",
            "w0.mtx",
            "--h0",
            "h0.mtx",
            "--out",
            "f",
            "--tol",
            "0",
            "--max-iter",
            "30",
        ],
    );
    r.expect_code(0);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("f/topics.json")).unwrap()).unwrap();
    assert_eq!(json["fit"]["iterations"], 30);

    // A W0 of the wrong shape is bad input naming the option.
    let r = run(
        tmp.path(),
        &[
            "fit",
            "--matrix",
            "v/matrix.mtx",
            "-k",
            "3",
            "--init",
            "custom",
            "--w0",
            "w0.mtx",
            "--h0",
            "h0.mtx",
            "--out",
            "g",
        ],
    );
    r.expect_code(2).stderr_has("w0");
}

#[test]
fn bad_parameters_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let d = docs.to_str().unwrap();
    for (args, needle) in [
        (vec!["-k", "0"], "-k"),
        (vec!["-k", "50"], "50"),
        (vec!["--alpha-w", "-1"], "--alpha-w"),
        (vec!["--l1-ratio", "1.5"], "--l1-ratio"),
        (vec!["--tol", "-0.1"], "--tol"),
        (vec!["--max-iter", "0"], "--max-iter"),
        (vec!["--init", "custom"], "--w0"),
    ] {
        let mut all = vec!["fit", d, "--out", "o"];
        all.extend(args);
        run(tmp.path(), &all).expect_code(2).stderr_has(needle);
    }
}

#[test]
fn negative_or_malformed_matrix_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "neg.mtx",
        "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.0\n2 2 -3.0\n",
    );
    run(
        tmp.path(),
        &["fit", "--matrix", "neg.mtx", "-k", "1", "--out", "o"],
    )
    .expect_code(2)
    .stderr_has("negative");
    write(
        tmp.path(),
        "bad.mtx",
        "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.0\n",
    );
    run(
        tmp.path(),
        &["fit", "--matrix", "bad.mtx", "-k", "1", "--out", "o"],
    )
    .expect_code(2)
    .stderr_has("bad.mtx");
}

#[test]
fn missing_input_files_are_one_line_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "x.mtx",
        "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1.0\n2 2 3.0\n",
    );
    for (args, needle) in [
        (vec!["--matrix", "absent.mtx"], "absent.mtx"),
        (
            vec![
                "--matrix",
                "x.mtx",
                "--init",
                "custom",
                "--w0",
                "no-w0.mtx",
                "--h0",
                "x.mtx",
            ],
            "no-w0.mtx",
        ),
    ] {
        let mut all = vec!["fit", "-k", "1", "--out", "o"];
        all.extend(args);
        let r = run(tmp.path(), &all);
        r.expect_code(2).stderr_has(needle);
        let errors: Vec<&str> = r.stderr.lines().filter(|l| l.contains("error")).collect();
        assert_eq!(errors.len(), 1, "{}", r.stderr);
        // the OS error is said once, not repeated by the error chain
        assert_eq!(errors[0].matches("os error").count(), 1, "{}", errors[0]);
    }
}
