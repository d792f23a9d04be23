//! Password login: attempt check, argon2 off the executor, the dummy verify for unknown
//! accounts, the upgraded hash handed back, the outcome recorded.

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{FromRequest, Request};
use rampart_attempts::{NoNotifier, Notifier, Store, Subject, Tracker};
use rampart_password::{Hasher, Password, Verdict};
use zeroize::Zeroizing;

use crate::client_ip::ClientIp;
use crate::clock::Clock;
use crate::error::{BoxError, Error};
use crate::form::{Fields, read_body};
use crate::principal::{AuthMethod, Principal};

/// Largest login form body read, in bytes ([`PasswordForm`]); more is 413.
pub const MAX_LOGIN_FORM_BYTES: usize = 16 * 1024;

/// What the application stores for an account: its password hash (a PHC string, or a
/// legacy format the hasher reads) and its roles.
///
/// ```
/// let stored = rampart_axum::StoredAccount::new("$argon2id$v=19$...").with_roles(["viewer"]);
/// # let _ = stored;
/// ```
#[derive(Debug, Clone)]
pub struct StoredAccount {
    hash: String,
    roles: Vec<String>,
}

impl StoredAccount {
    /// An account whose password hash is `hash`.
    #[must_use]
    pub fn new(hash: impl Into<String>) -> Self {
        Self {
            hash: hash.into(),
            roles: Vec::new(),
        }
    }

    /// Adds roles the account holds.
    #[must_use]
    pub fn with_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.roles.extend(roles.into_iter().map(Into::into));
        self
    }
}

/// The application's accounts, as [`PasswordLogin`] needs them.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use rampart_axum::{Accounts, StoredAccount};
///
/// struct Users(Mutex<HashMap<String, String>>); // account -> hash; your table
/// impl Accounts for Users {
///     type Error = std::convert::Infallible;
///     async fn find(&self, account: &str) -> Result<Option<StoredAccount>, Self::Error> {
///         Ok(self.0.lock().unwrap().get(account).map(StoredAccount::new))
///     }
///     async fn store_upgraded_hash(&self, account: &str, new_hash: &str) -> Result<(), Self::Error> {
///         self.0.lock().unwrap().insert(account.to_owned(), new_hash.to_owned());
///         Ok(())
///     }
/// }
/// ```
pub trait Accounts: Send + Sync {
    /// The store's own failure (answered 503, [`Error::Application`]).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The account named `account`, or `None` when there is none.
    fn find(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<Option<StoredAccount>, Self::Error>> + Send;

    /// Replaces the account's hash by `new_hash` after a login found it outdated (old
    /// parameters, a legacy format, a retired pepper).
    fn store_upgraded_hash(
        &self,
        account: &str,
        new_hash: &str,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Password login with failed-attempt counting, for a login handler.
///
/// [`log_in`](Self::log_in), in this order: the attempt check for the account, the client IP
/// and the pair (429 before any hashing: a throttled client costs no argon2 work); the
/// account lookup; the verification with rampart-password's `verify_or_dummy_async`, on the
/// hasher's worker threads behind its limiter (never on the executor), against the dummy
/// hash when the account does not exist (the same cost: no account enumeration by timing);
/// the upgraded hash handed to [`Accounts::store_upgraded_hash`]; then the outcome recorded
/// (a failure for all three subjects; a success ends the account's and the pair's streaks).
///
/// ```
/// use std::sync::Arc;
/// use axum::{Router, routing::post};
/// use rampart_attempts::{MemoryStore, Tracker};
/// use rampart_axum::{Accounts, ClientIp, PasswordForm, PasswordLogin};
/// use rampart_password::Hasher;
///
/// async fn handle<A: Accounts>(
///     login: &PasswordLogin<MemoryStore>,
///     accounts: &A,
///     ip: ClientIp,
///     form: PasswordForm,
/// ) -> Result<String, rampart_axum::Error> {
///     let who = login.log_in(accounts, &form.account, form.password, ip).await?;
///     Ok(format!("welcome {}", who.owner())) // start the session here
/// }
/// let login = PasswordLogin::new(Hasher::new(), Arc::new(Tracker::new(MemoryStore::default())));
/// # let _ = login;
/// ```
pub struct PasswordLogin<T, N = NoNotifier> {
    hasher: Hasher,
    tracker: Arc<Tracker<T, N>>,
    clock: Clock,
}

impl<T, N> std::fmt::Debug for PasswordLogin<T, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordLogin").finish_non_exhaustive()
    }
}

impl<T, N> Clone for PasswordLogin<T, N> {
    fn clone(&self) -> Self {
        Self {
            hasher: self.hasher.clone(),
            tracker: self.tracker.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl<T: Store + 'static, N: Notifier + 'static> PasswordLogin<T, N> {
    /// Logins verified by `hasher`, counted in `tracker`.
    #[must_use]
    pub fn new(hasher: Hasher, tracker: Arc<Tracker<T, N>>) -> Self {
        Self {
            hasher,
            tracker,
            clock: Clock::system(),
        }
    }

    /// The clock the attempt checks and failure records use (default `SystemTime::now`):
    /// the service's own clock, so streaks and their delays move with it (a test's manual
    /// clock waits out a throttle in no time).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::time::{Duration, SystemTime};
    /// use rampart_attempts::{MemoryStore, Tracker};
    /// use rampart_axum::PasswordLogin;
    /// use rampart_password::Hasher;
    ///
    /// let offset_secs = Arc::new(AtomicU64::new(0)); // moved by the test
    /// let moved = offset_secs.clone();
    /// let start = SystemTime::now();
    /// let login = PasswordLogin::new(Hasher::new(), Arc::new(Tracker::new(MemoryStore::default())))
    ///     .with_clock(move || start + Duration::from_secs(moved.load(Ordering::SeqCst)));
    /// offset_secs.fetch_add(900, Ordering::SeqCst); // a throttle of 15 minutes is over
    /// # let _ = login;
    /// ```
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Clock::from_fn(clock);
        self
    }

    /// The hasher (to hash new passwords with the same parameters and pepper).
    #[must_use]
    pub fn hasher(&self) -> &Hasher {
        &self.hasher
    }

    /// Checks `password` for `account` from `ip`; see [`PasswordLogin`] for the order.
    ///
    /// # Errors
    /// [`Error::Throttled`] / [`Error::Locked`] (429) before any work;
    /// [`Error::InvalidPassword`] (401) for a wrong password and for an unknown account
    /// alike, and for a password over the hasher's length cap (rampart-password's
    /// `PasswordTooLong`), each counted as a failure; [`Error::Application`] when the account store fails,
    /// [`Error::PasswordHashing`] when the hasher fails or its queue is full,
    /// [`Error::AttemptStore`] when a fail-closed attempt store is down (503).
    /// A failure to store the upgraded hash does not fail the login (the next login
    /// upgrades again).
    pub async fn log_in<A: Accounts>(
        &self,
        accounts: &A,
        account: &str,
        password: Password,
        ip: ClientIp,
    ) -> Result<Principal, Error> {
        let now = self.clock.now();
        let by_account = Subject::account(account);
        let by_ip = Subject::ip(ip.0);
        let pair = Subject::account_from_ip(account, ip.0);
        let subjects = [&by_account, &by_ip, &pair];
        crate::error::allowed(self.tracker.check_all(&subjects, now).await, now)?;
        let stored = accounts
            .find(account)
            .await
            .map_err(|e| Error::Application(BoxError::from(e)))?;
        let (hash, roles) = match stored {
            Some(s) => (Some(s.hash), s.roles),
            None => (None, Vec::new()),
        };
        let verdict = match self.hasher.verify_or_dummy_async(password, hash).await {
            Ok(verdict) => verdict,
            // Longer than the hasher's cap: no stored password can be it, so it is a wrong
            // password (counted), not a server fault. Refused before any hashing, for known
            // and unknown accounts alike: nothing to tell them apart by.
            Err(rampart_password::Error::PasswordTooLong { .. }) => Verdict::Invalid,
            Err(e) => return Err(Error::PasswordHashing(e)),
        };
        match verdict {
            Verdict::Invalid => {
                for s in subjects {
                    // Already a refusal: a store that cannot record changes nothing here.
                    let _ = self.tracker.record_failure(s, now).await;
                }
                Err(Error::InvalidPassword)
            }
            Verdict::Valid | Verdict::ValidNeedsUpgrade { .. } => {
                if let Some(new_hash) = verdict.new_hash() {
                    let _ = accounts.store_upgraded_hash(account, new_hash).await;
                }
                self.tracker.record_success(&by_account, now).await;
                self.tracker.record_success(&pair, now).await;
                Ok(Principal::build(
                    AuthMethod::Password,
                    account.to_owned(),
                    None,
                    roles,
                    std::iter::empty(),
                ))
            }
        }
    }
}

/// A login form (`application/x-www-form-urlencoded`, fields `account` and `password`),
/// read strictly: at most [`MAX_LOGIN_FORM_BYTES`] (413 beyond), every value UTF-8 (400
/// otherwise, never a replacement character), each field exactly once (400).
///
/// ```
/// async fn login(form: rampart_axum::PasswordForm) -> String {
///     form.account // form.password is a rampart_password::Password
/// }
/// # let _ = axum::Router::<()>::new().route("/login", axum::routing::post(login));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct PasswordForm {
    /// The `account` field.
    pub account: String,
    /// The `password` field (zeroized on drop, `Debug` redacted).
    pub password: Password,
}

impl<S: Send + Sync> FromRequest<S> for PasswordForm {
    type Rejection = Error;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Error> {
        // The body holds the password: wiped when dropped, like the parsed copy.
        let body = Zeroizing::new(read_body(req.into_body(), MAX_LOGIN_FORM_BYTES).await?);
        let mut fields = Fields::parse(&body)?;
        let account = fields.require("account")?.to_owned();
        let password = fields
            .take("password")?
            .ok_or(Error::BadForm("missing field"))?;
        Ok(Self {
            account,
            password: Password::new(password),
        })
    }
}
