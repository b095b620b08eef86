//! Tests of chpst.
