//! Data every database needs (default tiers) and the `--dev` demo data.

use member_core::tiers::TierRule;

use super::{staff, tiers, Db, DbError};

fn default_tiers() -> Vec<TierRule> {
    let t = |code: &str, name: &str, growth_threshold, points_per_yuan_pct| TierRule {
        code: code.into(),
        name: name.into(),
        growth_threshold,
        points_per_yuan_pct,
    };
    vec![
        t("normal", "普卡", 0, 100),
        t("silver", "银卡", 500, 120),
        t("gold", "金卡", 2000, 150),
        t("diamond", "钻石卡", 8000, 200),
    ]
}

/// A fresh database gets the four default tiers so it works at once; a brand that has
/// edited its tiers keeps them.
pub async fn default_tiers_if_empty(db: &Db) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    if tiers::count_in(&mut tx).await? == 0 {
        for tier in default_tiers() {
            tiers::insert_if_missing(&mut tx, &tier).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Demo store, staff and tiers. Safe to run at every start and from several instances.
pub async fn dev(db: &Db, now: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    for tier in default_tiers() {
        tiers::insert_if_missing(&mut tx, &tier).await?;
    }
    let store_id = staff::ensure_store(&mut tx, "S001", "旗舰店", now).await?;
    tx.commit().await?;
    let accounts = [
        (
            "cashier",
            "cashier-dev-pass",
            "收银员小王",
            "cashier",
            Some(store_id),
        ),
        ("admin", "admin-dev-pass", "管理员", "admin", None),
    ];
    for (username, password, display, role, store) in accounts {
        staff::create_staff_if_missing(db, username, password, display, role, store, now).await?;
    }
    Ok(())
}
