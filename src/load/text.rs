//! The text of realistic agent traffic: prose assembled from sentence templates and word lists
//! (varied enough that gzip finds about what it finds in real chat text, ≈ 2.5–3×), code, JSON
//! records and log lines for tool results, and synthetic PII and secrets in the formats the
//! vendors document (Luhn-valid cards, IBANs with their check digits, JWTs, PEM blocks…).
//!
//! Benign text avoids what the default packs would rightly flag (IP addresses, long digit runs,
//! `password=`), so a load with `--pii-fraction 0` has nothing to redact and the fraction asked
//! is the fraction the scrubber finds.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

/// What an agent works on: its nouns, and the tools it calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    Support,
    Coding,
    Analytics,
    Travel,
    Incident,
    Research,
}

impl Domain {
    pub const ALL: [Domain; 6] = [
        Domain::Support,
        Domain::Coding,
        Domain::Analytics,
        Domain::Travel,
        Domain::Incident,
        Domain::Research,
    ];

    pub fn nouns(self) -> &'static [&'static str] {
        match self {
            Domain::Support => &[
                "order",
                "refund",
                "invoice",
                "subscription",
                "account",
                "shipment",
                "package",
                "warranty",
                "return label",
                "delivery window",
                "billing address",
                "plan",
                "discount code",
                "loyalty tier",
                "replacement",
                "support ticket",
                "receipt",
                "payment method",
                "cancellation",
                "store credit",
                "tracking number",
                "courier",
            ],
            Domain::Coding => &[
                "function",
                "module",
                "test suite",
                "pull request",
                "branch",
                "dependency",
                "build",
                "compiler error",
                "stack trace",
                "migration",
                "endpoint",
                "handler",
                "config file",
                "lint warning",
                "race condition",
                "benchmark",
                "refactor",
                "type signature",
                "null check",
                "retry loop",
                "cache layer",
                "release",
            ],
            Domain::Analytics => &[
                "dashboard",
                "cohort",
                "funnel",
                "retention curve",
                "query",
                "table",
                "metric",
                "segment",
                "conversion rate",
                "weekly active users",
                "revenue",
                "forecast",
                "quarter",
                "pivot",
                "anomaly",
                "baseline",
                "sample",
                "confidence interval",
                "churn",
                "attribution model",
                "data warehouse",
                "schema",
            ],
            Domain::Travel => &[
                "flight",
                "itinerary",
                "hotel",
                "booking",
                "layover",
                "seat",
                "fare class",
                "check-in",
                "boarding pass",
                "rental car",
                "visa requirement",
                "reservation",
                "cancellation policy",
                "loyalty points",
                "connection",
                "gate",
                "baggage",
                "room upgrade",
                "travel insurance",
                "departure time",
                "arrival",
                "transfer",
            ],
            Domain::Incident => &[
                "alert",
                "deployment",
                "rollback",
                "latency spike",
                "error budget",
                "pod",
                "node",
                "runbook",
                "postmortem",
                "on-call rotation",
                "load balancer",
                "queue",
                "disk pressure",
                "memory leak",
                "health check",
                "canary",
                "replica",
                "timeout",
                "circuit breaker",
                "incident channel",
                "status page",
                "dependency",
            ],
            Domain::Research => &[
                "paper",
                "citation",
                "abstract",
                "experiment",
                "dataset",
                "hypothesis",
                "method",
                "result",
                "ablation",
                "survey",
                "benchmark",
                "literature review",
                "figure",
                "appendix",
                "claim",
                "limitation",
                "related work",
                "baseline",
                "evaluation",
                "reviewer comment",
                "draft",
                "summary",
            ],
        }
    }

    pub fn role(self) -> &'static str {
        match self {
            Domain::Support => "a customer support assistant for an online retailer",
            Domain::Coding => "a senior software engineer pairing with a developer",
            Domain::Analytics => "a data analyst who answers questions about business metrics",
            Domain::Travel => "a travel booking assistant for a corporate travel desk",
            Domain::Incident => "an on-call SRE assistant helping during production incidents",
            Domain::Research => "a research assistant who reads and summarises papers",
        }
    }

    pub fn tools(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Domain::Support => &[
                (
                    "lookup_order",
                    "Find an order by its number and return its status and items.",
                ),
                (
                    "issue_refund",
                    "Refund all or part of an order to the original payment method.",
                ),
                (
                    "search_kb",
                    "Search the help-center articles for a question.",
                ),
                (
                    "update_address",
                    "Change the shipping address of an order not yet shipped.",
                ),
                ("create_ticket", "Open a ticket for the human support team."),
            ],
            Domain::Coding => &[
                ("read_file", "Read a file of the repository."),
                (
                    "run_tests",
                    "Run the test suite or one test and return the output.",
                ),
                ("grep", "Search the repository for a pattern."),
                ("apply_patch", "Apply a unified diff to the working tree."),
                (
                    "run_command",
                    "Run a shell command in the sandbox and return its output.",
                ),
            ],
            Domain::Analytics => &[
                (
                    "run_sql",
                    "Run a read-only SQL query against the warehouse.",
                ),
                ("describe_table", "Return the columns and types of a table."),
                ("plot_series", "Render a time series as a chart."),
                (
                    "get_metric",
                    "Fetch a metric's daily values for a date range.",
                ),
            ],
            Domain::Travel => &[
                (
                    "search_flights",
                    "Search flights between two airports on a date.",
                ),
                ("book_flight", "Book a flight offer for a traveller."),
                (
                    "search_hotels",
                    "Search hotels near a place for a date range.",
                ),
                (
                    "get_policy",
                    "Return the company's travel policy for a trip type.",
                ),
            ],
            Domain::Incident => &[
                (
                    "query_logs",
                    "Search the log store for a service and time range.",
                ),
                (
                    "get_metrics",
                    "Fetch a service's golden signals for a time range.",
                ),
                ("list_deploys", "List recent deployments of a service."),
                ("rollback", "Roll a service back to a previous release."),
                ("page_oncall", "Page the on-call engineer of a team."),
            ],
            Domain::Research => &[
                ("search_papers", "Search a paper index for a query."),
                ("fetch_pdf", "Download a paper and return its text."),
                ("summarize", "Summarise a long text into bullet points."),
                ("cite", "Format a citation in a given style."),
            ],
        }
    }
}

const OPENERS: &[&str] = &[
    "Sure,",
    "Thanks for the details.",
    "Good question.",
    "I checked this for you.",
    "Here is what I found.",
    "Understood.",
    "Okay,",
    "Let me walk through it.",
    "Short answer:",
    "Happy to help.",
    "Right,",
    "I looked into it,",
    "Quick update:",
    "Got it.",
    "As requested,",
    "Based on the records,",
    "From what I can see,",
    "One thing first:",
    "To be precise,",
    "In short,",
    "Unfortunately,",
    "Good news:",
    "For context,",
    "After checking,",
];

/// Word lists, space-separated (split once).
const NOUNS: &str = "account address agreement amount answer approach area article attempt \
    balance batch bill board branch budget bug call campaign card case category change channel \
    chart check choice claim client code column comment company condition contract copy cost \
    count customer date deadline decision default delay delivery department description detail \
    device difference discount document draft duration email employee entry error estimate event \
    exception expense export factor fee field file filter flag flow form format issue item job \
    key label layer level limit line link list location log manager margin message method \
    milestone mistake mode model month name network note notice number offer option order \
    output owner package page partner password path payment percentage period permission phase \
    plan platform point policy position price priority problem process product profile project \
    proposal quality quantity question queue range rate reason receipt record region release \
    reminder report request requirement resource response result review risk role rule run \
    schedule scope screen section segment sequence server service session setting size snapshot \
    source space standard state statement status step storage strategy structure summary supplier \
    support system table target task team template term test thread ticket timeline topic total \
    track transaction transfer trend trial type unit update upgrade usage user value vendor \
    version view volume warning week window workflow workspace";
const VERBS3: &str = "accepts adds affects allows applies approves assigns blocks breaks brings \
    builds calculates cancels captures changes checks clears closes collects combines compares \
    completes confirms contains controls converts copies covers creates defines delays deletes \
    delivers depends describes detects disables displays drops enables ends ensures estimates \
    exceeds excludes expects explains exports extends fails fetches fills filters finds fixes \
    follows generates groups handles hides holds ignores improves includes increases indicates \
    keeps limits lists loads locks logs maps marks matches measures merges misses moves needs \
    notifies opens overrides passes pauses points prevents produces protects publishes pulls \
    pushes reads receives records reduces refers rejects releases removes renames repeats \
    replaces reports requires resets resolves restores returns reuses reverts runs saves scans \
    selects sends separates shows skips sorts splits starts stops stores submits supports \
    syncs takes tracks transfers triggers updates uses validates verifies writes";
const VERBS: &str = "accept add adjust apply approve archive assign book build cancel change \
    check clean close collect compare confirm copy create delete disable double-check enable \
    escalate estimate export extend fix flag forward group hold import include increase limit \
    list lock merge migrate move notify open pause prepare publish raise recheck reduce refresh \
    remove rename reopen replace request reschedule reset resolve restore retry review revert \
    run schedule send share skip sort split start stop submit summarise switch sync test track \
    update upgrade validate verify";
const ADJS: &str = "active actual additional annual applicable approved available average basic \
    broken careful central cheaper clean common complete consistent correct critical current \
    daily default detailed different direct duplicate early easy effective empty entire equal \
    exact existing expected expensive external extra faster final financial first fixed flexible \
    formal former free frequent full general global gradual high immediate important incorrect \
    independent individual initial internal invalid large last late latest legal limited local \
    long low main major manual matching maximum minimal minor missing monthly multiple narrow \
    necessary negative new next normal obvious official old open optional original outdated \
    overall partial pending permanent personal positive possible potential practical preferred \
    previous primary prior private proper public quick rare ready real recent regular related \
    relevant remote repeated required reserved right rough safe same scheduled secondary secure \
    separate serious shared short significant similar simple single slow small smooth specific \
    stable standard strict strong successful sudden suitable temporary total typical unexpected \
    unusual upcoming urgent useful valid visible weekly whole wide wrong yearly";
const ADVS: &str = "usually probably already still only also currently again finally quickly \
    carefully clearly roughly directly automatically recently normally actually likely \
    temporarily fully partly manually easily rarely often sometimes immediately eventually \
    slightly mostly nearly simply";
const PREPS: &str = "for with after before during without about from across under behind \
    through within since against between beyond toward via per";
const DETS: &str = "the the the a this that your our each every another their its";

struct Lists {
    nouns: Vec<&'static str>,
    verbs3: Vec<&'static str>,
    verbs: Vec<&'static str>,
    adjs: Vec<&'static str>,
    advs: Vec<&'static str>,
    preps: Vec<&'static str>,
    dets: Vec<&'static str>,
}

fn lists() -> &'static Lists {
    static L: std::sync::OnceLock<Lists> = std::sync::OnceLock::new();
    L.get_or_init(|| Lists {
        nouns: NOUNS.split_whitespace().collect(),
        verbs3: VERBS3.split_whitespace().collect(),
        verbs: VERBS.split_whitespace().collect(),
        adjs: ADJS.split_whitespace().collect(),
        advs: ADVS.split_whitespace().collect(),
        preps: PREPS.split_whitespace().collect(),
        dets: DETS.split_whitespace().collect(),
    })
}

const TIMES: &[&str] = &[
    "today",
    "yesterday",
    "this morning",
    "last week",
    "next Monday",
    "by Friday",
    "within two business days",
    "at the end of the month",
    "in the next release",
    "over the weekend",
    "since the last deploy",
    "earlier this quarter",
    "in about an hour",
    "before the cutoff",
    "after lunch",
    "tomorrow afternoon",
    "on Tuesday",
    "last night",
    "for the last three days",
    "until further notice",
];

pub(super) const NAMES: &[&str] = &[
    "Maria", "James", "Aiko", "Lukas", "Priya", "Omar", "Chen", "Sofia", "Mateo", "Fatima", "Noah",
    "Ingrid", "Kwame", "Elena", "Ravi", "Hannah", "Diego", "Yuki", "Amara", "Tomasz", "Olivia",
    "Arjun", "Leila", "Marcus", "Nadia", "Pierre", "Sven", "Zara", "Hiroshi", "Grace",
];

const CONNECTORS: &[&str] = &[
    ", and",
    ", but",
    ", so",
    " because",
    " while",
    " although",
    " since",
    " unless",
    ", which means",
    " as long as",
    " even though",
    ", so that",
];

fn pick<'a>(rng: &mut StdRng, l: &[&'a str]) -> &'a str {
    l.choose(rng).copied().unwrap_or("")
}

/// A noun phrase: a determiner, maybe an adjective, a noun of the domain or of everyday work.
fn noun_phrase(rng: &mut StdRng, domain: Domain, out: &mut String) {
    let l = lists();
    match rng.gen_range(0..10) {
        0 => out.push_str(pick(rng, NAMES)),
        1 => out.push_str(pick(
            rng,
            &["it", "they", "we", "you", "everyone", "nobody"],
        )),
        _ => {
            out.push_str(pick(rng, &l.dets));
            out.push(' ');
            if rng.gen_bool(0.45) {
                out.push_str(pick(rng, &l.adjs));
                out.push(' ');
            }
            if rng.gen_bool(0.5) {
                out.push_str(pick(rng, domain.nouns()));
            } else {
                out.push_str(pick(rng, &l.nouns));
            }
        }
    }
}

fn clause(rng: &mut StdRng, domain: Domain, out: &mut String) {
    let l = lists();
    noun_phrase(rng, domain, out);
    // "it"/"they"/names take the same verb forms here; agents' English is not graded.
    out.push(' ');
    match rng.gen_range(0..6) {
        0 => {
            out.push_str(pick(
                rng,
                &["is", "was", "looks", "seems", "stays", "became"],
            ));
            out.push(' ');
            if rng.gen_bool(0.3) {
                out.push_str(pick(rng, &l.advs));
                out.push(' ');
            }
            out.push_str(pick(rng, &l.adjs));
        }
        1 => {
            out.push_str(pick(
                rng,
                &["will", "should", "can", "might", "must", "could"],
            ));
            out.push(' ');
            out.push_str(pick(rng, &l.verbs));
            out.push(' ');
            noun_phrase(rng, domain, out);
        }
        _ => {
            if rng.gen_bool(0.3) {
                out.push_str(pick(rng, &l.advs));
                out.push(' ');
            }
            out.push_str(pick(rng, &l.verbs3));
            out.push(' ');
            noun_phrase(rng, domain, out);
        }
    }
    match rng.gen_range(0..8) {
        0..=2 => {
            out.push(' ');
            out.push_str(pick(rng, &l.preps));
            out.push(' ');
            noun_phrase(rng, domain, out);
        }
        3 => {
            out.push(' ');
            out.push_str(pick(rng, TIMES));
        }
        4 => {
            let n: u32 = rng.gen_range(2..500);
            out.push_str(&format!(
                " by {n} {}",
                pick(
                    rng,
                    &["percent", "items", "days", "hours", "users", "records"]
                )
            ));
        }
        _ => {}
    }
}

fn capitalise_from(out: &mut String, start: usize) {
    if let Some(c) = out[start..].chars().next() {
        if c.is_lowercase() {
            let up: String = c.to_uppercase().collect();
            out.replace_range(start..start + c.len_utf8(), &up);
        }
    }
}

fn sentence(rng: &mut StdRng, domain: Domain, out: &mut String) {
    let start = out.len();
    clause(rng, domain, out);
    if rng.gen_bool(0.35) {
        out.push_str(pick(rng, CONNECTORS));
        out.push(' ');
        clause(rng, domain, out);
    }
    capitalise_from(out, start);
    out.push('.');
}

fn question(rng: &mut StdRng, domain: Domain, out: &mut String) {
    let l = lists();
    let start = out.len();
    match rng.gen_range(0..5) {
        0 => {
            out.push_str(pick(rng, &["can you", "could you", "please", "would you"]));
            out.push(' ');
            out.push_str(pick(rng, &l.verbs));
            out.push(' ');
            noun_phrase(rng, domain, out);
            if rng.gen_bool(0.5) {
                out.push(' ');
                out.push_str(pick(rng, &l.preps));
                out.push(' ');
                noun_phrase(rng, domain, out);
            }
        }
        1 => {
            out.push_str(pick(rng, &["why", "when", "how often", "where"]));
            out.push_str(pick(rng, &[" does ", " did ", " will "]));
            noun_phrase(rng, domain, out);
            out.push(' ');
            out.push_str(pick(rng, &l.verbs));
            out.push(' ');
            noun_phrase(rng, domain, out);
        }
        2 => {
            out.push_str(pick(rng, &["what is", "what was", "which is", "where is"]));
            out.push(' ');
            noun_phrase(rng, domain, out);
            out.push(' ');
            out.push_str(pick(rng, &l.preps));
            out.push(' ');
            noun_phrase(rng, domain, out);
        }
        3 => {
            out.push_str(pick(rng, &["is", "was", "should"]));
            out.push(' ');
            noun_phrase(rng, domain, out);
            out.push(' ');
            out.push_str(pick(rng, &l.adjs));
            out.push(' ');
            out.push_str(pick(rng, TIMES));
        }
        _ => {
            out.push_str(pick(
                rng,
                &[
                    "I need to",
                    "we have to",
                    "I want to",
                    "my manager asked me to",
                ],
            ));
            out.push(' ');
            out.push_str(pick(rng, &l.verbs));
            out.push(' ');
            noun_phrase(rng, domain, out);
            out.push_str(", can you help");
        }
    }
    capitalise_from(out, start);
    out.push('?');
}

/// Prose of about `bytes` bytes for an agent's domain: questions for the user's turn, answers
/// otherwise. Sentences are put together from a small grammar over a few hundred words each of
/// nouns, verbs and adjectives, so text is varied and compresses about as English does.
pub fn prose(rng: &mut StdRng, domain: Domain, bytes: usize, asking: bool) -> String {
    let mut out = String::with_capacity(bytes + 160);
    if asking {
        question(rng, domain, &mut out);
    } else if rng.gen_bool(0.6) {
        out.push_str(pick(rng, OPENERS));
    }
    while out.len() < bytes {
        if !out.is_empty() {
            // Paragraphs, now and then, as the models write them.
            out.push_str(if rng.gen_bool(0.12) { "\n\n" } else { " " });
        }
        if asking && rng.gen_bool(0.3) {
            question(rng, domain, &mut out);
        } else {
            sentence(rng, domain, &mut out);
        }
    }
    out
}

/// A short reference as agents quote them (`ORD-48213`, `INC-2291`): benign ids.
pub fn reference(rng: &mut StdRng) -> String {
    let p = ["ORD", "INC", "TKT", "PR", "JIRA", "BK", "RUN"]
        .choose(rng)
        .copied()
        .unwrap_or("ID");
    format!("{p}-{}", rng.gen_range(1000..99999))
}

fn ident(rng: &mut StdRng, domain: Domain) -> String {
    let n = domain.nouns().choose(rng).copied().unwrap_or("item");
    let v = [
        "get", "load", "parse", "build", "check", "update", "find", "merge", "render",
    ]
    .choose(rng)
    .copied()
    .unwrap_or("get");
    format!("{v}_{}", n.replace([' ', '-'], "_"))
}

/// A code excerpt (Python or Rust) of about `bytes` bytes, as `read_file` or a diff returns it.
pub fn code(rng: &mut StdRng, domain: Domain, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 200);
    let python = rng.gen_bool(0.6);
    if python {
        out.push_str("import logging\nfrom dataclasses import dataclass\n\nlog = logging.getLogger(__name__)\n\n");
    } else {
        out.push_str("use std::collections::HashMap;\n\n");
    }
    while out.len() < bytes {
        let f = ident(rng, domain);
        let a = ident(rng, domain);
        let limit = rng.gen_range(2..64);
        if python {
            out.push_str(&format!(
                "def {f}(items, limit={limit}):\n    \"\"\"{}\"\"\"\n    result = []\n    for item in items[:limit]:\n        if item.get(\"{}\") is None:\n            log.warning(\"skipping %s: no {}\", item.get(\"id\"))\n            continue\n        result.append({a}(item))\n    return result\n\n",
                capitalised_line(rng, domain),
                domain.nouns().choose(rng).copied().unwrap_or("id").replace(' ', "_"),
                domain.nouns().choose(rng).copied().unwrap_or("id"),
            ));
        } else {
            out.push_str(&format!(
                "/// {}\npub fn {f}(items: &[Item], limit: usize) -> Result<Vec<Out>, Error> {{\n    let mut seen = HashMap::new();\n    for item in items.iter().take(limit.min({limit})) {{\n        if let Some(prev) = seen.insert(item.id, item) {{\n            return Err(Error::Duplicate(prev.id));\n        }}\n    }}\n    items.iter().map({a}).collect()\n}}\n\n",
                capitalised_line(rng, domain),
            ));
        }
    }
    out
}

fn capitalised_line(rng: &mut StdRng, domain: Domain) -> String {
    let mut s = String::new();
    sentence(rng, domain, &mut s);
    s
}

/// JSON records of about `bytes` bytes, as a lookup or a query returns them.
pub fn json_records(rng: &mut StdRng, domain: Domain, bytes: usize) -> String {
    let mut rows = Vec::new();
    let mut len = 0;
    while len < bytes {
        let row = serde_json::json!({
            "id": reference(rng),
            "status": (["open", "closed", "pending", "shipped", "failed", "active"].choose(rng)),
            "kind": domain.nouns().choose(rng),
            "owner": NAMES.choose(rng),
            "updated_at": timestamp(rng),
            "amount": (rng.gen_range(100..500_000) as f64) / 100.0,
            "count": rng.gen_range(0..500),
            "note": capitalised_line(rng, domain),
            "tags": [(pick(rng, &lists().adjs)), (pick(rng, &lists().adjs))],
        });
        let s = row.to_string();
        len += s.len() + 1;
        rows.push(row);
    }
    serde_json::json!({"results": rows, "total": rows.len(), "next_page": null}).to_string()
}

pub fn timestamp(rng: &mut StdRng) -> String {
    format!(
        "2026-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        rng.gen_range(1..13),
        rng.gen_range(1..29),
        rng.gen_range(0..24),
        rng.gen_range(0..60),
        rng.gen_range(0..60),
        rng.gen_range(0..1000)
    )
}

/// Application log lines of about `bytes` bytes, as `query_logs` or `run_tests` returns them.
pub fn log_lines(rng: &mut StdRng, domain: Domain, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 200);
    let services = [
        "api-gateway",
        "checkout",
        "worker",
        "scheduler",
        "auth",
        "search",
    ];
    while out.len() < bytes {
        let level = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]
            .choose(rng)
            .copied()
            .unwrap_or("INFO");
        let svc = services.choose(rng).copied().unwrap_or("api");
        out.push_str(&format!(
            "{} {level:<5} {svc}[{}]: {} {} latency_ms={} status={} request_id={:016x}\n",
            timestamp(rng),
            rng.gen_range(1..64),
            ident(rng, domain),
            [
                "completed",
                "retrying",
                "timed out",
                "started",
                "queued",
                "failed"
            ]
            .choose(rng)
            .copied()
            .unwrap_or("done"),
            rng.gen_range(1..3000),
            [200, 200, 200, 201, 404, 429, 500, 503]
                .choose(rng)
                .copied()
                .unwrap_or(200),
            rng.gen::<u64>(),
        ));
    }
    out
}
