//! `policy-sim`: parse the arguments, dispatch, map to the exit status — nothing else.

fn main() -> std::process::ExitCode {
    let cli = match policy_sim::cli::parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors; anything else is a usage error (exit 2).
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    std::process::ExitCode::from(policy_sim::cli::run(cli) as u8)
}
