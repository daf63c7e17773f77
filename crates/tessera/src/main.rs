//! `tessera`: the server and its operator commands.

mod cli;
mod demo;
mod keys;
mod peers;
mod receipt;

/// mimalloc instead of glibc's allocator: the server allocates many small short-lived objects on
/// many threads, where glibc's arenas cost both time (a fifth of the profile under load) and
/// resident memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match cli::main().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
