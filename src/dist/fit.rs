//! The distributed fit: agreement on errors, reading the parts, the blocks, the start, the
//! driver's loop on the grid, and the factors back on rank 0.

use std::path::Path;
use std::time::Instant;

use crate::matrix::Matrix;
use mpi::datatype::{Partition, PartitionMut};
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::Count;

use super::comm::GridComm;
use super::layout::{Grid, Layout};
use crate::mtx::{read_coordinate_part, CoordinatePart, CsrBuilder};
use crate::nmf::driver::{self, Problem, Run};
use crate::nmf::{
    data, model, pad_columns, start, unpad_columns, Loss, Method, NmfModel, NmfValidParams,
};
use crate::vectorize::DocTermMatrix;
use crate::{Error, Result};

/// The exit code an error stands for (see [`Error::exit_code`]).
fn code_of(e: &Error) -> u8 {
    e.exit_code()
}

/// The agreement step: every process passes its own outcome; if any failed, every process
/// returns the error of the first failing rank (its message, prefixed by `rank r of P: ` when
/// r > 0, with its exit code), so no process goes on into a collective the failed one will
/// never join. Costs one all-gather of P integers (and a broadcast of the message on failure).
pub fn agree<T>(world: &SimpleCommunicator, mine: Result<T>) -> Result<T> {
    let p = world.size() as usize;
    let code: i32 = match &mine {
        Ok(_) => 0,
        Err(e) => code_of(e) as i32,
    };
    let mut codes = vec![0i32; p];
    world.all_gather_into(&code, &mut codes[..]);
    let Some(first) = codes.iter().position(|&c| c != 0) else {
        return mine;
    };
    let root = world.process_at_rank(first as i32);
    let mut msg: Vec<u8> = match &mine {
        Err(e) if world.rank() as usize == first => e.to_string().into_bytes(),
        _ => Vec::new(),
    };
    let mut len = msg.len() as u64;
    root.broadcast_into(&mut len);
    msg.resize(len as usize, 0);
    root.broadcast_into(&mut msg[..]);
    let text = String::from_utf8_lossy(&msg).into_owned();
    let text = if first == 0 {
        text
    } else {
        format!("rank {first} of {p}: {text}")
    };
    Err(if codes[first] == 2 {
        Error::Input(text)
    } else {
        Error::Runtime(text)
    })
}

/// What the fit reads: a coordinate Matrix Market file and, for rank 0's outputs, its terms
/// and documents.
#[derive(Debug, Clone)]
pub struct MatrixInput<'p> {
    /// The matrix (every process reads its own byte range of it).
    pub matrix: &'p Path,
    /// terms.tsv (rank 0 only).
    pub terms: Option<&'p Path>,
    /// documents.tsv (rank 0 only).
    pub documents: Option<&'p Path>,
}

/// The result on rank 0.
pub struct Fitted {
    /// The matrix as a local fit reads it, with its terms and documents (for the outputs).
    pub dtm: DocTermMatrix,
    /// The model: W and H in the original row and column order.
    pub model: NmfModel,
    /// The grid the fit ran on.
    pub grid: Grid,
}

/// Largest count of one MPI message (MPI's counts are 32-bit).
const MAX_COUNT: usize = i32::MAX as usize;

/// Fits X ≈ W·H on the processes of `world` (see [`crate::dist`]). Every process calls it
/// with the same arguments (rank 0's `params` carry the custom W0/H0 of `--init custom`; the
/// others' need not). `progress` is called on every process with the driver's figures.
///
/// Returns the model on rank 0 and `None` elsewhere; an error (the same one) on every
/// process if any failed.
pub fn fit_matrix(
    world: &SimpleCommunicator,
    input: &MatrixInput<'_>,
    params: NmfValidParams,
    grid: Option<Grid>,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Option<Fitted>> {
    let started = Instant::now();
    let p = world.size() as usize;
    let rank = world.rank() as usize;
    let method = params.method();
    if !matches!(
        method,
        Method::Mu | Method::Hals { .. } | Method::Als { .. }
    ) {
        return Err(Error::input(format!(
            "--solver {} cannot run with --distributed (use mu, hals or als, or run it locally)",
            method.solver()
        )));
    }
    if matches!(method, Method::Hals { inner_sweeps, .. } if inner_sweeps > 1) {
        return Err(Error::input(
            "--inner-sweeps cannot be combined with --distributed (its early stop is per tile of \
             a process's rows, so the result would depend on the number of processes)",
        ));
    }
    let k = params.params().k;
    // Every process reads its part; rank 0 also reads the whole matrix (as a local fit) for
    // the start and the outputs.
    let part = read_coordinate_part(input.matrix, rank, p);
    let whole = if rank == 0 {
        DocTermMatrix::from_matrix_market(input.matrix, input.terms, input.documents)
            .and_then(|dtm| {
                let xs = data::Sparse::new(&dtm.x)?;
                let (n, m) = (xs.nrows(), xs.ncols());
                data::check_rank(k, n, m)?;
                data::check_memory(n, m, k)?;
                drop(xs);
                Ok(dtm)
            })
            .map(Some)
    } else {
        Ok(None)
    };
    let both = match (part, whole) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let (part, mut whole) = agree(world, both)?;
    let part = agree(world, check_parts(world, input.matrix, part))?;
    let (n, m) = (part.rows, part.cols);

    let grid = agree(world, choose_grid(grid, p, n, m, k))?;
    let layout = Layout::new(n, m, grid, params.params().seed);
    let x = blocks(world, input.matrix, &layout, part)?;
    // Checked by rank 0 already; checked again here in case a process's copy of the file
    // differs in its values.
    let xs = agree(world, data::Sparse::new(&x).map_err(Error::from))?;
    let xref = xs.x();

    // The start: rank 0 computes it as a local fit does and sends every process its rows.
    let t_init = Instant::now();
    let start = match &mut whole {
        Some(dtm) => start::initial_factors(&dtm.x, n, m, params.params(), None)
            .map(|(w0, h0)| Some((start::row_major(w0), start::transposed(&h0))))
            .map_err(Error::from),
        None => Ok(None),
    };
    let start = agree(world, start)?;
    let own_r = layout.own_rows(rank);
    let own_c = layout.own_cols(rank);
    let w = scatter_rows(world, &layout, start.as_ref().map(|s| &s.0[..]), k, true);
    let ht = scatter_rows(world, &layout, start.as_ref().map(|s| &s.1[..]), k, false);
    drop(start);
    let init_seconds = t_init.elapsed().as_secs_f64();

    let comm = GridComm::new(world, &layout);
    let reg = params.regularization(n, m);
    let kl = params.params().loss == Loss::Kl;
    // As locally: the rank of the register kernels, W and H padded with zero columns.
    let kp = params.padded_rank();
    let (w, ht) = (pad_columns(w, k, kp), pad_columns(ht, k, kp));
    let pb = Problem::with_comm(xref, &comm, own_r.len(), own_c.len(), kp, kl, reg);
    let (solver, _) = params.solver(pb, w, ht).map_err(Error::from)?;
    let mut run = driver::run(&pb, solver, params.limits(), progress);
    run.w = unpad_columns(run.w, kp, k);
    run.ht = unpad_columns(run.ht, kp, k);

    // The factors back on rank 0, in the original order.
    let Run {
        w,
        ht,
        history,
        iterations,
        converged,
        loop_seconds,
        eval,
    } = run;
    let w = gather_rows(world, &layout, &w, k, true);
    let ht = gather_rows(world, &layout, &ht, k, false);
    let Some(dtm) = whole else {
        return Ok(None);
    };
    let run = Run {
        w: w.unwrap_or_default(),
        ht: ht.unwrap_or_default(),
        history,
        iterations,
        converged,
        loop_seconds,
        eval,
    };
    let seconds = started.elapsed().as_secs_f64();
    let model = model::assemble(run, n, m, k, seconds, init_seconds, method);
    Ok(Some(Fitted { dtm, model, grid }))
}

/// The parts agree on the file (same size line and length everywhere), their malformed lines
/// get absolute line numbers (the first in file order is reported), and the entries add up to
/// the announced count.
fn check_parts(
    world: &SimpleCommunicator,
    path: &Path,
    part: CoordinatePart,
) -> Result<CoordinatePart> {
    let p = world.size() as usize;
    let rank = world.rank() as usize;
    const F: usize = 8;
    let mine: [u64; F] = [
        part.rows as u64,
        part.cols as u64,
        part.nnz as u64,
        part.symmetric as u64,
        part.file_bytes,
        part.seen as u64,
        part.lines as u64,
        part.error.as_ref().map_or(u64::MAX, |e| e.0 as u64),
    ];
    let mut all = vec![0u64; F * p];
    world.all_gather_into(&mine[..], &mut all[..]);
    let row = |r: usize| &all[r * F..(r + 1) * F];
    for r in 1..p {
        if row(r)[..5] != row(0)[..5] {
            let desc =
                |v: &[u64]| format!("{} x {} with {} entries, {} bytes", v[0], v[1], v[2], v[4]);
            if r != rank {
                // That rank reports it through the agreement.
                return Ok(part);
            }
            return Err(Error::input(format!(
                "{}: not the file rank 0 reads ({} here, {} there); every process must read \
                 the same matrix",
                path.display(),
                desc(row(r)),
                desc(row(0))
            )));
        }
    }
    // The first malformed line in file order.
    let mut line = part.size_line + 1;
    for r in 0..p {
        let v = row(r);
        if v[7] != u64::MAX {
            if r == rank {
                let (index, msg) = part.error.clone().unwrap_or_default();
                return Err(Error::input(format!(
                    "{}:{}: {msg}",
                    path.display(),
                    line + index
                )));
            }
            // Another rank's line: that rank reports it through the agreement.
            return Ok(part);
        }
        line += v[6] as usize;
    }
    let seen: u64 = (0..p).map(|r| row(r)[5]).sum();
    if seen != part.nnz as u64 {
        let fewer = if (seen as usize) < part.nnz {
            "too few"
        } else {
            "too many"
        };
        return Err(Error::input(format!(
            "{}: {fewer} entries: the size line (line {}) announces {}, the file has {seen}",
            path.display(),
            part.size_line,
            part.nnz
        )));
    }
    Ok(part)
}

/// The grid: the given one (it must have P processes) or [`Grid::choose`]; every process
/// must own at least one row of W and of Hᵀ, and every message fit MPI's counts.
fn choose_grid(given: Option<Grid>, p: usize, n: usize, m: usize, k: usize) -> Result<Grid> {
    let grid = match given {
        Some(g) if g.size() != p => {
            return Err(Error::input(format!(
                "--grid {}x{} has {} processes, but the job has {p} (mpirun -n {p})",
                g.pr,
                g.pc,
                g.size()
            )))
        }
        Some(g) => g,
        None => Grid::choose(p, n, m),
    };
    if n < p || m < p {
        return Err(Error::input(format!(
            "the matrix has {n} documents and {m} terms: too few for {p} processes (each \
             needs at least one of each)"
        )));
    }
    // Rank 0 sends and gathers W (n × k) and Hᵀ (m × k) with one MPI call each, whose
    // displacements are 32-bit counts of values.
    if n.max(m).saturating_mul(k) > MAX_COUNT {
        return Err(Error::input(format!(
            "-k {k}: W has {n} × {k} values, more than the 2³¹ − 1 that one MPI message of this \
             version can carry (rank 0 sends and gathers the factors whole); use a smaller k"
        )));
    }
    Ok(grid)
}

/// Sends every entry of this part to the process that holds it and builds this process's
/// block X_ij (CSR, local indices; duplicates summed in file order, zeros dropped).
fn blocks(
    world: &SimpleCommunicator,
    path: &Path,
    layout: &Layout,
    part: CoordinatePart,
) -> Result<Matrix> {
    let p = world.size() as usize;
    let rank = world.rank() as usize;
    let mut dest = Vec::with_capacity(part.entries.len());
    let mut counts = vec![0usize; p];
    for &(i, j, _) in &part.entries {
        let (r, lr, lc) = layout.owner(i as usize, j as usize);
        counts[r] += 1;
        dest.push((r, ((lr as u64) << 32) | lc as u64));
    }
    let mut at = vec![0usize; p];
    let mut acc = 0;
    for r in 0..p {
        at[r] = acc;
        acc += counts[r];
    }
    let mut keys = vec![0u64; acc];
    let mut vals = vec![0f64; acc];
    for (&(r, key), &(_, _, v)) in dest.iter().zip(&part.entries) {
        keys[at[r]] = key;
        vals[at[r]] = v;
        at[r] += 1;
    }
    drop(dest);
    drop(part);
    let send_counts: Vec<Count> = counts.iter().map(|&c| c as Count).collect();
    let mut recv_counts: Vec<Count> = vec![0; p];
    world.all_to_all_into(&send_counts[..], &mut recv_counts[..]);
    let too_many =
        acc > MAX_COUNT || recv_counts.iter().map(|&c| c as i64).sum::<i64>() > MAX_COUNT as i64;
    agree(
        world,
        if too_many {
            Err(Error::input(format!(
                "{}: a process would exchange more than 2³¹ entries; use more processes",
                path.display()
            )))
        } else {
            Ok(())
        },
    )?;
    let displs = |c: &[Count]| -> Vec<Count> {
        c.iter()
            .scan(0, |s, &x| {
                let d = *s;
                *s += x;
                Some(d)
            })
            .collect()
    };
    let (sd, rd) = (displs(&send_counts), displs(&recv_counts));
    let total: usize = recv_counts.iter().map(|&c| c as usize).sum();
    let mut rkeys = vec![0u64; total];
    let mut rvals = vec![0f64; total];
    {
        let s = Partition::new(&keys[..], &send_counts[..], &sd[..]);
        let mut r = PartitionMut::new(&mut rkeys[..], &recv_counts[..], &rd[..]);
        world.all_to_all_varcount_into(&s, &mut r);
    }
    {
        let s = Partition::new(&vals[..], &send_counts[..], &sd[..]);
        let mut r = PartitionMut::new(&mut rvals[..], &recv_counts[..], &rd[..]);
        world.all_to_all_varcount_into(&s, &mut r);
    }
    drop((keys, vals));
    let (i, j) = layout.grid.coords(rank);
    let (rows, cols) = (layout.block_rows(i).len(), layout.block_cols(j).len());
    // Sources in rank order, each in file order: the entries arrive in file order.
    let built = CsrBuilder::new(path, rows, cols, total).and_then(|mut b| {
        for (&key, &v) in rkeys.iter().zip(&rvals) {
            b.push((key >> 32) as u32, (key & 0xFFFF_FFFF) as u32, v);
        }
        b.finish()
    });
    agree(world, built)
}

/// Rank 0's factor (rows × k in original order: W when `w_side`, else Hᵀ) sent to the
/// processes, each receiving its own rows in permuted order.
fn scatter_rows(
    world: &SimpleCommunicator,
    layout: &Layout,
    full: Option<&[f64]>,
    k: usize,
    w_side: bool,
) -> Vec<f64> {
    let p = world.size() as usize;
    let rank = world.rank() as usize;
    let own = |r: usize| {
        if w_side {
            layout.own_rows(r)
        } else {
            layout.own_cols(r)
        }
    };
    let mut mine = vec![0.0; own(rank).len() * k];
    let root = world.process_at_rank(0);
    match full {
        Some(full) => {
            let (len, perm) = if w_side {
                (layout.n, &layout.rows)
            } else {
                (layout.m, &layout.cols)
            };
            let mut permuted = vec![0.0; len * k];
            for g in 0..len {
                let pos = perm.apply(g);
                permuted[pos * k..(pos + 1) * k].copy_from_slice(&full[g * k..(g + 1) * k]);
            }
            let counts: Vec<Count> = (0..p).map(|r| (own(r).len() * k) as Count).collect();
            let displs: Vec<Count> = (0..p).map(|r| (own(r).start * k) as Count).collect();
            let s = Partition::new(&permuted[..], counts, &displs[..]);
            root.scatter_varcount_into_root(&s, &mut mine[..]);
        }
        None => root.scatter_varcount_into(&mut mine[..]),
    }
    mine
}

/// The own rows of every process gathered on rank 0, in the original order (`None` elsewhere).
fn gather_rows(
    world: &SimpleCommunicator,
    layout: &Layout,
    mine: &[f64],
    k: usize,
    w_side: bool,
) -> Option<Vec<f64>> {
    let p = world.size() as usize;
    let root = world.process_at_rank(0);
    let own = |r: usize| {
        if w_side {
            layout.own_rows(r)
        } else {
            layout.own_cols(r)
        }
    };
    if world.rank() != 0 {
        root.gather_varcount_into(mine);
        return None;
    }
    let (len, perm) = if w_side {
        (layout.n, &layout.rows)
    } else {
        (layout.m, &layout.cols)
    };
    let mut permuted = vec![0.0; len * k];
    {
        let counts: Vec<Count> = (0..p).map(|r| (own(r).len() * k) as Count).collect();
        let displs: Vec<Count> = (0..p).map(|r| (own(r).start * k) as Count).collect();
        let mut rp = PartitionMut::new(&mut permuted[..], counts, &displs[..]);
        root.gather_varcount_into_root(mine, &mut rp);
    }
    let mut out = vec![0.0; len * k];
    for g in 0..len {
        let pos = perm.apply(g);
        out[g * k..(g + 1) * k].copy_from_slice(&permuted[pos * k..(pos + 1) * k]);
    }
    Some(out)
}
