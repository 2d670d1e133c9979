//! `takt`: serve the app, migrate, seed the demo factory, solve a problem file.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = takt_server::cli::Cli::parse();
    takt_server::cli::run(cli)
}
