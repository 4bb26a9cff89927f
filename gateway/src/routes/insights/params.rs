//! The query of the actor stats route, validated.

use iknow_common::Error;
use utoipa::IntoParams;

use crate::extract::{FromQuery, int_param};

/// Default number of actors in the stats.
pub const DEFAULT_STATS_LIMIT: i32 = 20;
/// Most actors in the stats.
pub const MAX_STATS_LIMIT: i32 = 100;

/// Validated query of `GET /api/v1/users/me/stats/actors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsParams {
    pub limit: i32,
}

impl FromQuery for StatsParams {
    /// `limit` 1 to 100 (default 20); unknown parameters are ignored.
    fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        let mut bad = Vec::new();
        let message = format!("must be an integer from 1 to {MAX_STATS_LIMIT}");
        let limit = int_param(pairs, "limit", 1..=MAX_STATS_LIMIT.into(), message, &mut bad);
        if !bad.is_empty() {
            return Err(Error::validation(bad));
        }
        Ok(Self { limit: limit.map_or(DEFAULT_STATS_LIMIT, |n| n as i32) })
    }
}

/// Query parameters of the actor stats (documentation of what [`StatsParams`] accepts).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StatsQuery {
    /// Actors to return (1 to 100, default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
    }

    #[test]
    fn the_stats_limit_defaults_and_is_bounded() {
        assert_eq!(StatsParams::parse(&[]).unwrap().limit, 20);
        assert_eq!(StatsParams::parse(&pairs(&[("limit", "100")])).unwrap().limit, 100);
        for bad in ["0", "101", "x", "-1"] {
            assert!(StatsParams::parse(&pairs(&[("limit", bad)])).is_err(), "{bad}");
        }
    }
}
