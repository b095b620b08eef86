//! The supervision core shared by runsv and sv: the `supervise/` directory's files and formats.

pub mod protocol;
pub mod readiness;
pub mod runs;
pub mod runsv;
pub mod status;
