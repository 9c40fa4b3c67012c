//! The `spanward` binary: everything lives in the library (`spanward::cli::main`).
#![forbid(unsafe_code)]

/// mimalloc instead of glibc malloc: see the dependency's comment in Cargo.toml.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    spanward::cli::main()
}
