//! The collectives of the distributed fit, in a fixed order (so a given P and grid give the
//! same bits run to run), and [`GridComm`], the driver's `Comm` (`nmf/driver.rs`) on the MPI-FAUN grid.
//!
//! MPI's own reductions may add the processes' contributions in an order that depends on the
//! algorithm the library picks, so none is used for floating-point sums. Instead:
//!
//! - **reduce-scatter** ([`reduce_scatter`]): every process sends piece q of its partial sum
//!   to process q (one `MPI_Alltoallv`, the volume of a reduce-scatter), and each process adds
//!   the pieces it receives in rank order, p₀ + p₁ + … + p_{P−1};
//! - **all-reduce** ([`all_sum`]): a reduce-scatter of the vector cut into P pieces, then an
//!   all-gather of the summed pieces (Rabenseifner's scheme: 2·len words per process), so every
//!   process holds the same bits, again summed in rank order;
//! - **all-gather** of factor blocks: `MPI_Allgatherv` (a copy, no arithmetic).
//!
//! Counts are MPI's 32-bit integers: a message is at most 2³¹ − 1 values; the fit checks its
//! blocks against that before it starts.

use std::cell::RefCell;

use mpi::datatype::{Partition, PartitionMut};
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::Count;

use super::layout::Layout;
use crate::kernels::{csr_mul_dense, csr_transpose_mul_dense, eval_at_nonzeros_with, CsrRef};
use crate::nmf::driver::{Comm, Own, WholeH};
use crate::nmf::mu::{kl_h_numerator, kl_w_numerator};

/// Counts and displacements (in values) of pieces of `len_of(q)` values.
fn counts_displs(sizes: &[usize]) -> (Vec<Count>, Vec<Count>) {
    let counts: Vec<Count> = sizes.iter().map(|&s| s as Count).collect();
    let mut displs = Vec::with_capacity(sizes.len());
    let mut at: Count = 0;
    for &c in &counts {
        displs.push(at);
        at += c;
    }
    (counts, displs)
}

/// The reduce-scatter in rank order: `partial` is cut into pieces of `sizes[q]` values (in
/// order); process q receives Σ_r piece_q(r), summed r = 0, 1, … in order, into `out`
/// (`sizes[me]` values).
pub fn reduce_scatter(
    comm: &SimpleCommunicator,
    partial: &[f64],
    sizes: &[usize],
    out: &mut [f64],
) {
    let p = comm.size() as usize;
    let me = comm.rank() as usize;
    debug_assert_eq!(sizes.len(), p);
    debug_assert_eq!(out.len(), sizes[me]);
    if p == 1 {
        out.copy_from_slice(partial);
        return;
    }
    let (scounts, sdispls) = counts_displs(sizes);
    let mine = sizes[me];
    let (rcounts, rdispls) = counts_displs(&vec![mine; p]);
    let mut recv = vec![0.0; mine * p];
    {
        let send = Partition::new(partial, scounts, &sdispls[..]);
        let mut rp = PartitionMut::new(&mut recv[..], rcounts, &rdispls[..]);
        comm.all_to_all_varcount_into(&send, &mut rp);
    }
    out.copy_from_slice(&recv[..mine]);
    for r in 1..p {
        for (o, v) in out.iter_mut().zip(&recv[r * mine..(r + 1) * mine]) {
            *o += v;
        }
    }
}

/// v ← Σ over the processes of `comm`, every process getting the same bits (see the module
/// docs).
pub fn all_sum(comm: &SimpleCommunicator, v: &mut [f64]) {
    let p = comm.size() as usize;
    if p == 1 || v.is_empty() {
        return;
    }
    let me = comm.rank() as usize;
    let sizes: Vec<usize> = (0..p)
        .map(|q| super::layout::cut(v.len(), p, q + 1) - super::layout::cut(v.len(), p, q))
        .collect();
    let mut mine = vec![0.0; sizes[me]];
    reduce_scatter(comm, v, &sizes, &mut mine);
    all_gather(comm, &mine, &sizes, v);
}

/// out ← the concatenation of every process's `mine` (`sizes[q]` values from process q).
pub fn all_gather(comm: &SimpleCommunicator, mine: &[f64], sizes: &[usize], out: &mut [f64]) {
    if comm.size() == 1 {
        out.copy_from_slice(mine);
        return;
    }
    let (counts, displs) = counts_displs(sizes);
    let mut rp = PartitionMut::new(out, counts, &displs[..]);
    comm.all_gather_varcount_into(mine, &mut rp);
}

/// Gathered copies of the other processes' factor rows, kept while their stamp holds.
#[derive(Default)]
struct Cache {
    w_stamp: u64,
    /// W_i: the rows of row block i (all the own rows of this grid row), c values each.
    w: Vec<f64>,
    h_stamp: u64,
    /// H_j: the Hᵀ rows of column block j.
    h: Vec<f64>,
    /// The local partial product before its reduce-scatter.
    partial: Vec<f64>,
}

/// The driver's `Comm` on a pr × pc grid (see [`crate::dist`]): process (i, j) holds X_ij
/// (`x` in the calls), its own rows of W (a piece of row block i) and of Hᵀ (a piece of
/// column block j).
pub struct GridComm<'c> {
    world: &'c SimpleCommunicator,
    /// The processes of this grid row, ordered by grid column.
    row: SimpleCommunicator,
    /// The processes of this grid column, ordered by grid row.
    col: SimpleCommunicator,
    /// Own W rows of each process of this grid row; own Hᵀ rows of each of this grid column.
    row_own: Vec<usize>,
    col_own: Vec<usize>,
    cache: RefCell<Cache>,
}

impl<'c> GridComm<'c> {
    /// The comm of this process (rank of `world`) on the grid of `layout`.
    pub fn new(world: &'c SimpleCommunicator, layout: &Layout) -> GridComm<'c> {
        let g = layout.grid;
        let rank = world.rank() as usize;
        let (i, j) = g.coords(rank);
        let row = world
            .split_by_color_with_key(
                mpi::topology::Color::with_value(i as i32),
                j as mpi::topology::Key,
            )
            .expect("every process has a color");
        let col = world
            .split_by_color_with_key(
                mpi::topology::Color::with_value(j as i32),
                i as mpi::topology::Key,
            )
            .expect("every process has a color");
        let row_own = (0..g.pc)
            .map(|jj| layout.own_rows(g.rank(i, jj)).len())
            .collect();
        let col_own = (0..g.pr)
            .map(|ii| layout.own_cols(g.rank(ii, j)).len())
            .collect();
        GridComm {
            world,
            row,
            col,
            row_own,
            col_own,
            cache: RefCell::new(Cache::default()),
        }
    }

    fn sizes(own: &[usize], c: usize) -> Vec<usize> {
        own.iter().map(|&r| r * c).collect()
    }

    /// W_i (row block i, `c` values per row) from the own rows of the grid row, into the
    /// cache unless its stamp is current.
    fn gather_w(&self, cache: &mut Cache, w: Own<'_>, c: usize) {
        if self.row.size() == 1 {
            return;
        }
        let sizes = Self::sizes(&self.row_own, c);
        let total: usize = sizes.iter().sum();
        if cache.w_stamp == w.stamp && cache.w.len() == total {
            return;
        }
        cache.w.resize(total, 0.0);
        all_gather(&self.row, w.rows, &sizes, &mut cache.w);
        cache.w_stamp = w.stamp;
    }

    /// H_j (column block j) from the own Hᵀ rows of the grid column.
    fn gather_h(&self, cache: &mut Cache, h: Own<'_>, c: usize) {
        if self.col.size() == 1 {
            return;
        }
        let sizes = Self::sizes(&self.col_own, c);
        let total: usize = sizes.iter().sum();
        if cache.h_stamp == h.stamp && cache.h.len() == total {
            return;
        }
        cache.h.resize(total, 0.0);
        all_gather(&self.col, h.rows, &sizes, &mut cache.h);
        cache.h_stamp = h.stamp;
    }

    /// W_i after [`GridComm::gather_w`]: the own rows themselves when the grid row has one
    /// process (no copy), else the gathered copy.
    fn w_view<'a>(&self, cache: &'a Cache, w: Own<'a>) -> &'a [f64] {
        if self.row.size() == 1 {
            w.rows
        } else {
            &cache.w
        }
    }

    /// H_j after [`GridComm::gather_h`] (see [`GridComm::w_view`]).
    fn h_view<'a>(&self, cache: &'a Cache, h: Own<'a>) -> &'a [f64] {
        if self.col.size() == 1 {
            h.rows
        } else {
            &cache.h
        }
    }
}

impl Comm for GridComm<'_> {
    fn whole(&self) -> bool {
        false
    }

    fn sum(&self, v: &mut [f64]) {
        all_sum(self.world, v);
    }

    fn whole_rows<'s>(&'s self, ht: Own<'s>, k: usize) -> Option<WholeH<'s>> {
        // A grid of one column: X_i0 holds whole rows, the own rows of W are row block i.
        if self.row.size() != 1 {
            return None;
        }
        if self.col.size() == 1 {
            return Some(WholeH::Own(ht.rows));
        }
        self.gather_h(&mut self.cache.borrow_mut(), ht, k);
        Some(WholeH::Gathered(std::cell::Ref::map(
            self.cache.borrow(),
            |c| &c.h[..],
        )))
    }

    fn x_times(&self, x: CsrRef<'_>, b: Own<'_>, c: usize, out: &mut [f64]) {
        let mut cache = self.cache.borrow_mut();
        let cache = &mut *cache;
        self.gather_h(cache, b, c);
        let mut partial = std::mem::take(&mut cache.partial);
        let hb = self.h_view(cache, b);
        if self.row.size() == 1 {
            // A grid row of one process: its product is the numerator itself.
            csr_mul_dense(x, hb, c, out);
        } else {
            partial.resize(x.nrows * c, 0.0);
            csr_mul_dense(x, hb, c, &mut partial);
            let sizes = Self::sizes(&self.row_own, c);
            reduce_scatter(&self.row, &partial, &sizes, out);
        }
        cache.partial = partial;
    }

    fn xt_times(&self, x: CsrRef<'_>, a: Own<'_>, c: usize, out: &mut [f64], parts: &mut Vec<f64>) {
        let mut cache = self.cache.borrow_mut();
        let cache = &mut *cache;
        self.gather_w(cache, a, c);
        let mut partial = std::mem::take(&mut cache.partial);
        let wb = self.w_view(cache, a);
        if self.col.size() == 1 {
            csr_transpose_mul_dense(x, wb, c, out, parts);
        } else {
            partial.resize(x.ncols * c, 0.0);
            csr_transpose_mul_dense(x, wb, c, &mut partial, parts);
            let sizes = Self::sizes(&self.col_own, c);
            reduce_scatter(&self.col, &partial, &sizes, out);
        }
        cache.partial = partial;
    }

    fn kl_w_numerator(
        &self,
        x: CsrRef<'_>,
        w: Own<'_>,
        ht: Own<'_>,
        k: usize,
        out: &mut [f64],
    ) -> (f64, f64) {
        let mut cache = self.cache.borrow_mut();
        let cache = &mut *cache;
        self.gather_w(cache, w, k);
        self.gather_h(cache, ht, k);
        let mut partial = std::mem::take(&mut cache.partial);
        let (wb, hb) = (self.w_view(cache, w), self.h_view(cache, ht));
        let sums = if self.row.size() == 1 {
            kl_w_numerator(x, wb, hb, k, true, out)
        } else {
            partial.resize(x.nrows * k, 0.0);
            let sums = kl_w_numerator(x, wb, hb, k, true, &mut partial);
            reduce_scatter(&self.row, &partial, &Self::sizes(&self.row_own, k), out);
            sums
        };
        cache.partial = partial;
        sums
    }

    fn kl_h_numerator(
        &self,
        x: CsrRef<'_>,
        w: Own<'_>,
        ht: Own<'_>,
        k: usize,
        out: &mut [f64],
        parts: &mut Vec<f64>,
    ) {
        let mut cache = self.cache.borrow_mut();
        let cache = &mut *cache;
        self.gather_w(cache, w, k);
        self.gather_h(cache, ht, k);
        let mut partial = std::mem::take(&mut cache.partial);
        let (wb, hb) = (self.w_view(cache, w), self.h_view(cache, ht));
        if self.col.size() == 1 {
            kl_h_numerator(x, wb, hb, k, out, parts);
        } else {
            partial.resize(x.ncols * k, 0.0);
            kl_h_numerator(x, wb, hb, k, &mut partial, parts);
            reduce_scatter(&self.col, &partial, &Self::sizes(&self.col_own, k), out);
        }
        cache.partial = partial;
    }

    fn eval(&self, x: CsrRef<'_>, w: Own<'_>, ht: Own<'_>, k: usize, with_log: bool) -> (f64, f64) {
        let mut cache = self.cache.borrow_mut();
        let cache = &mut *cache;
        self.gather_w(cache, w, k);
        self.gather_h(cache, ht, k);
        let (wb, hb) = (self.w_view(cache, w), self.h_view(cache, ht));
        eval_at_nonzeros_with(x, wb, hb, k, with_log)
    }
}
