fn main() -> std::process::ExitCode {
    spanward::cli::main()
}
