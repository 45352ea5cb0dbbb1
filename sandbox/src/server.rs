//! The HTTP server: one accept loop, one task per connection, each connection
//! served by hyper directly so a handler can close it without answering.
//!
//! Routing: `/_sandbox/…` are the control endpoints (`advance` moves the
//! workspace a simulated day forward) (never faulted, limited or
//! counted); `/api/…` is the Mode side; anything else is the ingest side.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{any, get, post};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower_service::Service;

use super::day::DayPlan;
use super::respond::ConnKill;
use super::state::Shared;
use super::{ingest, mode_api};

/// Serves `listener` until `shutdown` turns true; then every open connection
/// is dropped, stalled ones included.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = router(shared);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, router.clone(), shutdown.clone()));
                }
                Err(err) => tracing::warn!(%err, "accept failed"),
            },
            _ = shutdown.changed() => break,
        }
    }
}

/// Serves one connection until it ends, a handler kills it, or shutdown.
async fn connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let kill = ConnKill::default();
    let signal = kill.0.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(kill.clone());
        router.clone().call(request)
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        _ = signal.notified() => {}
        _ = shutdown.changed() => {}
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sandbox/truth", get(truth))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/received", get(received))
        .route("/_sandbox/reset", post(reset))
        .route("/openmetadata/{*rest}", any(super::openmetadata::handle))
        .route("/_sandbox/advance", post(advance))
        .fallback(dispatch)
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

async fn dispatch(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let kill = request
        .extensions()
        .get::<ConnKill>()
        .cloned()
        .unwrap_or_default();
    let path = request.uri().path().to_owned();
    if path == "/api" || path.starts_with("/api/") {
        let query = request.uri().query().unwrap_or_default().to_owned();
        mode_api::handle(shared, &path, &query, request.headers(), kill).await
    } else {
        ingest::handle(shared, request, kill).await
    }
}

async fn truth(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.served().truth.as_ref()).into_response()
}

/// `POST /_sandbox/advance` with a [`DayPlan`] body (missing fields take the
/// default plan's values) answers the [`DayLog`](crate::DayLog).
async fn advance(State(shared): State<Arc<Shared>>, Json(plan): Json<DayPlan>) -> Response {
    let log = tokio::task::spawn_blocking(move || shared.advance_day(&plan)).await;
    match log {
        Ok(log) => Json(log).into_response(),
        Err(err) => {
            let body = serde_json::json!({"error": format!("advance failed: {err}")});
            (axum::http::StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
        }
    }
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.stats()).into_response()
}

async fn received(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.received()).into_response()
}

async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.reset_stats();
    Json(serde_json::json!({"reset": true})).into_response()
}
