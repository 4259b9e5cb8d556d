use clap::Parser;
use kiln_server::config::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => match kiln_server::serve(args).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("kiln: {error}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}
