//! The `shoji` binary: parse the command line, set up logging, dispatch, and report the error
//! chain once, in runc's shape, with exit status 1 (255 for a failed exec, as runc).
use clap::Parser;

fn main() {
    // Errors are reported as one line, never with a backtrace, so anyhow must not capture one;
    // it does whenever the caller's environment has RUST_BACKTRACE, and the first capture
    // sorts every unwind entry of the binary (a few hundred microseconds and ~40 page faults
    // per command). Panics still honour RUST_BACKTRACE.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    let cli = match shoji::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print and exit 0; a usage error exits 1, as runc's do
        // (clap's own code is 2).
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            std::process::exit(1);
        }
        Err(e) => e.exit(),
    };
    if let Err(err) = shoji::logging::init(&cli.global) {
        eprintln!("shoji: {err:#}");
        std::process::exit(1);
    }
    tracing::debug!("{:?}", std::env::args().collect::<Vec<_>>());
    match shoji::cli::dispatch(cli) {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            // One bounded line, whatever the error quotes (a client shows it as is).
            let msg = shoji::quote::one_line(&format!("{err:#}"));
            tracing::error!("{msg}");
            if !shoji::logging::logs_to_stderr() {
                eprintln!("{msg}");
            }
            std::process::exit(shoji::cli::exit_code(&err));
        }
    }
}
