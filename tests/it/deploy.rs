//! `make deploy`'s command line, run with stand-ins for `sam` and `aws` that record what they
//! are asked: every parameter in samconfig.toml reaches the stack (a `--parameter-overrides` on
//! sam's command line replaces the config-env's instead of merging, aws-sam-cli issue 2380), and
//! the checks that stop a deploy run before anything is built.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A folder with stand-in `sam` and `aws` commands. `sam` writes its arguments, one per line,
/// to `sam-arguments`; `aws apigateway get-account` prints `logging_role`.
fn stand_ins(logging_role: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(local_aws::unique("deploy-stand-ins"));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, body: String| {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    };
    write(
        "sam",
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}/sam-arguments'\n",
            dir.display()
        ),
    );
    write("aws", format!("#!/bin/sh\necho '{logging_role}'\n"));
    dir
}

fn deploy(dir: &Path, env: &str) -> Output {
    Command::new(local_aws::repo_root().join("scripts/deploy.sh"))
        .args(["--no-build", env])
        .env("SAM", dir.join("sam"))
        .env("AWS", dir.join("aws"))
        .env("ARCH", "x86_64")
        .output()
        .unwrap()
}

fn sam_arguments(dir: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("sam-arguments")).ok()?;
    Some(text.lines().map(String::from).collect())
}

#[test]
fn make_deploy_passes_every_samconfig_parameter_and_the_architecture() {
    let dir = stand_ins("arn:aws:iam::123456789012:role/apigateway-logs");
    let output = deploy(&dir, "dev");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        sam_arguments(&dir).unwrap(),
        [
            "deploy",
            "--config-env",
            "dev",
            "--parameter-overrides",
            "StageName=dev",
            "DeploymentStrategy=AllAtOnce",
            "BackupReservedConcurrency=0",
            "FetchReservedConcurrency=0",
            "EjectReservedConcurrency=0",
            "Architecture=x86_64",
        ]
    );
}

#[test]
fn make_deploy_refuses_prod_while_no_one_would_receive_its_alarms() {
    let dir = stand_ins("arn:aws:iam::123456789012:role/apigateway-logs");
    let output = deploy(&dir, "prod");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("AlarmEmail"), "{stderr}");
    assert_eq!(sam_arguments(&dir), None, "sam never ran");
}

#[test]
fn make_deploy_refuses_an_account_without_api_gateways_logging_role() {
    let dir = stand_ins("None");
    let output = deploy(&dir, "dev");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("make account-setup"), "{stderr}");
    assert_eq!(sam_arguments(&dir), None, "sam never ran");
}

#[test]
fn make_deploy_stops_when_samconfig_cannot_be_read_instead_of_dropping_its_parameters() {
    let dir = stand_ins("arn:aws:iam::123456789012:role/apigateway-logs");
    let output = deploy(&dir, "staging");
    assert_ne!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no config-env 'staging'"), "{stderr}");
    assert_eq!(sam_arguments(&dir), None, "sam never ran");
}
