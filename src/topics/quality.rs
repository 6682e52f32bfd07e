//! Judging topics: coherence, diversity, agreement with labels, stability.
