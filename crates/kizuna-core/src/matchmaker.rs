//! The matchmaker (Nakama `matchmaker.go`, `matchmaker_process.go`, `pipeline_matchmaker.go`;
//! semantics §12): tickets wait in an in-memory pool; every `matchmaker.interval_sec` a pass
//! groups them with Nakama's default algorithm, and each matched session is sent
//! `matchmaker_matched` with a token that creates a relayed match on first join.
//!
//! Ownership: [`Matchmaker`] owns the pool behind one mutex, held for pool changes and for a
//! whole pass (pure computation). In a server, only [`MatchmakerOwner`]'s thread calls it: adds,
//! removals, disconnects and passes queue up there, so a long pass never blocks an async worker,
//! and a panic in one job is caught and logged without breaking later ones. The figures other
//! threads read (ticket count, stats) sit outside the pool lock. Delivery happens on the caller's
//! side after a pass.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    hash::{BuildHasherDefault, Hasher},
    panic::AssertUnwindSafe,
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc,
    },
    time::{Duration, Instant},
};

use kizuna_proto::{
    api,
    realtime::{self, envelope::Message, matchmaker_matched, Envelope, MatchmakerMatched, UserPresence},
};
use parking_lot::Mutex;
use uuid::Uuid;

use crate::{
    query::{Document, Query, Value},
    realtime::{Outgoing, SessionHandle, SessionId},
    Core, Error,
};

/// `matchmaker.*` settings.
#[derive(Debug, Clone)]
pub struct MatchmakerConfig {
    /// Tickets one session (or party) may hold at once.
    pub max_tickets: usize,
    /// Seconds between passes.
    pub interval_sec: u64,
    /// Passes a ticket searches actively before it only waits to be found.
    pub max_intervals: u32,
    /// Whether candidates' queries must match back (mutual matching).
    pub rev_precision: bool,
    /// Passes longer than `interval_sec × rev_threshold` stop checking mutual matches.
    pub rev_threshold: u64,
}

impl Default for MatchmakerConfig {
    fn default() -> Self {
        MatchmakerConfig { max_tickets: 3, interval_sec: 15, max_intervals: 2, rev_precision: false, rev_threshold: 1 }
    }
}

/// Completed matchmakings kept for `GET /v2/matchmaker/stats`.
const COMPLETIONS_KEPT: usize = 10;

/// How long a matchmaker token lets its holders create or join the match.
const TOKEN_LIFETIME_SEC: i64 = 30;

/// A player in a ticket.
#[derive(Debug, Clone)]
pub struct Entry {
    pub user_id: Uuid,
    pub session_id: SessionId,
    pub username: String,
}

/// What a new ticket asks for (validated by the caller).
#[derive(Debug, Clone)]
pub struct TicketRequest {
    pub query: Query,
    pub min_count: usize,
    pub max_count: usize,
    pub count_multiple: usize,
    pub string_properties: HashMap<String, String>,
    pub numeric_properties: HashMap<String, f64>,
}

/// A ticket's number inside the pool: the pool's maps and a pass's bookkeeping key tickets by
/// it, which hashes and compares far cheaper than the 36-character ticket id.
type Seq = u64;

/// Hashes a [`Seq`] with one multiplication (Fibonacci hashing spreads consecutive numbers).
#[derive(Default)]
struct SeqHasher(u64);

impl Hasher for SeqHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type SeqMap<V> = HashMap<Seq, V, BuildHasherDefault<SeqHasher>>;
type SeqSet = HashSet<Seq, BuildHasherDefault<SeqHasher>>;

#[derive(Debug)]
struct Ticket {
    /// Set when the ticket enters the pool; increases with arrival.
    seq: Seq,
    id: String,
    query: Query,
    min_count: usize,
    max_count: usize,
    count_multiple: usize,
    /// Set for party tickets (parties are not built yet: always empty for now).
    party_id: String,
    /// The session owning a solo ticket.
    owner: Option<SessionId>,
    /// Unix nanoseconds.
    created_at: i64,
    intervals: u32,
    entries: Vec<Entry>,
    /// Searched by other tickets' queries: `properties.*`, `ticket`, `min_count`, `max_count`,
    /// `party_id`, `created_at`.
    doc: Document,
    string_properties: HashMap<String, String>,
    numeric_properties: HashMap<String, f64>,
}

impl Ticket {
    fn count(&self) -> usize {
        self.entries.len()
    }

    fn shares_session_with(&self, other: &Ticket) -> bool {
        self.entries.iter().any(|e| other.entries.iter().any(|o| o.session_id == e.session_id))
    }

    /// Whether a match of `size` players suits this ticket.
    fn accepts(&self, size: usize) -> bool {
        self.min_count <= size && size <= self.max_count && size % self.count_multiple == 0
    }
}

#[derive(Default)]
struct Pool {
    tickets: SeqMap<Ticket>,
    /// Ticket id → its number.
    seqs: HashMap<String, Seq>,
    next_seq: Seq,
    /// field → keyword → tickets whose properties hold it: candidates of queries with
    /// `+field:keyword` clauses are looked up here instead of evaluating every ticket.
    keywords: HashMap<String, HashMap<String, SeqSet>>,
    /// Tickets still searching (the others only wait to be found).
    active: SeqSet,
    by_session: HashMap<SessionId, SeqSet>,
    /// (created, completed) of the latest matched entries, in Unix nanoseconds.
    completions: VecDeque<(i64, i64)>,
}

impl Pool {
    fn insert(&mut self, mut ticket: Ticket) {
        let seq = self.next_seq;
        self.next_seq += 1;
        ticket.seq = seq;
        for (field, keyword) in ticket.doc.keywords() {
            self.keywords.entry(field.to_owned()).or_default().entry(keyword.to_owned()).or_default().insert(seq);
        }
        for e in &ticket.entries {
            self.by_session.entry(e.session_id).or_default().insert(seq);
        }
        self.active.insert(seq);
        self.seqs.insert(ticket.id.clone(), seq);
        self.tickets.insert(seq, ticket);
    }

    /// Removes a ticket by its id.
    fn remove(&mut self, ticket: &str) -> Option<Ticket> {
        let seq = *self.seqs.get(ticket)?;
        self.remove_seq(seq)
    }

    fn remove_seq(&mut self, seq: Seq) -> Option<Ticket> {
        let removed = self.tickets.remove(&seq)?;
        self.seqs.remove(&removed.id);
        for (field, keyword) in removed.doc.keywords() {
            if let Some(values) = self.keywords.get_mut(field) {
                if let Some(ids) = values.get_mut(keyword) {
                    ids.remove(&seq);
                    if ids.is_empty() {
                        values.remove(keyword);
                    }
                }
                if values.is_empty() {
                    self.keywords.remove(field);
                }
            }
        }
        self.active.remove(&seq);
        for e in &removed.entries {
            if let Some(held) = self.by_session.get_mut(&e.session_id) {
                held.remove(&seq);
                if held.is_empty() {
                    self.by_session.remove(&e.session_id);
                }
            }
        }
        Some(removed)
    }
}

/// The pool of one node.
#[derive(Default)]
pub struct Matchmaker {
    config: MatchmakerConfig,
    pool: Mutex<Pool>,
    /// Tickets in the pool, updated after every change (read without the pool lock).
    tickets: AtomicUsize,
    /// The figures of the latest pass (read without the pool lock).
    stats: Mutex<api::MatchmakerStats>,
}

/// One matched player, as the pass hands it to delivery.
pub struct Matched {
    ticket: String,
    entry: Entry,
    party_id: String,
    string_properties: HashMap<String, String>,
    numeric_properties: HashMap<String, f64>,
}

fn now_nanos() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

fn nanos_to_timestamp(ns: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: ns.div_euclid(1_000_000_000), nanos: ns.rem_euclid(1_000_000_000) as i32 }
}

/// Sets of the given tickets whose sizes add up to exactly `required` (Nakama's
/// `groupIndexes`), as (tickets, their mean creation time). Nakama lists every such set, which
/// grows exponentially with the tickets; this walks the oldest tickets first and stops after
/// [`MAX_TRIM_SETS`] sets, which always includes the oldest set when tickets are single players.
fn groups_summing_to<'a>(tickets: &[&'a Ticket], required: usize) -> Vec<(Vec<&'a Ticket>, i128)> {
    fn walk<'a>(tickets: &[&'a Ticket], required: usize, chosen: &mut Vec<&'a Ticket>, out: &mut Vec<(Vec<&'a Ticket>, i128)>) {
        if out.len() >= MAX_TRIM_SETS {
            return;
        }
        if required == 0 {
            let mean = chosen.iter().map(|t| t.created_at as i128).sum::<i128>() / chosen.len().max(1) as i128;
            out.push((chosen.clone(), mean));
            return;
        }
        let Some((first, rest)) = tickets.split_first() else { return };
        if first.count() <= required {
            chosen.push(first);
            walk(rest, required - first.count(), chosen, out);
            chosen.pop();
        }
        walk(rest, required, chosen, out);
    }
    let mut sorted = tickets.to_vec();
    sorted.sort_by_key(|t| t.created_at);
    let mut out = Vec::new();
    walk(&sorted, required, &mut Vec::new(), &mut out);
    out
}

/// How many candidate sets count-multiple trimming compares at most.
const MAX_TRIM_SETS: usize = 1024;

impl Matchmaker {
    pub fn new(config: MatchmakerConfig) -> Matchmaker {
        Matchmaker { config, ..Matchmaker::default() }
    }

    /// Adds a solo ticket for `entry`'s session; `None` when the session holds too many.
    pub fn add(&self, entry: Entry, request: TicketRequest) -> Option<String> {
        let id = Uuid::new_v4().to_string();
        let created_at = now_nanos();
        let mut doc = Document::default();
        doc.add("ticket", Value::Keyword(id.clone()));
        doc.add("min_count", Value::Number(request.min_count as f64));
        doc.add("max_count", Value::Number(request.max_count as f64));
        doc.add("party_id", Value::Keyword(String::new()));
        doc.add("created_at", Value::Number(created_at as f64));
        for (k, v) in &request.string_properties {
            doc.add_text(format!("properties.{k}"), v);
        }
        for (k, v) in &request.numeric_properties {
            doc.add(format!("properties.{k}"), Value::Number(*v));
        }
        let session = entry.session_id;
        let ticket = Ticket {
            seq: 0,
            id: id.clone(),
            query: request.query,
            min_count: request.min_count,
            max_count: request.max_count,
            count_multiple: request.count_multiple,
            party_id: String::new(),
            owner: Some(session),
            created_at,
            intervals: 0,
            entries: vec![entry],
            doc,
            string_properties: request.string_properties,
            numeric_properties: request.numeric_properties,
        };
        let mut pool = self.pool.lock();
        if pool.by_session.get(&session).is_some_and(|held| held.len() >= self.config.max_tickets) {
            return None;
        }
        pool.insert(ticket);
        self.tickets.store(pool.tickets.len(), Ordering::Relaxed);
        Some(id)
    }

    /// Removes `ticket` if it is a solo ticket of `session`; returns whether it did.
    pub fn remove_owned(&self, session: SessionId, ticket: &str) -> bool {
        let mut pool = self.pool.lock();
        let owned = pool.seqs.get(ticket).and_then(|seq| pool.tickets.get(seq)).is_some_and(|t| t.party_id.is_empty() && t.owner == Some(session));
        if owned {
            pool.remove(ticket);
            self.tickets.store(pool.tickets.len(), Ordering::Relaxed);
        }
        owned
    }

    /// Removes every ticket holding `session`.
    pub fn remove_session(&self, session: SessionId) {
        let mut pool = self.pool.lock();
        let held: Vec<Seq> = pool.by_session.get(&session).map(|h| h.iter().copied().collect()).unwrap_or_default();
        for seq in held {
            pool.remove_seq(seq);
        }
        self.tickets.store(pool.tickets.len(), Ordering::Relaxed);
    }

    /// How many tickets wait in the pool.
    pub fn ticket_count(&self) -> usize {
        self.tickets.load(Ordering::Relaxed)
    }

    /// The figures of the latest pass.
    pub fn stats(&self) -> api::MatchmakerStats {
        self.stats.lock().clone()
    }

    /// One pass of Nakama's default algorithm. Returns the matched groups (each: the candidates
    /// it gathered, then the searching ticket's own entries), already removed from the pool.
    pub fn process(&self) -> Vec<Vec<Matched>> {
        let mut guard = self.pool.lock();
        let pool = &mut *guard;
        let cfg = &self.config;
        let started = Instant::now();
        let ticket_count = pool.tickets.len();
        let oldest = pool.tickets.values().map(|t| t.created_at).min();

        // Active tickets search oldest first (Nakama's order is unspecified).
        let mut active: Vec<Seq> = pool.active.iter().copied().collect();
        active.sort_by_key(|seq| (pool.tickets[seq].created_at, *seq));
        let mut selected = SeqSet::default();
        let mut expired = Vec::new();
        let mut matched_ids: Vec<Vec<Seq>> = Vec::new();
        let rev_deadline = (cfg.rev_threshold > 0).then(|| Duration::from_secs(cfg.interval_sec.saturating_mul(cfg.rev_threshold)));

        for id in active {
            if selected.contains(&id) {
                continue;
            }
            let t = pool.tickets.get_mut(&id).expect("active tickets are in the pool");
            t.intervals += 1;
            let last_interval = t.intervals >= cfg.max_intervals || t.min_count == t.max_count;
            if last_interval {
                expired.push(id);
            }
            let mutual = cfg.rev_precision && rev_deadline.is_none_or(|d| started.elapsed() < d);
            let t = &pool.tickets[&id];

            // Candidates: T's query matches them, their counts fit inside T's, not T's party.
            // With `+field:keyword` clauses only the tickets holding the rarest such keyword
            // need evaluating.
            let mut narrowest: Option<Option<&SeqSet>> = None;
            for (field, keyword) in t.query.required_keywords() {
                let ids = pool.keywords.get(field).and_then(|v| v.get(keyword));
                if narrowest.is_none_or(|n| ids.map_or(0, SeqSet::len) < n.map_or(0, SeqSet::len)) {
                    narrowest = Some(ids);
                }
            }
            let candidates: Box<dyn Iterator<Item = &Ticket>> = match narrowest {
                None => Box::new(pool.tickets.values()),
                Some(None) => Box::new(std::iter::empty()),
                Some(Some(ids)) => Box::new(ids.iter().filter_map(|i| pool.tickets.get(i))),
            };
            let mut hits: Vec<(f64, &Ticket)> = candidates
                .filter(|h| h.seq != id && !selected.contains(&h.seq))
                .filter(|h| h.min_count >= t.min_count && h.max_count <= t.max_count)
                .filter(|h| t.party_id.is_empty() || h.party_id != t.party_id)
                .filter_map(|h| t.query.score(&h.doc).map(|s| (s, h)))
                .collect();
            // Best matches first, then the longest waiting.
            hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.created_at.cmp(&b.1.created_at)).then(a.1.seq.cmp(&b.1.seq)));

            let size_of = |combo: &[&Ticket]| combo.iter().map(|c| c.count()).sum::<usize>();
            let mut combos: Vec<Vec<&Ticket>> = Vec::new();
            let last_hit = hits.len().saturating_sub(1);
            for (n, &(_, h)) in hits.iter().enumerate() {
                if mutual && !h.query.matches(&t.doc) {
                    continue;
                }
                if t.max_count < h.max_count && h.intervals <= cfg.max_intervals {
                    // H may still find a bigger match: let it wait.
                    continue;
                }
                if t.shares_session_with(h) {
                    continue;
                }
                // Join the first combo with room and no conflict. As in Nakama, once a combo
                // shares a session with H, the later combos are passed over too.
                let mut session_conflict = false;
                let mut found = None;
                for (ci, combo) in combos.iter_mut().enumerate() {
                    if size_of(combo) + h.count() + t.count() > t.max_count {
                        continue;
                    }
                    session_conflict = session_conflict || combo.iter().any(|c| c.shares_session_with(h));
                    let mutual_conflict = mutual && combo.iter().any(|c| !h.query.matches(&c.doc) || !c.query.matches(&h.doc));
                    if session_conflict || mutual_conflict {
                        continue;
                    }
                    combo.push(h);
                    found = Some(ci);
                    break;
                }
                let found = found.unwrap_or_else(|| {
                    combos.push(vec![h]);
                    combos.len() - 1
                });
                let mut size = size_of(&combos[found]) + t.count();
                let complete = size == t.max_count || (last_interval && t.min_count <= size && size <= t.max_count && n >= last_hit);
                if !complete {
                    continue;
                }
                let mut chosen = combos[found].clone();
                let rem = size % t.count_multiple;
                if rem != 0 {
                    // Drop whole tickets adding up to the remainder: the set with the oldest mean
                    // creation time (Nakama's choice, Appendix A.13).
                    let mut eligible: Vec<&Ticket> = Vec::new();
                    for c in &chosen {
                        if c.count() <= rem && !eligible.iter().any(|e| e.seq == c.seq) {
                            eligible.push(c);
                        }
                    }
                    let Some((drop, _)) = groups_summing_to(&eligible, rem).into_iter().min_by_key(|(_, mean)| *mean) else {
                        continue;
                    };
                    chosen.retain(|c| !drop.iter().any(|d| d.seq == c.seq));
                    size = size_of(&chosen) + t.count();
                    if size % t.count_multiple != 0 {
                        continue;
                    }
                }
                if !chosen.iter().all(|c| c.accepts(size)) {
                    continue;
                }
                combos.remove(found);
                let mut ids: Vec<Seq> = chosen.iter().map(|c| c.seq).collect();
                ids.push(id);
                selected.extend(ids.iter().copied());
                matched_ids.push(ids);
                break;
            }
        }
        for id in expired {
            pool.active.remove(&id);
        }

        let completed_at = now_nanos();
        let mut groups = Vec::with_capacity(matched_ids.len());
        for ids in matched_ids {
            let mut group = Vec::new();
            for id in ids {
                let Some(t) = pool.remove_seq(id) else { continue };
                for entry in t.entries {
                    if pool.completions.len() == COMPLETIONS_KEPT {
                        pool.completions.pop_front();
                    }
                    pool.completions.push_back((t.created_at, completed_at));
                    group.push(Matched {
                        ticket: t.id.clone(),
                        entry,
                        party_id: t.party_id.clone(),
                        string_properties: t.string_properties.clone(),
                        numeric_properties: t.numeric_properties.clone(),
                    });
                }
            }
            groups.push(group);
        }
        self.tickets.store(pool.tickets.len(), Ordering::Relaxed);
        *self.stats.lock() = api::MatchmakerStats {
            ticket_count: ticket_count as i32,
            oldest_ticket_create_time: oldest.map(nanos_to_timestamp),
            completions: pool
                .completions
                .iter()
                .map(|&(c, d)| api::MatchmakerCompletionStats {
                    create_time: Some(nanos_to_timestamp(c)),
                    complete_time: Some(nanos_to_timestamp(d)),
                })
                .collect(),
        };
        groups
    }
}

/// A job for the pool's owner thread.
type Job = Box<dyn FnOnce(&Matchmaker) + Send>;

/// The one thread that works on a node's matchmaker pool. Async callers queue jobs and await
/// their answers; fire-and-forget jobs (disconnects) just queue. The thread ends when the last
/// handle is dropped.
pub struct MatchmakerOwner {
    pool: Arc<Matchmaker>,
    jobs: mpsc::Sender<Job>,
}

impl MatchmakerOwner {
    /// Starts the owner thread for `pool`.
    pub fn spawn(pool: Matchmaker) -> MatchmakerOwner {
        let pool = Arc::new(pool);
        let (jobs, queue) = mpsc::channel::<Job>();
        let owned = pool.clone();
        std::thread::Builder::new()
            .name("kizuna-matchmaker".into())
            .spawn(move || {
                for job in queue {
                    // A panic is confined to its job: the pool lock does not poison, and the
                    // next job runs as usual.
                    if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| job(&owned))) {
                        let what = panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
                        tracing::error!(panic = what.unwrap_or("?"), "matchmaker job panicked");
                    }
                }
            })
            .expect("start the matchmaker thread");
        MatchmakerOwner { pool, jobs }
    }

    /// Runs `f` on the owner thread and returns its result; `None` if the job panicked.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce(&Matchmaker) -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |mm: &Matchmaker| {
                let _ = tx.send(f(mm));
            }))
            .ok()?;
        rx.await.ok()
    }

    /// Queues `f` without waiting for it.
    pub fn post(&self, f: impl FnOnce(&Matchmaker) + Send + 'static) {
        let _ = self.jobs.send(Box::new(f));
    }

    /// The pool, for reads that need no lock (ticket count, stats).
    pub fn pool(&self) -> &Matchmaker {
        &self.pool
    }
}

impl Core {
    /// `matchmaker_add`: validates the counts (Nakama's order and messages), parses the query
    /// (empty means `*`), and adds a solo ticket for the session.
    pub async fn matchmaker_add(&self, session: &SessionHandle, add: realtime::MatchmakerAdd) -> Result<realtime::MatchmakerTicket, Error> {
        if add.min_count < 2 {
            return Err(Error::invalid("Invalid minimum count, must be >= 2"));
        }
        if add.max_count < add.min_count {
            return Err(Error::invalid("Invalid maximum count, must be >= minimum count"));
        }
        let count_multiple = add.count_multiple.unwrap_or(1);
        if count_multiple < 1 {
            return Err(Error::invalid("Invalid count multiple, must be >= 1"));
        }
        if add.min_count % count_multiple != 0 {
            return Err(Error::invalid("Invalid count multiple for minimum count, must divide"));
        }
        if add.max_count % count_multiple != 0 {
            return Err(Error::invalid("Invalid count multiple for maximum count, must divide"));
        }
        let query_text = if add.query.is_empty() { "*" } else { add.query.as_str() };
        let query =
            self.parse_query(query_text).await.map_err(|e| Error::Internal { message: "Error adding to matchmaker".into(), source: Some(Box::new(e)) })?;
        let entry = Entry { user_id: session.user_id, session_id: session.id, username: session.username.clone() };
        let request = TicketRequest {
            query,
            min_count: add.min_count as usize,
            max_count: add.max_count as usize,
            count_multiple: count_multiple as usize,
            string_properties: add.string_properties,
            numeric_properties: add.numeric_properties,
        };
        let Some(ticket) = self.inner.matchmaker.run(move |mm| mm.add(entry, request)).await.flatten() else {
            tracing::debug!(session = %session.id, "matchmaker too many tickets");
            return Err(Error::Internal { message: "Error adding to matchmaker".into(), source: None });
        };
        Ok(realtime::MatchmakerTicket { ticket })
    }

    /// `matchmaker_remove`: only a solo ticket of this session.
    pub async fn matchmaker_remove(&self, session: &SessionHandle, ticket: &str) -> Result<(), Error> {
        if ticket.is_empty() {
            return Err(Error::invalid("Invalid matchmaker ticket"));
        }
        let (session_id, ticket_id) = (session.id, ticket.to_owned());
        if !self.inner.matchmaker.run(move |mm| mm.remove_owned(session_id, &ticket_id)).await.unwrap_or(false) {
            return Err(Error::invalid("Matchmaker ticket not found"));
        }
        Ok(())
    }

    /// Removes every ticket holding a session (it disconnected).
    pub(crate) fn matchmaker_remove_session(&self, session: SessionId) {
        self.inner.matchmaker.post(move |mm| mm.remove_session(session));
    }

    /// `GET /v2/matchmaker/stats`: the figures of the latest pass.
    pub fn matchmaker_stats(&self) -> api::MatchmakerStats {
        self.inner.matchmaker.pool().stats()
    }

    /// Runs one matchmaking pass and tells every matched session: its own ticket, everyone
    /// matched with it, and a token for a new relayed match. Returns how many matches formed.
    /// The server calls this every `matchmaker.interval_sec`.
    pub async fn matchmaker_process(&self) -> usize {
        let Some(groups) = self.inner.matchmaker.run(|mm| mm.process()).await else { return 0 };
        let now = chrono::Utc::now().timestamp();
        for group in &groups {
            let token = self.inner.session_keys.issue_match_token(&format!("{}.", Uuid::new_v4()), now + TOKEN_LIFETIME_SEC);
            let users: Vec<matchmaker_matched::MatchmakerUser> = group
                .iter()
                .map(|m| matchmaker_matched::MatchmakerUser {
                    presence: Some(UserPresence {
                        user_id: m.entry.user_id.to_string(),
                        session_id: m.entry.session_id.to_string(),
                        username: m.entry.username.clone(),
                        persistence: false,
                        status: None,
                    }),
                    party_id: m.party_id.clone(),
                    string_properties: m.string_properties.clone(),
                    numeric_properties: m.numeric_properties.clone(),
                })
                .collect();
            for (i, m) in group.iter().enumerate() {
                let push = Outgoing::new(Envelope {
                    cid: String::new(),
                    message: Some(Message::MatchmakerMatched(MatchmakerMatched {
                        ticket: m.ticket.clone(),
                        id: Some(matchmaker_matched::Id::Token(token.clone())),
                        users: users.clone(),
                        self_: Some(users[i].clone()),
                    })),
                });
                self.sessions().send_to_sessions([m.entry.session_id], &push);
            }
        }
        groups.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(id: &str, count: usize, min: usize, max: usize, multiple: usize, created_at: i64) -> Ticket {
        Ticket {
            seq: 0,
            id: id.into(),
            query: Query::All,
            min_count: min,
            max_count: max,
            count_multiple: multiple,
            party_id: String::new(),
            owner: None,
            created_at,
            intervals: 0,
            entries: (0..count)
                .map(|_| Entry { user_id: Uuid::new_v4(), session_id: SessionId(Uuid::new_v4()), username: "u".into() })
                .collect(),
            doc: Document::default(),
            string_properties: HashMap::new(),
            numeric_properties: HashMap::new(),
        }
    }

    fn pool_of(tickets: Vec<Ticket>, config: MatchmakerConfig) -> Matchmaker {
        let mm = Matchmaker::new(config);
        {
            let mut pool = mm.pool.lock();
            for t in tickets {
                pool.insert(t);
            }
        }
        mm
    }

    fn ids(groups: &[Vec<Matched>]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| {
                let mut v: Vec<String> = g.iter().map(|m| m.ticket.clone()).collect();
                v.dedup();
                v.sort();
                v
            })
            .collect()
    }

    #[test]
    fn full_matches_form_at_once_and_partial_ones_on_the_last_interval() {
        // Three players wanting 2..4: not full on the first pass (intervals 1 of 2).
        let mm = pool_of((0..3).map(|i| ticket(&format!("t{i}"), 1, 2, 4, 1, i)).collect(), MatchmakerConfig::default());
        assert!(mm.process().is_empty());
        let groups = mm.process();
        assert_eq!(ids(&groups), vec![vec!["t0", "t1", "t2"]]);
        assert!(mm.pool.lock().tickets.is_empty());
        // Exactly max_count players match on the first pass.
        let mm = pool_of((0..4).map(|i| ticket(&format!("t{i}"), 1, 2, 2, 1, i)).collect(), MatchmakerConfig::default());
        let groups = mm.process();
        assert_eq!(ids(&groups), vec![vec!["t0", "t1"], vec!["t2", "t3"]]);
    }

    #[test]
    fn count_multiple_drops_whole_tickets_with_the_oldest_mean_time() {
        // T (newest, searching last) wants 2..6 in multiples of 2; five single players exist.
        let mut tickets: Vec<Ticket> = (0..5).map(|i| ticket(&format!("c{i}"), 1, 2, 6, 2, 10 + i)).collect();
        tickets.push(ticket("t", 1, 2, 6, 2, 1));
        let mm = pool_of(tickets, MatchmakerConfig { max_intervals: 1, ..MatchmakerConfig::default() });
        let groups = mm.process();
        // T searches first (oldest): 6 players = its max: one match of all six.
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].len(), 6);

        // Five players in all with multiples of 2: a 5-player combo loses the oldest single.
        let mut tickets: Vec<Ticket> = (0..4).map(|i| ticket(&format!("c{i}"), 1, 2, 6, 2, 10 + i)).collect();
        tickets.push(ticket("t", 1, 2, 6, 2, 1));
        let mm = pool_of(tickets, MatchmakerConfig { max_intervals: 1, ..MatchmakerConfig::default() });
        let groups = mm.process();
        assert_eq!(ids(&groups), vec![vec!["c1", "c2", "c3", "t"]]);
        assert!(mm.pool.lock().seqs.contains_key("c0"));
    }

    #[test]
    fn counts_must_fit_and_sessions_never_repeat() {
        // A ticket wanting 6..8 is not a candidate for one wanting 2..4.
        let mm = pool_of(vec![ticket("a", 1, 2, 4, 1, 1), ticket("b", 1, 6, 8, 1, 2)], MatchmakerConfig { max_intervals: 1, ..Default::default() });
        assert!(mm.process().is_empty());
        // Two tickets of one session never meet.
        let mut a = ticket("a", 1, 2, 2, 1, 1);
        let mut b = ticket("b", 1, 2, 2, 1, 2);
        b.entries = a.entries.clone();
        a.owner = Some(a.entries[0].session_id);
        b.owner = a.owner;
        let mm = pool_of(vec![a, b], MatchmakerConfig::default());
        assert!(mm.process().is_empty());
    }

    #[test]
    fn queries_select_candidates_and_rank_them() {
        let mut a = ticket("a", 1, 2, 2, 1, 1);
        a.query = Query::parse("+properties.region:eu properties.mode:ctf").unwrap();
        let mut b = ticket("b", 1, 2, 2, 1, 2);
        b.doc.add_text("properties.region", "eu");
        let mut c = ticket("c", 1, 2, 2, 1, 3);
        c.doc.add_text("properties.region", "eu");
        c.doc.add_text("properties.mode", "ctf");
        let mut d = ticket("d", 1, 2, 2, 1, 0);
        d.doc.add_text("properties.region", "us");
        d.query = Query::parse("+properties.region:us").unwrap();
        // a prefers c (higher score) over the older b; d finds nobody.
        let mm = pool_of(vec![a, b, c, d], MatchmakerConfig::default());
        let groups = mm.process();
        // d searches first (oldest) and finds no one in "us"; b's query (`*`) then finds d:
        // matching is one-directional unless rev_precision is on.
        assert_eq!(ids(&groups), vec![vec!["a", "c"], vec!["b", "d"]]);
        let pool = mm.pool.lock();
        assert!(pool.tickets.is_empty() && pool.seqs.is_empty() && pool.keywords.is_empty() && pool.by_session.is_empty() && pool.active.is_empty());
    }

    #[tokio::test]
    async fn a_panicking_job_does_not_break_the_owner() {
        let owner = MatchmakerOwner::spawn(Matchmaker::new(MatchmakerConfig::default()));
        let session = SessionId(Uuid::new_v4());
        let entry = Entry { user_id: Uuid::new_v4(), session_id: session, username: "u".into() };
        let request = || TicketRequest {
            query: Query::parse("*").unwrap(),
            min_count: 2,
            max_count: 2,
            count_multiple: 1,
            string_properties: HashMap::new(),
            numeric_properties: HashMap::new(),
        };
        let e = entry.clone();
        let first = owner.run(move |mm| mm.add(e, request())).await.flatten();
        assert!(first.is_some());
        // The job panics while holding the pool lock.
        let panicked = owner
            .run(|mm| {
                let _pool = mm.pool.lock();
                panic!("injected");
            })
            .await;
        assert!(panicked.is_none());
        // Later jobs (and lock-free reads) work as before.
        let second = owner.run(move |mm| mm.add(entry, request())).await.flatten();
        assert!(second.is_some());
        assert_eq!(owner.pool().ticket_count(), 2);
        owner.post(move |mm| mm.remove_session(session));
        assert_eq!(owner.run(|mm| mm.ticket_count()).await, Some(0));
    }

    #[test]
    fn subsets_adding_up_to_a_size() {
        let ts = [ticket("a", 1, 2, 2, 1, 10), ticket("b", 2, 2, 2, 1, 20), ticket("c", 1, 2, 2, 1, 30)];
        let refs: Vec<&Ticket> = ts.iter().collect();
        let mut groups: Vec<Vec<&str>> = groups_summing_to(&refs, 2).into_iter().map(|(g, _)| g.iter().map(|t| t.id.as_str()).collect()).collect();
        groups.sort();
        assert_eq!(groups, vec![vec!["a", "c"], vec!["b"]]);
        // Many single players: bounded work, and the oldest set is among those compared.
        let many: Vec<Ticket> = (0..200).map(|i| ticket(&format!("p{i}"), 1, 2, 200, 1, 1000 - i)).collect();
        let refs: Vec<&Ticket> = many.iter().collect();
        let sets = groups_summing_to(&refs, 9);
        assert_eq!(sets.len(), MAX_TRIM_SETS);
        let (oldest, _) = sets.into_iter().min_by_key(|(_, mean)| *mean).unwrap();
        let mut ids: Vec<i64> = oldest.iter().map(|t| t.created_at).collect();
        ids.sort();
        assert_eq!(ids, (801..=809).collect::<Vec<i64>>());
    }
}
