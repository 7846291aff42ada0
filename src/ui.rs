//! Terminal output: logging (tracing), progress bars and summary lines.
//!
//! Progress bars appear only when stderr is a terminal and `-q` is not given;
//! summaries are printed in every case (on stdout, so scripts can capture them).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use tracing_subscriber::EnvFilter;

static QUIET: AtomicBool = AtomicBool::new(false);

/// `-v` raises the level (info, debug, trace), `-q` shows errors only.
/// `RUST_LOG` overrides both.
pub fn init_logging(verbose: u8, quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("tagscape={level},warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}

/// A panic is a bug in tagscape, not the user's fault: say so in one line
/// instead of printing a backtrace (set RUST_BACKTRACE=1 to see one).
pub fn install_panic_hook() {
    if std::env::var_os("RUST_BACKTRACE").is_some() {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()));
        eprintln!(
            "error: internal error{}: {}; please report it with the command you ran (RUST_BACKTRACE=1 shows details)",
            location.unwrap_or_default(),
            panic_message(info)
        );
    }));
}

fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    if let Some(s) = info.payload().downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = info.payload().downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

/// A progress bar over `len` items, hidden unless stderr is a terminal.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    if QUIET.load(Ordering::Relaxed) || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}",
        )
        .expect("static progress template")
        .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}

/// A progress bar over `len` bytes (a file being read), hidden unless
/// stderr is a terminal.
pub fn bytes_progress(len: u64, what: &str) -> ProgressBar {
    if QUIET.load(Ordering::Relaxed) || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
        )
        .expect("static progress template")
        .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}

/// A spinner with the time elapsed and a message, for a step of unknown
/// length (community detection rounds, reading a table); hidden unless
/// stderr is a terminal.
pub fn spinner(what: &str) -> ProgressBar {
    if QUIET.load(Ordering::Relaxed) || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} {spinner} {elapsed} {msg}")
            .expect("static progress template"),
    );
    bar.set_prefix(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// A spinner counting bytes, for work whose total is not known up front
/// (an export being written); hidden unless stderr is a terminal.
pub fn bytes_spinner(what: &str) -> ProgressBar {
    if QUIET.load(Ordering::Relaxed) || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} {spinner} {bytes} written, {bytes_per_sec} {msg}",
        )
        .expect("static progress template"),
    );
    bar.set_prefix(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// A number for a summary with `.1` decimals, `n/a` when it is not a
/// number (a modularity of a graph without edges), so no summary says NaN.
pub struct Figure(pub f64, pub usize);

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_finite() {
            write!(f, "{:.*}", self.1, self.0)
        } else {
            f.write_str("n/a")
        }
    }
}

/// The one summary line a command prints when it ends (on stdout), with
/// control characters from the inputs replaced (see `terminal`).
pub fn summary(line: impl std::fmt::Display) {
    println!("{}", crate::terminal::clean(&line.to_string()));
}

/// A line for the user on stderr (when stdout carries data, e.g. `export --out -`).
pub fn note(line: impl std::fmt::Display) {
    eprintln!("{}", crate::terminal::clean(&line.to_string()));
}

/// The error line: each part of the chain cleaned and cut to
/// `MAX_ERROR_PART` characters, so an error quoting a 1 MB input line
/// prints a line, not a megabyte.
pub fn error_line(err: &anyhow::Error) -> String {
    let parts: Vec<String> = err
        .chain()
        .map(|cause| crate::terminal::excerpt(&cause.to_string(), MAX_ERROR_PART))
        .collect();
    format!("error: {}", parts.join(": "))
}

/// How much of one error message is printed (about 200 characters of a
/// quoted input line plus the words around it).
const MAX_ERROR_PART: usize = 400;
