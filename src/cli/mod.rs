//! The CLI that automation runs: clap definitions and one handler per verb.
pub mod lab_cmd;
