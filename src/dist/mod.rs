//! The distributed backend: one fit over many processes with MPI, in the MPI-FAUN layout
//! (Kannan, Ballard & Park, *MPI-FAUN: an MPI-based framework for alternating-updating
//! nonnegative matrix factorization*, IEEE TKDE 2018; the PLANC code).
//!
//! `mpirun -n P nmf-topics fit --distributed --matrix X.mtx [--grid PRxPC] …` (a build with
//! the `mpi` feature). The same driver loop and the same solvers as a local fit run on every
//! process; only their `Comm` differs (see `nmf/driver.rs`, "the reduce step").
//!
//! # Layout ([`layout`])
//! P = pr × pc processes on a grid, rank r at (r / pc, r mod pc). X's rows and columns are
//! first permuted by seeded pseudo-random permutations π_r, π_c (a Feistel network: no table,
//! any process computes π(g) alone), because real matrices cut into contiguous blocks are
//! badly imbalanced (skewed term frequencies, sorted documents); then process (i, j) holds
//! the block X_ij of row block i and column block j (about n/pr × m/pc), the j-th of pc pieces
//! of W's row block i (about n/P rows) and the i-th of pr pieces of Hᵀ's column block j
//! (about m/P rows). The outputs undo the permutations.
//!
//! # One iteration (`comm::GridComm`, with the `mpi` feature)
//! ```text
//! W update:  HHᵀ = Σ_p H_p H_pᵀ                     (k×k partials, all-reduced)
//!            H_j  = all-gather of Hᵀ pieces over grid column j
//!            (X·Hᵀ)_i partial = X_ij · H_j          (local sparse × dense, n/pr × k)
//!            own rows of X·Hᵀ = reduce-scatter over grid row i
//!            W_own ← update(W_own, (X·Hᵀ)_own, HHᵀ)  (the solver's own rule)
//! H update:  the same with W_i gathered over grid row i, X_ijᵀ·W_i, a reduce-scatter over
//!            grid column j and WᵀW.
//! ```
//! On a grid of one column (pc = 1) a process holds whole rows of X and exactly the rows of W
//! they belong to: its W update is the local fit's fused pass over its rows with the gathered
//! H (`Comm::whole_rows`).
//!
//! For KL the numerators are R·Hᵀ and Rᵀ·W with R = X ⊘ WH at X's nonzeros: both gathered
//! blocks are needed, and kept while the factor they copy has not changed. The objective's
//! scalars travel in the same all-reduce as the new factor's Gram matrix and column sums.
//!
//! # Determinism
//! No MPI reduction touches a floating-point value: reduce-scatters are an all-to-all and a
//! sum of the received pieces in rank order, all-reduces a reduce-scatter and an all-gather
//! (`comm`). With the kernels' fixed blocks and parts inside each process, a given P and
//! grid give the same bits run to run, with any number of threads. Different P or grids sum
//! in different orders: their factors agree to rounding (the tests ask 1e-10 relative after
//! 20 iterations), not to the bit.
//!
//! # Reading, start, outputs (`fit`, with the `mpi` feature)
//! Every process reads its own 1/P of the Matrix Market file's bytes (whole lines: a line
//! belongs to the range its first byte is in) and sends each entry to the process whose
//! block holds it (one all-to-all). Rank 0 also reads the whole matrix as a local fit does,
//! for the start (every initialization is computed there exactly as locally, then each
//! process receives its own rows) and for the outputs, which rank 0 writes exactly as a
//! local fit. So rank 0 needs memory for X, W and H; the others only for their blocks.
//!
//! # Errors
//! Before every step that a failed process would not join, the processes agree
//! (`fit::agree`): one all-gather of an error code, then the first failing rank's message
//! to all. Every process then exits with that error; rank 0 prints it. A panic calls
//! `MPI_Abort`, which ends the whole job.

pub mod layout;

#[cfg(feature = "mpi")]
pub mod comm;
#[cfg(feature = "mpi")]
pub mod fit;

pub use layout::{Grid, Layout, Perm};
