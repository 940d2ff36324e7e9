//! Nakama's JSON encoding of protobuf messages (reference: nakama-wire.md §2).
//!
//! Output follows protobuf-go's protojson with `UseProtoNames` and `UseEnumNumbers`: snake_case
//! field names, enums as numbers, 64-bit integers as strings, wrapper types as bare values,
//! RFC 3339 timestamps, default values omitted. Input accepts proto or lowerCamel names, enum names
//! or numbers, numbers or strings for integers. REST ignores unknown fields; the socket rejects them.
//!
//! Reading goes through `prost_reflect::DynamicMessage`, so every rule lives in one well-tested
//! library rather than in per-message serde code. Writing, the hot direction (every response and
//! push), is done by [`wire`] straight from the binary encoding with the descriptor's help, several
//! times faster; the `DynamicMessage` path stays as its reference (tests compare the two) and as
//! the fallback for anything the fast path does not handle.

use prost::{Message, Name};
use prost_reflect::{DeserializeOptions, DynamicMessage, MessageDescriptor, SerializeOptions};

/// A JSON document that could not be read as the expected message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(pub String);

const SERIALIZE: SerializeOptions = SerializeOptions::new()
    .use_proto_field_name(true)
    .use_enum_numbers(true)
    .stringify_64_bit_integers(true)
    .skip_default_fields(true);

/// How strictly to read incoming JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// REST: unknown members are ignored (`DiscardUnknown=true`).
    Ignore,
    /// Socket: an unknown member is a malformed payload.
    Reject,
}

mod wire;

/// Writes `msg` as Nakama's JSON.
pub fn to_json<M: Message + Name>(msg: &M) -> Vec<u8> {
    let bytes = msg.encode_to_vec();
    let desc = crate::descriptor::<M>();
    let mut out = Vec::with_capacity(bytes.len() * 2 + 16);
    if wire::message_to_json(&desc, &bytes, &mut out).is_ok() {
        return out;
    }
    let dynamic = DynamicMessage::decode(desc, bytes.as_slice()).expect("a message re-decodes with its own descriptor");
    dynamic_to_json(&dynamic)
}

/// Writes `msg` as Nakama's JSON through `DynamicMessage` (the reference for [`to_json`]).
pub fn to_json_reference<M: Message + Name>(msg: &M) -> Vec<u8> {
    dynamic_to_json(&to_dynamic(msg))
}

/// Writes a dynamic message as Nakama's JSON.
pub fn dynamic_to_json(msg: &DynamicMessage) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::new(&mut out);
    msg.serialize_with_options(&mut ser, &SERIALIZE)
        .expect("serializing a valid message to a Vec cannot fail");
    out
}

/// Reads `bytes` as the JSON of `M`. An empty or all-whitespace body is the empty message.
pub fn from_json<M: Message + Name + Default>(bytes: &[u8], unknown: Unknown) -> Result<M, JsonError> {
    let dynamic = dynamic_from_json(crate::descriptor::<M>(), bytes, unknown)?;
    from_dynamic(&dynamic)
}

/// Reads `bytes` as the JSON of the message described by `desc`.
pub fn dynamic_from_json(
    desc: MessageDescriptor,
    bytes: &[u8],
    unknown: Unknown,
) -> Result<DynamicMessage, JsonError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(DynamicMessage::new(desc));
    }
    let options = DeserializeOptions::new().deny_unknown_fields(unknown == Unknown::Reject);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let msg = DynamicMessage::deserialize_with_options(desc, &mut de, &options)
        .map_err(|e| JsonError(e.to_string()))?;
    de.end().map_err(|e| JsonError(e.to_string()))?;
    Ok(msg)
}

/// Converts a generated message to its dynamic form.
pub fn to_dynamic<M: Message + Name>(msg: &M) -> DynamicMessage {
    let buf = msg.encode_to_vec();
    DynamicMessage::decode(crate::descriptor::<M>(), buf.as_slice())
        .expect("a message re-decodes with its own descriptor")
}

/// Converts a dynamic message back to the generated type.
pub fn from_dynamic<M: Message + Default>(msg: &DynamicMessage) -> Result<M, JsonError> {
    msg.transcode_to::<M>().map_err(|e| JsonError(e.to_string()))
}

#[cfg(test)]
mod tests;
