//! `mpirun -n P nmf-topics fit --distributed …`: the glue of a distributed fit (a build with
//! the `mpi` feature). Every process checks the options; rank 0 prepares the output folder,
//! reads the custom start, shows the progress and the errors, and writes the outputs.

use std::process::ExitCode;

use clap::ArgMatches;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::Threading;

use nmf_topics::dist::fit::{agree, fit_matrix, Fitted, MatrixInput};
use nmf_topics::nmf::NmfParams;
use nmf_topics::report::{html::fmt_num, FitExtras, FitRun};
use nmf_topics::Error;

use super::args::{Cli, Command, FitArgs};
use super::config::{fit_config_on, FitConfig, FitInput};
use super::{exit_code, fit, ui};

/// Whether the command line is a distributed fit (handled by [`main`]).
pub fn wanted(cli: &Cli) -> bool {
    matches!(&cli.command, Command::Fit(a) if a.distributed)
}

/// Runs a distributed fit on this process and returns its exit code (the same on every
/// process).
pub fn main(cli: Cli, matches: &ArgMatches) -> ExitCode {
    let Command::Fit(args) = cli.command else {
        return ExitCode::from(2);
    };
    // Waiting processes yield their core (Open MPI polls otherwise): a process waiting in a
    // collective then does not slow the ones still computing on a shared or busy node, at no
    // visible cost to these coarse collectives (measured: docs/distributed.md). An explicit
    // setting of the user's wins.
    if std::env::var_os("OMPI_MCA_mpi_yield_when_idle").is_none() {
        std::env::set_var("OMPI_MCA_mpi_yield_when_idle", "1");
    }
    let Some((universe, _)) = mpi::initialize_with_threading(Threading::Funneled) else {
        ui::error_line("nmf-topics: error: --distributed: MPI could not be initialized");
        return ExitCode::from(1);
    };
    let world = universe.world();
    let rank = world.rank();
    abort_on_panic(rank, world.size());
    if rank != 0 {
        ui::interrupt::silence();
    }
    let sub = matches.subcommand().map(|(_, m)| m).unwrap_or(matches);
    let fitted = run(&world, *args, sub);
    if let Err(err) = &fitted {
        // Every process has this error (the agreement): rank 0 says it, then all leave.
        if rank == 0 {
            ui::error_line(&format!("nmf-topics: error: {err:#}"));
            ui::interrupt::silence();
        }
        world.barrier();
    }
    // MPI_Finalize; after it only rank 0 works (writing the outputs), alone.
    let _ = std::panic::take_hook();
    drop(universe);
    let result = match fitted {
        Ok(Some((c, fitted))) => write(&c, &fitted),
        Ok(None) => Ok(()),
        Err(err) => return ExitCode::from(exit_code(&err)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            ui::error_line(&format!("nmf-topics: error: {err:#}"));
            ExitCode::from(exit_code(&err))
        }
    }
}

/// A panic (a bug) on any process ends the whole job with `MPI_Abort` instead of leaving the
/// others waiting in a collective.
fn abort_on_panic(rank: i32, size: i32) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        ui::error_line(&format!(
            "nmf-topics: error: rank {rank} of {size}: internal error; aborting the MPI job"
        ));
        // SAFETY: MPI is initialized (the hook is set after MPI_Init_thread) and MPI_Abort
        // may be called from any thread; it does not return.
        unsafe {
            mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, 1);
        }
    }));
}

/// Threads per process: `--threads`, else RAYON_NUM_THREADS, else the cores of the node
/// shared by the processes on it.
fn set_threads(world: &SimpleCommunicator, args: &FitArgs) {
    let node = world.split_shared(world.rank());
    if args.common.threads.is_some() || std::env::var_os("RAYON_NUM_THREADS").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let per = (cores / node.size().max(1) as usize).max(1);
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(per)
        .build_global();
}

/// The fit: the configuration checked on every process (agreed), the distributed fit; on
/// rank 0 the configuration and the model for [`write`]. Every error is agreed: every process
/// returns the same one.
fn run(
    world: &SimpleCommunicator,
    args: FitArgs,
    matches: &ArgMatches,
) -> anyhow::Result<Option<(FitConfig, Fitted)>> {
    let root = world.rank() == 0;
    set_threads(world, &args);
    let config = fit_config_on(args, matches, root).map_err(to_error);
    let mut c: FitConfig = agree(world, config)?;
    let FitInput::Matrix {
        matrix,
        terms,
        documents,
    } = &c.input
    else {
        return Err(Error::input("--distributed needs --matrix X.mtx").into());
    };
    let grid = c.distributed.and_then(|d| d.grid);
    let ui = c.ui;
    let bar = if root {
        ui.bar(c.recorded.max_iter as u64, "fitting")
    } else {
        None
    };
    let mut progress = |iteration: usize, objective: f64| {
        if let Some(pb) = &bar {
            pb.set_position(iteration as u64);
            pb.set_prefix(format!("loss {}", fmt_num(objective)));
        }
    };
    let input = MatrixInput {
        matrix,
        terms: terms.as_deref(),
        documents: documents.as_deref(),
    };
    if root {
        ui.info(&format!(
            "distributed fit on {} processes: {}",
            world.size(),
            matrix.display()
        ));
    }
    let params = std::mem::replace(&mut c.params, NmfParams::new(1).check()?);
    let fitted = fit_matrix(world, &input, params, grid, &mut progress);
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    Ok(fitted?.map(|f| (c, f)))
}

/// Rank 0, after the fit: the outputs a local fit writes.
fn write(c: &FitConfig, fitted: &Fitted) -> anyhow::Result<()> {
    let ui = c.ui;
    ui.info(&format!(
        "matrix: {} documents × {} terms, {} nonzeros; grid {}x{}",
        fitted.dtm.x.rows(),
        fitted.dtm.x.cols(),
        fitted.dtm.x.nnz(),
        fitted.grid.pr,
        fitted.grid.pc
    ));
    let FitInput::Matrix { matrix, .. } = &c.input else {
        return Ok(());
    };
    let inputs = vec![matrix.display().to_string()];
    let run = FitRun {
        dtm: &fitted.dtm,
        documents: None,
        model: &fitted.model,
        params: &c.recorded,
        inputs: &inputs,
        analyzer: None,
        vectorize: None,
    };
    fit::write_outputs(&ui, &c.out, &c.output, &run, &FitExtras::default())
}

/// The library error of a configuration failure (its exit code kept), for the agreement.
fn to_error(e: anyhow::Error) -> Error {
    let code = exit_code(&e);
    let text = format!("{e:#}");
    if code == 2 {
        Error::Input(text)
    } else {
        Error::Runtime(text)
    }
}
