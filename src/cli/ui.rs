//! What the user sees while a command runs: messages and warnings on stderr, progress bars
//! (only when stderr is a terminal), the results on stdout, and what happens on Ctrl-C.
//!
//! Writing to stderr never fails a run: a closed or full stderr (`2>&-`, `2>/dev/full`,
//! `2>&1 | head -1`) only loses the messages. A failure to write stdout is an error naming
//! stdout ([`StdoutError`]), except a closed pipe (`| head`), which ends the run successfully.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Writes one line to stderr, ignoring any failure.
pub fn error_line(msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{msg}");
}

/// A failed write to stdout.
#[derive(Debug)]
pub struct StdoutError(pub std::io::Error);

impl std::fmt::Display for StdoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write to stdout: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

impl StdoutError {
    /// Whether stdout was a pipe closed by its reader (`| head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        self.0.kind() == std::io::ErrorKind::BrokenPipe
    }
}

/// Messages to stderr, progress only when stderr is a terminal; `--quiet` silences both.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    quiet: bool,
    tty: bool,
}

impl Ui {
    /// The UI of a run with `--quiet` or not.
    pub fn new(quiet: bool) -> Self {
        Ui {
            quiet,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// A line on stderr (not with `--quiet`).
    pub fn info(&self, msg: &str) {
        if !self.quiet {
            error_line(msg);
        }
    }

    /// `nmf-topics: warning: …` on stderr (not with `--quiet`).
    pub fn warn(&self, msg: &str) {
        self.info(&format!("nmf-topics: warning: {msg}"));
    }

    /// Writes `text` to stdout (not with `--quiet`) and flushes it.
    pub fn print(&self, text: &str) -> Result<(), StdoutError> {
        if self.quiet {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(StdoutError)
    }

    /// A spinner with a message, or nothing when stderr is not a terminal.
    pub fn spinner(&self, msg: &str) -> Option<ProgressBar> {
        if self.quiet || !self.tty {
            return None;
        }
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        pb.set_style(ProgressStyle::default_spinner());
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(100));
        Some(pb)
    }

    /// A progress bar of `len` steps, or nothing when stderr is not a terminal.
    pub fn bar(&self, len: u64, msg: &str) -> Option<ProgressBar> {
        if self.quiet || !self.tty {
            return None;
        }
        let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {prefix} ({elapsed})")
        {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_message(msg.to_string());
        Some(pb)
    }
}

/// Test hook: with `NMF_TOPICS_TEST_COMMIT_DELAY_MS` set, waits that long after the output
/// files are complete in their staging folder and before they are moved into place, so that
/// the tests can interrupt a run at that moment. Not meant for users.
pub fn test_commit_delay() {
    if let Some(ms) = std::env::var("NMF_TOPICS_TEST_COMMIT_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// Ctrl-C (SIGINT; also SIGTERM and SIGHUP) during a run.
///
/// While a run has registered a cancel flag ([`interrupt::cancel_with`], a sweep's fits), the
/// first interrupt only sets the flag. Otherwise the handler (the `ctrlc` crate's thread) removes the staging folder of the output set being
/// written, if any, and ends the process with exit code 130. The move of a finished set into
/// place holds the same lock, so an interrupt either comes before it (the folder keeps its
/// previous files) or waits until it is complete (the folder holds the new set): never a mix.
pub mod interrupt {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
    use std::time::Duration;

    /// The staging folder to remove on an interrupt.
    static STAGING: Mutex<Option<PathBuf>> = Mutex::new(None);

    fn staging() -> MutexGuard<'static, Option<PathBuf>> {
        STAGING.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Installs the handler (once, at start). Without it, an interrupt kills the process as
    /// usual; the staging folder is then left behind, but the output folder is intact.
    pub fn install() {
        let _ = ctrlc::set_handler(on_interrupt);
    }

    /// Whether an interrupt ends the process without a message.
    static SILENT: AtomicBool = AtomicBool::new(false);

    /// From now on an interrupt ends the process (exit code 130) without a message: the
    /// processes of an MPI job other than rank 0, and rank 0 once it has reported an error
    /// (mpirun then terminates the processes still finishing).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub fn silence() {
        SILENT.store(true, Ordering::SeqCst);
    }

    /// The flag (and the message said when it is set) of a run that stops gracefully on the
    /// first interrupt (a sweep keeps its finished ks).
    type CancelFlag = Option<(Arc<AtomicBool>, &'static str)>;
    static CANCEL: Mutex<CancelFlag> = Mutex::new(None);

    fn cancel() -> MutexGuard<'static, CancelFlag> {
        CANCEL.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Until the guard is dropped, the first interrupt sets `flag` and says `message` instead
    /// of ending the process; a second one ends it as usual.
    pub fn cancel_with(flag: Arc<AtomicBool>, message: &'static str) -> Cancellable {
        *cancel() = Some((flag, message));
        Cancellable(())
    }

    /// Ends [`cancel_with`] when dropped.
    #[must_use = "the flag is set on an interrupt only while the guard lives"]
    pub struct Cancellable(());

    impl Drop for Cancellable {
        fn drop(&mut self) {
            cancel().take();
        }
    }

    fn on_interrupt() {
        if let Some((flag, message)) = cancel().as_ref() {
            if !flag.swap(true, Ordering::SeqCst) {
                super::error_line(message);
                return;
            }
        }
        let mut staged = staging();
        let cleaned = staged.take().map(|dir| remove_all(&dir));
        if SILENT.load(Ordering::SeqCst) {
            std::process::exit(130);
        }
        super::error_line(match cleaned {
            Some(true) => "nmf-topics: interrupted; the output folder keeps its previous files",
            Some(false) => "nmf-topics: interrupted; could not remove the temporary folder",
            None => "nmf-topics: interrupted",
        });
        std::process::exit(130);
    }

    /// Removes `dir`, retrying while writer threads may still be creating files in it.
    fn remove_all(dir: &Path) -> bool {
        for _ in 0..50 {
            match std::fs::remove_dir_all(dir) {
                Ok(()) => return true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        false
    }

    /// Registers `dir` as the staging folder to remove on an interrupt, until the guard is
    /// dropped or [`commit`] runs.
    pub fn protect(dir: &Path) -> Protected {
        *staging() = Some(dir.to_path_buf());
        Protected(())
    }

    /// Unregisters the staging folder when dropped.
    #[must_use = "the folder is protected only while the guard lives"]
    pub struct Protected(());

    impl Drop for Protected {
        fn drop(&mut self) {
            staging().take();
        }
    }

    /// Runs `move_into_place` (the moves of a complete set) with interrupts held back; the
    /// staging folder is unregistered afterwards.
    pub fn commit<T>(move_into_place: impl FnOnce() -> T) -> T {
        let mut staged = staging();
        let result = move_into_place();
        staged.take();
        result
    }
}
