//! Tests of runsvdir.
