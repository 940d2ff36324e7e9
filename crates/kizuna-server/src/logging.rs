//! Structured logs (Nakama's `logger.*` settings): JSON lines by default, or text; to stdout
//! and/or a file. Installed only by the binary, never by library code.

use tracing_subscriber::EnvFilter;

use crate::config::LoggerConfig;

/// Installs the global subscriber for the `kizuna` binary.
pub fn init(config: &LoggerConfig) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // Our crates at the configured level; dependencies only when they warn.
        EnvFilter::new(format!("warn,kizuna={0},kizuna_server={0},kizuna_api={0},kizuna_core={0},kizuna_store={0}", config.level))
    });
    let file = if config.file.is_empty() {
        None
    } else {
        Some(std::fs::OpenOptions::new().create(true).append(true).open(&config.file)?)
    };
    let stdout = config.stdout;
    let writer = move || -> Box<dyn std::io::Write> {
        Box::new(Tee { stdout, file: file.as_ref().and_then(|f| f.try_clone().ok()) })
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    if config.format == "json" {
        builder.json().flatten_event(true).with_current_span(false).init();
    } else {
        builder.init();
    }
    Ok(())
}

/// Writes each log line to stdout and/or the log file.
struct Tee {
    stdout: bool,
    file: Option<std::fs::File>,
}

impl std::io::Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.stdout {
            std::io::stdout().write_all(buf)?;
        }
        if let Some(f) = &mut self.file {
            f.write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout().flush()
    }
}
