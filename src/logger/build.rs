//! `log_init`: reads the options, opens the files, starts the writer thread.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crossbeam_channel::bounded;

use super::{Core, Error, FORKED, NEW, Pipeline, RUNNING};
use crate::config::{self, ConfigError, Entry, Options, Overflow};
use crate::event::Kind;
use crate::file::syslog::{Endpoint, LineStyle, Syslog};
use crate::file::{SharedFile, rotate};
use crate::format::{FormatContext, Formatter, KindSetup, LoggerKind, Target};
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
            RUNNING | FORKED => return Err(Error::AlreadyRunning),
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
        let parts = self.prepare(entries, in_child)?;
        self.start_parts(parts)
    }

    /// What a pipeline is made of from the configuration: the options read (owners and
    /// groups looked up), the files open, the syslog destinations and the control socket
    /// named; not yet its queue, event boxes or writer thread ([`Core::start_parts`]).
    pub(super) fn prepare(&self, entries: &[Entry], in_child: bool) -> Result<Parts, Error> {
        let (mut settings, setup, ctx) =
            read_options(self.kind, &self.name, &mut Options::new(entries))?;
        settings.heartbeat = setup.heartbeat;
        settings.records = setup.records;
        settings.bounces = setup.formatter.out_of_band();
        // Events the formatter never writes with its options are filtered at the hook.
        for k in Kind::ALL {
            settings.filters[k.index()] &= setup.formatter.writes(k);
        }
        for f in &setup.files {
            settings.targets[f.target as usize] = true;
        }
        let mut files: Vec<(Target, Arc<SharedFile>)> = Vec::new();
        // Per syslog destination: its value, the targets it receives, the endpoint and
        // the first option that names it (for errors).
        let mut syslogs: Vec<(String, Vec<Target>, Endpoint, &'static str)> = Vec::new();
        for spec in &setup.files {
            // A value naming a syslog endpoint instead of a path (see `file::syslog`).
            if let Some(ep) = spec.path.to_str().and_then(Endpoint::parse) {
                let ep = ep.map_err(|e| at_entry(entries, spec.key, Error::Invalid(e)))?;
                let name = spec.path.to_string_lossy().into_owned();
                match syslogs.iter_mut().find(|s| s.0 == name) {
                    Some(s) => s.1.push(spec.target),
                    None => syslogs.push((name, vec![spec.target], ep, spec.key)),
                }
                continue;
            }
            let rot = &settings.rotation[spec.target as usize];
            let f = SharedFile::open_rotating(&spec.path, spec.mode, &settings.policy, rot)
                .map_err(|e| at_entry(entries, spec.key, e.into()))?;
            files.push((spec.target, f));
        }
        let style = LineStyle {
            app: self.kind.syslog_app(),
            pid: ctx.pid.to_string(),
            hostname: ctx.hostname.clone(),
        };
        let mut dests = Vec::with_capacity(syslogs.len());
        for (name, targets, ep, key) in syslogs {
            let d = Syslog::open(&name, &ep, &settings.syslog, style.clone(), !in_child)
                .map_err(|e| at_entry(entries, key, e))?;
            dests.push((targets, d));
        }
        let dests = Destinations::new(dests, settings.error_default_level);
        let control_key = match &settings.control_socket {
            Some(path) => crate::control::prepare(path)
                .map_err(|e| at_entry(entries, "control_socket", e.into()))?,
            None => None,
        };
        Ok(Parts {
            settings,
            formatter: setup.formatter,
            files,
            dests,
            control_key,
        })
    }

    /// Starts a pipeline from its parts: the queue, the event boxes, the writer thread, the
    /// control socket's listener.
    pub(super) fn start_parts(&self, parts: Parts) -> Result<Pipeline, Error> {
        let Parts {
            settings,
            formatter,
            files,
            dests,
            control_key,
        } = parts;
        self.shared.abort.store(false, Ordering::Relaxed);
        self.shared.failed.store(false, Ordering::Relaxed);
        let settings = Arc::new(settings);
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
            formatter,
            files,
        )
        .with_destinations(dests);
        let handle = crate::sys::spawn("mtalog-writer", move || w.run()).map_err(|e| {
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

/// A pipeline before it starts (see [`Core::prepare`]). A forked child makes its parts
/// inside `fork()`, in the parent's environment (its directory and privileges, the
/// descriptors of its files), and starts them at its first use.
pub(super) struct Parts {
    settings: Settings,
    formatter: Box<dyn Formatter>,
    files: Vec<(Target, Arc<SharedFile>)>,
    dests: Destinations,
    control_key: Option<std::path::PathBuf>,
}

/// Reads every option of a logger of `kind` from `o`: the ones every kind has, the kind's
/// own, rotation; then rejects the keys none of them read. Opens nothing. With them, the
/// facts the formats were set up with (the syslog messages' host name and PROCID).
pub(super) fn read_options(
    kind: LoggerKind,
    name: &str,
    o: &mut Options<'_>,
) -> Result<(Settings, KindSetup, FormatContext), ConfigError> {
    let mut settings = Settings::parse(o)?;
    let ctx = FormatContext::current(settings.error_default_level);
    let setup = kind.setup(o, &ctx, name)?;
    settings.rotation = rotate::parse(o, kind.sun_rotation())?;
    o.finish()?;
    Ok((settings, setup, ctx))
}

/// The option keys a logger of `kind` knows (every name of each, aliases included), in the
/// order they are read.
pub fn option_keys(kind: LoggerKind) -> Vec<String> {
    let mut o = Options::new(&[]);
    // The defaults of every option are valid: this fails on nothing.
    let _ = read_options(kind, "keys", &mut o);
    o.keys().to_vec()
}

/// `e`, an error about the value of option `key`, naming the line and key of its entry (a
/// default value has none).
fn at_entry(entries: &[Entry], key: &str, e: Error) -> Error {
    match (entries.iter().rev().find(|x| x.key == key), e) {
        (Some(entry), Error::Os(code, m)) => Error::Os(code, format!("{}: {m}", entry.place())),
        (Some(entry), Error::Invalid(m)) => Error::Invalid(format!("{}: {m}", entry.place())),
        (_, e) => e,
    }
}
