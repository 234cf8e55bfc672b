//! The integration tests of the `iam-doctor` package, in one test binary: the AWS SDK is linked
//! and `support` compiled once for all of them, not once per file. Each module was a test file of
//! its own; a test is named `<module>::<test>` (`cargo test --test it live_scps::`).
//!
//! All tests run in one process on parallel threads, so none may change process-wide state
//! (environment, current directory): each run of the binary gets its settings on its own
//! `Command`, each local AWS server its own port, each test its own temporary folders.

mod support;

mod cli_cases;
mod cli_network;
mod cli_offline;
mod cli_troubleshoot;
mod cli_unknown_context;
mod fuzz_safety;
mod html_report_browser;
mod jets_fidelity;
mod live_check;
mod live_cloudtrail;
mod live_decoded_messages;
mod live_explain;
mod live_explain_sources;
mod live_org_tree;
mod live_resource_policies;
mod live_scps;
mod live_simulate_custom;
mod live_snapshot;
mod moto_harness;
mod output_safety;
mod report_schema;
mod self_policy;
