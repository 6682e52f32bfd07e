//! Benchmarks of the NMF kernels and iterations.
fn main() {}
