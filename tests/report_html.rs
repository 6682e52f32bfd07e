//! The HTML report: structure, escaping, self-containedness, size.

#[path = "report_fixture.rs"]
mod fixture;

use std::path::Path;

use nmf_topics::report::html::render_report;
use nmf_topics::report::{write_fit_outputs, OutputOptions};
use nmf_topics::topics::TopicSet;

fn render(f: &fixture::Fixture, opts: &OutputOptions) -> String {
    let set = TopicSet::from_model(&f.dtm, &f.model, Some(&f.docs), &opts.topic_options()).unwrap();
    render_report(&f.run(), &set, opts, Path::new("/")).unwrap()
}

fn script_json(html: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"nmf-data\">";
    let start = html.find(open).expect("data blob") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("the blob is valid JSON")
}

#[test]
fn structure() {
    let f = fixture::synthetic();
    let html = render(&f, &OutputOptions::default());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        html.matches("<article class=\"card\"").count(),
        3,
        "one card per topic"
    );
    for t in 0..3 {
        assert!(html.contains(&format!("id=\"words-{t}\"")));
        assert!(html.contains(&format!("id=\"topic-{t}\"")));
    }
    assert!(html.contains(
        "<input type=\"range\" id=\"lambda\" min=\"0\" max=\"1\" step=\"0.05\" value=\"1\">"
    ));
    assert!(html.contains("<svg class=\"map\""));
    assert_eq!(
        html.matches("<circle cx=").count(),
        3,
        "one circle per topic"
    );
    assert_eq!(
        html.matches("<rect class=\"cell\"").count(),
        9,
        "k × k heatmap"
    );
    assert!(html.contains("<svg class=\"chart\""), "convergence plot");
    assert!(html.contains("<table id=\"doc-table\">"));
    assert_eq!(html.matches("<tr><td class=\"num\" data-v=").count(), 13);
    assert!(
        html.contains("<table class=\"labels\">"),
        "labels → label × topic table"
    );
    assert!(html.contains("Explained variance"));
    // cards show the top documents with snippets and relative links
    assert!(html.contains("Document 0 about fruit. It talks about apples and pears"));
    assert!(
        html.contains("<a href=\"corpus&#x2F;fruit&#x2F;doc%200.txt\">fruit&#x2F;doc0.txt</a>"),
        "relative link to the file, from the output folder /"
    );
    let data = script_json(&html);
    assert_eq!(data["topics"].as_array().unwrap().len(), 3);
    assert_eq!(data["n"], 10);
}

#[test]
fn document_text_is_escaped() {
    let f = fixture::synthetic();
    let html = render(&f, &OutputOptions::default());
    assert!(!html.contains(fixture::EVIL_ID), "raw markup from an id");
    assert!(!html.contains("<script>alert"), "raw markup from a text");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert!(html.contains("&lt;&#x2F;script&gt;&lt;script&gt;alert(2)"));
    assert_eq!(
        html.matches("<script").count(),
        2,
        "only the page's own scripts"
    );
    assert_eq!(html.matches("</script>").count(), 2);
}

#[test]
fn no_network_references() {
    let f = fixture::synthetic();
    let html = render(&f, &OutputOptions::default());
    assert!(!html.contains("http://"), "http:// in the page");
    assert!(
        !html.contains("https://"),
        "https:// in the page (a document mentions one)"
    );
    for tag in ["<link", "<img", "<iframe", "@import", "url("] {
        assert!(!html.contains(tag), "{tag} in the page");
    }
    assert!(!html.contains(" src="), "no external sources");
}

#[test]
fn without_labels_no_label_table() {
    let mut f = fixture::synthetic();
    for d in &mut f.dtm.documents {
        d.label = None;
    }
    let html = render(&f, &OutputOptions::default());
    assert!(!html.contains("<table class=\"labels\">"));
    assert!(!html.contains(">Label</th>"));
}

#[test]
fn rendering_is_deterministic() {
    let f = fixture::synthetic();
    let opts = OutputOptions {
        relevance_lambda: 0.6,
        ..OutputOptions::default()
    };
    assert_eq!(render(&f, &opts), render(&f, &opts));
    assert!(render(&f, &opts).contains("value=\"0.6\""));
}

#[test]
fn large_corpus_stays_small() {
    let f = fixture::large(60_000, 20, 3_000);
    let dir = tempfile::tempdir().unwrap();
    write_fit_outputs(dir.path(), &f.run(), &OutputOptions::default()).unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.len() < 5_000_000, "report is {} bytes", html.len());
    assert_eq!(
        html.matches("<tr><td class=\"num\" data-v=").count(),
        2_000,
        "bounded document table"
    );
    assert!(html.contains("The table holds the first 2,000 of 60,000 documents"));
    assert!(html.contains("more are left out") || html.matches("<tr><td>label").count() <= 50);
    eprintln!("report.html for 60,000 documents: {} bytes", html.len());
}

#[test]
fn single_topic_and_empty_history() {
    let mut f = fixture::synthetic();
    f.model.w = f.model.w.slice(ndarray::s![.., 0..1]).to_owned();
    f.model.h = f.model.h.slice(ndarray::s![0..1, ..]).to_owned();
    f.model.history.clear();
    f.params.k = 1;
    let html = render(&f, &OutputOptions::default());
    assert_eq!(html.matches("<article class=\"card\"").count(), 1);
    assert!(html.contains("No objective history was recorded."));
    assert!(!html.contains("NaN"));
    let dir = tempfile::tempdir().unwrap();
    write_fit_outputs(dir.path(), &f.run(), &OutputOptions::default()).unwrap();
}
