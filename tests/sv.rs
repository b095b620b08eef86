//! Tests of sv.
