//! The PASS/WARN/FAIL table `check` and `smoke` print.

use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

#[derive(Default)]
pub struct Table {
    rows: Vec<(String, Verdict, String)>,
}

impl Table {
    pub fn add(&mut self, name: &str, verdict: Verdict, detail: impl Into<String>) {
        self.rows.push((name.to_owned(), verdict, detail.into()));
    }

    pub fn pass(&mut self, name: &str, detail: impl Into<String>) {
        self.add(name, Verdict::Pass, detail);
    }

    pub fn fail(&mut self, name: &str, detail: impl Into<String>) {
        self.add(name, Verdict::Fail, detail);
    }

    pub fn failed(&self) -> bool {
        self.rows.iter().any(|(_, v, _)| *v == Verdict::Fail)
    }

    /// Prints the table and a summary line; exit 1 on any FAIL.
    pub fn finish(&self) -> ExitCode {
        println!("{:<20} {:<6} DETAIL", "CHECK", "RESULT");
        for (name, verdict, detail) in &self.rows {
            let verdict = match verdict {
                Verdict::Pass => "PASS",
                Verdict::Warn => "WARN",
                Verdict::Fail => "FAIL",
            };
            println!("{name:<20} {verdict:<6} {detail}");
        }
        let count = |v: Verdict| self.rows.iter().filter(|(_, x, _)| *x == v).count();
        println!(
            "{} passed, {} warnings, {} failed",
            count(Verdict::Pass),
            count(Verdict::Warn),
            count(Verdict::Fail)
        );
        if self.failed() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }
}
