//! `transform` end to end: consistency with `fit`, and bad model files.

mod util;

use util::{run, sample_corpus, small_corpus, write};

/// The `dominant_topic` column of a doc-topics CSV, keyed by id.
fn dominant(path: &std::path::Path) -> Vec<(String, String)> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[2].to_string())
        })
        .collect()
}

#[test]
fn transforming_the_training_corpus_agrees_with_the_fit() {
    let sample = sample_corpus();
    let s = sample.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    run(
        tmp.path(),
        &["fit", s, "-k", "8", "--out", "fit", "--quiet"],
    )
    .expect_code(0);
    let r = run(
        tmp.path(),
        &[
            "transform",
            "--model",
            "fit/model.json",
            s,
            "--out",
            "t/new.csv",
        ],
    );
    r.expect_code(0);

    let fitted = dominant(&tmp.path().join("fit/doc_topics.csv"));
    let transformed = dominant(&tmp.path().join("t/new.csv"));
    assert_eq!(fitted.len(), transformed.len());
    let agree = fitted
        .iter()
        .zip(&transformed)
        .filter(|(a, b)| {
            assert_eq!(a.0, b.0, "rows in the same order");
            a.1 == b.1
        })
        .count();
    let share = agree as f64 / fitted.len() as f64;
    assert!(
        share >= 0.99,
        "dominant topics agree for {:.1}% of documents",
        100.0 * share
    );

    // The header is doc_topics.csv's, followed by the two word counts.
    let head = |p: &str| {
        std::fs::read_to_string(tmp.path().join(p))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        format!("{},words,known_words", head("fit/doc_topics.csv")),
        head("t/new.csv")
    );
}

#[test]
fn unknown_words_are_ignored_and_empty_documents_stay_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    run(
        tmp.path(),
        &[
            "fit",
            docs.to_str().unwrap(),
            "-k",
            "3",
            "--out",
            "fit",
            "--quiet",
        ],
    )
    .expect_code(0);
    write(tmp.path(), "new/a.txt", "telescope galaxy zyzzyva");
    write(tmp.path(), "new/b.txt", "quux blorp");
    run(
        tmp.path(),
        &[
            "transform",
            "--model",
            "fit/model.json",
            "new",
            "--out",
            "new.csv",
            "--quiet",
        ],
    )
    .expect_code(0);
    let rows = dominant(&tmp.path().join("new.csv"));
    assert_eq!(rows.len(), 2);
    assert!(
        !rows[0].1.is_empty(),
        "a document with known words has a topic"
    );
    assert!(
        rows[1].1.is_empty(),
        "a document without known words has none"
    );
}

#[test]
fn bad_model_files_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let d = docs.to_str().unwrap();
    run(
        tmp.path(),
        &["fit", d, "-k", "3", "--out", "fit", "--quiet"],
    )
    .expect_code(0);
    let model = std::fs::read_to_string(tmp.path().join("fit/model.json")).unwrap();

    write(tmp.path(), "truncated.json", &model[..model.len() / 2]);
    write(tmp.path(), "corrupt.json", "{\"version\": 1, \"terms\": [}");
    write(
        tmp.path(),
        "newer.json",
        model.replacen("\"version\": 1", "\"version\": 99", 1),
    );
    for (file, needle) in [
        ("truncated.json", "truncated"),
        ("corrupt.json", "corrupt.json"),
        ("newer.json", "newer"),
        ("missing.json", "missing.json"),
    ] {
        let r = run(
            tmp.path(),
            &["transform", "--model", file, d, "--out", "o.csv"],
        );
        assert_ne!(r.code, 0, "{file} was accepted");
        r.stderr_has(needle);
        assert_eq!(r.stderr.lines().count(), 1, "one-line error: {}", r.stderr);
    }
    assert!(!tmp.path().join("o.csv").exists());
}
