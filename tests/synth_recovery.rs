//! The synthetic corpus generator (`tools/synth/generate.rs`): deterministic output, and topics
//! that the whole pipeline (the real binary: vectorize + fit) recovers.

mod util;

#[path = "../tools/synth/generate.rs"]
#[allow(dead_code)]
mod generate;

use generate::{Synth, SynthOptions};

fn corpus(opts: &SynthOptions) -> Vec<u8> {
    let mut out = Vec::new();
    Synth::new(opts).unwrap().write(&mut out, |_| {}).unwrap();
    out
}

#[test]
fn the_generator_is_deterministic_and_a_prefix_is_the_smaller_corpus() {
    let opts = SynthOptions {
        docs: 300,
        topics: 5,
        vocabulary: 2000,
        seed: 7,
        ..SynthOptions::default()
    };
    let a = corpus(&opts);
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| corpus(&opts));
    assert_eq!(a, one_thread, "same bytes with one thread");
    let smaller = corpus(&SynthOptions {
        docs: 120,
        ..opts.clone()
    });
    assert!(a.starts_with(&smaller), "a prefix");
    let text = String::from_utf8(a).unwrap();
    assert_eq!(text.lines().count(), 300);
    let other_seed = corpus(&SynthOptions {
        seed: 8,
        ..opts.clone()
    });
    assert_ne!(text.as_bytes(), other_seed.as_slice());
    // Every line is an object with an id, a label among the topics and ~100 words.
    let mut words = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let label = v["label"].as_str().unwrap();
        assert!(label.starts_with('t') && label[1..].parse::<usize>().unwrap() < 5);
        words += v["text"].as_str().unwrap().split(' ').count();
    }
    let mean = words as f64 / 300.0;
    assert!((80.0..125.0).contains(&mean), "mean length {mean}");
    assert!(Synth::new(&SynthOptions { topics: 0, ..opts }).is_err());
}

#[test]
fn fit_recovers_the_generating_topics() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SynthOptions {
        docs: 3000,
        topics: 10,
        seed: 1,
        ..SynthOptions::default()
    };
    std::fs::write(dir.path().join("synth.jsonl"), corpus(&opts)).unwrap();
    util::run(
        dir.path(),
        &[
            "fit",
            "synth.jsonl",
            "--label-field",
            "label",
            "-k",
            "10",
            "--no-stem",
            "--out",
            "out",
        ],
    )
    .expect_code(0);
    let topics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/topics.json")).unwrap())
            .unwrap();
    let labels = &topics["metrics"]["labels"];
    let nmi = labels["nmi"].as_f64().unwrap();
    assert!(nmi >= 0.9, "NMI of the dominant topics {nmi}: {labels}");
    assert_eq!(labels["documents"].as_u64(), Some(3000));
}
