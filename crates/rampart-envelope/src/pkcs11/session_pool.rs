//! Sessions with one token, shared by threads.
//!
//! A PKCS#11 session runs one operation at a time (`cryptoki::Session` is `Send`, not
//! `Sync`), so each call borrows a session of its own and gives it back. Login state belongs
//! to the application, not to a session (PKCS#11 v2.40 §5.6): the session that logged in stays
//! open as long as the pool does, so sessions opened later are logged in too.

use std::sync::Mutex;

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::Session;
use cryptoki::slot::Slot;

/// Idle sessions kept for reuse; more may be open while calls run in parallel.
const MAX_IDLE: usize = 8;

pub(crate) struct SessionPool {
    ctx: Pkcs11,
    slot: Slot,
    /// The login session: never lent, closed (logging out) when the pool is dropped.
    _login: Mutex<Session>,
    idle: Mutex<Vec<Session>>,
}

impl SessionPool {
    pub(crate) fn new(ctx: Pkcs11, slot: Slot, login: Session) -> Self {
        Self {
            ctx,
            slot,
            _login: Mutex::new(login),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `op` on a session of its own. A session the token reports as gone is dropped
    /// instead of returned to the pool.
    pub(crate) fn with_session<T>(
        &self,
        op: impl FnOnce(&Session) -> Result<T, CkError>,
    ) -> Result<T, CkError> {
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let session = match pooled {
            Some(s) => s,
            None => self.ctx.open_ro_session(self.slot)?,
        };
        let result = op(&session);
        let broken = matches!(
            result,
            Err(CkError::Pkcs11(
                RvError::SessionHandleInvalid
                    | RvError::SessionClosed
                    | RvError::DeviceRemoved
                    | RvError::TokenNotPresent,
                _
            ))
        );
        if !broken {
            let mut idle = self
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if idle.len() < MAX_IDLE {
                idle.push(session);
            }
        }
        result
    }
}
