//! Container logs in the CRI file format (`<RFC3339Nano> <stream> <P|F> <message>`):
//! parsing, joining partial lines and rendering them the way `kubectl logs` expects.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use k8s_openapi::jiff::Timestamp;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

/// One complete log entry (partial lines already joined).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Timestamp of the first fragment, as written by the runtime.
    pub timestamp: String,
    pub stream: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogOptions {
    pub follow: bool,
    pub tail_lines: Option<usize>,
    pub timestamps: bool,
    pub since: Option<Timestamp>,
    pub limit_bytes: Option<usize>,
    pub previous: bool,
}

/// Joins CRI log lines into entries; a trailing run of `P` fragments stays pending in
/// the returned joiner so following can complete it later.
#[derive(Default)]
pub struct Joiner {
    pending: Option<Entry>,
}

impl Joiner {
    /// Feeds one line (without its newline); returns an entry when it is complete.
    pub fn push(&mut self, line: &str) -> Option<Entry> {
        let mut parts = line.splitn(4, ' ');
        let (Some(ts), Some(stream), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
            return None;
        };
        let message = parts.next().unwrap_or("");
        let partial = tag.split(':').next() == Some("P");
        let entry = match self.pending.take() {
            Some(mut pending) => {
                pending.message.push_str(message);
                pending
            }
            None => Entry {
                timestamp: ts.to_string(),
                stream: stream.to_string(),
                message: message.to_string(),
            },
        };
        if partial {
            self.pending = Some(entry);
            None
        } else {
            Some(entry)
        }
    }
}

/// All complete entries of a log file's content.
pub fn parse(content: &str) -> Vec<Entry> {
    let mut joiner = Joiner::default();
    content
        .lines()
        .filter_map(|line| joiner.push(line))
        .collect()
}

/// The bytes to send for `entries` under `opts` (since, tail, timestamps, limit).
pub fn render(entries: &[Entry], opts: &LogOptions) -> Vec<u8> {
    let selected: Vec<&Entry> = entries.iter().filter(|e| after_since(e, opts)).collect();
    let start = match opts.tail_lines {
        Some(n) => selected.len().saturating_sub(n),
        None => 0,
    };
    let mut out = Vec::new();
    for entry in selected.iter().skip(start) {
        format_entry(entry, opts.timestamps, &mut out);
    }
    if let Some(limit) = opts.limit_bytes {
        out.truncate(limit);
    }
    out
}

fn after_since(entry: &Entry, opts: &LogOptions) -> bool {
    match (&opts.since, entry.timestamp.parse::<Timestamp>()) {
        (Some(since), Ok(ts)) => ts >= *since,
        _ => true,
    }
}

pub fn format_entry(entry: &Entry, timestamps: bool, out: &mut Vec<u8>) {
    if timestamps {
        out.extend_from_slice(entry.timestamp.as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(entry.message.as_bytes());
    out.push(b'\n');
}

/// Streams a log file into `tx`: the selected existing entries, then (when following)
/// new entries until `still_running` says the container has exited or the receiver is
/// gone.
pub async fn stream_file<F, Fut>(
    path: PathBuf,
    opts: LogOptions,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    still_running: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let content = match tokio::fs::read(&path).await {
        Ok(c) => c,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    // Only complete lines are consumed; a half-written last line is read again later.
    let consumed = content
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let text = String::from_utf8_lossy(&content[..consumed]);
    let mut joiner = Joiner::default();
    let entries: Vec<Entry> = text.lines().filter_map(|l| joiner.push(l)).collect();
    let first = render(&entries, &opts);
    let mut remaining = opts.limit_bytes;
    if !first.is_empty() {
        remaining = remaining.map(|r| r.saturating_sub(first.len()));
        if tx.send(Ok(Bytes::from(first))).await.is_err() {
            return;
        }
    }
    if !opts.follow || remaining == Some(0) {
        return;
    }
    follow(
        &path,
        consumed as u64,
        joiner,
        opts,
        remaining,
        tx,
        still_running,
    )
    .await;
}

async fn follow<F, Fut>(
    path: &Path,
    mut offset: u64,
    mut joiner: Joiner,
    opts: LogOptions,
    mut remaining: Option<usize>,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    still_running: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut exited_polls = 0;
    loop {
        if tx.is_closed() {
            return;
        }
        let mut chunk = Vec::new();
        if let Ok(mut file) = tokio::fs::File::open(path).await
            && file.seek(std::io::SeekFrom::Start(offset)).await.is_ok()
        {
            let _ = file.read_to_end(&mut chunk).await;
        }
        let consumed = chunk.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if consumed > 0 {
            offset += consumed as u64;
            let text = String::from_utf8_lossy(&chunk[..consumed]);
            let mut out = Vec::new();
            for line in text.lines() {
                if let Some(entry) = joiner.push(line).filter(|e| after_since(e, &opts)) {
                    format_entry(&entry, opts.timestamps, &mut out);
                }
            }
            if let Some(r) = remaining.as_mut() {
                out.truncate(*r);
                *r -= out.len();
            }
            if !out.is_empty() && tx.send(Ok(Bytes::from(out))).await.is_err() {
                return;
            }
            if remaining == Some(0) {
                return;
            }
            continue;
        }
        // After the container exits, read once more so its last lines are not lost.
        if !still_running().await {
            exited_polls += 1;
            if exited_polls > 1 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "2024-05-01T10:00:00.000000001Z stdout F hello\n\
2024-05-01T10:00:01.000000000Z stdout P par\n\
2024-05-01T10:00:01.100000000Z stdout P ti\n\
2024-05-01T10:00:01.200000000Z stdout F al\n\
2024-05-01T10:00:02.000000000Z stderr F oops\n\
2024-05-01T10:00:03.000000000Z stdout F \n";

    #[test]
    fn joins_partial_lines() {
        let entries = parse(LOG);
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[1].message, "partial");
        assert_eq!(entries[1].timestamp, "2024-05-01T10:00:01.000000000Z");
        assert_eq!(entries[2].stream, "stderr");
        assert_eq!(entries[3].message, "");
    }

    #[test]
    fn renders_plain_tail_and_timestamps() {
        let entries = parse(LOG);
        assert_eq!(
            render(&entries, &LogOptions::default()),
            b"hello\npartial\noops\n\n"
        );
        let tail = LogOptions {
            tail_lines: Some(2),
            timestamps: true,
            ..Default::default()
        };
        assert_eq!(
            String::from_utf8(render(&entries, &tail)).unwrap(),
            "2024-05-01T10:00:02.000000000Z oops\n2024-05-01T10:00:03.000000000Z \n"
        );
        let limit = LogOptions {
            limit_bytes: Some(7),
            ..Default::default()
        };
        assert_eq!(render(&entries, &limit), b"hello\np");
        let zero_tail = LogOptions {
            tail_lines: Some(0),
            ..Default::default()
        };
        assert!(render(&entries, &zero_tail).is_empty());
    }

    #[test]
    fn since_filters_older_entries() {
        let entries = parse(LOG);
        let opts = LogOptions {
            since: Some("2024-05-01T10:00:01.500Z".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(render(&entries, &opts), b"oops\n\n");
    }

    #[test]
    fn garbage_lines_are_skipped() {
        assert!(parse("nonsense\n\n").is_empty());
    }

    #[tokio::test]
    async fn follow_streams_appended_lines_until_exit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(
            &path,
            "2024-05-01T10:00:00Z stdout F one\n2024-05-01T10:00:00Z stdout P tw",
        )
        .unwrap();
        let (tx, mut rx) = mpsc::channel(16);
        let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = running.clone();
        let opts = LogOptions {
            follow: true,
            ..Default::default()
        };
        let task = tokio::spawn(stream_file(path.clone(), opts, tx, move || {
            let flag = flag.clone();
            async move { flag.load(std::sync::atomic::Ordering::SeqCst) }
        }));
        assert_eq!(
            rx.recv().await.unwrap().unwrap(),
            Bytes::from_static(b"one\n")
        );
        std::fs::write(
            &path,
            "2024-05-01T10:00:00Z stdout F one\n2024-05-01T10:00:00Z stdout P tw\n2024-05-01T10:00:01Z stdout F o\n",
        )
        .unwrap();
        assert_eq!(
            rx.recv().await.unwrap().unwrap(),
            Bytes::from_static(b"two\n")
        );
        running.store(false, std::sync::atomic::Ordering::SeqCst);
        assert!(rx.recv().await.is_none());
        task.await.unwrap();
    }
}
