//! The `custody` CLI binary, run as an operator runs it, against the local services.

use crate::runtime_api::binary;
use crate::{Fixture, aws_emulator};
use serde_json::Value;
use std::process::Command;

/// One run of the CLI: exit code, stdout, stderr.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.stdout))
    }
}

/// Runs `custody` with the operator's environment: the functions' variables (the stack's
/// retention among them), and STS at the emulator so the audit record names a caller.
pub fn custody(f: &Fixture, args: &[&str]) -> Run {
    let mut env = f.function_env("not-used-by-the-cli");
    env.push(("AWS_ENDPOINT_URL_STS", aws_emulator::endpoint()));
    env.push(("HISTORY_RETENTION_DAYS", "0"));
    custody_with(&env, args)
}

/// Runs `custody` with exactly `env`.
pub fn custody_with(env: &[(&str, &str)], args: &[&str]) -> Run {
    let output = Command::new(binary("custody"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("custody runs");
    Run {
        code: output.status.code().expect("an exit code"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}
