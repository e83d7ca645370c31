//! Coupon templates as the brand manages them: list (with how many were issued and
//! used), create, and the few edits that don't change coupons already issued (name,
//! description, on/off, limits). Issuing itself is `coupons::issue`.

use sqlx::AnyConnection;

use crate::db::{audit, Backend, Changed, Db, DbError};

/// A template with its counts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub amount_off_cents: i64,
    pub percent_off: i64,
    pub cap_cents: Option<i64>,
    pub gift_name: Option<String>,
    pub min_spend_cents: i64,
    pub stackable: i64,
    /// Comma-separated store codes; '' = every store.
    pub store_codes: String,
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
    pub valid_days: Option<i64>,
    pub total_limit: Option<i64>,
    pub per_member_limit: Option<i64>,
    pub required_tier_code: Option<String>,
    pub active: i64,
    pub created_at: i64,
    /// What counts against `total_limit` (coupons voided by a mall refund gave theirs back).
    pub issued_count: i64,
    pub used: i64,
}

/// `used` by the (template_id, status) index, one count per template.
const SELECT: &str = "SELECT t.id, t.name, t.description, t.kind, t.amount_off_cents, \
       t.percent_off, t.cap_cents, t.gift_name, t.min_spend_cents, t.stackable, \
       t.store_codes, t.valid_from, t.valid_until, t.valid_days, t.total_limit, \
       t.per_member_limit, t.required_tier_code, t.active, t.created_at, t.issued_count, \
       CAST((SELECT COUNT(*) FROM coupons c WHERE c.template_id = t.id AND c.status = 'used') \
            AS BIGINT) AS used \
     FROM coupon_templates t";

/// Every template, newest first.
pub async fn list(db: &Db) -> Result<Vec<TemplateRow>, DbError> {
    Ok(sqlx::query_as(&format!("{SELECT} ORDER BY t.id DESC"))
        .fetch_all(db.reader())
        .await?)
}

async fn one_in(conn: &mut AnyConnection, id: i64) -> Result<Option<TemplateRow>, DbError> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// A new template, validated by the caller (`crate::coupons::http::admin`): the benefit holds
/// only its own kind's fields, store codes exist and are distinct.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewTemplate {
    pub name: String,
    pub description: String,
    pub kind: String,
    pub amount_off_cents: i64,
    pub percent_off: i64,
    pub cap_cents: Option<i64>,
    pub gift_name: Option<String>,
    pub min_spend_cents: i64,
    pub stackable: bool,
    pub store_codes: Vec<String>,
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
    pub valid_days: Option<i64>,
    pub total_limit: Option<i64>,
    pub per_member_limit: Option<i64>,
    pub required_tier_code: Option<String>,
}

const INSERT: &str = "INSERT INTO coupon_templates (name, description, kind, amount_off_cents, \
       percent_off, cap_cents, gift_name, min_spend_cents, stackable, store_codes, valid_from, \
       valid_until, valid_days, total_limit, per_member_limit, required_tier_code, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
     RETURNING id";

/// Inserts inside the caller's transaction (the dev seed uses it too).
pub async fn insert_in(
    conn: &mut AnyConnection,
    t: &NewTemplate,
    now: i64,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(INSERT)
        .bind(&t.name)
        .bind(&t.description)
        .bind(&t.kind)
        .bind(t.amount_off_cents)
        .bind(t.percent_off)
        .bind(t.cap_cents)
        .bind(&t.gift_name)
        .bind(t.min_spend_cents)
        .bind(i64::from(t.stackable))
        .bind(t.store_codes.join(","))
        .bind(t.valid_from)
        .bind(t.valid_until)
        .bind(t.valid_days)
        .bind(t.total_limit)
        .bind(t.per_member_limit)
        .bind(&t.required_tier_code)
        .bind(now)
        .fetch_one(conn)
        .await?)
}

fn detail<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

pub async fn create(db: &Db, actor: &str, t: &NewTemplate, now: i64) -> Result<i64, DbError> {
    let mut tx = db.begin_write().await?;
    let id = insert_in(&mut tx, t, now).await?;
    audit::record(
        &mut tx,
        actor,
        "coupon_template.create",
        &format!("coupon_template:{id}"),
        &format!("after={}", detail(t)),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Every store code (a brand has a handful to a few hundred stores).
pub async fn known_stores(db: &Db) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar("SELECT code FROM stores ORDER BY code")
        .fetch_all(db.reader())
        .await?)
}

/// A checked patch: `None` leaves a field as it is; for the limits `Some(None)` removes one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    pub name: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub total_limit: Option<Option<i64>>,
    pub per_member_limit: Option<Option<i64>>,
}

/// The editable part of a template, as the audit row shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
struct Editable {
    name: String,
    description: String,
    active: bool,
    total_limit: Option<i64>,
    per_member_limit: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Locked {
    name: String,
    description: String,
    active: i64,
    total_limit: Option<i64>,
    per_member_limit: Option<i64>,
    issued_count: i64,
}

/// Why a patch was refused under the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeRefused {
    /// The new total is below what has been issued already (carried).
    TotalBelowIssued(i64),
}

/// Applies `change` under the template's row lock and writes it with an audit row
/// holding both versions. The total can't drop below what is issued: the write is
/// conditional on it, so an issue racing the patch can't slip under.
pub async fn update(
    db: &Db,
    actor: &str,
    id: i64,
    change: &Change,
    now: i64,
) -> Result<TemplateRow, Changed<ChangeRefused>> {
    if id <= 0 {
        return Err(Changed::NotFound);
    }
    let mut tx = db.begin_write().await?;
    let lock = match db.backend() {
        Backend::Sqlite => {
            "SELECT name, description, active, total_limit, per_member_limit, issued_count \
             FROM coupon_templates WHERE id = $1"
        }
        Backend::Postgres => {
            "SELECT name, description, active, total_limit, per_member_limit, issued_count \
             FROM coupon_templates WHERE id = $1 FOR UPDATE"
        }
    };
    let row: Option<Locked> = sqlx::query_as(lock)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let row = row.ok_or(Changed::NotFound)?;
    let issued = row.issued_count;
    let before = Editable {
        name: row.name,
        description: row.description,
        active: row.active != 0,
        total_limit: row.total_limit,
        per_member_limit: row.per_member_limit,
    };
    let after = Editable {
        name: change.name.clone().unwrap_or_else(|| before.name.clone()),
        description: change
            .description
            .clone()
            .unwrap_or_else(|| before.description.clone()),
        active: change.active.unwrap_or(before.active),
        total_limit: change.total_limit.unwrap_or(before.total_limit),
        per_member_limit: change.per_member_limit.unwrap_or(before.per_member_limit),
    };
    let changed = sqlx::query(
        "UPDATE coupon_templates SET name = $1, description = $2, active = $3, \
                total_limit = $4, per_member_limit = $5 \
         WHERE id = $6 AND ($4 IS NULL OR issued_count <= $4)",
    )
    .bind(&after.name)
    .bind(&after.description)
    .bind(i64::from(after.active))
    .bind(after.total_limit)
    .bind(after.per_member_limit)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed != 1 {
        return Err(Changed::Refused(ChangeRefused::TotalBelowIssued(issued)));
    }
    audit::record(
        &mut tx,
        actor,
        "coupon_template.update",
        &format!("coupon_template:{id}"),
        &format!("before={} after={}", detail(&before), detail(&after)),
        now,
    )
    .await?;
    let updated = one_in(&mut tx, id)
        .await?
        .ok_or(DbError::Corrupt("updated template vanished"))?;
    tx.commit().await?;
    Ok(updated)
}
