//! Helpers for running the real binary in temporary folders.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with both streams shown unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit code {code}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Panics unless stderr is exactly one line (the error) or, with `hint`, two.
    #[track_caller]
    pub fn one_line_error(&self) -> &Self {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let ok = match lines.as_slice() {
            [one] => one.starts_with("nmf-topics: error: "),
            [one, hint] => one.starts_with("nmf-topics: error: ") && hint.starts_with("hint: "),
            _ => false,
        };
        assert!(ok, "expected a one-line error\n--- stderr\n{}", self.stderr);
        self
    }

    /// Panics unless stderr contains `needle`.
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr does not contain {needle:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }
}

/// The binary under test: this build's, or the one `NMF_TOPICS_TEST_BIN` names (to run the
/// tests against another build, such as the one before a change).
pub fn bin() -> PathBuf {
    std::env::var_os("NMF_TOPICS_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_nmf-topics")))
}

/// A command running the binary with `args` in `dir`.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir).args(args);
    cmd
}

/// Runs a prepared command to completion.
pub fn run_command(cmd: &mut Command) -> Run {
    Run::from(cmd.output().expect("the binary runs"))
}

/// Runs `nmf-topics args...` in `dir` with extra environment variables.
pub fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = command(dir, args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_command(&mut cmd)
}

/// Runs the binary under `ulimit -v` (KiB of address space), so that a run that would
/// allocate without bound fails instead of exhausting the machine.
pub fn run_limited(dir: &Path, args: &[&str], kib: u64) -> Run {
    let mut cmd = Command::new("sh");
    cmd.current_dir(dir)
        .arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
        .arg(bin())
        .args(args);
    run_command(&mut cmd)
}

/// Runs `nmf-topics args...` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    run_in(dir, args, &[])
}

/// Writes `contents` to `dir/rel`, creating parent folders.
pub fn write(dir: &Path, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, contents).unwrap();
    path
}

/// The shipped sample corpus.
pub fn sample_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/sample")
}

/// A small corpus of clearly separated subjects, in `dir/docs`.
pub fn small_corpus(dir: &Path) -> PathBuf {
    let subjects = [
        (
            "space",
            [
                "planet orbit telescope star galaxy",
                "rocket launch orbit moon astronaut",
                "telescope observes distant galaxy star",
            ],
        ),
        (
            "food",
            [
                "bread oven flour yeast bake",
                "soup recipe onion garlic simmer",
                "bake cake flour sugar oven",
            ],
        ),
        (
            "sport",
            [
                "football match goal referee team",
                "team wins league match goal",
                "striker scores goal football team",
            ],
        ),
    ];
    for (label, docs) in subjects {
        for (i, text) in docs.iter().enumerate() {
            write(dir, &format!("docs/{label}/{i}.txt"), text);
        }
    }
    dir.join("docs")
}
