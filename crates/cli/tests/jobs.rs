//! `kiln jobs` end to end against a small fake workspace (axum on 127.0.0.1:0).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kiln_cli::backoff::{FixedJitter, Jitter};
use kiln_cli::client::{Clock, ManualClock, SystemClock};
use kiln_cli::error::Exit;
use kiln_cli::{Environment, parse_args, run_with};
use serde_json::{Value, json};

/// One canned answer of `runs/get`.
#[derive(Clone)]
enum Answer {
    Json(Value),
    Status { status: StatusCode, retry_after: Option<&'static str>, body: Value },
}

#[derive(Default)]
struct Fake {
    /// `runs/get` answers in order; the last one repeats.
    runs_get: VecDeque<Answer>,
    /// `runs/get-output` answers by run id.
    outputs: HashMap<i64, Value>,
    /// What `run-now` answers instead of a run, if set.
    run_now_error: Option<(StatusCode, Value)>,
    /// Advance this clock by an hour when `runs/get` is asked the n-th time (1-based).
    expire_tokens_at_poll: Option<(usize, Arc<ManualClock>)>,
    // Recorded.
    requests: Vec<String>,
    bodies: Vec<Value>,
    bearers: Vec<String>,
    token_requests: usize,
    token_basic_auth: Vec<String>,
    token_forms: Vec<HashMap<String, String>>,
    polls: usize,
}

type Shared = Arc<Mutex<Fake>>;

fn bearer(headers: &HeaderMap) -> String {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

async fn run_now(State(fake): State<Shared>, headers: HeaderMap, body: axum::Json<Value>) -> Response {
    let mut fake = fake.lock().unwrap();
    fake.requests.push("POST run-now".into());
    fake.bearers.push(bearer(&headers));
    fake.bodies.push(body.0);
    if let Some((status, body)) = fake.run_now_error.clone() {
        return (status, axum::Json(body)).into_response();
    }
    axum::Json(json!({"run_id": 100, "number_in_job": 1})).into_response()
}

async fn submit(State(fake): State<Shared>, headers: HeaderMap, body: axum::Json<Value>) -> Response {
    let mut fake = fake.lock().unwrap();
    fake.requests.push("POST runs/submit".into());
    fake.bearers.push(bearer(&headers));
    fake.bodies.push(body.0);
    axum::Json(json!({"run_id": 200})).into_response()
}

async fn runs_get(State(fake): State<Shared>, headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> Response {
    let mut fake = fake.lock().unwrap();
    fake.polls += 1;
    let poll = fake.polls;
    fake.requests.push(format!("GET runs/get {}", query.get("run_id").cloned().unwrap_or_default()));
    fake.bearers.push(bearer(&headers));
    if let Some((at, clock)) = &fake.expire_tokens_at_poll
        && *at == poll
    {
        clock.advance(Duration::from_secs(3600));
    }
    let answer = if fake.runs_get.len() > 1 { fake.runs_get.pop_front() } else { fake.runs_get.front().cloned() };
    match answer.expect("a runs/get answer") {
        Answer::Json(value) => axum::Json(value).into_response(),
        Answer::Status { status, retry_after, body } => {
            let mut response = (status, axum::Json(body)).into_response();
            if let Some(value) = retry_after {
                response.headers_mut().insert(header::RETRY_AFTER, value.parse().unwrap());
            }
            response
        }
    }
}

async fn get_output(State(fake): State<Shared>, headers: HeaderMap, Query(query): Query<HashMap<String, String>>) -> Response {
    let mut fake = fake.lock().unwrap();
    let run_id: i64 = query.get("run_id").and_then(|r| r.parse().ok()).unwrap_or(-1);
    fake.requests.push(format!("GET runs/get-output {run_id}"));
    fake.bearers.push(bearer(&headers));
    match fake.outputs.get(&run_id) {
        Some(output) => axum::Json(output.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, axum::Json(json!({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such run"}))).into_response(),
    }
}

async fn token(State(fake): State<Shared>, headers: HeaderMap, form: axum::Form<HashMap<String, String>>) -> Response {
    let mut fake = fake.lock().unwrap();
    fake.token_requests += 1;
    let n = fake.token_requests;
    fake.requests.push("POST oidc/v1/token".into());
    fake.token_basic_auth.push(bearer(&headers));
    fake.token_forms.push(form.0);
    axum::Json(json!({"access_token": format!("oauth-token-{n}"), "token_type": "Bearer", "expires_in": 3600})).into_response()
}

/// Starts the fake workspace; its base URL.
async fn start(fake: Fake) -> (String, Shared) {
    let shared = Arc::new(Mutex::new(fake));
    let app = Router::new()
        .route("/api/2.1/jobs/run-now", post(run_now))
        .route("/api/2.1/jobs/runs/submit", post(submit))
        .route("/api/2.1/jobs/runs/get", get(runs_get))
        .route("/api/2.1/jobs/runs/get-output", get(get_output))
        .route("/oidc/v1/token", post(token))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), shared)
}

fn no_jitter() -> Box<dyn Jitter> {
    Box::new(FixedJitter::new(vec![0.0]))
}

fn environment(vars: &[(&str, &str)], clock: Arc<dyn Clock>) -> Environment {
    let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Environment { vars, default_config_file: None, clock, jitter: no_jitter }
}

/// Runs `kiln jobs <args>`; exit status, stdout, stderr.
async fn kiln_jobs(args: &[&str], environment: &Environment) -> (Exit, String, String) {
    let parsed = parse_args(args).unwrap();
    let mut out: Vec<u8> = Vec::new();
    let mut err: Vec<u8> = Vec::new();
    let exit = run_with(parsed, environment, &mut out, &mut err).await;
    (exit, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

fn state(life_cycle: &str, result: Option<&str>, message: &str) -> Value {
    let mut state = json!({"life_cycle_state": life_cycle, "state_message": message});
    if let Some(result) = result {
        state["result_state"] = json!(result);
    }
    state
}

fn task(key: &str, run_id: i64, life_cycle: &str, result: Option<&str>) -> Value {
    json!({"task_key": key, "run_id": run_id, "state": state(life_cycle, result, "")})
}

fn run(life_cycle: &str, result: Option<&str>, message: &str, tasks: Vec<Value>) -> Answer {
    Answer::Json(json!({
        "job_id": 7,
        "run_id": 100,
        "run_page_url": "https://example.cloud.databricks.com/#job/7/run/100",
        "state": state(life_cycle, result, message),
        "tasks": tasks,
    }))
}

const FAST: [&str; 4] = ["--poll-start", "1ms", "--poll-max", "5ms"];

fn successful_run() -> Fake {
    let runs_get = VecDeque::from(vec![
        run("PENDING", None, "Waiting for cluster", vec![task("ingest", 101, "PENDING", None), task("report", 102, "PENDING", None)]),
        Answer::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some("0"),
            body: json!({"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "too many requests"}),
        },
        run("RUNNING", None, "", vec![task("ingest", 101, "RUNNING", None), task("report", 102, "PENDING", None)]),
        run("RUNNING", None, "", vec![task("ingest", 101, "RUNNING", None), task("report", 102, "PENDING", None)]),
        run(
            "TERMINATED",
            Some("SUCCESS"),
            "",
            vec![task("ingest", 101, "TERMINATED", Some("SUCCESS")), task("report", 102, "TERMINATED", Some("SUCCESS"))],
        ),
    ]);
    let outputs = HashMap::from([
        (101, json!({"notebook_output": {"result": "42 rows", "truncated": false}, "logs": "loading\ndone\n", "metadata": {}})),
        (102, json!({"notebook_output": {}, "metadata": {}})),
    ]);
    Fake { runs_get, outputs, ..Default::default() }
}

#[tokio::test]
async fn run_now_wait_polls_to_success_and_prints_task_output() {
    let (host, fake) = start(successful_run()).await;
    let env = environment(&[("DATABRICKS_HOST", &host), ("DATABRICKS_TOKEN", "dapi-test-token")], Arc::new(SystemClock));
    let mut args = vec!["run-now", "--job-id", "7", "--wait", "--job-parameters", "date=2024-01-01", "--python-params", "--verbose"];
    args.extend(FAST);
    let (exit, out, err) = kiln_jobs(&args, &env).await;

    assert_eq!(exit, Exit::Success, "stderr: {err}");
    assert_eq!(
        out,
        "=== ingest (run 101): TERMINATED SUCCESS\nresult: 42 rows\nlogs:\nloading\ndone\n=== report (run 102): TERMINATED SUCCESS\n"
    );
    assert_eq!(
        err,
        "run 100: https://example.cloud.databricks.com/#job/7/run/100\n\
         run 100: PENDING\n  ingest: PENDING\n  report: PENDING\n\
         run 100: RUNNING\n  ingest: RUNNING\n\
         run 100: TERMINATED SUCCESS\n  ingest: TERMINATED SUCCESS\n  report: TERMINATED SUCCESS\n"
    );
    let fake = fake.lock().unwrap();
    assert_eq!(
        fake.requests,
        vec![
            "POST run-now",
            "GET runs/get 100",
            "GET runs/get 100", // 429, Retry-After: 0
            "GET runs/get 100",
            "GET runs/get 100",
            "GET runs/get 100",
            "GET runs/get-output 101",
            "GET runs/get-output 102",
        ]
    );
    assert_eq!(fake.bodies[0], json!({"job_id": 7, "job_parameters": {"date": "2024-01-01"}, "python_params": ["--verbose"]}));
    assert!(fake.bearers.iter().all(|b| b == "Bearer dapi-test-token"));
    assert!(!err.contains("dapi-test-token") && !out.contains("dapi-test-token"));
}

#[tokio::test]
async fn without_wait_prints_the_run_id() {
    let (host, fake) = start(successful_run()).await;
    let env = environment(&[], Arc::new(SystemClock));
    let (exit, out, err) = kiln_jobs(&["run-now", "--job-id", "7", "--host", &host, "--token", "t", "--idempotency-token", "once"], &env).await;
    assert_eq!((exit, out.as_str(), err.as_str()), (Exit::Success, "{\"run_id\":100}\n", ""));
    let fake = fake.lock().unwrap();
    assert_eq!(fake.requests, vec!["POST run-now"]);
    assert_eq!(fake.bodies[0], json!({"job_id": 7, "idempotency_token": "once"}));
}

#[tokio::test]
async fn submit_reads_the_body_from_a_file() {
    let (host, fake) = start(successful_run()).await;
    let body = json!({"run_name": "adhoc", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/Shared/n"}}]});
    let path = std::env::temp_dir().join(format!("kiln-cli-submit-{}.json", std::process::id()));
    std::fs::write(&path, body.to_string()).unwrap();
    let env = environment(&[("DATABRICKS_HOST", &host), ("DATABRICKS_TOKEN", "t")], Arc::new(SystemClock));
    let (exit, out, _) = kiln_jobs(&["submit", "--json", path.to_str().unwrap()], &env).await;
    std::fs::remove_file(&path).unwrap();
    assert_eq!((exit, out.as_str()), (Exit::Success, "{\"run_id\":200}\n"));
    assert_eq!(fake.lock().unwrap().bodies[0], body);

    let (exit, _, err) = kiln_jobs(&["submit", "--json", "/nonexistent/body.json"], &env).await;
    assert_eq!(exit, Exit::Usage);
    assert!(err.starts_with("kiln: cannot read /nonexistent/body.json: "), "{err}");
}

#[tokio::test]
async fn a_failed_run_exits_1_with_a_summary_and_the_error_output() {
    let runs_get = VecDeque::from(vec![
        run("RUNNING", None, "", vec![task("train", 301, "RUNNING", None)]),
        run("TERMINATED", Some("FAILED"), "Task train failed with message:\nboom.", vec![task("train", 301, "TERMINATED", Some("FAILED"))]),
    ]);
    let outputs = HashMap::from([(301, json!({"error": "ValueError: boom", "error_trace": "Traceback (most recent call last):\nValueError: boom\n"}))]);
    let (host, _fake) = start(Fake { runs_get, outputs, ..Default::default() }).await;
    let env = environment(&[("DATABRICKS_HOST", &host), ("DATABRICKS_TOKEN", "t")], Arc::new(SystemClock));
    let mut args = vec!["run-now", "--job-id", "7", "--wait", "--quiet"];
    args.extend(FAST);
    let (exit, out, err) = kiln_jobs(&args, &env).await;
    assert_eq!(exit, Exit::Failure);
    assert_eq!(
        out,
        "=== train (run 301): TERMINATED FAILED\nerror: ValueError: boom\nerror_trace:\nTraceback (most recent call last):\nValueError: boom\n"
    );
    assert_eq!(err, "run 100 FAILED: Task train failed with message: boom.\n");
}

#[tokio::test]
async fn an_api_error_exits_1_with_its_code_and_message() {
    let error = (StatusCode::BAD_REQUEST, json!({"error_code": "INVALID_PARAMETER_VALUE", "message": "Job 99 does not exist."}));
    let (host, fake) = start(Fake { run_now_error: Some(error), ..Default::default() }).await;
    let env = environment(&[("DATABRICKS_HOST", &host), ("DATABRICKS_TOKEN", "t")], Arc::new(SystemClock));
    let (exit, out, err) = kiln_jobs(&["run-now", "--job-id", "99", "--wait"], &env).await;
    assert_eq!((exit, out.as_str(), err.as_str()), (Exit::Failure, "", "kiln: INVALID_PARAMETER_VALUE: Job 99 does not exist.\n"));
    assert_eq!(fake.lock().unwrap().requests, vec!["POST run-now"], "a 400 is not retried");
}

#[tokio::test]
async fn server_errors_on_polls_are_retried_then_given_up() {
    let runs_get = VecDeque::from(vec![Answer::Status {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        retry_after: None,
        body: json!({"error_code": "INTERNAL_ERROR", "message": "database is down"}),
    }]);
    let (host, fake) = start(Fake { runs_get, ..Default::default() }).await;
    let env = environment(&[("DATABRICKS_HOST", &host), ("DATABRICKS_TOKEN", "t")], Arc::new(SystemClock));
    let mut args = vec!["run-now", "--job-id", "7", "--wait"];
    args.extend(FAST);
    let (exit, _, err) = kiln_jobs(&args, &env).await;
    assert_eq!(exit, Exit::Failure);
    assert_eq!(err, "kiln: INTERNAL_ERROR: database is down\n");
    assert_eq!(fake.lock().unwrap().polls, 10);
}

#[tokio::test]
async fn timeout_exits_3_and_leaves_the_run() {
    let runs_get = VecDeque::from(vec![run("RUNNING", None, "", vec![])]);
    let (host, _fake) = start(Fake { runs_get, ..Default::default() }).await;
    let env = environment(&[("DATABRICKS_HOST", &host), ("DATABRICKS_TOKEN", "t")], Arc::new(SystemClock));
    let mut args = vec!["run-now", "--job-id", "7", "--wait", "--timeout", "100ms"];
    args.extend(FAST);
    let (exit, out, err) = kiln_jobs(&args, &env).await;
    assert_eq!((exit, out.as_str()), (Exit::TimedOut, ""));
    assert!(err.ends_with("kiln: gave up waiting for run 100 after 100ms (last state: RUNNING); the run was left running\n"), "{err}");
}

#[tokio::test]
async fn configuration_errors_exit_2() {
    let env = environment(&[("DATABRICKS_TOKEN", "t")], Arc::new(SystemClock));
    let (exit, _, err) = kiln_jobs(&["run-now", "--job-id", "7"], &env).await;
    assert_eq!(exit, Exit::Usage);
    assert!(err.starts_with("kiln: no workspace host configured: pass --host"), "{err}");

    let (exit, _, err) = kiln_jobs(&["run-now", "--job-id", "7", "--poll-start", "20s"], &env).await;
    assert_eq!((exit, err.as_str()), (Exit::Usage, "kiln: --poll-start (20s) must not be longer than --poll-max (10s)\n"));

    assert!(parse_args(["run-now", "--job-id", "x"]).is_err());
    assert!(parse_args(["run-now", "--job-id", "7", "--job-parameters", "novalue"]).is_err());
    assert!(parse_args(["submit"]).is_err());
}

#[tokio::test]
async fn oauth_fetches_a_token_once_and_refreshes_it_when_it_expires() {
    let clock = Arc::new(ManualClock::new());
    let mut fake = successful_run();
    // The 3rd runs/get (the first RUNNING answer) moves the clock an hour ahead: the token
    // that came with run-now is then expired and the next request must fetch a new one.
    fake.expire_tokens_at_poll = Some((3, clock.clone()));
    let (host, fake) = start(fake).await;
    let vars = [("DATABRICKS_HOST", host.as_str()), ("DATABRICKS_CLIENT_ID", "sp-client"), ("DATABRICKS_CLIENT_SECRET", "sp-secret")];
    let env = environment(&vars, clock);
    let mut args = vec!["run-now", "--job-id", "7", "--wait", "-q"];
    args.extend(FAST);
    let (exit, out, err) = kiln_jobs(&args, &env).await;
    assert_eq!(exit, Exit::Success, "stderr: {err}");
    assert!(out.contains("result: 42 rows"));
    assert!(!err.contains("sp-secret") && !out.contains("sp-secret"));

    let fake = fake.lock().unwrap();
    assert_eq!(fake.token_requests, 2);
    assert_eq!(fake.requests[0], "POST oidc/v1/token");
    assert_eq!(fake.requests.iter().filter(|r| *r == "POST oidc/v1/token").count(), 2);
    // Basic base64("sp-client:sp-secret")
    assert!(fake.token_basic_auth.iter().all(|a| a == "Basic c3AtY2xpZW50OnNwLXNlY3JldA=="));
    let form = &fake.token_forms[0];
    assert_eq!((form["grant_type"].as_str(), form["scope"].as_str()), ("client_credentials", "all-apis"));
    // run-now and the first three polls carry the first token, everything after the second.
    let first = fake.bearers.iter().take_while(|b| *b == "Bearer oauth-token-1").count();
    assert_eq!(first, 4);
    assert!(fake.bearers[first..].iter().all(|b| b == "Bearer oauth-token-2"), "{:?}", fake.bearers);
}
