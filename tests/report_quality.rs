//! Quality measures and restarts in the outputs: topics.json (`metrics`, each topic's coherence
//! and stability, the `restarts` section, all additive to schema version 1) and the report's
//! quality table, card values and restarts panel.

#[path = "report_fixture.rs"]
mod fixture;

use std::fs;

use nmf_topics::nmf::Init;
use nmf_topics::report::{write_fit_outputs, write_fit_outputs_with, FitExtras, OutputOptions};
use nmf_topics::restarts::{RestartRecord, RestartSummary};
use serde_json::Value;

/// A made-up summary of three restarts of the fixture's model (restart 1 won).
pub fn restarts() -> RestartSummary {
    let run = |r: usize, objective: f64| RestartRecord {
        restart: r,
        seed: r as u64,
        init: if r == 0 { Init::Nndsvda } else { Init::Random },
        objective,
        iterations: 40 + r,
        converged: true,
        seconds: 0.25,
    };
    RestartSummary {
        restarts: 3,
        best: 1,
        runs: vec![run(0, 2.5), run(1, 2.25), run(2, 2.75)],
        objective_min: 2.25,
        objective_max: 2.75,
        objective_mean: 2.5,
        stability: Some(0.9),
        topic_stability: Some(vec![0.99, 0.71, 0.9]),
        cophenetic: Some(0.97),
    }
}

fn topics_json(dir: &std::path::Path) -> Value {
    serde_json::from_slice(&fs::read(dir.join("topics.json")).unwrap()).unwrap()
}

#[test]
fn single_fit_has_quality_but_no_restarts() {
    let f = fixture::synthetic();
    let dir = tempfile::tempdir().unwrap();
    write_fit_outputs(dir.path(), &f.run(), &OutputOptions::default()).unwrap();
    let json = topics_json(dir.path());
    assert_eq!(json["version"], 1);
    let m = &json["metrics"];
    // the fit's metrics are still there, the quality is added
    assert!(m["loss"].is_number() && m["explained_variance"].is_number());
    assert_eq!(m["coherence_top_n"], 10);
    assert_eq!(m["diversity_top_n"], 25);
    for key in ["umass", "npmi", "diversity", "c_npmi"] {
        assert!(m[key].is_number(), "metrics.{key}: {}", m[key]);
    }
    assert_eq!(m["c_npmi_window"], 10, "the fixture has texts");
    let labels = &m["labels"];
    assert_eq!(labels["labels"], 3, "fruit, cars, space");
    assert_eq!(labels["documents"], 12, "the empty document has neither");
    assert_eq!(labels["purity"], 1.0, "each topic is one label");
    assert!(m.get("stability").is_none() && json.get("restarts").is_none());
    for t in json["topics"].as_array().unwrap() {
        let c = &t["coherence"];
        assert!(c["npmi"].is_number() && c["umass"].is_number(), "{t}");
        let npmi = c["npmi"].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&npmi));
        assert!(t.get("stability").is_none());
    }
    // the means are the means of the topics
    let per: Vec<f64> = json["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["coherence"]["npmi"].as_f64().unwrap())
        .collect();
    let mean = per.iter().sum::<f64>() / per.len() as f64;
    assert!((m["npmi"].as_f64().unwrap() - mean).abs() < 1e-12);

    let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("id=\"quality\"") && html.contains("Topic quality"));
    assert!(html.contains("id=\"card-sort\"") && html.contains("value=\"npmi\""));
    assert!(
        !html.contains("value=\"stability\""),
        "no restarts, no stability sort"
    );
    assert!(!html.contains("id=\"restarts\""));
    assert_eq!(
        html.matches("class=\"coh\"").count(),
        3,
        "every card shows its coherence"
    );
}

#[test]
fn restarts_go_into_topics_json_and_the_report() {
    let f = fixture::synthetic();
    let dir = tempfile::tempdir().unwrap();
    let summary = restarts();
    let extras = FitExtras {
        quality: None,
        restarts: Some(&summary),
        topics: None,
    };
    write_fit_outputs_with(dir.path(), &f.run(), &OutputOptions::default(), &extras).unwrap();
    let json = topics_json(dir.path());
    let r = &json["restarts"];
    assert_eq!(r["restarts"], 3);
    assert_eq!(r["best"], 1);
    assert_eq!(r["runs"].as_array().unwrap().len(), 3);
    assert_eq!(r["runs"][2]["init"], "random");
    assert_eq!(r["objective_max"], 2.75);
    assert_eq!(json["metrics"]["stability"], 0.9);
    assert_eq!(json["metrics"]["cophenetic"], 0.97);
    assert_eq!(json["topics"][1]["stability"], 0.71);
    assert_eq!(json["topics"][0]["stability"], 0.99);

    let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("id=\"restarts\""));
    assert!(
        html.contains("class=\"won\""),
        "the winning restart is marked"
    );
    assert!(html.contains("value=\"stability\""));
    assert!(html.contains("stability <b>0.71</b>"));
    assert!(html.contains("data-stability=\"0.710000\""));
}
