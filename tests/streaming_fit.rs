//! `fit --stream` and [`nmf_topics::nmf::stream::fit_streamed`] over text: the rows analyzed
//! again for every epoch give the fit of the in-memory matrix read in blocks (bit for bit);
//! on a corpus that fits one batch the outputs are those of `fit --solver online`; bad
//! settings are one-line usage errors that write nothing.

mod util;

use std::fs;
use std::path::Path;

use nmf_topics::corpus::{CorpusOptions, Source};
use nmf_topics::nmf::online::OnlineOptions;
use nmf_topics::nmf::stream::{fit_streamed_with, MatrixBlocks};
use nmf_topics::nmf::{Loss, NmfParams, Solver};
use nmf_topics::text::{Analyzer, AnalyzerConfig};
use nmf_topics::vectorize::{self, RowStreamer, TextRows, VectorizeOptions, Vocabulary};
use serde_json::Value;
use util::{run, sample_corpus};

fn json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn bits(a: &ndarray::Array2<f64>) -> Vec<u64> {
    a.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn the_text_streamed_again_each_epoch_fits_as_the_matrix_in_blocks() {
    let analyzer = Analyzer::new(&AnalyzerConfig::default()).unwrap();
    let vopts = VectorizeOptions::default();
    let copts = CorpusOptions::default();
    let inputs = [sample_corpus()];
    // Small reading blocks, so batches cross them.
    let source = Source::open(&inputs, &copts)
        .unwrap()
        .with_block_limits(7, 1 << 12);
    let (vocabulary, corpus) = Vocabulary::learn(source, &analyzer, &vopts, &mut |_| {}).unwrap();
    let streamer = RowStreamer::new(&vocabulary, &analyzer);
    let rows = TextRows::new(&streamer, &corpus);

    let loaded = nmf_topics::corpus::load(&inputs, &copts).unwrap();
    let (memory, _) = vectorize::vectorize(&loaded.documents, &analyzer, &vopts).unwrap();
    let blocks = MatrixBlocks::new(&memory.x, 50).unwrap();

    for loss in [Loss::Frobenius, Loss::Kl] {
        let mut p = NmfParams::new(5);
        p.loss = loss;
        p.solver = Some(Solver::Online);
        p.online = Some(OnlineOptions {
            batch_size: 40,
            ..OnlineOptions::default()
        });
        p.max_iter = 5;
        let p = p.check().unwrap();
        let mut epochs = Vec::new();
        // A start from 50 of the 303 documents: fetched by row from the text, kept from one
        // read of the matrix.
        let text = fit_streamed_with(
            &p,
            &rows,
            50,
            &mut |e| {
                if let nmf_topics::nmf::stream::StreamProgress::Epoch { epoch, .. } = e {
                    epochs.push(epoch);
                }
            },
            &mut |_, _, _, _| Ok(()),
        )
        .unwrap();
        let matrix =
            fit_streamed_with(&p, &blocks, 50, &mut |_| {}, &mut |_, _, _, _| Ok(())).unwrap();
        assert_eq!(bits(&text.w), bits(&matrix.w), "{loss:?}: W");
        assert_eq!(bits(&text.h), bits(&matrix.h), "{loss:?}: H");
        assert_eq!(text.history, matrix.history, "{loss:?}: history");
        assert_eq!(text.metrics.loss.to_bits(), matrix.metrics.loss.to_bits());
        assert_eq!(epochs, (1..=text.iterations).collect::<Vec<_>>());
    }
}

#[test]
fn a_corpus_of_one_batch_gives_the_outputs_of_the_in_memory_online_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = sample_corpus();
    let docs = docs.to_str().unwrap();
    let a = run(
        tmp.path(),
        &["fit", docs, "-k", "6", "--solver", "online", "--out", "mem"],
    );
    a.expect_code(0);
    let b = run(
        tmp.path(),
        &["fit", docs, "-k", "6", "--stream", "--out", "str"],
    );
    b.expect_code(0);
    // The topic table on stdout (the metrics line has the timings).
    let table = |s: &str| s.lines().take(7).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(table(&a.stdout), table(&b.stdout));
    assert!(b.stdout.lines().nth(1).is_some_and(|l| l.contains('%')));
    // With W.mtx written, W stays in the model: the same files, and W.mtx too.
    for (out, how) in [("strw", "--stream"), ("memw", "--solver=online")] {
        run(
            tmp.path(),
            &["fit", docs, "-k", "6", how, "--save-factors", "--out", out],
        )
        .expect_code(0);
    }
    for f in ["doc_topics.csv", "W.mtx", "H.mtx"] {
        assert_eq!(
            fs::read(tmp.path().join("strw").join(f)).unwrap(),
            fs::read(tmp.path().join("memw").join(f)).unwrap(),
            "{f}"
        );
    }
    let (mem, st) = (tmp.path().join("mem"), tmp.path().join("str"));
    for f in ["doc_topics.csv", "topic_terms.csv"] {
        assert_eq!(
            fs::read(mem.join(f)).unwrap(),
            fs::read(st.join(f)).unwrap(),
            "{f}"
        );
    }
    let (a, b) = (
        json(&mem.join("topics.json")),
        json(&st.join("topics.json")),
    );
    assert_eq!(a["topics"], b["topics"]);
    assert_eq!(a["documents"], b["documents"]);
    assert_eq!(a["corpus"], b["corpus"], "nnz of the whole matrix");
    assert_eq!(a["fit"]["loss_history"], b["fit"]["loss_history"]);
    for m in [
        "loss",
        "explained_variance",
        "npmi",
        "umass",
        "c_npmi",
        "diversity",
        "labels",
    ] {
        assert_eq!(a["metrics"][m], b["metrics"][m], "{m}");
    }
    assert_eq!(b["params"]["online"]["stream"], true);
    assert!(a["params"]["online"].get("stream").is_none());
    let model = json(&st.join("model.json"));
    assert_eq!(model["params"]["online"]["stream"], true);
    let report = fs::read_to_string(st.join("report.html")).unwrap();
    assert!(report.contains("online"));
}

#[test]
fn a_streamed_fit_over_several_batches_finds_the_topics() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = sample_corpus();
    let r = run(
        tmp.path(),
        &[
            "fit",
            docs.to_str().unwrap(),
            "-k",
            "8",
            "--stream",
            "--batch-size",
            "32",
            "--out",
            "o",
        ],
    );
    r.expect_code(0);
    let t = json(&tmp.path().join("o/topics.json"));
    let nmi = t["metrics"]["labels"]["nmi"].as_f64().unwrap();
    assert!(nmi > 0.8, "NMI {nmi}");
    let iterations = t["fit"]["iterations"].as_u64().unwrap() as usize;
    let history = t["fit"]["loss_history"].as_array().unwrap();
    assert_eq!(history.len(), iterations);
    assert_eq!(
        history.last(),
        Some(&t["metrics"]["loss"]),
        "ends at the loss"
    );
    let report = fs::read_to_string(tmp.path().join("o/report.html")).unwrap();
    assert!(report.contains("streamed from the inputs"));
    let rows = fs::read_to_string(tmp.path().join("o/doc_topics.csv")).unwrap();
    assert_eq!(rows.lines().count(), 303 + 1);
}

#[test]
fn bad_stream_settings_are_usage_errors_that_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = sample_corpus();
    let docs = docs.to_str().unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &["--solver", "hals"],
            "--stream fits with --solver online only",
        ),
        (
            &["--restarts", "2"],
            "--restarts cannot be combined with --stream",
        ),
        (&["--matrix", "x.mtx"], "--matrix"),
    ];
    for (i, (extra, message)) in cases.iter().enumerate() {
        let out = format!("o{i}");
        let mut args = vec!["fit", "--stream", "-q", "--out", &out];
        if !extra.contains(&"--matrix") {
            args.push(docs);
        }
        args.extend_from_slice(extra);
        let r = run(tmp.path(), &args);
        r.expect_code(2).one_line_error().stderr_has(message);
        let written = tmp.path().join(&out);
        assert!(
            !written.exists() || fs::read_dir(&written).unwrap().next().is_none(),
            "{extra:?} wrote outputs"
        );
    }
}
