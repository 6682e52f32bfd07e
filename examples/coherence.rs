//! Scores word lists — the topics of any tool — by their coherence on a corpus, with this
//! crate's measures ([`nmf_topics::topics::quality::score_word_lists`]): NPMI and UMass of
//! each list's first N words from document co-occurrence, each word counted over the documents
//! that hold any form of its stem. `benches/peer_quality.py` uses it to put scikit-learn's
//! topics and ours on the same scale.
//!
//! ```sh
//! nmf-topics vectorize CORPUS --out REF --stopwords none     # the reference matrix
//! cargo run --release --example coherence -- REF topics.txt [TOP_N] [--distinct]
//! ```
//!
//! `topics.txt` holds one topic per line, its words separated by spaces or commas. Each word is
//! lowercased and stemmed with the English stemmer, then looked up among the stems of
//! `REF/terms.tsv`; words whose stem is not there are listed as unknown and left out. Two words
//! of one list with the same stem stay two words (their pair scores as co-occurring
//! perfectly), unless `--distinct`: then each list is read until it has TOP_N distinct stems
//! (give longer lists), so "file" and "files" count once. Prints JSON: per topic the words, how
//! many were scored, NPMI and UMass; the means; the unknown words.

use std::collections::HashMap;
use std::path::PathBuf;

use nmf_topics::text::{Analyzer, AnalyzerConfig, StopwordSpec};
use nmf_topics::topics::quality::score_word_lists;
use nmf_topics::vectorize::read_terms_tsv;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: coherence REF_DIR TOPICS.txt [TOP_N]");
        std::process::exit(2);
    }
    let dir = PathBuf::from(&args[0]);
    let top_n: usize = args
        .get(2)
        .filter(|s| !s.starts_with("--"))
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10);
    let distinct = args.iter().any(|a| a == "--distinct");
    let x = nmf_topics::mtx::read_sparse(&dir.join("matrix.mtx"))?;
    let terms = read_terms_tsv(&dir.join("terms.tsv"))?;
    let column: HashMap<&str, usize> = terms
        .iter()
        .enumerate()
        .map(|(j, t)| (t.stem.as_str(), j))
        .collect();
    let analyzer = Analyzer::new(&AnalyzerConfig {
        stopwords: StopwordSpec::None,
        ..AnalyzerConfig::default()
    })?;
    let text = std::fs::read_to_string(&args[1])?;
    let mut lists = Vec::new();
    let mut words = Vec::new();
    let mut unknown = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut ws: Vec<String> = Vec::new();
        let mut cols = Vec::new();
        for w in line
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
        {
            if cols.len() == top_n || (!distinct && ws.len() == top_n) {
                break;
            }
            match column.get(analyzer.stem(&w).as_ref()) {
                Some(&j) if distinct && cols.contains(&j) => continue,
                Some(&j) => cols.push(j),
                None => unknown.push(w.clone()),
            }
            ws.push(w);
        }
        lists.push(cols);
        words.push(ws);
    }
    let c = score_word_lists(&x, &lists, top_n)?;
    let topics: Vec<serde_json::Value> = (0..lists.len())
        .map(|t| {
            serde_json::json!({
                "words": words[t],
                "scored": lists[t].len(),
                "npmi": c.npmi[t],
                "umass": c.umass[t],
            })
        })
        .collect();
    let out = serde_json::json!({
        "top_n": top_n,
        "topics": topics,
        "mean_npmi": c.mean_npmi,
        "mean_umass": c.mean_umass,
        "unknown": unknown,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
