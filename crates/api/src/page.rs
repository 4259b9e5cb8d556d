//! Opaque page tokens. Clients loop until `next_page_token` is absent, so a list that is
//! done must omit the key (an empty string makes the SDK loop forever).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Where the next page starts: the offset into a stable ordering of the listed items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor {
    pub offset: usize,
}

const PREFIX: &str = "kiln-page:";
/// No list is longer; an offset past it is not one this server issued (and keeps
/// `offset + page size` far from overflowing).
pub const MAX_OFFSET: usize = 1 << 40;

impl PageCursor {
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{PREFIX}{}", self.offset))
    }

    /// Decodes a token produced by [`PageCursor::encode`]; `None` for anything else.
    pub fn decode(token: &str) -> Option<PageCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let offset = text.strip_prefix(PREFIX)?.parse().ok().filter(|offset| *offset <= MAX_OFFSET)?;
        Some(PageCursor { offset })
    }

    /// Where a list request starts: its `page_token`, or the beginning when it has none (an
    /// empty token counts as none, as clients send it).
    pub fn from_token(page_token: Option<&str>) -> Result<PageCursor, String> {
        match page_token.filter(|token| !token.is_empty()) {
            Some(token) => PageCursor::decode(token).ok_or_else(|| "page_token is not a token this server issued".to_string()),
            None => Ok(PageCursor { offset: 0 }),
        }
    }
}

/// Resolves a requested page size: `None` or `0` means the default (the UC flavour of the SDK
/// sends `max_results=0` when the user gave none), anything above `max` is clamped, and a
/// negative size is refused, naming `field`.
pub fn page_size(field: &str, requested: Option<i64>, default: usize, max: usize) -> Result<usize, String> {
    match requested {
        None | Some(0) => Ok(default),
        Some(n) if n < 0 => Err(format!("{field} must not be negative, got {n}")),
        Some(n) => Ok((n as usize).min(max)),
    }
}

/// One page of `items` starting at `cursor`, and the token for the page after it (absent on
/// the last page).
pub fn paginate<T>(items: Vec<T>, cursor: PageCursor, page_size: usize) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(cursor.offset).take(page_size).collect();
    let next_offset = cursor.offset + page.len();
    let next = if page.is_empty() || next_offset >= total {
        None
    } else {
        Some(PageCursor { offset: next_offset }.encode())
    };
    (page, next)
}

/// Unity Catalog list paging: no `max_results` and no token returns everything (the legacy
/// unpaginated form); `0` means the default page size. Errors name the bad parameter.
pub fn uc_page<T>(items: Vec<T>, max_results: Option<i64>, page_token: Option<&str>, default: usize, max: usize) -> Result<(Vec<T>, Option<String>), String> {
    if page_token.is_none_or(str::is_empty) && max_results.is_none() {
        return Ok((items, None));
    }
    let cursor = PageCursor::from_token(page_token)?;
    Ok(paginate(items, cursor, page_size("max_results", max_results, default, max)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_and_rejects_garbage() {
        let token = PageCursor { offset: 42 }.encode();
        assert_eq!(PageCursor::decode(&token), Some(PageCursor { offset: 42 }));
        assert_eq!(PageCursor::decode("not-a-token"), None);
        assert_eq!(PageCursor::decode(""), None);
    }

    #[test]
    fn last_page_has_no_token() {
        let (page, next) = paginate((0..5).collect(), PageCursor { offset: 0 }, 2);
        assert_eq!(page, vec![0, 1]);
        let next = PageCursor::decode(&next.expect("more pages")).expect("valid token");
        let (page, next) = paginate((0..5).collect(), next, 2);
        assert_eq!(page, vec![2, 3]);
        let next = PageCursor::decode(&next.expect("more pages")).expect("valid token");
        let (page, last) = paginate((0..5).collect::<Vec<i32>>(), next, 2);
        assert_eq!(page, vec![4]);
        assert_eq!(last, None);
    }

    #[test]
    fn zero_means_default_page_size() {
        assert_eq!(page_size("page_size", Some(0), 100, 1000), Ok(100));
        assert_eq!(page_size("page_size", None, 100, 1000), Ok(100));
        assert_eq!(page_size("page_size", Some(5000), 100, 1000), Ok(1000));
        assert_eq!(page_size("page_size", Some(7), 100, 1000), Ok(7));
        assert!(page_size("page_size", Some(-1), 100, 1000).unwrap_err().contains("page_size"));
    }
}
