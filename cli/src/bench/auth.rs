//! `iknow bench auth`: what authentication costs. argon2id hashing and verification with the configured
//! parameters (in process), login throughput and latency through the gateway (right and wrong passwords),
//! and the per-request overhead of JWT verification: the same cheap route asked anonymously (the baseline)
//! and with a bearer token, in the same run, plus the verification alone in process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use iknow_common::config::Settings;
use iknow_common::token::{self, Claims};
use reqwest::{Client, StatusCode, Url};
use serde_json::{Value, json};

use super::load::{self, Stop};
use super::stats::{self, Summary};

/// Options of `iknow bench auth`.
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// Base URL of the gateway (started with IKNOW__GATEWAY__RATE_LIMIT_ENABLED=false).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    gateway: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Users registered for the login scenarios.
    #[arg(long, default_value_t = 16)]
    users: usize,
    /// argon2id hashes timed in process.
    #[arg(long, default_value_t = 20)]
    hashes: usize,
}

/// Milliseconds of each timed call, sorted; with percentiles.
struct Timings(Vec<f64>);

impl Timings {
    fn new(mut ms: Vec<f64>) -> Self {
        ms.sort_by(f64::total_cmp);
        Self(ms)
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    fn line(&self, what: &str) -> String {
        format!(
            "{what}: median {:.1} ms, p99 {:.1} ms over {} runs",
            self.percentile(50.0),
            self.percentile(99.0),
            self.0.len()
        )
    }
}

pub async fn run(a: AuthArgs) -> anyhow::Result<()> {
    let settings = Settings::load(None)?;
    let identity: user_identity::Config = settings.section("identity").context("[identity]")?;
    let lines = argon2_timings(&identity, a.hashes).await?;

    let base = Url::parse(&a.gateway).context("--gateway is not a URL")?;
    let client = load::http_client(a.concurrency)?;
    let duration = Duration::from_secs(a.duration_secs);
    let run_id = uuid::Uuid::now_v7().simple().to_string();
    let password = "Bench-Passw0rd!";
    let mut logins = Vec::with_capacity(a.users);
    for i in 0..a.users.max(1) {
        let username = format!("bench_{}_{i}", &run_id[run_id.len() - 10..]);
        register(&client, &base, &username, password).await?;
        logins.push(username);
    }
    let logins = Arc::new(logins);
    let token = login(&client, &base, &logins[0], password).await?;
    let actor_url = some_actor(&client, &base).await?;

    let mut rows = Vec::new();
    println!("login: {} tasks for {}s...", a.concurrency, a.duration_secs);
    rows.push(login_loop("login", &client, &base, &logins, password, a.concurrency, duration).await);
    println!("login with a wrong password: {} tasks for {}s...", a.concurrency, a.duration_secs);
    rows.push(
        login_loop("login-wrong-password", &client, &base, &logins, "Wrong-Passw0rd!", a.concurrency, duration).await,
    );

    let urls = Arc::new(vec![actor_url]);
    load::closed_loop("warmup", a.concurrency, Stop::Requests(200), load::get_urls(client.clone(), urls.clone())).await;
    println!("get-actor anonymous / with a bearer token: {} tasks for {}s each...", a.concurrency, a.duration_secs);
    let anonymous = load::closed_loop(
        "get-actor anonymous",
        a.concurrency,
        Stop::After(duration),
        load::get_urls(client.clone(), urls.clone()),
    )
    .await;
    let bearer = load::closed_loop(
        "get-actor bearer",
        a.concurrency,
        Stop::After(duration),
        load::get_urls_as(client.clone(), urls.clone(), Some(token.clone())),
    )
    .await;
    let me = load::closed_loop(
        "users/me",
        a.concurrency,
        Stop::After(duration),
        load::get_urls_as(client.clone(), Arc::new(vec![base.join("api/v1/users/me")?]), Some(token.clone())),
    )
    .await;
    let overhead = overhead_line(&anonymous, &bearer);
    rows.extend([anonymous, bearer, me]);
    let verify = verify_cost()?;

    let all: Vec<String> = lines.iter().cloned().chain([overhead, verify]).collect();
    stats::print_report(&rows, &all);
    Ok(())
}

/// Hash time, and verification time of a right password, a wrong one and an unknown user (the dummy hash).
async fn argon2_timings(c: &user_identity::Config, n: usize) -> anyhow::Result<Vec<String>> {
    let hasher = user_identity::password::Hasher::new(c.argon2_memory_kib, c.argon2_iterations, c.argon2_parallelism)?;
    let params =
        format!("argon2id m={} KiB, t={}, p={}", c.argon2_memory_kib, c.argon2_iterations, c.argon2_parallelism);
    println!("timing {params}: {n} hashes and verifications...");
    let (mut hash_ms, mut right_ms, mut wrong_ms, mut unknown_ms) = (vec![], vec![], vec![], vec![]);
    let mut stored = String::new();
    for _ in 0..n.max(1) {
        let t = Instant::now();
        stored = hasher.hash("Correct-Horse-1".into()).await?;
        hash_ms.push(ms(t));
    }
    for _ in 0..n.max(1) {
        let t = Instant::now();
        anyhow::ensure!(hasher.verify("Correct-Horse-1".into(), Some(stored.clone())).await?, "verification failed");
        right_ms.push(ms(t));
        let t = Instant::now();
        anyhow::ensure!(!hasher.verify("Wrong-Horse-1".into(), Some(stored.clone())).await?);
        wrong_ms.push(ms(t));
        let t = Instant::now();
        anyhow::ensure!(!hasher.verify("Wrong-Horse-1".into(), None).await?);
        unknown_ms.push(ms(t));
    }
    Ok(vec![
        Timings::new(hash_ms).line(&format!("{params}: hash")),
        Timings::new(right_ms).line("verify, right password"),
        Timings::new(wrong_ms).line("verify, wrong password"),
        Timings::new(unknown_ms).line("verify, unknown user (dummy hash)"),
    ])
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

pub(super) async fn register(client: &Client, base: &Url, username: &str, password: &str) -> anyhow::Result<()> {
    let body = json!({
        "email": format!("{username}@bench.example.com"),
        "username": username,
        "password": password,
        "acceptTerms": true,
    });
    let resp = client.post(base.join("api/v1/users/register")?).json(&body).send().await?;
    match resp.status() {
        StatusCode::CREATED => Ok(()),
        StatusCode::TOO_MANY_REQUESTS => {
            bail!("the gateway rate-limits registration: start it with IKNOW__GATEWAY__RATE_LIMIT_ENABLED=false")
        }
        s => bail!("registering a bench user answered {s}: {}", resp.text().await.unwrap_or_default()),
    }
}

pub(super) async fn login(client: &Client, base: &Url, login: &str, password: &str) -> anyhow::Result<String> {
    let resp = client
        .post(base.join("api/v1/auth/login")?)
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await?;
    let status = resp.status();
    let body: Value = resp.json().await?;
    body["data"]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("login answered {status} without a token"))
}

/// The URL of one actor of the catalogue (any).
async fn some_actor(client: &Client, base: &Url) -> anyhow::Result<Url> {
    let mut url = base.join("api/v1/actors/search")?;
    url.query_pairs_mut().append_pair("q", "a").append_pair("limit", "1");
    let body: Value = client.get(url).send().await?.error_for_status()?.json().await?;
    let id = body["data"][0]["id"].as_str().context("the catalogue is empty: import a dataset first")?;
    Ok(base.join(&format!("api/v1/actors/{id}"))?)
}

async fn login_loop(
    name: &str,
    client: &Client,
    base: &Url,
    logins: &Arc<Vec<String>>,
    password: &str,
    concurrency: usize,
    duration: Duration,
) -> Summary {
    let url = base.join("api/v1/auth/login").expect("valid path");
    let (client, logins, password) = (client.clone(), logins.clone(), password.to_owned());
    // A wrong password succeeds as a request when it gets its 401.
    let expect = if name == "login" { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
    load::closed_loop(name, concurrency, Stop::After(duration), move |i| {
        let (client, url) = (client.clone(), url.clone());
        let body = json!({ "login": logins[(i as usize) % logins.len()], "password": password });
        async move {
            match client.post(url).json(&body).send().await {
                Ok(resp) => resp.status() == expect && resp.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await
}

/// How much a bearer token adds to the same request: latency and throughput against the anonymous baseline.
fn overhead_line(anonymous: &Summary, bearer: &Summary) -> String {
    let ratio = if bearer.throughput() > 0.0 { anonymous.throughput() / bearer.throughput() } else { 0.0 };
    format!(
        "JWT verification through the gateway: p50 {:+.3} ms, p99 {:+.3} ms, throughput anonymous/bearer x{ratio:.3}",
        bearer.p50_ms - anonymous.p50_ms,
        bearer.p99_ms - anonymous.p99_ms,
    )
}

/// HS256 verification alone, in process: microseconds per token.
fn verify_cost() -> anyhow::Result<String> {
    let secret = "bench-secret-bench-secret-bench-secret";
    let now = chrono_now();
    let claims = Claims {
        sub: uuid::Uuid::now_v7().to_string(),
        exp: now + 900,
        iat: now,
        jti: uuid::Uuid::now_v7().to_string(),
        tier: "free".into(),
        tier_expires: None,
        typ: token::ACCESS_TYPE.into(),
    };
    let jwt = token::issue_access_token(&claims, secret)?;
    let n = 100_000u32;
    let started = Instant::now();
    for _ in 0..n {
        std::hint::black_box(token::verify_access_token(std::hint::black_box(&jwt), secret))?;
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    Ok(format!("verify_access_token in process: {per:.2} µs per token ({n} tokens)"))
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_over_the_sorted_timings() {
        let t = Timings::new((1..=10).rev().map(f64::from).collect());
        assert_eq!(t.0, (1..=10).map(f64::from).collect::<Vec<_>>(), "sorted");
        assert_eq!((t.percentile(50.0), t.percentile(90.0), t.percentile(99.0)), (5.0, 9.0, 10.0));
        assert_eq!((t.percentile(0.0), t.percentile(100.0)), (1.0, 10.0), "the ends clamp to the first and last");
        assert_eq!(Timings::new(vec![]).percentile(50.0), 0.0, "nothing timed");
        let one = Timings::new(vec![4.2]);
        assert_eq!((one.percentile(1.0), one.percentile(99.0)), (4.2, 4.2));
        let ties = Timings::new(vec![3.0, 1.0, 3.0, 3.0]);
        assert_eq!((ties.percentile(25.0), ties.percentile(50.0)), (1.0, 3.0));
        assert_eq!(t.line("hash"), "hash: median 5.0 ms, p99 10.0 ms over 10 runs");
    }

    #[test]
    fn the_bearer_overhead_is_against_the_anonymous_baseline() {
        let at = |requests: u64, p50_ms: f64, p99_ms: f64| Summary {
            scenario: "s".into(),
            concurrency: 1,
            requests,
            errors: 0,
            elapsed: Duration::from_secs(1),
            p50_ms,
            p95_ms: p99_ms,
            p99_ms,
            max_ms: p99_ms,
        };
        assert_eq!(
            overhead_line(&at(1000, 1.0, 2.0), &at(800, 1.25, 1.5)),
            "JWT verification through the gateway: p50 +0.250 ms, p99 -0.500 ms, throughput anonymous/bearer x1.250"
        );
        assert!(overhead_line(&at(1000, 1.0, 2.0), &at(0, 0.0, 0.0)).ends_with("x0.000"), "no bearer throughput");
    }
}
