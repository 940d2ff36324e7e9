//! Input checks shared by authentication, linking and account updates (Nakama's regexes in
//! `api_authenticate.go` and `api_account.go`, restated as plain predicates).

/// POSIX `[[:cntrl:]]` (ASCII control characters), as Go's regexp understands it.
fn is_cntrl(c: char) -> bool {
    c.is_ascii_control()
}

/// POSIX `[[:space:]]`: space, \t, \n, \v, \f, \r.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Ids and emails: "no spaces or control characters".
pub(crate) fn has_space_or_control(s: &str) -> bool {
    s.chars().any(|c| is_cntrl(c) || is_space(c))
}

/// An identifier's messages for: missing, bad characters, bad length.
pub(crate) struct IdMessages(pub &'static str, pub &'static str, pub &'static str);

/// The rule every provider id follows (required, no whitespace or control characters, a byte
/// length range), with the messages of the call at hand: Nakama words them differently for
/// authenticate and link.
pub(crate) fn check_id(id: &str, min: usize, max: usize, m: IdMessages) -> Result<(), crate::Error> {
    if id.is_empty() {
        return Err(crate::Error::invalid(m.0));
    }
    if has_space_or_control(id) {
        return Err(crate::Error::invalid(m.1));
    }
    if id.len() < min || id.len() > max {
        return Err(crate::Error::invalid(m.2));
    }
    Ok(())
}

/// Nakama's username pattern is `([[:cntrl:]]|[[\t\n\r\f\v]])+`. The second alternative is a
/// bracket expression followed by a literal `]`, so besides control characters it rejects `[]`
/// (and whitespace-control + `]`, already covered) while plain spaces pass. Clients depend on
/// which usernames are accepted, so we keep the quirk (docs/compat.md).
pub(crate) fn invalid_username(s: &str) -> bool {
    s.chars().any(is_cntrl) || s.contains("[]")
}

/// `^.+@.+\..+$` on a string already known to have no whitespace: some `@` has at least one
/// character before it and, after it, a `.` with at least one character on each side.
pub(crate) fn email_format_ok(s: &str) -> bool {
    s.char_indices().filter(|(_, c)| *c == '@').any(|(i, _)| {
        let rest = &s[i + 1..];
        i > 0 && rest.char_indices().any(|(j, c)| c == '.' && j > 0 && j + 1 < rest.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_quirk_accepts_spaces_and_rejects_brackets_and_controls() {
        assert!(!invalid_username("a b"));
        assert!(invalid_username("a\tb"));
        assert!(invalid_username("a[]b"));
        assert!(!invalid_username("a[b]"));
        assert!(invalid_username("a\u{7f}"));
    }

    #[test]
    fn email_format_follows_the_reference_pattern() {
        assert!(email_format_ok("a@b.c"));
        assert!(email_format_ok("first.last@example.com"));
        assert!(!email_format_ok("abc@example"));
        assert!(!email_format_ok("@example.com"));
        assert!(!email_format_ok("abc@.com"));
        assert!(!email_format_ok("abc@example."));
        assert!(email_format_ok("a@b@c.d"));
    }

    #[test]
    fn ids_reject_any_whitespace_or_control() {
        assert!(has_space_or_control("a b"));
        assert!(has_space_or_control("a\u{0}"));
        assert!(!has_space_or_control("abc-123_é"));
    }
}

/// What a request with a NUL character gets, on every backend.
pub(crate) const NUL_MESSAGE: &str = "Text must not contain NUL characters.";

/// Whether text holds a NUL character, raw or as JSON's `\u0000` escape (JSON text is stored as
/// JSONB, where the escape decodes to one). PostgreSQL can store neither in TEXT or JSONB while
/// SQLite can; refusing it up front gives both backends the same answer.
fn contains_nul(text: &[u8]) -> bool {
    text.contains(&0) || text.windows(6).any(|w| w == b"\\u0000")
}

/// [`contains_nul`] for several strings, as Nakama-style InvalidArgument.
pub(crate) fn reject_nul(texts: &[&str]) -> Result<(), crate::Error> {
    if texts.iter().any(|t| contains_nul(t.as_bytes())) {
        return Err(crate::Error::invalid(NUL_MESSAGE));
    }
    Ok(())
}
