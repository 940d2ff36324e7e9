//! Configuration the way Nakama operators know it (Nakama `server/config.go`): a YAML file given
//! with `--config`, overridden by `--section.key value` flags, with Nakama's key names and
//! defaults. One table, [`OPTIONS`], defines every key, its default and its help text; defaults,
//! YAML, flags and `kizuna --help` are all derived from it.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

/// A default value in the option table.
#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    Str(&'static str),
    Int(i64),
    Bool(bool),
}

/// One configuration key.
#[derive(Debug)]
pub struct Opt {
    pub key: &'static str,
    pub default: DefaultValue,
    pub help: &'static str,
}

use DefaultValue::{Bool, Int, Str};

/// Every supported key. Keys not listed here are not honoured yet (docs/config.md).
pub const OPTIONS: &[Opt] = &[
    Opt { key: "name", default: Str("kizuna"), help: "Node name; appears in authoritative match and party ids." },
    Opt { key: "data_dir", default: Str("./data"), help: "Directory for the embedded SQLite database and other local data." },
    Opt { key: "shutdown_grace_sec", default: Int(10), help: "Seconds in-flight requests get to finish on SIGINT/SIGTERM." },
    Opt { key: "logger.level", default: Str("info"), help: "Minimum log level: debug, info, warn or error." },
    Opt { key: "logger.stdout", default: Bool(true), help: "Write logs to standard output." },
    Opt { key: "logger.file", default: Str(""), help: "Also write logs to this file (appended)." },
    Opt { key: "logger.format", default: Str("json"), help: "Log format: json (one object per line) or text." },
    Opt { key: "metrics.prometheus_port", default: Int(0), help: "Port of the Prometheus /metrics endpoint; 0 disables it." },
    Opt { key: "session.encryption_key", default: Str("defaultencryptionkey"), help: "HMAC key of session tokens." },
    Opt { key: "session.refresh_encryption_key", default: Str("defaultrefreshencryptionkey"), help: "HMAC key of refresh tokens; must differ from session.encryption_key." },
    Opt { key: "session.token_expiry_sec", default: Int(60), help: "Session token lifetime in seconds." },
    Opt { key: "session.refresh_token_expiry_sec", default: Int(3600), help: "Refresh token lifetime in seconds." },
    Opt { key: "session.single_session", default: Bool(false), help: "Invalidate a user's earlier tokens on each authentication." },
    Opt { key: "socket.server_key", default: Str("defaultkey"), help: "Server key clients send (HTTP Basic username) to authenticate." },
    Opt { key: "socket.address", default: Str(""), help: "Address to listen on; empty means all interfaces." },
    Opt { key: "socket.port", default: Int(7350), help: "Port of the REST API and realtime socket; 0 picks a free port." },
    Opt { key: "socket.read_timeout_ms", default: Int(10_000), help: "Time a connection has to send a request's headers (after connecting or after the previous response) and its body." },
    Opt { key: "socket.max_connections", default: Int(0), help: "Open connections (REST and realtime) at most; 0 derives it from the open-file limit. Past it, new connections wait." },
    Opt { key: "socket.max_request_size_bytes", default: Int(262_144), help: "Largest accepted HTTP request body." },
    Opt { key: "socket.max_message_size_bytes", default: Int(4096), help: "Largest accepted realtime socket message; larger ones close the socket." },
    Opt { key: "socket.read_buffer_size_bytes", default: Int(1024), help: "WebSocket read buffer per socket (Nakama: 4096; smaller keeps idle sockets lean, messages up to max_message_size_bytes still fit)." },
    Opt { key: "socket.write_buffer_size_bytes", default: Int(1024), help: "WebSocket write buffer per socket (Nakama: 4096)." },
    Opt { key: "socket.outgoing_queue_size", default: Int(64), help: "Messages queued per socket before it is closed as too slow." },
    Opt { key: "socket.ping_period_ms", default: Int(15_000), help: "Interval of WebSocket pings to each socket; must be below pong_wait_ms." },
    Opt { key: "socket.pong_wait_ms", default: Int(25_000), help: "A socket that sends nothing (not even a pong) for this long is closed." },
    Opt { key: "socket.write_wait_ms", default: Int(5_000), help: "Deadline for writing one message to a socket." },
    Opt { key: "socket.close_ack_wait_ms", default: Int(2_000), help: "How long a closing socket waits for the client's close frame." },
    Opt { key: "session.single_socket", default: Bool(false), help: "Allow one socket per user; a new one closes the older ones." },
    Opt { key: "session.single_match", default: Bool(false), help: "Allow one match per user; joining one leaves the others. Needs single_socket." },
    Opt { key: "social.facebook_instant_game.app_secret", default: Str(""), help: "App secret that signs Facebook Instant Games player info." },
    Opt { key: "matchmaker.max_tickets", default: Int(3), help: "Matchmaker tickets one session may hold at once." },
    Opt { key: "matchmaker.interval_sec", default: Int(15), help: "Seconds between matchmaker passes." },
    Opt { key: "matchmaker.max_intervals", default: Int(2), help: "Passes a ticket searches before it only waits to be found." },
    Opt { key: "matchmaker.rev_precision", default: Bool(false), help: "Require candidates' queries to match back (mutual matching)." },
    Opt { key: "matchmaker.rev_threshold", default: Int(1), help: "Stop mutual checks in passes longer than interval_sec times this." },
    Opt { key: "database.address", default: Str(""), help: "PostgreSQL as user:pass@host:port/db or a postgres:// URL; empty uses embedded SQLite in data_dir." },
    Opt { key: "database.max_open_conns", default: Int(100), help: "Most open database connections (SQLite readers are capped at 8)." },
    Opt { key: "database.sqlite_busy_timeout_ms", default: Int(10_000), help: "How long an SQLite write waits for a lock another process holds before it fails." },
    Opt { key: "runtime.http_key", default: Str("defaulthttpkey"), help: "Key for server-to-server RPC calls." },
];

/// Settings whose defaults Nakama warns about at start-up.
pub const INSECURE_DEFAULTS: &[&str] =
    &["socket.server_key", "session.encryption_key", "session.refresh_encryption_key", "runtime.http_key"];

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub name: String,
    pub data_dir: PathBuf,
    pub shutdown_grace_sec: u64,
    pub logger: LoggerConfig,
    pub metrics: MetricsConfig,
    pub session: SessionSection,
    pub socket: SocketConfig,
    pub database: DatabaseSection,
    pub runtime: RuntimeConfig,
    pub matchmaker: MatchmakerSection,
    pub social: SocialSection,
    /// The keys a file or flag set (the rest are defaults).
    #[serde(skip)]
    pub explicit: std::collections::BTreeSet<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SocialSection {
    pub facebook_instant_game: FacebookInstantGameSection,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FacebookInstantGameSection {
    pub app_secret: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MatchmakerSection {
    pub max_tickets: usize,
    pub interval_sec: u64,
    pub max_intervals: u32,
    pub rev_precision: bool,
    pub rev_threshold: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LoggerConfig {
    pub level: String,
    pub stdout: bool,
    pub file: String,
    pub format: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MetricsConfig {
    pub prometheus_port: u16,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionSection {
    pub encryption_key: String,
    pub refresh_encryption_key: String,
    pub token_expiry_sec: i64,
    pub refresh_token_expiry_sec: i64,
    pub single_session: bool,
    pub single_socket: bool,
    pub single_match: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SocketConfig {
    pub server_key: String,
    pub address: String,
    pub port: u16,
    pub max_request_size_bytes: usize,
    pub read_timeout_ms: u64,
    pub max_connections: usize,
    pub max_message_size_bytes: usize,
    pub read_buffer_size_bytes: usize,
    pub write_buffer_size_bytes: usize,
    pub outgoing_queue_size: usize,
    pub ping_period_ms: u64,
    pub pong_wait_ms: u64,
    pub write_wait_ms: u64,
    pub close_ack_wait_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSection {
    pub address: String,
    pub max_open_conns: u32,
    pub sqlite_busy_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RuntimeConfig {
    pub http_key: String,
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    /// Run the server.
    Serve(Config),
    /// `kizuna migrate up|status`.
    Migrate { action: String, config: Config },
    Help,
    Version,
}

fn default_tree() -> Value {
    let mut root = Value::Object(Map::new());
    for opt in OPTIONS {
        let v = match opt.default {
            Str(s) => Value::from(s),
            Int(i) => Value::from(i),
            Bool(b) => Value::from(b),
        };
        set_path(&mut root, opt.key, v);
    }
    root
}

fn set_path(root: &mut Value, key: &str, v: Value) {
    let mut node = root;
    let parts: Vec<&str> = key.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        node = node
            .as_object_mut()
            .expect("config sections are objects")
            .entry(*part)
            .or_insert_with(|| Value::Object(Map::new()));
    }
    node.as_object_mut().expect("config sections are objects").insert(parts[parts.len() - 1].to_owned(), v);
}

fn find_opt(key: &str) -> Option<&'static Opt> {
    OPTIONS.iter().find(|o| o.key == key)
}

/// Converts a flag or YAML value to the type of the option's default.
fn typed(opt: &Opt, raw: &Value) -> Result<Value, String> {
    let bad = || format!("invalid value {raw} for {}", opt.key);
    Ok(match (opt.default, raw) {
        (Str(_), Value::String(_)) => raw.clone(),
        (Str(_), Value::Number(n)) => Value::from(n.to_string()),
        (Str(_), Value::Bool(b)) => Value::from(b.to_string()),
        // Nakama's database.address is a list; we serve the first address.
        (Str(_), Value::Array(items)) if opt.key == "database.address" => {
            items.first().cloned().unwrap_or(Value::from(""))
        }
        (Int(_), Value::Number(n)) if n.is_i64() => raw.clone(),
        (Int(_), Value::String(s)) => Value::from(s.trim().parse::<i64>().map_err(|_| bad())?),
        (Bool(_), Value::Bool(_)) => raw.clone(),
        (Bool(_), Value::String(s)) => Value::from(match s.as_str() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
            "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
            _ => return Err(bad()),
        }),
        _ => return Err(bad()),
    })
}

/// Merges a YAML document onto the tree. Unknown keys are reported, not fatal (Nakama ignores
/// them too).
fn merge_yaml(
    tree: &mut Value,
    yaml: &Value,
    prefix: &str,
    unknown: &mut Vec<String>,
    explicit: &mut std::collections::BTreeSet<String>,
) -> Result<(), String> {
    let Value::Object(map) = yaml else { return Err("the configuration file must be a YAML mapping".into()) };
    for (k, v) in map {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        if let Some(opt) = find_opt(&key) {
            set_path(tree, &key, typed(opt, v)?);
            explicit.insert(key);
        } else if v.is_object() {
            merge_yaml(tree, v, &key, unknown, explicit)?;
        } else {
            unknown.push(key);
        }
    }
    Ok(())
}

/// The parsed command line plus the YAML keys that were not recognised.
pub fn parse_args(args: &[String]) -> Result<(Command, Vec<String>), String> {
    let mut rest = args;
    let mut migrate = None;
    if rest.first().map(String::as_str) == Some("migrate") {
        let action = rest.get(1).cloned().ok_or("usage: kizuna migrate up|status [--key value ...]")?;
        if action != "up" && action != "status" {
            return Err(format!("unknown migrate action {action:?}; use up or status"));
        }
        migrate = Some(action);
        rest = &rest[2..];
    }
    let mut flags: Vec<(String, Option<String>)> = Vec::new();
    let mut config_file: Option<PathBuf> = None;
    let mut i = 0;
    while i < rest.len() {
        let arg = &rest[i];
        match arg.as_str() {
            "-h" | "--help" | "help" => return Ok((Command::Help, Vec::new())),
            "-v" | "--version" | "version" => return Ok((Command::Version, Vec::new())),
            _ => {}
        }
        let Some(name) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            return Err(format!("unexpected argument {arg:?} (flags look like --socket.port 7350)"));
        };
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (name.to_owned(), None),
        };
        let is_bool = find_opt(&name).is_some_and(|o| matches!(o.default, Bool(_)));
        let value = match inline {
            Some(v) => Some(v),
            None if is_bool && rest.get(i + 1).is_none_or(|n| n.starts_with('-')) => None,
            None => {
                i += 1;
                Some(rest.get(i).cloned().ok_or(format!("flag --{name} needs a value"))?)
            }
        };
        if name == "config" {
            config_file = Some(PathBuf::from(value.ok_or("flag --config needs a file")?));
        } else {
            flags.push((name, value));
        }
        i += 1;
    }
    let mut tree = default_tree();
    let mut unknown = Vec::new();
    let mut explicit = std::collections::BTreeSet::new();
    if let Some(path) = &config_file {
        let yaml = read_yaml(path)?;
        merge_yaml(&mut tree, &yaml, "", &mut unknown, &mut explicit)?;
    }
    for (name, value) in flags {
        let opt = find_opt(&name).ok_or(format!("unknown flag --{name} (see kizuna --help)"))?;
        let raw = value.map(Value::from).unwrap_or(Value::Bool(true));
        set_path(&mut tree, &name, typed(opt, &raw)?);
        explicit.insert(name);
    }
    let mut config: Config = serde_json::from_value(tree).map_err(|e| format!("invalid configuration: {e}"))?;
    config.explicit = explicit;
    config.validate()?;
    let command = match migrate {
        Some(action) => Command::Migrate { action, config },
        None => Command::Serve(config),
    };
    Ok((command, unknown))
}

fn read_yaml(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_yaml_ng::from_str(&text).map_err(|e| format!("cannot parse {}: {e}", path.display()))
}

impl Config {
    /// The defaults, as if started with no file and no flags.
    pub fn defaults() -> Config {
        serde_json::from_value(default_tree()).expect("the option table's defaults deserialize")
    }

    /// Rejects settings Nakama refuses to start with.
    pub fn validate(&self) -> Result<(), String> {
        if self.session.encryption_key == self.session.refresh_encryption_key {
            return Err("session.encryption_key and session.refresh_encryption_key must differ".into());
        }
        if self.session.token_expiry_sec < 1 || self.session.refresh_token_expiry_sec < 1 {
            return Err("session.token_expiry_sec and session.refresh_token_expiry_sec must be at least 1".into());
        }
        if self.matchmaker.max_tickets < 1 || self.matchmaker.interval_sec < 1 || self.matchmaker.max_intervals < 1 {
            return Err("matchmaker.max_tickets, interval_sec and max_intervals must be at least 1".into());
        }
        if self.socket.server_key.is_empty() {
            return Err("socket.server_key must be set".into());
        }
        if self.socket.ping_period_ms == 0 || self.socket.ping_period_ms >= self.socket.pong_wait_ms {
            return Err("socket.ping_period_ms must be positive and below socket.pong_wait_ms".into());
        }
        if !matches!(self.logger.level.as_str(), "debug" | "info" | "warn" | "error") {
            return Err(format!("logger.level {:?} must be debug, info, warn or error", self.logger.level));
        }
        if !matches!(self.logger.format.as_str(), "json" | "text") {
            return Err(format!("logger.format {:?} must be json or text", self.logger.format));
        }
        if self.session.single_match && !self.session.single_socket {
            return Err("session.single_match cannot be enabled without session.single_socket".into());
        }
        if self.name.is_empty() || self.name.len() > 16 {
            return Err("name must be 1-16 characters".into());
        }
        Ok(())
    }

    /// Keys still at an insecure default value. Session keys count only when configured so:
    /// left unset, they are replaced by generated ones ([`crate::keys`]).
    pub fn insecure_defaults(&self) -> Vec<&'static str> {
        let d = Config::defaults();
        let set = |k: &str| self.explicit.contains(k);
        INSECURE_DEFAULTS
            .iter()
            .copied()
            .filter(|k| match *k {
                "socket.server_key" => self.socket.server_key == d.socket.server_key,
                "session.encryption_key" => set(k) && self.session.encryption_key == d.session.encryption_key,
                "session.refresh_encryption_key" => {
                    set(k) && self.session.refresh_encryption_key == d.session.refresh_encryption_key
                }
                "runtime.http_key" => self.runtime.http_key == d.runtime.http_key,
                _ => false,
            })
            .collect()
    }
}

/// `kizuna --help`.
pub fn help_text() -> String {
    let mut out = String::from(
        "kizuna — a Nakama-compatible game server\n\n\
         Usage:\n  kizuna [--config FILE] [--section.key VALUE ...]   run the server\n  \
         kizuna migrate up|status [--database.address ...]   apply or list database migrations\n  \
         kizuna --help | --version\n\n\
         Options (YAML keys in --config use the same names, nested by section):\n",
    );
    for opt in OPTIONS {
        let default = match opt.default {
            Str(s) => format!("{s:?}"),
            Int(i) => i.to_string(),
            Bool(b) => b.to_string(),
        };
        out.push_str(&format!("  --{:<34} {} (default {default})\n", opt.key, opt.help));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_match_nakama() {
        let c = Config::defaults();
        assert_eq!(c.socket.port, 7350);
        assert_eq!(c.socket.server_key, "defaultkey");
        assert_eq!(c.session.token_expiry_sec, 60);
        assert_eq!(c.session.refresh_token_expiry_sec, 3600);
        assert_eq!(c.socket.max_request_size_bytes, 262_144);
        // The server and HTTP keys; unset session keys are generated instead (keys.rs).
        assert_eq!(c.insecure_defaults(), ["socket.server_key", "runtime.http_key"]);
        let (Command::Serve(set), _) = parse_args(&args(&["--session.encryption_key", "defaultencryptionkey"])).unwrap() else {
            panic!("expected serve")
        };
        assert_eq!(set.insecure_defaults(), ["socket.server_key", "session.encryption_key", "runtime.http_key"]);
    }

    #[test]
    fn flags_override_yaml_and_accept_both_forms() {
        let dir = std::env::temp_dir().join(format!("kizuna-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.yml");
        std::fs::write(&file, "socket:\n  port: 9000\n  server_key: fromfile\nsession:\n  single_session: true\nunknown_key: 1\n").unwrap();
        let (cmd, unknown) =
            parse_args(&args(&["--config", file.to_str().unwrap(), "--socket.port=9100", "--logger.level", "debug"])).unwrap();
        let Command::Serve(c) = cmd else { panic!("expected serve") };
        assert_eq!(c.socket.port, 9100);
        assert_eq!(c.socket.server_key, "fromfile");
        assert!(c.session.single_session);
        assert_eq!(c.logger.level, "debug");
        assert_eq!(unknown, vec!["unknown_key".to_owned()]);
    }

    #[test]
    fn bad_flags_are_reported() {
        assert!(parse_args(&args(&["--socket.port", "abc"])).is_err());
        assert!(parse_args(&args(&["--no.such", "1"])).is_err());
        assert!(parse_args(&args(&["--session.refresh_encryption_key", "defaultencryptionkey"])).is_err());
        assert!(matches!(parse_args(&args(&["migrate", "up"])).unwrap().0, Command::Migrate { .. }));
        assert!(matches!(parse_args(&args(&["--session.single_session"])).unwrap().0, Command::Serve(c) if c.session.single_session));
        // single_match needs single_socket, as in Nakama.
        assert!(parse_args(&args(&["--session.single_match"])).is_err());
        assert!(parse_args(&args(&["--session.single_match", "--session.single_socket"])).is_ok());
    }
}
