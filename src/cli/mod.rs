//! The CLI that automation runs: clap definitions and one handler per verb.
