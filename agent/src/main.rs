//! `sigil-agent`: the in-cluster GitOps agent.
//!
//! This release carries the command-line surface only; the render pipeline and the
//! controllers arrive with their issues. It prints its version and help.

use clap::{Parser, Subcommand};

/// Sigil's GitOps agent: pulls Git, renders (SOPS and sealed secrets resolved in memory),
/// and applies with server-side apply.
#[derive(Parser)]
#[command(name = "sigil-agent", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Print the version.
    Version,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Version) => println!("sigil-agent {}", env!("CARGO_PKG_VERSION")),
        None => {
            use clap::CommandFactory;
            Cli::command().print_help()?;
            println!();
        }
    }
    Ok(())
}
