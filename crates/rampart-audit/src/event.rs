//! Audit events shaped after OCSF 1.1: the Authentication (3002), Account Change (3001) and
//! API Activity (6003) classes, with the fields those classes require.
//!
//! The JSON form is the OCSF attribute names (`class_uid`, `activity_id`, `type_uid`,
//! `status_id`, `actor.user`, `src_endpoint.ip`, `metadata.product`), so a SIEM that reads
//! OCSF maps a record's `event` object without a custom parser.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// OCSF schema version the events follow (`metadata.version`).
///
/// ```
/// # use rampart_audit::{AuthActivity, Event, Outcome, OCSF_VERSION};
/// let e = serde_json::to_value(Event::authentication(AuthActivity::Logon, Outcome::Success)).unwrap();
/// assert_eq!(e["metadata"]["version"], OCSF_VERSION);
/// ```
pub const OCSF_VERSION: &str = "1.1.0";

/// The OCSF event class of an [`Event`].
///
/// ```
/// use rampart_audit::Class;
/// assert_eq!((Class::AccountChange.uid(), Class::AccountChange.category_uid()), (3001, 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Class {
    /// Account Change, `class_uid` 3001 (Identity & Access Management).
    AccountChange,
    /// Authentication, `class_uid` 3002 (Identity & Access Management).
    Authentication,
    /// API Activity, `class_uid` 6003 (Application Activity).
    ApiActivity,
}

impl Class {
    /// The OCSF `class_uid`.
    ///
    /// ```
    /// assert_eq!(rampart_audit::Class::Authentication.uid(), 3002);
    /// ```
    #[must_use]
    pub fn uid(self) -> u32 {
        match self {
            Self::AccountChange => 3001,
            Self::Authentication => 3002,
            Self::ApiActivity => 6003,
        }
    }

    /// The OCSF `category_uid`: 3 (Identity & Access Management) or 6 (Application Activity).
    ///
    /// ```
    /// assert_eq!(rampart_audit::Class::ApiActivity.category_uid(), 6);
    /// ```
    #[must_use]
    pub fn category_uid(self) -> u32 {
        self.uid() / 1000
    }

    fn name(self) -> &'static str {
        match self {
            Self::AccountChange => "Account Change",
            Self::Authentication => "Authentication",
            Self::ApiActivity => "API Activity",
        }
    }

    fn category_name(self) -> &'static str {
        match self {
            Self::AccountChange | Self::Authentication => "Identity & Access Management",
            Self::ApiActivity => "Application Activity",
        }
    }
}

macro_rules! activities {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $id:literal, $label:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }
        impl $name {
            /// The OCSF `activity_id`.
            #[must_use]
            pub fn id(self) -> u32 {
                match self { $(Self::$variant => $id,)* }
            }
            fn label(self) -> &'static str {
                match self { $(Self::$variant => $label,)* }
            }
        }
    };
}

activities! {
    /// Activities of the Authentication class (3002).
    ///
    /// ```
    /// assert_eq!(rampart_audit::AuthActivity::Logon.id(), 1);
    /// ```
    AuthActivity {
        /// A log-on attempt (password, API key, SAML assertion).
        Logon = 1, "Logon";
        /// A log-off.
        Logoff = 2, "Logoff";
        /// An authentication ticket (session token) issued.
        AuthenticationTicket = 3, "Authentication Ticket";
        /// Anything else.
        Other = 99, "Other";
    }
}

activities! {
    /// Activities of the Account Change class (3001).
    ///
    /// ```
    /// assert_eq!(rampart_audit::AccountActivity::PasswordChange.id(), 3);
    /// ```
    AccountActivity {
        /// An account was created.
        Create = 1, "Create";
        /// An account was enabled.
        Enable = 2, "Enable";
        /// The password was changed by its owner.
        PasswordChange = 3, "Password Change";
        /// The password was reset.
        PasswordReset = 4, "Password Reset";
        /// An account was disabled.
        Disable = 5, "Disable";
        /// An account was deleted.
        Delete = 6, "Delete";
        /// An account was locked (for example after repeated failures).
        Lock = 9, "Lock";
        /// A second factor was enabled.
        MfaFactorEnable = 10, "MFA Factor Enable";
        /// A second factor was disabled.
        MfaFactorDisable = 11, "MFA Factor Disable";
        /// An account was unlocked.
        Unlock = 12, "Unlock";
        /// Anything else.
        Other = 99, "Other";
    }
}

activities! {
    /// Activities of the API Activity class (6003).
    ///
    /// ```
    /// assert_eq!(rampart_audit::ApiActivity::Read.id(), 2);
    /// ```
    ApiActivity {
        /// A create call.
        Create = 1, "Create";
        /// A read call.
        Read = 2, "Read";
        /// An update call.
        Update = 3, "Update";
        /// A delete call.
        Delete = 4, "Delete";
        /// Anything else.
        Other = 99, "Other";
    }
}

/// Whether the audited action succeeded (OCSF `status_id` 1 or 2).
///
/// ```
/// # use rampart_audit::{AuthActivity, Event, Outcome};
/// assert!(Event::authentication(AuthActivity::Logon, Outcome::Success).is_success());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `status_id` 1, "Success".
    Success,
    /// `status_id` 2, "Failure".
    Failure,
}

/// OCSF `severity_id`.
///
/// ```
/// assert_eq!(rampart_audit::Severity::Critical.id(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Severity {
    /// 1
    Informational,
    /// 2
    Low,
    /// 3
    Medium,
    /// 4
    High,
    /// 5
    Critical,
}

impl Severity {
    /// The OCSF `severity_id`.
    ///
    /// ```
    /// assert_eq!(rampart_audit::Severity::High.id(), 4);
    /// ```
    #[must_use]
    pub fn id(self) -> u32 {
        match self {
            Self::Informational => 1,
            Self::Low => 2,
            Self::Medium => 3,
            Self::High => 4,
            Self::Critical => 5,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Informational => "Informational",
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::Critical => "Critical",
        }
    }
}

/// An OCSF User object: who acted (`actor.user`) or whom the action concerned (`user`).
///
/// ```
/// let alice = rampart_audit::User::named("alice").with_uid("42");
/// assert_eq!(alice.name(), Some("alice"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
}

impl User {
    /// A user known by name (an account name, an API key's public id).
    #[must_use]
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            uid: None,
        }
    }

    /// Sets the user's stable identifier (`uid`).
    #[must_use]
    pub fn with_uid(mut self, uid: impl Into<String>) -> Self {
        self.uid = Some(uid.into());
        self
    }

    /// The name, if set.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Actor {
    user: User,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Endpoint {
    ip: IpAddr,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Api {
    operation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Product {
    name: String,
    vendor_name: String,
    version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Metadata {
    version: String,
    product: Product,
}

/// One audit event: an OCSF object of class Authentication, Account Change or API Activity.
///
/// Made by a typed constructor, completed with `with_*` setters; the class, activity, status
/// and the derived ids (`type_uid = class_uid * 100 + activity_id`) cannot disagree.
///
/// ```
/// use rampart_audit::{AuthActivity, Event, Outcome, User};
///
/// let event = Event::authentication(AuthActivity::Logon, Outcome::Failure)
///     .with_actor(User::named("alice"))
///     .with_src_ip("203.0.113.5".parse().unwrap())
///     .with_status_detail("mismatch");
/// let json = serde_json::to_value(&event).unwrap();
/// assert_eq!(json["type_uid"], 300201);
/// assert_eq!(json["status_id"], 2);
/// assert_eq!(json["src_endpoint"]["ip"], "203.0.113.5");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    class_uid: u32,
    class_name: String,
    category_uid: u32,
    category_name: String,
    activity_id: u32,
    activity_name: String,
    type_uid: u64,
    /// Milliseconds since the Unix epoch (OCSF `timestamp_t`).
    time: u64,
    severity_id: u32,
    severity: String,
    status_id: u32,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<Actor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_endpoint: Option<Endpoint>,
    /// The target: the account authenticated or changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<User>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api: Option<Api>,
    metadata: Metadata,
}

impl Event {
    fn new(class: Class, activity_id: u32, activity_name: &str, outcome: Outcome) -> Self {
        let (status_id, status, severity) = match outcome {
            Outcome::Success => (1, "Success", Severity::Informational),
            Outcome::Failure => (2, "Failure", Severity::Low),
        };
        Self {
            class_uid: class.uid(),
            class_name: class.name().to_owned(),
            category_uid: class.category_uid(),
            category_name: class.category_name().to_owned(),
            activity_id,
            activity_name: activity_name.to_owned(),
            type_uid: u64::from(class.uid()) * 100 + u64::from(activity_id),
            time: 0,
            severity_id: severity.id(),
            severity: severity.label().to_owned(),
            status_id,
            status: status.to_owned(),
            status_detail: None,
            message: None,
            actor: None,
            src_endpoint: None,
            user: None,
            api: None,
            metadata: Metadata {
                version: OCSF_VERSION.to_owned(),
                product: Product {
                    name: "rampart".to_owned(),
                    vendor_name: "rampart".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                },
            },
        }
        .with_time(SystemTime::now())
    }

    /// An Authentication event (3002), timed now; a failure has severity Low, a success
    /// Informational.
    ///
    /// ```
    /// # use rampart_audit::{AuthActivity, Event, Outcome};
    /// let e = Event::authentication(AuthActivity::Logon, Outcome::Success);
    /// assert_eq!(e.type_uid(), 300201);
    /// ```
    #[must_use]
    pub fn authentication(activity: AuthActivity, outcome: Outcome) -> Self {
        Self::new(
            Class::Authentication,
            activity.id(),
            activity.label(),
            outcome,
        )
    }

    /// An Account Change event (3001), timed now.
    ///
    /// ```
    /// # use rampart_audit::{AccountActivity, Event, Outcome, User};
    /// let e = Event::account_change(AccountActivity::Lock, Outcome::Success)
    ///     .with_user(User::named("alice"));
    /// assert_eq!(e.type_uid(), 300109);
    /// ```
    #[must_use]
    pub fn account_change(activity: AccountActivity, outcome: Outcome) -> Self {
        Self::new(
            Class::AccountChange,
            activity.id(),
            activity.label(),
            outcome,
        )
    }

    /// An API Activity event (6003), timed now.
    ///
    /// ```
    /// # use rampart_audit::{ApiActivity, Event, Outcome};
    /// let e = Event::api_activity(ApiActivity::Read, Outcome::Success).with_api("GET /orders");
    /// assert_eq!(e.type_uid(), 600302);
    /// ```
    #[must_use]
    pub fn api_activity(activity: ApiActivity, outcome: Outcome) -> Self {
        Self::new(Class::ApiActivity, activity.id(), activity.label(), outcome)
    }

    /// Sets when it happened (default: when the event was made). Times before 1970 are
    /// recorded as 0.
    ///
    /// ```
    /// # use rampart_audit::{AuthActivity, Event, Outcome};
    /// let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_000);
    /// let e = Event::authentication(AuthActivity::Logon, Outcome::Success).with_time(t);
    /// assert_eq!(e.time_millis(), 1_700_000_000_000);
    /// ```
    #[must_use]
    pub fn with_time(mut self, time: SystemTime) -> Self {
        self.time = time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// Sets who acted (`actor.user`).
    ///
    /// ```
    /// # use rampart_audit::{AuthActivity, Event, Outcome, User};
    /// let e = Event::authentication(AuthActivity::Logon, Outcome::Success).with_actor(User::named("bob"));
    /// assert_eq!(serde_json::to_value(&e).unwrap()["actor"]["user"]["name"], "bob");
    /// ```
    #[must_use]
    pub fn with_actor(mut self, user: User) -> Self {
        self.actor = Some(Actor { user });
        self
    }

    /// Sets the target account (`user`): the account logged on to, or changed.
    ///
    /// ```
    /// # use rampart_audit::{AccountActivity, Event, Outcome, User};
    /// let e = Event::account_change(AccountActivity::Delete, Outcome::Success).with_user(User::named("eve"));
    /// assert_eq!(serde_json::to_value(&e).unwrap()["user"]["name"], "eve");
    /// ```
    #[must_use]
    pub fn with_user(mut self, user: User) -> Self {
        self.user = Some(user);
        self
    }

    /// Sets the client's address (`src_endpoint.ip`).
    ///
    /// ```
    /// # use rampart_audit::{AuthActivity, Event, Outcome};
    /// let e = Event::authentication(AuthActivity::Logon, Outcome::Success)
    ///     .with_src_ip("2001:db8::1".parse().unwrap());
    /// assert_eq!(serde_json::to_value(&e).unwrap()["src_endpoint"]["ip"], "2001:db8::1");
    /// ```
    #[must_use]
    pub fn with_src_ip(mut self, ip: IpAddr) -> Self {
        self.src_endpoint = Some(Endpoint { ip });
        self
    }

    /// Sets the API operation (`api.operation`), for API Activity events.
    ///
    /// ```
    /// # use rampart_audit::{ApiActivity, Event, Outcome};
    /// let e = Event::api_activity(ApiActivity::Delete, Outcome::Failure).with_api("DELETE /keys/7");
    /// assert_eq!(serde_json::to_value(&e).unwrap()["api"]["operation"], "DELETE /keys/7");
    /// ```
    #[must_use]
    pub fn with_api(mut self, operation: impl Into<String>) -> Self {
        self.api = Some(Api {
            operation: operation.into(),
        });
        self
    }

    /// Sets the machine-readable reason of the status (`status_detail`), for example an
    /// error's `kind()`. Never put a secret here: the trail is read by many.
    ///
    /// ```
    /// # use rampart_audit::{AuthActivity, Event, Outcome};
    /// let e = Event::authentication(AuthActivity::Logon, Outcome::Failure).with_status_detail("expired");
    /// assert_eq!(serde_json::to_value(&e).unwrap()["status_detail"], "expired");
    /// ```
    #[must_use]
    pub fn with_status_detail(mut self, detail: impl Into<String>) -> Self {
        self.status_detail = Some(detail.into());
        self
    }

    /// Sets a human-readable description (`message`).
    ///
    /// ```
    /// # use rampart_audit::{AuthActivity, Event, Outcome};
    /// let e = Event::authentication(AuthActivity::Logoff, Outcome::Success).with_message("session ended");
    /// assert_eq!(serde_json::to_value(&e).unwrap()["message"], "session ended");
    /// ```
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Overrides the severity (default Informational for a success, Low for a failure).
    ///
    /// ```
    /// # use rampart_audit::{AccountActivity, Event, Outcome, Severity};
    /// let e = Event::account_change(AccountActivity::Lock, Outcome::Success).with_severity(Severity::Medium);
    /// assert_eq!(serde_json::to_value(&e).unwrap()["severity_id"], 3);
    /// ```
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity_id = severity.id();
        self.severity = severity.label().to_owned();
        self
    }

    /// `class_uid * 100 + activity_id`.
    ///
    /// ```
    /// # use rampart_audit::{ApiActivity, Event, Outcome};
    /// assert_eq!(Event::api_activity(ApiActivity::Create, Outcome::Success).type_uid(), 600301);
    /// ```
    #[must_use]
    pub fn type_uid(&self) -> u64 {
        self.type_uid
    }

    /// When it happened, in milliseconds since the Unix epoch.
    ///
    /// ```
    /// # use rampart_audit::{AuthActivity, Event, Outcome};
    /// assert!(Event::authentication(AuthActivity::Logon, Outcome::Success).time_millis() > 0);
    /// ```
    #[must_use]
    pub fn time_millis(&self) -> u64 {
        self.time
    }

    /// The OCSF `class_uid`.
    ///
    /// ```
    /// # use rampart_audit::{AuthActivity, Event, Outcome};
    /// assert_eq!(Event::authentication(AuthActivity::Logon, Outcome::Success).class_uid(), 3002);
    /// ```
    #[must_use]
    pub fn class_uid(&self) -> u32 {
        self.class_uid
    }

    /// Whether the event records a success.
    ///
    /// ```
    /// # use rampart_audit::{AuthActivity, Event, Outcome};
    /// assert!(!Event::authentication(AuthActivity::Logon, Outcome::Failure).is_success());
    /// ```
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.status_id == 1
    }
}
