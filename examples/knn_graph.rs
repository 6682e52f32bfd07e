//! Builds the cosine P-nearest-neighbour graph of `--solver gnmf` on a Matrix Market matrix and
//! prints the time of the reading and of the graph, and what the graph holds. The benchmark of
//! the README (the Debian matrix, P = 5), with the peak memory from GNU time:
//!
//! ```sh
//! cargo build --release --example knn_graph
//! /usr/bin/time -v target/release/examples/knn_graph data/debian-matrix/matrix.mtx 5
//! ```
//!
//! A third argument `--read-only` stops after reading the matrix (the baseline of the memory
//! figure); `--lists FILE` also writes each document's neighbour list (`i<TAB>j1,j2,…`, most
//! similar first) to FILE, for `benches/peer_knn.py --check`.

use std::path::Path;
use std::time::Instant;

use nmf_topics::kernels::CsrRef;
use nmf_topics::mtx;
use nmf_topics::nmf::graph::{knn_graph, knn_lists, GraphWeight};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: knn_graph MATRIX.mtx P [--read-only]");
        std::process::exit(2);
    }
    let t0 = Instant::now();
    let x = mtx::read_sparse(Path::new(&args[0]))?;
    let read = t0.elapsed().as_secs_f64();
    println!(
        "matrix: {} × {}, {} nonzeros, read in {read:.2} s",
        x.rows(),
        x.cols(),
        x.nnz()
    );
    if args.get(2).map(String::as_str) == Some("--read-only") {
        return Ok(());
    }
    let p: usize = args[1].parse()?;
    let t1 = Instant::now();
    let g = knn_graph(&x, p, GraphWeight::Cosine)?;
    let secs = t1.elapsed().as_secs_f64();
    let s = g.summary();
    println!(
        "knn graph P = {p}: {secs:.3} s on {} threads; {} links, {:.2} per document, mean \
         weighted degree {:.3}, {} documents without links",
        rayon::current_num_threads(),
        s.edges,
        2.0 * s.edges as f64 / x.rows() as f64,
        s.mean_degree,
        s.isolated
    );
    if args.get(2).map(String::as_str) == Some("--lists") {
        let path = args.get(3).ok_or("--lists needs a file")?;
        let x = x.to_csr();
        let indptr = x.indptr();
        let indptr = indptr.to_proper();
        let lists = knn_lists(
            CsrRef::new(x.rows(), x.cols(), &indptr, x.indices(), x.data()),
            p,
        );
        let mut out = String::new();
        for (i, l) in lists.iter().enumerate() {
            let js: Vec<String> = l.iter().map(|(j, _)| j.to_string()).collect();
            out.push_str(&format!("{i}\t{}\n", js.join(",")));
        }
        std::fs::write(path, out)?;
    }
    Ok(())
}
