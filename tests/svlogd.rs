//! Tests of svlogd.
