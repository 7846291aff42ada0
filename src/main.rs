//! The `tagscape` binary: parse the command line, run it, turn errors into
//! one line on stderr and exit code 1 (3 and 4 when some or all items of a
//! fetch or tag failed, see `cli::Outcome`). The work lives in the library.

use std::process::ExitCode;

use clap::Parser;
use tagscape::cli::Cli;

fn main() -> ExitCode {
    ensure_runtime_dir();
    let cli = Cli::parse();
    tagscape::ui::init_logging(cli.verbose, cli.quiet);
    tagscape::ui::install_panic_hook();
    let stage = cli.command.name();
    let project = cli.command.project_dir().map(|p| p.to_path_buf());
    match tagscape::cli::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) => {
            let err = tagscape::store_errors::explain(err, stage, project.as_deref());
            // One line, the context chain joined: "what failed: why".
            eprintln!("{}", tagscape::ui::error_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// Mesa's Vulkan drivers (through libwayland) print "error: XDG_RUNTIME_DIR
/// is invalid or not set in the environment." when a session has none (ssh,
/// containers, CI), which reads like a failure of ours. Such a process gets
/// a private one, as a login session would: `$TMPDIR/tagscape-runtime-UID`,
/// used only when it is a real directory (not a link) owned by this user
/// with mode 0700.
fn ensure_runtime_dir() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        let valid = std::env::var_os("XDG_RUNTIME_DIR")
            .map(std::path::PathBuf::from)
            .is_some_and(|p| p.is_absolute() && p.is_dir());
        if valid {
            return;
        }
        let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
            return;
        };
        let dir = std::env::temp_dir().join(format!("tagscape-runtime-{uid}"));
        let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
        let ours = std::fs::symlink_metadata(&dir)
            .is_ok_and(|m| m.is_dir() && m.uid() == uid && m.permissions().mode() & 0o777 == 0o700);
        if ours {
            // SAFETY: the first thing `main` does, before any thread exists.
            unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
        }
    }
}
