//! The tier program's versions. Every version is stored whole (JSON); the one in effect
//! at a time is the latest that started by then. The `tiers` table stays the catalogue of
//! tier codes (members, coupons and mall items refer to it): a new version upserts its
//! tiers there, in the same order, so rank queries in SQL keep working.

use member_core::dto::TierProgram;
use member_core::tier_program::{self, ProgramError};
use sqlx::AnyConnection;

use crate::db::{audit, Db, DbError};

#[derive(sqlx::FromRow)]
struct VersionRow {
    id: i64,
    effective_from: i64,
    program: String,
    note: String,
    created_by: String,
    created_at: i64,
}

/// A stored version.
#[derive(Debug, Clone)]
pub struct Version {
    pub id: i64,
    pub effective_from: i64,
    pub note: String,
    pub created_by: String,
    pub created_at: i64,
    pub program: TierProgram,
}

impl TryFrom<VersionRow> for Version {
    type Error = DbError;
    fn try_from(r: VersionRow) -> Result<Self, DbError> {
        let program = serde_json::from_str(&r.program)
            .map_err(|_| DbError::Corrupt("tier program version"))?;
        Ok(Version {
            id: r.id,
            effective_from: r.effective_from,
            note: r.note,
            created_by: r.created_by,
            created_at: r.created_at,
            program,
        })
    }
}

const COLUMNS: &str = "id, effective_from, program, note, created_by, created_at";

/// The version in effect at `at` (inside a transaction: what it sees).
pub async fn in_effect_in(conn: &mut AnyConnection, at: i64) -> Result<Version, DbError> {
    let row: Option<VersionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tier_program_versions WHERE effective_from <= $1 \
         ORDER BY effective_from DESC, id DESC LIMIT 1"
    ))
    .bind(at)
    .fetch_optional(conn)
    .await?;
    row.ok_or(DbError::NoTiers)?.try_into()
}

/// The version in effect at `at`.
pub async fn in_effect(db: &Db, at: i64) -> Result<Version, DbError> {
    let mut conn = db.reader().acquire().await?;
    in_effect_in(&mut conn, at).await
}

/// Every version, newest start first.
pub async fn all(db: &Db) -> Result<Vec<Version>, DbError> {
    let rows: Vec<VersionRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tier_program_versions ORDER BY effective_from DESC, id DESC"
    ))
    .fetch_all(db.reader())
    .await?;
    rows.into_iter().map(Version::try_from).collect()
}

/// Every version, any order, for rules that look at several points in time.
pub async fn all_in(conn: &mut AnyConnection) -> Result<Vec<Version>, DbError> {
    let rows: Vec<VersionRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM tier_program_versions"))
            .fetch_all(conn)
            .await?;
    rows.into_iter().map(Version::try_from).collect()
}

/// A new version. `effective_from` may not be before `now` (history keeps its rules);
/// it must be valid on its own and keep every tier of every version already stored.
pub async fn create(
    db: &Db,
    program: &TierProgram,
    effective_from: i64,
    note: &str,
    actor: &str,
    now: i64,
) -> Result<Version, DbError> {
    tier_program::validate(program).map_err(invalid)?;
    if effective_from < now {
        return Err(invalid(ProgramError(
            "effective_from: a new version can't start in the past".into(),
        )));
    }
    let mut tx = db.begin_write().await?;
    for old in all_in(&mut tx).await? {
        tier_program::validate_successor(&old.program, program).map_err(invalid)?;
    }
    let id = insert(&mut tx, program, effective_from, note, actor, now).await?;
    sync_catalog(&mut tx, program).await?;
    audit::record(
        &mut tx,
        actor,
        "tier_program.create",
        &format!("tier_program:{id}"),
        &format!(
            "effective_from={effective_from} tiers={} policy={} window={} note={note}",
            program
                .tiers
                .iter()
                .map(|t| format!("{}@{}", t.code, t.growth_threshold))
                .collect::<Vec<_>>()
                .join(","),
            program.downgrade.policy,
            program.growth.window,
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    let version = Version {
        id,
        effective_from,
        note: note.to_string(),
        created_by: actor.to_string(),
        created_at: now,
        program: program.clone(),
    };
    Ok(version)
}

fn invalid(e: ProgramError) -> DbError {
    DbError::InvalidProgram(e.0)
}

async fn insert(
    conn: &mut AnyConnection,
    program: &TierProgram,
    effective_from: i64,
    note: &str,
    actor: &str,
    now: i64,
) -> Result<i64, DbError> {
    let body = serde_json::to_string(program).map_err(|_| DbError::Corrupt("tier program"))?;
    Ok(sqlx::query_scalar(
        "INSERT INTO tier_program_versions (effective_from, program, note, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(effective_from)
    .bind(body)
    .bind(note)
    .bind(actor)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// The first version, when there is none yet (a fresh database, or one from before
/// versions existed): in effect since the beginning of time.
pub async fn first_if_missing(
    conn: &mut AnyConnection,
    program: &TierProgram,
    now: i64,
) -> Result<(), DbError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tier_program_versions")
        .fetch_one(&mut *conn)
        .await?;
    if n == 0 {
        insert(conn, program, 0, "initial program", "system", now).await?;
        sync_catalog(conn, program).await?;
    }
    Ok(())
}

/// Upserts the program's tiers into the `tiers` catalogue. Thresholds are unique there,
/// so they are first moved out of the way (all at once, order kept), then set.
async fn sync_catalog(conn: &mut AnyConnection, program: &TierProgram) -> Result<(), DbError> {
    const OUT_OF_THE_WAY: i64 = 1_000_000_000_000;
    sqlx::query("UPDATE tiers SET growth_threshold = growth_threshold + $1")
        .bind(OUT_OF_THE_WAY)
        .execute(&mut *conn)
        .await?;
    for t in &program.tiers {
        sqlx::query(
            "INSERT INTO tiers (code, name, growth_threshold, points_per_yuan_pct) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO UPDATE SET name = $2, \
             growth_threshold = $3, points_per_yuan_pct = $4",
        )
        .bind(&t.code)
        .bind(&t.name)
        .bind(t.growth_threshold)
        .bind(t.points_per_yuan_pct)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
