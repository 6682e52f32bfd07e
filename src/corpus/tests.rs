use std::fs;
use std::path::{Path, PathBuf};

use super::*;

fn write(root: &Path, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, contents).unwrap();
    path
}

fn load_paths(inputs: &[&Path]) -> Result<Corpus> {
    load_with(inputs, &CorpusOptions::default())
}

fn load_with(inputs: &[&Path], opts: &CorpusOptions) -> Result<Corpus> {
    let inputs: Vec<PathBuf> = inputs.iter().map(|p| p.to_path_buf()).collect();
    load(&inputs, opts)
}

fn input_error(result: Result<Corpus>) -> String {
    match result {
        Err(Error::Input(msg)) => msg,
        Err(other) => panic!("expected an input error, got {other:?}"),
        Ok(c) => panic!(
            "expected an input error, got {} documents",
            c.documents.len()
        ),
    }
}

fn ids(corpus: &Corpus) -> Vec<&str> {
    corpus.documents.iter().map(|d| d.id.as_str()).collect()
}

#[test]
fn missing_path_is_an_input_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let msg = input_error(load_paths(&[&missing]));
    assert!(msg.contains("nowhere"), "{msg}");
    assert!(msg.contains("no such file or directory"), "{msg}");
    let err = load_paths(&[&missing]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn no_inputs_is_an_error() {
    assert!(matches!(
        load(&[], &CorpusOptions::default()),
        Err(Error::Input(_))
    ));
}

#[test]
fn empty_folder_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty_corpus");
    fs::create_dir(&empty).unwrap();
    let msg = input_error(load_paths(&[&empty]));
    assert!(msg.contains("empty_corpus"), "{msg}");
    assert!(msg.contains("no readable documents"), "{msg}");
    assert!(msg.contains(".txt") && msg.contains(".html"), "{msg}");
}

#[test]
fn folder_of_other_extensions_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.bin", "text");
    write(dir.path(), "sub/b.bin", "text");
    write(dir.path(), "c.jsonl", "{\"text\": \"x\"}\n");
    let msg = input_error(load_paths(&[dir.path()]));
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    assert!(msg.contains("3 files with other extensions"), "{msg}");
}

#[test]
fn one_empty_folder_among_good_inputs_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let bad = dir.path().join("bad");
    write(&good, "a.txt", "alpha");
    write(&bad, "notes.pdf", "%PDF");
    let corpus = load_paths(&[&good, &bad]).unwrap();
    assert_eq!(ids(&corpus), ["a.txt"]);
    assert_eq!(corpus.warnings.len(), 1, "{:?}", corpus.warnings);
    let w = &corpus.warnings[0];
    assert!(
        w.contains("bad: no readable documents") && w.contains("the other inputs are read"),
        "{w}"
    );
    assert!(corpus
        .summary()
        .ends_with("; 1 file not read for their extension: .pdf 1 (--ext reads more)"));
}

#[test]
fn ids_colliding_across_inputs_are_prefixed_by_their_input() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/x.txt", "one");
    write(dir.path(), "a/y.txt", "two");
    write(dir.path(), "b/x.txt", "three");
    write(dir.path(), "c/z.txt", "four");
    write(dir.path(), "single/x.txt", "five");
    let (a, b, c) = (
        dir.path().join("a/"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let single = dir.path().join("single/x.txt");
    let corpus = load_paths(&[&a, &b, &c, &single]).unwrap();
    let shown = |p: &Path| p.to_string_lossy().trim_end_matches('/').to_string();
    let got: Vec<String> = ids(&corpus).into_iter().map(String::from).collect();
    assert_eq!(
        got,
        [
            format!("{}/x.txt", shown(&a)),
            format!("{}/y.txt", shown(&a)),
            format!("{}/x.txt", shown(&b)),
            "z.txt".to_string(),
            shown(&single),
        ]
    );
    assert!(corpus
        .warnings
        .iter()
        .any(|w| w.contains("hold documents with the same ids (such as x.txt)")));
    // The same folder twice: prefixes do not help, numbers do.
    let corpus = load_paths(&[&c, &c]).unwrap();
    let ids: Vec<&str> = ids(&corpus);
    assert_eq!(ids.len(), 2);
    assert!(ids[1].ends_with("/z.txt#2"), "{ids:?}");
}

#[test]
fn repeated_record_ids_are_numbered() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "r.jsonl",
        "{\"id\": \"q\", \"text\": \"a\"}\n{\"id\": \"q\", \"text\": \"b\"}\n",
    );
    let opts = CorpusOptions {
        id_field: Some("id".into()),
        ..CorpusOptions::default()
    };
    let corpus = load_with(&[dir.path().join("r.jsonl").as_path()], &opts).unwrap();
    assert_eq!(ids(&corpus), ["q", "q#2"]);
    assert!(corpus
        .warnings
        .iter()
        .any(|w| w.contains("repeat an earlier id (such as q)")));
}

#[test]
fn binary_file_skipped_with_warning() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.txt", "plain words");
    write(dir.path(), "image.txt", b"\x89PNG\x00\x00\x01rest");
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!(ids(&corpus), ["good.txt"]);
    assert_eq!(corpus.skipped, 1);
    assert_eq!(corpus.warnings.len(), 1);
    assert!(
        corpus.warnings[0].contains("image.txt"),
        "{:?}",
        corpus.warnings
    );
    assert!(
        corpus.warnings[0].contains("binary"),
        "{:?}",
        corpus.warnings
    );
}

#[test]
fn folder_of_only_binary_files_is_an_error_mentioning_why() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", b"\x00\x01");
    let msg = input_error(load_paths(&[dir.path()]));
    assert!(msg.contains("binary"), "{msg}");
}

#[test]
fn invalid_utf8_decoded_lossily_with_count() {
    let dir = tempfile::tempdir().unwrap();
    // \xE9 alone (Latin-1 é), then \xFF \xFE, then a truncated 3-byte sequence at the end.
    write(
        dir.path(),
        "latin1.txt",
        b"caf\xE9 ok \xFF\xFE end \xE2\x82",
    );
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!(corpus.documents.len(), 1);
    let text = &corpus.documents[0].text;
    assert!(text.starts_with("caf\u{FFFD} ok "), "{text}");
    assert!(text.contains(" end "), "{text}");
    assert_eq!(corpus.skipped, 0);
    assert_eq!(corpus.warnings.len(), 1);
    let w = &corpus.warnings[0];
    assert!(
        w.contains("latin1.txt") && w.contains("5 bytes replaced"),
        "{w}"
    );
}

#[test]
fn count_invalid_bytes() {
    assert_eq!(count_invalid_utf8(b"hello"), 0);
    assert_eq!(count_invalid_utf8(b"\xFF"), 1);
    assert_eq!(count_invalid_utf8(b"a\xC3"), 1);
    assert_eq!(count_invalid_utf8(b"a\xF0\x9F\x98"), 3);
    assert_eq!(count_invalid_utf8("é\u{1F600}".as_bytes()), 0);
    assert_eq!(count_invalid_utf8(b"\xC3\x28 \xA0\xA1"), 3);
    let (text, n) = decode_utf8_lossy(b"x\xFFy".to_vec());
    assert_eq!((text.as_str(), n), ("x\u{FFFD}y", 1));
}

#[cfg(unix)]
#[test]
fn dangling_symlink_is_a_warning_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.txt", "words");
    std::os::unix::fs::symlink(dir.path().join("gone.txt"), dir.path().join("x.txt")).unwrap();
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!(ids(&corpus), ["good.txt"]);
    assert_eq!(corpus.skipped, 1);
    assert!(
        corpus.warnings[0].contains("x.txt") && corpus.warnings[0].contains("broken symbolic link"),
        "{:?}",
        corpus.warnings
    );
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_a_warning_not_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.txt", "words");
    let locked = write(dir.path(), "locked.txt", "secret");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let readable_anyway = fs::File::open(&locked).is_ok(); // running as root
    let corpus = load_paths(&[dir.path()]).unwrap();
    if readable_anyway {
        assert_eq!(ids(&corpus), ["good.txt", "locked.txt"]);
    } else {
        assert_eq!(ids(&corpus), ["good.txt"]);
        assert_eq!(corpus.skipped, 1);
        assert!(
            corpus.warnings[0].contains("locked.txt"),
            "{:?}",
            corpus.warnings
        );
    }
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn folder_named_like_a_text_file_is_walked_not_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x.txt/inner.md", "inside");
    write(dir.path(), "y.txt", "outside");
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!(ids(&corpus), ["x.txt/inner.md", "y.txt"]);
    assert_eq!(corpus.documents[0].label.as_deref(), Some("x.txt"));
}

#[test]
fn empty_file_kept_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", "");
    write(dir.path(), "b.txt", "some words");
    write(dir.path(), "c.html", "<html><script>x()</script></html>");
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!(ids(&corpus), ["a.txt", "b.txt", "c.html"]);
    assert_eq!(corpus.documents[0].text, "");
    assert_eq!(corpus.empty, 2);
    assert_eq!(corpus.skipped, 0);
    assert!(corpus.warnings.is_empty());
    assert_eq!(
        corpus.summary(),
        "read 3 documents (2 empty), skipped 0, 0 warnings"
    );
}

#[test]
fn folder_of_empty_files_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", "");
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!((corpus.documents.len(), corpus.empty), (1, 1));
}

#[test]
fn ids_labels_paths_and_sorted_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    write(&root, "top.txt", "top");
    write(&root, "sports/b.txt", "b");
    write(&root, "sports/a.md", "a");
    write(&root, "sports/deep/er/c.text", "c");
    write(&root, "arts/z.htm", "<p>z</p>");
    write(&root, "a.txt", "a");
    write(&root, "a/inner.txt", "inner");
    let corpus = load_paths(&[&root]).unwrap();
    assert_eq!(
        ids(&corpus),
        [
            "a/inner.txt",
            "a.txt",
            "arts/z.htm",
            "sports/a.md",
            "sports/b.txt",
            "sports/deep/er/c.text",
            "top.txt"
        ]
    );
    let labels: Vec<Option<&str>> = corpus
        .documents
        .iter()
        .map(|d| d.label.as_deref())
        .collect();
    assert_eq!(
        labels,
        [
            Some("a"),
            None,
            Some("arts"),
            Some("sports"),
            Some("sports"),
            Some("sports"),
            None
        ]
    );
    let deep = &corpus.documents[5];
    assert_eq!(deep.text, "c");
    assert_eq!(
        deep.path.as_deref(),
        Some(root.join("sports/deep/er/c.text").as_path())
    );
}

#[test]
fn id_order_is_component_wise() {
    let mut v = vec!["b", "a.txt", "a/z", "a-b", "a", "ab/c", "a/b/c", "é", "z"];
    v.sort_by(|a, b| compare_ids(a, b));
    assert_eq!(
        v,
        ["a", "a/b/c", "a/z", "a-b", "a.txt", "ab/c", "b", "z", "é"]
    );
}

#[test]
fn inputs_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let one = write(dir.path(), "z_single.md", "single");
    let folder = dir.path().join("folder");
    write(&folder, "a.txt", "a");
    let corpus = load_paths(&[&one, &folder]).unwrap();
    assert_eq!(ids(&corpus), ["z_single.md", "a.txt"]);
    let corpus = load_paths(&[&folder, &one]).unwrap();
    assert_eq!(ids(&corpus), ["a.txt", "z_single.md"]);
}

#[test]
fn hidden_files_and_folders_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "visible.txt", "v");
    write(dir.path(), ".hidden.txt", "h");
    write(dir.path(), ".git/notes.txt", "g");
    write(dir.path(), "sub/.secret/x.txt", "s");
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!(ids(&corpus), ["visible.txt"]);
    // A hidden folder given explicitly as an input is read.
    let corpus = load_paths(&[&dir.path().join(".git")]).unwrap();
    assert_eq!(ids(&corpus), ["notes.txt"]);
}

#[test]
fn ignore_files_are_not_applied() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    write(dir.path(), ".gitignore", "*.txt\n");
    write(dir.path(), ".ignore", "*.md\n");
    write(dir.path(), "a.txt", "a");
    write(dir.path(), "b.md", "b");
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!(ids(&corpus), ["a.txt", "b.md"]);
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_a_warning_and_terminates() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sub/a.txt", "a");
    std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).unwrap();
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!(ids(&corpus), ["sub/a.txt"]);
    assert_eq!(corpus.warnings.len(), 1, "{:?}", corpus.warnings);
    assert!(corpus.warnings[0].contains("loop"), "{:?}", corpus.warnings);
}

#[cfg(unix)]
#[test]
fn symlinked_files_and_folders_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    write(&outside, "far.txt", "far");
    let root = dir.path().join("root");
    write(&root, "a.txt", "a");
    std::os::unix::fs::symlink(&outside, root.join("linked")).unwrap();
    std::os::unix::fs::symlink(root.join("a.txt"), root.join("b.txt")).unwrap();
    let corpus = load_paths(&[&root]).unwrap();
    assert_eq!(ids(&corpus), ["a.txt", "b.txt", "linked/far.txt"]);
    assert_eq!(corpus.documents[2].label.as_deref(), Some("linked"));
}

#[test]
fn html_files_are_stripped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "page.HTML",
        "<html><head><title>Page</title><style>p{color:red}</style>\
         <script>var hidden = 1;</script></head>\
         <body><h1>Heading</h1><p>First&nbsp;para &amp; more</p><p>second</p></body></html>",
    );
    let corpus = load_paths(&[dir.path()]).unwrap();
    let text = &corpus.documents[0].text;
    let words: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(
        words,
        ["Page", "Heading", "First", "para", "&", "more", "second"]
    );
}

#[test]
fn extensions_option_adds_plain_text_extensions() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", "a");
    write(dir.path(), "b.RST", "<p>b</p>");
    write(dir.path(), "c.org", "c");
    write(dir.path(), "d.log", "d");
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!(ids(&corpus), ["a.txt"]);
    assert_eq!((corpus.ignored, corpus.skipped), (3, 0));
    assert!(corpus.warnings.is_empty());
    let opts = CorpusOptions {
        extensions: vec!["rst".into(), ".org".into()],
        ..CorpusOptions::default()
    };
    let corpus = load_with(&[dir.path()], &opts).unwrap();
    assert_eq!(ids(&corpus), ["a.txt", "b.RST", "c.org"]);
    // Extra extensions are plain text, not HTML.
    assert_eq!(corpus.documents[1].text, "<p>b</p>");
}

#[test]
fn single_files_read_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "sub/notes.log", "any extension works");
    let page = write(dir.path(), "page.htm", "<b>bold</b> text");
    let corpus = load_paths(&[&log, &page]).unwrap();
    assert_eq!(ids(&corpus), ["notes.log", "page.htm"]);
    assert_eq!(corpus.documents[0].text, "any extension works");
    assert_eq!(corpus.documents[0].label, None);
    assert_eq!(corpus.documents[0].path.as_deref(), Some(log.as_path()));
    assert_eq!(corpus.documents[1].text, "bold text");
}

#[test]
fn single_binary_file_alone_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let bin = write(dir.path(), "blob.txt", b"ab\x00cd");
    let msg = input_error(load_paths(&[&bin]));
    assert!(msg.contains("blob.txt") && msg.contains("binary"), "{msg}");
}

#[test]
fn byte_order_mark_removed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bom.txt", "\u{FEFF}hello");
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!(corpus.documents[0].text, "hello");
}

#[test]
fn same_result_with_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..200 {
        let body = if i % 17 == 0 {
            b"bin\x00ary".to_vec()
        } else if i % 13 == 0 {
            b"bad \xFF utf8".to_vec()
        } else {
            format!("document number {i}").into_bytes()
        };
        write(dir.path(), &format!("s{}/f{i}.txt", i % 7), body);
    }
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| load_paths(&[dir.path()]).unwrap())
    };
    let one = run(1);
    let four = run(4);
    assert_eq!(one.documents, four.documents);
    assert_eq!(one.warnings, four.warnings);
    assert_eq!((one.skipped, one.empty), (four.skipped, four.empty));
    assert_eq!(one.skipped, 12);
    assert_eq!(one.documents.len(), 188);
}

// ---- JSON Lines ----

#[test]
fn jsonl_records_with_fields() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "data.jsonl",
        "{\"body\": \"first text\", \"key\": \"k1\", \"cat\": \"news\"}\n\
         \n\
         {\"body\": \"second\", \"key\": 42, \"cat\": 7}\r\n\
         {\"body\": \"third\"}\n\
         {\"body\": \"\", \"key\": \"k4\", \"cat\": null}\n",
    );
    let opts = CorpusOptions {
        text_field: "body".into(),
        id_field: Some("key".into()),
        label_field: Some("cat".into()),
        ..CorpusOptions::default()
    };
    let corpus = load_with(&[&file], &opts).unwrap();
    assert_eq!(ids(&corpus), ["k1", "42", "data.jsonl:4", "k4"]);
    let labels: Vec<Option<&str>> = corpus
        .documents
        .iter()
        .map(|d| d.label.as_deref())
        .collect();
    assert_eq!(labels, [Some("news"), Some("7"), None, None]);
    assert_eq!(corpus.documents[0].text, "first text");
    assert_eq!(corpus.documents[0].path, None);
    assert_eq!(corpus.empty, 1);
    assert!(corpus.warnings.is_empty(), "{:?}", corpus.warnings);
}

#[test]
fn jsonl_default_ids_are_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "d.jsonl",
        "{\"text\": \"a\"}\n\n{\"text\": \"b\"}",
    );
    let corpus = load_paths(&[&file]).unwrap();
    assert_eq!(ids(&corpus), ["d.jsonl:1", "d.jsonl:3"]);
}

#[test]
fn jsonl_malformed_lines_are_warnings_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "mixed.jsonl",
        "{\"text\": \"good one\"}\n\
         {\"text\": \"broken\n\
         [1, 2, 3]\n\
         {\"text\": 12}\n\
         {\"other\": \"no text here\"}\n\
         {\"text\": \"good two\"}\n",
    );
    let corpus = load_paths(&[&file]).unwrap();
    assert_eq!(ids(&corpus), ["mixed.jsonl:1", "mixed.jsonl:6"]);
    assert_eq!(corpus.skipped, 4);
    let w = &corpus.warnings;
    assert_eq!(w.len(), 4, "{w:?}");
    assert!(
        w[0].contains("mixed.jsonl:2:") && w[0].contains("invalid JSON"),
        "{w:?}"
    );
    assert!(
        w[1].contains("mixed.jsonl:3:") && w[1].contains("not a JSON object"),
        "{w:?}"
    );
    assert!(
        w[2].contains("mixed.jsonl:4:") && w[2].contains("not a string"),
        "{w:?}"
    );
    assert!(
        w[3].contains("mixed.jsonl:5:") && w[3].contains("no field 'text'"),
        "{w:?}"
    );
}

#[test]
fn jsonl_missing_text_field_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "data.jsonl",
        "{\"content\": \"a\", \"id\": 1}\n{\"content\": \"b\", \"id\": 2}\n",
    );
    let opts = CorpusOptions {
        text_field: "body".into(),
        ..CorpusOptions::default()
    };
    let msg = input_error(load_with(&[&file], &opts));
    assert!(msg.contains("data.jsonl"), "{msg}");
    assert!(msg.contains("'body'"), "{msg}");
    assert!(msg.contains("content, id"), "{msg}");
    assert!(msg.contains("--text-field"), "{msg}");
}

#[test]
fn jsonl_label_field_found_nowhere_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "data.jsonl",
        "{\"text\": \"a\", \"topic\": \"x\"}\n",
    );
    let opts = CorpusOptions {
        label_field: Some("category".into()),
        ..CorpusOptions::default()
    };
    let msg = input_error(load_with(&[&file], &opts));
    assert!(
        msg.contains("'category'") && msg.contains("--label-field"),
        "{msg}"
    );
}

#[test]
fn jsonl_with_only_garbage_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "junk.jsonl", "not json\nnor this\n");
    let msg = input_error(load_paths(&[&file]));
    assert!(
        msg.contains("junk.jsonl") && msg.contains("no readable documents"),
        "{msg}"
    );
    assert!(msg.contains("junk.jsonl:1"), "{msg}");
}

// ---- CSV ----

#[test]
fn csv_quoted_fields_with_commas_quotes_and_newlines() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "data.csv",
        "\u{FEFF}id,text,label\n\
         a1,\"hello, world\",greet\n\
         a2,\"line one\nline two, with \"\"quotes\"\"\",multi\n\
         a3,plain,\n",
    );
    let opts = CorpusOptions {
        id_field: Some("id".into()),
        label_field: Some("label".into()),
        ..CorpusOptions::default()
    };
    let corpus = load_with(&[&file], &opts).unwrap();
    assert_eq!(ids(&corpus), ["a1", "a2", "a3"]);
    assert_eq!(corpus.documents[0].text, "hello, world");
    assert_eq!(
        corpus.documents[1].text,
        "line one\nline two, with \"quotes\""
    );
    assert_eq!(corpus.documents[1].label.as_deref(), Some("multi"));
    assert_eq!(corpus.documents[2].label, None);
    assert!(corpus.warnings.is_empty(), "{:?}", corpus.warnings);
}

#[test]
fn csv_wrong_field_count_is_a_warning_with_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "rows.csv",
        "text,label\n\
         \"two\nlines\",x\n\
         too,many,fields\n\
         ok,y\n",
    );
    let corpus = load_paths(&[&file]).unwrap();
    // Default ids are the line where each record starts.
    assert_eq!(ids(&corpus), ["rows.csv:2", "rows.csv:5"]);
    assert_eq!(corpus.skipped, 1);
    assert_eq!(corpus.warnings.len(), 1);
    assert!(
        corpus.warnings[0].starts_with(&format!("{}:4:", file.display())),
        "{:?}",
        corpus.warnings
    );
    assert!(
        corpus.warnings[0].contains("3 fields"),
        "{:?}",
        corpus.warnings
    );
}

#[test]
fn csv_missing_text_column_lists_the_columns() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "data.csv", "title,body\nx,y\n");
    let msg = input_error(load_paths(&[&file]));
    assert!(msg.contains("data.csv") && msg.contains("'text'"), "{msg}");
    assert!(msg.contains("title, body"), "{msg}");
    let opts = CorpusOptions {
        text_field: "body".into(),
        id_field: Some("key".into()),
        ..CorpusOptions::default()
    };
    let msg = input_error(load_with(&[&file], &opts));
    assert!(msg.contains("'key'") && msg.contains("--id-field"), "{msg}");
}

#[test]
fn csv_empty_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "empty.csv", "");
    let msg = input_error(load_paths(&[&file]));
    assert!(msg.contains("empty.csv"), "{msg}");
}

#[test]
fn csv_invalid_utf8_in_text_is_lossy_with_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "l1.csv", b"text\ncaf\xE9\n");
    let corpus = load_paths(&[&file]).unwrap();
    assert_eq!(corpus.documents[0].text, "caf\u{FFFD}");
    assert!(corpus.warnings[0].contains("l1.csv:2:") && corpus.warnings[0].contains("1 byte"));
}

#[test]
fn data_files_inside_folders_are_not_expanded() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", "a");
    write(dir.path(), "records.jsonl", "{\"text\": \"r\"}\n");
    write(dir.path(), "table.csv", "text\nx\n");
    let corpus = load_paths(&[dir.path()]).unwrap();
    assert_eq!(ids(&corpus), ["a.txt"]);
}

/// Timing of the walk, of a bare parallel read of the same files (the floor) and of the whole
/// load on a real folder (not a test): run with `NMF_CORPUS_DIR=data/debian cargo test --lib
/// corpus::tests::time_load -- --ignored --nocapture`.
#[test]
#[ignore = "timing on a real corpus named by NMF_CORPUS_DIR"]
fn time_load() {
    let Some(dir) = std::env::var_os("NMF_CORPUS_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let kinds = ExtensionKinds::new(&CorpusOptions::default());
    for round in 0..3 {
        let start = std::time::Instant::now();
        let walked = walk(&dir, &kinds, ignore::overrides::Override::empty());
        let walk_time = start.elapsed();
        let start = std::time::Instant::now();
        let total: usize = walked
            .files
            .par_iter()
            .map(|f| fs::read(&f.path).map_or(0, |b| b.len()))
            .sum();
        eprintln!(
            "round {round}: raw read of {total} bytes in {:?}",
            start.elapsed()
        );
        let start = std::time::Instant::now();
        let corpus = load_paths(&[&dir]).unwrap();
        let load_time = start.elapsed();
        eprintln!(
            "round {round}: walk {} files in {walk_time:?}; load (walk + read) {} documents in {load_time:?}",
            walked.files.len(),
            corpus.documents.len()
        );
    }
}

#[test]
fn read_file_reads_whole_files_of_any_size_with_one_buffer() {
    let dir = tempfile::tempdir().unwrap();
    // Empty, smaller than the buffer, exactly its size, larger, and larger than what a thread
    // keeps; read in that order and back again on one thread, so the buffer grows and shrinks.
    let sizes = [
        0,
        10,
        READ_BUF_START,
        READ_BUF_START + 1,
        3 * READ_BUF_START + 7,
        READ_BUF_KEEP + 5,
    ];
    let files: Vec<(PathBuf, Vec<u8>)> = sizes
        .iter()
        .map(|&n| {
            let bytes: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let path = write(dir.path(), &format!("f{n}.bin"), &bytes);
            (path, bytes)
        })
        .collect();
    for (path, bytes) in files.iter().chain(files.iter().rev()) {
        assert!(read_file(path).unwrap() == *bytes, "{}", path.display());
    }
    assert!(read_file(&dir.path().join("missing")).is_err());
}

#[test]
fn blocks_on_most_pages_of_a_folder_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let page = |i: usize| {
        format!(
            "<title>Page {i} | My Site</title><div class=\"foot\">Shared footer line</div>\
             <p>unique words {i}</p>"
        )
    };
    for i in 0..6 {
        write(dir.path(), &format!("p{i}.html"), page(i));
    }
    write(
        dir.path(),
        "notes.txt",
        "Shared footer line\nkept in text files",
    );
    let corpus = load_paths(&[dir.path()]).unwrap();
    let texts: Vec<&str> = corpus.documents.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(texts[0], "Shared footer line\nkept in text files");
    assert_eq!(texts[1], "Page 0\nunique words 0");
    assert_eq!(corpus.boilerplate.blocks, 2);
    assert_eq!(corpus.boilerplate.removed, 12);
    assert!(
        corpus.summary().contains("removed 2 text blocks"),
        "{}",
        corpus.summary()
    );

    let kept = CorpusOptions {
        keep_boilerplate: true,
        ..CorpusOptions::default()
    };
    let corpus = load_with(&[dir.path()], &kept).unwrap();
    assert!(corpus.documents[1].text.contains("My Site"));
    assert_eq!(corpus.boilerplate, Boilerplate::default());

    // Fewer than BOILERPLATE_MIN_PAGES pages: nothing is removed.
    let small = tempfile::tempdir().unwrap();
    for i in 0..BOILERPLATE_MIN_PAGES - 1 {
        write(small.path(), &format!("p{i}.html"), page(i));
    }
    let corpus = load_paths(&[small.path()]).unwrap();
    assert!(corpus.documents[0].text.contains("Shared footer line"));
}

#[test]
fn a_streamed_pass_shares_one_label_per_distinct_label() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("d.jsonl");
    fs::write(
        &file,
        "{\"text\": \"a\", \"l\": \"x\"}\n{\"text\": \"b\", \"l\": \"y\"}\n\
         {\"text\": \"c\", \"l\": \"x\"}\n{\"text\": \"d\"}\n",
    )
    .unwrap();
    let opts = CorpusOptions {
        label_field: Some("l".into()),
        ..CorpusOptions::default()
    };
    let streamed = Source::open(&[file], &opts)
        .unwrap()
        .scan(|_, _| Ok(()))
        .unwrap();
    let docs = &streamed.documents;
    let label = |i: usize| docs[i].label.clone();
    assert_eq!(label(0).as_deref(), Some("x"));
    assert_eq!(label(1).as_deref(), Some("y"));
    assert_eq!(label(3), None);
    // Documents with the same label hold one shared string.
    assert!(std::sync::Arc::ptr_eq(
        &label(0).unwrap(),
        &label(2).unwrap()
    ));
    assert!(!std::sync::Arc::ptr_eq(
        &label(0).unwrap(),
        &label(1).unwrap()
    ));
}
