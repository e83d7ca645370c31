//! The tier job's steps against the database: adopting members into evaluation periods,
//! window recounts, decay, evaluations and downgrade warnings (member-day messages are
//! `notifications::member_day`).
//!
//! Every step pages by member id and changes a member only by a conditional update on
//! what it read (`period_end = old`, `growth_recount_at <= now`, `decayed_through` unchanged),
//! so a second run, or a second instance at the same time, changes nothing again. A
//! page runs in one transaction; when it fails, its members are retried one by one and
//! the failing one is skipped (and counted), never the whole run.

use member_core::civil;
use member_core::dto::TierProgram;
use member_core::tier_program::{self as rules, Standing, Verdict};
use sqlx::AnyConnection;

use crate::tiers::store::growth;

use crate::db::{Backend, Db, DbError};
use crate::messages::store::notifications::{self, Kind};
use crate::tiers::store::growth::Event;
use crate::tiers::store::tier_program::Version;

pub const PAGE: i64 = 500;

/// Counts of one step (or a whole run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub changed: u64,
    pub kept: u64,
    pub downgraded: u64,
    pub raised: u64,
    pub skipped: u64,
}

/// The version in effect at `at` among `versions`.
pub fn program_at(versions: &[Version], at: i64) -> Option<&Version> {
    versions
        .iter()
        .filter(|v| v.effective_from <= at)
        .max_by_key(|v| (v.effective_from, v.id))
}

async fn lock(conn: &mut AnyConnection, backend: Backend, id: i64) -> Result<(), DbError> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM members WHERE id = $1 FOR NO KEY UPDATE")
            .bind(id)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// What a page of the job does to each member.
enum Work<'a> {
    Adopt { version: &'a Version, now: i64 },
    Recount { now: i64 },
    Decay { program: &'a TierProgram, now: i64 },
    Evaluate { versions: &'a [Version], now: i64 },
    Warn { program: &'a TierProgram, now: i64 },
}

/// A member as a step selected it.
enum Row {
    Unperiodic(Unperiodic),
    Id(i64),
    Idle(Idle),
    Due(Due),
}

async fn one(
    conn: &mut AnyConnection,
    backend: Backend,
    work: &Work<'_>,
    row: &Row,
) -> Result<Option<Verdict>, DbError> {
    match (work, row) {
        (Work::Adopt { version, now }, Row::Unperiodic(m)) => {
            adopt_one(conn, version, m, *now).await
        }
        (Work::Recount { now }, Row::Id(id)) => recount_one(conn, backend, *id, *now).await,
        (Work::Decay { program, now }, Row::Idle(m)) => {
            decay_one(conn, backend, program, m, *now).await
        }
        (Work::Evaluate { versions, now }, Row::Due(m)) => {
            evaluate_one(conn, versions, m, *now).await
        }
        (Work::Warn { program, now }, Row::Due(m)) => warn_one(conn, program, m, *now).await,
        _ => Err(DbError::Corrupt("tier job step and row disagree")),
    }
}

/// Runs `work` for each member of a page in one transaction; if that fails, again one
/// member per transaction, skipping (and logging) the ones that fail on their own.
async fn page_or_each(
    db: &Db,
    rows: &[Row],
    work: &Work<'_>,
    counts: &mut Counts,
) -> Result<(), DbError> {
    let backend = db.backend();
    let whole = async {
        let mut tx = db.begin_write().await?;
        let mut page = Counts::default();
        for row in rows {
            tally(&mut page, one(&mut tx, backend, work, row).await?);
        }
        tx.commit().await?;
        Ok::<Counts, DbError>(page)
    }
    .await;
    match whole {
        Ok(page) => add(counts, page),
        Err(e) => {
            tracing::warn!(error = %e, "tier job page failed; retrying one by one");
            for row in rows {
                let single = async {
                    let mut tx = db.begin_write().await?;
                    let v = one(&mut tx, backend, work, row).await?;
                    tx.commit().await?;
                    Ok::<Option<Verdict>, DbError>(v)
                }
                .await;
                match single {
                    Ok(v) => tally(counts, v),
                    Err(e) => {
                        tracing::warn!(error = %e, "tier job skipped a member");
                        counts.skipped += 1;
                    }
                }
            }
        }
    }
    Ok(())
}

impl Row {
    fn id(&self) -> i64 {
        match self {
            Row::Unperiodic(m) => m.id,
            Row::Id(id) => *id,
            Row::Idle(m) => m.id,
            Row::Due(m) => m.id,
        }
    }
}

/// Pages through the members `fetch` selects (ids above its argument, at most `PAGE`),
/// doing `work` to each page.
async fn each_page<F, Fut>(
    db: &Db,
    work: &Work<'_>,
    counts: &mut Counts,
    mut fetch: F,
) -> Result<(), DbError>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Row>, DbError>>,
{
    let mut after = 0i64;
    loop {
        let rows = fetch(after).await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.id();
        let full = rows.len() as i64 == PAGE;
        page_or_each(db, &rows, work, counts).await?;
        if !full {
            return Ok(());
        }
    }
}

fn tally(c: &mut Counts, v: Option<Verdict>) {
    match v {
        None => {}
        Some(v) => {
            c.changed += 1;
            match v {
                Verdict::Kept => c.kept += 1,
                Verdict::Downgraded => c.downgraded += 1,
                Verdict::Raised => c.raised += 1,
            }
        }
    }
}

fn add(c: &mut Counts, p: Counts) {
    c.changed += p.changed;
    c.kept += p.kept;
    c.downgraded += p.downgraded;
    c.raised += p.raised;
    c.skipped += p.skipped;
}

// --- adopt ---------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct Unperiodic {
    id: i64,
    tier_code: String,
    tier_since: Option<i64>,
}

/// Members above the entry tier without a period while the program evaluates them (a
/// database from before periods, or a version that turned evaluation on): their first
/// period starts when that became the rule, never earlier.
pub async fn adopt(db: &Db, version: &Version, now: i64) -> Result<Counts, DbError> {
    let mut counts = Counts::default();
    let program = &version.program;
    let Some(entry) = program.tiers.first().map(|t| t.code.clone()) else {
        return Ok(counts);
    };
    if !rules::has_periods(program, 1) {
        return Ok(counts);
    }
    let work = Work::Adopt { version, now };
    let entry = entry.as_str();
    each_page(db, &work, &mut counts, |after| async move {
        let rows: Vec<Unperiodic> = sqlx::query_as(
            "SELECT id, tier_code, tier_since FROM members \
             WHERE period_end IS NULL AND tier_code <> $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(entry)
        .bind(after)
        .bind(PAGE)
        .fetch_all(db.reader())
        .await?;
        Ok(rows.into_iter().map(Row::Unperiodic).collect())
    })
    .await?;
    Ok(counts)
}

async fn adopt_one(
    conn: &mut AnyConnection,
    version: &Version,
    m: &Unperiodic,
    now: i64,
) -> Result<Option<Verdict>, DbError> {
    let program = &version.program;
    let tier = rules::index_of(program, &m.tier_code)
        .ok_or(DbError::Corrupt("member tier not in the program"))?;
    if !rules::has_periods(program, tier) {
        return Ok(None);
    }
    let start = m.tier_since.unwrap_or(now).max(version.effective_from);
    let end = rules::period_end(start, program.downgrade.period_months);
    let n = sqlx::query(
        "UPDATE members SET period_start = $1, period_end = $2, \
         tier_since = COALESCE(tier_since, $1) \
         WHERE id = $3 AND period_end IS NULL AND tier_code = $4",
    )
    .bind(start)
    .bind(end)
    .bind(m.id)
    .bind(&m.tier_code)
    .execute(conn)
    .await?
    .rows_affected();
    Ok((n == 1).then_some(Verdict::Kept))
}

// --- window recount ------------------------------------------------------------------

/// Members whose oldest counted event has left the window: growth and spend become the
/// window's sums again. The tier never moves here.
pub async fn recount(db: &Db, now: i64) -> Result<Counts, DbError> {
    let mut counts = Counts::default();
    let work = Work::Recount { now };
    each_page(db, &work, &mut counts, |after| async move {
        let rows: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM members WHERE growth_recount_at <= $1 AND id > $2 \
             ORDER BY id LIMIT $3",
        )
        .bind(now)
        .bind(after)
        .bind(PAGE)
        .fetch_all(db.reader())
        .await?;
        Ok(rows.into_iter().map(Row::Id).collect())
    })
    .await?;
    Ok(counts)
}

async fn recount_one(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
    now: i64,
) -> Result<Option<Verdict>, DbError> {
    lock(conn, backend, id).await?;
    let since: Option<i64> = sqlx::query_scalar("SELECT growth_since FROM members WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let (g, s, next): (i64, i64, Option<i64>) = sqlx::query_as(growth::WINDOW_SUMS)
        .bind(id)
        .bind(now)
        .bind(since.unwrap_or(i64::MIN))
        .fetch_one(&mut *conn)
        .await?;
    let n = sqlx::query(
        "UPDATE members SET growth = $1, window_spend_cents = $2, growth_recount_at = $3 \
         WHERE id = $4 AND growth_recount_at <= $5",
    )
    .bind(g.max(0))
    .bind(s.max(0))
    .bind(next)
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok((n == 1).then_some(Verdict::Kept))
}

// --- decay ---------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct Idle {
    id: i64,
}

/// Daily decay of idle members' growth (never below zero, each day once).
pub async fn decay(db: &Db, program: &TierProgram, now: i64) -> Result<Counts, DbError> {
    let mut counts = Counts::default();
    let g = &program.growth;
    if g.decay_after_days <= 0 || g.decay_per_day <= 0 {
        return Ok(counts);
    }
    let idle_before = now - g.decay_after_days * civil::DAY_SECS;
    let today = (now + civil::TZ_OFFSET_SECS).div_euclid(civil::DAY_SECS);
    let work = Work::Decay { program, now };
    each_page(db, &work, &mut counts, |after| async move {
        let rows: Vec<Idle> = sqlx::query_as(
            "SELECT id FROM members \
             WHERE growth > 0 AND COALESCE(last_purchase_at, created_at) < $1 \
               AND (decayed_through IS NULL OR decayed_through < $2) AND id > $3 \
             ORDER BY id LIMIT $4",
        )
        .bind(idle_before)
        .bind(today)
        .bind(after)
        .bind(PAGE)
        .fetch_all(db.reader())
        .await?;
        Ok(rows.into_iter().map(Row::Idle).collect())
    })
    .await?;
    Ok(counts)
}

async fn decay_one(
    conn: &mut AnyConnection,
    backend: Backend,
    program: &TierProgram,
    m: &Idle,
    now: i64,
) -> Result<Option<Verdict>, DbError> {
    lock(conn, backend, m.id).await?;
    // Read under the lock: a purchase may have come in since the page was selected.
    let fresh: Option<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT growth, COALESCE(last_purchase_at, created_at), decayed_through \
         FROM members WHERE id = $1",
    )
    .bind(m.id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((growth_now, last_active, through)) = fresh else {
        return Ok(None);
    };
    let Some((amount, through_day)) = rules::decay(program, growth_now, last_active, through, now)
    else {
        return Ok(None);
    };
    // The decay leaves the window with the last of the growth it took from.
    let (until, open): (Option<i64>, i64) = sqlx::query_as(
        "SELECT MAX(counts_until), \
                CAST(COALESCE(SUM(CASE WHEN counts_until IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM growth_events WHERE member_id = $1 AND growth > 0 \
           AND (counts_until IS NULL OR counts_until > $2)",
    )
    .bind(m.id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let event = Event {
        member_id: m.id,
        kind: growth::Kind::Decay,
        growth: -amount,
        spend_cents: 0,
        note: format!("decay:{through_day}"),
        at: now,
        counts_until: if open > 0 { None } else { until },
        in_period: false,
    };
    for stmt in event.statements() {
        run_stmt(conn, stmt).await?;
    }
    sqlx::query("UPDATE members SET decayed_through = $1 WHERE id = $2")
        .bind(through_day)
        .bind(m.id)
        .execute(conn)
        .await?;
    Ok(Some(Verdict::Kept))
}

/// One batch statement on its own (the job sends them one by one on both backends).
async fn run_stmt(conn: &mut AnyConnection, stmt: crate::db::batch::Stmt) -> Result<u64, DbError> {
    let mut q = sqlx::query(stmt.sql);
    for arg in stmt.args {
        q = match arg {
            crate::db::batch::Arg::Int(v) => q.bind(v),
            crate::db::batch::Arg::Text(v) => q.bind(v),
            crate::db::batch::Arg::OptInt(v) => q.bind(v),
            crate::db::batch::Arg::OptText(v) => q.bind(v),
        };
    }
    Ok(q.execute(conn).await?.rows_affected())
}

// --- evaluation ----------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    tier_code: String,
    period_start: Option<i64>,
    period_end: i64,
    growth: i64,
    spend_cents: i64,
}

const DUE: &str = "SELECT m.id, m.tier_code, m.period_start, m.period_end, \
       CAST(COALESCE((SELECT SUM(e.growth) FROM growth_events e WHERE e.member_id = m.id \
          AND e.in_period = 1 AND e.at >= m.period_start AND e.at < m.period_end), 0) AS BIGINT) \
         AS growth, \
       CAST(COALESCE((SELECT SUM(e.spend_cents) FROM growth_events e WHERE e.member_id = m.id \
          AND e.in_period = 1 AND e.at >= m.period_start AND e.at < m.period_end), 0) AS BIGINT) \
         AS spend_cents \
     FROM members m WHERE m.period_end <= $1 AND m.id > $2 ORDER BY m.id LIMIT $3";

const INSERT_CHANGE: &str =
    "INSERT INTO tier_changes (member_id, kind, from_tier, to_tier, period_end, period_growth, \
                               version_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT DO NOTHING";

/// One pass over the members whose period has ended by `now`: each period is judged by
/// the version in effect at its end. Members a long outage left several periods behind
/// are still due afterwards; the caller repeats passes until none is.
pub async fn evaluate_due(db: &Db, versions: &[Version], now: i64) -> Result<Counts, DbError> {
    let mut counts = Counts::default();
    each_page(
        db,
        &Work::Evaluate { versions, now },
        &mut counts,
        |after| async move {
            let rows: Vec<Due> = sqlx::query_as(DUE)
                .bind(now)
                .bind(after)
                .bind(PAGE)
                .fetch_all(db.reader())
                .await?;
            Ok(rows.into_iter().map(Row::Due).collect())
        },
    )
    .await?;
    Ok(counts)
}

async fn evaluate_one(
    conn: &mut AnyConnection,
    versions: &[Version],
    m: &Due,
    now: i64,
) -> Result<Option<Verdict>, DbError> {
    let version = program_at(versions, m.period_end - 1).ok_or(DbError::NoTiers)?;
    let program = &version.program;
    if m.period_start.is_none() {
        return Err(DbError::Corrupt("period without a start"));
    }
    let current = rules::index_of(program, &m.tier_code)
        .ok_or(DbError::Corrupt("member tier not in the program"))?;
    let standing = Standing {
        growth: m.growth,
        spend_cents: m.spend_cents,
    };
    let (to, verdict) = rules::evaluate(program, current, standing);
    let start = m.period_end;
    let next_end = rules::has_periods(program, to)
        .then(|| rules::period_end(start, program.downgrade.period_months));
    let to_code = program
        .tiers
        .get(to)
        .map_or_else(String::new, |t| t.code.clone());
    let changed = if verdict == Verdict::Downgraded {
        // The growth judged too little stops counting for upgrades: the window counts
        // from the evaluated period's start on.
        let (g, spend, next): (i64, i64, Option<i64>) = sqlx::query_as(growth::WINDOW_SUMS)
            .bind(m.id)
            .bind(now)
            .bind(m.period_start.unwrap_or(m.period_end))
            .fetch_one(&mut *conn)
            .await?;
        sqlx::query(
            "UPDATE members SET tier_code = $1, period_start = $2, period_end = $3, \
             tier_since = $7, warned_for = NULL, growth_since = $8, growth = $9, \
             window_spend_cents = $10, growth_recount_at = $11 \
             WHERE id = $4 AND period_end = $5 AND tier_code = $6",
        )
        .bind(&to_code)
        .bind(next_end.map(|_| start))
        .bind(next_end)
        .bind(m.id)
        .bind(m.period_end)
        .bind(&m.tier_code)
        .bind(start)
        .bind(m.period_start)
        .bind(g.max(0))
        .bind(spend.max(0))
        .bind(next)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    } else {
        sqlx::query(
            "UPDATE members SET tier_since = CASE WHEN tier_code = $1 THEN tier_since ELSE $7 END, \
             tier_code = $1, period_start = $2, period_end = $3, warned_for = NULL \
             WHERE id = $4 AND period_end = $5 AND tier_code = $6",
        )
        .bind(&to_code)
        .bind(next_end.map(|_| start))
        .bind(next_end)
        .bind(m.id)
        .bind(m.period_end)
        .bind(&m.tier_code)
        .bind(start)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    };
    if changed == 0 {
        // Someone else evaluated it, or a purchase upgraded it meanwhile.
        return Ok(None);
    }
    sqlx::query(INSERT_CHANGE)
        .bind(m.id)
        .bind(verdict.as_str())
        .bind(&m.tier_code)
        .bind(&to_code)
        .bind(m.period_end)
        .bind(m.growth)
        .bind(version.id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let name = |i: usize| {
        program
            .tiers
            .get(i)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    };
    let mut data = notifications::data();
    data.tier = Some(notifications::tier_ref(&to_code, &name(to)));
    let kind = match verdict {
        Verdict::Kept => {
            data.date = next_end.map(|e| civil::iso(rules::last_day(e)));
            Kind::Kept
        }
        Verdict::Downgraded => {
            data.from_tier = Some(notifications::tier_ref(&m.tier_code, &name(current)));
            Kind::Downgraded
        }
        Verdict::Raised => {
            data.from_tier = Some(notifications::tier_ref(&m.tier_code, &name(current)));
            Kind::Upgraded
        }
    };
    run_stmt(
        conn,
        notifications::message(m.id, kind, format!("eval:{}", m.period_end), &data, now),
    )
    .await?;
    Ok(Some(verdict))
}

// --- warnings ------------------------------------------------------------------------

const WARN_DUE: &str = "SELECT m.id, m.tier_code, m.period_start, m.period_end, \
       CAST(COALESCE((SELECT SUM(e.growth) FROM growth_events e WHERE e.member_id = m.id \
          AND e.in_period = 1 AND e.at >= m.period_start AND e.at <= $1), 0) AS BIGINT) \
         AS growth, \
       CAST(COALESCE((SELECT SUM(e.spend_cents) FROM growth_events e WHERE e.member_id = m.id \
          AND e.in_period = 1 AND e.at >= m.period_start AND e.at <= $1), 0) AS BIGINT) \
         AS spend_cents \
     FROM members m WHERE m.period_end > $1 AND m.period_end <= $2 \
       AND (m.warned_for IS NULL OR m.warned_for <> m.period_end) AND m.id > $3 \
     ORDER BY m.id LIMIT $4";

/// Members `warn_days` or less before their period's end who haven't earned enough to
/// keep their tier get one warning per period; those who have are marked and left alone.
pub async fn warn(db: &Db, program: &TierProgram, now: i64) -> Result<(u64, Counts), DbError> {
    let mut counts = Counts::default();
    if !rules::has_periods(program, 1) {
        return Ok((0, counts));
    }
    let horizon = now + program.downgrade.warn_days * civil::DAY_SECS;
    each_page(
        db,
        &Work::Warn { program, now },
        &mut counts,
        |after| async move {
            let rows: Vec<Due> = sqlx::query_as(WARN_DUE)
                .bind(now)
                .bind(horizon)
                .bind(after)
                .bind(PAGE)
                .fetch_all(db.reader())
                .await?;
            Ok(rows.into_iter().map(Row::Due).collect())
        },
    )
    .await?;
    Ok((counts.changed, counts))
}

async fn warn_one(
    conn: &mut AnyConnection,
    program: &TierProgram,
    m: &Due,
    now: i64,
) -> Result<Option<Verdict>, DbError> {
    let marked = sqlx::query(
        "UPDATE members SET warned_for = period_end \
         WHERE id = $1 AND period_end = $2 AND tier_code = $3 \
           AND (warned_for IS NULL OR warned_for <> period_end)",
    )
    .bind(m.id)
    .bind(m.period_end)
    .bind(&m.tier_code)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if marked == 0 || !rules::warning_due(program, m.period_end, now) {
        return Ok(None);
    }
    let standing = Standing {
        growth: m.growth,
        spend_cents: m.spend_cents,
    };
    let keep = rules::index_of(program, &m.tier_code)
        .and_then(|t| rules::keep(program, t, standing, Some(m.period_end)));
    let Some(k) = keep.filter(|k| k.growth_needed > 0) else {
        return Ok(None);
    };
    let Some(t) = program.tiers.get(k.tier) else {
        return Ok(None);
    };
    let mut data = notifications::data();
    data.tier = Some(notifications::tier_ref(&t.code, &t.name));
    data.date = Some(civil::iso(k.until));
    data.growth_needed = Some(k.growth_needed);
    run_stmt(
        conn,
        notifications::message(
            m.id,
            Kind::DowngradeWarning,
            format!("warn:{}", m.period_end),
            &data,
            now,
        ),
    )
    .await?;
    Ok(Some(Verdict::Downgraded))
}
