//! Splits a migration file into single SQL statements, so that each one is sent as its
//! own query (Citus forwards DDL to the workers over the extended protocol, which takes
//! exactly one statement per query).
//!
//! A `;` ends a statement only outside quotes ('…', "…", PostgreSQL `E'…'` with
//! backslash escapes, `$tag$…$tag$` dollar quoting, SQLite `[…]` and backticks),
//! outside comments (`--` to end of line, nested `/* … */`) and outside compound bodies
//! (a SQLite `CREATE TRIGGER … BEGIN … END`, a PostgreSQL `BEGIN ATOMIC … END`, with
//! `CASE … END` counted inside them). Chunks holding only comments and whitespace are
//! dropped. It never rewrites a statement: each piece is a slice of the file.

/// Which SQL dialect a file is written in: it decides which quotes and blocks exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

/// The statements of `sql`, in order, trimmed, without their terminating `;`.
pub fn split_statements(sql: &str, dialect: Dialect) -> Vec<&str> {
    let mut splitter = Splitter {
        src: sql.as_bytes(),
        dialect,
        out: Vec::new(),
        start: 0,
        has_code: false,
        words: Vec::new(),
        depth: 0,
        block: false,
        prev_begin: false,
    };
    splitter.run();
    splitter
        .out
        .into_iter()
        .map(|(a, b)| sql[a..b].trim())
        .collect()
}

struct Splitter<'a> {
    src: &'a [u8],
    dialect: Dialect,
    /// Byte ranges of finished statements.
    out: Vec<(usize, usize)>,
    /// Where the current statement starts.
    start: usize,
    /// Whether the current statement holds anything besides comments and whitespace.
    has_code: bool,
    /// The first few keywords of the current statement, upper-cased.
    words: Vec<String>,
    /// `BEGIN`/`CASE` nesting inside a compound body.
    depth: u32,
    /// Whether the current statement has a compound body (`;` inside it does not end it).
    block: bool,
    /// Whether the previous keyword was `BEGIN` (for `BEGIN ATOMIC`).
    prev_begin: bool,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

impl Splitter<'_> {
    fn run(&mut self) {
        let mut i = 0;
        while i < self.src.len() {
            let b = self.src[i];
            let next = self.src.get(i + 1).copied();
            i = match b {
                b'-' if next == Some(b'-') => self.skip_line_comment(i),
                b'/' if next == Some(b'*') => self.skip_block_comment(i),
                b'\'' => {
                    self.has_code = true;
                    self.skip_string(i, self.is_escape_string(i))
                }
                b'"' => {
                    self.has_code = true;
                    self.skip_quoted(i, b'"')
                }
                b'`' | b'[' if self.dialect == Dialect::Sqlite => {
                    self.has_code = true;
                    self.skip_quoted(i, if b == b'[' { b']' } else { b'`' })
                }
                b'$' if self.dialect == Dialect::Postgres => {
                    self.has_code = true;
                    self.skip_dollar(i)
                }
                b';' => {
                    if !self.block || self.depth == 0 {
                        self.finish(i);
                    }
                    i + 1
                }
                _ if is_ident_start(b) && (i == 0 || !is_ident_char(self.src[i - 1])) => {
                    self.has_code = true;
                    self.word(i)
                }
                _ => {
                    if !b.is_ascii_whitespace() {
                        self.has_code = true;
                    }
                    i + 1
                }
            };
        }
        self.finish(self.src.len());
    }

    /// Ends the current statement at `end` (exclusive) and starts the next after it.
    fn finish(&mut self, end: usize) {
        if self.has_code {
            self.out.push((self.start, end));
        }
        self.start = (end + 1).min(self.src.len());
        self.has_code = false;
        self.words.clear();
        self.depth = 0;
        self.block = false;
        self.prev_begin = false;
    }

    /// Reads one keyword or identifier starting at `i`; tracks compound bodies.
    fn word(&mut self, i: usize) -> usize {
        let mut j = i;
        while j < self.src.len() && is_ident_char(self.src[j]) {
            j += 1;
        }
        let word = String::from_utf8_lossy(&self.src[i..j]).to_ascii_uppercase();
        if self.words.len() < 4 {
            self.words.push(word.clone());
            if self.dialect == Dialect::Sqlite && self.starts_sqlite_trigger() {
                self.block = true;
            }
        }
        match word.as_str() {
            "ATOMIC" if self.dialect == Dialect::Postgres && self.prev_begin => {
                self.block = true;
                self.depth += 1;
            }
            "BEGIN" if self.block && self.dialect == Dialect::Sqlite => self.depth += 1,
            "CASE" if self.block => self.depth += 1,
            "END" if self.block => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        self.prev_begin = word == "BEGIN";
        j
    }

    fn starts_sqlite_trigger(&self) -> bool {
        match self.words.as_slice() {
            [c, t] if c == "CREATE" && t == "TRIGGER" => true,
            [c, tmp, t]
                if c == "CREATE" && (tmp == "TEMP" || tmp == "TEMPORARY") && t == "TRIGGER" =>
            {
                true
            }
            _ => false,
        }
    }

    /// Whether the quote at `i` opens a PostgreSQL `E'…'` string (backslash escapes).
    fn is_escape_string(&self, i: usize) -> bool {
        self.dialect == Dialect::Postgres
            && i >= 1
            && matches!(self.src[i - 1], b'e' | b'E')
            && (i < 2 || !is_ident_char(self.src[i - 2]))
    }

    fn skip_line_comment(&self, i: usize) -> usize {
        let mut j = i + 2;
        while j < self.src.len() && self.src[j] != b'\n' {
            j += 1;
        }
        j
    }

    /// Skips a `/* … */` comment; PostgreSQL nests them, SQLite does not.
    fn skip_block_comment(&self, i: usize) -> usize {
        let mut depth = 1;
        let mut j = i + 2;
        while j < self.src.len() {
            if self.src[j] == b'*' && self.src.get(j + 1) == Some(&b'/') {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    return j;
                }
            } else if self.dialect == Dialect::Postgres
                && self.src[j] == b'/'
                && self.src.get(j + 1) == Some(&b'*')
            {
                depth += 1;
                j += 2;
            } else {
                j += 1;
            }
        }
        j
    }

    /// Skips a '…' string (a doubled quote stays inside; with `backslash`, so does `\'`).
    fn skip_string(&self, i: usize, backslash: bool) -> usize {
        let mut j = i + 1;
        while j < self.src.len() {
            match self.src[j] {
                b'\\' if backslash => j += 2,
                b'\'' if self.src.get(j + 1) == Some(&b'\'') => j += 2,
                b'\'' => return j + 1,
                _ => j += 1,
            }
        }
        j
    }

    /// Skips a quoted identifier ending at `close` (a doubled `close` stays inside).
    fn skip_quoted(&self, i: usize, close: u8) -> usize {
        let mut j = i + 1;
        while j < self.src.len() {
            if self.src[j] == close {
                if close != b']' && self.src.get(j + 1) == Some(&close) {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j += 1;
        }
        j
    }

    /// Skips a `$tag$ … $tag$` body; a `$` that opens no tag (`$1`, `a$b`) is skipped alone.
    fn skip_dollar(&self, i: usize) -> usize {
        if i > 0 && is_ident_char(self.src[i - 1]) {
            return i + 1;
        }
        let mut j = i + 1;
        if j < self.src.len() && is_ident_start(self.src[j]) {
            while j < self.src.len() && is_ident_char(self.src[j]) && self.src[j] != b'$' {
                j += 1;
            }
        }
        if self.src.get(j) != Some(&b'$') {
            return i + 1;
        }
        let tag = &self.src[i..=j];
        let body = j + 1;
        match self.src[body..].windows(tag.len()).position(|w| w == tag) {
            Some(p) => body + p + tag.len(),
            None => self.src.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{split_statements, Dialect};

    fn pg(sql: &str) -> Vec<&str> {
        split_statements(sql, Dialect::Postgres)
    }

    #[test]
    fn splits_on_semicolons_and_drops_comment_only_chunks() {
        let sql = "-- header; with a semicolon\nCREATE TABLE a (x INT);\n\n/* b; */ CREATE INDEX a_x ON a (x);\n-- trailing\n";
        assert_eq!(
            pg(sql),
            vec![
                "-- header; with a semicolon\nCREATE TABLE a (x INT)",
                "/* b; */ CREATE INDEX a_x ON a (x)"
            ]
        );
    }

    #[test]
    fn keeps_semicolons_inside_strings_and_identifiers() {
        let sql = "INSERT INTO t VALUES ('a;b', 'it''s; fine');\nCREATE TABLE \"we;ird\"\"x\" (y INT);\nSELECT E'\\';'; SELECT 2";
        assert_eq!(
            pg(sql),
            vec![
                "INSERT INTO t VALUES ('a;b', 'it''s; fine')",
                "CREATE TABLE \"we;ird\"\"x\" (y INT)",
                "SELECT E'\\';'",
                "SELECT 2"
            ]
        );
    }

    #[test]
    fn keeps_dollar_quoted_bodies_whole() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; SELECT $$x;$$; $body$ LANGUAGE sql;\nSELECT $1::int, a$b FROM t;";
        assert_eq!(
            pg(sql),
            vec![
                "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; SELECT $$x;$$; $body$ LANGUAGE sql",
                "SELECT $1::int, a$b FROM t"
            ]
        );
    }

    #[test]
    fn nested_block_comments_on_postgres() {
        let sql = "/* outer /* inner; */ still; */ SELECT 1; SELECT 2;";
        assert_eq!(
            pg(sql),
            vec!["/* outer /* inner; */ still; */ SELECT 1", "SELECT 2"]
        );
    }

    #[test]
    fn begin_atomic_bodies_stay_whole() {
        let sql = "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;\nCREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW EXECUTE FUNCTION f();\nSELECT 3;";
        assert_eq!(
            pg(sql),
            vec![
                "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END",
                "CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW EXECUTE FUNCTION f()",
                "SELECT 3"
            ]
        );
    }

    #[test]
    fn sqlite_triggers_and_quotes() {
        let sql = "CREATE TEMP TRIGGER tr AFTER UPDATE ON t BEGIN UPDATE u SET v = CASE WHEN 1 THEN ';' END; DELETE FROM w; END;\nCREATE TABLE [a;b] (`c;d` INT);";
        assert_eq!(
            split_statements(sql, Dialect::Sqlite),
            vec![
                "CREATE TEMP TRIGGER tr AFTER UPDATE ON t BEGIN UPDATE u SET v = CASE WHEN 1 THEN ';' END; DELETE FROM w; END",
                "CREATE TABLE [a;b] (`c;d` INT)"
            ]
        );
    }

    #[test]
    fn a_last_statement_without_semicolon_and_empty_input() {
        assert_eq!(pg("SELECT 1"), vec!["SELECT 1"]);
        assert!(pg("  -- nothing\n /* here */ ;; ").is_empty());
    }
}
