//! What a run found: each check, its verdict and its calls, as JSON or as text.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Report {
    pub base_url: String,
    pub client_id: String,
    pub passed: bool,
    pub checks: Vec<Check>,
    /// What the run left behind, and how to find it.
    pub test_data: String,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    /// What went wrong, or what was confirmed.
    pub detail: String,
    pub calls: Vec<Call>,
}

#[derive(Debug, Serialize)]
pub struct Call {
    pub route: &'static str,
    pub status: Option<u16>,
    pub millis: f64,
    /// Took longer than Portal waits.
    pub too_slow: bool,
}

impl Report {
    /// The human-readable report.
    pub fn render(&self) -> String {
        let mut out = format!(
            "Portal simulator against {}\n  test clientId: {}\n\n",
            self.base_url, self.client_id
        );
        for check in &self.checks {
            let timings: Vec<String> = check
                .calls
                .iter()
                .map(|c| {
                    format!(
                        "{} {} {:.0} ms",
                        c.route,
                        c.status.map_or("-".into(), |s| s.to_string()),
                        c.millis
                    )
                })
                .collect();
            out += &format!(
                "  {}  {:<16} {}\n        {}\n",
                if check.passed { "PASS" } else { "FAIL" },
                check.name,
                check.detail,
                timings.join(" · ")
            );
        }
        let passed = self.checks.iter().filter(|c| c.passed).count();
        out += &format!(
            "\n{}: {passed} of {} checks passed\n",
            if self.passed { "PASS" } else { "FAIL" },
            self.checks.len()
        );
        out += &format!("\nTest data: {}\n", self.test_data);
        out
    }
}
