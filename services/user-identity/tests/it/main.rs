//! Integration tests of user-identity: a real PostgreSQL database per test, everything through gRPC.

mod helpers;
mod login;
mod logs;
mod register;
mod tokens;
