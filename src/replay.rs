//! `wsmon replay FILE.jsonl`: print a summary of an exported log.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::export::{Format, reader};
use crate::redact;

/// Summarise the JSON Lines log at `path` on stdout. A CSV export is refused with a hint.
pub fn run(path: &Path) -> anyhow::Result<ExitCode> {
    if Format::from_path(path).ok() == Some(Format::Csv) {
        anyhow::bail!(
            "{}: replay reads JSON Lines; export with a .jsonl file name to replay a run",
            path.display()
        );
    }
    let mut summary = reader::Summary::default();
    reader::for_each_jsonl(path, |_, v| summary.add(&v))?;
    let mut stdout = io::stdout().lock();
    writeln!(
        stdout,
        "{}",
        redact::escape_control(&path.display().to_string())
    )?;
    write!(stdout, "{summary}")?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;

    use super::*;
    use crate::engine::events::{Event, EventKind};
    use crate::export::ExportWriter;

    #[test]
    fn replay_rejects_csv_and_reads_jsonl() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = run(&dir.path().join("run.csv")).expect_err("csv is not replayable");
        assert!(err.to_string().contains(".jsonl"), "{err}");

        let path = dir.path().join("run.jsonl");
        let mut w = ExportWriter::create(&path, Arc::new(|c: u16| c.to_string())).expect("create");
        for kind in [
            EventKind::Spawned {
                target: 0,
                url: "ws://h/".into(),
            },
            EventKind::Connecting {
                attempt: 1,
                slot_wait_ms: 0,
            },
            EventKind::Removed,
        ] {
            let ev = Event {
                ts: Utc::now(),
                session: 1,
                kind,
            };
            w.write(&ev).expect("write");
        }
        w.flush().expect("flush");
        assert_eq!(run(&path).expect("replay works"), ExitCode::SUCCESS);
        assert!(run(&dir.path().join("missing.jsonl")).is_err());
    }
}
