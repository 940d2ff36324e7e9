//! The one domain error. Its variants are the gRPC codes Nakama uses; client-facing variants carry
//! Nakama's exact message, which is part of the contract. Each edge (HTTP, socket, Lua) maps it
//! once.

use std::borrow::Cow;

type Message = Cow<'static, str>;

/// A failed operation, as a client will see it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidArgument(Message),
    #[error("{0}")]
    Unauthenticated(Message),
    #[error("{0}")]
    PermissionDenied(Message),
    #[error("{0}")]
    NotFound(Message),
    #[error("{0}")]
    AlreadyExists(Message),
    #[error("{0}")]
    FailedPrecondition(Message),
    #[error("{0}")]
    ResourceExhausted(Message),
    #[error("{0}")]
    Unimplemented(Message),
    #[error("{0}")]
    DataLoss(Message),
    /// A dependency (the database) cannot be reached right now.
    #[error("{0}")]
    Unavailable(Message),
    /// A server-side failure. `message` is the fixed text the client sees (Nakama's, e.g.
    /// "Error finding or creating user account."); `source` is logged by the edge, never sent.
    #[error("{message}")]
    Internal {
        message: Message,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// The gRPC status code (3 invalid argument, 16 unauthenticated, ...).
    pub fn code(&self) -> i32 {
        match self {
            Error::InvalidArgument(_) => 3,
            Error::NotFound(_) => 5,
            Error::AlreadyExists(_) => 6,
            Error::PermissionDenied(_) => 7,
            Error::ResourceExhausted(_) => 8,
            Error::FailedPrecondition(_) => 9,
            Error::Unimplemented(_) => 12,
            Error::DataLoss(_) => 15,
            Error::Unavailable(_) => 14,
            Error::Internal { .. } => 13,
            Error::Unauthenticated(_) => 16,
        }
    }

    /// The message the client sees.
    pub fn message(&self) -> &str {
        match self {
            Error::InvalidArgument(m)
            | Error::Unauthenticated(m)
            | Error::PermissionDenied(m)
            | Error::NotFound(m)
            | Error::AlreadyExists(m)
            | Error::FailedPrecondition(m)
            | Error::ResourceExhausted(m)
            | Error::Unimplemented(m)
            | Error::DataLoss(m)
            | Error::Unavailable(m) => m,
            Error::Internal { message, .. } => message,
        }
    }

    /// An internal error with Nakama's client-facing text and the underlying cause.
    pub fn internal(message: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error::Internal { message: Cow::Borrowed(message), source: Some(source.into()) }
    }

    pub fn invalid(message: impl Into<Message>) -> Error {
        Error::InvalidArgument(message.into())
    }
}

/// Adds Nakama's client-facing text to a store failure.
pub(crate) trait StoreContext<T> {
    fn or_internal(self, message: &'static str) -> Result<T, Error>;
}

impl<T> StoreContext<T> for Result<T, kizuna_store::StoreError> {
    fn or_internal(self, message: &'static str) -> Result<T, Error> {
        self.map_err(|e| match e {
            // Core refuses NUL characters before it writes (validate.rs); should one slip
            // through to PostgreSQL, the client still gets that answer, not a 500.
            kizuna_store::StoreError::InvalidText(_) => Error::invalid(crate::validate::NUL_MESSAGE),
            e => Error::internal(message, e),
        })
    }
}
