//! `log_init`: reads the options, opens the files, starts the writer thread.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crossbeam_channel::bounded;

use super::{Core, Error, NEW, Pipeline, RUNNING};
use crate::config::{self, Entry, Options, Overflow};
use crate::file::syslog::{Endpoint, LineStyle, Syslog};
use crate::file::{SharedFile, rotate};
use crate::format::{FormatContext, Target};
use crate::pipeline::pool::Pool;
use crate::pipeline::settings::Settings;
use crate::pipeline::writer::{Destinations, Writer};
use crate::pipeline::{Msg, Port};
use crate::sync::ForkMutex;

impl Core {
    /// `log_init`: parses `config` (one stanza or its body), opens the files and starts the
    /// writer.
    pub fn init(&self, config: &str) -> Result<(), Error> {
        let r = config::parse_init(config, self.kind.name(), &self.name)
            .map_err(Error::from)
            .and_then(|entries| self.start(entries));
        self.record(r)
    }

    /// `log_init` with entries already parsed (`mtalog_load`).
    pub fn init_entries(&self, entries: Vec<Entry>) -> Result<(), Error> {
        let r = self.start(entries);
        self.record(r)
    }

    fn start(&self, entries: Vec<Entry>) -> Result<(), Error> {
        let _g = self.ctl()?;
        match self.state.load(Ordering::Acquire) {
            NEW => {}
            RUNNING => return Err(Error::AlreadyRunning),
            _ => return Err(Error::NotRunning),
        }
        let pipe = self.build(&entries, false)?;
        let _ = self.entries.set(entries);
        self.pipe.set(pipe);
        self.state.store(RUNNING, Ordering::Release);
        self.clear_last_error();
        Ok(())
    }

    /// A new pipeline from the configuration: the files open, the writer running. In a
    /// forked child (`in_child`) nothing waits on the network.
    pub(super) fn build(&self, entries: &[Entry], in_child: bool) -> Result<Pipeline, Error> {
        let mut o = Options::new(entries);
        let mut settings = Settings::parse(&mut o)?;
        let ctx = FormatContext::current(settings.error_default_level);
        let setup = self.kind.setup(&mut o, &ctx)?;
        settings.rotation = rotate::parse(&mut o, self.kind.sun_rotation())?;
        o.finish()?;
        settings.heartbeat = setup.heartbeat;
        settings.records = setup.records;
        for f in &setup.files {
            settings.targets[f.target as usize] = true;
        }
        let mut files: Vec<(Target, Arc<SharedFile>)> = Vec::new();
        let mut syslogs: Vec<(String, Vec<Target>, Endpoint)> = Vec::new();
        for spec in &setup.files {
            // A value naming a syslog endpoint instead of a path (see `file::syslog`).
            if let Some(ep) = spec.path.to_str().and_then(Endpoint::parse) {
                let ep =
                    ep.map_err(|e| Error::Invalid(format!("{}: {e}", spec.target.file_key())))?;
                let name = spec.path.to_string_lossy().into_owned();
                match syslogs.iter_mut().find(|s| s.0 == name) {
                    Some(s) => s.1.push(spec.target),
                    None => syslogs.push((name, vec![spec.target], ep)),
                }
                continue;
            }
            let rot = &settings.rotation[spec.target as usize];
            let f = SharedFile::open_rotating(&spec.path, spec.mode, &settings.policy, rot)?;
            files.push((spec.target, f));
        }
        let style = LineStyle {
            app: self.kind.syslog_app(),
            pid: ctx.pid.to_string(),
            hostname: ctx.hostname.clone(),
        };
        let mut dests = Vec::with_capacity(syslogs.len());
        for (name, targets, ep) in syslogs {
            let d = Syslog::open(&name, &ep, &settings.syslog, style.clone(), !in_child)?;
            dests.push((targets, d));
        }
        let dests = Destinations::new(dests, settings.error_default_level);
        self.shared.abort.store(false, Ordering::Relaxed);
        self.shared.failed.store(false, Ordering::Relaxed);
        let settings = Arc::new(settings);
        let control_key = match &settings.control_socket {
            Some(path) => crate::control::prepare(path)?,
            None => None,
        };
        let (tx, rx) = bounded::<Msg>(settings.queue_size);
        // The event boxes: a working set in circulation, and (block mode) a reserve for the
        // backlog of a stalled writer; see `pool`.
        let pool = Arc::new(Pool::new(
            settings.queue_size,
            settings.overflow == Overflow::Block,
            settings.block_timeout,
        ));
        let w = Writer::new(
            rx,
            Arc::clone(&pool),
            Arc::clone(&self.shared),
            Arc::clone(&settings),
            setup.formatter,
            files,
        )
        .with_destinations(dests);
        let handle = std::thread::Builder::new()
            .name("mtalog-writer".into())
            .spawn(move || w.run())
            .map_err(|e| {
                if let Some(k) = &control_key {
                    crate::control::release(k);
                }
                Error::Os(
                    e.raw_os_error().unwrap_or(libc::EAGAIN),
                    format!("cannot start the writer thread: {e}"),
                )
            })?;
        let port = Port {
            tx,
            thread: handle.thread().clone(),
            shared: Arc::clone(&self.shared),
            timeout: settings.close_timeout,
        };
        let control = control_key.map(|k| {
            let h = crate::control::Handle {
                kind: self.kind.name(),
                name: self.name.clone(),
                port: port.clone(),
            };
            crate::control::attach(&k, h)
        });
        Ok(Pipeline {
            port,
            pool,
            join: ForkMutex::new(Some(handle)),
            settings,
            fields: self.kind.fields_used(),
            control,
        })
    }
}
