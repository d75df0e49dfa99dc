//! The string formats a form field may require (`format`: email, URI, date, date-time), and the
//! checks that a value has one. Close to the RFCs, not a full parser: they catch typing mistakes,
//! and the server still checks what it is sent.

/// A string format the schema may require (`format`). Others are not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextFormat {
    /// `email`: an email address.
    Email,
    /// `uri`: an absolute URI.
    Uri,
    /// `date`: an RFC 3339 full date, `2026-12-05`.
    Date,
    /// `date-time`: an RFC 3339 date and time, `2026-12-05T21:15:00Z`.
    DateTime,
}

impl TextFormat {
    pub(super) fn from_schema(name: &str) -> Option<Self> {
        match name {
            "email" => Some(Self::Email),
            "uri" => Some(Self::Uri),
            "date" => Some(Self::Date),
            "date-time" => Some(Self::DateTime),
            _ => None,
        }
    }

    /// What a value of this format looks like, for a person: "a date (YYYY-MM-DD)".
    pub fn describe(self) -> &'static str {
        match self {
            Self::Email => "an email address (name@example.com)",
            Self::Uri => "an absolute URI (https://example.com/page)",
            Self::Date => "a date (YYYY-MM-DD)",
            Self::DateTime => "a date and time (YYYY-MM-DDTHH:MM:SSZ, or with an offset +HH:MM)",
        }
    }

    pub(super) fn accepts(self, text: &str) -> bool {
        match self {
            Self::Email => is_email(text),
            Self::Uri => url::Url::parse(text).is_ok(),
            Self::Date => is_date(text),
            Self::DateTime => is_date_time(text),
        }
    }
}

/// `local@domain.tld`: one address, no spaces, a dot inside the domain.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',')
        && !domain.contains('@')
}

/// `YYYY-MM-DD`, a day that exists.
fn is_date(text: &str) -> bool {
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = text.get(range)?;
        digits
            .bytes()
            .all(|byte| byte.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    if text.len() != 10 || text.as_bytes()[4] != b'-' || text.as_bytes()[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// RFC 3339: `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z` or `+HH:MM` / `-HH:MM`.
fn is_date_time(text: &str) -> bool {
    let Some((date, rest)) = text.split_once(['T', 't']) else {
        return false;
    };
    let two = |digits: &str, max: u32| {
        digits.len() == 2
            && digits.bytes().all(|byte| byte.is_ascii_digit())
            && digits.parse::<u32>().is_ok_and(|value| value <= max)
    };
    let (time, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(at) => rest.split_at(at),
        None => return false,
    };
    let offset_ok = match offset {
        "Z" | "z" => true,
        _ => offset
            .get(1..)
            .and_then(|hours_minutes| hours_minutes.split_once(':'))
            .is_some_and(|(hours, minutes)| two(hours, 23) && two(minutes, 59)),
    };
    let (whole, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut parts = whole.split(':');
    let time_ok = matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(hours), Some(minutes), Some(seconds), None)
            if two(hours, 23) && two(minutes, 59) && two(seconds, 60)
    ) && !fraction.is_empty()
        && fraction.bytes().all(|byte| byte.is_ascii_digit());
    is_date(date) && time_ok && offset_ok
}
