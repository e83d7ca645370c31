//! Legacy member import: which column holds what (matched by header name, in English or
//! Chinese), and each row checked into a member to create or a list of reasons why not.
//! Decoding (UTF-8/GBK) and the CSV syntax are the server's; this is the rules.

use std::collections::HashMap;

use crate::civil::Date;
use crate::phone::Phone;
use crate::signup;

/// The columns an import understands; only `phone` is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Phone,
    Name,
    Tier,
    Points,
    Birthday,
    Store,
    JoinedAt,
}

impl Column {
    const ALL: [Self; 7] = [
        Self::Phone,
        Self::Name,
        Self::Tier,
        Self::Points,
        Self::Birthday,
        Self::Store,
        Self::JoinedAt,
    ];

    /// The documented header name (`phone,name,tier,points,birthday,store,joined_at`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Name => "name",
            Self::Tier => "tier",
            Self::Points => "points",
            Self::Birthday => "birthday",
            Self::Store => "store",
            Self::JoinedAt => "joined_at",
        }
    }

    /// Other header spellings seen in exports of older systems.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::Phone => &["mobile", "手机号", "手机", "手机号码", "电话"],
            Self::Name => &["姓名", "名字", "会员姓名"],
            Self::Tier => &["level", "等级", "会员等级", "卡等级"],
            Self::Points => &["积分", "可用积分"],
            Self::Birthday => &["birth_date", "生日", "出生日期"],
            Self::Store => &["store_code", "门店", "门店编码", "所属门店"],
            Self::JoinedAt => &["joined", "join_date", "入会时间", "注册时间", "开卡时间"],
        }
    }

    fn matches(self, header: &str) -> bool {
        let h = header.trim().trim_start_matches('\u{feff}').to_lowercase();
        let h = h.replace([' ', '-'], "_");
        h == self.name() || self.aliases().iter().any(|a| *a == h)
    }
}

/// Where each known column is (by index); unknown headers are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns(HashMap<Column, usize>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// No column is called `phone` (or an alias).
    NoPhone,
    /// Two columns mean the same thing.
    Repeated(&'static str),
}

impl Columns {
    pub fn from_header(header: &[&str]) -> Result<Self, HeaderError> {
        let mut map = HashMap::new();
        for (i, h) in header.iter().enumerate() {
            if let Some(col) = Column::ALL.into_iter().find(|c| c.matches(h)) {
                if map.insert(col, i).is_some() {
                    return Err(HeaderError::Repeated(col.name()));
                }
            }
        }
        if !map.contains_key(&Column::Phone) {
            return Err(HeaderError::NoPhone);
        }
        Ok(Self(map))
    }

    pub fn has(&self, col: Column) -> bool {
        self.0.contains_key(&col)
    }

    fn get<'a>(&self, record: &[&'a str], col: Column) -> Option<&'a str> {
        self.0
            .get(&col)
            .and_then(|&i| record.get(i).copied())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// A row that passed every check: ready to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub phone: Phone,
    pub name: Option<String>,
    /// A tier code of the program.
    pub tier: Option<String>,
    pub points: i64,
    pub birthday: Option<Date>,
    /// A store code that exists.
    pub store: Option<String>,
    pub joined_at: Option<i64>,
}

/// Why a row was not imported; `code` is stable for clients, the message is zh/en.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub column: &'static str,
    pub code: &'static str,
    pub message: String,
}

fn problem(column: Column, code: &'static str, message: String) -> Problem {
    Problem {
        column: column.name(),
        code,
        message,
    }
}

/// The most points one row may bring (a typo guard: legacy balances are far below).
pub const MAX_POINTS: i64 = 100_000_000;
pub const NAME_MAX_CHARS: usize = 40;

/// What rows are checked against: the program's tiers (code and name), the store codes,
/// and today's date / now (birthdays and join dates can't be in the future).
pub struct Context<'a> {
    /// (code, name) of every tier.
    pub tiers: &'a [(String, String)],
    pub stores: &'a [String],
    pub today: Date,
    pub now: i64,
}

/// Checks one data row; every problem is reported, not only the first.
pub fn check_row(cols: &Columns, record: &[&str], ctx: &Context<'_>) -> Result<Row, Vec<Problem>> {
    let mut problems = Vec::new();
    let phone = match cols.get(record, Column::Phone).map(Phone::parse) {
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => {
            problems.push(problem(
                Column::Phone,
                "bad_phone",
                "手机号无效（需中国大陆手机号）/ Not a mainland China mobile number".into(),
            ));
            None
        }
        None => {
            problems.push(problem(
                Column::Phone,
                "missing_phone",
                "缺少手机号 / Phone is missing".into(),
            ));
            None
        }
    };
    let name = match cols.get(record, Column::Name) {
        Some(n) => match signup::clean_text(n, NAME_MAX_CHARS) {
            Some(n) => Some(n),
            None => {
                problems.push(problem(
                    Column::Name,
                    "bad_name",
                    format!(
                        "姓名过长或含无效字符（最多 {NAME_MAX_CHARS} 字）/ Name too long or has \
                         invalid characters (max {NAME_MAX_CHARS})"
                    ),
                ));
                None
            }
        },
        None => None,
    };
    let tier = match cols.get(record, Column::Tier) {
        Some(t) => {
            let found = ctx
                .tiers
                .iter()
                .find(|(code, name)| code.eq_ignore_ascii_case(t) || name == t);
            match found {
                Some((code, _)) => Some(code.clone()),
                None => {
                    problems.push(problem(
                        Column::Tier,
                        "unknown_tier",
                        format!("没有等级“{t}” / No tier called “{t}”"),
                    ));
                    None
                }
            }
        }
        None => None,
    };
    let points = match cols.get(record, Column::Points) {
        Some(p) => match p.replace(',', "").parse::<i64>() {
            Ok(n) if n < 0 => {
                problems.push(problem(
                    Column::Points,
                    "negative_points",
                    "积分不能为负 / Points can't be negative".into(),
                ));
                0
            }
            Ok(n) if n > MAX_POINTS => {
                problems.push(problem(
                    Column::Points,
                    "too_many_points",
                    format!("积分超过上限 {MAX_POINTS} / More than {MAX_POINTS} points"),
                ));
                0
            }
            Ok(n) => n,
            Err(_) => {
                problems.push(problem(
                    Column::Points,
                    "bad_points",
                    "积分须为整数 / Points must be a whole number".into(),
                ));
                0
            }
        },
        None => 0,
    };
    let birthday = match cols.get(record, Column::Birthday) {
        Some(b) => match signup::parse_birthday(b, ctx.today) {
            Some(d) => Some(d),
            None => {
                problems.push(problem(
                    Column::Birthday,
                    "bad_date",
                    format!(
                        "生日“{b}”不是有效日期（YYYY-MM-DD，不晚于今天）/ Birthday “{b}” is not a \
                         valid date (YYYY-MM-DD, not in the future)"
                    ),
                ));
                None
            }
        },
        None => None,
    };
    let store = match cols.get(record, Column::Store) {
        Some(s) => match ctx.stores.iter().find(|c| c.eq_ignore_ascii_case(s)) {
            Some(code) => Some(code.clone()),
            None => {
                problems.push(problem(
                    Column::Store,
                    "unknown_store",
                    format!("没有门店编码“{s}” / No store with code “{s}”"),
                ));
                None
            }
        },
        None => None,
    };
    let joined_at = match cols.get(record, Column::JoinedAt) {
        Some(j) => match signup::parse_local_datetime(j) {
            Some(t) if t <= ctx.now => Some(t),
            _ => {
                problems.push(problem(
                    Column::JoinedAt,
                    "bad_date",
                    format!(
                        "入会时间“{j}”无效（YYYY-MM-DD [HH:MM]，不晚于现在）/ Joined “{j}” is not \
                         a valid date (YYYY-MM-DD [HH:MM], not in the future)"
                    ),
                ));
                None
            }
        },
        None => None,
    };
    match phone {
        Some(phone) if problems.is_empty() => Ok(Row {
            phone,
            name,
            tier,
            points,
            birthday,
            store,
            joined_at,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::civil;

    fn ctx<'a>(tiers: &'a [(String, String)], stores: &'a [String]) -> Context<'a> {
        Context {
            tiers,
            stores,
            today: Date {
                year: 2026,
                month: 12,
                day: 6,
            },
            now: civil::local_midnight(Date {
                year: 2026,
                month: 12,
                day: 6,
            }),
        }
    }

    fn fixtures() -> (Vec<(String, String)>, Vec<String>) {
        (
            vec![
                ("normal".into(), "普卡".into()),
                ("silver".into(), "银卡".into()),
                ("gold".into(), "金卡".into()),
            ],
            vec!["S001".into()],
        )
    }

    fn rows(csv: &str) -> (Columns, Vec<Vec<String>>) {
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let cols = Columns::from_header(&header).unwrap();
        let data = lines
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        (cols, data)
    }

    /// The sample file the README links to: every row imports.
    const SAMPLE_CSV: &str = include_str!("../../docs/import-sample.csv");

    #[test]
    fn the_sample_file_is_all_good() {
        let (tiers, stores) = fixtures();
        let (cols, data) = rows(SAMPLE_CSV);
        let checked: Vec<Row> = data
            .iter()
            .map(|r| {
                let r: Vec<&str> = r.iter().map(String::as_str).collect();
                check_row(&cols, &r, &ctx(&tiers, &stores)).unwrap()
            })
            .collect();
        assert_eq!(checked.len(), 3);
        assert_eq!(checked[0].tier.as_deref(), Some("gold"));
        assert_eq!(checked[1].tier.as_deref(), Some("silver"));
        assert_eq!(checked[1].phone.as_e164(), "+8613900000002");
        assert_eq!(checked[2].points, 0);
        assert_eq!(checked[2].name, None);
    }

    #[test]
    fn headers_by_name_in_any_order_and_language() {
        let cols = Columns::from_header(&["积分", "\u{feff}手机号", "extra", "Joined At"]).unwrap();
        assert!(cols.has(Column::Points) && cols.has(Column::Phone));
        assert!(cols.has(Column::JoinedAt));
        assert!(!cols.has(Column::Name));
        assert_eq!(
            Columns::from_header(&["name", "points"]),
            Err(HeaderError::NoPhone)
        );
        assert_eq!(
            Columns::from_header(&["phone", "手机"]),
            Err(HeaderError::Repeated("phone"))
        );
    }

    #[test]
    fn every_bad_field_is_reported() {
        let (tiers, stores) = fixtures();
        let (cols, _) = rows("phone,name,tier,points,birthday,store,joined_at\n");
        let bad = [
            "12345",
            "x\u{7}y",
            "platinum",
            "-5",
            "1990-02-30",
            "S999",
            "2099-01-01",
        ];
        let problems = check_row(&cols, &bad, &ctx(&tiers, &stores)).unwrap_err();
        let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
        assert_eq!(
            codes,
            [
                "bad_phone",
                "bad_name",
                "unknown_tier",
                "negative_points",
                "bad_date",
                "unknown_store",
                "bad_date"
            ]
        );
        let missing = check_row(&cols, &["", "", "", "1.5"], &ctx(&tiers, &stores)).unwrap_err();
        let codes: Vec<&str> = missing.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["missing_phone", "bad_points"]);
    }

    #[test]
    fn short_rows_leave_later_columns_empty() {
        let (tiers, stores) = fixtures();
        let (cols, _) = rows("phone,name,tier,points\n");
        let row = check_row(&cols, &["13800000009"], &ctx(&tiers, &stores)).unwrap();
        assert_eq!(row.points, 0);
        assert_eq!(row.tier, None);
    }
}
