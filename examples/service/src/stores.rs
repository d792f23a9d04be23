//! The back-end switch: SQLite files under the data directory by default, PostgreSQL with
//! `--postgres`, Redis for attempt counting and SAML ids with `--redis`. Each crate's own
//! store does the work; these enums only pick one at start.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rampart_apikey::{
    ApiKeyRecord, PostgresKeyStore, PublicId, SqlStoreOptions, SqliteKeyStore, StoreError,
};
use rampart_attempts::{PostgresStore, RedisConfig, RedisStore, SqlConfig, SqliteStore, Tracker};
use rampart_saml::{RedisReplayCache, RedisRequestIds, ReplayCache, RequestIdStore};

use crate::config::Config;
use crate::error::StartError;
use crate::notify::OwnerNotifier;

/// API key records.
#[derive(Clone, Debug)]
pub(crate) enum KeyStore {
    Sqlite(SqliteKeyStore),
    Postgres(PostgresKeyStore),
}

impl KeyStore {
    async fn open(config: &Config) -> Result<Self, StartError> {
        let options = SqlStoreOptions::new();
        Ok(match &config.postgres {
            Some(url) => Self::Postgres(PostgresKeyStore::connect(url, &options).await?),
            None => Self::Sqlite(
                SqliteKeyStore::open(config.data_dir.join("api-keys.db"), &options).await?,
            ),
        })
    }

    pub(crate) async fn insert(&self, record: &ApiKeyRecord) -> Result<(), StoreError> {
        each!(self, KeyStore::{Sqlite, Postgres}, |s| s.insert(record).await)
    }

    pub(crate) async fn get(&self, id: &PublicId) -> Result<Option<ApiKeyRecord>, StoreError> {
        each!(self, KeyStore::{Sqlite, Postgres}, |s| s
            .get(id)
            .await
            .map(|r| r.map(|stored| stored.record)))
    }

    pub(crate) async fn revoke(&self, id: &PublicId, now: SystemTime) -> Result<(), StoreError> {
        each!(self, KeyStore::{Sqlite, Postgres}, |s| s.revoke(id, now).await)
    }
}

/// The look-up rampart-axum's `ApiKeyLayer` checks keys through.
impl rampart_apikey::AsyncKeyStore for KeyStore {
    type Error = StoreError;

    async fn find(&self, id: &PublicId) -> Result<Option<Arc<ApiKeyRecord>>, StoreError> {
        each!(self, KeyStore::{Sqlite, Postgres}, |s| {
            rampart_apikey::AsyncKeyStore::find(s, id).await
        })
    }
}

/// Failed-attempt counting (logins and API keys), with the owner notifier.
pub(crate) enum Attempts {
    Sqlite(Arc<Tracker<SqliteStore, OwnerNotifier>>),
    Postgres(Arc<Tracker<PostgresStore, OwnerNotifier>>),
    Redis(Arc<Tracker<RedisStore, OwnerNotifier>>),
}

impl Attempts {
    async fn open(
        config: &Config,
        notifier: OwnerNotifier,
        policies: rampart_attempts::Policies,
    ) -> Result<Self, StartError> {
        // The default SQL deadline (500 ms) is for a server; a busy laptop's SQLite file
        // shared with the test suite needs more.
        let sql = SqlConfig::default().with_timeout(Duration::from_secs(2));
        Ok(if let Some(url) = &config.redis {
            let store = RedisStore::connect(RedisConfig::new(url.clone())).await?;
            Self::Redis(Arc::new(
                Tracker::new(store)
                    .with_notifier(notifier)
                    .with_policies(policies)?,
            ))
        } else if let Some(url) = &config.postgres {
            let store = PostgresStore::connect(url, sql).await?;
            Self::Postgres(Arc::new(
                Tracker::new(store)
                    .with_notifier(notifier)
                    .with_policies(policies)?,
            ))
        } else {
            let store = SqliteStore::open(config.data_dir.join("attempts.db"), sql).await?;
            Self::Sqlite(Arc::new(
                Tracker::new(store)
                    .with_notifier(notifier)
                    .with_policies(policies)?,
            ))
        })
    }
}

/// SAML issued request ids and the assertion replay cache (one store holds both).
#[derive(Clone)]
pub(crate) enum SamlStore {
    Sqlite(rampart_saml::SqliteStore),
    Postgres(rampart_saml::PostgresStore),
    Redis(RedisRequestIds, RedisReplayCache),
}

impl SamlStore {
    async fn open(config: &Config) -> Result<Self, StartError> {
        let options = rampart_saml::SqlStoreOptions::new();
        Ok(if let Some(url) = &config.redis {
            Self::Redis(
                RedisRequestIds::connect(url, "rampart-service:saml-request").await?,
                RedisReplayCache::connect(url, "rampart-service:saml-replay").await?,
            )
        } else if let Some(url) = &config.postgres {
            Self::Postgres(rampart_saml::PostgresStore::connect(url, &options).await?)
        } else {
            Self::Sqlite(
                rampart_saml::SqliteStore::open(config.data_dir.join("saml.db"), &options).await?,
            )
        })
    }
}

impl RequestIdStore for SamlStore {
    async fn remember(
        &self,
        request_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> Result<(), rampart_saml::Error> {
        match self {
            Self::Sqlite(s) => s.remember(request_id, expires_at, now).await,
            Self::Postgres(s) => s.remember(request_id, expires_at, now).await,
            Self::Redis(ids, _) => ids.remember(request_id, expires_at, now).await,
        }
    }

    async fn consume(
        &self,
        request_id: &str,
        now: SystemTime,
    ) -> Result<bool, rampart_saml::Error> {
        match self {
            Self::Sqlite(s) => s.consume(request_id, now).await,
            Self::Postgres(s) => s.consume(request_id, now).await,
            Self::Redis(ids, _) => ids.consume(request_id, now).await,
        }
    }
}

impl ReplayCache for SamlStore {
    async fn insert_if_new(
        &self,
        issuer: &str,
        assertion_id: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> Result<bool, rampart_saml::Error> {
        match self {
            Self::Sqlite(s) => s.insert_if_new(issuer, assertion_id, expires_at, now).await,
            Self::Postgres(s) => s.insert_if_new(issuer, assertion_id, expires_at, now).await,
            Self::Redis(_, cache) => {
                cache
                    .insert_if_new(issuer, assertion_id, expires_at, now)
                    .await
            }
        }
    }
}

/// Every store, opened once at start.
pub(crate) struct Stores {
    pub(crate) keys: KeyStore,
    pub(crate) attempts: Attempts,
    pub(crate) saml: SamlStore,
    pub(crate) db: crate::db::Db,
}

impl Stores {
    pub(crate) async fn open(
        config: &Config,
        notifier: OwnerNotifier,
        policies: rampart_attempts::Policies,
    ) -> Result<Self, StartError> {
        let db = match &config.postgres {
            Some(url) => crate::db::Db::connect_postgres(url).await?,
            None => crate::db::Db::open_sqlite(&config.data_dir.join("service.db")).await?,
        };
        Ok(Self {
            keys: KeyStore::open(config).await?,
            attempts: Attempts::open(config, notifier, policies).await?,
            saml: SamlStore::open(config).await?,
            db,
        })
    }
}
