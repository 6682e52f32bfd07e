//! The command line: parse ([`args`]), validate everything into one [`Config`] before any
//! work ([`config`]), then run one command ([`vectorize`], [`fit`], [`transform`], [`sweep`]) with the
//! messages and progress of [`ui`]. Glue only: numerics, corpus and matrix logic are the
//! library's.
//!
//! Exit codes: 0 success (also when stdout is a pipe closed early), 1 runtime failure, 2 bad
//! usage or bad input, 130 interrupted. Errors are one line on stderr naming the file or
//! option.

mod args;
mod config;
#[cfg(feature = "mpi")]
mod distributed;
mod fit;
mod sweep;
mod transform;
mod ui;
mod vectorize;

use std::process::ExitCode;

use nmf_topics::{nmf, Error};

use config::Config;
use ui::StdoutError;

/// Runs the command line and maps errors to exit codes.
pub fn main() -> ExitCode {
    ui::interrupt::install();
    let (cli, matches) = match args::parse() {
        Ok(parsed) => parsed,
        Err(e) => return args::report_clap_error(&e),
    };
    #[cfg(feature = "mpi")]
    if distributed::wanted(&cli) {
        return distributed::main(cli, &matches);
    }
    match Config::from_args(cli, &matches).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(e) = err.downcast_ref::<StdoutError>() {
                if e.is_broken_pipe() {
                    return ExitCode::SUCCESS;
                }
            }
            ui::error_line(&format!("nmf-topics: error: {err:#}"));
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run(config: Config) -> anyhow::Result<()> {
    match config {
        Config::Vectorize(c) => vectorize::run(*c),
        Config::Fit(c) => fit::run(*c),
        Config::Transform(c) => transform::run(*c),
        Config::Sweep(c) => sweep::run(*c),
    }
}

/// 2 for bad usage or input (the library says which of its errors are), 1 otherwise.
fn exit_code(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| {
            e.downcast_ref::<Error>().map(Error::exit_code).or_else(|| {
                e.downcast_ref::<nmf::NmfError>()
                    .map(|n| if n.is_bad_input() { 2 } else { 1 })
            })
        })
        .unwrap_or(1)
}
