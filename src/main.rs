//! wsmon binary: parse the CLI, build the runtime, dispatch a subcommand.

use std::process::ExitCode;

use clap::Parser;
use wsmon::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            // Usage errors quote the command line: escape what it holds, plain text.
            eprint!(
                "{}",
                wsmon::redact::escape_control_lines(&e.render().to_string())
            );
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    wsmon::limits::ignore_sigxfsz();
    let headless = match &cli.command {
        Command::Watch(args) => args.headless,
        Command::Demo(args) => args.headless,
        _ => false,
    };
    let mut builder = wsmon::runtime::threads::builder(headless);
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("wsmon: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    let result: anyhow::Result<ExitCode> = runtime.block_on(async move {
        match cli.command {
            Command::Explain(args) => wsmon::explain::run(&(&args).into()),
            Command::Serve(args) => wsmon::app::run_serve(&args).await,
            Command::Watch(args) => wsmon::app::run_watch(&args).await,
            Command::Demo(args) => wsmon::app::run_demo(&args).await,
            Command::Report(args) => Ok(wsmon::report::run(&args.into())),
            Command::Replay(args) => {
                // The replay TUI takes its keys from a config file's [keys].
                let keys = match args.config.as_deref().map(wsmon::config::keys_from_file) {
                    None => Default::default(),
                    Some(Ok(keys)) => keys,
                    Some(Err(e)) => {
                        eprintln!("wsmon: {e}");
                        return Ok(ExitCode::from(2));
                    }
                };
                let mut files = args.files.into_iter();
                let Some(file) = files.next() else {
                    eprintln!("wsmon: replay needs a file");
                    return Ok(ExitCode::from(2));
                };
                wsmon::replay::run(&wsmon::replay::Options {
                    file,
                    more_files: files.collect(),
                    fail_if: args.fail_if,
                    summary_json: args.summary_json,
                    no_default_gate: args.no_default_gate,
                    summary: args.summary,
                    at: args.at,
                    from: args.from,
                    to: args.to,
                    export: args.export,
                    keys,
                    messages: args.messages,
                    session: args.session,
                    grep: args.grep,
                })
                .await
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("wsmon: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// mimalloc: see its line in Cargo.toml (measured on the message path of 10,000 sessions).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
