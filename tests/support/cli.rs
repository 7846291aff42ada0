//! Runs the `tagscape` binary built for these tests, as a user would.
#![allow(dead_code)]

use std::process::{Command, Output};

/// `tagscape ARGS…`, whatever its exit status.
pub fn tagscape(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tagscape"))
        .args(args)
        .output()
        .unwrap()
}

/// `tagscape ARGS…`, which must succeed (else the test fails with its
/// stderr); its stdout.
pub fn tagscape_ok(args: &[&str]) -> String {
    let out = tagscape(args);
    assert!(
        out.status.success(),
        "tagscape {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
