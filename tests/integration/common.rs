//! Test harness: the real server, in-process on a random loopback port,
//! against a real database — a SQLite file in a temp dir, or a fresh
//! PostgreSQL database created for the test and dropped afterwards.

use fieldesk::server::config::Config;
use fieldesk::server::{self, AppState};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use std::net::SocketAddr;

pub const DEMO_PASSWORD: &str = "test-demo-password";

/// A demo user of every role but admin, in the first organization.
pub const NON_ADMINS: [&str; 5] = [
    "agent@acme.test",
    "manager@acme.test",
    "ceo@acme.test",
    "tech@acme.test",
    "customer@acme.test",
];

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub state: AppState,
    _data_dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// A PostgreSQL database that lives as long as one test.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async context (and during panics): use a private runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

fn pg_admin_url() -> String {
    std::env::var("FIELDESK_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "FIELDESK_TEST_PG_URL is not set. PostgreSQL tests never skip: run them through \
             `make test` (which finds or starts a server), or set it, e.g. \
             FIELDESK_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres"
        )
    })
}

/// `postgres://u@h:p/db?x` with the database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        Self::launch(backend, adjust, false).await
    }

    /// With the full demo data `fieldesk serve` creates, tickets included.
    pub async fn start_with_full_demo(backend: Backend) -> TestApp {
        Self::launch(backend, |_| {}, true).await
    }

    /// Starts the server on a database `prepare` set up first (it gets the
    /// database's URL): an older schema with rows in it, to test an
    /// upgrade. No demo data is added.
    pub async fn start_upgraded<F, Fut>(backend: Backend, prepare: F) -> TestApp
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let (data_dir, config, pg) = Self::database(backend).await;
        prepare(config.database_url()).await;
        let state = server::init(config).await.expect("server init");
        Self::serve(state, data_dir, pg).await
    }

    async fn launch(
        backend: Backend,
        adjust: impl FnOnce(&mut Config),
        full_demo: bool,
    ) -> TestApp {
        let (data_dir, mut config, pg) = Self::database(backend).await;
        adjust(&mut config);
        let state = server::init(config).await.expect("server init");
        if full_demo {
            let banner = server::seed_demo_if_empty(&state).await.expect("demo seed");
            assert!(banner.is_some_and(|b| b.contains(DEMO_PASSWORD)));
        } else {
            // Users only: tests create the tickets they look at.
            server::seed::demo_users(&state.db, DEMO_PASSWORD)
                .await
                .expect("demo seed");
        }
        Self::serve(state, data_dir, pg).await
    }

    /// A fresh database for one test (and the config that names it).
    async fn database(backend: Backend) -> (tempfile::TempDir, Config, Option<PgDatabase>) {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_data_dir(data_dir.path());
        config.demo_password = Some(DEMO_PASSWORD.into());
        config.login_rate_per_minute = 100_000;
        config.database_url = None;
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let admin_url = pg_admin_url();
                let name = format!("fieldesk_test_{}", uuid::Uuid::now_v7().simple());
                let mut conn = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin_url}: {e}"));
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                config.database_url = Some(with_database(&admin_url, &name));
                Some(PgDatabase { admin_url, name })
            }
        };
        (data_dir, config, pg)
    }

    async fn serve(
        state: AppState,
        data_dir: tempfile::TempDir,
        pg: Option<PgDatabase>,
    ) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(server::http::serve(state.clone(), listener));
        TestApp {
            base: format!("http://{addr}"),
            client: Self::client(false),
            state,
            _data_dir: data_dir,
            _pg: pg,
        }
    }

    /// A client that does not follow redirects (tests look at them), with or
    /// without a cookie jar (a browser, or an API client). It opens a
    /// connection per request: the server closes a connection whose upload
    /// it refused part-way (the rest of the body is never read), and a
    /// pooled client would send the next request into it (browsers retry
    /// such a request; reqwest does not).
    pub fn client(cookies: bool) -> Client {
        Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(cookies)
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Signs in through the REST API and returns the token response.
    pub async fn tokens(&self, email: &str) -> Value {
        let res = self.login(email, DEMO_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login as {email}");
        res.json().await.unwrap()
    }

    pub async fn bearer(&self, email: &str) -> String {
        self.tokens(email).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The body of a public (no token) GET, as text.
    pub async fn get_public_text(&self, path: &str) -> String {
        let res = self.client.get(self.url(path)).send().await.unwrap();
        res.text().await.unwrap()
    }

    pub async fn get(&self, path: &str, bearer: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/v1/auth/refresh` with this refresh token.
    pub async fn refresh(&self, token: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/refresh"))
            .json(&json!({"refresh_token": token}))
            .send()
            .await
            .unwrap()
    }

    /// Signs in through the browser's server function; returns a client
    /// holding the session cookies.
    pub async fn browser(&self, email: &str) -> Client {
        let browser = Self::client(true);
        let res = browser
            .post(self.url("/api/login"))
            .header("accept", "application/json")
            .form(&[("email", email), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "browser login: {}",
            res.status()
        );
        browser
    }
}

/// The domain events recorded for a ticket, oldest first.
pub async fn outbox_topics(app: &TestApp, ticket_id: &str) -> Vec<String> {
    let id = uuid::Uuid::parse_str(ticket_id).unwrap();
    let sql = "SELECT topic FROM outbox WHERE aggregate_id = $1 ORDER BY created_at, id";
    let rows: Vec<(String,)> = fieldesk::server::db::query(sql)
        .bind(id)
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    rows.into_iter().map(|(t,)| t).collect()
}

/// Asserts the status and returns the JSON body.
pub async fn expect_json(res: Response, status: StatusCode) -> Value {
    let actual = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Runs each listed `async fn(TestApp)` once on SQLite and once on PostgreSQL;
/// with `by_backend:` first, each `async fn(Backend)` that starts its own app.
#[macro_export]
macro_rules! on_both_backends {
    (@each $name:ident, $run:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($run)(Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($run)(Backend::Postgres).await
            }
        }
    };
    (by_backend: $($name:ident),* $(,)?) => {$(
        $crate::on_both_backends!(@each $name, super::$name);
    )*};
    ($($name:ident),* $(,)?) => {$(
        $crate::on_both_backends!(@each $name, |backend| async move {
            super::$name(TestApp::start(backend).await).await
        });
    )*};
}

#[test]
fn database_name_is_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
}
