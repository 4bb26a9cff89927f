//! The `iknow` command's library: the IMDb importer and the all-in-one `up` runner, usable from tests.
#![forbid(unsafe_code)]

pub mod import;
pub mod up;
