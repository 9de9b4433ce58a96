//! Integration tests: every test runs against the real server on SQLite and
//! on PostgreSQL (one test binary, so the server links once).

mod common;

mod attachments;
mod audit;
mod auth;
mod auth_hardening;
mod availability;
mod conversation;
mod desk;
mod import;
mod live;
mod magic_link;
mod mentions;
mod notifications;
mod openapi;
mod policy;
mod runtime;
mod s3;
mod schema;
mod sla;
mod smtp;
mod tickets;
mod users;
mod web;
