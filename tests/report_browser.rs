//! Opens the report in headless Chromium (networking disabled) and checks that the page runs
//! without console errors and that the relevance slider re-ranks the words of the cards: the page
//! feeds `#lambda=` to the slider as an input event, so its own handler runs. Takes a screenshot
//! into a temporary folder outside the repository. A second test sorts the cards by coherence and
//! by stability through `#sort=` (fed to the sort control as a change event) and compares the
//! order with topics.json.
//!
//! Without Chromium the test fails when the environment variable `CI` is set and is skipped
//! otherwise.

#[path = "report_fixture.rs"]
mod fixture;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nmf_topics::nmf::Init;
use nmf_topics::report::{write_fit_outputs, write_fit_outputs_with, FitExtras, OutputOptions};
use nmf_topics::restarts::{RestartRecord, RestartSummary};

fn find_chromium() -> Option<PathBuf> {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

struct Output {
    stdout: String,
    stderr: String,
}

/// Runs Chromium headless on `url` with networking off; kills it after 90 s.
fn chromium(bin: &Path, url: &str, extra: &[String]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=2000",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start chromium");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Output {
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

/// Console messages from the page (errors, uncaught exceptions, any console output).
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect()
}

/// The `data-stem` attributes of the words of card `t`, in DOM order.
fn card_words(dom: &str, t: usize) -> Vec<String> {
    let open = format!("id=\"words-{t}\"");
    let start = dom
        .find(&open)
        .unwrap_or_else(|| panic!("card {t} in the DOM"));
    let end = start + dom[start..].find("</ol>").unwrap();
    dom[start..end]
        .split("data-stem=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

#[test]
fn report_runs_in_headless_chromium() {
    let Some(bin) = find_chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("Chromium is required on CI (apt-get install chromium)");
        }
        eprintln!("skipping the browser test: no chromium on PATH");
        return;
    };
    // outputs and screenshot go to a kept temporary folder, outside the repository
    let dir = tempfile::Builder::new()
        .prefix("nmf-topics-report-")
        .tempdir()
        .unwrap()
        .keep();
    let f = fixture::synthetic();
    write_fit_outputs(&dir, &f.run(), &OutputOptions::default()).unwrap();
    let report = dir.join("report.html").canonicalize().unwrap();
    let url = format!("file://{}", report.display());

    let mut orders = Vec::new();
    for lambda in ["1", "0"] {
        let out = chromium(
            &bin,
            &format!("{url}#lambda={lambda}"),
            &["--dump-dom".into()],
        );
        let console = console_lines(&out.stderr);
        assert!(
            console.is_empty(),
            "console output at λ={lambda}:\n{}",
            console.join("\n")
        );
        assert!(
            out.stdout.contains(&format!("data-lambda=\"{lambda}\"")),
            "the script ran and applied λ={lambda} from the URL"
        );
        let words: Vec<Vec<String>> = (0..3).map(|t| card_words(&out.stdout, t)).collect();
        assert!(words.iter().all(|w| !w.is_empty()));
        orders.push(words);
    }
    assert_eq!(orders[0][0][0], "common", "λ=1: the heaviest word first");
    assert_ne!(
        orders[1][0][0], "common",
        "λ=0: the ubiquitous word loses its rank"
    );
    assert!(
        (0..3).any(|t| orders[0][t] != orders[1][t]),
        "the slider changes a card's word order"
    );

    let png = dir.join("report.png");
    let out = chromium(
        &bin,
        &format!("{url}#lambda=0.6"),
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,2000".into(),
            "--hide-scrollbars".into(),
        ],
    );
    assert!(console_lines(&out.stderr).is_empty(), "{}", out.stderr);
    assert!(png.is_file(), "screenshot written:\n{}", out.stderr);
    eprintln!("screenshot: {}", png.display());
}

/// The topic ids of the cards, in DOM order.
fn card_order(dom: &str) -> Vec<usize> {
    let start = dom.find("class=\"cards\"").expect("the card deck");
    dom[start..]
        .split("<article class=\"card\" id=\"topic-")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].parse().unwrap())
        .collect()
}

#[test]
fn cards_sort_by_coherence_and_stability_in_headless_chromium() {
    let Some(bin) = find_chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("Chromium is required on CI (apt-get install chromium)");
        }
        eprintln!("skipping the browser test: no chromium on PATH");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let f = fixture::synthetic();
    let run = |r: usize, objective: f64| RestartRecord {
        restart: r,
        seed: r as u64,
        init: Init::Random,
        objective,
        iterations: 10,
        converged: true,
        seconds: 0.1,
    };
    // stabilities chosen so that the order differs from the prevalence order
    let summary = RestartSummary {
        restarts: 2,
        best: 0,
        runs: vec![run(0, 1.0), run(1, 1.5)],
        objective_min: 1.0,
        objective_max: 1.5,
        objective_mean: 1.25,
        stability: Some(0.8),
        topic_stability: Some(vec![0.5, 0.95, 0.75]),
        cophenetic: Some(0.9),
    };
    let extras = FitExtras {
        quality: None,
        restarts: Some(&summary),
        topics: None,
    };
    write_fit_outputs_with(dir.path(), &f.run(), &OutputOptions::default(), &extras).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("topics.json")).unwrap()).unwrap();
    let topics = json["topics"].as_array().unwrap();
    let key = |t: &serde_json::Value, k: &str| t.pointer(k).and_then(|v| v.as_f64()).unwrap();
    let order_by = |k: &str| {
        let mut ids: Vec<usize> = (0..topics.len()).collect();
        ids.sort_by(|&a, &b| {
            key(&topics[b], k)
                .total_cmp(&key(&topics[a], k))
                .then(key(&topics[b], "/prevalence").total_cmp(&key(&topics[a], "/prevalence")))
                .then(a.cmp(&b))
        });
        ids
    };
    let url = format!(
        "file://{}",
        dir.path()
            .join("report.html")
            .canonicalize()
            .unwrap()
            .display()
    );
    let plain = chromium(&bin, &url, &["--dump-dom".into()]);
    assert!(console_lines(&plain.stderr).is_empty(), "{}", plain.stderr);
    assert_eq!(
        card_order(&plain.stdout),
        order_by("/prevalence"),
        "prevalence first"
    );
    for (sort, pointer) in [("npmi", "/coherence/npmi"), ("stability", "/stability")] {
        let out = chromium(&bin, &format!("{url}#sort={sort}"), &["--dump-dom".into()]);
        let console = console_lines(&out.stderr);
        assert!(
            console.is_empty(),
            "console output:\n{}",
            console.join("\n")
        );
        assert!(
            out.stdout.contains(&format!("data-sort=\"{sort}\"")),
            "the script sorted by {sort}"
        );
        assert_eq!(
            card_order(&out.stdout),
            order_by(pointer),
            "sorted by {sort}"
        );
    }
    assert_ne!(
        order_by("/stability"),
        order_by("/prevalence"),
        "the test can tell"
    );
    let out = chromium(&bin, &format!("{url}#sort=id"), &["--dump-dom".into()]);
    assert_eq!(card_order(&out.stdout), vec![0, 1, 2]);
}
