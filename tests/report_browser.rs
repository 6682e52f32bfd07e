//! Opens the report in headless Chromium (networking disabled) and checks that the page runs
//! without console errors and that the relevance slider re-ranks the words of the cards: the page
//! feeds `#lambda=` to the slider as an input event, so its own handler runs. Takes a screenshot
//! into a temporary folder outside the repository.
//!
//! Without Chromium the test fails when the environment variable `CI` is set and is skipped
//! otherwise.

#[path = "report_fixture.rs"]
mod fixture;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nmf_topics::report::{write_fit_outputs, OutputOptions};

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
