//! How many SMS segments a body takes, as Twilio reports in `num_segments` /
//! `NumSegments`: GSM-7 bodies fit 160 septets in one segment and 153 per
//! segment when concatenated (extension-table characters such as `€` or `{`
//! cost two septets); anything else is sent as UCS-2 with 70 UTF-16 units in
//! one segment and 67 per segment otherwise. The fake does not apply Smart
//! Encoding.

/// GSM 03.38 basic character set.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// GSM 03.38 extension table (escape + character: two septets each).
const GSM_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets the body needs in GSM-7, or `None` if it is not GSM-7 text.
fn gsm_septets(body: &str) -> Option<usize> {
    body.chars().try_fold(0usize, |n, c| {
        if GSM_BASIC.contains(c) {
            Some(n + 1)
        } else if GSM_EXTENSION.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    })
}

/// Segments for `body`; an empty body (media only) still counts as one.
pub(crate) fn count(body: &str) -> usize {
    let (units, single, multi) = match gsm_septets(body) {
        Some(septets) => (septets, 160, 153),
        None => (body.encode_utf16().count(), 70, 67),
    };
    if units <= single { 1 } else { units.div_ceil(multi) }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn gsm_and_ucs2_boundaries() {
        assert_eq!(count(""), 1);
        assert_eq!(count(&"a".repeat(160)), 1);
        assert_eq!(count(&"a".repeat(161)), 2);
        assert_eq!(count(&"a".repeat(306)), 2);
        assert_eq!(count(&"a".repeat(307)), 3);
        // Extension characters take two septets.
        assert_eq!(count(&"€".repeat(80)), 1);
        assert_eq!(count(&"€".repeat(81)), 2);
        assert_eq!(count(&"é".repeat(160)), 1);
        // One non-GSM character switches the whole body to UCS-2.
        assert_eq!(count(&format!("{}ł", "a".repeat(69))), 1);
        assert_eq!(count(&format!("{}ł", "a".repeat(70))), 2);
        assert_eq!(count(&"ł".repeat(134)), 2);
        assert_eq!(count(&"ł".repeat(135)), 3);
        // Emoji are two UTF-16 units.
        assert_eq!(count(&"😀".repeat(35)), 1);
        assert_eq!(count(&"😀".repeat(36)), 2);
    }
}
