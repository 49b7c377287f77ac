//! The orchestration API: one async function per verb, shared by CLI, GUI and `auto`.
