//! Integration tests of user-identity: a real PostgreSQL database per test, everything through gRPC.

mod helpers;
mod login;
mod logs;
mod mailer;
mod profile;
mod register;
mod reset;
mod tokens;
mod verify;
