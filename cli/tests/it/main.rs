//! Integration tests of the `iknow` command: parsing rules, imports into a real catalogue, `up`.

mod helpers;
mod import;
mod parse;
mod production;
mod up;
