//! Tests of the vocabulary and the weighting. They use an analyzer without stemming and
//! without stopwords, on plain lowercase ASCII words, so they do not depend on the stemmer or
//! the stopword lists.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::text::{AnalyzerConfig, StopwordSpec};

fn analyzer(min_len: usize) -> Analyzer {
    Analyzer::new(&AnalyzerConfig {
        stem: false,
        stopwords: StopwordSpec::None,
        ngram_max: 1,
        min_token_len: min_len,
        ..AnalyzerConfig::default()
    })
    .unwrap()
}

fn doc(id: &str, text: &str) -> Document {
    Document {
        id: id.to_string(),
        label: Some(format!("label of {id}")),
        text: text.to_string(),
        path: None,
    }
}

fn corpus() -> Vec<Document> {
    vec![
        doc("d0", "apple banana apple cherry"),
        doc("d1", "banana cherry cherry date"),
        doc("d2", "apple date date date egg"),
        doc("d3", ""),
        doc("d4", "fig apple"),
    ]
}

/// Plain reference implementation of the formulas, on whitespace-split words: returns the
/// sorted vocabulary and the dense weighted matrix. No filters (min_df = 1, max_df = 1.0).
fn reference(docs: &[Document], opts: &VectorizeOptions) -> (Vec<String>, Vec<Vec<f64>>) {
    let counts: Vec<BTreeMap<&str, u32>> = docs
        .iter()
        .map(|d| {
            let mut m = BTreeMap::new();
            for w in d.text.split_whitespace() {
                *m.entry(w).or_insert(0) += 1;
            }
            m
        })
        .collect();
    let vocab: Vec<&str> = counts
        .iter()
        .flat_map(|m| m.keys().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let n = docs.len() as f64;
    let idf: Vec<f64> = vocab
        .iter()
        .map(|t| {
            let df = counts.iter().filter(|m| m.contains_key(t)).count() as f64;
            if opts.smooth_idf {
                ((1.0 + n) / (1.0 + df)).ln() + 1.0
            } else {
                (n / df).ln() + 1.0
            }
        })
        .collect();
    let rows = counts
        .iter()
        .map(|m| {
            let mut row: Vec<f64> = vocab
                .iter()
                .zip(&idf)
                .map(|(t, idf)| {
                    let c = m.get(t).copied().unwrap_or(0) as f64;
                    if c == 0.0 {
                        return 0.0;
                    }
                    let mut tf = if opts.weighting == Weighting::Binary {
                        1.0
                    } else {
                        c
                    };
                    if opts.sublinear_tf {
                        tf = 1.0 + tf.ln();
                    }
                    if opts.weighting == Weighting::Tfidf {
                        tf * idf
                    } else {
                        tf
                    }
                })
                .collect();
            let norm = match opts.norm {
                Norm::L2 => row.iter().map(|v| v * v).sum::<f64>().sqrt(),
                Norm::L1 => row.iter().map(|v| v.abs()).sum::<f64>(),
                Norm::None => 1.0,
            };
            if norm > 0.0 {
                row.iter_mut().for_each(|v| *v /= norm);
            }
            row
        })
        .collect();
    (vocab.into_iter().map(String::from).collect(), rows)
}

fn dense(x: &Matrix) -> Vec<Vec<f64>> {
    let mut out = vec![vec![0.0; x.cols()]; x.rows()];
    for (v, (i, j)) in x.iter() {
        out[i as usize][j as usize] = *v;
    }
    out
}

fn stems(m: &DocTermMatrix) -> Vec<&str> {
    m.terms.iter().map(|t| t.stem.as_str()).collect()
}

fn input_error<T: std::fmt::Debug>(r: Result<T>) -> String {
    match r {
        Err(Error::Input(m)) => m,
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn weights_match_the_formulas_for_every_option() {
    let docs = corpus();
    let a = analyzer(1);
    for weighting in [Weighting::Tfidf, Weighting::Tf, Weighting::Binary] {
        for norm in [Norm::L2, Norm::L1, Norm::None] {
            for smooth_idf in [true, false] {
                for sublinear_tf in [false, true] {
                    let opts = VectorizeOptions {
                        weighting,
                        norm,
                        smooth_idf,
                        sublinear_tf,
                        ..VectorizeOptions::default()
                    };
                    let (m, _) = vectorize(&docs, &a, &opts).unwrap();
                    let (vocab, want) = reference(&docs, &opts);
                    assert_eq!(stems(&m), vocab);
                    let got = dense(&m.x);
                    for (gr, wr) in got.iter().zip(&want) {
                        for (g, w) in gr.iter().zip(wr) {
                            assert!(
                                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                                "{opts:?}: {g} != {w}"
                            );
                        }
                    }
                    assert_eq!(m.idf.is_some(), weighting == Weighting::Tfidf);
                }
            }
        }
    }
}

#[test]
fn known_values_of_the_default_weighting() {
    // n = 5; "fig" is in 1 document, "apple" in 3: smooth idf = ln(6/2) + 1 and ln(6/4) + 1.
    let (m, _) = vectorize(&corpus(), &analyzer(1), &VectorizeOptions::default()).unwrap();
    let idf = m.idf.as_ref().unwrap();
    let col = |t: &str| m.terms.iter().position(|x| x.stem == t).unwrap();
    assert_eq!(idf[col("fig")], 3.0f64.ln() + 1.0);
    assert_eq!(idf[col("apple")], 1.5f64.ln() + 1.0);
    // Row d4 = "fig apple": weights (idf_fig, idf_apple) / their Euclidean norm.
    let (f, a) = (3.0f64.ln() + 1.0, 1.5f64.ln() + 1.0);
    let n = (f * f + a * a).sqrt();
    let row = dense(&m.x)[4].clone();
    assert!((row[col("fig")] - f / n).abs() < 1e-15);
    assert!((row[col("apple")] - a / n).abs() < 1e-15);
    // Values computed by scikit-learn 1.9.1 on the same corpus:
    //   TfidfVectorizer(token_pattern=r"\S+").fit_transform(texts)[0].toarray()
    // row d0 "apple banana apple cherry" → apple 0.76124649, banana 0.45853232, cherry 0.45853232
    // row d4 "fig apple" → apple 0.5564505207186616, fig 0.830880748357988
    let row0 = dense(&m.x)[0].clone();
    assert!(
        (row0[col("apple")] - 0.761_246_49).abs() < 1e-8,
        "{}",
        row0[col("apple")]
    );
    assert!((row0[col("banana")] - 0.458_532_32).abs() < 1e-8);
    assert!((row0[col("cherry")] - 0.458_532_32).abs() < 1e-8);
    assert!((row[col("apple")] - 0.556_450_520_718_661_6).abs() < 1e-15);
    assert!((row[col("fig")] - 0.830_880_748_357_988).abs() < 1e-15);
}

#[test]
fn matrix_shape_terms_and_documents() {
    let (m, summary) = vectorize(&corpus(), &analyzer(1), &VectorizeOptions::default()).unwrap();
    assert_eq!(
        stems(&m),
        ["apple", "banana", "cherry", "date", "egg", "fig"]
    );
    let df: Vec<usize> = m.terms.iter().map(|t| t.df).collect();
    assert_eq!(df, [3, 2, 2, 2, 1, 1]);
    assert_eq!(m.x.shape(), (5, 6));
    assert!(m.x.is_csr());
    for row in m.x.outer_iterator() {
        assert!(row.indices().windows(2).all(|w| w[0] < w[1]));
    }
    // The empty document is an empty row, counted in the summary.
    assert_eq!(m.x.outer_view(3).unwrap().nnz(), 0);
    assert_eq!(summary.empty_documents, 1);
    assert_eq!(summary.terms_before_filters, 6);
    assert_eq!(m.documents[4].id, "d4");
    assert_eq!(m.documents[4].label.as_deref(), Some("label of d4"));
    assert!(m.terms.iter().all(|t| t.surface == t.stem));
}

#[test]
fn min_df_and_max_df_counts_and_fractions() {
    let docs = corpus();
    let a = analyzer(1);
    let run = |min_df, max_df| {
        let opts = VectorizeOptions {
            min_df,
            max_df,
            ..VectorizeOptions::default()
        };
        vectorize(&docs, &a, &opts).map(|(m, s)| {
            (
                m.terms.iter().map(|t| t.stem.clone()).collect::<Vec<_>>(),
                s.empty_documents,
            )
        })
    };
    let (terms, empty) = run(DfBound::Count(2), DfBound::Fraction(1.0)).unwrap();
    assert_eq!(terms, ["apple", "banana", "cherry", "date"]);
    // d4 keeps "apple"; d3 stays empty.
    assert_eq!(empty, 1);
    // 0.5 × 5 documents = 2.5: df must be at least 3.
    assert_eq!(
        run(DfBound::Fraction(0.5), DfBound::Fraction(1.0))
            .unwrap()
            .0,
        ["apple"]
    );
    // 0.4 × 5 = 2.0 exactly: df 2 is kept.
    assert_eq!(
        run(DfBound::Fraction(0.4), DfBound::Fraction(1.0))
            .unwrap()
            .0
            .len(),
        4
    );
    // max_df as a count: at most 2 documents.
    assert_eq!(
        run(DfBound::Count(1), DfBound::Count(2)).unwrap().0,
        ["banana", "cherry", "date", "egg", "fig"]
    );
    // max_df 0.4 × 5 = 2 documents; "1" is one document, "1.0" every document.
    assert_eq!(
        run(DfBound::Count(1), DfBound::Fraction(0.4))
            .unwrap()
            .0
            .len(),
        5
    );
    assert_eq!(
        run(DfBound::Count(1), DfBound::Count(1)).unwrap().0,
        ["egg", "fig"]
    );
    assert_eq!(
        run(DfBound::Count(1), DfBound::Fraction(1.0))
            .unwrap()
            .0
            .len(),
        6
    );
    // A document that loses all its terms becomes an empty row.
    let (_, empty) = run(DfBound::Count(1), DfBound::Count(1)).unwrap();
    assert_eq!(empty, 3);
}

#[test]
fn filters_that_empty_the_vocabulary_are_named() {
    let docs = corpus();
    let a = analyzer(1);
    let opts = |min_df, max_df| VectorizeOptions {
        min_df,
        max_df,
        ..VectorizeOptions::default()
    };
    let msg = input_error(vectorize(
        &docs,
        &a,
        &opts(DfBound::Count(4), DfBound::Fraction(1.0)),
    ));
    assert!(
        msg.contains("--min-df 4 keeps no term")
            && msg.contains("most frequent term is in 3 documents"),
        "{msg}"
    );
    let few = vec![
        doc("0", "aa"),
        doc("1", "aa"),
        doc("2", "aa cc"),
        doc("3", ""),
        doc("4", ""),
    ];
    let msg = input_error(vectorize(
        &few,
        &a,
        &opts(DfBound::Count(2), DfBound::Fraction(0.5)),
    ));
    assert_eq!(
        msg,
        "--max-df 0.5 keeps no term (the rarest term left by --min-df is in 3 documents of 5)"
    );
    let msg = input_error(vectorize(
        &docs,
        &a,
        &opts(DfBound::Count(2), DfBound::Fraction(0.2)),
    ));
    assert!(
        msg.contains("--max-df 0.2") && msg.contains("fewer documents"),
        "{msg}"
    );
    // min 1, max 0.1 × 5 = 0.5 documents: every term has df >= 1.
    let msg = input_error(vectorize(
        &docs,
        &a,
        &opts(DfBound::Fraction(0.1), DfBound::Fraction(0.1)),
    ));
    assert!(msg.contains("--max-df 0.1 keeps no term"), "{msg}");
    assert!(msg.contains("rarest term is in 1 document "), "{msg}");
    // Documents without a single kept word.
    let blank = [doc("x", "  \n "), doc("y", "")];
    let msg = input_error(vectorize(
        &blank,
        &analyzer(2),
        &VectorizeOptions::default(),
    ));
    assert_eq!(
        msg,
        "no terms left after analysis: every word is a stopword or too short"
    );
    let msg = input_error(vectorize(&[], &a, &VectorizeOptions::default()));
    assert!(msg.starts_with("no terms left"));
    // The max_df count below min_df: sklearn's "max_df corresponds to < documents than min_df".
    let msg = input_error(vectorize(
        &docs,
        &a,
        &opts(DfBound::Count(3), DfBound::Count(2)),
    ));
    assert!(
        msg.contains("--max-df 2 corresponds to fewer documents"),
        "{msg}"
    );
}

#[test]
fn max_features_keeps_the_most_frequent_terms_ties_by_term() {
    // Totals: cc 3, aa 2, bb 2, dd 1.
    let docs = vec![doc("0", "cc bb aa"), doc("1", "cc cc bb aa dd")];
    let a = analyzer(1);
    let run = |k| {
        let opts = VectorizeOptions {
            max_features: Some(k),
            ..VectorizeOptions::default()
        };
        let (m, _) = vectorize(&docs, &a, &opts).unwrap();
        stems(&m).into_iter().map(String::from).collect::<Vec<_>>()
    };
    assert_eq!(run(1), ["cc"]);
    assert_eq!(run(2), ["aa", "cc"]);
    assert_eq!(run(3), ["aa", "bb", "cc"]);
    assert_eq!(run(4), ["aa", "bb", "cc", "dd"]);
    assert_eq!(run(10).len(), 4);
    // max_features applies after the document-frequency filters.
    let opts = VectorizeOptions {
        max_features: Some(1),
        max_df: DfBound::Count(1),
        ..VectorizeOptions::default()
    };
    let (m, _) = vectorize(&docs, &a, &opts).unwrap();
    assert_eq!(stems(&m), ["dd"]);
    let opts = VectorizeOptions {
        max_features: Some(0),
        ..VectorizeOptions::default()
    };
    assert!(input_error(vectorize(&docs, &a, &opts)).contains("--max-features"));
}

#[test]
fn df_bounds_parse_like_scikit_learn() {
    assert_eq!("1".parse::<DfBound>().unwrap(), DfBound::Count(1));
    assert_eq!("1.0".parse::<DfBound>().unwrap(), DfBound::Fraction(1.0));
    assert_eq!("0.95".parse::<DfBound>().unwrap(), DfBound::Fraction(0.95));
    assert_eq!("50".parse::<DfBound>().unwrap(), DfBound::Count(50));
    assert_eq!("5e-1".parse::<DfBound>().unwrap(), DfBound::Fraction(0.5));
    for bad in [
        "0", "0.0", "-1", "-0.5", "1.5", "2.0", "nan", "NaN", "inf", "", "abc", "1/2",
    ] {
        let msg = input_error(DfBound::parse_option("--max-df", bad));
        assert!(
            msg.contains("--max-df") && msg.contains(&format!("'{bad}'")),
            "{msg}"
        );
    }
    assert_eq!(DfBound::Count(5).to_string(), "5");
    assert_eq!(DfBound::Fraction(1.0).to_string(), "1.0");
    assert_eq!(DfBound::Fraction(0.95).to_string(), "0.95");
    let opts = VectorizeOptions {
        max_df: DfBound::Count(0),
        ..VectorizeOptions::default()
    };
    assert!(input_error(opts.check()).contains("--max-df"));
    let opts = VectorizeOptions {
        min_df: DfBound::Fraction(f64::NAN),
        ..VectorizeOptions::default()
    };
    assert!(input_error(opts.check()).contains("--min-df"));
}

#[test]
fn surface_form_is_the_most_frequent_ties_alphabetical() {
    use super::count::prefer_surface;
    assert!(prefer_surface((3, "running"), (2, "run")));
    assert!(!prefer_surface((2, "runs"), (3, "run")));
    assert!(prefer_surface((2, "ran"), (2, "run")));
    assert!(!prefer_surface((2, "run"), (2, "ran")));

    // With a stemming analyzer (when the real stemmer is built in), "connection" and
    // "connections" share a stem; the most frequent surface wins, ties go to the first.
    let a = Analyzer::new(&AnalyzerConfig {
        stem: true,
        stopwords: StopwordSpec::None,
        ..AnalyzerConfig::default()
    })
    .unwrap();
    if a.stem("connections") == a.stem("connection") {
        let docs = vec![
            doc("0", "connections connection connections"),
            doc("1", "connected connecting connecting"),
        ];
        let (m, _) = vectorize(&docs, &a, &VectorizeOptions::default()).unwrap();
        let t = m
            .terms
            .iter()
            .find(|t| t.stem == a.stem("connection"))
            .unwrap();
        assert_eq!(t.df, 2);
        // connections 2, connecting 2 (if it shares the stem): alphabetically first wins.
        if a.stem("connecting") == a.stem("connection") {
            assert_eq!(t.surface, "connecting");
            assert_eq!(dense(&m.x)[1].iter().filter(|v| **v > 0.0).count(), 1);
        } else {
            assert_eq!(t.surface, "connections");
        }
    }
}

/// A seeded synthetic corpus large enough to be split over many chunks and threads.
fn synthetic(n_docs: usize) -> Vec<Document> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n_docs)
        .map(|i| {
            let len = 5 + (next() % 40) as usize;
            let words: Vec<String> = (0..len)
                .map(|_| {
                    // Zipf-ish: small ids are much more frequent.
                    let r = (next() % 1000) as f64 / 1000.0;
                    let id = (r * r * r * 3000.0) as u64;
                    let mut w = String::new();
                    let mut x = id + 1;
                    while x > 0 {
                        w.push((b'a' + (x % 26) as u8) as char);
                        x /= 26;
                    }
                    w.push('x');
                    w
                })
                .collect();
            doc(&format!("doc{i}"), &words.join(" "))
        })
        .collect()
}

#[test]
fn same_result_with_one_or_several_threads() {
    let docs = synthetic(3000);
    let a = analyzer(2);
    let opts = VectorizeOptions {
        min_df: DfBound::Count(2),
        max_df: DfBound::Fraction(0.9),
        ..VectorizeOptions::default()
    };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| vectorize(&docs, &a, &opts).unwrap())
    };
    let (m1, s1) = run(1);
    for threads in [2, 3] {
        let (m2, s2) = run(threads);
        assert_eq!(m1.terms, m2.terms);
        assert_eq!(s1, s2);
        assert_eq!(m1.x.indptr().raw_storage(), m2.x.indptr().raw_storage());
        assert_eq!(m1.x.indices(), m2.x.indices());
        let bits = |m: &DocTermMatrix| m.x.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert!(
            bits(&m1) == bits(&m2),
            "values differ with {threads} threads"
        );
    }
    assert!(m1.terms.len() > 500 && m1.x.nnz() > 30_000);
}

#[test]
fn fixed_vocabulary_reproduces_the_matrix_and_ignores_unknown_terms() {
    let docs = synthetic(400);
    let a = analyzer(1);
    let opts = VectorizeOptions {
        min_df: DfBound::Count(3),
        ..VectorizeOptions::default()
    };
    let (m, _) = vectorize(&docs, &a, &opts).unwrap();
    let x = vectorize_with_vocabulary(&docs, &a, &m.terms, m.idf.as_deref(), &opts).unwrap();
    assert!(x == m.x);

    // New documents: unknown words are ignored; the stored idf is used.
    let new = vec![doc("n0", "apple zzzz fig fig"), doc("n1", "nothing known")];
    let (m, _) = vectorize(&corpus(), &a, &VectorizeOptions::default()).unwrap();
    let idf = m.idf.clone().unwrap();
    let x = vectorize_with_vocabulary(&new, &a, &m.terms, Some(&idf), &VectorizeOptions::default())
        .unwrap();
    assert_eq!(x.shape(), (2, 6));
    assert_eq!(x.outer_view(1).unwrap().nnz(), 0);
    let (ap, fi) = (idf[0], 2.0 * idf[5]);
    let n = (ap * ap + fi * fi).sqrt();
    assert_eq!(x.get(0, 0), Some(&(ap / n)));
    assert_eq!(x.get(0, 5), Some(&(fi / n)));

    // A vocabulary in another order still gives sorted rows.
    let mut shuffled = m.terms.clone();
    shuffled.reverse();
    let rev_idf: Vec<f64> = idf.iter().rev().copied().collect();
    let y = vectorize_with_vocabulary(
        &new,
        &a,
        &shuffled,
        Some(&rev_idf),
        &VectorizeOptions::default(),
    )
    .unwrap();
    assert_eq!(y.outer_view(0).unwrap().indices(), &[0, 5]);
    assert_eq!(y.get(0, 5), Some(&(ap / n)));

    // Errors.
    let tfidf = VectorizeOptions::default();
    assert!(
        input_error(vectorize_with_vocabulary(&new, &a, &m.terms, None, &tfidf)).contains("idf")
    );
    assert!(input_error(vectorize_with_vocabulary(
        &new,
        &a,
        &m.terms,
        Some(&idf[1..]),
        &tfidf
    ))
    .contains("5 values"));
    let mut dup = m.terms.clone();
    dup[1] = dup[0].clone();
    assert!(input_error(vectorize_with_vocabulary(
        &new,
        &a,
        &dup,
        Some(&idf),
        &tfidf
    ))
    .contains("twice"));
    let tf = VectorizeOptions {
        weighting: Weighting::Tf,
        norm: Norm::None,
        ..VectorizeOptions::default()
    };
    let z = vectorize_with_vocabulary(&new, &a, &m.terms, None, &tf).unwrap();
    assert_eq!(z.get(0, 5), Some(&2.0));
}

#[test]
fn ngram_path_counts_terms() {
    let a = Analyzer::new(&AnalyzerConfig {
        stem: false,
        stopwords: StopwordSpec::None,
        ngram_max: 2,
        min_token_len: 1,
        ..AnalyzerConfig::default()
    })
    .unwrap();
    let docs = vec![doc("0", "red apple red apple"), doc("1", "green apple")];
    let opts = VectorizeOptions {
        weighting: Weighting::Tf,
        norm: Norm::None,
        ..VectorizeOptions::default()
    };
    let (m, _) = vectorize(&docs, &a, &opts).unwrap();
    let col = |t: &str| m.terms.iter().position(|x| x.stem == t);
    let apple = col("apple").unwrap();
    assert_eq!(m.x.get(0, apple), Some(&2.0));
    assert_eq!(m.terms[apple].df, 2);
    // With the real analyzer, bigrams are terms too.
    if let Some(c) = col("red apple") {
        assert_eq!(m.x.get(0, c), Some(&2.0));
        assert_eq!(m.terms[c].surface, "red apple");
    }
    let x = vectorize_with_vocabulary(&docs, &a, &m.terms, None, &opts).unwrap();
    assert!(x == m.x);
}

#[test]
fn long_and_short_words_are_counted_alike() {
    // Surfaces of up to 15 bytes and longer ones are interned differently.
    let w14 = "abcdefghijklmn";
    let w15 = "abcdefghijklmno";
    let w16 = "abcdefghijklmnop";
    let w40 = "pneumonoultramicroscopicsilicovolcanoses";
    let docs = vec![
        doc("0", &format!("{w15} {w16} {w15} {w40} {w14}")),
        doc("1", &format!("{w16} {w16} {w40} é{w14} {w14}")),
        doc("2", &format!("{w14}é {w15}")),
    ];
    let opts = VectorizeOptions {
        weighting: Weighting::Tf,
        norm: Norm::None,
        ..VectorizeOptions::default()
    };
    let (m, _) = vectorize(&docs, &analyzer(1), &opts).unwrap();
    let (vocab, want) = reference(&docs, &opts);
    assert_eq!(stems(&m), vocab);
    assert_eq!(dense(&m.x), want);
}

#[test]
fn writes_the_three_files_and_summarizes() {
    let (m, _) = vectorize(&corpus(), &analyzer(1), &VectorizeOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let paths = m.write_to_dir(&out).unwrap();
    let x = crate::mtx::read_sparse(&paths[0]).unwrap();
    assert!(x == m.x);
    assert_eq!(read_terms_tsv(&paths[1]).unwrap(), m.terms);
    assert_eq!(read_documents_tsv(&paths[2]).unwrap(), m.documents);
    let top: Vec<&str> = m
        .top_terms_by_df(3)
        .iter()
        .map(|t| t.stem.as_str())
        .collect();
    assert_eq!(top, ["apple", "banana", "cherry"]);
    assert!((m.density() - m.x.nnz() as f64 / 30.0).abs() < 1e-15);
}
