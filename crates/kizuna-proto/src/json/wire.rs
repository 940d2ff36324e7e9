//! Nakama's JSON written straight from a message's protobuf encoding, guided by its descriptor:
//! no `DynamicMessage` is built, no field is decoded into an owned value. Same rules as the
//! prost-reflect path in `mod.rs` (which remains the reference and the fallback): proto field
//! names, enum numbers, 64-bit integers as strings, wrappers as bare values, RFC 3339 timestamps,
//! standard base64 bytes, default values omitted (prost does not encode them).
//!
//! It relies on how prost encodes: every element of a repeated or map field is written
//! contiguously, and each field at most once otherwise. Anything it does not handle (a well-known
//! type other than timestamps and wrappers, a malformed encoding) makes it give up, and the
//! caller falls back to the reference path.

use base64::{engine::general_purpose::STANDARD, Engine};
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};

/// The transcoder gave up; use the reference path.
#[derive(Debug)]
pub(crate) struct Unsupported;

type R<T> = Result<T, Unsupported>;

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> R<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or(Unsupported)?;
            self.buf = rest;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(Unsupported)
    }

    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        if self.buf.len() < n {
            return Err(Unsupported);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn fixed32(&mut self) -> R<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| Unsupported)?))
    }

    fn fixed64(&mut self) -> R<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| Unsupported)?))
    }

    fn length_delimited(&mut self) -> R<&'a [u8]> {
        let n = usize::try_from(self.varint()?).map_err(|_| Unsupported)?;
        self.take(n)
    }

    /// Skips a value of an unknown field.
    fn skip(&mut self, wire_type: u8) -> R<()> {
        match wire_type {
            0 => self.varint().map(drop),
            1 => self.take(8).map(drop),
            2 => self.length_delimited().map(drop),
            5 => self.take(4).map(drop),
            _ => Err(Unsupported),
        }
    }
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

fn push_display(out: &mut Vec<u8>, v: impl std::fmt::Display) {
    use std::io::Write;
    write!(out, "{v}").expect("writing to a Vec cannot fail");
}

fn push_float(out: &mut Vec<u8>, v: f64, single: bool) {
    if v.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"\"Infinity\"" } else { b"\"-Infinity\"" });
    } else if single {
        serde_json::to_writer(&mut *out, &(v as f32)).expect("writing to a Vec cannot fail");
    } else {
        serde_json::to_writer(&mut *out, &v).expect("writing to a Vec cannot fail");
    }
}

/// Writes `desc`'s JSON object for the encoded message `bytes`.
pub(crate) fn message_to_json(desc: &MessageDescriptor, bytes: &[u8], out: &mut Vec<u8>) -> R<()> {
    match desc.full_name() {
        "google.protobuf.Timestamp" => return timestamp(bytes, out),
        name if name.starts_with("google.protobuf.") => {
            return match wrapped_kind(name) {
                Some(()) => wrapper(desc, bytes, out),
                None => Err(Unsupported),
            };
        }
        _ => {}
    }
    let mut r = Reader { buf: bytes };
    out.push(b'{');
    let mut first = true;
    // The repeated (or map) field whose array (or object) is open, by number.
    let mut open: Option<(u32, bool)> = None;
    while !r.buf.is_empty() {
        let key = r.varint()?;
        let (number, wire_type) = (u32::try_from(key >> 3).map_err(|_| Unsupported)?, (key & 7) as u8);
        let Some(field) = desc.get_field(number) else {
            r.skip(wire_type)?;
            continue;
        };
        let list = field.is_list();
        let map = field.is_map();
        if let Some((n, was_map)) = open
            && n != number
        {
            out.push(if was_map { b'}' } else { b']' });
            open = None;
        }
        if open.is_none() {
            if !first {
                out.push(b',');
            }
            first = false;
            push_str(out, field.name());
            out.push(b':');
            if map {
                out.push(b'{');
                open = Some((number, true));
            } else if list {
                out.push(b'[');
                open = Some((number, false));
            }
        } else {
            out.push(b',');
        }
        if map {
            map_entry(&field, r.length_delimited()?, out)?;
        } else if list && wire_type == 2 && is_packable(&field.kind()) {
            let mut packed = Reader { buf: r.length_delimited()? };
            let mut first_element = true;
            while !packed.buf.is_empty() {
                if !first_element {
                    out.push(b',');
                }
                first_element = false;
                scalar(&field.kind(), scalar_wire_type(&field.kind()), &mut packed, out)?;
            }
        } else {
            value(&field.kind(), wire_type, &mut r, out)?;
        }
    }
    if let Some((_, was_map)) = open {
        out.push(if was_map { b'}' } else { b']' });
    }
    out.push(b'}');
    Ok(())
}

fn is_packable(kind: &Kind) -> bool {
    !matches!(kind, Kind::String | Kind::Bytes | Kind::Message(_))
}

fn scalar_wire_type(kind: &Kind) -> u8 {
    match kind {
        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => 1,
        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => 5,
        _ => 0,
    }
}

/// One value of a field of `kind` read from `r`.
fn value(kind: &Kind, wire_type: u8, r: &mut Reader<'_>, out: &mut Vec<u8>) -> R<()> {
    match kind {
        Kind::Message(m) => message_to_json(m, r.length_delimited()?, out),
        Kind::String => {
            let s = std::str::from_utf8(r.length_delimited()?).map_err(|_| Unsupported)?;
            push_str(out, s);
            Ok(())
        }
        Kind::Bytes => {
            let b = r.length_delimited()?;
            out.push(b'"');
            out.extend_from_slice(STANDARD.encode(b).as_bytes());
            out.push(b'"');
            Ok(())
        }
        _ => scalar(kind, wire_type, r, out),
    }
}

fn scalar(kind: &Kind, wire_type: u8, r: &mut Reader<'_>, out: &mut Vec<u8>) -> R<()> {
    if wire_type != scalar_wire_type(kind) {
        return Err(Unsupported);
    }
    match kind {
        Kind::Double => push_float(out, f64::from_bits(r.fixed64()?), false),
        Kind::Float => push_float(out, f64::from(f32::from_bits(r.fixed32()?)), true),
        Kind::Int32 | Kind::Enum(_) => push_display(out, r.varint()? as i32),
        Kind::Uint32 => push_display(out, r.varint()? as u32),
        Kind::Sint32 => {
            let v = r.varint()? as u32;
            push_display(out, ((v >> 1) as i32) ^ -((v & 1) as i32));
        }
        Kind::Fixed32 => push_display(out, r.fixed32()?),
        Kind::Sfixed32 => push_display(out, r.fixed32()? as i32),
        Kind::Bool => out.extend_from_slice(if r.varint()? != 0 { b"true" } else { b"false" }),
        Kind::Int64 => push_quoted(out, r.varint()? as i64),
        Kind::Uint64 => push_quoted(out, r.varint()?),
        Kind::Sint64 => {
            let v = r.varint()?;
            push_quoted(out, ((v >> 1) as i64) ^ -((v & 1) as i64));
        }
        Kind::Fixed64 => push_quoted(out, r.fixed64()?),
        Kind::Sfixed64 => push_quoted(out, r.fixed64()? as i64),
        Kind::String | Kind::Bytes | Kind::Message(_) => return Err(Unsupported),
    }
    Ok(())
}

fn push_quoted(out: &mut Vec<u8>, v: impl std::fmt::Display) {
    out.push(b'"');
    push_display(out, v);
    out.push(b'"');
}

/// One `"key":value` member of a map field.
fn map_entry(field: &FieldDescriptor, bytes: &[u8], out: &mut Vec<u8>) -> R<()> {
    let Kind::Message(entry) = field.kind() else { return Err(Unsupported) };
    let key_field = entry.map_entry_key_field();
    let value_field = entry.map_entry_value_field();
    let (mut key, mut val): (Option<Vec<u8>>, Option<Vec<u8>>) = (None, None);
    let mut r = Reader { buf: bytes };
    while !r.buf.is_empty() {
        let k = r.varint()?;
        let (number, wire_type) = ((k >> 3) as u32, (k & 7) as u8);
        let mut buf = Vec::new();
        if number == key_field.number() {
            value(&key_field.kind(), wire_type, &mut r, &mut buf)?;
            key = Some(buf);
        } else if number == value_field.number() {
            value(&value_field.kind(), wire_type, &mut r, &mut buf)?;
            val = Some(buf);
        } else {
            r.skip(wire_type)?;
        }
    }
    // Keys are JSON strings; absent parts take their defaults.
    let key = key.unwrap_or_else(|| default_json(&key_field.kind()));
    if key.first() == Some(&b'"') {
        out.extend_from_slice(&key);
    } else {
        out.push(b'"');
        out.extend_from_slice(&key);
        out.push(b'"');
    }
    out.push(b':');
    out.extend_from_slice(&val.unwrap_or_else(|| default_json(&value_field.kind())));
    Ok(())
}

/// The JSON of a kind's default value (for absent map keys and values and empty wrappers).
fn default_json(kind: &Kind) -> Vec<u8> {
    match kind {
        Kind::String | Kind::Bytes => b"\"\"".to_vec(),
        Kind::Bool => b"false".to_vec(),
        Kind::Int64 | Kind::Uint64 | Kind::Sint64 | Kind::Fixed64 | Kind::Sfixed64 => b"\"0\"".to_vec(),
        Kind::Message(m) => {
            let mut out = Vec::new();
            match message_to_json(m, &[], &mut out) {
                Ok(()) => out,
                Err(_) => b"{}".to_vec(),
            }
        }
        _ => b"0".to_vec(),
    }
}

fn wrapped_kind(full_name: &str) -> Option<()> {
    matches!(
        full_name,
        "google.protobuf.DoubleValue"
            | "google.protobuf.FloatValue"
            | "google.protobuf.Int64Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.Int32Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.BoolValue"
            | "google.protobuf.StringValue"
            | "google.protobuf.BytesValue"
    )
    .then_some(())
}

/// A wrapper type: its `value` field, bare (the default when absent).
fn wrapper(desc: &MessageDescriptor, bytes: &[u8], out: &mut Vec<u8>) -> R<()> {
    let field = desc.get_field(1).ok_or(Unsupported)?;
    let mut r = Reader { buf: bytes };
    let mut written = false;
    while !r.buf.is_empty() {
        let k = r.varint()?;
        let (number, wire_type) = ((k >> 3) as u32, (k & 7) as u8);
        if number == 1 {
            let mut buf = Vec::new();
            value(&field.kind(), wire_type, &mut r, &mut buf)?;
            if written {
                // Last one wins; prost never writes it twice.
                return Err(Unsupported);
            }
            out.extend_from_slice(&buf);
            written = true;
        } else {
            r.skip(wire_type)?;
        }
    }
    if !written {
        out.extend_from_slice(&default_json(&field.kind()));
    }
    Ok(())
}

/// A timestamp as RFC 3339 (fraction of 0, 3, 6 or 9 digits, `Z`).
fn timestamp(bytes: &[u8], out: &mut Vec<u8>) -> R<()> {
    let mut r = Reader { buf: bytes };
    let (mut seconds, mut nanos) = (0i64, 0i32);
    while !r.buf.is_empty() {
        let k = r.varint()?;
        match ((k >> 3) as u32, (k & 7) as u8) {
            (1, 0) => seconds = r.varint()? as i64,
            (2, 0) => nanos = r.varint()? as i32,
            (_, wire_type) => r.skip(wire_type)?,
        }
    }
    // Outside 0001-01-01..9999-12-31 or a bad fraction: let the reference path report it.
    if !(-62_135_596_800..=253_402_300_799).contains(&seconds) || !(0..1_000_000_000).contains(&nanos) {
        return Err(Unsupported);
    }
    out.push(b'"');
    push_display(out, prost_types::Timestamp { seconds, nanos });
    out.push(b'"');
    Ok(())
}
