//! Several write statements as one round trip on SQLite.
//!
//! sqlx runs each SQLite statement on the connection's worker thread, so every statement
//! costs two thread hand-offs; on the hot paths that dominates. SQLite accepts several
//! statements in one query (placeholders numbered across the whole text), Postgres
//! does not, so each statement is written once with its own `$1..` and either sent
//! alone (Postgres) or renumbered and joined (SQLite).

use sqlx::any::AnyArguments;
use sqlx::Arguments;

use super::{Backend, DbError, Tx};

pub enum Arg {
    Int(i64),
    Text(String),
}

pub struct Stmt {
    pub sql: &'static str,
    pub args: Vec<Arg>,
}

fn bind_all(args: Vec<Arg>) -> Result<AnyArguments<'static>, DbError> {
    let mut out = AnyArguments::default();
    for arg in args {
        match arg {
            Arg::Int(v) => out.add(v),
            Arg::Text(v) => out.add(v),
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

/// Runs the statements in order inside `tx`; returns the rows each one changed (on
/// SQLite only the total is known, reported as one entry). Stops at the first error.
pub async fn execute(tx: &mut Tx, backend: Backend, stmts: Vec<Stmt>) -> Result<Vec<u64>, DbError> {
    match backend {
        Backend::Postgres => {
            let mut changed = Vec::with_capacity(stmts.len());
            for stmt in stmts {
                let result = sqlx::query_with(stmt.sql, bind_all(stmt.args)?)
                    .execute(&mut **tx)
                    .await?;
                changed.push(result.rows_affected());
            }
            Ok(changed)
        }
        Backend::Sqlite => {
            let mut sql = String::new();
            let mut args = Vec::new();
            for stmt in stmts {
                sql.push_str(&shift_placeholders(stmt.sql, args.len()));
                sql.push_str(";\n");
                args.extend(stmt.args);
            }
            let result = sqlx::query_with(&sql, bind_all(args)?)
                .execute(&mut **tx)
                .await?;
            Ok(vec![result.rows_affected()])
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
