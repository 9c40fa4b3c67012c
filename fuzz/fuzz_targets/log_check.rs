//! The `log_verify` fuzz target's check, shared with `tests/fuzz_smoke.rs`: the tamper-evident
//! log's readers on damaged directories. A valid log (built once) is copied, one of its files is replaced, overwritten, truncated or extended with the input, and then
//! `verify`, `cat`, `prove` and `open` (with and without salvage) run on it. Every outcome must
//! be a result, never a panic.
use spanward::sink::log::checkpoint::{generate_signing_key, SIGNING_KEY_ENV};
use spanward::sink::log::{verify, FsyncPolicy, LogConfig, LogSink};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

struct Template {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    files: Vec<(String, Vec<u8>)>,
    env: HashMap<String, String>,
}

fn scratch_root() -> PathBuf {
    // tmpfs when there is one: thousands of small directories per second.
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

fn config(dir: &Path) -> LogConfig {
    LogConfig {
        path: dir.to_path_buf(),
        fsync: FsyncPolicy::Batch,
        checkpoint_interval: Duration::from_secs(3600),
        ..LogConfig::default()
    }
}

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let tmp = tempfile::tempdir_in(scratch_root()).expect("tempdir");
        let dir = tmp.path().join("log");
        let (skey, _) = generate_signing_key("fuzz.spanward/log");
        let env: HashMap<String, String> = [(SIGNING_KEY_ENV.to_string(), skey)].into();
        let sink = LogSink::open(&config(&dir), &env, false).expect("open");
        for i in 0..3u8 {
            // Small OTLP-ish payloads; `cat` decodes them, `verify` counts their spans.
            sink.append(&[0x0a, 0x02, 0x12, i]).expect("append");
            sink.checkpoint().expect("checkpoint");
        }
        sink.close().expect("close");
        drop(sink);
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .expect("read_dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let data = std::fs::read(e.path()).expect("read");
                (name, data)
            })
            .collect();
        files.sort();
        Template {
            _tmp: tmp,
            dir,
            files,
            env,
        }
    })
}

pub fn run(data: &[u8]) {
    let t = template();
    let [which, mode, off_hi, off_lo, rest @ ..] = data else {
        return;
    };
    let Ok(tmp) = tempfile::tempdir_in(scratch_root()) else {
        return;
    };
    let dir = tmp.path().join("log");
    if std::fs::create_dir(&dir).is_err() {
        return;
    }
    let _ = &t.dir;
    // One more slot than there are files: the input becomes a new segment.
    let target = usize::from(*which) % (t.files.len() + 1);
    for (i, (name, bytes)) in t.files.iter().enumerate() {
        let mut b = bytes.clone();
        if i == target {
            let off = usize::from(u16::from_be_bytes([*off_hi, *off_lo])) % (b.len() + 1);
            match mode % 4 {
                0 => b = rest.to_vec(),
                1 => {
                    let end = (off + rest.len()).min(b.len());
                    b[off..end].copy_from_slice(&rest[..end - off]);
                }
                2 => b.truncate(off),
                _ => b.extend_from_slice(rest),
            }
        }
        if std::fs::write(dir.join(name), &b).is_err() {
            return;
        }
    }
    if target == t.files.len() {
        let name = format!("{:020}.seg", u64::from(*off_lo));
        if std::fs::write(dir.join(name), rest).is_err() {
            return;
        }
    }
    let _ = verify::verify_dir(&dir, None, &mut |_, _| {});
    let _ = verify::cat(&dir, 0, &mut std::io::sink());
    for seq in 0..4 {
        if let Ok(p) = verify::prove(&dir, seq) {
            let _ = verify::verify_proof(&p, None);
        }
    }
    // Opening (recovery) last: it may rewrite the directory.
    if let Ok(s) = LogSink::open(&config(&dir), &t.env, mode & 4 != 0) {
        let _ = s.append(b"after");
        let _ = s.close();
    }
}
