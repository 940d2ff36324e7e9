//! Events (Nakama `api_event.go`): clients report named events with properties, and the server
//! hands them, marked external, to the runtime's event functions. Kizuna has no runtime yet, so
//! no function is ever registered and an event is accepted and dropped — what Nakama does when
//! no event function is registered.

use kizuna_proto::api;
use uuid::Uuid;

use crate::Core;

impl Core {
    /// `POST /v2/event`: accepts an event from a client.
    pub fn event(&self, user_id: Uuid, mut event: api::Event) {
        // Events that arrive through the API are always external.
        event.external = true;
        tracing::debug!(user = %user_id, name = %event.name, properties = event.properties.len(), "event received; no event functions registered");
    }
}
