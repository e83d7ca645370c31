//! Legacy member import: a CSV file (UTF-8 or GBK) becomes a plan (rows to create,
//! duplicates, rejected rows with reasons), then members in chunked transactions.
//!
//! Idempotent by phone: a row whose phone is a member already is a duplicate, so a
//! re-import (or a resumed one after a crash) creates nothing twice. Each member commits
//! with its points (an `import` ledger entry and batch), never one without the other.

use member_core::points::LedgerKind;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};

use csv::ByteRecord;

use member_core::civil;
use member_core::dto::{ImportProblem, ImportReport, LedgerEvent};
use member_core::import::{self, Columns, Context, HeaderError, Row};
use member_core::tier_program;

use crate::db::batch::{self, Arg, Stmt};
use crate::db::{Db, DbError};
use crate::points::store::ledger::{self, Debt, Entry};

pub mod jobs;

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
    #[error("无法读取上传的文件 / The uploaded file could not be read")]
    Unreadable,
}

/// The uploaded CSV, spooled to an unnamed temporary file (or the operator's own file):
/// the import reads it three times as a stream (encoding, checks, inserts) instead of
/// holding the file and every parsed row in memory — a 31 MiB file took the server
/// from 69 to 463 MiB, four at once to 2.9 GiB.
pub struct Source {
    file: File,
}

impl Source {
    pub fn from_file(file: File) -> Self {
        Self { file }
    }

    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        File::open(path).map(Self::from_file)
    }

    /// Small files (tests, benches): written to a temporary file like an upload.
    pub fn from_bytes(bytes: &[u8]) -> std::io::Result<Self> {
        let mut file = tempfile::tempfile()?;
        file.write_all(bytes)?;
        Ok(Self::from_file(file))
    }

    /// The file's non-blank records from the top.
    fn records(&self) -> Result<Records, FileError> {
        let mut file = self.file.try_clone().map_err(|_| FileError::Unreadable)?;
        file.seek(SeekFrom::Start(0))
            .map_err(|_| FileError::Unreadable)?;
        let mut input = BufReader::with_capacity(64 * 1024, file);
        let bom = input.fill_buf().map_err(|_| FileError::Unreadable)?;
        if bom.starts_with(b"\xEF\xBB\xBF") {
            input.consume(3);
        }
        Ok(Records {
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(input),
            record: ByteRecord::new(),
        })
    }
}

/// A cursor over a CSV file that reuses one record buffer.
struct Records {
    reader: csv::Reader<BufReader<File>>,
    record: ByteRecord,
}

impl Records {
    /// The next non-blank record and its line.
    fn next(&mut self) -> Result<Option<(i64, &ByteRecord)>, FileError> {
        loop {
            // Byte records take any bytes; a failure here is the file itself.
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(_) => return Err(FileError::Header),
            }
            if !self
                .record
                .iter()
                .all(|f| f.iter().all(u8::is_ascii_whitespace))
            {
                break;
            }
        }
        let line = self
            .record
            .position()
            .map_or(0, |p| i64::try_from(p.line()).unwrap_or(i64::MAX));
        Ok(Some((line, &self.record)))
    }
}

/// What the file holds, checked; ready for a dry-run report or the import. Rows to
/// create are kept as their line numbers: `run` reads them again from the file.
pub struct Plan {
    pub encoding: &'static str,
    pub rows: i64,
    /// Lines to create, ascending.
    pub create: Vec<i64>,
    /// Points the rows to create carry.
    pub points: i64,
    pub duplicates: i64,
    pub rejected: i64,
    pub problems: Vec<ImportProblem>,
    source: Source,
    columns: Columns,
    tiers: Vec<(String, String)>,
    stores: Vec<String>,
}

impl Plan {
    pub fn dry_run_report(&self) -> ImportReport {
        let imported = i64::try_from(self.create.len()).unwrap_or(i64::MAX);
        self.report(true, imported, 0, self.points)
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

    fn context(&self, now: i64) -> Context<'_> {
        Context {
            tiers: &self.tiers,
            stores: &self.stores,
            today: civil::local_date(now),
            now,
        }
    }
}

/// The plan's rows to create, read again from the file a chunk at a time.
struct RowsToCreate<'a> {
    plan: &'a Plan,
    records: Records,
    ctx: Context<'a>,
    next: usize,
}

/// The file no longer reads as it did when it was planned.
const CHANGED: DbError = DbError::Corrupt("the import file could not be read again");

impl Plan {
    fn rows_to_create(&self, now: i64) -> Result<RowsToCreate<'_>, DbError> {
        Ok(RowsToCreate {
            plan: self,
            records: self.source.records().map_err(|_| CHANGED)?,
            ctx: self.context(now),
            next: 0,
        })
    }
}

impl RowsToCreate<'_> {
    /// Up to `CHUNK` rows; empty at the end.
    fn next_chunk(&mut self) -> Result<Vec<(i64, Row)>, DbError> {
        let mut out = Vec::new();
        while out.len() < CHUNK {
            let Some(&want) = self.plan.create.get(self.next) else {
                break;
            };
            let Some((line, record)) = self.records.next().map_err(|_| CHANGED)? else {
                return Err(CHANGED);
            };
            if line < want {
                continue;
            }
            if line > want {
                return Err(CHANGED);
            }
            self.next += 1;
            let fields = decode(record, self.plan.encoding).ok_or(CHANGED)?;
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            let row =
                import::check_row(&self.plan.columns, &fields, &self.ctx).map_err(|_| CHANGED)?;
            out.push((line, row));
        }
        Ok(out)
    }
}

/// UTF-8 unless more rows with non-ASCII text read as GBK than as UTF-8 (Excel on a
/// Chinese Windows saves CSV as GBK).
fn detect(source: &Source) -> Result<&'static str, FileError> {
    let (mut utf8, mut gbk) = (0, 0);
    let mut records = source.records()?;
    while let Some((_, r)) = records.next()? {
        if r.iter().all(<[u8]>::is_ascii) {
            continue;
        }
        if r.iter().all(|f| std::str::from_utf8(f).is_ok()) {
            utf8 += 1;
        } else if r.iter().all(|f| decode_gbk(f).is_some()) {
            gbk += 1;
        }
    }
    Ok(if gbk > utf8 { "gbk" } else { "utf-8" })
}

fn decode_gbk(bytes: &[u8]) -> Option<String> {
    encoding_rs::GBK
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|c| c.into_owned())
}

fn decode(fields: &ByteRecord, encoding: &str) -> Option<Vec<String>> {
    fields
        .iter()
        .map(|f| match encoding {
            "gbk" => decode_gbk(f),
            _ => std::str::from_utf8(f).ok().map(str::to_owned),
        })
        .collect()
}

/// A phone as a number (E.164 is at most 15 digits): the in-file duplicate check keeps
/// one per row of the file, so it should be small.
fn phone_key(row: &Row) -> u64 {
    row.phone
        .as_e164()
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0u64, |n, d| {
            n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
        })
}

/// A row that passed its checks and is the first with its phone in the file; whether
/// its phone is a member already is asked per `CHUNK`.
struct Candidate {
    line: i64,
    phone: String,
    masked: String,
    points: i64,
}

/// Reads and checks the whole file against the database as it is now (tiers, stores,
/// existing phones). Nothing is written.
pub async fn plan(db: &Db, source: Source, now: i64) -> Result<Result<Plan, FileError>, DbError> {
    let encoding = match detect(&source) {
        Ok(e) => e,
        Err(e) => return Ok(Err(e)),
    };
    let mut records = match source.records() {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let header = match records.next() {
        Err(e) => return Ok(Err(e)),
        Ok(None) => return Ok(Err(FileError::Empty)),
        Ok(Some((_, r))) => match decode(r, encoding) {
            None => return Ok(Err(FileError::Header)),
            Some(h) => h,
        },
    };
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let columns = match Columns::from_header(&header) {
        Ok(c) => c,
        Err(HeaderError::NoPhone) => return Ok(Err(FileError::NoPhone)),
        Err(HeaderError::Repeated(c)) => return Ok(Err(FileError::Repeated(c))),
    };
    let tiers: Vec<(String, String)> = crate::tiers::store::tiers::all(db, now)
        .await?
        .into_iter()
        .map(|t| (t.code, t.name))
        .collect();
    let stores: Vec<String> = sqlx::query_scalar("SELECT code FROM stores")
        .fetch_all(db.reader())
        .await?;
    let mut plan = Plan {
        encoding,
        rows: 0,
        create: Vec::new(),
        points: 0,
        duplicates: 0,
        rejected: 0,
        problems: Vec::new(),
        source,
        columns,
        tiers,
        stores,
    };
    // First rows of a phone wait in batches of CHUNK for the look-up of existing members.
    let mut seen: HashMap<u64, i64> = HashMap::new();
    let mut pending: Vec<Candidate> = Vec::with_capacity(CHUNK);
    loop {
        let (line, fields) = match records.next() {
            Err(e) => return Ok(Err(e)),
            Ok(None) => break,
            Ok(Some((line, r))) => (line, decode(r, encoding)),
        };
        plan.rows += 1;
        let Some(fields) = fields else {
            plan.rejected += 1;
            plan.note(
                line,
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
        let checked = import::check_row(&plan.columns, &fields, &plan.context(now));
        match checked {
            Err(problems) => {
                plan.rejected += 1;
                for p in problems {
                    plan.note(line, p.column, p.code, p.message);
                }
            }
            Ok(row) => match seen.get(&phone_key(&row)) {
                Some(first) => {
                    plan.duplicates += 1;
                    let first = *first;
                    plan.note(
                        line,
                        "phone",
                        "duplicate_in_file",
                        format!("与第 {first} 行手机号重复 / Same phone as line {first}"),
                    );
                }
                None => {
                    seen.insert(phone_key(&row), line);
                    pending.push(Candidate {
                        line,
                        phone: row.phone.as_e164().to_string(),
                        masked: row.phone.masked(),
                        points: row.points,
                    });
                    if pending.len() >= CHUNK {
                        settle(db, &mut plan, &mut pending).await?;
                    }
                }
            },
        }
    }
    settle(db, &mut plan, &mut pending).await?;
    plan.problems.sort_by_key(|p| p.line);
    Ok(Ok(plan))
}

/// Candidates whose phone is a member already become duplicates; the rest are to be
/// created.
async fn settle(db: &Db, plan: &mut Plan, pending: &mut Vec<Candidate>) -> Result<(), DbError> {
    if pending.is_empty() {
        return Ok(());
    }
    let existing: std::collections::HashSet<String> =
        existing_phones(db, pending.iter().map(|c| c.phone.as_str()))
            .await?
            .into_iter()
            .collect();
    for c in pending.drain(..) {
        if existing.contains(&c.phone) {
            plan.duplicates += 1;
            plan.note(
                c.line,
                "phone",
                "already_member",
                format!(
                    "{} 已是会员，跳过 / {} is a member already: skipped",
                    c.masked, c.masked
                ),
            );
        } else {
            plan.create.push(c.line);
            plan.points += c.points;
        }
    }
    Ok(())
}

/// Which of these phones are members already. On Postgres one text parameter split into
/// an array, in an unnamed statement: planned for this very value, the array is a
/// constant and the phone index (or a hashed filter) finds the rows. A cached generic
/// plan, made while the table was still empty, scanned every row and split the parameter
/// (or compared 500 parameters) for each: re-importing 100,000 rows took minutes.
async fn existing_phones<'a>(
    db: &Db,
    phones: impl Iterator<Item = &'a str>,
) -> Result<Vec<String>, DbError> {
    let phones: Vec<&str> = phones.collect();
    Ok(match db.backend() {
        crate::db::Backend::Postgres => {
            sqlx::query_scalar(
                "SELECT phone FROM members WHERE phone = ANY(string_to_array($1, ','))",
            )
            .persistent(false)
            .bind(phones.join(","))
            .fetch_all(db.reader())
            .await?
        }
        crate::db::Backend::Sqlite => {
            let placeholders: Vec<String> = (1..=phones.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT phone FROM members WHERE phone IN ({})",
                placeholders.join(", ")
            );
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for phone in phones {
                q = q.bind(phone.to_string());
            }
            q.fetch_all(db.reader()).await?
        }
    })
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
    let version = crate::tiers::store::tier_program::in_effect(db, now).await?;
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
    let mut rows = plan.rows_to_create(now)?;
    loop {
        let chunk = rows.next_chunk()?;
        if chunk.is_empty() {
            break;
        }
        let mut tx = db.begin_write().await?;
        let mut stmts = Vec::new();
        for (line, row) in &chunk {
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
                    kind: LedgerKind::Import,
                    reason: "旧系统积分导入 / Points brought over from the old system".into(),
                    source_ref: Some(format!("import:{line}")),
                    actor: actor.to_string(),
                    store_id: None,
                    now,
                    event: Some(LedgerEvent::of("import")),
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
            crate::db::audit::INSERT,
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
    tx: &mut crate::db::Tx,
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
