//! The `shoji` binary: parse the command line, set up logging, dispatch, and report the error
//! chain once, in runc's shape, with exit status 1.
use clap::Parser;

fn main() {
    let cli = shoji::cli::Cli::parse();
    if let Err(err) = shoji::logging::init(&cli.global) {
        eprintln!("shoji: {err:#}");
        std::process::exit(1);
    }
    match shoji::cli::dispatch(cli) {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            let msg = format!("{err:#}");
            tracing::error!("{msg}");
            if !shoji::logging::logs_to_stderr() {
                eprintln!("{msg}");
            }
            std::process::exit(1);
        }
    }
}
