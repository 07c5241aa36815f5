//! Remote text made safe for a terminal.
//!
//! TXT records, host names and server banners come from strangers. Printed raw, an escape
//! sequence in a TXT record could recolour, move the cursor or retitle the user's terminal, and
//! bidi controls could make a record read differently from what it is. Every such character
//! is shown escaped instead, as `\u{1b}`.

use std::borrow::Cow;
use std::fmt::Write;

/// Escapes C0 and C1 controls, DEL, bidi controls and invisible formatting characters.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn escapes_terminal_controls_and_bidi() {
        assert_eq!(sanitize("v=spf1 -all"), "v=spf1 -all");
        assert_eq!(sanitize("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(sanitize("x\u{9b}2J"), "x\\u{9b}2J");
        assert_eq!(sanitize("evil\u{202e}txt"), "evil\\u{202e}txt");
        assert_eq!(sanitize("nul\0byte\r\n"), "nul\\u{0}byte\\u{d}\\u{a}");
        assert_eq!(sanitize("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(sanitize("bücher ✔"), "bücher ✔");
    }
}
