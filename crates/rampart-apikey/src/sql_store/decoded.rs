//! Records decoded from the exact row text last read for each public id.
//!
//! Reading a record back (JSON, RFC 3339 times, base64, scope validation) costs several
//! microseconds, more than the HMAC a check is meant to cost. The row is still read on every
//! check, so nothing stale is ever served: only when its text is byte for byte the text
//! decoded before is the earlier result reused. A revocation, a rotation or a hand edit
//! changes the text, and the new text is decoded (and refused, if it is not a record).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::StoreError;
use crate::key::PublicId;
use crate::record::ApiKeyRecord;

/// At most `capacity` entries; a full map drops an arbitrary entry for a new one (a miss only
/// costs the decoding it would have cost anyway).
#[derive(Debug)]
pub(crate) struct Decoded {
    capacity: usize,
    entries: Mutex<HashMap<PublicId, (String, Arc<ApiKeyRecord>)>>,
}

impl Decoded {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The record `text` holds: the one decoded from the same text earlier, or `decode`'s.
    pub(crate) fn get_or_decode(
        &self,
        id: PublicId,
        text: String,
        decode: impl FnOnce(&str) -> Result<ApiKeyRecord, StoreError>,
    ) -> Result<Arc<ApiKeyRecord>, StoreError> {
        if self.capacity == 0 {
            return decode(&text).map(Arc::new);
        }
        if let Some((known, record)) = self.lock().get(&id)
            && *known == text
        {
            return Ok(Arc::clone(record));
        }
        // Decoded outside the lock: other checks do not wait for this one's parsing.
        let decoded = decode(&text);
        let mut entries = self.lock();
        match decoded {
            Ok(record) => {
                let record = Arc::new(record);
                if entries.len() >= self.capacity
                    && !entries.contains_key(&id)
                    && let Some(victim) = entries.keys().next().copied()
                {
                    entries.remove(&victim);
                }
                entries.insert(id, (text, Arc::clone(&record)));
                Ok(record)
            }
            Err(e) => {
                entries.remove(&id);
                Err(e)
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<PublicId, (String, Arc<ApiKeyRecord>)>> {
        // The map is only ever a cache of pure results: a panic elsewhere cannot leave it
        // wrong, so a poisoned lock is still good to use.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ApiKeys, HashingKey, KeyOptions, KeyPrefix, Keyset};
    use std::cell::Cell;
    use std::time::SystemTime;

    fn rows(n: usize) -> Vec<(PublicId, String)> {
        let keys = ApiKeys::new(
            KeyPrefix::default(),
            Keyset::new(1, HashingKey::generate().unwrap()),
        );
        (0..n)
            .map(|_| {
                let r = keys
                    .issue(KeyOptions::new(), SystemTime::now())
                    .unwrap()
                    .record;
                (r.public_id(), serde_json::to_string(&r).unwrap())
            })
            .collect()
    }

    fn parse(calls: &Cell<usize>) -> impl FnOnce(&str) -> Result<ApiKeyRecord, StoreError> + '_ {
        move |t: &str| {
            calls.set(calls.get() + 1);
            Ok(serde_json::from_str(t).unwrap())
        }
    }

    #[test]
    fn the_same_text_is_decoded_once_and_a_changed_text_again() {
        let memo = Decoded::new(8);
        let (id, text) = rows(1).remove(0);
        let calls = Cell::new(0);
        memo.get_or_decode(id, text.clone(), parse(&calls)).unwrap();
        memo.get_or_decode(id, text.clone(), parse(&calls)).unwrap();
        assert_eq!(calls.get(), 1);
        let revoked = text.replacen(
            "\"revoked_at\":null",
            "\"revoked_at\":\"2030-01-01T00:00:00Z\"",
            1,
        );
        let r = memo.get_or_decode(id, revoked, parse(&calls)).unwrap();
        assert_eq!(calls.get(), 2);
        assert!(
            r.revoked_at().is_some(),
            "the new text, not the remembered record"
        );
    }

    #[test]
    fn a_row_that_fails_to_decode_is_forgotten_and_the_map_stays_bounded() {
        let memo = Decoded::new(2);
        let all = rows(3);
        let calls = Cell::new(0);
        for (id, text) in &all {
            memo.get_or_decode(*id, text.clone(), parse(&calls))
                .unwrap();
        }
        assert_eq!(memo.lock().len(), 2);
        let (id, _) = &all[2];
        let broken = memo.get_or_decode(*id, "{".into(), |_| {
            Err(StoreError::NotFound { public_id: *id })
        });
        assert!(broken.is_err());
        assert!(!memo.lock().contains_key(id));
    }
}
