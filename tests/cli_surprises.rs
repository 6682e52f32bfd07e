//! Issue 11, "a tool that never surprises": one test (or a few) of the real binary per
//! numbered item, each failing on the code before the change. The item is named in each test's
//! doc comment.

mod util;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use util::{command, run, run_command, run_in, sample_corpus, small_corpus, write};

/// Every file of `dir` (not recursing) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = if e.path().is_file() {
                fs::read(e.path()).unwrap()
            } else {
                b"<folder>".to_vec()
            };
            (name, bytes)
        })
        .collect()
}

/// Item 1: `--out` is checked before any work, with exit code 2 and one line naming `--out`.
#[test]
fn out_folder_is_checked_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    write(tmp.path(), "a_file", "not a folder");
    for (out, why) in [
        ("a_file", "exists and is not a folder"),
        ("a_file/sub", "a_file exists and is not a folder"),
        ("/proc/nmf-topics-x", "cannot create the folder in /proc"),
        ("/proc/self", "cannot write in the folder"),
    ] {
        for cmd in ["fit", "vectorize"] {
            let args: Vec<&str> = if cmd == "fit" {
                vec!["fit", docs, "-k", "2", "--out", out]
            } else {
                vec!["vectorize", docs, "--out", out]
            };
            let r = run(tmp.path(), &args);
            r.expect_code(2)
                .one_line_error()
                .stderr_has(&format!("--out {out}: {why}"));
            assert!(
                !r.stderr.contains("read "),
                "{cmd} --out {out}: the inputs were read before the check\n{}",
                r.stderr
            );
        }
    }
    let r = run(
        tmp.path(),
        &["transform", "--model", "m", docs, "--out", "a_file/x.csv"],
    );
    r.expect_code(2)
        .one_line_error()
        .stderr_has("--out a_file/x.csv: a_file exists and is not a folder");
    // A missing folder is created.
    run(tmp.path(), &["vectorize", docs, "--out", "new/deeper"]).expect_code(0);
    assert!(tmp.path().join("new/deeper/matrix.mtx").is_file());
}

/// Item 2: a closed or full stderr never panics and loses only the messages; a full stdout
/// is an error naming stdout.
#[test]
fn closed_or_full_stderr_never_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    let full = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };

    // stderr full.
    let r =
        run_command(command(tmp.path(), &["fit", docs, "-k", "2", "--out", "a"]).stderr(full()));
    r.expect_code(0);
    assert!(tmp.path().join("a/report.html").is_file());

    // stderr closed by its reader before the run writes to it.
    let mut child = command(tmp.path(), &["fit", docs, "-k", "2", "--out", "b"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "closed stderr: {status:?}");
    assert!(tmp.path().join("b/report.html").is_file());

    // Both streams into one pipe whose reader stops after the first line (`2>&1 | head -1`).
    let out = std::process::Command::new("bash")
        .current_dir(tmp.path())
        .arg("-c")
        .arg("\"$0\" fit \"$1\" -k 2 --out c 2>&1 | head -1 >/dev/null; echo \"rc=${PIPESTATUS[0]}\"")
        .arg(util::bin())
        .arg(docs)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "rc=0");
    assert!(tmp.path().join("c/report.html").is_file());

    // stdout full: an error naming stdout, exit code 1.
    let r =
        run_command(command(tmp.path(), &["fit", docs, "-k", "2", "--out", "d"]).stdout(full()));
    r.expect_code(1)
        .stderr_has("nmf-topics: error: cannot write to stdout");
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

/// Item 3: Ctrl-C while the outputs are written leaves the previous set intact and no
/// temporary file or folder.
#[test]
fn interrupt_while_writing_keeps_the_previous_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    run(
        tmp.path(),
        &["fit", docs, "-k", "2", "--out", "out", "--save-factors"],
    )
    .expect_code(0);
    let before = snapshot(&tmp.path().join("out"));

    let mut child = command(tmp.path(), &["fit", docs, "-k", "3", "--out", "out"])
        .env("NMF_TOPICS_TEST_COMMIT_DELAY_MS", "20000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let started = Instant::now();
    while !line.contains("writing outputs") {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
    }
    assert!(
        line.contains("writing outputs"),
        "no 'writing outputs' line"
    );
    // Wait until the new set is complete in its staging folder, then interrupt.
    let staged_report = || {
        fs::read_dir(tmp.path().join("out"))
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.path().join("report.html").is_file())
    };
    while !staged_report() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}; stderr: {rest}");
    assert!(rest.contains("interrupted"), "{rest}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the delay was not cut short"
    );
    let after = snapshot(&tmp.path().join("out"));
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "files left behind or lost"
    );
    assert!(after == before, "the previous outputs were changed");
}

/// Item 3: without an interrupt, a new set replaces the old one completely (W.mtx of an
/// earlier `--save-factors` run does not stay beside outputs it does not belong to).
#[test]
fn a_new_output_set_replaces_the_old_one() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    run(
        tmp.path(),
        &["fit", docs, "-k", "2", "--out", "out", "--save-factors"],
    )
    .expect_code(0);
    run(tmp.path(), &["fit", docs, "-k", "3", "--out", "out"]).expect_code(0);
    let names: Vec<String> = snapshot(&tmp.path().join("out")).into_keys().collect();
    assert_eq!(
        names,
        [
            "doc_topics.csv",
            "model.json",
            "report.html",
            "topic_terms.csv",
            "topics.json"
        ]
    );
}

/// Item 4: `transform` works with a model fitted with `--init custom`, takes the fit's folder,
/// and says what a topics.json is.
#[test]
fn transform_takes_custom_init_models_and_output_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    run(
        tmp.path(),
        &["fit", docs, "-k", "3", "--out", "a", "--save-factors"],
    )
    .expect_code(0);
    run(
        tmp.path(),
        &[
            "fit", docs, "-k", "3", "--out", "b", "--init", "custom", "--w0", "a/W.mtx", "--h0",
            "a/H.mtx",
        ],
    )
    .expect_code(0);
    for model in ["b/model.json", "b", "b/"] {
        run(
            tmp.path(),
            &["transform", "--model", model, docs, "--out", "t.csv"],
        )
        .expect_code(0);
        let csv = fs::read_to_string(tmp.path().join("t.csv")).unwrap();
        assert_eq!(csv.lines().count(), 10, "{model}: {csv}");
    }
    let r = run(
        tmp.path(),
        &[
            "transform",
            "--model",
            "b/topics.json",
            docs,
            "--out",
            "t.csv",
        ],
    );
    r.expect_code(2)
        .one_line_error()
        .stderr_has("b/topics.json: this is a topics.json")
        .stderr_has("b/model.json");
    fs::create_dir(tmp.path().join("empty")).unwrap();
    let r = run(
        tmp.path(),
        &["transform", "--model", "empty", docs, "--out", "t.csv"],
    );
    r.expect_code(2)
        .one_line_error()
        .stderr_has("--model empty: this folder holds no model.json");
}

/// Item 6: sizes that cannot fit are refused before anything is allocated for them (the runs
/// are under `ulimit -v`, so that the code before the change fails instead of exhausting the
/// machine).
#[test]
fn impossible_sizes_are_refused_before_allocating() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    const LIMIT_KIB: u64 = 6 << 20;
    let header = "%%MatrixMarket matrix coordinate real general\n";
    write(tmp.path(), "rows.mtx", format!("{header}2147483647 1 0\n"));
    write(tmp.path(), "cols.mtx", format!("{header}1 2147483647 0\n"));
    write(
        tmp.path(),
        "liar.mtx",
        format!("{header}2000000000 3 2000000000\n1 1 1\n"),
    );
    for (file, what) in [
        ("rows.mtx", "2147483647 rows for 0 entries"),
        ("cols.mtx", "2147483647 columns for 0 entries"),
        (
            "liar.mtx",
            "2000000000 rows for 2000000000 entries (the file has room for at most",
        ),
    ] {
        let started = Instant::now();
        let r = util::run_limited(
            tmp.path(),
            &["fit", "--matrix", file, "-k", "1", "--out", "o"],
            LIMIT_KIB,
        );
        r.expect_code(2)
            .one_line_error()
            .stderr_has(&format!("{file}:2: the size line announces {what}"));
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    let started = Instant::now();
    let r = util::run_limited(
        tmp.path(),
        &[
            "fit",
            docs,
            "-k",
            "1000000000",
            "--init",
            "random",
            "--out",
            "o",
        ],
        LIMIT_KIB,
    );
    r.expect_code(2)
        .stderr_has("nmf-topics: error: -k 1000000000: W and H for 9 documents × ")
        .stderr_has("of memory, more than the");
    assert_eq!(r.stderr.lines().filter(|l| l.contains("error")).count(), 1);
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// Item 6: k ≤ min(documents, terms) for every initialization, checked by the library's fit
/// before it allocates (the random initialization had no bound).
#[test]
fn k_larger_than_the_matrix_is_refused_for_every_init() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    for init in ["random", "nndsvd", "nndsvda", "nndsvdar"] {
        let r = run(
            tmp.path(),
            &["fit", docs, "-k", "10", "--init", init, "--out", "o", "-q"],
        );
        r.expect_code(2)
            .one_line_error()
            .stderr_has("-k 10 is larger than min(documents, terms) = 9");
    }
}

/// Item 7: files skipped for their extension are counted with their extensions, ids stay
/// unique across inputs, and an input folder without documents does not stop the others.
#[test]
fn nothing_is_dropped_or_merged_silently() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "x/n.txt", "planet orbit moon");
    write(tmp.path(), "x/guide.rst", "rocket launch");
    write(tmp.path(), "x/notes.markdown", "galaxy star");
    write(tmp.path(), "x/paper.pdf", "%PDF-1.4");
    write(tmp.path(), "x/more.rst", "telescope");
    write(tmp.path(), "y/n.txt", "bread oven flour");
    write(tmp.path(), "z/only.pdf", "%PDF-1.4");
    let r = run(tmp.path(), &["vectorize", "x", "y", "z", "--out", "m"]);
    r.expect_code(0)
        .stderr_has(
            "5 files not read for their extension: .pdf 2, .rst 2, .markdown 1 (--ext reads more)",
        )
        .stderr_has("warning: z: no readable documents")
        .stderr_has("warning: inputs x, y hold documents with the same ids (such as n.txt)");
    let docs = fs::read_to_string(tmp.path().join("m/documents.tsv")).unwrap();
    assert_eq!(docs, "id\tlabel\nx/n.txt\t\ny/n.txt\t\n");
}

/// Subjects of the generated Sphinx-like sites: a title and the words of its pages.
const SUBJECTS: [(&str, &str); 4] = [
    (
        "asyncio",
        "event loop coroutine task await future scheduler callback",
    ),
    (
        "sqlite",
        "database cursor query table row transaction commit schema",
    ),
    (
        "turtle",
        "drawing pen canvas screen shape color heading forward",
    ),
    (
        "email",
        "message header mime payload attachment charset parser address",
    ),
];

/// A generated site in the layout of Sphinx's HTML output (Python's documentation): in
/// `dir/site/`, `n` pages per subject with navigation bars, a header, a sidebar and a footer
/// on every page, and beside them `_sources/NAME.rst.txt` copies of each page's text.
fn sphinx_site(dir: &Path, n: usize) -> std::path::PathBuf {
    for (s, (subject, words)) in SUBJECTS.iter().enumerate() {
        for i in 0..n {
            let words: Vec<&str> = words.split(' ').collect();
            let body: String = (0..40)
                .map(|j| words[(i * 7 + j * (s + 3)) % words.len()])
                .collect::<Vec<_>>()
                .join(" ");
            let page = format!(
                r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{subject} {i} &#8212; Python 3.11 documentation</title>
<link rel="stylesheet" href="../_static/pydoctheme.css"><script src="../_static/sidebar.js"></script></head>
<body>
<div class="mobile-nav"><input type="checkbox" id="menuToggler"><nav class="nav-content" role="navigation">
<a href="https://www.python.org/">Python logo</a> <label>Theme <select><option>Auto</option><option>Light</option><option>Dark</option></select></label>
</nav></div>
<div class="related" role="navigation" aria-label="related navigation"><h3>Navigation</h3>
<ul><li><a href="../genindex.html">index</a></li><li><a href="../py-modindex.html">modules</a> |</li>
<li><a href="../index.html">Python 3.11 documentation</a> &#187;</li></ul></div>
<div class="document"><div class="body" role="main">
<section id="{subject}-{i}"><h1>{subject} page {i}</h1>
<p>{body}</p>
<p>The {subject} module number {i} explains {body}.</p>
</section></div></div>
<div class="sphinxsidebar" role="navigation" aria-label="main navigation"><h3>Table of Contents</h3>
<h4>Previous topic</h4><h4>Next topic</h4><h3>This Page</h3><ul><li><a href="../bugs.html">Report a Bug</a></li>
<li><a href="../_sources/{subject}{i}.rst.txt">Show Source</a></li></ul>
<div id="searchbox" role="search"><h3>Quick search</h3><form><input type="text" name="q"><input type="submit" value="Go"></form></div></div>
<div class="footer">&copy; <a href="../copyright.html">Copyright</a> 2001-2023, Python Software Foundation.
<br>This page is licensed under the Python Software Foundation License Version 2.
<br>Examples, recipes, and other code in the documentation are additionally licensed under the Zero Clause BSD License.
<br>See <a href="/license.html">History and License</a> for more information.<br><br>
The Python Software Foundation is a non-profit corporation. <a href="https://www.python.org/psf/donations/">Please donate.</a>
<br><br>Last updated on Jun 06, 2023. <a href="/bugs.html">Found a bug</a>?
<br>Created using <a href="https://www.sphinx-doc.org/">Sphinx</a> 4.5.0.</div>
</body></html>"#
            );
            write(dir, &format!("site/library/{subject}{i}.html"), page);
            write(
                dir,
                &format!("site/_sources/{subject}{i}.rst.txt"),
                format!("{subject} page {i}\n=====\n\n{body}\n"),
            );
        }
    }
    dir.join("site")
}

/// Rows of documents.tsv in `dir` (without the header).
fn document_ids(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("documents.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

/// Item 12: navigation, headers, footers and the text that recurs on most pages of a folder
/// do not become terms (`--keep-boilerplate` keeps them).
#[test]
fn html_boilerplate_does_not_become_terms() {
    let tmp = tempfile::tempdir().unwrap();
    let site = sphinx_site(tmp.path(), 3);
    let site = site.to_str().unwrap();
    let boilerplate = [
        "navigation",
        "copyright",
        "sphinx",
        "search",
        "python",
        "documentation",
        "foundation",
        "license",
        "donate",
        "bug",
        "theme",
        "logo",
        "index",
        "modules",
        "topic",
    ];
    let r = run(
        tmp.path(),
        &[
            "vectorize",
            site,
            "--exclude",
            "_sources",
            "--no-stem",
            "--out",
            "m",
        ],
    );
    r.expect_code(0)
        .stderr_has("text blocks recurring on most HTML pages of a folder");
    let terms = terms_of(&tmp.path().join("m"));
    for w in boilerplate {
        assert!(!terms.contains(&w.to_string()), "{w} is a term: {terms:?}");
    }
    for w in [
        "asyncio",
        "coroutine",
        "sqlite",
        "database",
        "turtle",
        "canvas",
        "email",
        "mime",
        "page",
    ] {
        assert!(
            terms.contains(&w.to_string()),
            "{w} is not a term: {terms:?}"
        );
    }
    let r = run(
        tmp.path(),
        &[
            "vectorize",
            site,
            "--exclude",
            "_sources",
            "--no-stem",
            "--keep-boilerplate",
            "--out",
            "k",
        ],
    );
    r.expect_code(0);
    assert!(!r.stderr.contains("recurring"), "{}", r.stderr);
    let kept = terms_of(&tmp.path().join("k"));
    for w in boilerplate {
        assert!(kept.contains(&w.to_string()), "{w} is not kept: {kept:?}");
    }
    // The topics of the pages are their subjects, with no junk topic of furniture.
    let r = run(
        tmp.path(),
        &[
            "fit",
            site,
            "--exclude",
            "_sources",
            "-k",
            "4",
            "--out",
            "o",
        ],
    );
    r.expect_code(0);
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(tmp.path().join("o/topics.json")).unwrap()).unwrap();
    for topic in json["topics"].as_array().unwrap() {
        let words: Vec<&str> = topic["terms"].as_array().unwrap()[..3]
            .iter()
            .map(|t| t["term"].as_str().unwrap())
            .collect();
        assert!(!words.iter().any(|w| boilerplate.contains(w)), "{words:?}");
    }
}

/// Item 14: `--exclude` and `--include` globs for folder inputs.
#[test]
fn include_and_exclude_globs_choose_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let site = sphinx_site(tmp.path(), 3);
    let site = site.to_str().unwrap();
    run(tmp.path(), &["vectorize", site, "--out", "all"]).expect_code(0);
    assert_eq!(document_ids(&tmp.path().join("all")).len(), 24);
    run(
        tmp.path(),
        &["vectorize", site, "--out", "ex", "--exclude", "_sources"],
    )
    .expect_code(0);
    let ex = document_ids(&tmp.path().join("ex"));
    assert_eq!(ex.len(), 12, "{ex:?}");
    assert!(ex
        .iter()
        .all(|id| id.starts_with("library/") && id.ends_with(".html")));
    run(
        tmp.path(),
        &[
            "vectorize",
            site,
            "--out",
            "in",
            "--include",
            "*.html",
            "--exclude",
            "email*",
            "--exclude",
            "turtle1.html",
        ],
    )
    .expect_code(0);
    let inc = document_ids(&tmp.path().join("in"));
    assert_eq!(inc.len(), 8, "{inc:?}");
    assert!(!inc
        .iter()
        .any(|id| id.contains("email") || id.contains("turtle1")));
    let r = run(
        tmp.path(),
        &["vectorize", site, "--out", "x", "--include", "[a"],
    );
    r.expect_code(2)
        .one_line_error()
        .stderr_has("--include [a: not a valid glob");
}

/// The `term` column of terms.tsv in `dir`.
fn terms_of(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("terms.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

/// Item 5: names of built-in stopword lists win over files of the same name, a path is a
/// path, names are case-insensitive, and `--language` chooses the default list.
#[test]
fn stopword_list_names_win_and_follow_the_language() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "docs/a.txt",
        "the planet and the orbit of the moon",
    );
    write(
        tmp.path(),
        "docs/b.txt",
        "a rocket to the moon and a planet",
    );
    write(tmp.path(), "english", "planet\n");
    let v = |out: &str, extra: &[&str]| {
        let mut args = vec!["vectorize", "docs", "--out", out, "--no-stem"];
        args.extend_from_slice(extra);
        run(tmp.path(), &args).expect_code(0);
        terms_of(&tmp.path().join(out))
    };
    let default = v("m1", &[]);
    assert!(default.contains(&"planet".to_string()), "{default:?}");
    assert!(!default.contains(&"the".to_string()), "{default:?}");
    assert_eq!(v("m2", &["--stopwords", "english"]), default);
    assert_eq!(v("m3", &["--stopwords", "English"]), default);
    let file = v("m4", &["--stopwords", "./english"]);
    assert!(!file.contains(&"planet".to_string()), "{file:?}");
    assert!(file.contains(&"the".to_string()), "{file:?}");

    write(
        tmp.path(),
        "fr/a.txt",
        "le chat est sur la table avec les souris",
    );
    write(tmp.path(), "fr/b.txt", "la souris est dans le jardin");
    run(
        tmp.path(),
        &[
            "vectorize",
            "fr",
            "--out",
            "f",
            "--no-stem",
            "--language",
            "French",
        ],
    )
    .expect_code(0);
    let fr = terms_of(&tmp.path().join("f"));
    for w in ["le", "la", "est", "sur", "les", "dans", "avec"] {
        assert!(!fr.contains(&w.to_string()), "{w} kept: {fr:?}");
    }
    assert!(fr.contains(&"souris".to_string()), "{fr:?}");

    let r = run(
        tmp.path(),
        &["vectorize", "docs", "--out", "m5", "--stopwords", "englsh"],
    );
    r.expect_code(2)
        .one_line_error()
        .stderr_has("--stopwords englsh: no such file, and not a built-in list");
}

/// Item 13: `english` is scikit-learn's 318-word list; NLTK's stays available as `nltk`.
#[test]
fn english_stopwords_are_scikit_learns() {
    let generated = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/text/stopwords_sklearn.rs"),
    )
    .unwrap();
    let list = generated
        .split("= &[")
        .nth(1)
        .unwrap()
        .split("];")
        .next()
        .unwrap();
    let words: Vec<&str> = list
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase()))
        .collect();
    assert_eq!(words.len(), 318);
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "d/all.txt",
        format!("{} telescope", words.join(" ")),
    );
    write(
        tmp.path(),
        "d/short.txt",
        "one would say they could get the telescope",
    );
    run(tmp.path(), &["vectorize", "d", "--no-stem", "--out", "e"]).expect_code(0);
    assert_eq!(terms_of(&tmp.path().join("e")), ["say", "telescope"]);
    run(
        tmp.path(),
        &[
            "vectorize",
            "d",
            "--no-stem",
            "--stopwords",
            "NLTK",
            "--out",
            "n",
        ],
    )
    .expect_code(0);
    let nltk = terms_of(&tmp.path().join("n"));
    for w in ["one", "would", "could", "get", "say", "telescope"] {
        assert!(nltk.contains(&w.to_string()), "{w}: {nltk:?}");
    }
    assert!(!nltk.contains(&"the".to_string()));
}

/// Item 8: a NaN or an infinity never reaches an output file; it is an error naming where,
/// and the previous outputs stay as they were.
#[test]
fn nan_never_reaches_an_output() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    run(
        tmp.path(),
        &["fit", docs.to_str().unwrap(), "-k", "2", "--out", "o"],
    )
    .expect_code(0);
    let before = snapshot(&tmp.path().join("o"));
    // Values near f64::MAX overflow the products of the fit.
    write(
        tmp.path(),
        "huge.mtx",
        "%%MatrixMarket matrix coordinate real general\n3 3 5\n1 1 1e300\n1 2 1e300\n2 2 1e300\n3 3 1e300\n3 1 1e300\n",
    );
    for extra in [&[][..], &["--save-factors"][..]] {
        let mut args = vec![
            "fit", "--matrix", "huge.mtx", "-k", "2", "--init", "random", "--solver", "mu",
            "--out", "o", "-q",
        ];
        args.extend_from_slice(extra);
        let r = run(tmp.path(), &args);
        r.expect_code(1)
            .one_line_error()
            .stderr_has("the fit produced a NaN value in W[0, 0] (row 0, document row_0, topic 0)");
        assert!(snapshot(&tmp.path().join("o")) == before, "outputs changed");
    }
}

/// Significant digits of a number as written (`0.000107498` → 6, `2.5e-7` → 2).
fn significant_digits(s: &str) -> usize {
    let mantissa = s.trim_start_matches('-').split(['e', 'E']).next().unwrap();
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    digits.trim_start_matches('0').trim_end_matches('0').len()
}

/// Item 11: weights in the CSV files and topics.json have at most 6 significant digits, the
/// per-document lists of topics.json leave out negligible weights, and W.mtx / model.json
/// keep full precision.
#[test]
fn weights_are_written_short() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = sample_corpus();
    run(
        tmp.path(),
        &[
            "fit",
            sample.to_str().unwrap(),
            "-k",
            "8",
            "--out",
            "o",
            "--save-factors",
        ],
    )
    .expect_code(0);
    let mut long = 0;
    for file in ["o/doc_topics.csv", "o/topic_terms.csv"] {
        let text = fs::read_to_string(tmp.path().join(file)).unwrap();
        let weights_from = if file.ends_with("doc_topics.csv") {
            3
        } else {
            4
        };
        for line in text.lines().skip(1) {
            for field in line.split(',').skip(weights_from) {
                assert!(significant_digits(field) <= 6, "{file}: {field} in {line}");
            }
        }
    }
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(tmp.path().join("o/topics.json")).unwrap()).unwrap();
    let text = fs::read_to_string(tmp.path().join("o/topics.json")).unwrap();
    let doc_part = text.split("\"documents\": [\n    {\"id\"").last().unwrap();
    for w in doc_part.split("\"weights\": [").skip(1) {
        let list = w.split("]]").next().unwrap();
        for pair in list.split("], [") {
            let v = pair.trim_start_matches('[').split(", ").nth(1).unwrap();
            assert!(significant_digits(v) <= 6, "{v}");
        }
    }
    for d in json["documents"].as_array().unwrap() {
        let weights = d["weights"].as_array().unwrap();
        for (i, pair) in weights.iter().enumerate() {
            let v = pair[1].as_f64().unwrap();
            assert!(
                v >= 1e-2
                    || (i == 0 && Some(pair[0].as_u64().unwrap()) == d["dominant_topic"].as_u64()),
                "{d}"
            );
        }
    }
    for t in json["topics"].as_array().unwrap() {
        for x in [&t["prevalence"]]
            .into_iter()
            .chain(t["terms"].as_array().unwrap().iter().map(|x| &x["weight"]))
        {
            assert!(significant_digits(&x.to_string()) <= 6, "{x}");
        }
    }
    for file in ["o/W.mtx", "o/model.json"] {
        let text = fs::read_to_string(tmp.path().join(file)).unwrap();
        long += text
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'))
            .filter(|f| f.contains('.') && significant_digits(f) > 6)
            .count();
    }
    assert!(
        long > 100,
        "W.mtx and model.json lost precision ({long} long numbers)"
    );
}

/// Item 9: one "per iteration" figure (the model's, the solver loop only) in topics.json,
/// the report and on stdout.
#[test]
fn one_per_iteration_figure_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = sample_corpus();
    let r = run(
        tmp.path(),
        &["fit", sample.to_str().unwrap(), "-k", "8", "--out", "o"],
    );
    r.expect_code(0);
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(tmp.path().join("o/topics.json")).unwrap()).unwrap();
    let fit = &json["fit"];
    let per_iteration = fit["seconds_per_iteration"].as_f64().unwrap();
    let whole = fit["seconds"].as_f64().unwrap() / fit["iterations"].as_f64().unwrap();
    assert!(
        per_iteration > 0.0 && per_iteration <= whole,
        "{per_iteration} vs {whole}"
    );
    let shown = format!("{:.2} ms", 1000.0 * per_iteration);
    let report = fs::read_to_string(tmp.path().join("o/report.html")).unwrap();
    let in_report = report.split("Per iteration").nth(1).unwrap();
    let in_report = in_report
        .split(" ms")
        .next()
        .unwrap()
        .rsplit('>')
        .next()
        .unwrap();
    assert_eq!(format!("{in_report} ms"), shown, "report vs topics.json");
    assert!(
        r.stdout.contains(&format!("({shown} per iteration")),
        "stdout vs topics.json ({shown}):\n{}",
        r.stdout
    );
}

/// Item 10: `fit --matrix` refuses text-only options, and finds terms.tsv / documents.tsv
/// beside the matrix (saying so), or warns that topics will be named term_N.
#[test]
fn fit_matrix_refuses_text_options_and_finds_its_terms() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    run(
        tmp.path(),
        &["vectorize", docs.to_str().unwrap(), "--out", "m"],
    )
    .expect_code(0);
    let r = run(
        tmp.path(),
        &[
            "fit",
            "--matrix",
            "m/matrix.mtx",
            "-k",
            "3",
            "--out",
            "o",
            "--min-df",
            "2",
            "--no-stem",
            "--ext",
            "rst",
        ],
    );
    r.expect_code(2)
        .one_line_error()
        .stderr_has("--no-stem, --min-df, --ext apply only to text inputs");
    assert!(
        !tmp.path().join("o").exists(),
        "checked before the output folder"
    );

    let r = run(
        tmp.path(),
        &["fit", "--matrix", "m/matrix.mtx", "-k", "3", "--out", "o"],
    );
    r.expect_code(0)
        .stderr_has("m/terms.tsv")
        .stderr_has("m/documents.tsv");
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(tmp.path().join("o/topics.json")).unwrap()).unwrap();
    let first = json["topics"][0]["terms"][0]["term"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!first.starts_with("term_"), "{first}");
    assert!(json["documents"][0]["id"]
        .as_str()
        .unwrap()
        .ends_with(".txt"));

    fs::create_dir(tmp.path().join("bare")).unwrap();
    fs::copy(
        tmp.path().join("m/matrix.mtx"),
        tmp.path().join("bare/x.mtx"),
    )
    .unwrap();
    let r = run(
        tmp.path(),
        &["fit", "--matrix", "bare/x.mtx", "-k", "3", "--out", "o2"],
    );
    r.expect_code(0)
        .stderr_has("warning: no --terms and no terms.tsv beside bare/x.mtx");
}

/// Item 15: clap errors are one line plus a hint; help is honest and ends with examples;
/// the df error is the library's; a line says when outputs are written.
#[test]
fn the_command_line_speaks_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run(tmp.path(), &["fit", "x", "--out", "o", "--topic", "3"]);
    r.expect_code(2)
        .one_line_error()
        .stderr_has("'--topics'")
        .stderr_has("fit --help");
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);
    let r = run(tmp.path(), &["fit", "x"]);
    r.expect_code(2).one_line_error().stderr_has("--out");

    let help = run(tmp.path(), &["fit", "--help"]);
    help.expect_code(0);
    let solver = help
        .stdout
        .split("--solver <SOLVER>")
        .nth(1)
        .unwrap()
        .split("\n  -")
        .next()
        .unwrap();
    for present in [
        "- mu:",
        "- hals:",
        "- als:",
        "- online:",
        "- gnmf:",
        "- nsnmf:",
        "- pg:",
    ] {
        assert!(
            solver.contains(present),
            "--solver help lacks {present}:\n{solver}"
        );
    }
    assert!(
        help.stdout
            .trim_end()
            .lines()
            .rev()
            .take(4)
            .any(|l| l.trim_start().starts_with("nmf-topics fit ")),
        "help does not end with examples:\n{}",
        help.stdout
    );
    assert!(help
        .stdout
        .contains("Usage: nmf-topics fit [OPTIONS] --out <DIR> <INPUT>..."));
    for cmd in ["vectorize", "transform"] {
        let h = run(tmp.path(), &[cmd, "--help"]);
        assert!(h.stdout.contains("Examples:"), "{cmd}: {}", h.stdout);
    }

    let docs = small_corpus(tmp.path());
    let docs = docs.to_str().unwrap();
    for (opt, v) in [("--min-df", "0"), ("--max-df", "0"), ("--max-df", "1.5")] {
        let r = run(tmp.path(), &["vectorize", docs, "--out", "m", opt, v]);
        r.expect_code(2).one_line_error().stderr_has(&format!(
            "invalid value '{v}' for {opt}: expected a document count (an integer of at least 1)"
        ));
    }
    let r = run(tmp.path(), &["fit", docs, "-k", "2", "--out", "o"]);
    r.expect_code(0).stderr_has("writing outputs to o…");
}

/// Item 15: on a terminal, the progress bar's loss is written like the summary's
/// (`loss 138.5`, not `loss 1.385412e2`). The terminal is `script`'s pseudo-terminal.
#[test]
fn the_progress_bar_loss_reads_like_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = sample_corpus();
    let inner = format!(
        "'{}' fit '{}' -k 8 --tol 0 --max-iter 30 --out o > summary.txt",
        util::bin().display(),
        sample.display()
    );
    let out = std::process::Command::new("script")
        .current_dir(tmp.path())
        .args(["-qec", &inner, "/dev/null"])
        .output()
        .expect("script(1) from util-linux runs");
    assert!(out.status.success(), "{out:?}");
    let screen = String::from_utf8_lossy(&out.stdout).replace('\r', "\n");
    let bar_losses: Vec<&str> = screen
        .split("loss ")
        .skip(1)
        .map(|rest| rest.split_whitespace().next().unwrap())
        .collect();
    assert!(
        !bar_losses.is_empty(),
        "no progress bar on the terminal:\n{screen}"
    );
    let summary = fs::read_to_string(tmp.path().join("summary.txt")).unwrap();
    let final_loss = summary
        .split("loss ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    for l in &bar_losses {
        assert!(!l.contains('e'), "bar shows {l}, the summary {final_loss}");
        assert!(significant_digits(l) <= 4, "{l}");
    }
}

/// Item 15: `transform` says, per document, how many of its words the model knows, and warns
/// when most documents know few.
#[test]
fn transform_reports_known_words() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = small_corpus(tmp.path());
    run(
        tmp.path(),
        &["fit", docs.to_str().unwrap(), "-k", "3", "--out", "o"],
    )
    .expect_code(0);
    write(tmp.path(), "new/a.txt", "planet orbit galaxy telescope");
    write(
        tmp.path(),
        "new/b.txt",
        "planet zebra quokka narwhal axolotl",
    );
    let r = run(
        tmp.path(),
        &["transform", "--model", "o", "new", "--out", "t.csv"],
    );
    r.expect_code(0);
    assert!(!r.stderr.contains("warning:"), "{}", r.stderr);
    let csv = fs::read_to_string(tmp.path().join("t.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].ends_with(",words,known_words"), "{}", lines[0]);
    assert!(
        lines[1].starts_with("a.txt,") && lines[1].ends_with(",4,4"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("b.txt,") && lines[2].ends_with(",5,1"),
        "{}",
        lines[2]
    );

    write(tmp.path(), "strange/a.txt", "zebra quokka narwhal axolotl");
    write(tmp.path(), "strange/b.txt", "wombat platypus dingo planet");
    let r = run(
        tmp.path(),
        &["transform", "--model", "o", "strange", "--out", "s.csv"],
    );
    r.expect_code(0)
        .stderr_has("warning: most documents share few words with the model");
}

/// Item 16: the output formats are documented inside the repository, and what the binary
/// writes matches the documentation.
#[test]
fn output_formats_are_documented_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = fs::read_to_string(root.join("docs/formats.md")).expect("docs/formats.md");
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains("docs/formats.md") && !readme.contains("../shared"));
    let gitignore = fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(gitignore
        .lines()
        .any(|l| l.trim() == "/out" || l.trim() == "out/"));

    let tmp = tempfile::tempdir().unwrap();
    let sample = sample_corpus();
    let sample = sample.to_str().unwrap();
    run(tmp.path(), &["vectorize", sample, "--out", "m"]).expect_code(0);
    run(
        tmp.path(),
        &["fit", sample, "-k", "4", "--out", "o", "--save-factors"],
    )
    .expect_code(0);
    run(
        tmp.path(),
        &["transform", "--model", "o", sample, "--out", "t.csv"],
    )
    .expect_code(0);
    let first_line = |p: &str| {
        fs::read_to_string(tmp.path().join(p))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    for (file, header) in [
        ("m/terms.tsv", first_line("m/terms.tsv")),
        ("m/documents.tsv", first_line("m/documents.tsv")),
        ("o/topic_terms.csv", first_line("o/topic_terms.csv")),
        ("o/W.mtx", first_line("o/W.mtx")),
        ("m/matrix.mtx", first_line("m/matrix.mtx")),
    ] {
        let header = header.replace('\t', "\\t");
        assert!(
            doc.contains(&header),
            "{file}: header `{header}` not in docs/formats.md"
        );
    }
    assert!(first_line("o/doc_topics.csv").starts_with("id,label,dominant_topic,topic_0,"));
    assert!(doc.contains("id,label,dominant_topic,topic_0,…,topic_{k-1}"));
    assert!(doc.contains("id,label,dominant_topic,topic_0,…,topic_{k-1},words,known_words"));
    for json in ["o/topics.json", "o/model.json"] {
        let v: serde_json::Value =
            serde_json::from_slice(&fs::read(tmp.path().join(json)).unwrap()).unwrap();
        let mut keys: Vec<String> = Vec::new();
        for (k, section) in v.as_object().unwrap() {
            keys.push(k.clone());
            if let Some(obj) = section.as_object() {
                keys.extend(obj.keys().cloned());
            }
        }
        for k in keys {
            assert!(
                doc.contains(&format!("`{k}`")),
                "{json}: key `{k}` not in docs/formats.md"
            );
        }
    }
    let _ = run_in;
}
