//! Benchmarks of analysis and vectorizing.
fn main() {}
