//! The service's own tables (users, key owners, sealed tokens, uploads) in SQLite or
//! PostgreSQL. The crates' stores keep their own tables; these are what only the service knows.

use std::path::Path;
use std::time::Duration;

use sqlx::Row as _;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

/// One schema for both back ends: TEXT and BIGINT only, `$n` placeholders in order (SQLite
/// numbers `$n` parameters by first appearance), upserts by `ON CONFLICT`.
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS service_users (
        email TEXT PRIMARY KEY, tenant TEXT NOT NULL, password_hash TEXT NOT NULL,
        roles TEXT NOT NULL, created_ms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS service_key_owners (
        public_id TEXT PRIMARY KEY, owner TEXT NOT NULL, tenant TEXT NOT NULL,
        created_ms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS service_oauth_tokens (
        tenant TEXT NOT NULL, provider TEXT NOT NULL, region TEXT NOT NULL,
        sealed TEXT NOT NULL, updated_ms BIGINT NOT NULL, PRIMARY KEY (tenant, provider))",
    "CREATE TABLE IF NOT EXISTS service_uploads (
        tenant TEXT NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL, size BIGINT NOT NULL,
        uploaded_ms BIGINT NOT NULL, result_sealed TEXT NOT NULL, PRIMARY KEY (tenant, name))",
];

/// A pool of either back end; the statements are written once and run on both.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the variant's pool (the body compiles for each).
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// A user row.
#[derive(Clone, Debug)]
pub(crate) struct UserRow {
    pub(crate) tenant: String,
    pub(crate) password_hash: String,
    pub(crate) roles: Vec<String>,
}

/// A sealed token row.
#[derive(Clone, Debug)]
pub(crate) struct TokenRow {
    pub(crate) tenant: String,
    pub(crate) provider: String,
    pub(crate) sealed: String,
}

/// An upload row.
#[derive(Clone, Debug)]
pub(crate) struct UploadRow {
    pub(crate) uploaded_ms: i64,
    pub(crate) result_sealed: String,
}

fn roles_text(roles: &[String]) -> String {
    roles.join(",")
}

fn roles_of(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Db {
    pub(crate) async fn open_sqlite(path: &Path) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(2));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let db = Db::Sqlite(pool);
        db.migrate().await?;
        Ok(db)
    }

    pub(crate) async fn connect_postgres(url: &str) -> Result<Self, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(2))
            .connect(url)
            .await?;
        let db = Db::Postgres(pool);
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), sqlx::Error> {
        for statement in SCHEMA {
            on_pool!(self, |pool| sqlx::query(*statement)
                .execute(pool)
                .await
                .map(|_| ()))?;
        }
        Ok(())
    }

    /// Inserts a user; `Ok(false)` when the e-mail is taken.
    pub(crate) async fn insert_user(
        &self,
        email: &str,
        tenant: &str,
        password_hash: &str,
        roles: &[String],
        now_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let sql = "INSERT INTO service_users (email, tenant, password_hash, roles, created_ms)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING";
        let roles = roles_text(roles);
        let done = on_pool!(self, |pool| sqlx::query(sql)
            .bind(email)
            .bind(tenant)
            .bind(password_hash)
            .bind(&roles)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub(crate) async fn user(&self, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
        let sql = "SELECT tenant, password_hash, roles FROM service_users WHERE email = $1";
        on_pool!(self, |pool| {
            let row = sqlx::query(sql).bind(email).fetch_optional(pool).await?;
            row.map(|r| {
                Ok::<_, sqlx::Error>(UserRow {
                    tenant: r.try_get("tenant")?,
                    password_hash: r.try_get("password_hash")?,
                    roles: roles_of(&r.try_get::<String, _>("roles")?),
                })
            })
            .transpose()
        })
    }

    pub(crate) async fn count_users(&self, tenant: &str) -> Result<i64, sqlx::Error> {
        let sql = "SELECT COUNT(*) AS n FROM service_users WHERE tenant = $1";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(tenant)
            .fetch_one(pool)
            .await?
            .try_get("n"))
    }

    pub(crate) async fn set_password_hash(
        &self,
        email: &str,
        hash: &str,
    ) -> Result<(), sqlx::Error> {
        let sql = "UPDATE service_users SET password_hash = $1 WHERE email = $2";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(hash)
            .bind(email)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Sets a user's roles within `tenant`; `Ok(false)` when no such user in that tenant.
    pub(crate) async fn set_roles(
        &self,
        tenant: &str,
        email: &str,
        roles: &[String],
    ) -> Result<bool, sqlx::Error> {
        let sql = "UPDATE service_users SET roles = $1 WHERE email = $2 AND tenant = $3";
        let roles = roles_text(roles);
        let n = on_pool!(self, |pool| sqlx::query(sql)
            .bind(&roles)
            .bind(email)
            .bind(tenant)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub(crate) async fn insert_key_owner(
        &self,
        public_id: &str,
        owner: &str,
        tenant: &str,
        now_ms: i64,
    ) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO service_key_owners (public_id, owner, tenant, created_ms)
                   VALUES ($1, $2, $3, $4)";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(public_id)
            .bind(owner)
            .bind(tenant)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// `(public_id, owner)` of every key, for the notifier's owner look-up.
    pub(crate) async fn key_owners(&self) -> Result<Vec<(String, String)>, sqlx::Error> {
        let sql = "SELECT public_id, owner FROM service_key_owners";
        on_pool!(self, |pool| sqlx::query(sql)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok::<_, sqlx::Error>((r.try_get("public_id")?, r.try_get("owner")?)))
            .collect())
    }

    /// Public ids of `owner`'s keys, oldest first.
    pub(crate) async fn keys_of(&self, owner: &str) -> Result<Vec<String>, sqlx::Error> {
        let sql = "SELECT public_id FROM service_key_owners WHERE owner = $1
                   ORDER BY created_ms, public_id";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(owner)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| r.try_get("public_id"))
            .collect())
    }

    pub(crate) async fn key_owner(&self, public_id: &str) -> Result<Option<String>, sqlx::Error> {
        let sql = "SELECT owner FROM service_key_owners WHERE public_id = $1";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(public_id)
            .fetch_optional(pool)
            .await?
            .map(|r| r.try_get("owner"))
            .transpose())
    }

    pub(crate) async fn put_token(
        &self,
        tenant: &str,
        provider: &str,
        region: &str,
        sealed: &str,
        now_ms: i64,
    ) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO service_oauth_tokens (tenant, provider, region, sealed, updated_ms)
                   VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (tenant, provider)
                   DO UPDATE SET region = excluded.region, sealed = excluded.sealed,
                                 updated_ms = excluded.updated_ms";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(tenant)
            .bind(provider)
            .bind(region)
            .bind(sealed)
            .bind(now_ms)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub(crate) async fn token(
        &self,
        tenant: &str,
        provider: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let sql = "SELECT sealed FROM service_oauth_tokens WHERE tenant = $1 AND provider = $2";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(tenant)
            .bind(provider)
            .fetch_optional(pool)
            .await?
            .map(|r| r.try_get("sealed"))
            .transpose())
    }

    /// Every token row of `region` (for re-encryption).
    pub(crate) async fn tokens_in(&self, region: &str) -> Result<Vec<TokenRow>, sqlx::Error> {
        let sql = "SELECT tenant, provider, sealed FROM service_oauth_tokens WHERE region = $1";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(region)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok::<_, sqlx::Error>(TokenRow {
                    tenant: r.try_get("tenant")?,
                    provider: r.try_get("provider")?,
                    sealed: r.try_get("sealed")?,
                })
            })
            .collect())
    }

    /// Replaces a token's sealed value only if it still holds `old` (a write by a request
    /// since the job read it wins); `Ok(false)` then.
    pub(crate) async fn swap_token(
        &self,
        tenant: &str,
        provider: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, sqlx::Error> {
        let sql = "UPDATE service_oauth_tokens SET sealed = $1
                   WHERE tenant = $2 AND provider = $3 AND sealed = $4";
        let n = on_pool!(self, |pool| sqlx::query(sql)
            .bind(new)
            .bind(tenant)
            .bind(provider)
            .bind(old)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub(crate) async fn put_upload(
        &self,
        tenant: &str,
        name: &str,
        owner: &str,
        size: i64,
        now_ms: i64,
        result_sealed: &str,
    ) -> Result<(), sqlx::Error> {
        let sql =
            "INSERT INTO service_uploads (tenant, name, owner, size, uploaded_ms, result_sealed)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (tenant, name)
                   DO UPDATE SET owner = excluded.owner, size = excluded.size,
                                 uploaded_ms = excluded.uploaded_ms,
                                 result_sealed = excluded.result_sealed";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(tenant)
            .bind(name)
            .bind(owner)
            .bind(size)
            .bind(now_ms)
            .bind(result_sealed)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub(crate) async fn upload(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<UploadRow>, sqlx::Error> {
        let sql = "SELECT uploaded_ms, result_sealed FROM service_uploads
                   WHERE tenant = $1 AND name = $2";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(tenant)
            .bind(name)
            .fetch_optional(pool)
            .await?
            .map(|r| {
                Ok::<_, sqlx::Error>(UploadRow {
                    uploaded_ms: r.try_get("uploaded_ms")?,
                    result_sealed: r.try_get("result_sealed")?,
                })
            })
            .transpose())
    }
}
