//! `nmf-topics sweep` and `fit --restarts` end to end: the files, `--fit-best`, and usage errors
//! that name the option.

mod util;

use util::{run, sample_corpus};

#[test]
fn sweep_writes_its_files_and_the_best_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = sample_corpus();
    let corpus = corpus.to_str().unwrap();
    let r = run(
        tmp.path(),
        &[
            "sweep",
            corpus,
            "-k",
            "6..10:2",
            "--restarts",
            "2",
            "--fit-best",
            "--out",
            "out",
        ],
    );
    r.expect_code(0);
    assert!(r.stdout.contains("← recommended"), "{}", r.stdout);
    let out = tmp.path().join("out");
    for f in ["sweep.json", "sweep.csv", "sweep.html"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 3);
    let k = json["recommended_k"].as_u64().unwrap();
    assert!([6, 8, 10].contains(&k));
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4);
    let best: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("best/topics.json")).unwrap()).unwrap();
    assert_eq!(best["params"]["k"].as_u64(), Some(k));
    assert_eq!(best["topics"].as_array().unwrap().len() as u64, k);
    assert_eq!(best["restarts"]["restarts"], 2);
    assert!(out.join("best/report.html").is_file());
}

#[test]
fn bad_sweeps_are_usage_errors_naming_the_option() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = sample_corpus();
    let corpus = corpus.to_str().unwrap();
    for (args, needle) in [
        (vec!["-k", "10..5"], "-k 10..5"),
        (vec!["-k", "5..10:0"], "step"),
        (vec!["-k", "5..9000"], "larger than min(documents, terms)"),
        (vec!["-k", "x"], "-k x"),
        (vec!["--restarts", "0"], "--restarts"),
    ] {
        let mut all = vec!["sweep", corpus, "--out", "o"];
        all.extend(args);
        run(tmp.path(), &all).expect_code(2).stderr_has(needle);
    }
}

#[test]
fn fit_with_restarts_records_them() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = sample_corpus();
    let corpus = corpus.to_str().unwrap();
    run(
        tmp.path(),
        &[
            "fit",
            corpus,
            "-k",
            "8",
            "--restarts",
            "3",
            "--out",
            "out",
            "-q",
        ],
    )
    .expect_code(0);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("out/topics.json")).unwrap())
            .unwrap();
    let r = &json["restarts"];
    assert_eq!(r["restarts"], 3);
    assert_eq!(r["runs"][1]["seed"], 1);
    assert_eq!(r["runs"][1]["init"], "random");
    assert!(json["metrics"]["stability"].is_number());
    assert!(json["topics"][0]["stability"].is_number());
    let best = r["best"].as_u64().unwrap() as usize;
    let min = r["objective_min"].as_f64().unwrap();
    assert_eq!(r["runs"][best]["objective"].as_f64().unwrap(), min);
    assert_eq!(json["metrics"]["loss"].as_f64().unwrap(), min);
    run(
        tmp.path(),
        &["fit", corpus, "--restarts", "0", "--out", "o"],
    )
    .expect_code(2)
    .stderr_has("--restarts");
}
