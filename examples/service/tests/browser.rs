//! A real browser: headless Chromium driven through WebDriver (chromedriver started here on a
//! free port, killed at the end). The login form lands on the dashboard; "Sign in with acme
//! SSO" goes to a test IdP page that auto-posts a signed response to the ACS (the SAML
//! HTTP-POST binding as a browser performs it), and lands on the dashboard with the role the
//! IdP's group maps to. Without chromium and chromedriver the test skips loudly; under
//! `CI=true` it fails (`.ci/run` installs the Debian packages `chromium` and
//! `chromium-driver`).

mod common;

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use common::{Idp, PASSWORD, Service, request_id_from_redirect, signed_response, signed_up};
use fantoccini::{ClientBuilder, Locator};
use rampart_service::Clock;
use rampart_testkit::tool;

/// chromedriver, killed when dropped (also when an assertion fails).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn chromium_binary() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// The test IdP's SSO page: reads the AuthnRequest from the redirect, answers it with a
/// response signed by the tenant's IdP key, and posts it to the ACS on load.
async fn idp_sso(
    State((service_url, clock)): State<(Arc<OnceLock<String>>, Clock)>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Html<String> {
    let base = service_url.get().expect("service started").clone();
    let request_id = request_id_from_redirect(&format!("/?{}", query.unwrap_or_default()));
    let idp = if tenant == "globex" {
        Idp::Globex
    } else {
        Idp::Acme
    };
    let response = signed_response(
        idp,
        &base,
        &tenant,
        &request_id,
        "alice@acme.example",
        &["admins"],
        clock.now(),
    );
    let acs = rampart_service::acs_url(&base, &tenant);
    Html(format!(
        "<!doctype html><html><body onload=\"document.forms[0].submit()\">\
         <form method=\"post\" action=\"{acs}\">\
         <input type=\"hidden\" name=\"SAMLResponse\" value=\"{response}\">\
         <noscript><button type=\"submit\">Continue</button></noscript></form></body></html>"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_form_and_saml_post_binding_in_headless_chromium() {
    if !tool::available("chromedriver") {
        return;
    }
    let Some(chromium) = chromium_binary() else {
        tool::missing("chromium");
        return;
    };

    // The test IdP first: the service's tenants point their SSO URL at it.
    let service_url = Arc::new(OnceLock::new());
    let clock = Clock::system();
    let idp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let idp_base = format!("http://{}", idp_listener.local_addr().unwrap());
    let idp = axum::Router::new()
        .route("/{tenant}/sso", axum::routing::get(idp_sso))
        .with_state((service_url.clone(), clock.clone()));
    tokio::spawn(async move { axum::serve(idp_listener, idp).await });
    let service = Service::start_with_idp(Some(&idp_base), clock).await;
    service_url.set(service.running.url().to_owned()).unwrap();
    drop(signed_up(&service, "ann@initech.example", "initech").await);

    let port = free_port();
    let _driver = Driver(
        Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": which(chromium),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let mut browser = None;
    for _ in 0..100 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                browser = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let browser = browser.expect("chromedriver answers within 10 s");

    // 1. The login form.
    browser.goto(&service.url("/login")).await.unwrap();
    browser
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("ann@initech.example")
        .await
        .unwrap();
    browser
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    browser
        .find(Locator::Id("submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let wait = || browser.wait().at_most(Duration::from_secs(10));
    wait().for_element(Locator::Id("title")).await.unwrap();
    assert_eq!(browser.current_url().await.unwrap().path(), "/dashboard");
    let user = browser
        .find(Locator::Id("user"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(user, "ann@initech.example");

    // 2. SSO through the test IdP's auto-posting page.
    browser.delete_all_cookies().await.unwrap();
    browser.goto(&service.url("/login")).await.unwrap();
    browser
        .find(Locator::Id("sso-acme"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait().for_element(Locator::Id("title")).await.unwrap();
    assert_eq!(browser.current_url().await.unwrap().path(), "/dashboard");
    let tenant = browser
        .find(Locator::Id("tenant"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let roles = browser
        .find(Locator::Id("roles"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(tenant, "acme");
    assert_eq!(
        roles, "admin",
        "the IdP's group admins maps to the role admin"
    );
    browser
        .find(Locator::Id("admin"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = browser.source().await.unwrap();
    assert!(page.contains("pinned to region <b>eu</b>"), "{page}");

    browser.close().await.unwrap();
    service.running.stop().await.unwrap();
}

/// The absolute path of `program` (chromedriver wants one for the browser binary).
fn which(program: &str) -> String {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(program))
                .find(|p| p.is_file())
        })
        .map_or_else(|| program.to_owned(), |p| p.display().to_string())
}
