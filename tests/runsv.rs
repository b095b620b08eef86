//! Tests of runsv.
