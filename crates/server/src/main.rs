use clap::Parser;
use kiln_server::config::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => exit(kiln_server::serve(args).await),
        Command::Samples(args) => exit(kiln_server::samples(args).await),
        Command::Jobs(args) => kiln_cli::run(args).await,
    }
}

fn exit(result: Result<(), String>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kiln: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
