#[path = "../benches/worst_inputs.rs"]
mod worst_inputs;
use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::{RedactionConfig, Scrubber};
use std::time::Instant;
// dbg_worst dump DIR SIZE | dbg_worst file PATH ITERS | dbg_worst NAME ITERS
#[inline(never)]
fn measured_scrub(sc: &Scrubber, t: &str) -> usize {
    sc.scrub_str(t).len()
}
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = RedactionConfig::default();
    if let Ok(v) = std::env::var("BUDGET_US") {
        cfg.max_scan_cpu_per_mib = std::time::Duration::from_micros(v.parse().unwrap());
    }
    let sc = Scrubber::new(
        &cfg,
        HmacKey::from_bytes(vec![5; 32], None, KeySource::File),
    )
    .unwrap();
    if args[0] == "dump" {
        let size: usize = args[2].parse().unwrap();
        std::fs::create_dir_all(&args[1]).unwrap();
        let mut idx = String::new();
        for (i, (n, text)) in worst_inputs::generators(&sc, size, worst_inputs::ALL_SEPS)
            .into_iter()
            .enumerate()
        {
            std::fs::write(format!("{}/{i}.txt", args[1]), text).unwrap();
            idx.push_str(&format!("{i}\t{n}\n"));
        }
        std::fs::write(format!("{}/index.tsv", args[1]), idx).unwrap();
        return;
    }
    if args[0] == "file" {
        let text = std::fs::read_to_string(&args[1]).unwrap();
        let iters: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
        let t = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(measured_scrub(&sc, &text));
        }
        let s = t.elapsed().as_secs_f64() / iters as f64;
        let o = sc.scrub_str(&text);
        println!(
            "{:.2} ms {:.1} MiB/s out={} {:?}",
            s * 1e3,
            text.len() as f64 / 1048576.0 / s,
            o.len(),
            &o[..o.len().min(40)]
        );
        return;
    }
    let name = args[0].clone();
    let iters: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    for (n, text) in worst_inputs::generators(&sc, 256 << 10, worst_inputs::ALL_SEPS) {
        if n != name {
            continue;
        }
        let t = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(measured_scrub(&sc, &text));
        }
        let s = t.elapsed().as_secs_f64() / iters as f64;
        println!("{n}: {:.1} MiB/s", text.len() as f64 / 1048576.0 / s);
    }
}
