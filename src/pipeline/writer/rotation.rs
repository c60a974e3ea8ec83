//! The writer's side of rotation: rotations due by time, the helper thread's jobs
//! (compression, retention) and what the writer does after a file was rotated.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Writer;
use crate::event::Timestamp;
use crate::file::rotate::{self, Helper, Job};
use crate::file::{RotateCtx, SharedFile};
use crate::pipeline::stats::Counter;

/// The helper's job of applying retention to `f` (and compressing what an earlier run left
/// uncompressed, with `compress_left`).
pub(super) fn sweep_job(f: &SharedFile, compress_left: bool) -> Job {
    Job::Sweep {
        path: f.path().to_path_buf(),
        policy: f.rotation().clone(),
        compress_left,
        sweep_at: f.sweep_at(),
    }
}

impl Writer {
    /// Hands a job to the helper thread, starting it first if needed.
    pub(super) fn job(&mut self, job: Job) {
        if self.helper.is_none() {
            let shared = Arc::clone(&self.shared);
            match Helper::start(move || shared.abort.load(Ordering::Relaxed)) {
                Ok(h) => self.helper = Some(h),
                Err(e) => {
                    self.rotation_problems.push(format!(
                        "cannot start the rotation helper thread: {e}; old files are not compressed or removed"
                    ));
                    return;
                }
            }
        }
        if let Some(h) = &self.helper {
            h.send(job);
        }
    }

    /// Stops the helper (a close waits for no compression: the next start's sweep does what
    /// is left; see [`Helper::finish`]) and collects its last reports.
    pub(super) fn finish_helper(&mut self) {
        if let Some(mut h) = self.helper.take() {
            let msgs = h.finish();
            self.rotation_problems.extend(msgs);
        }
    }

    /// After rotations: counts them and queues compression and retention.
    pub(super) fn rotated(&mut self, done: Vec<(Arc<SharedFile>, Option<std::path::PathBuf>)>) {
        for (f, to) in done {
            self.shared.stats.add(Counter::rotations, 1);
            if !f.rotation().has_jobs() {
                continue;
            }
            // The last retention's figure was for the file before; this job's replaces it.
            let sweep_at = f.sweep_at();
            sweep_at.store(rotate::NO_SWEEP, Ordering::Relaxed);
            let (path, policy) = (f.path().to_path_buf(), f.rotation().clone());
            self.job(match to {
                Some(rotated) => Job::Rotated {
                    path,
                    rotated,
                    policy,
                    sweep_at,
                },
                None => Job::Sweep {
                    path,
                    policy,
                    compress_left: false,
                    sweep_at,
                },
            });
        }
    }

    /// Rotates the files due by time (after writing out what belongs before).
    pub(super) fn rotate_due(&mut self, unix: i64) {
        if !self.files.iter().any(|(_, f)| f.due(unix)) || !self.write_out() {
            return;
        }
        let mut done = Vec::new();
        let Writer {
            files,
            formatter,
            rotation_problems,
            ..
        } = self;
        for (t, f) in files.iter() {
            if !f.due(unix) {
                continue;
            }
            let t = *t;
            let mut header = |now: Timestamp, b: &mut Vec<u8>| formatter.file_header(t, now, b);
            let mut ctx = RotateCtx {
                header: &mut header,
                rotated: Vec::new(),
                errors: Vec::new(),
                cut: None,
            };
            f.rotate_if_due(unix, &mut ctx);
            done.extend(ctx.rotated.into_iter().map(|(_, to)| (Arc::clone(f), to)));
            rotation_problems.extend(ctx.errors);
        }
        self.rotated(done);
    }
}
