//! `submission build`: an MLPerf Inference tree from runs.
