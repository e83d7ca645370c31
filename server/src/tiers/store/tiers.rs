use member_core::tiers::{sorted, TierRule};
use sqlx::AnyConnection;

use crate::db::{Db, DbError};
use crate::tiers::store::tier_program;

#[derive(sqlx::FromRow)]
struct TierRow {
    code: String,
    name: String,
    growth_threshold: i64,
    points_per_yuan_pct: i64,
}

impl From<TierRow> for TierRule {
    fn from(r: TierRow) -> Self {
        TierRule {
            code: r.code,
            name: r.name,
            growth_threshold: r.growth_threshold,
            points_per_yuan_pct: r.points_per_yuan_pct,
        }
    }
}

const SELECT: &str = "SELECT code, name, growth_threshold, points_per_yuan_pct FROM tiers \
                      ORDER BY growth_threshold";

/// The tiers of the program version in effect at `now`, lowest first.
pub async fn all(db: &Db, now: i64) -> Result<Vec<TierRule>, DbError> {
    let version = tier_program::in_effect(db, now).await?;
    Ok(member_core::tier_program::tier_rules(&version.program))
}

/// Same, inside a transaction (reads what the transaction sees).
pub async fn all_in(conn: &mut AnyConnection, now: i64) -> Result<Vec<TierRule>, DbError> {
    let version = tier_program::in_effect_in(conn, now).await?;
    Ok(member_core::tier_program::tier_rules(&version.program))
}

/// The `tiers` table as it is (the catalogue of codes), lowest first.
pub async fn catalogue_in(conn: &mut AnyConnection) -> Result<Vec<TierRule>, DbError> {
    let rows: Vec<TierRow> = sqlx::query_as(SELECT).fetch_all(conn).await?;
    Ok(sorted(rows.into_iter().map(TierRule::from).collect()))
}

pub async fn insert_if_missing(conn: &mut AnyConnection, tier: &TierRule) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO tiers (code, name, growth_threshold, points_per_yuan_pct) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(&tier.code)
    .bind(&tier.name)
    .bind(tier.growth_threshold)
    .bind(tier.points_per_yuan_pct)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn count_in(conn: &mut AnyConnection) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tiers")
        .fetch_one(conn)
        .await?)
}
