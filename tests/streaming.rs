//! The streaming vectorizer against the in-memory one: the same matrix (bit for bit), terms and
//! documents, on the sample corpus and on JSON Lines, CSV and HTML inputs, with blocks small
//! enough to cross every boundary; the rows streamed in a second pass; documents fetched again
//! by row.

use std::path::{Path, PathBuf};

use nmf_topics::corpus::{self, CorpusOptions, Document, Source, StreamedCorpus, Texts};
use nmf_topics::text::{Analyzer, AnalyzerConfig};
use nmf_topics::vectorize::{self, DocTermMatrix, RowStreamer, VectorizeOptions, Vocabulary};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/sample")
}

/// Same shape, same entries (bits), same terms and documents.
#[track_caller]
fn assert_same(a: &DocTermMatrix, b: &DocTermMatrix, what: &str) {
    assert_eq!(a.x.shape(), b.x.shape(), "{what}: shape");
    assert_eq!(
        a.x.indptr().raw_storage(),
        b.x.indptr().raw_storage(),
        "{what}"
    );
    assert_eq!(a.x.indices(), b.x.indices(), "{what}");
    let bits = |m: &DocTermMatrix| m.x.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(a), bits(b), "{what}: weights");
    assert_eq!(a.terms, b.terms, "{what}: terms");
    assert_eq!(a.documents, b.documents, "{what}: documents");
    assert_eq!(a.idf, b.idf, "{what}: idf");
}

/// The in-memory matrix, the one-pass streamed one and the two-pass row blocks, compared.
fn check_all_ways(
    inputs: &[PathBuf],
    copts: &CorpusOptions,
    config: &AnalyzerConfig,
    vopts: &VectorizeOptions,
    limits: (usize, usize),
    what: &str,
) -> DocTermMatrix {
    let analyzer = Analyzer::new(config).unwrap();
    let loaded = corpus::load(inputs, copts).unwrap();
    let (memory, _) = vectorize::vectorize(&loaded.documents, &analyzer, vopts).unwrap();

    let source = Source::open(inputs, copts)
        .unwrap()
        .with_block_limits(limits.0, limits.1);
    let mut seen = Vec::new();
    let (streamed, _, corpus) =
        vectorize::vectorize_source(source, &analyzer, vopts, &mut |n| seen.push(n)).unwrap();
    assert_same(&memory, &streamed, what);
    assert_eq!(
        seen.last(),
        Some(&loaded.documents.len()),
        "{what}: progress"
    );
    assert_eq!(
        corpus.corpus.warnings, loaded.warnings,
        "{what}: warnings once"
    );
    assert_eq!(corpus.summary(), loaded.summary(), "{what}: summary");

    // Two passes: the vocabulary, then the rows block by block.
    let source = Source::open(inputs, copts)
        .unwrap()
        .with_block_limits(limits.0, limits.1);
    let (vocabulary, corpus) = Vocabulary::learn(source, &analyzer, vopts, &mut |_| {}).unwrap();
    assert_eq!(vocabulary.terms, memory.terms, "{what}: vocabulary");
    assert_eq!(vocabulary.idf, memory.idf, "{what}: idf");
    assert_eq!(vocabulary.nnz(), memory.x.nnz(), "{what}: nnz");
    assert_eq!(corpus.documents, memory.documents, "{what}: ids");
    let rows = RowStreamer::new(&vocabulary, &analyzer);
    let (mut indptr, mut indices, mut data) = (vec![0usize], Vec::new(), Vec::new());
    let mut blocks = 0;
    rows.stream(&corpus, |block| {
        assert_eq!(block.first, indptr.len() - 1, "{what}: blocks in order");
        let base = indices.len();
        indptr.extend(block.indptr[1..].iter().map(|&p| base + p));
        indices.extend_from_slice(&block.indices);
        data.extend_from_slice(&block.data);
        blocks += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(
        indptr,
        memory.x.indptr().raw_storage(),
        "{what}: streamed rows"
    );
    assert_eq!(indices, memory.x.indices(), "{what}: streamed columns");
    let bits: Vec<u64> = data.iter().map(|v| v.to_bits()).collect();
    let want: Vec<u64> = memory.x.data().iter().map(|v| v.to_bits()).collect();
    assert_eq!(bits, want, "{what}: streamed weights");
    if limits.0 < loaded.documents.len() {
        assert!(blocks > 1, "{what}: several blocks");
    }

    // Texts read again, and fetched by row.
    let mut again: Vec<Document> = Vec::new();
    corpus
        .for_each_block(|_, docs| {
            again.extend_from_slice(docs);
            Ok(())
        })
        .unwrap();
    let texts = |d: &[Document]| d.iter().map(|d| d.text.clone()).collect::<Vec<_>>();
    assert_eq!(
        texts(&again),
        texts(&loaded.documents),
        "{what}: texts again"
    );
    let n = loaded.documents.len();
    let rows: Vec<usize> = vec![n - 1, 0, n / 2, n / 3];
    let fetched = StreamedCorpus::fetch(&corpus, &rows).unwrap();
    for (r, d) in rows.iter().zip(&fetched) {
        assert_eq!(d, &loaded.documents[*r], "{what}: fetched row {r}");
    }
    memory
}

#[test]
fn the_sample_corpus_streamed_gives_the_in_memory_matrix() {
    let inputs = [sample()];
    let copts = CorpusOptions::default();
    let m = check_all_ways(
        &inputs,
        &copts,
        &AnalyzerConfig::default(),
        &VectorizeOptions::default(),
        (37, 20_000),
        "sample",
    );
    assert!(m.x.rows() > 300);
    let ngrams = AnalyzerConfig {
        ngram_max: 2,
        ..AnalyzerConfig::default()
    };
    let filters = VectorizeOptions {
        min_df: vectorize::DfBound::Count(2),
        max_df: vectorize::DfBound::Fraction(0.5),
        max_features: Some(800),
        sublinear_tf: true,
        ..VectorizeOptions::default()
    };
    check_all_ways(
        &inputs,
        &copts,
        &ngrams,
        &filters,
        (100, 1 << 20),
        "sample, bigrams",
    );
}

/// A folder of text and HTML files (with boilerplate), a JSON Lines file with bad lines, a
/// byte order mark and long lines, and a CSV file with quoted line breaks.
fn mixed_inputs(dir: &Path) -> Vec<PathBuf> {
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("guide")).unwrap();
    let topics = [
        "rivers and boats",
        "mountain goats",
        "bread and ovens",
        "stars at night",
    ];
    for i in 0..14 {
        let page = format!(
            "<html><head><title>Page {i} | Example Site</title></head><body>\
             <div>Example Site navigation menu home about</div>\
             <p>This page tells about {} number {i}, with words {}.</p>\
             <p>Copyright Example Site all rights reserved</p></body></html>",
            topics[i % 4],
            topics[(i + 1) % 4]
        );
        std::fs::write(site.join(format!("guide/p{i:02}.html")), page).unwrap();
    }
    std::fs::write(site.join("notes.txt"), "plain notes about rivers and stars").unwrap();
    std::fs::write(site.join("empty.md"), "").unwrap();

    let mut jsonl = String::from("\u{feff}");
    for i in 0..60 {
        match i % 13 {
            5 => jsonl.push_str("{not json\n"),
            7 => jsonl.push_str("\n   \n"),
            9 => jsonl.push_str("{\"other\": 1}\r\n"),
            _ => jsonl.push_str(&format!(
                "{{\"text\": \"record {i} about {} {}\", \"label\": \"l{}\"}}\n",
                topics[i % 4],
                "long words ".repeat(i % 5 * 20),
                i % 3
            )),
        }
    }
    jsonl.push_str("{\"text\": \"last line without a line break about goats\"}");
    let jsonl_path = dir.join("records.jsonl");
    std::fs::write(&jsonl_path, jsonl).unwrap();

    let mut csv = String::from("\u{feff}id,text,label\n");
    for i in 0..40 {
        if i % 11 == 3 {
            csv.push_str("broken,row\n");
            continue;
        }
        csv.push_str(&format!(
            "c{i},\"a row about {}, with a \"\"quote\"\"\nand a line break\",x{}\n",
            topics[i % 4],
            i % 2
        ));
    }
    let csv_path = dir.join("table.csv");
    std::fs::write(&csv_path, csv).unwrap();
    vec![site, jsonl_path, csv_path]
}

#[test]
fn jsonl_csv_and_html_inputs_streamed_give_the_in_memory_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = mixed_inputs(dir.path());
    let copts = CorpusOptions {
        label_field: Some("label".into()),
        ..CorpusOptions::default()
    };
    for limits in [(1, 1), (3, 64), (7, 300), (10_000, 1 << 20)] {
        let m = check_all_ways(
            &inputs,
            &copts,
            &AnalyzerConfig::default(),
            &VectorizeOptions::default(),
            limits,
            &format!("mixed inputs, blocks {limits:?}"),
        );
        assert!(m.x.rows() > 90, "{}", m.x.rows());
    }
    // The boilerplate of the pages was found and removed in the streamed passes too.
    let loaded = corpus::load(&inputs, &copts).unwrap();
    assert!(loaded.boilerplate.blocks > 0);
    assert!(!loaded
        .documents
        .iter()
        .any(|d| d.text.contains("Copyright")));
}

#[test]
fn a_later_pass_over_changed_inputs_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.jsonl");
    std::fs::write(&path, "{\"text\": \"one\"}\n{\"text\": \"two\"}\n").unwrap();
    let source = Source::open(std::slice::from_ref(&path), &CorpusOptions::default()).unwrap();
    let corpus = source.scan(|_, _| Ok(())).unwrap();
    std::fs::write(&path, "{\"text\": \"one\"}\n").unwrap();
    let err = corpus
        .for_each_block(|_, _| Ok(()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("changed"), "{err}");
    assert_eq!(Texts::count(&corpus), 2);
}

/// The hashed matrix against the plain one: each row's counts summed per bucket (with signs),
/// absolute values, zeros dropped, buckets in order.
#[test]
fn hashed_columns_sum_the_counts_of_their_terms() {
    use nmf_topics::vectorize::hashing::hashed_index;
    use nmf_topics::vectorize::{HashFeatures, Norm, Weighting};
    let inputs = [sample()];
    let copts = CorpusOptions::default();
    let config = AnalyzerConfig::default();
    let plain_opts = VectorizeOptions {
        weighting: Weighting::Tf,
        norm: Norm::None,
        ..VectorizeOptions::default()
    };
    let analyzer = Analyzer::new(&config).unwrap();
    let loaded = corpus::load(&inputs, &copts).unwrap();
    let (plain, _) = vectorize::vectorize(&loaded.documents, &analyzer, &plain_opts).unwrap();
    for (features, alternate_sign) in [(64, false), (64, true), (5000, true)] {
        let hash = HashFeatures {
            features,
            alternate_sign,
        };
        let opts = VectorizeOptions {
            hash: Some(hash),
            ..plain_opts.clone()
        };
        let what = format!("hashing {features} {alternate_sign}");
        let m = check_all_ways(&inputs, &copts, &config, &opts, (50, 1 << 20), &what);
        // Expected: per row, bucket → signed sum.
        let mut rows: Vec<std::collections::BTreeMap<usize, i64>> = Vec::new();
        for row in plain.x.outer_iterator() {
            let mut sums = std::collections::BTreeMap::new();
            for (j, &v) in row.iter() {
                let (b, negative) = hashed_index(&plain.terms[j].stem, features);
                let sign = if negative && alternate_sign { -1 } else { 1 };
                *sums.entry(b).or_insert(0i64) += sign * v as i64;
            }
            sums.retain(|_, v| *v != 0);
            rows.push(sums);
        }
        let mut buckets: Vec<usize> = rows.iter().flat_map(|r| r.keys().copied()).collect();
        buckets.sort_unstable();
        buckets.dedup();
        assert_eq!(m.x.cols(), buckets.len(), "{what}");
        for (col, t) in m.terms.iter().enumerate() {
            assert_eq!(
                hashed_index(&t.stem, features).0,
                buckets[col],
                "{what}: {t:?}"
            );
            let df = rows
                .iter()
                .filter(|r| r.contains_key(&buckets[col]))
                .count();
            assert_eq!(t.df, df, "{what}: df of {t:?}");
        }
        for (i, row) in m.x.outer_iterator().enumerate() {
            let got: Vec<(usize, f64)> = row.iter().map(|(j, &v)| (buckets[j], v)).collect();
            let want: Vec<(usize, f64)> = rows[i]
                .iter()
                .map(|(&b, &v)| (b, v.unsigned_abs() as f64))
                .collect();
            assert_eq!(got, want, "{what}: row {i}");
        }
        // The columns' names: the most frequent term of the bucket, then a second one.
        if features == 64 {
            assert!(m.terms.iter().any(|t| t.surface.contains('/')), "{what}");
        }
        // A fixed (hashed) vocabulary finds the same rows again.
        let again = vectorize::vectorize_with_vocabulary(
            &loaded.documents,
            &analyzer,
            &m.terms,
            None,
            &opts,
        )
        .unwrap();
        assert_eq!(again.indices(), m.x.indices(), "{what}: transform");
        assert_eq!(again.data(), m.x.data(), "{what}: transform");
    }
}
