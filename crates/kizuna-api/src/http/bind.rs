//! Builds a request message from an HTTP request the way grpc-gateway does for Nakama
//! (nakama-wire.md §1.1), driven by the message descriptors rather than per-route code:
//!
//! - `Body::Whole` (`body: "*"`): the JSON body is the whole message; the query is not read.
//! - `Body::Field(f)` (`body: "account"`): the JSON body is field `f`; other fields from the query.
//! - `Body::None`: every field from the query; a body is ignored.
//!
//! Query keys are proto or lowerCamel names, dotted for nested fields; repeated fields repeat the
//! key; wrappers take the bare value; bools follow Go's `strconv.ParseBool`; unknown keys are
//! ignored. Path parameters fill the same-named field last, so they win over the body.

use base64::Engine;
use kizuna_core::Error;
use kizuna_proto::json::{self, Unknown};
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, Value};

/// Where the JSON body goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    None,
    Whole,
    Field(&'static str),
}

/// Binds body, query string and path parameters into message `M`.
pub fn bind<M: prost::Message + prost::Name + Default>(
    body_spec: Body,
    body: &[u8],
    query: Option<&str>,
    path: &[(&str, &str)],
) -> Result<M, Error> {
    let desc = kizuna_proto::descriptor::<M>();
    let mut msg = match body_spec {
        Body::Whole => json::dynamic_from_json(desc.clone(), body, Unknown::Ignore).map_err(|e| Error::invalid(e.0))?,
        Body::Field(name) => {
            let field = desc.get_field_by_name(name).expect("route names a field of its request message");
            let Kind::Message(sub_desc) = field.kind() else { panic!("body field {name} is not a message") };
            let sub = json::dynamic_from_json(sub_desc, body, Unknown::Ignore).map_err(|e| Error::invalid(e.0))?;
            let mut msg = DynamicMessage::new(desc.clone());
            // The gateway always allocates the body field, even for an empty body, so handlers
            // see an empty sub-message rather than none.
            msg.set_field(&field, Value::Message(sub));
            msg
        }
        Body::None => DynamicMessage::new(desc.clone()),
    };
    if body_spec != Body::Whole
        && let Some(q) = query {
            for (key, value) in form_urlencoded::parse(q.as_bytes()) {
                if let Some(field) = body_field(body_spec, &desc)
                    && (key == field.name() || key == field.json_name() || key.starts_with(&format!("{}.", field.name()))) {
                        continue;
                    }
                set_query_param(&mut msg, &key, &value)?;
            }
        }
    for (name, value) in path {
        let field = desc.get_field_by_name(name).expect("route path parameter names a field");
        msg.set_field(&field, Value::String((*value).to_owned()));
    }
    json::from_dynamic(&msg).map_err(|e| Error::invalid(e.0))
}

fn body_field(spec: Body, desc: &MessageDescriptor) -> Option<FieldDescriptor> {
    match spec {
        Body::Field(name) => desc.get_field_by_name(name),
        _ => None,
    }
}

fn find_field(desc: &MessageDescriptor, name: &str) -> Option<FieldDescriptor> {
    desc.get_field_by_name(name).or_else(|| desc.get_field_by_json_name(name))
}

/// Sets one query parameter (possibly dotted) on `msg`. Unknown names are ignored.
fn set_query_param(msg: &mut DynamicMessage, key: &str, value: &str) -> Result<(), Error> {
    let mut parts = key.split('.');
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let Some(field) = find_field(&msg.descriptor(), first) else { return Ok(()) };
    if !rest.is_empty() {
        let Kind::Message(_) = field.kind() else { return Ok(()) };
        if field.is_list() || field.is_map() || is_wrapper(&field) {
            return Ok(());
        }
        let Value::Message(sub) = msg.get_field_mut(&field) else { return Ok(()) };
        return set_query_param(sub, &rest.join("."), value);
    }
    if field.is_map() {
        return Ok(());
    }
    let parsed = match field.kind() {
        Kind::Message(sub) if is_wrapper(&field) => {
            let inner = sub.get_field_by_name("value").expect("wrapper types have a value field");
            let mut wrapper = DynamicMessage::new(sub);
            wrapper.set_field(&inner, parse_scalar(&inner, key, value)?);
            Value::Message(wrapper)
        }
        Kind::Message(_) => return Ok(()),
        _ => parse_scalar(&field, key, value)?,
    };
    if field.is_list() {
        if let Value::List(items) = msg.get_field_mut(&field) {
            items.push(parsed);
        }
    } else {
        msg.set_field(&field, parsed);
    }
    Ok(())
}

fn is_wrapper(field: &FieldDescriptor) -> bool {
    match field.kind() {
        Kind::Message(m) => {
            let name = m.full_name();
            name.starts_with("google.protobuf.") && name.ends_with("Value") && name != "google.protobuf.Value"
        }
        _ => false,
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn parse_scalar(field: &FieldDescriptor, key: &str, v: &str) -> Result<Value, Error> {
    let bad = || Error::invalid(format!("failed to parse query parameter \"{key}\": invalid value \"{v}\""));
    Ok(match field.kind() {
        Kind::String => Value::String(v.to_owned()),
        Kind::Bool => Value::Bool(parse_bool(v).ok_or_else(bad)?),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(v.parse().map_err(|_| bad())?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(v.parse().map_err(|_| bad())?),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(v.parse().map_err(|_| bad())?),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(v.parse().map_err(|_| bad())?),
        Kind::Float => Value::F32(v.parse().map_err(|_| bad())?),
        Kind::Double => Value::F64(v.parse().map_err(|_| bad())?),
        Kind::Bytes => {
            let engine = base64::engine::general_purpose::STANDARD;
            let url = base64::engine::general_purpose::URL_SAFE;
            let bytes = engine.decode(v).or_else(|_| url.decode(v)).map_err(|_| bad())?;
            Value::Bytes(bytes.into())
        }
        Kind::Enum(e) => match v.parse::<i32>() {
            Ok(n) => Value::EnumNumber(n),
            Err(_) => Value::EnumNumber(e.get_value_by_name(v).ok_or_else(bad)?.number()),
        },
        Kind::Message(_) => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kizuna_proto::api;

    #[test]
    fn authenticate_binds_body_field_and_query_wrappers() {
        let r: api::AuthenticateDeviceRequest =
            bind(Body::Field("account"), br#"{"id":"abcdefghij","vars":{"a":"b"}}"#, Some("create=false&username=bob&"), &[])
                .unwrap();
        assert_eq!(r.account.unwrap().id, "abcdefghij");
        assert_eq!(r.create, Some(false));
        assert_eq!(r.username, "bob");
    }

    #[test]
    fn repeated_query_keys_accumulate_and_camel_case_is_accepted() {
        let r: api::GetUsersRequest = bind(Body::None, b"", Some("ids=a&ids=b&usernames=x&facebookIds=f"), &[]).unwrap();
        assert_eq!(r.ids, vec!["a", "b"]);
        assert_eq!(r.usernames, vec!["x"]);
        assert_eq!(r.facebook_ids, vec!["f"]);
    }

    #[test]
    fn whole_body_ignores_query_and_bad_bool_is_invalid_argument() {
        let r: api::SessionLogoutRequest = bind(Body::Whole, br#"{"token":"t"}"#, Some("refresh_token=x"), &[]).unwrap();
        assert_eq!(r.token, "t");
        assert!(r.refresh_token.is_empty());
        let e = bind::<api::AuthenticateDeviceRequest>(Body::Field("account"), b"", Some("create=maybe"), &[]).unwrap_err();
        assert_eq!(e.code(), 3);
    }

    #[test]
    fn empty_body_still_sets_the_body_field() {
        let r: api::AuthenticateEmailRequest = bind(Body::Field("account"), b"", None, &[]).unwrap();
        assert_eq!(r.account, Some(api::AccountEmail::default()));
    }
}
