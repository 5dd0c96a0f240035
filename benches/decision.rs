//! What one decision costs natively, and the memory a large policy set takes.
//!
//! * `full_decision/<n>_policies/<prompt bytes>`: the full pipeline from the request's JSON
//!   bytes to a `Decision` (parse and normalise, route, detectors, Cedar request,
//!   authorize) for prompts of 1, 4 and 32 KiB, against generated policy sets of 10, 100
//!   and 1,000 policies (`bench/policy_sets/generate.rs`), loaded through the engine's
//!   bundle loader with strict validation, as a published bundle is.
//! * `cedar_floor/<n>_policies`: Cedar's `is_authorized` alone on the same request,
//!   prebuilt once, over the whole set; the percentile pass also times it over the
//!   request's slice (the policies whose scope it satisfies: what the pipeline evaluates).
//! * `detectors_scan_text/<bytes>`: the detectors alone on 1 KiB to 256 KiB of prose.
//!
//! Criterion runs first (means with confidence intervals, in `target/criterion/`); then a
//! percentile pass times every decision on its own (`Instant` around each call), in
//! several rounds interleaved over the combinations, and writes
//! `target/bench-results/native.json` (`$BENCH_RESULTS_DIR` overrides the directory).
//! Nothing here ever fails on a speed: targets are reported, never asserted.
//!
//! `BENCH_QUICK=1` (CI smoke): short criterion times, 4 KiB prompts only, fewer rounds.
//! `BENCH_SKIP_CRITERION=1`: the percentile pass and the JSON only.
//! `BENCH_DUMP_SETS=<dir>`: also writes each generated set's files to `<dir>/<n>/`.
//! Run: `bench/run_native.sh [--quick]`, or `cargo bench --bench decision`.
//!
//! ## native.json (schema `llm-policy-gateway/bench-native/v1`)
//!
//! Times are microseconds (floats); `p50_us`/`p99_us`/`mean_us` are the medians over the
//! rounds of each round's percentile (or mean), `n` the decisions timed over all rounds.
//!
//! ```text
//! {
//!   "schema": "llm-policy-gateway/bench-native/v1",
//!   "mode": "full" | "quick",
//!   "unix_time": 1764000000,
//!   "machine": { "os", "arch", "cpus", "cpu_model" },
//!   "profile": "bench",               // cargo profile (see [profile.bench] in Cargo.toml)
//!   "request": { "principal", "team", "org", "tier", "model", "action", "country" },
//!   "policy_sets": [ { "policies", "files", "policy_bytes", "load_ms",
//!                      "decision": "allow", "deciding_policies": ["…"] } ],
//!   "full_decision": [ { "policies", "prompt_bytes", "body_bytes", "p50_us", "p99_us",
//!                        "mean_us", "min_us", "n", "rounds", "round_p50_us": [..],
//!                        "floor_p50_us", "ratio_to_floor" } ],   // ratio = p50 / floor p50
//!   "cedar_floor": [ { "policies", "p50_us", "p99_us", "mean_us", "min_us", "n", "rounds",
//!                      "round_p50_us": [..] } ],
//!   "cedar_slice": [ { "policies", "slice_policies", ...the same stats } ],
//!   "detectors": [ { "bytes", "p50_us", "p99_us", "mean_us", "min_us", "n", "rounds",
//!                    "round_p50_us": [..] } ],
//!   "stages": [ { "stage": "parse_route" | "parse_route_assess" | "full", "policies": 100,
//!                 "prompt_bytes": 4096, ...the same stats } ],  // where the time goes
//!   "memory": { "policies": 1000, "policy_bytes", "rss_before_load_bytes",
//!               "rss_after_load_bytes", "rss_delta_bytes" },
//!   "targets": [ { "name", "target", "measured", "met" } ]
//! }
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::hint::black_box;
    use std::path::PathBuf;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use cedar_policy::Authorizer;
    use criterion::{BenchmarkId, Criterion, Throughput};
    use gateway_engine::detect;
    use gateway_policy::PolicyBundle;
    use serde_json::{json, Value};

    use gateway_workload::generate::{self, GeneratedSet};
    use gateway_workload::workload::{self, Prebuilt};
    use llm_policy_gateway::embedded;

    /// What a run measures and for how long.
    struct Plan {
        quick: bool,
        prompt_sizes: Vec<usize>,
        detector_sizes: Vec<usize>,
        rounds: usize,
        /// Time spent timing one combination in one round.
        round_time: Duration,
        warm_up: Duration,
        measurement: Duration,
    }

    impl Plan {
        fn from_env() -> Self {
            let quick = std::env::var_os("BENCH_QUICK").is_some_and(|v| v != "0");
            if quick {
                Self {
                    quick,
                    prompt_sizes: vec![4096],
                    detector_sizes: vec![4096],
                    rounds: 3,
                    round_time: Duration::from_millis(150),
                    warm_up: Duration::from_millis(200),
                    measurement: Duration::from_millis(600),
                }
            } else {
                Self {
                    quick,
                    prompt_sizes: workload::PROMPT_SIZES.to_vec(),
                    detector_sizes: vec![1024, 32 * 1024, 256 * 1024],
                    rounds: 5,
                    round_time: Duration::from_millis(500),
                    warm_up: Duration::from_millis(700),
                    measurement: Duration::from_secs(2),
                }
            }
        }
    }

    /// A generated set, loaded, with the benchmark request checked against it.
    struct Loaded {
        set: GeneratedSet,
        bundle: PolicyBundle,
        load_ms: f64,
        deciding: Vec<String>,
        floor: Prebuilt,
    }

    fn load_sets() -> Vec<Loaded> {
        let principal = workload::principal();
        let facts = workload::facts();
        let probe = workload::chat_body(4096);
        generate::SIZES
            .iter()
            .map(|&n| {
                let set = generate::generate(&embedded::source(), n).unwrap_or_else(|e| panic!("{n} policies: {e}"));
                if let Some(dir) = std::env::var_os("BENCH_DUMP_SETS") {
                    dump(&PathBuf::from(dir).join(n.to_string()), &set);
                }
                // The load time: median of three strict loads.
                let mut times = Vec::new();
                let mut bundle = None;
                for _ in 0..3 {
                    let started = Instant::now();
                    let loaded = set.load().unwrap_or_else(|e| panic!("{n} policies: {e}"));
                    times.push(started.elapsed().as_secs_f64() * 1e3);
                    bundle = Some(loaded);
                }
                times.sort_by(f64::total_cmp);
                let bundle = bundle.expect("loaded");
                assert_eq!(bundle.policy_count(), n, "policy count");

                let decision = workload::decide(&bundle, &principal, &facts, &probe)
                    .unwrap_or_else(|e| panic!("{n} policies: {e}"));
                assert!(
                    decision.is_allowed() && decision.errors.is_empty(),
                    "{n} policies: the benchmark request must be allowed: {decision:?}"
                );
                let mut deciding: Vec<String> =
                    decision.policy_ids().into_iter().map(str::to_owned).collect();
                deciding.sort();
                let json = workload::cedar_request_json(&bundle, &principal, &facts, &probe)
                    .unwrap_or_else(|e| panic!("{n} policies: {e}"));
                let floor = Prebuilt::from_json(&bundle, &json)
                    .unwrap_or_else(|e| panic!("{n} policies: {e}"));
                assert_eq!(
                    floor.explain(&bundle),
                    (true, deciding.clone()),
                    "{n} policies: the prebuilt request must decide as the pipeline does"
                );
                eprintln!(
                    "policy set {n}: {} files, {} bytes, strict load {:.1} ms, allow by {deciding:?}",
                    set.files.len(),
                    set.policy_bytes(),
                    times[1]
                );
                Loaded {
                    load_ms: times[1],
                    set,
                    bundle,
                    deciding,
                    floor,
                }
            })
            .collect()
    }

    /// Writes a set's files under `dir`, to read what the generator makes.
    fn dump(dir: &std::path::Path, set: &GeneratedSet) {
        for (name, text) in &set.files {
            let path = dir.join(name);
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&path, text));
            if let Err(e) = written {
                eprintln!("could not write {}: {e}", path.display());
            }
        }
    }

    fn criterion_benches(c: &mut Criterion, plan: &Plan, sets: &[Loaded]) {
        let principal = workload::principal();
        let facts = workload::facts();
        for loaded in sets {
            let n = loaded.bundle.policy_count();
            let mut group = c.benchmark_group(format!("full_decision/{n}_policies"));
            for &size in &plan.prompt_sizes {
                let body = workload::chat_body(size);
                group.throughput(Throughput::Bytes(body.len() as u64));
                group.bench_with_input(BenchmarkId::from_parameter(size), &body, |b, body| {
                    b.iter(|| {
                        workload::decide(&loaded.bundle, &principal, &facts, black_box(body))
                            .map(|d| d.is_allowed())
                    })
                });
            }
            group.finish();
        }
        let authorizer = Authorizer::new();
        let mut group = c.benchmark_group("cedar_floor");
        for loaded in sets {
            let n = loaded.bundle.policy_count();
            group.bench_function(format!("{n}_policies"), |b| {
                b.iter(|| black_box(&loaded.floor).authorize(&authorizer, &loaded.bundle))
            });
        }
        group.finish();
        let mut group = c.benchmark_group("detectors_scan_text");
        for &size in &plan.detector_sizes {
            let text = workload::prose(size);
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(BenchmarkId::from_parameter(size), &text, |b, text| {
                b.iter(|| detect::scan_text(black_box(text)))
            });
        }
        group.finish();
    }

    /// Per-call samples of one combination over all rounds.
    #[derive(Default)]
    struct Samples {
        rounds: Vec<Vec<u64>>,
    }

    impl Samples {
        /// Times `f` call by call for about `budget`, after a short warm-up.
        fn round(&mut self, budget: Duration, mut f: impl FnMut() -> bool) {
            let warm = Instant::now();
            while warm.elapsed() < budget / 10 {
                black_box(f());
            }
            let mut times = Vec::with_capacity(4096);
            let started = Instant::now();
            while started.elapsed() < budget || times.len() < 20 {
                let t = Instant::now();
                black_box(f());
                times.push(t.elapsed().as_nanos() as u64);
            }
            times.sort_unstable();
            self.rounds.push(times);
        }

        fn summary(&self) -> Value {
            let us = |ns: f64| (ns / 10.0).round() / 100.0;
            let pct = |v: &[u64], q: f64| {
                let i = ((v.len() as f64 - 1.0) * q).round() as usize;
                v[i.min(v.len() - 1)] as f64
            };
            let median = |mut v: Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            let p50s: Vec<f64> = self.rounds.iter().map(|r| pct(r, 0.5)).collect();
            let p99s = self.rounds.iter().map(|r| pct(r, 0.99)).collect();
            let means = self
                .rounds
                .iter()
                .map(|r| r.iter().sum::<u64>() as f64 / r.len() as f64)
                .collect();
            let min = self.rounds.iter().map(|r| r[0]).min().unwrap_or(0);
            json!({
                "p50_us": us(median(p50s.clone())),
                "p99_us": us(median(p99s)),
                "mean_us": us(median(means)),
                "min_us": us(min as f64),
                "n": self.rounds.iter().map(Vec::len).sum::<usize>(),
                "rounds": self.rounds.len(),
                "round_p50_us": p50s.into_iter().map(us).collect::<Vec<_>>(),
            })
        }
    }

    fn field(v: &Value, key: &str) -> f64 {
        v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
    }

    #[allow(clippy::type_complexity)]
    fn percentiles(plan: &Plan, sets: &[Loaded]) -> Percentiles {
        let principal = workload::principal();
        let facts = workload::facts();
        let authorizer = Authorizer::new();
        let bodies: Vec<Vec<u8>> = plan
            .prompt_sizes
            .iter()
            .map(|&s| workload::chat_body(s))
            .collect();
        let texts: Vec<String> = plan
            .detector_sizes
            .iter()
            .map(|&s| workload::prose(s))
            .collect();
        let mut full: Vec<Vec<Samples>> = sets
            .iter()
            .map(|_| bodies.iter().map(|_| Samples::default()).collect())
            .collect();
        let mut floor: Vec<Samples> = sets.iter().map(|_| Samples::default()).collect();
        let mut sliced: Vec<Samples> = sets.iter().map(|_| Samples::default()).collect();
        let mut detectors: Vec<Samples> = texts.iter().map(|_| Samples::default()).collect();
        // The stages of the full decision, at 100 policies and 4 KiB.
        let stage_set = sets.iter().find(|l| l.bundle.policy_count() == 100);
        let stage_body = workload::chat_body(4096);
        let mut stages = [Samples::default(), Samples::default()];
        // Rounds interleave the combinations, so slow drift on a shared VM spreads evenly.
        for round in 0..plan.rounds {
            eprintln!("percentile round {}/{}", round + 1, plan.rounds);
            for (s, loaded) in sets.iter().enumerate() {
                for (b, body) in bodies.iter().enumerate() {
                    full[s][b].round(plan.round_time, || {
                        workload::decide(&loaded.bundle, &principal, &facts, body)
                            .is_ok_and(|d| d.is_allowed())
                    });
                }
                floor[s].round(plan.round_time, || {
                    loaded.floor.authorize(&authorizer, &loaded.bundle)
                });
                sliced[s].round(plan.round_time, || {
                    loaded.floor.authorize_sliced(&authorizer)
                });
            }
            if let Some(loaded) = stage_set {
                stages[0].round(plan.round_time, || {
                    workload::parse_and_route(&loaded.bundle, &stage_body)
                });
                stages[1].round(plan.round_time, || {
                    workload::parse_route_and_assess(&loaded.bundle, &stage_body).is_some()
                });
            }
            for (t, text) in texts.iter().enumerate() {
                detectors[t].round(plan.round_time, || {
                    detect::scan_text(text).injection_score < 100
                });
            }
        }

        let mut full_out = Vec::new();
        let mut floor_out = Vec::new();
        let mut slice_out = Vec::new();
        for (s, loaded) in sets.iter().enumerate() {
            let n = loaded.bundle.policy_count();
            let mut f = floor[s].summary();
            f["policies"] = json!(n);
            let mut cut = sliced[s].summary();
            cut["policies"] = json!(n);
            cut["slice_policies"] = json!(loaded.floor.slice.policies().count());
            slice_out.push(cut);
            let floor_p50 = field(&f, "p50_us");
            for (b, body) in bodies.iter().enumerate() {
                let mut v = full[s][b].summary();
                v["policies"] = json!(n);
                v["prompt_bytes"] = json!(plan.prompt_sizes[b]);
                v["body_bytes"] = json!(body.len());
                v["floor_p50_us"] = json!(floor_p50);
                v["ratio_to_floor"] =
                    json!((field(&v, "p50_us") / floor_p50 * 100.0).round() / 100.0);
                full_out.push(v);
            }
            floor_out.push(f);
        }
        let detectors_out = detectors
            .iter()
            .zip(&plan.detector_sizes)
            .map(|(d, &bytes)| {
                let mut v = d.summary();
                v["bytes"] = json!(bytes);
                v
            })
            .collect();
        let mut stages_out: Vec<Value> = ["parse_route", "parse_route_assess"]
            .iter()
            .zip(&stages)
            .filter(|(_, samples)| !samples.rounds.is_empty())
            .map(|(&stage, samples)| {
                let mut v = samples.summary();
                v["stage"] = json!(stage);
                v
            })
            .collect();
        if let Some(full) = full_out
            .iter()
            .find(|v| v["policies"] == json!(100) && v["prompt_bytes"] == json!(4096))
        {
            let mut v = full.clone();
            v["stage"] = json!("full");
            stages_out.push(v);
        }
        for v in &mut stages_out {
            v["policies"] = json!(100);
            v["prompt_bytes"] = json!(4096);
        }
        Percentiles {
            full: full_out,
            floor: floor_out,
            slice: slice_out,
            detectors: detectors_out,
            stages: stages_out,
        }
    }

    struct Percentiles {
        full: Vec<Value>,
        floor: Vec<Value>,
        slice: Vec<Value>,
        detectors: Vec<Value>,
        stages: Vec<Value>,
    }

    /// Resident set size from /proc (Linux); None elsewhere.
    fn rss_bytes() -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }

    /// RSS before and after loading the 1,000-policy set, measured first, in a fresh
    /// process, so earlier allocations do not hide the growth.
    fn memory() -> Value {
        let set = generate::generate(&embedded::source(), 1000).unwrap_or_else(|e| panic!("{e}"));
        let before = rss_bytes();
        let bundle = set.load().unwrap_or_else(|e| panic!("{e}"));
        let after = rss_bytes();
        let value = json!({
            "policies": bundle.policy_count(),
            "policy_bytes": set.policy_bytes(),
            "rss_before_load_bytes": before,
            "rss_after_load_bytes": after,
            "rss_delta_bytes": before.zip(after).map(|(b, a)| a.saturating_sub(b)),
        });
        drop(bundle);
        value
    }

    fn machine() -> Value {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        });
        json!({
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "cpus": std::thread::available_parallelism().map(|n| n.get()).ok(),
            "cpu_model": cpu_model,
        })
    }

    fn results_dir() -> PathBuf {
        std::env::var_os("BENCH_RESULTS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-results")
            })
    }

    pub fn main() {
        let plan = Plan::from_env();
        let memory = memory();
        let sets = load_sets();

        if std::env::var_os("BENCH_SKIP_CRITERION").is_none() {
            let mut criterion = Criterion::default()
                .warm_up_time(plan.warm_up)
                .measurement_time(plan.measurement)
                .sample_size(if plan.quick { 20 } else { 50 })
                .configure_from_args();
            criterion_benches(&mut criterion, &plan, &sets);
            criterion.final_summary();
        }

        let Percentiles {
            full,
            floor,
            slice,
            detectors,
            stages,
        } = percentiles(&plan, &sets);
        let principal = workload::principal();
        let target_p50 = full
            .iter()
            .find(|v| v["policies"] == json!(100) && v["prompt_bytes"] == json!(4096))
            .map(|v| field(v, "p50_us"));
        let report = json!({
            "schema": "llm-policy-gateway/bench-native/v1",
            "mode": if plan.quick { "quick" } else { "full" },
            "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            "machine": machine(),
            "profile": "bench",
            "request": {
                "principal": principal.user,
                "team": principal.team,
                "org": principal.org,
                "tier": principal.tier.id(),
                "model": workload::MODEL,
                "action": workload::ENDPOINT.action(),
                "country": workload::facts().country,
            },
            "policy_sets": sets.iter().map(|l| json!({
                "policies": l.bundle.policy_count(),
                "files": l.set.files.len(),
                "policy_bytes": l.set.policy_bytes(),
                "load_ms": (l.load_ms * 100.0).round() / 100.0,
                "decision": "allow",
                "deciding_policies": l.deciding,
            })).collect::<Vec<_>>(),
            "full_decision": full,
            "cedar_floor": floor,
            "cedar_slice": slice,
            "detectors": detectors,
            "stages": stages,
            "memory": memory,
            "targets": [{
                "name": "full decision p50, 100 policies, 4 KiB prompt (µs)",
                "target": 20.0,
                "measured": target_p50,
                "met": target_p50.map(|p| p <= 20.0),
            }],
        });

        let dir = results_dir();
        let path = dir.join("native.json");
        let written = std::fs::create_dir_all(&dir).and_then(|()| {
            std::fs::write(
                &path,
                serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
            )
        });
        match written {
            Ok(()) => eprintln!("wrote {}", path.display()),
            Err(e) => eprintln!("could not write {}: {e}", path.display()),
        }
        print_table(&report);
    }

    fn print_table(report: &Value) {
        println!("\npolicies  prompt   p50 µs    p99 µs   mean µs  floor p50  ×floor");
        for v in report["full_decision"].as_array().into_iter().flatten() {
            println!(
                "{:>8}  {:>6}  {:>8.1}  {:>8.1}  {:>8.1}  {:>9.2}  {:>6.1}",
                v["policies"].as_u64().unwrap_or(0),
                v["prompt_bytes"].as_u64().unwrap_or(0),
                field(v, "p50_us"),
                field(v, "p99_us"),
                field(v, "mean_us"),
                field(v, "floor_p50_us"),
                field(v, "ratio_to_floor"),
            );
        }
        let slices: Vec<String> = report["cedar_slice"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                format!(
                    "{} → {} policies {:.1} µs",
                    v["policies"],
                    v["slice_policies"],
                    field(v, "p50_us")
                )
            })
            .collect();
        println!("Cedar on the slice p50: {}", slices.join(", "));
        let stages: Vec<String> = report["stages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                format!(
                    "{} {:.1} µs",
                    v["stage"].as_str().unwrap_or("?"),
                    field(v, "p50_us")
                )
            })
            .collect();
        println!("stages p50 (100 policies, 4 KiB): {}", stages.join(", "));
        let m = &report["memory"];
        println!(
            "memory: RSS +{} KiB after a strict load of {} policies",
            m["rss_delta_bytes"].as_u64().unwrap_or(0) / 1024,
            m["policies"]
        );
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

#[cfg(target_arch = "wasm32")]
fn main() {}
