//! Turning a fitted model into readable topics.
