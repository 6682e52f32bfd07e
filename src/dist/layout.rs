//! The MPI-FAUN layout without MPI: the process grid, the blocks of X and the factors' own
//! rows, the seeded permutations of rows and columns, and the grid choice rule. Pure
//! arithmetic, so it is tested (and documented) in every build.

use std::ops::Range;

/// A pr × pc grid of processes: rank r sits at (r / pc, r mod pc) (row-major).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Grid rows: X's rows (documents) are cut into `pr` blocks.
    pub pr: usize,
    /// Grid columns: X's columns (terms) are cut into `pc` blocks.
    pub pc: usize,
}

impl Grid {
    /// Parses `PRxPC` (also `PR×PC` or `PR*PC`), both at least 1.
    pub fn parse(s: &str) -> Result<Grid, String> {
        let t = s.trim();
        let parts: Vec<&str> = t.split(['x', 'X', '×', '*']).collect();
        let bad = || format!("--grid {s}: expected PRxPC, two positive integers such as 2x3");
        if parts.len() != 2 {
            return Err(bad());
        }
        let pr: usize = parts[0].trim().parse().map_err(|_| bad())?;
        let pc: usize = parts[1].trim().parse().map_err(|_| bad())?;
        if pr == 0 || pc == 0 {
            return Err(bad());
        }
        Ok(Grid { pr, pc })
    }

    /// Number of processes.
    pub fn size(&self) -> usize {
        self.pr * self.pc
    }

    /// (grid row, grid column) of `rank`.
    pub fn coords(&self, rank: usize) -> (usize, usize) {
        (rank / self.pc, rank % self.pc)
    }

    /// The rank at (i, j).
    pub fn rank(&self, i: usize, j: usize) -> usize {
        i * self.pc + j
    }

    /// Words (f64 values) one process sends or receives per iteration in the all-gathers and
    /// reduce-scatters of the two updates, for n documents, m terms and rank k:
    ///
    /// ```text
    /// W update: all-gather H_j over the pr processes of a grid column  (pr−1)/pr · (m/pc)·k
    ///           reduce-scatter (X·Hᵀ)_i over the pc of a grid row       (pc−1)/pc · (n/pr)·k
    /// H update: all-gather W_i over the pc of a grid row               (pc−1)/pc · (n/pr)·k
    ///           reduce-scatter (Xᵀ·W)_j over the pr of a grid column    (pr−1)/pr · (m/pc)·k
    /// total = 2k·(n·(pc−1) + m·(pr−1)) / P
    /// ```
    pub fn words_per_iteration(&self, n: usize, m: usize, k: usize) -> f64 {
        let p = self.size() as f64;
        2.0 * k as f64 * (n as f64 * (self.pc - 1) as f64 + m as f64 * (self.pr - 1) as f64) / p
    }

    /// The grid rule: among the factorizations P = pr·pc, the one with the least
    /// communication per iteration, n·(pc−1) + m·(pr−1) ([`Grid::words_per_iteration`]); ties
    /// go to the larger pr. The optimum has pr/pc ≈ n/m: a corpus with many more documents
    /// than terms gets pr = P, pc = 1 (only H moves), a square one a square grid.
    pub fn choose(p: usize, n: usize, m: usize) -> Grid {
        let mut best = Grid {
            pr: p.max(1),
            pc: 1,
        };
        let cost = |g: &Grid| n as f64 * (g.pc - 1) as f64 + m as f64 * (g.pr - 1) as f64;
        for pc in 1..=p.max(1) {
            if p.is_multiple_of(pc) {
                let g = Grid { pr: p / pc, pc };
                if cost(&g) < cost(&best) {
                    best = g;
                }
            }
        }
        best
    }
}

/// The start of piece `i` of `q` nearly equal pieces of `0..len`: ⌊i·len/q⌋.
pub fn cut(len: usize, q: usize, i: usize) -> usize {
    ((i as u128 * len as u128) / q.max(1) as u128) as usize
}

/// A seeded pseudo-random permutation π of `0..n`, computed on the fly (no table): a 4-round
/// Feistel network on the smallest even number of bits covering n, with cycle walking (values
/// ≥ n are sent through the network again until they land below n). A bijection of `0..n`
/// for every n ≥ 1; [`Perm::inverse`] undoes it.
#[derive(Debug, Clone)]
pub struct Perm {
    n: u64,
    half: u32,
    keys: [u64; 4],
}

/// SplitMix64's finalizer: a fast, well-mixed 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Perm {
    /// The permutation of `0..n` for `seed` (`stream` tells apart the row and column
    /// permutations of one seed).
    pub fn new(n: usize, seed: u64, stream: u64) -> Perm {
        let bits = (64 - (n.max(2) as u64 - 1).leading_zeros()).max(2);
        let half = bits.div_ceil(2);
        let mut keys = [0u64; 4];
        let mut s = mix(seed ^ mix(stream.wrapping_add(0x5851_F42D_4C95_7F2D)));
        for key in keys.iter_mut() {
            s = mix(s);
            *key = s;
        }
        Perm {
            n: n as u64,
            half,
            keys,
        }
    }

    fn mask(&self) -> u64 {
        (1u64 << self.half) - 1
    }

    fn round(&self, r: u64, key: u64) -> u64 {
        mix(r ^ key) & self.mask()
    }

    fn forward_once(&self, x: u64) -> u64 {
        let (mut l, mut r) = (x >> self.half, x & self.mask());
        for &key in &self.keys {
            (l, r) = (r, l ^ self.round(r, key));
        }
        (l << self.half) | r
    }

    fn backward_once(&self, y: u64) -> u64 {
        let (mut l, mut r) = (y >> self.half, y & self.mask());
        for &key in self.keys.iter().rev() {
            (l, r) = (r ^ self.round(l, key), l);
        }
        (l << self.half) | r
    }

    /// π(x) for x < n.
    pub fn apply(&self, x: usize) -> usize {
        let mut y = self.forward_once(x as u64);
        while y >= self.n {
            y = self.forward_once(y);
        }
        y as usize
    }

    /// π⁻¹(y) for y < n.
    pub fn inverse(&self, y: usize) -> usize {
        let mut x = self.backward_once(y as u64);
        while x >= self.n {
            x = self.backward_once(x);
        }
        x as usize
    }
}

/// Where everything lives on a grid: X's rows (documents) and columns (terms) are permuted
/// (π_r, π_c), then cut into pr row blocks and pc column blocks; process (i, j) holds block
/// X_ij, the j-th of pc pieces of row block i of W ("own" rows of W) and the i-th of pr pieces
/// of column block j of Hᵀ. Positions are in permuted order.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Documents.
    pub n: usize,
    /// Terms.
    pub m: usize,
    /// The grid.
    pub grid: Grid,
    /// π_r.
    pub rows: Perm,
    /// π_c.
    pub cols: Perm,
    row_cuts: Vec<usize>,
    col_cuts: Vec<usize>,
}

impl Layout {
    /// The layout of an n × m matrix on `grid`, permutations seeded by `seed`.
    pub fn new(n: usize, m: usize, grid: Grid, seed: u64) -> Layout {
        Layout {
            n,
            m,
            grid,
            rows: Perm::new(n, seed, 0x726f_7773),
            cols: Perm::new(m, seed, 0x636f_6c73),
            row_cuts: (0..=grid.pr).map(|i| cut(n, grid.pr, i)).collect(),
            col_cuts: (0..=grid.pc).map(|j| cut(m, grid.pc, j)).collect(),
        }
    }

    /// Row block i (positions).
    pub fn block_rows(&self, i: usize) -> Range<usize> {
        self.row_cuts[i]..self.row_cuts[i + 1]
    }

    /// Column block j (positions).
    pub fn block_cols(&self, j: usize) -> Range<usize> {
        self.col_cuts[j]..self.col_cuts[j + 1]
    }

    /// W's rows (positions) owned by `rank`.
    pub fn own_rows(&self, rank: usize) -> Range<usize> {
        let (i, j) = self.grid.coords(rank);
        let b = self.block_rows(i);
        let len = b.len();
        b.start + cut(len, self.grid.pc, j)..b.start + cut(len, self.grid.pc, j + 1)
    }

    /// Hᵀ's rows (term positions) owned by `rank`.
    pub fn own_cols(&self, rank: usize) -> Range<usize> {
        let (i, j) = self.grid.coords(rank);
        let b = self.block_cols(j);
        let len = b.len();
        b.start + cut(len, self.grid.pr, i)..b.start + cut(len, self.grid.pr, i + 1)
    }

    /// The row block holding position p.
    pub fn row_block_of(&self, p: usize) -> usize {
        self.row_cuts.partition_point(|&c| c <= p) - 1
    }

    /// The column block holding position q.
    pub fn col_block_of(&self, q: usize) -> usize {
        self.col_cuts.partition_point(|&c| c <= q) - 1
    }

    /// The process holding entry (row, col) of X (original indices), and the entry's place
    /// in its block.
    pub fn owner(&self, row: usize, col: usize) -> (usize, usize, usize) {
        let (p, q) = (self.rows.apply(row), self.cols.apply(col));
        let (i, j) = (self.row_block_of(p), self.col_block_of(q));
        (
            self.grid.rank(i, j),
            p - self.row_cuts[i],
            q - self.col_cuts[j],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_are_bijections_and_invert() {
        for n in [1, 2, 3, 5, 17, 64, 100, 1000, 4097] {
            let p = Perm::new(n, 7, 1);
            let mut seen = vec![false; n];
            for x in 0..n {
                let y = p.apply(x);
                assert!(y < n && !seen[y], "n = {n}");
                seen[y] = true;
                assert_eq!(p.inverse(y), x);
            }
        }
        // seeded: another seed, another order
        let (a, b) = (Perm::new(1000, 1, 0), Perm::new(1000, 2, 0));
        assert!((0..1000).any(|x| a.apply(x) != b.apply(x)));
    }

    #[test]
    fn blocks_and_own_rows_cover_everything_once() {
        let l = Layout::new(103, 41, Grid { pr: 3, pc: 2 }, 5);
        let mut rows = vec![0; 103];
        let mut cols = vec![0; 41];
        for r in 0..6 {
            rows[l.own_rows(r)].iter_mut().for_each(|c| *c += 1);
            cols[l.own_cols(r)].iter_mut().for_each(|c| *c += 1);
        }
        assert!(rows.iter().chain(&cols).all(|&c| c == 1));
        for p in 0..103 {
            assert!(l.block_rows(l.row_block_of(p)).contains(&p));
        }
        let (rank, lr, lc) = l.owner(10, 20);
        let (i, j) = l.grid.coords(rank);
        assert_eq!(l.block_rows(i).start + lr, l.rows.apply(10));
        assert_eq!(l.block_cols(j).start + lc, l.cols.apply(20));
    }

    #[test]
    fn the_grid_rule_moves_the_smaller_factor() {
        // Many more documents than terms: a 1-D row split.
        assert_eq!(Grid::choose(4, 63_697, 18_635), Grid { pr: 4, pc: 1 });
        // Square: a square grid.
        assert_eq!(Grid::choose(4, 1000, 1000), Grid { pr: 2, pc: 2 });
        assert_eq!(Grid::choose(1, 5, 5), Grid { pr: 1, pc: 1 });
        let g = Grid { pr: 2, pc: 2 };
        assert_eq!(
            g.words_per_iteration(100, 60, 10),
            2.0 * 10.0 * (100.0 + 60.0) / 4.0
        );
        assert_eq!(Grid::parse("2x3"), Ok(Grid { pr: 2, pc: 3 }));
        assert_eq!(Grid::parse("4×1"), Ok(Grid { pr: 4, pc: 1 }));
        assert!(Grid::parse("0x3").is_err() && Grid::parse("3").is_err());
    }
}
