//! Uploads encrypted on write (rampart-envelope streams, 64 KiB segments) under the current
//! hour's key of a retention keyring: readable for one hour, then refused, and
//! crypto-shredded when the bucket's key is purged. What the service computed from a file
//! (its result) is sealed under a second retention keyring and kept 14 days.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read as _, Write as _};
use std::path::PathBuf;
use std::time::SystemTime;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_envelope::Context;
use rampart_envelope::stream::{DecryptingReader, EncryptingWriter};
use serde_json::json;

use crate::app::AppState;
use crate::clock::{from_unix_ms, unix_ms};
use crate::error::{AppError, rejected};
use crate::regions::{RESULT_RETENTION, RegionKeys, UPLOAD_RETENTION, region_keys};
use crate::roles::CurrentUser;

/// Largest upload accepted (the route's body limit).
pub const MAX_UPLOAD_BYTES: usize = 8 * 1024 * 1024;

/// A file name: 1-100 of `[A-Za-z0-9._-]`, not starting with a dot.
fn file_name(text: &str) -> Result<&str, AppError> {
    let ok = !text.is_empty()
        && text.len() <= 100
        && !text.starts_with('.')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    ok.then_some(text)
        .ok_or(AppError::BadRequest("invalid_name"))
}

/// The file's context binds it to its tenant and name: a file renamed over another, or moved
/// to another tenant's folder, does not open.
fn file_context(tenant: &str, name: &str) -> Context {
    Context::new()
        .with("tenant", tenant)
        .with("folder", "uploads")
        .with("file", name)
}

fn result_context(tenant: &str, name: &str) -> Context {
    file_context(tenant, name).with("column", "result")
}

fn file_path(keys: &RegionKeys, tenant: &str, name: &str) -> PathBuf {
    keys.files_dir.join(tenant).join(format!("{name}.rpf"))
}

/// `PUT /api/{region}/uploads/{name}` (`uploads:write`): the body, encrypted as it is
/// written; the result (size, lines) sealed for 14 days.
pub(crate) async fn put(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((region, name)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    user.require(&state, "uploads:write")?;
    let keys = region_keys(&state, &user, &region)?;
    let name = file_name(&name)?.to_owned();
    let body = body.map_err(|r| rejected(r.status(), "unreadable_body"))?;
    let now = state.clock.now();
    keys.maintain(now)
        .map_err(|e| AppError::unavailable("keyring", &e))?;
    let tenant = user.user.tenant.clone();
    let path = file_path(keys, &tenant, &name);
    let uploads = keys.uploads.clone();
    let results = keys.results.clone();
    let (size, sealed_result) = tokio::task::spawn_blocking({
        let (tenant, name) = (tenant.clone(), name.clone());
        move || -> Result<(usize, Vec<u8>), WriteError> {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            // Written under a temporary name and renamed: a reader never sees half a file.
            let tmp = path.with_extension("rpf.partial");
            {
                let mut ring = uploads
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let out = BufWriter::new(File::create(&tmp)?);
                let mut w = EncryptingWriter::new(
                    ring.sealing_keyring(now)?,
                    &file_context(&tenant, &name),
                    out,
                )?;
                w.write_all(&body)?;
                let out = w.finish()?;
                out.into_inner()
                    .map_err(std::io::IntoInnerError::into_error)?
                    .sync_all()?;
            }
            fs::rename(&tmp, &path)?;
            let lines = body.iter().filter(|&&b| b == b'\n').count();
            let result = json!({ "bytes": body.len(), "lines": lines }).to_string();
            let mut ring = results
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let sealed = ring.seal(result.as_bytes(), &result_context(&tenant, &name), now)?;
            Ok((body.len(), sealed))
        }
    })
    .await
    .map_err(|e| AppError::unavailable("upload", &e))?
    .map_err(|e| AppError::unavailable("upload", &e))?;
    state
        .stores
        .db
        .put_upload(
            &tenant,
            &name,
            &user.user.email,
            i64::try_from(size).unwrap_or(i64::MAX),
            unix_ms(now),
            &STANDARD.encode(sealed_result),
        )
        .await
        .map_err(|e| AppError::unavailable("database", &e))?;
    let readable_until = unix_ms(now + UPLOAD_RETENTION);
    let body = json!({ "name": name, "bytes": size, "readable_until_ms": readable_until });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Why an upload could not be written.
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    #[error("keyring: {0}")]
    Keyring(#[from] rampart_envelope::Error),
}

/// `GET /api/{region}/uploads/{name}` (`uploads:read`): the file within its hour; 410
/// `expired` after, whether or not its key is purged yet.
pub(crate) async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((region, name)): Path<(String, String)>,
) -> Result<Response, AppError> {
    user.require(&state, "uploads:read")?;
    let keys = region_keys(&state, &user, &region)?;
    let name = file_name(&name)?.to_owned();
    let tenant = user.user.tenant.clone();
    let now = state.clock.now();
    let row = upload_row(&state, &tenant, &name).await?;
    keys.maintain(now)
        .map_err(|e| AppError::unavailable("keyring", &e))?;
    if expired(row.uploaded_ms, UPLOAD_RETENTION, now) {
        return Err(AppError::Gone("expired"));
    }
    let path = file_path(keys, &tenant, &name);
    let uploads = keys.uploads.clone();
    let plain = tokio::task::spawn_blocking(move || {
        let ring = uploads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let file = BufReader::new(File::open(&path).ok()?);
        let mut plain = Vec::new();
        DecryptingReader::new(ring.keyring(), &file_context(&tenant, &name), file)
            .ok()?
            .read_to_end(&mut plain)
            .ok()?;
        Some(plain)
    })
    .await
    .map_err(|e| AppError::unavailable("upload", &e))?
    // A purged bucket key (or a file that is not ours) reads as gone.
    .ok_or(AppError::Gone("expired"))?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], plain).into_response())
}

/// `GET /api/{region}/uploads/{name}/result` (`uploads:read`): what was computed from the
/// file, for 14 days.
pub(crate) async fn result(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((region, name)): Path<(String, String)>,
) -> Result<Response, AppError> {
    user.require(&state, "uploads:read")?;
    let keys = region_keys(&state, &user, &region)?;
    let name = file_name(&name)?;
    let tenant = &user.user.tenant;
    let now = state.clock.now();
    let row = upload_row(&state, tenant, name).await?;
    keys.maintain(now)
        .map_err(|e| AppError::unavailable("keyring", &e))?;
    if expired(row.uploaded_ms, RESULT_RETENTION, now) {
        return Err(AppError::Gone("expired"));
    }
    let sealed = STANDARD
        .decode(&row.result_sealed)
        .map_err(|_| AppError::Gone("expired"))?;
    let ring = keys
        .results
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let plain = ring
        .open(&sealed, &result_context(tenant, name))
        .map_err(|_| AppError::Gone("expired"))?;
    let result: serde_json::Value =
        serde_json::from_slice(&plain).map_err(|_| AppError::Gone("expired"))?;
    Ok(Json(json!({ "name": name, "result": result })).into_response())
}

/// `GET /api/{region}/retention` (`keyrings:manage`): the buckets of both retention keyrings
/// (a purged bucket is listed with `purged_ms`).
pub(crate) async fn buckets(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(region): Path<String>,
) -> Result<Response, AppError> {
    user.require(&state, "keyrings:manage")?;
    let keys = region_keys(&state, &user, &region)?;
    keys.maintain(state.clock.now())
        .map_err(|e| AppError::unavailable("keyring", &e))?;
    let list = |ring: &std::sync::Mutex<rampart_envelope::retention::RetentionKeyring>| {
        let ring = ring
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ring.buckets()
            .iter()
            .map(|b| {
                json!({
                    "bucket": b.bucket,
                    "start_ms": unix_ms(b.start),
                    "end_ms": unix_ms(b.end),
                    "expires_ms": unix_ms(b.expires),
                    "purged_ms": b.purged_at.map(unix_ms),
                })
            })
            .collect::<Vec<_>>()
    };
    Ok(Json(
        json!({ "uploads": list(keys.uploads.as_ref()), "results": list(keys.results.as_ref()) }),
    )
    .into_response())
}

async fn upload_row(
    state: &AppState,
    tenant: &str,
    name: &str,
) -> Result<crate::db::UploadRow, AppError> {
    state
        .stores
        .db
        .upload(tenant, name)
        .await
        .map_err(|e| AppError::unavailable("database", &e))?
        .ok_or(AppError::NotFound("unknown_upload"))
}

fn expired(uploaded_ms: i64, keep: std::time::Duration, now: SystemTime) -> bool {
    from_unix_ms(uploaded_ms) + keep <= now
}
