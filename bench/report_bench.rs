//! Store-backed report benchmark: a year of on-call history — 100,000 incidents with 10
//! timeline events each (1,000,000 events), their pages and check transitions — written into a
//! real SQLite store through `Store::commit` batches, then `report::gather::report_json` over
//! 365 days and the postmortem of one incident with 10,000 events, timed in this process.
//!
//! Run through `bench/report.sh` (release build; it also times the same through the real daemon
//! and CLI). By hand: `report_bench DIR [--incidents N]`. DIR keeps the database and a config
//! (`DIR/bench.toml`) for the daemon; a database already there with the same size is reused.
//! Prints `big_incident=<id>` for the script.

use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use oncalld::core::check_state::CheckState;
use oncalld::core::escalation::EscalationState;
use oncalld::core::model::{
    CheckTransitionRecord, DeliveryOutcome, EventKind, Incident, IncidentState, Page, PageAttempt,
    PageEvent, TimelineEvent,
};
use oncalld::report::gather;
use oncalld::store::{Batch, Store};

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

const CHECKS: usize = 50;
const PEOPLE: [&str; 4] = ["alice", "bob", "carol", "dave"];
const EVENTS_PER_INCIDENT: u32 = 10;
const BIG_EVENTS: u32 = 10_000;

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(
        args.first()
            .ok_or("usage: report_bench DIR [--incidents N]")?,
    );
    let incidents: u64 = match args.iter().position(|a| a == "--incidents") {
        Some(i) => args.get(i + 1).ok_or("--incidents N")?.parse()?,
        None => 100_000,
    };
    std::fs::create_dir_all(&dir)?;
    let config_path = write_config(&dir)?;
    let config = oncalld::config::load(&config_path).map_err(|e| e.to_string())?;
    let state = dir.join("state");
    let marker = state.join(format!("generated-{incidents}"));
    let now = Timestamp::now();
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&state);
        let started = Instant::now();
        let mut store = Store::open(&state)?;
        generate(&mut store, incidents, now)?;
        drop(store);
        mark_delivered(&state)?;
        std::fs::write(&marker, now.to_string())?;
        println!(
            "generated {incidents} incidents, {} events, {} pages in {:.1} s",
            incidents * u64::from(EVENTS_PER_INCIDENT) + u64::from(BIG_EVENTS),
            incidents * 3,
            started.elapsed().as_secs_f64()
        );
    }
    let big = incidents + 1;
    println!("big_incident={big}");

    let store = Store::open(&state)?;
    let from = now - SignedDuration::from_hours(365 * 24);
    for run in 1..=3 {
        let t = Instant::now();
        let value = gather::report_json(&store, &config, from, now)?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let total = &value["total"];
        println!(
            "report_json 365d run {run}: {ms:.0} ms (incidents {}, acked {}, mtta {:.0} s, \
             availability {:.3}%)",
            total["incidents"],
            total["acked"],
            total["mtta"]["mean_seconds"].as_f64().unwrap_or(f64::NAN),
            total["availability_percent"].as_f64().unwrap_or(f64::NAN)
        );
    }
    parts(&store, from, now)?;
    for run in 1..=3 {
        let t = Instant::now();
        let md = gather::postmortem(&store, &config, big, now)?.ok_or("no big incident")?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "postmortem of #{big} ({BIG_EVENTS} events) run {run}: {ms:.1} ms ({} lines)",
            md.lines().count()
        );
    }
    Ok(())
}

/// Where the report's time goes: each store query on its own.
fn parts(store: &Store, from: Timestamp, to: Timestamp) -> BoxResult<()> {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let n = store.incident_summaries(from, to)?.len();
    println!("  incident_summaries: {n} rows, {:.0} ms", ms(t));
    let t = Instant::now();
    let n = store.first_acks(from)?.len();
    println!("  first_acks: {n} rows, {:.0} ms", ms(t));
    let t = Instant::now();
    let n = store.report_transitions(from, to)?.len();
    println!("  report_transitions: {n} rows, {:.0} ms", ms(t));
    let t = Instant::now();
    let n = store.report_pages(from, to)?.len();
    println!("  report_pages: {n} rows, {:.0} ms", ms(t));
    Ok(())
}

/// A config naming the generated checks and people (command probes of `true`, hourly, so a
/// daemon run on it adds nothing), with the state dir and socket inside `dir`.
fn write_config(dir: &Path) -> BoxResult<PathBuf> {
    let dir = std::fs::canonicalize(dir)?;
    let mut toml = format!(
        "[daemon]\nstate_dir = {:?}\nsocket = {:?}\ntime_zone = \"Europe/Paris\"\n\n\
         [notifiers.log]\ntype = \"console\"\n\n",
        dir.join("state").display().to_string(),
        dir.join("oncalld.sock").display().to_string()
    );
    for p in PEOPLE {
        toml.push_str(&format!("[people.{p}]\nnotify = [{{ via = \"log\" }}]\n"));
    }
    toml.push_str(
        "\n[policies.default]\n[[policies.default.steps]]\nnotify = [\"person:alice\"]\n\
         escalate_after = \"15m\"\n\n",
    );
    for c in 0..CHECKS {
        toml.push_str(&format!(
            "[[check]]\nname = \"service-{c:02}\"\ntype = \"command\"\ncommand = [\"true\"]\n\
             interval = \"1h\"\n\n"
        ));
    }
    let path = dir.join("bench.toml");
    std::fs::write(&path, toml)?;
    Ok(path)
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

/// `incidents` incidents spread over the last 364 days, committed 1,000 per batch, then the
/// big one.
fn generate(store: &mut Store, incidents: u64, now: Timestamp) -> BoxResult<()> {
    let start = now - secs(364 * 86_400);
    let step = (363 * 86_400) / incidents.max(1) as i64;
    let mut rng = fastrand::Rng::with_seed(7);
    let mut batch = Batch::default();
    for id in 1..=incidents {
        let opened = start + secs((id as i64 - 1) * step + rng.i64(0..step.max(1)));
        add_incident(&mut batch, id, opened, &mut rng);
        if id % 1_000 == 0 {
            store.commit(&batch)?;
            batch = Batch::default();
        }
    }
    store.commit(&batch)?;
    add_big_incident(
        store,
        incidents + 1,
        now - secs(i64::from(BIG_EVENTS) + 3_600),
    )?;
    Ok(())
}

fn event(
    id: u64,
    seq: u32,
    at: Timestamp,
    kind: EventKind,
    actor: &str,
    msg: &str,
) -> TimelineEvent {
    TimelineEvent {
        incident: id,
        seq,
        at,
        kind,
        actor: actor.to_string(),
        message: msg.to_string(),
    }
}

fn page(id: u64, seq: u32, who: &str, event: PageEvent, check: &str, at: Timestamp) -> Page {
    Page {
        key: Page::idempotency_key(id, seq, who, "log"),
        incident: id,
        seq,
        event,
        recipient: who.to_string(),
        notifier: "log".to_string(),
        to: Some(format!("{who}@example.org")),
        step: 1,
        check: check.to_string(),
        summary: "HTTP 500".to_string(),
        incident_state: IncidentState::Triggered,
        opened_at: at,
        also_paged: Vec::new(),
        text: format!("TRIGGERED #{id} {check}: HTTP 500"),
        created_at: at,
        digest: Vec::new(),
    }
}

fn transition(
    check: &str,
    at: Timestamp,
    from: CheckState,
    to: CheckState,
) -> CheckTransitionRecord {
    CheckTransitionRecord {
        check: check.to_string(),
        at,
        from,
        to,
        message: "HTTP 500 Internal Server Error".to_string(),
    }
}

/// One incident with exactly [`EVENTS_PER_INCIDENT`] events: trigger, two pages, an
/// escalation and its page, an ack (one in twenty times out and is acked again), notes, and
/// the resolve; three pages in the outbox and its three check transitions.
fn add_incident(b: &mut Batch, id: u64, opened: Timestamp, rng: &mut fastrand::Rng) {
    let check = format!("service-{:02}", rng.usize(..CHECKS));
    let who = PEOPLE[rng.usize(..PEOPLE.len())];
    let ack = opened + secs(rng.i64(30..1_800));
    let resolved = opened + secs(rng.i64(1_900..7_200));
    let timed_out = rng.u8(..20) == 0;
    let acker = format!("{who} (uid 100{})", rng.u8(..4));
    b.events.extend(incident_events(
        id, opened, ack, resolved, timed_out, &acker,
    ));
    b.pages
        .push(page(id, 2, "alice", PageEvent::Triggered, &check, opened));
    b.pages
        .push(page(id, 3, "bob", PageEvent::Triggered, &check, opened));
    let escalated = opened + secs(15);
    b.pages.push(page(
        id,
        5,
        "carol",
        PageEvent::Escalated,
        &check,
        escalated,
    ));
    let (up, down) = (CheckState::Up, CheckState::Down);
    b.transitions.extend([
        transition(
            &check,
            opened - secs(20),
            up,
            CheckState::Failing { attempt: 1 },
        ),
        transition(&check, opened, CheckState::Failing { attempt: 2 }, down),
        transition(&check, resolved, down, up),
    ]);
    let last_ack = if timed_out { ack + secs(1_800) } else { ack };
    b.incidents.push(Incident {
        id,
        check,
        summary: "HTTP 500 in 12 ms".to_string(),
        state: IncidentState::Resolved,
        policy: "default".to_string(),
        opened_at: opened,
        acked_at: Some(last_ack),
        acked_by: Some(acker),
        resolved_at: Some(resolved),
        resolved_by: Some("auto".to_string()),
        next_seq: EVENTS_PER_INCIDENT + 1,
        escalation: EscalationState::default(),
        fingerprint: None,
    });
}

/// The ten events of one generated incident, in seq order.
fn incident_events(
    id: u64,
    opened: Timestamp,
    ack: Timestamp,
    resolved: Timestamp,
    timed_out: bool,
    acker: &str,
) -> Vec<TimelineEvent> {
    use EventKind::*;
    let d = "oncalld";
    let mut spec: Vec<(Timestamp, EventKind, &str, &str)> = vec![
        (opened, Triggered, d, "HTTP 500 in 12 ms"),
        (opened, Paged, d, "paged alice via log (step 1)"),
        (opened, Paged, d, "paged bob via log (step 1)"),
        (opened + secs(15), Escalated, d, "escalated to step 2"),
        (opened + secs(15), Paged, d, "paged carol via log (step 2)"),
        (ack, Acknowledged, acker, ""),
    ];
    if timed_out {
        spec.push((ack + secs(60), AckTimedOut, d, "ack timed out"));
        spec.push((ack + secs(1_800), Acknowledged, acker, "back on it"));
    } else {
        spec.push((ack + secs(5), Note, acker, "looking"));
        spec.push((ack + secs(10), Note, acker, "todo: add a runbook"));
    }
    spec.push((ack + secs(20), Note, acker, "root cause: full disk"));
    spec.push((resolved, Resolved, "auto", "HTTP 200 in 9 ms"));
    spec.into_iter()
        .zip(1..)
        .map(|((at, kind, actor, msg), seq)| event(id, seq, at, kind, actor, msg))
        .collect()
}

/// One incident with [`BIG_EVENTS`] events, one a second: every fourth an escalation with a
/// page (200 of them in the outbox, each with a delivered attempt), the rest pages and notes.
fn add_big_incident(store: &mut Store, id: u64, opened: Timestamp) -> BoxResult<()> {
    let check = "service-00";
    let mut b = Batch::default();
    b.events.push(event(
        id,
        1,
        opened,
        EventKind::Triggered,
        "oncalld",
        "HTTP 500 in 12 ms",
    ));
    let mut attempts = Vec::new();
    for seq in 2..BIG_EVENTS {
        let at = opened + secs(i64::from(seq));
        let who = PEOPLE[seq as usize % PEOPLE.len()];
        let kind = match seq % 4 {
            0 => EventKind::Escalated,
            1 => EventKind::Note,
            _ => EventKind::Paged,
        };
        let msg = match kind {
            EventKind::Note if seq % 40 == 1 => "lesson: alert on disk usage earlier".to_string(),
            EventKind::Note => format!("still looking ({seq})"),
            EventKind::Escalated => "escalated to step 2".to_string(),
            _ => format!("paged {who} via log (step 1)"),
        };
        b.events
            .push(event(id, seq, at, kind, "bob (uid 1001)", &msg));
        if kind == EventKind::Paged && b.pages.len() < 200 {
            let p = page(id, seq, who, PageEvent::Triggered, check, at);
            attempts.push(PageAttempt {
                key: p.key.clone(),
                incident: id,
                recipient: who.to_string(),
                notifier: "log".to_string(),
                attempt: 1,
                at: at + secs(1),
                outcome: DeliveryOutcome::Delivered,
            });
            b.pages.push(p);
        }
    }
    let end = opened + secs(i64::from(BIG_EVENTS));
    b.events.push(event(
        id,
        BIG_EVENTS,
        end,
        EventKind::Resolved,
        "auto",
        "HTTP 200 in 9 ms",
    ));
    b.incidents.push(Incident {
        id,
        check: check.to_string(),
        summary: "HTTP 500 in 12 ms".to_string(),
        state: IncidentState::Resolved,
        policy: "default".to_string(),
        opened_at: opened,
        acked_at: None,
        acked_by: None,
        resolved_at: Some(end),
        resolved_by: Some("auto".to_string()),
        next_seq: BIG_EVENTS + 1,
        escalation: EscalationState::default(),
        fingerprint: None,
    });
    store.commit(&b)?;
    for a in &attempts {
        store.record_attempt(a, None)?;
    }
    Ok(())
}

/// Marks every generated page delivered, so a daemon started on this store has nothing to
/// send (only `record_attempt` does that through the store API, one fsync per page).
fn mark_delivered(state: &Path) -> BoxResult<()> {
    let conn = rusqlite::Connection::open(state.join(oncalld::store::DB_FILE))?;
    conn.execute(
        "UPDATE outbox SET status = 'delivered', attempts = 1, next_attempt_at = NULL
         WHERE status = 'pending'",
        [],
    )?;
    Ok(())
}
