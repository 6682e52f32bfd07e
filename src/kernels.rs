//! The hot sparse/dense kernels shared by the solvers.
