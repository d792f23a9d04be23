//! Minimal HTML: the login and sign-up forms with SSO links per tenant, the dashboard and
//! the admin dashboard (each behind its permission). No scripts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::error::AppError;
use crate::roles::CurrentUser;

/// Escapes text for HTML element content and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body>{body}</body></html>",
        escape(title)
    ))
}

/// `GET /login`.
pub(crate) async fn login(State(state): State<AppState>) -> Html<String> {
    let sso: String = state
        .tenant_ids_with_sso()
        .map(|t| {
            let t = escape(t);
            format!("<li><a id=\"sso-{t}\" href=\"/saml/{t}/login\">Sign in with {t} SSO</a></li>")
        })
        .collect();
    let tenants: String = state
        .tenant_ids()
        .map(|t| {
            let t = escape(t);
            format!("<option value=\"{t}\">{t}</option>")
        })
        .collect();
    page(
        "Sign in",
        &format!(
            "<h1>Sign in</h1>\
             <form id=\"login\" method=\"post\" action=\"/login\">\
             <label>E-mail <input id=\"email\" name=\"email\" type=\"email\" required></label>\
             <label>Password <input id=\"password\" name=\"password\" type=\"password\" required></label>\
             <button id=\"submit\" type=\"submit\">Sign in</button></form>\
             <h2>Single sign-on</h2><ul>{sso}</ul>\
             <h2>New here?</h2>\
             <form id=\"signup\" method=\"post\" action=\"/signup\">\
             <label>E-mail <input name=\"email\" type=\"email\" required></label>\
             <label>Password <input name=\"password\" type=\"password\" required></label>\
             <label>Organisation <select name=\"tenant\">{tenants}</select></label>\
             <button type=\"submit\">Sign up</button></form>"
        ),
    )
}

/// `GET /dashboard` (`dashboard:view`); without a session, back to the login page.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    user: Result<CurrentUser, AppError>,
) -> Result<Response, AppError> {
    let user = match user {
        Ok(user) => user,
        Err(AppError::Unauthorized(_)) => return Ok(Redirect::to("/login").into_response()),
        Err(e) => return Err(e),
    };
    if !user.may(&state, "dashboard:view") {
        return Ok((
            StatusCode::FORBIDDEN,
            page("Forbidden", "<h1>Forbidden</h1><p>Your account has no role yet: ask an admin of your organisation.</p>"),
        )
            .into_response());
    }
    let roles = user.user.roles.join(", ");
    let admin_link = if user.may(&state, "dashboard:admin") {
        "<p><a id=\"admin\" href=\"/dashboard/admin\">Admin dashboard</a></p>"
    } else {
        ""
    };
    let body = format!(
        "<h1 id=\"title\">Dashboard</h1>\
         <p>Signed in as <span id=\"user\">{}</span> ({}) of <span id=\"tenant\">{}</span>.</p>\
         <p>Roles: <span id=\"roles\">{}</span></p>{admin_link}\
         <form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>",
        escape(&user.user.email),
        match user.user.via {
            crate::roles::Via::Password => "password",
            crate::roles::Via::Saml => "SSO",
        },
        escape(&user.user.tenant),
        escape(&roles),
    );
    Ok(page("Dashboard", &body).into_response())
}

/// `GET /dashboard/admin` (`dashboard:admin`).
pub(crate) async fn admin(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    user.require(&state, "dashboard:admin")?;
    let region = state.tenant(&user.user.tenant)?.region();
    let ring = state.regions.get(region).tokens();
    let body = format!(
        "<h1>Admin</h1><p>Tenant <b>{}</b>, data pinned to region <b>{}</b>; tokens keyring \
         primary version {}.</p>",
        escape(&user.user.tenant),
        region.as_str(),
        ring.primary_version().unwrap_or(0),
    );
    Ok(page("Admin", &body).into_response())
}
