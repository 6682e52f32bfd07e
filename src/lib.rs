//! # nmf-topics
//!
//! Turns folders of documents into topics. The pipeline, one module per stage:
//!
//! 1. [`corpus`] reads inputs (folders of text/Markdown/HTML, JSON Lines, CSV) into documents;
//! 2. [`text`] analyzes text into terms (segmentation, lowercase, filters, stemming, n-grams);
//! 3. [`vectorize`] builds the vocabulary and a TF-IDF weighted document-term matrix (CSR), and
//!    [`mtx`] reads and writes Matrix Market files;
//! 4. [`nmf`] factorizes X ≈ W·H with sparse-aware solvers built on [`kernels`];
//! 5. [`topics`] turns a fitted model into readable topics and judges them
//!    ([`topics::quality`]), and [`report`] writes them out;
//! 6. [`restarts`] fits several times from different starts and keeps the best, and [`sweep`]
//!    fits a range of k with restarts and measures each to recommend one.
//!
//! Orientation is scikit-learn's: rows of X are documents, columns are terms, W is
//! documents × topics and H is topics × terms.

pub mod atomic;
pub mod corpus;
pub mod dist;
pub mod error;
pub mod kernels;
pub mod matrix;
pub mod memory;
pub mod mtx;
pub mod nmf;
pub mod report;
pub mod restarts;
pub mod sweep;
pub mod text;
pub mod topics;
pub mod vectorize;

pub use error::{Error, Result};
