//! OAuth tokens of a tenant in an encrypted column: sealed by the region's keyring with a
//! context naming tenant, table, column and region (a value copied to another row, tenant
//! or region does not open), rotation, and re-encryption of old rows in the background by
//! rampart-envelope's `ReencryptJob`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rampart_envelope::reencrypt::{MemoryCheckpoint, ReencryptJob};
use rampart_envelope::{Context, Keyring, SealedValue};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::app::AppState;
use crate::error::{AppError, rejected};
use crate::regions::{Region, region_keys};
use crate::roles::CurrentUser;

/// Longest token accepted (real OAuth tokens are well under 4 KiB).
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The context a token is sealed with: the row's identity and the column.
pub(crate) fn context(tenant: &str, provider: &str, region: Region) -> Context {
    Context::new()
        .with("tenant", tenant)
        .with("table", "oauth_tokens")
        .with("column", "access_token")
        .with("provider", provider)
        .with("region", region.as_str())
}

/// A provider name: 1-64 of `[a-z0-9-]`.
fn provider_name(text: &str) -> Result<&str, AppError> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ok.then_some(text)
        .ok_or(AppError::BadRequest("invalid_provider"))
}

#[derive(Deserialize)]
pub(crate) struct TokenBody {
    token: String,
}

/// `PUT /api/{region}/tokens/{provider}` (`tokens:write`).
pub(crate) async fn put(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((region, provider)): Path<(String, String)>,
    body: Result<Json<TokenBody>, JsonRejection>,
) -> Result<Response, AppError> {
    user.require(&state, "tokens:write")?;
    let keys = region_keys(&state, &user, &region)?;
    let provider = provider_name(&provider)?;
    let Json(body) = body.map_err(|r| rejected(r.status(), "malformed_json"))?;
    let token = Zeroizing::new(body.token);
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(AppError::BadRequest("invalid_token"));
    }
    let tenant = &user.user.tenant;
    let sealed = keys
        .tokens()
        .seal_text(token.as_bytes(), &context(tenant, provider, keys.region))
        .map_err(|e| AppError::unavailable("keyring", &e))?;
    state
        .stores
        .db
        .put_token(
            tenant,
            provider,
            keys.region.as_str(),
            &sealed,
            state.clock.unix_ms(),
        )
        .await
        .map_err(|e| AppError::unavailable("database", &e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/{region}/tokens/{provider}` (`tokens:read`): the token and the keyring version
/// its row is sealed under.
pub(crate) async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((region, provider)): Path<(String, String)>,
) -> Result<Response, AppError> {
    user.require(&state, "tokens:read")?;
    let keys = region_keys(&state, &user, &region)?;
    let provider = provider_name(&provider)?;
    let tenant = &user.user.tenant;
    let sealed = state
        .stores
        .db
        .token(tenant, provider)
        .await
        .map_err(|e| AppError::unavailable("database", &e))?
        .ok_or(AppError::NotFound("unknown_token"))?;
    let ring = keys.tokens();
    let token = ring
        .open_text(&sealed, &context(tenant, provider, keys.region))
        .map_err(|e| AppError::unavailable("keyring", &e))?;
    let version = SealedValue::from_text(&sealed)
        .and_then(|v| ring.version_of(v.as_bytes()))
        .map_err(|e| AppError::unavailable("keyring", &e))?;
    let token = Zeroizing::new(String::from_utf8_lossy(&token).into_owned());
    Ok(
        Json(json!({ "provider": provider, "token": token.as_str(), "version": version }))
            .into_response(),
    )
}

/// `GET /api/{region}/keyrings/tokens` (`keyrings:manage`): the primary version and how many
/// of the region's rows are sealed under it.
pub(crate) async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(region): Path<String>,
) -> Result<Response, AppError> {
    user.require(&state, "keyrings:manage")?;
    let keys = region_keys(&state, &user, &region)?;
    let ring = keys.tokens();
    let rows = state
        .stores
        .db
        .tokens_in(keys.region.as_str())
        .await
        .map_err(|e| AppError::unavailable("database", &e))?;
    let current = rows
        .iter()
        .filter(|r| {
            SealedValue::from_text(&r.sealed)
                .and_then(|v| ring.needs_reencrypt(v.as_bytes()))
                .is_ok_and(|old| !old)
        })
        .count();
    Ok(Json(json!({
        "region": keys.region.as_str(),
        "primary": ring.primary_version(),
        "rows": rows.len(),
        "rows_on_primary": current,
    }))
    .into_response())
}

/// `POST /api/{region}/keyrings/tokens/rotate` (`keyrings:manage`): a new primary version,
/// then every older row re-encrypted in the background (202 at once).
pub(crate) async fn rotate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(region): Path<String>,
) -> Result<Response, AppError> {
    user.require(&state, "keyrings:manage")?;
    let region = region_keys(&state, &user, &region)?.region;
    let version = state
        .regions
        .get(region)
        .rotate_tokens(state.clock.now())
        .map_err(|e| AppError::unavailable("keyring", &e))?;
    let job_state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = reencrypt_region(&job_state, region).await {
            eprintln!("rampart-service: re-encryption in {}: {e}", region.as_str());
        }
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "primary": version }))).into_response())
}

/// Why a re-encryption run stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReencryptError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("keyring: {0}")]
    Keyring(#[from] rampart_envelope::Error),
    #[error("job: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Moves every row of `region` to the primary version. The job itself (batches, which rows
/// are old, failures) is rampart-envelope's; each changed row is written back only if no
/// request replaced it since it was read.
pub(crate) async fn reencrypt_region(
    state: &AppState,
    region: Region,
) -> Result<usize, ReencryptError> {
    let ring: Arc<Keyring> = state.regions.get(region).tokens();
    let rows = state.stores.db.tokens_in(region.as_str()).await?;
    let mut items: Vec<((String, String), Vec<u8>)> = Vec::with_capacity(rows.len());
    let mut old_text: HashMap<(String, String), String> = HashMap::with_capacity(rows.len());
    for row in rows {
        let Ok(value) = SealedValue::from_text(&row.sealed) else {
            continue; // unreadable rows are not this job's to fix; GET reports them
        };
        let id = (row.tenant, row.provider);
        items.push((id.clone(), value.into_bytes()));
        old_text.insert(id, row.sealed);
    }
    // The job wants strictly ascending ids; SQL collations differ, so sort here.
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let changed = tokio::task::spawn_blocking(move || {
        let mut changed = Vec::new();
        ReencryptJob::new(&ring, |id: &(String, String)| context(&id.0, &id.1, region)).run(
            items,
            &mut MemoryCheckpoint::new(),
            |batch| {
                changed.extend(batch.iter().map(|item| {
                    (
                        item.id.clone(),
                        SealedValue::from_bytes(item.ciphertext.clone()).to_text(),
                    )
                }));
                Ok::<(), rampart_envelope::Error>(())
            },
        )?;
        Ok::<_, rampart_envelope::Error>(changed)
    })
    .await??;
    let mut written = 0;
    for ((tenant, provider), new) in changed {
        let Some(old) = old_text.get(&(tenant.clone(), provider.clone())) else {
            continue;
        };
        if state
            .stores
            .db
            .swap_token(&tenant, &provider, old, &new)
            .await?
        {
            written += 1;
        }
    }
    Ok(written)
}
