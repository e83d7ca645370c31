//! Several write statements as one round trip on SQLite.
//!
//! sqlx runs each SQLite statement on the connection's worker thread, so every statement
//! costs two thread hand-offs; on the hot paths that dominates. SQLite accepts several
//! statements in one query (placeholders numbered across the whole text), Postgres
//! does not, so each statement is written once with its own `$1..` and either sent
//! alone (Postgres) or renumbered and joined (SQLite).

use sqlx::any::AnyArguments;
use sqlx::Arguments;

use crate::db::{Backend, DbError, Tx};

pub enum Arg {
    Int(i64),
    Text(String),
    /// Postgres types a NULL by its parameter, so a null keeps its column's type.
    OptInt(Option<i64>),
    OptText(Option<String>),
}

/// A business refusal a conditional statement stands for when it changes no row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    InsufficientPoints,
    OutOfStock,
    LimitReached,
    CardCodeReplayed,
    OrderClosed,
    /// A coupon's `status = 'issued'` condition failed: used (or voided) meanwhile.
    CouponUsed,
    /// A condition that the locks held should make impossible.
    Conflict,
}

impl Refusal {
    pub fn into_error(self) -> DbError {
        match self {
            Self::InsufficientPoints => DbError::InsufficientPoints,
            Self::OutOfStock => DbError::OutOfStock,
            Self::LimitReached => DbError::LimitReached,
            Self::CardCodeReplayed => {
                DbError::CardCode(member_core::card_code::CardCodeError::Replayed)
            }
            Self::OrderClosed => DbError::OrderClosed,
            Self::CouponUsed => DbError::Coupon {
                coupon_id: 0,
                refusal: member_core::coupons::Refusal::Used,
            },
            Self::Conflict => DbError::Conflict,
        }
    }
}

pub struct Stmt {
    pub sql: &'static str,
    pub args: Vec<Arg>,
    /// `Some`: the statement must change exactly one row, else this refusal;
    /// `None`: any number of rows.
    pub must_change: Option<Refusal>,
}

impl Stmt {
    /// A statement that changes exactly one row whatever the data (an insert, an update
    /// by key); a different count means a broken assumption.
    pub fn new(sql: &'static str, args: Vec<Arg>) -> Self {
        Self::one(sql, args, Refusal::Conflict)
    }

    /// A statement that may change any number of rows.
    pub fn any(sql: &'static str, args: Vec<Arg>) -> Self {
        Self {
            sql,
            args,
            must_change: None,
        }
    }

    /// A conditional statement that must change exactly one row.
    pub fn one(sql: &'static str, args: Vec<Arg>, refusal: Refusal) -> Self {
        Self {
            sql,
            args,
            must_change: Some(refusal),
        }
    }
}

fn bind_all(args: Vec<Arg>) -> Result<AnyArguments<'static>, DbError> {
    let mut out = AnyArguments::default();
    for arg in args {
        match arg {
            Arg::Int(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::OptInt(v) => out.add(v),
            Arg::OptText(v) => out.add(v),
        }
        .map_err(|e| DbError::Sqlx(sqlx::Error::Encode(e)))?;
    }
    Ok(out)
}

/// `$n` becomes `$(n + offset)`.
pub fn shift_placeholders(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = 0usize;
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                n = n * 10 + d as usize;
                chars.next();
            }
            out.push('$');
            out.push_str(&(n + offset).to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs the statements in order inside `tx`, stopping at the first error or refusal.
/// On Postgres each statement's row count is checked as it runs, so the refusal is
/// exact. On SQLite only the batch's total is known: callers check their conditions
/// under the write lock first (the only writer can't be raced), so a short total means
/// a broken assumption and reports the first conditional statement's refusal.
pub async fn execute(tx: &mut Tx, backend: Backend, stmts: Vec<Stmt>) -> Result<(), DbError> {
    match backend {
        Backend::Postgres => {
            for stmt in stmts {
                let result = sqlx::query_with(stmt.sql, bind_all(stmt.args)?)
                    .execute(&mut **tx)
                    .await?;
                if let Some(refusal) = stmt.must_change {
                    if result.rows_affected() != 1 {
                        return Err(refusal.into_error());
                    }
                }
            }
            Ok(())
        }
        Backend::Sqlite => {
            let mut sql = String::new();
            let mut args = Vec::new();
            let mut first_refusal = None;
            let mut checked = 0u64;
            let mut unchecked = false;
            for stmt in stmts {
                sql.push_str(&shift_placeholders(stmt.sql, args.len()));
                sql.push_str(";\n");
                args.extend(stmt.args);
                match stmt.must_change {
                    Some(r) => {
                        checked += 1;
                        // The first business refusal names the failure best.
                        if first_refusal.is_none_or(|f| f == Refusal::Conflict) {
                            first_refusal = Some(r);
                        }
                    }
                    None => unchecked = true,
                }
            }
            if sql.is_empty() {
                return Ok(());
            }
            let result = sqlx::query_with(&sql, bind_all(args)?)
                .execute(&mut **tx)
                .await?;
            // Unchecked statements may change any number of rows; without them the total
            // must match exactly, with them it must at least cover the checked ones.
            let total = result.rows_affected();
            let short = if unchecked {
                total < checked
            } else {
                total != checked
            };
            match first_refusal {
                Some(r) if short => Err(r.into_error()),
                _ => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renumbers_placeholders() {
        assert_eq!(
            shift_placeholders("UPDATE t SET a = $1, b = $12 WHERE c = '$x'", 3),
            "UPDATE t SET a = $4, b = $15 WHERE c = '$x'"
        );
        assert_eq!(shift_placeholders("SELECT 1", 5), "SELECT 1");
    }
}
