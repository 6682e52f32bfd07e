//! The `vectorize` command end to end: outputs, bad inputs, determinism.

mod util;

use util::{run, run_in, small_corpus, write};

#[test]
fn vectorize_writes_matrix_terms_and_documents() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let r = run(
        tmp.path(),
        &["vectorize", docs.to_str().unwrap(), "--out", "out"],
    );
    r.expect_code(0);
    assert!(r.stdout.contains("documents  9"), "{}", r.stdout);

    let mtx = std::fs::read_to_string(tmp.path().join("out/matrix.mtx")).unwrap();
    assert!(mtx.starts_with("%%MatrixMarket matrix coordinate real general"));
    let terms = std::fs::read_to_string(tmp.path().join("out/terms.tsv")).unwrap();
    assert!(terms.starts_with("term\tsurface\tdf\n"));
    let documents = std::fs::read_to_string(tmp.path().join("out/documents.tsv")).unwrap();
    let lines: Vec<&str> = documents.lines().collect();
    assert_eq!(lines[0], "id\tlabel");
    assert_eq!(lines.len(), 10);
    assert!(lines.contains(&"food/0.txt\tfood"), "{documents}");

    // Written through temporary names: nothing else is left in the folder.
    let mut names: Vec<String> = std::fs::read_dir(tmp.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["documents.tsv", "matrix.mtx", "terms.tsv"]);

    // The size line agrees with the term and document files.
    let size = mtx.lines().find(|l| !l.starts_with('%')).unwrap();
    let dims: Vec<usize> = size
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(dims[0], 9);
    assert_eq!(dims[1], terms.lines().count() - 1);
}

#[test]
fn missing_input_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), &["vectorize", "no/such/folder", "--out", "out"])
        .expect_code(2)
        .stderr_has("no/such/folder");
}

#[test]
fn empty_folder_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    run(tmp.path(), &["vectorize", "empty", "--out", "out"])
        .expect_code(2)
        .stderr_has("empty");
}

#[test]
fn binary_and_invalid_utf8_files_are_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    write(&docs, "space/bin.txt", b"abc\0def");
    write(&docs, "space/latin1.txt", b"caf\xe9 orbit planet");
    let r = run(
        tmp.path(),
        &["vectorize", docs.to_str().unwrap(), "--out", "out"],
    );
    r.expect_code(0)
        .stderr_has("bin.txt")
        .stderr_has("latin1.txt");
    let documents = std::fs::read_to_string(tmp.path().join("out/documents.tsv")).unwrap();
    assert!(!documents.contains("bin.txt"));
    assert!(documents.contains("latin1.txt"));
}

#[test]
fn empty_file_is_kept_as_an_empty_row() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    write(&docs, "food/empty.txt", "");
    run(
        tmp.path(),
        &["vectorize", docs.to_str().unwrap(), "--out", "out"],
    )
    .expect_code(0);
    let documents = std::fs::read_to_string(tmp.path().join("out/documents.tsv")).unwrap();
    assert_eq!(documents.lines().count(), 11);
}

#[test]
fn filters_that_empty_the_vocabulary_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let d = docs.to_str().unwrap();
    run(
        tmp.path(),
        &["vectorize", d, "--out", "o", "--min-df", "100"],
    )
    .expect_code(2)
    .stderr_has("--min-df");
    write(tmp.path(), "stop/a.txt", "the and of");
    run(tmp.path(), &["vectorize", "stop", "--out", "o"]).expect_code(2);
}

#[test]
fn impossible_option_values_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let d = docs.to_str().unwrap();
    for (args, needle) in [
        (vec!["--max-df", "0"], "--max-df"),
        (vec!["--max-df", "1.5"], "--max-df"),
        (vec!["--min-df", "-1"], "--min-df"),
        (vec!["--language", "klingon"], "klingon"),
        (
            vec!["--stopwords", "missing-stopwords.txt"],
            "missing-stopwords.txt",
        ),
        (vec!["--hash-features", "0"], "--hash-features"),
        (vec!["--hash-features", "many"], "--hash-features"),
        (vec!["--hash-features", "-4"], "--hash-features"),
        (vec!["--hash-alternate-sign"], "--hash-features"),
    ] {
        let mut all = vec!["vectorize", d, "--out", "o"];
        all.extend(args);
        run(tmp.path(), &all).expect_code(2).stderr_has(needle);
    }
}

#[test]
fn jsonl_and_csv_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "d.jsonl",
        "{\"text\": \"orbit planet star\", \"tag\": \"space\"}\n{\"text\": \"bread oven flour\"}\nnot json\n",
    );
    write(
        tmp.path(),
        "d.csv",
        "id,body\nx1,\"goal match, team\"\nx2,referee league goal\n",
    );
    let r = run(
        tmp.path(),
        &["vectorize", "d.jsonl", "--out", "o", "--label-field", "tag"],
    );
    r.expect_code(0).stderr_has("d.jsonl:3");
    run(tmp.path(), &["vectorize", "d.csv", "--out", "o2"])
        .expect_code(2)
        .stderr_has("text");
    run(
        tmp.path(),
        &[
            "vectorize",
            "d.csv",
            "--out",
            "o2",
            "--text-field",
            "body",
            "--id-field",
            "id",
        ],
    )
    .expect_code(0);
    let documents = std::fs::read_to_string(tmp.path().join("o2/documents.tsv")).unwrap();
    assert!(documents.contains("x1\t"));
}

#[test]
fn same_bytes_with_one_or_two_threads() {
    let sample = util::sample_corpus();
    let tmp = tempfile::tempdir().unwrap();
    let s = sample.to_str().unwrap();
    for n in ["1", "2"] {
        run_in(
            tmp.path(),
            &["vectorize", s, "--out", n, "--quiet"],
            &[("RAYON_NUM_THREADS", n)],
        )
        .expect_code(0);
        let hashed = format!("h{n}");
        run_in(
            tmp.path(),
            &[
                "vectorize",
                s,
                "--out",
                &hashed,
                "--quiet",
                "--hash-features",
                "1000",
                "--hash-alternate-sign",
            ],
            &[("RAYON_NUM_THREADS", n)],
        )
        .expect_code(0);
    }
    for f in ["matrix.mtx", "terms.tsv", "documents.tsv"] {
        for (one, two) in [("1", "2"), ("h1", "h2")] {
            let a = std::fs::read(tmp.path().join(one).join(f)).unwrap();
            let b = std::fs::read(tmp.path().join(two).join(f)).unwrap();
            assert!(a == b, "{f} differs between 1 and 2 threads ({one})");
        }
    }
    let terms = std::fs::read_to_string(tmp.path().join("h1/terms.tsv")).unwrap();
    assert!(terms.lines().count() <= 1001);
}
