//! Translation between etcd-client types and the store's types: key values, key ranges and
//! errors.

use bytes::Bytes;

use crate::{KeyValue, Revision, StoreError};

/// Converts an etcd key value; keys must be UTF-8 (the store's keys are strings).
pub(super) fn key_value(kv: &etcd_client::KeyValue) -> Result<KeyValue, StoreError> {
    let key = std::str::from_utf8(kv.key())
        .map_err(|e| StoreError::Backend(format!("etcd returned a non-UTF-8 key: {e}")))?;
    Ok(KeyValue {
        key: key.to_owned(),
        value: Bytes::copy_from_slice(kv.value()),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
        version: kv.version(),
    })
}

/// The smallest key greater than every key starting with `prefix` (etcd's `range_end` for a
/// prefix). `\0` (= "to the end of the key space") when no such key exists.
pub(super) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// etcd rejects an empty key; the empty prefix starts at the smallest key instead.
pub(super) fn range_start(key: &[u8]) -> Vec<u8> {
    if key.is_empty() {
        vec![0]
    } else {
        key.to_vec()
    }
}

/// What an etcd error means for the store. The gRPC messages are etcd's own
/// (`rpctypes.ErrCompacted` etc.); they carry no revisions, so the caller fills those in.
pub(super) enum Classified {
    Compacted,
    FutureRevision,
    TooLarge,
    Other(StoreError),
}

pub(super) fn classify(err: etcd_client::Error) -> Classified {
    if let etcd_client::Error::GRpcStatus(status) = &err {
        let message = status.message();
        if message.contains("required revision has been compacted") {
            return Classified::Compacted;
        }
        if message.contains("required revision is a future revision") {
            return Classified::FutureRevision;
        }
        if message.contains("request is too large") {
            return Classified::TooLarge;
        }
    }
    Classified::Other(StoreError::Backend(format!("etcd: {err}")))
}

/// The header revision of a response, or an error if etcd sent none.
pub(super) fn header_revision(
    header: Option<&etcd_client::ResponseHeader>,
) -> Result<Revision, StoreError> {
    header
        .map(|h| h.revision())
        .ok_or_else(|| StoreError::Backend("etcd response without header".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_last_byte() {
        assert_eq!(prefix_end(b"/registry/pods/"), b"/registry/pods0".to_vec());
        assert_eq!(prefix_end(b"a\xff\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff"), vec![0]);
        assert_eq!(prefix_end(b""), vec![0]);
    }

    #[test]
    fn range_start_never_empty() {
        assert_eq!(range_start(b""), vec![0]);
        assert_eq!(range_start(b"/a"), b"/a".to_vec());
    }
}
