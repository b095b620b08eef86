//! Tests of runit.
