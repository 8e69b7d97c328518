//! The export writer's first failure, shared by the writer thread (which sets it) and the store
//! (which puts it in every snapshot, so the TUI and headless mode show it at once).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Set once, by the first write or flush that fails; the count of events not written grows.
#[derive(Debug, Default)]
pub struct ExportFault {
    error: OnceLock<String>,
    unwritten: AtomicU64,
}

impl ExportFault {
    /// Record the first failure and how many events it left out of the file. Later calls are
    /// ignored: the first error is the one to report.
    pub fn fail(&self, error: String, unwritten: u64) {
        if self.error.set(error).is_ok() {
            self.unwritten.store(unwritten, Ordering::Relaxed);
        }
    }

    /// One more event that was not written.
    pub fn add_unwritten(&self) {
        self.unwritten.fetch_add(1, Ordering::Relaxed);
    }

    pub fn error(&self) -> Option<&str> {
        self.error.get().map(String::as_str)
    }

    /// Events handed to the export since (and including) the failure that are not in the file.
    pub fn unwritten(&self) -> u64 {
        self.unwritten.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_is_kept_and_later_events_are_counted() {
        let f = ExportFault::default();
        assert_eq!(f.error(), None);
        f.fail("disk full".into(), 3);
        f.add_unwritten();
        f.fail("second error".into(), 100);
        assert_eq!(f.error(), Some("disk full"));
        assert_eq!(f.unwritten(), 4);
    }
}
