//! Legacy member import: a CSV file (UTF-8 or GBK) becomes a plan (rows to create,
//! duplicates, rejected rows with reasons), then members in chunked transactions.
//!
//! Idempotent by phone: a row whose phone is a member already is a duplicate, so a
//! re-import (or a resumed one after a crash) creates nothing twice. Each member commits
//! with its points (an `import` ledger entry and batch), never one without the other.

use std::collections::HashMap;

use member_core::civil;
use member_core::dto::{ImportProblem, ImportReport};
use member_core::import::{self, Columns, Context, HeaderError, Row};
use member_core::tier_program;

use super::batch::{self, Arg, Stmt};
use super::ledger::{self, Debt, Entry};
use super::{Db, DbError};

/// Problems listed in a report (the counts cover every row).
pub const MAX_PROBLEMS: usize = 1000;
/// Rows per transaction: small enough to keep other writers moving on SQLite.
pub const CHUNK: usize = 500;

/// A file the import can't read at all (as opposed to bad rows).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("文件为空 / The file is empty")]
    Empty,
    #[error(
        "无法读取表头（需 UTF-8 或 GBK 编码的 CSV）/ Can't read the header (CSV in UTF-8 or GBK)"
    )]
    Header,
    #[error("缺少 phone（手机号）列 / No phone column")]
    NoPhone,
    #[error("列 {0} 出现了两次 / Column {0} appears twice")]
    Repeated(&'static str),
}

/// What the file holds, checked; ready for a dry-run report or the import.
pub struct Plan {
    pub encoding: &'static str,
    pub rows: i64,
    /// (line, row) to create.
    pub create: Vec<(i64, Row)>,
    pub duplicates: i64,
    pub rejected: i64,
    pub problems: Vec<ImportProblem>,
}

impl Plan {
    pub fn dry_run_report(&self) -> ImportReport {
        let imported = i64::try_from(self.create.len()).unwrap_or(i64::MAX);
        let points = self.create.iter().map(|(_, r)| r.points).sum();
        self.report(true, imported, 0, points)
    }

    pub fn report(
        &self,
        dry_run: bool,
        imported: i64,
        late_duplicates: i64,
        points: i64,
    ) -> ImportReport {
        ImportReport {
            dry_run,
            encoding: self.encoding.into(),
            rows: self.rows,
            imported,
            duplicates: self.duplicates + late_duplicates,
            rejected: self.rejected,
            points,
            problems: self.problems.clone(),
        }
    }

    fn note(&mut self, line: i64, column: &str, code: &str, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(ImportProblem {
                line,
                column: column.into(),
                code: code.into(),
                message,
            });
        }
    }
}

struct Record {
    line: i64,
    fields: Vec<Vec<u8>>,
}

fn records(bytes: &[u8]) -> Result<Vec<Record>, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut out = Vec::new();
    for result in reader.byte_records() {
        // The csv reader only fails on I/O (none: a slice) or on invalid UTF-8 in
        // string records; byte records take anything.
        let record = result.map_err(|_| FileError::Header)?;
        let line = record
            .position()
            .map_or(0, |p| i64::try_from(p.line()).unwrap_or(i64::MAX));
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        out.push(Record {
            line,
            fields: record.iter().map(<[u8]>::to_vec).collect(),
        });
    }
    Ok(out)
}

/// UTF-8 unless more rows with non-ASCII text read as GBK than as UTF-8 (Excel on a
/// Chinese Windows saves CSV as GBK).
fn detect(records: &[Record]) -> &'static str {
    let (mut utf8, mut gbk) = (0, 0);
    for r in records {
        let non_ascii = r.fields.iter().any(|f| !f.is_ascii());
        if !non_ascii {
            continue;
        }
        if r.fields.iter().all(|f| std::str::from_utf8(f).is_ok()) {
            utf8 += 1;
        } else if r.fields.iter().all(|f| decode_gbk(f).is_some()) {
            gbk += 1;
        }
    }
    if gbk > utf8 {
        "gbk"
    } else {
        "utf-8"
    }
}

fn decode_gbk(bytes: &[u8]) -> Option<String> {
    encoding_rs::GBK
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|c| c.into_owned())
}

fn decode(fields: &[Vec<u8>], encoding: &str) -> Option<Vec<String>> {
    fields
        .iter()
        .map(|f| match encoding {
            "gbk" => decode_gbk(f),
            _ => String::from_utf8(f.clone()).ok(),
        })
        .collect()
}

/// Reads and checks the whole file against the database as it is now (tiers, stores,
/// existing phones). Nothing is written.
pub async fn plan(db: &Db, bytes: &[u8], now: i64) -> Result<Result<Plan, FileError>, DbError> {
    let records = match records(bytes) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let Some((head, body)) = records.split_first() else {
        return Ok(Err(FileError::Empty));
    };
    let encoding = detect(&records);
    let Some(header) = decode(&head.fields, encoding) else {
        return Ok(Err(FileError::Header));
    };
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let cols = match Columns::from_header(&header) {
        Ok(c) => c,
        Err(HeaderError::NoPhone) => return Ok(Err(FileError::NoPhone)),
        Err(HeaderError::Repeated(c)) => return Ok(Err(FileError::Repeated(c))),
    };
    let tiers: Vec<(String, String)> = super::tiers::all(db, now)
        .await?
        .into_iter()
        .map(|t| (t.code, t.name))
        .collect();
    let stores: Vec<String> = sqlx::query_scalar("SELECT code FROM stores")
        .fetch_all(db.reader())
        .await?;
    let ctx = Context {
        tiers: &tiers,
        stores: &stores,
        today: civil::local_date(now),
        now,
    };
    let mut plan = Plan {
        encoding,
        rows: i64::try_from(body.len()).unwrap_or(i64::MAX),
        create: Vec::new(),
        duplicates: 0,
        rejected: 0,
        problems: Vec::new(),
    };
    let mut seen: HashMap<String, i64> = HashMap::new();
    for r in body {
        let Some(fields) = decode(&r.fields, encoding) else {
            plan.rejected += 1;
            plan.note(
                r.line,
                "row",
                "wrong_encoding",
                format!(
                    "该行不是 {encoding} 编码（文件应统一为 UTF-8 或 GBK）/ The row is not {encoding} \
                     (save the whole file as UTF-8 or GBK)"
                ),
            );
            continue;
        };
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        match import::check_row(&cols, &fields, &ctx) {
            Err(problems) => {
                plan.rejected += 1;
                for p in problems {
                    plan.note(r.line, p.column, p.code, p.message);
                }
            }
            Ok(row) => match seen.get(row.phone.as_e164()) {
                Some(first) => {
                    plan.duplicates += 1;
                    let first = *first;
                    plan.note(
                        r.line,
                        "phone",
                        "duplicate_in_file",
                        format!("与第 {first} 行手机号重复 / Same phone as line {first}"),
                    );
                }
                None => {
                    seen.insert(row.phone.as_e164().to_string(), r.line);
                    plan.create.push((r.line, row));
                }
            },
        }
    }
    // Phones that are members already. On Postgres one text parameter split into an
    // array, in an unnamed statement: planned for this very value, the array is a
    // constant and the phone index (or a hashed filter) finds the rows. A cached generic
    // plan, made while the table was still empty, scanned every row and split the
    // parameter (or compared 500 parameters) for each: re-importing 100,000 rows took
    // minutes.
    let mut existing = std::collections::HashSet::new();
    for chunk in plan.create.chunks(CHUNK) {
        let found: Vec<String> = match db.backend() {
            super::Backend::Postgres => {
                let phones: Vec<&str> = chunk.iter().map(|(_, r)| r.phone.as_e164()).collect();
                sqlx::query_scalar(
                    "SELECT phone FROM members WHERE phone = ANY(string_to_array($1, ','))",
                )
                .persistent(false)
                .bind(phones.join(","))
                .fetch_all(db.reader())
                .await?
            }
            super::Backend::Sqlite => {
                let placeholders: Vec<String> =
                    (1..=chunk.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "SELECT phone FROM members WHERE phone IN ({})",
                    placeholders.join(", ")
                );
                let mut q = sqlx::query_scalar::<_, String>(&sql);
                for (_, row) in chunk {
                    q = q.bind(row.phone.as_e164().to_string());
                }
                q.fetch_all(db.reader()).await?
            }
        };
        existing.extend(found);
    }
    if !existing.is_empty() {
        let create = std::mem::take(&mut plan.create);
        for (line, row) in create {
            if existing.contains(row.phone.as_e164()) {
                plan.duplicates += 1;
                plan.note(
                    line,
                    "phone",
                    "already_member",
                    format!(
                        "{} 已是会员，跳过 / {} is a member already: skipped",
                        row.phone.masked(),
                        row.phone.masked()
                    ),
                );
            } else {
                plan.create.push((line, row));
            }
        }
    }
    Ok(Ok(plan))
}

/// How far an import got.
pub struct Done {
    pub imported: i64,
    /// Rows whose phone became a member between the plan and the insert (a sign-up in
    /// the meantime, or a second import running at once).
    pub late_duplicates: i64,
    pub points: i64,
}

/// Creates the plan's members, `CHUNK` per transaction; `progress` hears the rows done
/// after each chunk.
pub async fn run<F, Fut>(
    db: &Db,
    plan: &Plan,
    actor: &str,
    now: i64,
    mut progress: F,
) -> Result<Done, DbError>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let version = super::tier_program::in_effect(db, now).await?;
    let program = &version.program;
    let entry_tier = program
        .tiers
        .first()
        .map(|t| t.code.clone())
        .ok_or(DbError::NoTiers)?;
    let expiry = ledger::expiry_rule(db).await?;
    let store_ids: HashMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT code, id FROM stores")
            .fetch_all(db.reader())
            .await?
            .into_iter()
            .collect();
    let mut done = Done {
        imported: 0,
        late_duplicates: 0,
        points: 0,
    };
    let mut processed = 0i64;
    for chunk in plan.create.chunks(CHUNK) {
        let mut tx = db.begin_write().await?;
        let mut stmts = Vec::new();
        for (line, row) in chunk {
            let tier = row.tier.clone().unwrap_or_else(|| entry_tier.clone());
            let tier_index = tier_program::index_of(program, &tier).unwrap_or(0);
            let period_end = (tier_index > 0 && tier_program::has_periods(program, tier_index))
                .then(|| tier_program::period_end(now, program.downgrade.period_months));
            let Some(id) = insert_member(&mut tx, row, &tier, period_end, &store_ids, now).await?
            else {
                done.late_duplicates += 1;
                continue;
            };
            done.imported += 1;
            if row.points > 0 {
                let entry = Entry {
                    member_id: id,
                    kind: "import",
                    reason: "旧系统积分导入 / Points brought over from the old system".into(),
                    source_ref: Some(format!("import:{line}")),
                    actor: actor.to_string(),
                    store_id: None,
                    now,
                    event: Some(ledger::event("import")),
                };
                let (s, _) = ledger::plan_credit(
                    &entry,
                    row.points,
                    expiry.expires_at(now),
                    &Debt::default(),
                );
                stmts.extend(s);
                done.points += row.points;
            }
        }
        stmts.push(Stmt::new(
            super::audit::INSERT,
            vec![
                Arg::Text(actor.to_string()),
                Arg::Text("members.import".into()),
                Arg::Text("members".into()),
                Arg::Text(format!("rows={}", chunk.len())),
                Arg::Int(now),
            ],
        ));
        batch::execute(&mut tx, db.backend(), stmts).await?;
        tx.commit().await?;
        processed += i64::try_from(chunk.len()).unwrap_or(0);
        progress(processed).await;
    }
    Ok(done)
}

/// One member row; `None` when the phone was taken meanwhile. The member number is
/// random, a collision draws again.
async fn insert_member(
    tx: &mut super::Tx,
    row: &Row,
    tier: &str,
    period_end: Option<i64>,
    store_ids: &HashMap<String, i64>,
    now: i64,
) -> Result<Option<i64>, DbError> {
    let store_id = row.store.as_ref().and_then(|s| store_ids.get(s).copied());
    let name = row.name.clone().unwrap_or_default();
    let joined = row.joined_at.unwrap_or(now);
    for _ in 0..8 {
        let member_no = member_core::card_code::member_no_from_random(crate::crypto::random_u64());
        let key = crate::crypto::card_key();
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO members (member_no, phone, name, tier_code, card_key, privacy_consent_at, \
                                  marketing_consent, created_at, signup_store_id, signup_channel, \
                                  birth_year, birth_month, birth_day, tier_since, period_start, period_end) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, 'import', $9, $10, $11, $6, $12, $13) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(&member_no)
        .bind(row.phone.as_e164())
        .bind(&name)
        .bind(tier)
        .bind(key.as_bytes().to_vec())
        .bind(now)
        .bind(joined)
        .bind(store_id)
        .bind(row.birthday.map(|d| d.year))
        .bind(row.birthday.map(|d| i64::from(d.month)))
        .bind(row.birthday.map(|d| i64::from(d.day)))
        .bind(period_end.map(|_| now))
        .bind(period_end)
        .fetch_optional(&mut **tx)
        .await?;
        if id.is_some() {
            return Ok(id);
        }
        let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE phone = $1")
            .bind(row.phone.as_e164())
            .fetch_one(&mut **tx)
            .await?;
        if taken > 0 {
            return Ok(None);
        }
    }
    Err(DbError::Corrupt("could not draw a free member number"))
}

/// Import jobs (API imports run in the background; any instance can report progress).
pub async fn start_job(db: &Db, rows: i64, actor: &str, now: i64) -> Result<i64, DbError> {
    let mut tx = db.begin_write().await?;
    let id = sqlx::query_scalar(
        "INSERT INTO import_jobs (status, rows, created_by, created_at, updated_at) \
         VALUES ('running', $1, $2, $3, $3) RETURNING id",
    )
    .bind(rows)
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn job_progress(db: &Db, id: i64, processed: i64, now: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE import_jobs SET processed = $1, updated_at = $2 WHERE id = $3")
        .bind(processed)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn finish_job(
    db: &Db,
    id: i64,
    report: Option<&ImportReport>,
    error: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    let body = report
        .map(serde_json::to_string)
        .transpose()
        .map_err(|_| DbError::Corrupt("import report"))?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE import_jobs SET status = $1, report = $2, error = $3, finished_at = $4, \
                updated_at = $4, \
                processed = CASE WHEN $1 = 'done' THEN rows ELSE processed END WHERE id = $5",
    )
    .bind(if error.is_some() { "failed" } else { "done" })
    .bind(body)
    .bind(error)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub status: String,
    pub rows: i64,
    pub processed: i64,
    pub report: Option<String>,
    pub error: Option<String>,
    pub updated_at: i64,
}

pub async fn job(db: &Db, id: i64) -> Result<Option<JobRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, status, rows, processed, report, error, updated_at FROM import_jobs WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?)
}

/// The report as the command line prints it.
pub fn summary(r: &ImportReport) -> String {
    let mut out = format!(
        "{}encoding: {}\nrows: {}\n{}: {}\nskipped as duplicates: {}\nrejected: {}\npoints credited: {}\n",
        if r.dry_run { "DRY RUN (nothing changed)\n" } else { "" },
        r.encoding,
        r.rows,
        if r.dry_run { "would import" } else { "imported" },
        r.imported,
        r.duplicates,
        r.rejected,
        r.points,
    );
    for p in &r.problems {
        out.push_str(&format!(
            "line {}: {} [{}] {}\n",
            p.line, p.column, p.code, p.message
        ));
    }
    out
}
