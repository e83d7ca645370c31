//! Points mall items: what members browse and what the brand edits. Orders (redeem,
//! collect, cancel) are in `mall_orders`.

use sqlx::AnyConnection;

use crate::db::{audit, Backend, Changed, Db, DbError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct ItemRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub category: String,
    pub kind: String,
    pub image_url: Option<String>,
    pub points_price: i64,
    pub cash_cents: i64,
    pub stock: i64,
    pub per_member_limit: Option<i64>,
    pub min_tier_code: Option<String>,
    pub available_from: Option<i64>,
    pub available_until: Option<i64>,
    pub hidden: i64,
    pub sort: i64,
    /// A coupon item: redeeming issues this template's coupons into the wallet.
    pub coupon_template_id: Option<i64>,
}

const ITEM_COLUMNS: &str = "i.id, i.name, i.description, i.category, i.kind, i.image_url, \
                            i.points_price, i.cash_cents, i.stock, i.per_member_limit, \
                            i.min_tier_code, i.available_from, i.available_until, i.hidden, i.sort, \
                            i.coupon_template_id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberItemRow {
    #[sqlx(flatten)]
    pub item: ItemRow,
    pub redeemed_by_me: i64,
}

/// Items on sale at `now` and not hidden, with the units this member has redeemed
/// (in display order).
pub async fn visible(db: &Db, member_id: i64, now: i64) -> Result<Vec<MemberItemRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS}, COALESCE(c.quantity, 0) AS redeemed_by_me \
         FROM mall_items i \
         LEFT JOIN mall_redemption_counts c ON c.item_id = i.id AND c.member_id = $1 \
         WHERE i.hidden = 0 \
           AND (i.available_from IS NULL OR i.available_from <= $2) \
           AND (i.available_until IS NULL OR i.available_until > $2) \
         ORDER BY i.sort, i.id"
    ))
    .bind(member_id)
    .bind(now)
    .fetch_all(db.reader())
    .await?)
}

/// One item that is not hidden (whether or not on sale now), for the member.
pub async fn visible_one(
    db: &Db,
    member_id: i64,
    item_id: i64,
) -> Result<Option<MemberItemRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS}, COALESCE(c.quantity, 0) AS redeemed_by_me \
         FROM mall_items i \
         LEFT JOIN mall_redemption_counts c ON c.item_id = i.id AND c.member_id = $1 \
         WHERE i.id = $2 AND i.hidden = 0"
    ))
    .bind(member_id)
    .bind(item_id)
    .fetch_optional(db.reader())
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdminItemRow {
    #[sqlx(flatten)]
    pub item: ItemRow,
    /// Units in orders that are still pending or collected.
    pub redeemed: i64,
}

const ADMIN_SELECT: &str = "SELECT i.id, i.name, i.description, i.category, i.kind, i.image_url, \
       i.points_price, i.cash_cents, i.stock, i.per_member_limit, i.min_tier_code, \
       i.available_from, i.available_until, i.hidden, i.sort, i.coupon_template_id, \
       CAST(COALESCE((SELECT SUM(o.quantity) FROM mall_orders o \
                      WHERE o.item_id = i.id AND o.status IN ('pending', 'collected')), 0) \
            AS BIGINT) AS redeemed \
     FROM mall_items i";

/// Every item, hidden ones included, for the brand.
pub async fn all_for_admin(db: &Db) -> Result<Vec<AdminItemRow>, DbError> {
    Ok(
        sqlx::query_as(&format!("{ADMIN_SELECT} ORDER BY i.sort, i.id"))
            .fetch_all(db.reader())
            .await?,
    )
}

async fn admin_one_in(conn: &mut AnyConnection, id: i64) -> Result<Option<AdminItemRow>, DbError> {
    Ok(sqlx::query_as(&format!("{ADMIN_SELECT} WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// An item as stored, validated by the caller (`crate::mall::http::admin`): the same shape
/// serves create and the merged result of a patch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemFields {
    pub name: String,
    pub description: String,
    pub category: String,
    pub kind: String,
    pub image_url: Option<String>,
    pub points_price: i64,
    pub cash_cents: i64,
    pub stock: i64,
    pub per_member_limit: Option<i64>,
    pub min_tier_code: Option<String>,
    pub available_from: Option<i64>,
    pub available_until: Option<i64>,
    pub hidden: bool,
    pub sort: i64,
    pub coupon_template_id: Option<i64>,
}

impl From<&ItemRow> for ItemFields {
    fn from(r: &ItemRow) -> Self {
        Self {
            name: r.name.clone(),
            description: r.description.clone(),
            category: r.category.clone(),
            kind: r.kind.clone(),
            image_url: r.image_url.clone(),
            points_price: r.points_price,
            cash_cents: r.cash_cents,
            stock: r.stock,
            per_member_limit: r.per_member_limit,
            min_tier_code: r.min_tier_code.clone(),
            available_from: r.available_from,
            available_until: r.available_until,
            hidden: r.hidden != 0,
            sort: r.sort,
            coupon_template_id: r.coupon_template_id,
        }
    }
}

/// Whether a tier code exists (admin input is checked before the foreign key would be).
pub async fn tier_exists(db: &Db, code: &str) -> Result<bool, DbError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tiers WHERE code = $1")
        .bind(code)
        .fetch_one(db.reader())
        .await?;
    Ok(n > 0)
}

/// Whether a coupon template exists (admin input is checked before the foreign key would be).
pub async fn coupon_template_exists(db: &Db, id: i64) -> Result<bool, DbError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM coupon_templates WHERE id = $1")
        .bind(id)
        .fetch_one(db.reader())
        .await?;
    Ok(n > 0)
}

fn detail(fields: &ItemFields) -> String {
    serde_json::to_string(fields).unwrap_or_default()
}

/// Binds an item's fields as $1–$15, in the order both the insert and the update list
/// them (a query and a scalar query are different types, hence a macro).
macro_rules! bind_fields {
    ($query:expr, $f:expr) => {
        $query
            .bind(&$f.name)
            .bind(&$f.description)
            .bind(&$f.category)
            .bind(&$f.kind)
            .bind(&$f.image_url)
            .bind($f.points_price)
            .bind($f.cash_cents)
            .bind($f.stock)
            .bind($f.per_member_limit)
            .bind(&$f.min_tier_code)
            .bind($f.available_from)
            .bind($f.available_until)
            .bind(i64::from($f.hidden))
            .bind($f.sort)
            .bind($f.coupon_template_id)
    };
}

pub async fn create(db: &Db, actor: &str, f: &ItemFields, now: i64) -> Result<i64, DbError> {
    let mut tx = db.begin_write().await?;
    let insert = sqlx::query_scalar(
        "INSERT INTO mall_items (name, description, category, kind, image_url, points_price, \
                                 cash_cents, stock, per_member_limit, min_tier_code, \
                                 available_from, available_until, hidden, sort, \
                                 coupon_template_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) \
         RETURNING id",
    );
    let id: i64 = bind_fields!(insert, f)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "mall_item.create",
        &format!("mall_item:{id}"),
        &format!("after={}", detail(f)),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Applies `change` to the stored item under a lock and writes the result with an
/// audit row holding both versions. `change` validates the merged fields; its error
/// leaves everything as it was.
pub async fn update<E, F>(
    db: &Db,
    actor: &str,
    id: i64,
    now: i64,
    change: F,
) -> Result<AdminItemRow, Changed<E>>
where
    F: FnOnce(ItemFields) -> Result<ItemFields, E>,
{
    let mut tx = db.begin_write().await?;
    let lock = match db.backend() {
        Backend::Sqlite => format!("SELECT {ITEM_COLUMNS} FROM mall_items i WHERE i.id = $1"),
        Backend::Postgres => {
            format!("SELECT {ITEM_COLUMNS} FROM mall_items i WHERE i.id = $1 FOR UPDATE")
        }
    };
    let row: Option<ItemRow> = sqlx::query_as(&lock)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let row = row.ok_or(Changed::NotFound)?;
    let before = ItemFields::from(&row);
    let after = change(before.clone()).map_err(Changed::Refused)?;
    let update = sqlx::query(
        "UPDATE mall_items SET name = $1, description = $2, category = $3, kind = $4, \
                image_url = $5, points_price = $6, cash_cents = $7, stock = $8, \
                per_member_limit = $9, min_tier_code = $10, available_from = $11, \
                available_until = $12, hidden = $13, sort = $14, coupon_template_id = $15, \
                updated_at = $16 \
         WHERE id = $17",
    );
    bind_fields!(update, after)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "mall_item.update",
        &format!("mall_item:{id}"),
        &format!("before={} after={}", detail(&before), detail(&after)),
        now,
    )
    .await?;
    let updated = admin_one_in(&mut tx, id)
        .await?
        .ok_or(DbError::Corrupt("updated item vanished"))?;
    tx.commit().await?;
    Ok(updated)
}

/// Inserts the item unless one of that name exists (dev seed; idempotent).
pub async fn insert_if_missing(
    conn: &mut AnyConnection,
    f: &ItemFields,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO mall_items (name, description, category, kind, image_url, points_price, \
                                 cash_cents, stock, per_member_limit, min_tier_code, \
                                 available_from, available_until, hidden, sort, created_at, \
                                 updated_at, coupon_template_id) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16 \
         WHERE NOT EXISTS (SELECT 1 FROM mall_items WHERE name = $1)",
    )
    .bind(&f.name)
    .bind(&f.description)
    .bind(&f.category)
    .bind(&f.kind)
    .bind(&f.image_url)
    .bind(f.points_price)
    .bind(f.cash_cents)
    .bind(f.stock)
    .bind(f.per_member_limit)
    .bind(&f.min_tier_code)
    .bind(f.available_from)
    .bind(f.available_until)
    .bind(i64::from(f.hidden))
    .bind(f.sort)
    .bind(now)
    .bind(f.coupon_template_id)
    .execute(conn)
    .await?;
    Ok(())
}
