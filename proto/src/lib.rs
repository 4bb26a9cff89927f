//! Generated gRPC types and clients/servers for every service, one module per protobuf package.

/// `iknow.catalog.v1`: the actor-catalog service.
pub mod catalog {
    pub mod v1 {
        tonic::include_proto!("iknow.catalog.v1");

        impl ContentType {
            /// The name every store and JSON answer uses: `movie`, `series`, `episode`; `None` for
            /// `Unspecified`.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    Self::Movie => Some("movie"),
                    Self::Series => Some("series"),
                    Self::Episode => Some("episode"),
                    Self::Unspecified => None,
                }
            }

            /// The inverse of [`ContentType::name`]; `Unspecified` for any other text.
            pub fn from_name(name: &str) -> Self {
                match name {
                    "movie" => Self::Movie,
                    "series" => Self::Series,
                    "episode" => Self::Episode,
                    _ => Self::Unspecified,
                }
            }

            /// The name of a wire value (`ContentType` fields are `i32` in prost); `None` for unspecified or
            /// unknown values.
            pub fn name_of(value: i32) -> Option<&'static str> {
                Self::try_from(value).ok().and_then(Self::name)
            }
        }

        #[cfg(test)]
        mod tests {
            use super::ContentType;

            #[test]
            fn names_round_trip() {
                for t in [ContentType::Movie, ContentType::Series, ContentType::Episode] {
                    assert_eq!(ContentType::from_name(t.name().unwrap()), t);
                    assert_eq!(ContentType::name_of(t as i32), t.name());
                }
                assert_eq!(ContentType::Unspecified.name(), None);
                assert_eq!(ContentType::from_name("Movie"), ContentType::Unspecified);
                assert_eq!(ContentType::name_of(99), None);
            }
        }
    }
}

/// `iknow.identity.v1`: the user-identity service.
pub mod identity {
    pub mod v1 {
        tonic::include_proto!("iknow.identity.v1");
    }
}

/// `iknow.ingest.v1`: the scraper-ingest service (queued imports).
pub mod ingest {
    pub mod v1 {
        tonic::include_proto!("iknow.ingest.v1");
    }
}

/// `iknow.library.v1`: the library service (watchlist and viewing history).
pub mod library {
    pub mod v1 {
        tonic::include_proto!("iknow.library.v1");
    }
}

/// Encoded file descriptor set of every package, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("iknow_descriptor");
