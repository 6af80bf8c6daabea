//! The HTTP rules both clients apply, from RFC 9110 and the Fetch standard: tokens, header values,
//! method normalisation, `Retry-After` (delta-seconds or an HTTP date), media types, and the
//! percent-encoding of a query parameter.

use alloc::string::String;

/// Whether `s` is an HTTP token (RFC 9110 `token`: one or more `tchar`), as a method or a header
/// name must be.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `s` without leading and trailing HTTP whitespace (SP, HTAB, CR, LF), by bytes: none of them
/// is ever part of a multi-byte character, so the cuts are character boundaries.
pub fn trim_http_whitespace(s: &str) -> &str {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| !ws(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

/// A header value as Fetch normalises it (leading and trailing HTTP whitespace removed), or
/// `None` when what is left is not a header value (it holds CR, LF or NUL).
pub fn normalize_header_value(value: &str) -> Option<&str> {
    let v = trim_http_whitespace(value);
    if v.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        None
    } else {
        Some(v)
    }
}

/// Fetch's method normalisation, in place: `DELETE`, `GET`, `HEAD`, `OPTIONS`, `POST` and `PUT`
/// are upper-cased whatever their case; any other method is kept as written. `false` when
/// `method` is not a token or is one that Fetch forbids (`CONNECT`, `TRACE`, `TRACK`).
pub fn normalize_method(method: &mut str) -> bool {
    const NORMALISED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    const FORBIDDEN: [&str; 3] = ["CONNECT", "TRACE", "TRACK"];
    if !is_token(method) || FORBIDDEN.iter().any(|m| m.eq_ignore_ascii_case(method)) {
        return false;
    }
    if NORMALISED.iter().any(|m| m.eq_ignore_ascii_case(method)) {
        method.make_ascii_uppercase();
    }
    true
}

/// Whether a `Content-Type` value's essence is `text/event-stream` (case-insensitive,
/// parameters ignored).
pub fn is_event_stream(content_type: &str) -> bool {
    let end = content_type
        .bytes()
        .position(|b| b == b';')
        .unwrap_or(content_type.len());
    let essence = content_type.get(..end).unwrap_or_default();
    trim_http_whitespace(essence).eq_ignore_ascii_case("text/event-stream")
}

/// Parses a `Retry-After` value (delta-seconds, or an HTTP date given the current Unix time in
/// milliseconds) into a wait in milliseconds. `None` when it is neither.
pub fn parse_retry_after(value: &str, now_unix_ms: u64) -> Option<u64> {
    let v = trim_http_whitespace(value);
    if let Some(secs) = crate::parser::parse_digits(v) {
        return Some(secs.saturating_mul(1000));
    }
    let at = parse_http_date(v)?;
    Some(at.saturating_mul(1000).saturating_sub(now_unix_ms))
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form servers must send, in Unix seconds.
fn parse_http_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 29 || &b[3..5] != b", " || &b[25..] != b" GMT" {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<u64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let day = num(5..7)?;
    let month = MONTHS.iter().position(|m| s.get(8..11) == Some(*m))? as u64 + 1;
    let year = num(12..16)?;
    let (h, m, sec) = (num(17..19)?, num(20..22)?, num(23..25)?);
    if year < 1970 || day == 0 || day > 31 || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), for years from 1970.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

/// Appends `s` percent-encoded for a query component (every byte but `A-Z a-z 0-9 - _ . ~`).
pub fn percent_encode(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// `n` in decimal ASCII digits, written into `digits` (no `core::fmt`: the browser build stays
/// small).
pub fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &digits[i..]
}

/// Appends `n` in decimal.
pub fn push_decimal(out: &mut String, n: u64) {
    for &d in decimal(n, &mut [0; 20]) {
        out.push(char::from(d));
    }
}
