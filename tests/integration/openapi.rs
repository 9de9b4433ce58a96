//! The OpenAPI document at `/api/v1/openapi.json` and the browsable page at
//! `/api/v1/docs/`: the document describes exactly the routes the REST
//! router serves, with the shapes the server really sends.

use crate::common::*;
use crate::on_both_backends;
use fieldesk::domain::access::INVALID_LINK;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

on_both_backends!(
    the_document_is_public_openapi_3,
    every_route_is_documented,
    error_answers_use_the_error_schema,
    authenticated_routes_name_the_bearer_scheme,
    schemas_match_what_the_server_sends,
    the_docs_page_is_served_from_here,
);

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn document(app: &TestApp) -> Value {
    let res = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["content-type"],
        "application/json",
        "the document is JSON"
    );
    expect_json(res, StatusCode::OK).await
}

/// Every operation of the document: (METHOD, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                out.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

async fn the_document_is_public_openapi_3(app: TestApp) {
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3."), "OpenAPI 3.x, got {version}");
    assert_eq!(doc["info"]["title"], "Fieldesk API");
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for (method, path, op) in operations(&doc) {
        let tag = op["tags"][0].as_str().unwrap_or_default();
        assert!(
            tags.contains(tag),
            "{method} {path} has no declared tag ({tag:?})"
        );
    }
}

/// The routes the REST router really serves, read from the router itself
/// (axum's `Debug` output lists each route id with its path and which
/// methods have a handler). Paths are relative to `/api/v1`, like the
/// document's.
fn served_routes() -> BTreeSet<(String, String)> {
    let text = format!("{:?}", fieldesk::server::http::rest::router());
    // The REST fallback (404 for every other path) is not a route.
    let text = text
        .split("fallback_router:")
        .next()
        .expect("axum's Router Debug output names its path_router first");
    let mut paths: HashMap<&str, &str> = HashMap::new();
    let mut endpoints: HashMap<&str, &str> = HashMap::new();
    for piece in text.split("RouteId(").skip(1) {
        let Some((id, rest)) = piece.split_once("): ") else {
            continue;
        };
        if let Some(quoted) = rest.strip_prefix('"') {
            paths.insert(id, quoted.split('"').next().unwrap());
        } else {
            endpoints.insert(id, rest);
        }
    }
    let mut routes = BTreeSet::new();
    for (id, endpoint) in endpoints {
        let path = paths
            .get(id)
            .unwrap_or_else(|| panic!("route {id} has no path in: {text}"));
        if !endpoint.starts_with("MethodRouter(") {
            // A whole service mounted on a path: every method reaches it.
            routes.insert(("ANY".to_owned(), path.to_string()));
            continue;
        }
        for method in METHODS {
            let handled = endpoint
                .split_once(&format!(" {method}: "))
                .is_some_and(|(_, value)| !value.starts_with("None"));
            if handled {
                routes.insert((method.to_uppercase(), path.to_string()));
            }
        }
    }
    assert!(
        routes.len() >= 20,
        "could not read the routes from axum's Debug output (did its format change?): {routes:?}"
    );
    routes
}

/// The anti-drift check: the document and the router list the same
/// method + path pairs, and each of them really answers on the server.
async fn every_route_is_documented(app: TestApp) {
    let doc = document(&app).await;
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let served = served_routes();
    let show = |set: BTreeSet<&(String, String)>| {
        set.iter()
            .map(|(m, p)| format!("  {m} /api/v1{p}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let undocumented: BTreeSet<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "served but missing from the OpenAPI document:\n{}\nAnnotate each handler with \
         #[utoipa::path(...)] and list it in its module's `Api` (src/server/http/rest/*.rs; \
         a new module's `Api` goes into rest::openapi()).",
        show(undocumented)
    );
    let unserved: BTreeSet<_> = documented.difference(&served).collect();
    assert!(
        unserved.is_empty(),
        "documented but not served by the router:\n{}",
        show(unserved)
    );

    // The live server agrees: each route answers (401 without a token, 400
    // for a public route without a body), not 404 or 405.
    let id = uuid::Uuid::now_v7().to_string();
    for (method, path) in &served {
        let concrete = path.replace("{id}", &id).replace("{token}", "not-a-token");
        let url = app.url(&format!("/api/v1{concrete}"));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let res = app
            .client
            .request(method.clone(), url)
            .send()
            .await
            .unwrap();
        if path.contains("{token}") && res.status() == StatusCode::NOT_FOUND {
            // A link route refuses a bad token with the link's own 404.
            let body = expect_json(res, StatusCode::NOT_FOUND).await;
            assert_eq!(body["error"], INVALID_LINK, "{method} /api/v1{path}");
            continue;
        }
        assert!(
            ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&res.status()),
            "{method} /api/v1{path} answered {}",
            res.status()
        );
    }
    // ...and can tell a missing route from a present one.
    let res = app
        .client
        .delete(app.url("/api/v1/tickets/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

async fn error_answers_use_the_error_schema(app: TestApp) {
    let doc = document(&app).await;
    let error = &doc["components"]["schemas"]["ApiError"];
    assert_eq!(error["properties"]["error"]["type"], "string");
    assert_eq!(
        error["properties"]["fields"]["additionalProperties"]["type"],
        "string"
    );
    assert_eq!(error["required"], json!(["error"]));
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path} documents no success"
        );
        for (status, response) in responses {
            if status.as_str() >= "400" {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ApiError",
                    "{method} {path} {status}"
                );
            }
        }
    }

    // What the server sends on a 422 fits it: one message per field.
    let agent = app.bearer("agent@acme.test").await;
    let body = expect_json(
        app.post_json("/api/v1/tickets", &agent, json!({"subject": ""}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["error"].is_string());
    assert!(body["fields"]["subject"].is_string(), "{body}");
    // So does a query string the server cannot read (found by schemathesis:
    // this was axum's plain-text answer).
    for path in [
        "/api/v1/users?role=agent&role=admin",
        "/api/v1/tickets?q=a&q=b",
    ] {
        let body = expect_json(app.get(path, &agent).await, StatusCode::BAD_REQUEST).await;
        assert!(
            body["error"].as_str().unwrap().contains("duplicate field"),
            "{body}"
        );
    }
}

async fn authenticated_routes_name_the_bearer_scheme(app: TestApp) {
    let doc = document(&app).await;
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    let public = [
        "/auth/login",
        "/auth/register",
        "/auth/refresh",
        "/auth/logout",
        "/auth/magic-link",
    ];
    for (method, path, op) in operations(&doc) {
        // A mailed link's token, in the path, is the credential there.
        if public.contains(&path.as_str()) || path.starts_with("/access/") {
            assert!(op.get("security").is_none(), "{method} {path} is public");
            continue;
        }
        assert_eq!(
            op["security"],
            json!([{"bearer": []}]),
            "{method} {path} needs a bearer token"
        );
        assert!(
            op["responses"]["401"].is_object(),
            "{method} {path} documents its 401"
        );
    }
}

/// The keys of a documented object schema.
fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no schema {schema}"))
        .keys()
        .cloned()
        .collect()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

async fn schemas_match_what_the_server_sends(app: TestApp) {
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    // Wire values, formats.
    assert_eq!(
        schemas["TicketStatus"]["enum"],
        json!(["new", "open", "pending", "on_hold", "resolved", "closed"])
    );
    assert_eq!(schemas["Role"]["enum"][0], "customer");
    assert_eq!(schemas["Ticket"]["properties"]["id"]["format"], "uuid");
    assert_eq!(
        schemas["Ticket"]["properties"]["created_at"]["format"],
        "date-time"
    );
    // Lists are pages.
    let page = &doc["paths"]["/tickets"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    let page_name = page["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(
        properties(&doc, page_name),
        BTreeSet::from(["items".to_owned(), "next_cursor".to_owned()])
    );
    // The upload is a multipart form with a binary `file`.
    let upload = &doc["paths"]["/tickets/{id}/attachments"]["post"]["requestBody"]["content"]["multipart/form-data"]
        ["schema"];
    let form = upload["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(schemas[form]["properties"]["file"]["format"], "binary");
    assert!(
        doc["paths"]["/attachments/{id}"]["get"]["responses"]["200"]["content"]["*/*"].is_object()
    );

    // Real answers carry exactly the documented fields.
    let tokens = app.tokens("agent@acme.test").await;
    assert_eq!(keys(&tokens), properties(&doc, "TokenResponse"));
    let agent = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(keys(&tokens["user"]), properties(&doc, "User"));
    let ticket = expect_json(
        app.post_json(
            "/api/v1/tickets",
            &agent,
            json!({"subject": "Printer", "description": "Jammed", "tags": ["hw"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(keys(&ticket), properties(&doc, "Ticket"));
    let id = ticket["id"].as_str().unwrap();
    let comment = expect_json(
        app.post_json(
            &format!("/api/v1/tickets/{id}/comments"),
            &agent,
            json!({"body": "On it"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(keys(&comment), properties(&doc, "Comment"));
    let form = Form::new().part(
        "file",
        Part::bytes(b"plain notes".to_vec()).file_name("notes.txt"),
    );
    let res = app.upload(&agent, id, form).await;
    let attachment = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(keys(&attachment), properties(&doc, "Attachment"));
    let history = expect_json(
        app.get(&format!("/api/v1/tickets/{id}/history"), &agent)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(keys(&history["items"][0]), properties(&doc, "HistoryEntry"));
    let stats = expect_json(
        app.get("/api/v1/tickets/stats", &agent).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(keys(&stats), properties(&doc, "TicketStats"));
    let admin = app.bearer("admin@acme.test").await;
    let audit = expect_json(
        app.get("/api/v1/audit?limit=1", &admin).await,
        StatusCode::OK,
    )
    .await;
    let audit_page =
        doc["paths"]["/audit"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["$ref"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap();
    assert_eq!(keys(&audit), properties(&doc, audit_page));
    assert_eq!(keys(&audit["items"][0]), properties(&doc, "AuditEntry"));
}

async fn the_docs_page_is_served_from_here(app: TestApp) {
    let res = app
        .client
        .get(app.url("/api/v1/docs"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    assert_eq!(res.headers()["location"], "/api/v1/docs/");

    let res = app
        .client
        .get(app.url("/api/v1/docs/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    let html = res.text().await.unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));
    // Every script, style sheet and icon the page names is served here.
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.ends_with(".js") || s.ends_with(".css") || s.ends_with(".png"))
        .collect();
    assert!(assets.len() >= 5, "{assets:?}");
    for asset in assets {
        let url = app.url(&format!("/api/v1/docs/{}", asset.trim_start_matches("./")));
        let res = app.client.get(&url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
    }
    let initializer = app
        .get_public_text("/api/v1/docs/swagger-initializer.js")
        .await;
    assert!(
        initializer.contains("\"/api/v1/openapi.json\""),
        "{initializer}"
    );
    assert!(
        initializer.contains("\"validatorUrl\": \"none\""),
        "{initializer}"
    );
    assert!(!initializer.contains("http://") && !initializer.contains("https://"));
}
