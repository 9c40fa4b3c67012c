//! The `spanward` binary: everything lives in the library (`spanward::cli::main`).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    spanward::cli::main()
}
