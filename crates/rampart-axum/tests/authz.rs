//! `require(permission)` and `RequirePermission<P>` over real HTTP, behind ApiKeyLayer.

mod common;

use rampart_testkit::http::Sent;

use axum::extract::FromRef;
use axum::{Router, routing::get};
use common::{Keys, client, serve};
use rampart_axum::{ApiKeyLayer, Authorizer, KeyOwner, Permission, RequirePermission};

fn authorizer() -> Authorizer {
    Authorizer::new(
        rampart_authz::Policy::from_toml(
            r#"
            permissions = ["reports:read", "reports:write"]
            [roles.viewer]
            permissions = ["reports:read"]
            "#,
        )
        .unwrap(),
    )
}

/// Keys owned by "ann" (role viewer) when they carry the scope `team:ann`, by "bob" (no role)
/// otherwise.
fn owners(key: &rampart_apikey::VerifiedKey) -> Option<KeyOwner> {
    Some(if key.has_scope("team:ann") {
        KeyOwner::new("ann").with_roles(["viewer"])
    } else {
        KeyOwner::new("bob")
    })
}

async fn status(base: &str, path: &str, secret: Option<&str>) -> (u16, String) {
    let mut r = client().get(format!("{base}{path}"));
    if let Some(s) = secret {
        r = r.header("authorization", format!("Bearer {s}"));
    }
    let r = r.sent().await;
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn require_grants_through_a_role_and_refuses_a_role_less_principal() {
    let k = Keys::new();
    let ann = k.issue(&["team:ann"]);
    let bob = k.issue(&["team:bob"]);
    let authz = authorizer();
    let protected = Router::new()
        .route("/reports", get(|| async { "reports" }))
        .route_layer(authz.require("reports:read").unwrap());
    let app = Router::new()
        .merge(protected)
        .route("/open", get(|| async { "open" }))
        .layer(
            ApiKeyLayer::new(k.keys.clone(), k.store.clone(), k.tracker.clone())
                .with_owners(owners),
        );
    let base = serve(app).await;
    assert_eq!(
        status(&base, "/reports", Some(ann.secret_key.expose_secret())).await,
        (200, "reports".to_owned())
    );
    assert_eq!(
        status(&base, "/reports", Some(bob.secret_key.expose_secret())).await,
        (403, "forbidden\n".to_owned())
    );
    assert_eq!(
        status(&base, "/open", Some(bob.secret_key.expose_secret()))
            .await
            .0,
        200
    );
    // A refusal by permission is not a failed authentication.
    assert_eq!(k.tracked(), 0);
}

#[tokio::test]
async fn require_grants_through_a_key_scope() {
    let k = Keys::new();
    let scoped = k.issue(&["reports:write"]);
    let authz = authorizer();
    let app = Router::new()
        .route("/reports", get(|| async { "written" }))
        .route_layer(authz.require("reports:write").unwrap())
        .layer(ApiKeyLayer::new(
            k.keys.clone(),
            k.store.clone(),
            k.tracker.clone(),
        ));
    let base = serve(app).await;
    assert_eq!(
        status(&base, "/reports", Some(scoped.secret_key.expose_secret()))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn require_without_any_principal_is_401() {
    let authz = authorizer();
    let app = Router::new()
        .route("/reports", get(|| async { "reports" }))
        .route_layer(authz.require("reports:read").unwrap());
    let base = serve(app).await;
    assert_eq!(
        status(&base, "/reports", None).await,
        (401, "unauthenticated\n".to_owned())
    );
}

#[test]
fn require_of_an_undeclared_permission_fails_at_start_up() {
    assert_eq!(
        authorizer().require("reports:delete").unwrap_err().kind(),
        "invalid_config"
    );
}

struct ReportsRead;
impl Permission for ReportsRead {
    const NAME: &'static str = "reports:read";
}

#[derive(Clone)]
struct AppState {
    authz: Authorizer,
}

impl FromRef<AppState> for Authorizer {
    fn from_ref(state: &AppState) -> Authorizer {
        state.authz.clone()
    }
}

#[tokio::test]
async fn require_permission_extractor_grants_and_refuses() {
    let k = Keys::new();
    let ann = k.issue(&["team:ann"]);
    let bob = k.issue(&[]);
    let app = Router::new()
        .route(
            "/reports",
            get(|ok: RequirePermission<ReportsRead>| async move {
                format!("reports for {}", ok.principal().owner())
            }),
        )
        .layer(
            ApiKeyLayer::new(k.keys.clone(), k.store.clone(), k.tracker.clone())
                .with_owners(owners),
        )
        .with_state(AppState {
            authz: authorizer(),
        });
    let base = serve(app).await;
    assert_eq!(
        status(&base, "/reports", Some(ann.secret_key.expose_secret())).await,
        (200, "reports for ann".to_owned())
    );
    assert_eq!(
        status(&base, "/reports", Some(bob.secret_key.expose_secret()))
            .await
            .0,
        403
    );
}
