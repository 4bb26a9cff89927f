//! Generated gRPC types and clients/servers for every service, one module per protobuf package.

/// `iknow.catalog.v1`: the actor-catalog service.
pub mod catalog {
    pub mod v1 {
        tonic::include_proto!("iknow.catalog.v1");
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
