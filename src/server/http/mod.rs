//! HTTP: one router with the Leptos pages and server functions, the REST
//! API, health and metrics, wrapped in the cross-cutting layers (session,
//! CSRF, security headers, compression, tracing, metrics).

pub mod openapi;
pub mod rest;
pub mod ws;

use crate::app::{App, shell};
use crate::server::auth::session::{check_origin, resolve_session};
use crate::server::state::AppState;
use crate::server::uploads::{UploadLimits, limit_body};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use leptos_axum::{LeptosRoutes, generate_route_list};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};
use tower_http::trace::TraceLayer;

/// CSP for everything that is not a page (pages set their own with a nonce).
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let form_limit = UploadLimits::form(state.config.max_upload_bytes).body_bytes();
    Router::new()
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        // Multipart server functions stream their body past axum's default
        // limit: cap the body of every server function (and page) at the
        // largest form. Only the routes above get this layer.
        .route_layer(middleware::from_fn_with_state(form_limit, limit_form_body))
        // Each server function's gate (`api::SERVER_FN_GATES`), checked
        // before its body is read; pages pass through.
        .route_layer(middleware::from_fn(
            crate::server::auth::gate::gate_server_fns,
        ))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/ws", get(ws::upgrade))
        .nest("/api/v1", rest::router())
        .merge(openapi::router())
        // The WASM/JS/CSS bundle: served directly (leptos' fallback file
        // handler is ~10x slower), revalidated by Last-Modified.
        .nest_service("/pkg", pkg_service(&state))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            resolve_session,
        ))
        .layer(middleware::from_fn(check_origin))
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(record_metrics))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn limit_form_body(State(limit): State<u64>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match limit_body(limit, &parts.headers, body) {
        Ok(body) => next.run(Request::from_parts(parts, body)).await,
        Err(e) => e.into_response(),
    }
}

fn pkg_service(state: &AppState) -> SetResponseHeader<ServeDir, HeaderValue> {
    let options = &state.leptos_options;
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    SetResponseHeader::overriding(
        ServeDir::new(dir),
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    )
}

/// Serves until SIGTERM or Ctrl-C, letting in-flight requests finish.
/// Also starts the background runtime, which runs as long as this does.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let _runtime = crate::server::runtime::Runtime::standard(&state)?
        .start()
        .await?;
    let _live = crate::server::live::Live::start(&state).await?;
    let app = router(state.clone());
    // Pages are streamed in several small writes; with Nagle's algorithm on,
    // a write waits for the client's delayed ACK (~40 ms) on kept-alive
    // connections. Measured: a 50-message ticket page went 43 ms -> 3 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown({
        let state = state.clone();
        async move {
            shutdown_signal().await;
            // WebSockets are no longer HTTP requests the server waits for:
            // close them (clients reconnect, to another instance if any).
            state.live.shut_down();
        }
    })
    .await?;
    state.live.drained(Duration::from_secs(5)).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ok", "database": state.db.backend()}))
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

/// The process-wide Prometheus recorder (installed once, even when tests
/// start several servers in one process).
fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ])
            .expect("static bucket list is non-empty")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder exists; then we still render ours.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    prometheus();
    if let Err(e) = crate::server::runtime::record_gauges(&state).await {
        tracing::warn!(error = %e, "reading the runtime's gauges failed");
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        prometheus().render(),
    )
}

async fn record_metrics(req: Request, next: Next) -> Response {
    prometheus();
    let started = Instant::now();
    // The route template, not the raw path, keeps label cardinality bounded.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    res
}
