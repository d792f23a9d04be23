//! Permissions on routes: a route layer and an extractor, both backed by rampart-authz.

use std::future::Ready;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{FromRef, FromRequestParts};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use http::Request;
use http::request::Parts;
use rampart_authz::Policy;

use crate::error::Error;
use crate::principal::Principal;

/// A loaded rampart-authz [`Policy`], shared by the routes that check it. Cheap to clone.
///
/// ```
/// use axum::{Router, routing::get};
/// use rampart_axum::Authorizer;
///
/// let authz = Authorizer::new(rampart_authz::Policy::from_toml(r#"
///     permissions = ["reports:read"]
///     [roles.viewer]
///     permissions = ["reports:read"]
/// "#)?);
/// let app: Router = Router::new()
///     .route("/reports", get(|| async { "reports" }))
///     .route_layer(authz.require("reports:read")?);
/// // ... then `.layer(ApiKeyLayer::new(..))` or a session layer that puts a Principal.
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Authorizer {
    policy: Arc<Policy>,
}

impl Authorizer {
    /// Checks with `policy`.
    #[must_use]
    pub fn new(policy: Policy) -> Self {
        Self {
            policy: Arc::new(policy),
        }
    }

    /// Checks with a policy shared elsewhere.
    #[must_use]
    pub fn from_shared(policy: Arc<Policy>) -> Self {
        Self { policy }
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// A route layer (`Router::route_layer`) admitting only principals granted `permission`
    /// by a role or a scope: no [`Principal`] is 401, a principal without it is 403.
    ///
    /// # Errors
    /// [`Error::Config`] when the policy does not declare `permission` (it would refuse
    /// everyone: a typo caught at start-up).
    pub fn require(&self, permission: impl Into<String>) -> Result<RequireLayer, Error> {
        let permission = permission.into();
        if !self.policy.declares(&permission) {
            return Err(Error::Config("the policy does not declare this permission"));
        }
        Ok(RequireLayer {
            authz: self.clone(),
            permission: permission.into(),
        })
    }

    /// Whether `principal` has `permission`.
    ///
    /// # Errors
    /// [`Error::Forbidden`] naming the permission.
    ///
    /// ```
    /// # let authz = rampart_axum::Authorizer::new(rampart_authz::Policy::from_toml(
    /// #     "permissions = [\"reports:read\"]\n[roles.viewer]\npermissions = [\"reports:read\"]")?);
    /// use rampart_axum::Principal;
    /// assert!(authz.check(&Principal::restore_from_session("ann", ["viewer"]), "reports:read").is_ok());
    /// assert_eq!(authz.check(&Principal::restore_from_session("bob", Vec::<String>::new()), "reports:read")
    ///     .unwrap_err().kind(), "forbidden");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check(&self, principal: &Principal, permission: &str) -> Result<(), Error> {
        if self
            .policy
            .check(principal.as_authz(), permission)
            .is_allowed()
        {
            Ok(())
        } else {
            Err(Error::Forbidden {
                permission: permission.to_owned(),
            })
        }
    }

    /// The roles a SAML login of `tenant` maps to through the policy's
    /// `tenants.<tenant>.mappings` (none when the tenant has no mapping).
    #[must_use]
    pub fn saml_roles(&self, tenant: &str, login: &rampart_saml::Login) -> Vec<String> {
        self.policy.mapping(tenant).map_or_else(Vec::new, |m| {
            m.roles_for(
                login
                    .attributes
                    .iter()
                    .map(|a| (a.name.as_str(), a.values.iter())),
            )
            .into_iter()
            .collect()
        })
    }
}

/// The route layer of [`Authorizer::require`].
#[derive(Debug, Clone)]
pub struct RequireLayer {
    authz: Authorizer,
    permission: Arc<str>,
}

impl<S> tower_layer::Layer<S> for RequireLayer {
    type Service = RequireService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`RequireLayer`].
#[derive(Debug, Clone)]
pub struct RequireService<S> {
    inner: S,
    layer: RequireLayer,
}

impl<S, B> tower_service::Service<Request<B>> for RequireService<S>
where
    S: tower_service::Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    // Either the route's own future or the refusal, ready: no box per request.
    type Future = Either<S::Future, Ready<Result<Response, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let verdict = match req.extensions().get::<Principal>() {
            None => Err(Error::Unauthenticated),
            Some(p) => self.layer.authz.check(p, &self.layer.permission),
        };
        match verdict {
            Ok(()) => Either::Left(self.inner.call(req)),
            Err(e) => Either::Right(std::future::ready(Ok(e.into_response()))),
        }
    }
}

/// A permission as a type, for the [`RequirePermission`] extractor.
///
/// ```
/// struct ReportsRead;
/// impl rampart_axum::Permission for ReportsRead {
///     const NAME: &'static str = "reports:read";
/// }
/// ```
pub trait Permission: Send + Sync + 'static {
    /// The permission string, as the policy declares it.
    const NAME: &'static str;
}

/// An extractor admitting only principals granted `P::NAME`: the [`Principal`] on the
/// request, checked with the state's [`Authorizer`] (`Authorizer: FromRef<S>`). No principal
/// is 401, a principal without the permission is 403 (also when the policy does not declare
/// it).
///
/// ```
/// use axum::{Router, extract::FromRef, routing::get};
/// use rampart_axum::{Authorizer, Permission, RequirePermission};
///
/// struct ReportsRead;
/// impl Permission for ReportsRead {
///     const NAME: &'static str = "reports:read";
/// }
///
/// #[derive(Clone)]
/// struct AppState {
///     authz: Authorizer,
/// }
/// impl FromRef<AppState> for Authorizer {
///     fn from_ref(state: &AppState) -> Authorizer {
///         state.authz.clone()
///     }
/// }
///
/// async fn reports(allowed: RequirePermission<ReportsRead>) -> String {
///     format!("reports for {}", allowed.principal().owner())
/// }
/// # let authz = Authorizer::new(rampart_authz::Policy::from_toml("permissions = [\"reports:read\"]")?);
/// let app: Router = Router::new().route("/reports", get(reports)).with_state(AppState { authz });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RequirePermission<P> {
    principal: Principal,
    _permission: PhantomData<fn() -> P>,
}

impl<P> RequirePermission<P> {
    /// The principal that holds the permission.
    #[must_use]
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The principal, by value.
    #[must_use]
    pub fn into_principal(self) -> Principal {
        self.principal
    }
}

impl<S, P> FromRequestParts<S> for RequirePermission<P>
where
    S: Send + Sync,
    P: Permission,
    Authorizer: FromRef<S>,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .ok_or(Error::Unauthenticated)?;
        Authorizer::from_ref(state).check(principal, P::NAME)?;
        Ok(Self {
            principal: principal.clone(),
            _permission: PhantomData,
        })
    }
}
