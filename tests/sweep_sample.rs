//! The sweep on `corpora/sample` (8 subjects, one folder each): the recommended k is within
//! ±2 of 8, and the measures behave as they should on a corpus with known classes.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use nmf_topics::corpus::{self, CorpusOptions};
use nmf_topics::sweep::{sweep, KRange, SweepInput, SweepOptions};
use nmf_topics::text::{Analyzer, AnalyzerConfig};
use nmf_topics::topics::quality::TokenStreams;
use nmf_topics::vectorize::{self, VectorizeOptions};

#[test]
fn sample_corpus_recommends_about_eight_topics() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/sample"));
    let c = corpus::load(&[root], &CorpusOptions::default()).unwrap();
    let analyzer = Analyzer::new(&AnalyzerConfig::default()).unwrap();
    let (dtm, _) =
        vectorize::vectorize(&c.documents, &analyzer, &VectorizeOptions::default()).unwrap();
    let streams = TokenStreams::from_documents(&c.documents, &analyzer, &dtm.terms).unwrap();
    let labels: Vec<Option<&str>> = dtm.documents.iter().map(|d| d.label.as_deref()).collect();
    let input = SweepInput {
        x: &dtm.x,
        streams: Some(&streams),
        labels: Some(&labels),
    };
    // the default fit parameters (seed 0), 3 restarts per k
    let opts = SweepOptions::new(KRange::new(2, 16, 1), 3);
    let result = sweep(&input, &opts, &|_| {}, &AtomicBool::new(false)).unwrap();
    let table: Vec<String> = result
        .rows
        .iter()
        .map(|r| {
            format!(
                "k={:2} npmi={:.4} stability={:.4} nmi={:.3}",
                r.k,
                r.npmi.unwrap_or(f64::NAN),
                r.stability.unwrap_or(f64::NAN),
                r.labels.as_ref().map_or(f64::NAN, |l| l.nmi)
            )
        })
        .collect();
    let k = result.recommended.expect("a recommendation");
    assert!(
        (6..=10).contains(&k),
        "recommended k = {k}\n{}",
        table.join("\n")
    );
    assert!(!result.cancelled);
    assert_eq!(result.rows.len(), 15);
    for r in &result.rows {
        assert_eq!(r.restarts, 3);
        assert!(r
            .stability
            .is_some_and(|s| (0.0..=1.0 + 1e-12).contains(&s)));
        assert!(r.cophenetic.is_some_and(|c| (-1.0..=1.0).contains(&c)));
        assert!(r.c_npmi.is_some() && r.umass.is_some() && r.diversity.is_some());
        assert!(r.objective <= r.objective_max);
    }
    // with the labels: the dominant topics at k = 8 agree with the 8 subjects
    let eight = result.row(8).unwrap().labels.as_ref().unwrap();
    assert!(eight.nmi > 0.8 && eight.purity > 0.8, "{eight:?}");
    // more topics always explain more
    assert!(result
        .rows
        .windows(2)
        .all(|w| w[1].explained_variance > w[0].explained_variance - 1e-9));
}
