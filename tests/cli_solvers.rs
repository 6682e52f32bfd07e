//! `fit --solver gnmf|nsnmf|pg` end to end: the parameters in topics.json, model.json and the
//! report, a graph file with its warnings, `transform` and `sweep` with these solvers, and
//! every bad option as a one-line usage error.

mod util;

use std::fs;
use std::path::Path;

use serde_json::Value;
use util::{run, sample_corpus, small_corpus, write};

fn json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

#[test]
fn each_new_solver_fits_and_records_its_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    let cases: [(&str, &[&str]); 5] = [
        ("gnmf", &["--solver", "gnmf"]),
        (
            "gnmf_kl",
            &[
                "--solver",
                "gnmf",
                "--loss",
                "kl",
                "--graph",
                "knn:3",
                "--graph-weight",
                "binary",
                "--graph-lambda",
                "2.5",
            ],
        ),
        ("nsnmf", &["--solver", "nsnmf", "--theta", "0.7"]),
        ("nsnmf_default", &["--solver", "nsnmf"]),
        ("pg", &["--solver", "pg"]),
    ];
    for (name, opts) in cases {
        let mut args = vec!["fit", docs, "-k", "3", "--out", name];
        args.extend_from_slice(opts);
        let r = run(tmp.path(), &args);
        r.expect_code(0);
        let t = json(&tmp.path().join(name).join("topics.json"));
        let p = &t["params"];
        let model = json(&tmp.path().join(name).join("model.json"));
        assert_eq!(model["params"]["solver"], p["solver"], "{name}");
        let report = fs::read_to_string(tmp.path().join(name).join("report.html")).unwrap();
        match name {
            "gnmf" => {
                assert_eq!(p["loss"], "frobenius");
                let g = &p["graph"];
                assert_eq!(
                    (&g["kind"], &g["neighbours"], &g["weight"], &g["lambda"]),
                    (
                        &Value::from("knn"),
                        &Value::from(5),
                        &Value::from("cosine"),
                        &Value::from(1.0)
                    )
                );
                // Only documents sharing a word are neighbours.
                assert!((1..=9 * 5).contains(&g["edges"].as_u64().unwrap()));
                let scaled = g["lambda_scaled"].as_f64().unwrap();
                let degree = g["mean_degree"].as_f64().unwrap();
                assert!((scaled * degree - 1.0).abs() < 1e-12);
                assert_eq!(model["params"]["graph"], *g);
                assert!(report.contains("<dt>graph</dt><dd>5 nearest neighbours, cosine weights"));
                assert!(report.contains("<dt>graph λ</dt><dd>1</dd>"));
                r.stderr_has("graph: each of 9 documents linked to its 5 most similar");
            }
            "gnmf_kl" => {
                assert_eq!(p["loss"], "kl");
                let g = &p["graph"];
                assert_eq!(
                    (&g["neighbours"], &g["weight"]),
                    (&Value::from(3), &"binary".into())
                );
                assert_eq!(g["lambda"], 2.5);
                assert!(report.contains("<dt>graph λ</dt><dd>2.5</dd>"), "{report}");
            }
            "nsnmf" => {
                assert_eq!((&p["loss"], &p["theta"]), (&"kl".into(), &Value::from(0.7)));
                assert!(
                    report.contains("<dt>θ (smoothness)</dt><dd>0.7</dd>"),
                    "{report}"
                );
            }
            "nsnmf_default" => {
                assert_eq!((&p["loss"], &p["theta"]), (&"kl".into(), &Value::from(0.5)));
            }
            "pg" => {
                assert_eq!(p["pg"]["sigma"], 0.01);
                assert_eq!(p["pg"]["beta"], 0.1);
                assert!(report.contains("Armijo σ &#x2F; β"));
            }
            _ => unreachable!(),
        }
        for other in ["graph", "theta", "pg"] {
            let own = match name {
                "gnmf" | "gnmf_kl" => "graph",
                "pg" => "pg",
                _ => "theta",
            };
            assert_eq!(
                p.get(other).is_some(),
                other == own,
                "{name}: params.{other}"
            );
        }
        // transform scores new documents with the fitted topics.
        let out = format!("{name}.csv");
        run(
            tmp.path(),
            &["transform", "--model", name, docs, "--out", &out],
        )
        .expect_code(0);
        let csv = fs::read_to_string(tmp.path().join(&out)).unwrap();
        assert_eq!(csv.lines().count(), 10);
    }
}

#[test]
fn a_graph_file_links_documents_by_id_and_warns_about_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    write(
        tmp.path(),
        "links.tsv",
        "source\ttarget\tweight\n\
         space/0.txt\tspace/1.txt\n\
         space/1.txt\tspace/0.txt\t2\n\
         food/0.txt\tfood/9.txt\n\
         sport/2.txt\tsport/2.txt\n\
         # a comment\n\
         food/1.txt\tsport/0.txt\t0.5\n",
    );
    let r = run(
        tmp.path(),
        &[
            "fit",
            docs,
            "-k",
            "3",
            "--solver",
            "gnmf",
            "--graph",
            "links.tsv",
            "--out",
            "o",
        ],
    );
    r.expect_code(0)
        .stderr_has(
            "nmf-topics: warning: links.tsv:4: id 'food/9.txt' is not a document of the \
             corpus; link skipped",
        )
        .stderr_has(
            "graph: links.tsv: 5 links read, 3 used (1 duplicate summed), 1 skipped (unknown \
             ids), 1 self-link ignored; 2 links between 4 of 9 documents",
        );
    let g = &json(&tmp.path().join("o/topics.json"))["params"]["graph"];
    assert_eq!(g["kind"], "file");
    assert_eq!(g["file"], "links.tsv");
    let links = &g["links"];
    for (key, want) in [
        ("lines", 5),
        ("used", 3),
        ("skipped", 1),
        ("self_loops", 1),
        ("duplicates", 1),
    ] {
        assert_eq!(links[key], want, "{key}");
    }
    assert_eq!(g["edges"], 2);
    assert_eq!(g["isolated"], 5);
    // The linked pair space/0 – space/1 (weight 3) and food/1 – sport/0 (0.5): d̄ = 7/4.
    assert!((g["mean_degree"].as_f64().unwrap() - 1.75).abs() < 1e-12);
    let report = fs::read_to_string(tmp.path().join("o/report.html")).unwrap();
    assert!(
        report.contains("<dt>graph</dt><dd>file links.tsv</dd>"),
        "{report}"
    );
    assert!(report.contains(
        "<dt>file links used &#x2F; skipped &#x2F; duplicates</dt><dd>3 &#x2F; 1 &#x2F; 1</dd>"
    ));

    // A bad weight is an error naming the file and line, found before the corpus is read;
    // nothing is written.
    write(
        tmp.path(),
        "bad.tsv",
        "space/0.txt\tspace/1.txt\n\nspace/0.txt\tfood/0.txt\t-2\n",
    );
    let r = run(
        tmp.path(),
        &[
            "fit", docs, "--solver", "gnmf", "--graph", "bad.tsv", "--out", "bad",
        ],
    );
    r.expect_code(2).one_line_error().stderr_has(
        "bad.tsv:3: the weight -2 is not allowed: weights must be finite and non-negative",
    );
    assert!(!tmp.path().join("bad/topics.json").exists());
    write(
        tmp.path(),
        "nan.tsv",
        "space/0.txt\tspace/1.txt\t1\nspace/0.txt\tspace/1.txt\tlots\n",
    );
    run(
        tmp.path(),
        &[
            "fit", docs, "--solver", "gnmf", "--graph", "nan.tsv", "--out", "bad",
        ],
    )
    .expect_code(2)
    .one_line_error()
    .stderr_has("nan.tsv:2: the weight 'lots' is not a number");
    // A first line with a word for a weight might be a header: it is judged once the ids
    // are known.
    write(tmp.path(), "first.tsv", "space/0.txt\tspace/1.txt\tlots\n");
    run(
        tmp.path(),
        &[
            "fit",
            docs,
            "--solver",
            "gnmf",
            "--graph",
            "first.tsv",
            "--out",
            "bad",
        ],
    )
    .expect_code(2)
    .stderr_has("nmf-topics: error: first.tsv:1: the weight 'lots' is not a number");
}

#[test]
fn bad_options_of_the_new_solvers_are_one_line_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    let cases: [(&[&str], &str); 16] = [
        (
            &["--solver", "gnmf", "--graph", "missing.tsv"],
            "--graph missing.tsv: no such file",
        ),
        (
            &["--solver", "gnmf", "--graph", "knn:0"],
            "--graph knn:0: the number of neighbours P must be at least 1",
        ),
        (
            &["--solver", "gnmf", "--graph", "knn:five"],
            "--graph knn:five: P must be a whole number of neighbours",
        ),
        (
            &["--solver", "gnmf", "--graph-lambda", "-1"],
            "--graph-lambda must be a non-negative number (got -1)",
        ),
        (
            &["--graph-lambda", "2"],
            "--graph-lambda is an option of --solver gnmf, not of --solver hals",
        ),
        (
            &["--solver", "mu", "--graph", "knn:3"],
            "--graph is an option of --solver gnmf, not of --solver mu",
        ),
        (
            &["--solver", "pg", "--graph-weight", "binary"],
            "--graph-weight is an option of --solver gnmf, not of --solver pg",
        ),
        (
            &["--solver", "nsnmf", "--theta", "1.5"],
            "--theta must be in [0, 1] (got 1.5)",
        ),
        (
            &["--loss", "kl", "--theta", "0.3"],
            "--theta is an option of --solver nsnmf, not of --solver mu",
        ),
        (
            &["--solver", "nsnmf", "--loss", "frobenius"],
            "--solver nsnmf does not work with --loss frobenius; the combinations that exist: \
             mu (frobenius, kl), hals (frobenius), als (frobenius), online (frobenius, kl), \
             gnmf (frobenius, kl), nsnmf (kl), pg (frobenius)",
        ),
        (
            &["--solver", "pg", "--loss", "kl"],
            "--solver pg does not work with --loss kl",
        ),
        (
            &["--solver", "gnmf", "--alpha-w", "0.1"],
            "--alpha-w and --alpha-h do not apply to --solver gnmf",
        ),
        (
            &["--solver", "nsnmf", "--alpha-h", "0.1"],
            "--alpha-w and --alpha-h do not apply to --solver nsnmf",
        ),
        (
            &["--inner-sweeps", "0"],
            "--inner-sweeps must be in 1..=100 (got 0)",
        ),
        (
            &["--solver", "hals", "--inner-sweeps", "101"],
            "--inner-sweeps must be in 1..=100 (got 101)",
        ),
        (
            &["--solver", "mu", "--inner-sweeps", "3"],
            "--inner-sweeps is an option of --solver hals, not of --solver mu",
        ),
    ];
    for (opts, want) in cases {
        let mut args = vec!["fit", docs, "--out", "o"];
        args.extend_from_slice(opts);
        let r = run(tmp.path(), &args);
        r.expect_code(2).one_line_error().stderr_has(want);
        // Checked before any input is read.
        assert!(
            !r.stderr.contains("read 9 documents"),
            "{opts:?}: {}",
            r.stderr
        );
    }
    fs::create_dir(tmp.path().join("adir")).unwrap();
    write(tmp.path(), "l.tsv", "space/0.txt\tspace/1.txt\n");
    for (opts, want) in [
        (
            &["--graph", "adir"][..],
            "--graph adir: is a folder, not a file of links",
        ),
        (
            &["--graph", "l.tsv", "--graph-weight", "cosine"][..],
            "--graph-weight applies to --graph knn:P",
        ),
    ] {
        let mut args = vec!["fit", docs, "--out", "o", "--solver", "gnmf"];
        args.extend_from_slice(opts);
        run(tmp.path(), &args)
            .expect_code(2)
            .one_line_error()
            .stderr_has(want);
    }
    // P must be less than the number of documents: known once the corpus is read.
    let r = run(
        tmp.path(),
        &[
            "fit", docs, "--out", "o", "--solver", "gnmf", "--graph", "knn:9",
        ],
    );
    r.expect_code(2)
        .stderr_has("--graph knn:9: P must be less than the number of documents (9)");
}

#[test]
fn sweep_runs_gnmf_on_one_graph() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let r = run(
        tmp.path(),
        &[
            "sweep",
            docs.to_str().unwrap(),
            "-k",
            "2..3",
            "--restarts",
            "2",
            "--solver",
            "gnmf",
            "--graph",
            "knn:2",
            "--out",
            "s",
        ],
    );
    r.expect_code(0)
        .stderr_has("graph: each of 9 documents linked to its 2 most similar");
    assert_eq!(
        r.stderr.matches("graph: each of").count(),
        1,
        "the graph is built once: {}",
        r.stderr
    );
    let s = json(&tmp.path().join("s/sweep.json"));
    assert_eq!(s["params"]["graph"]["neighbours"], 2);
    assert!(s["params"]["graph"]["edges"].as_u64().unwrap() > 0);
}

/// `--inner-sweeps` goes into topics.json, model.json and the report, and its model transforms.
#[test]
fn hals_inner_sweeps_are_recorded_and_the_model_transforms() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    for (name, inner) in [("one", None), ("four", Some("4"))] {
        let mut args = vec!["fit", docs, "-k", "3", "--out", name];
        if let Some(n) = inner {
            args.extend_from_slice(&["--inner-sweeps", n]);
        }
        run(tmp.path(), &args).expect_code(0);
        let want = Value::from(inner.map_or(1, |n| n.parse::<u64>().unwrap()));
        let t = json(&tmp.path().join(name).join("topics.json"));
        assert_eq!(
            (&t["params"]["solver"], &t["params"]["inner_sweeps"]),
            (&"hals".into(), &want)
        );
        let model = json(&tmp.path().join(name).join("model.json"));
        assert_eq!(model["params"]["inner_sweeps"], want);
        let report = fs::read_to_string(tmp.path().join(name).join("report.html")).unwrap();
        assert_eq!(
            report.contains("<dt>inner sweeps (at most)</dt><dd>4</dd>"),
            inner.is_some(),
            "{name}"
        );
        let out = format!("{name}.csv");
        run(
            tmp.path(),
            &["transform", "--model", name, docs, "--out", &out],
        )
        .expect_code(0);
    }
    // Other solvers do not record it.
    run(
        tmp.path(),
        &["fit", docs, "-k", "3", "--solver", "mu", "--out", "mu"],
    )
    .expect_code(0);
    let t = json(&tmp.path().join("mu/topics.json"));
    assert!(t["params"].get("inner_sweeps").is_none());
}

/// Every key of the new solvers' parameters (at any depth) is in docs/formats.md.
#[test]
fn the_new_parameters_are_documented() {
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/formats.md")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let sample = sample_corpus();
    let sample = sample.to_str().unwrap();
    write(tmp.path(), "links.tsv", "astronomy/a.txt\tnot-there\n");
    for (name, opts) in [
        ("g", &["--solver", "gnmf"][..]),
        ("f", &["--solver", "gnmf", "--graph", "links.tsv"][..]),
        ("n", &["--solver", "nsnmf"][..]),
        ("p", &["--solver", "pg"][..]),
        ("h", &["--inner-sweeps", "3"][..]),
    ] {
        let mut args = vec!["fit", sample, "-k", "3", "--max-iter", "5", "--out", name];
        args.extend_from_slice(opts);
        run(tmp.path(), &args).expect_code(0);
        for file in ["topics.json", "model.json"] {
            let v = json(&tmp.path().join(name).join(file));
            let mut keys = Vec::new();
            collect_keys(&v["params"], &mut keys);
            for k in keys {
                assert!(
                    doc.contains(&format!("`{k}`")),
                    "{file} key `{k}` is not in docs/formats.md"
                );
            }
        }
    }
}

fn collect_keys(v: &Value, out: &mut Vec<String>) {
    if let Some(obj) = v.as_object() {
        for (k, child) in obj {
            out.push(k.clone());
            collect_keys(child, out);
        }
    }
}
