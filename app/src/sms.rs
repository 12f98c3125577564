//! What SMS makes of a text: its encoding, length and number of segments (the composer shows
//! them as the agent types, because each segment is billed), and the keywords customers text
//! to opt out and back in. Pure; runs in the browser and on the server.
//!
//! Encoding (3GPP TS 23.038): a text made only of the GSM 03.38 default alphabet and its
//! extension table goes as GSM-7, where an extension character (`€ [ ] { } \ ^ ~ |` and form
//! feed) takes two septets; anything else sends the whole text as UCS-2, counted in UTF-16
//! code units. One segment holds 160 septets or 70 units; a longer text is split into parts
//! of 153 septets or 67 units (the rest is the concatenation header), and a part never ends
//! in the middle of an extension character or a surrogate pair.

/// The GSM 03.38 default alphabet: one septet each.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: an escape septet and the character's own.
const GSM_EXTENSION: &str = "\u{000C}^{}\\[~]|€";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }

    /// Units one segment holds alone, and per part once the text is split.
    fn capacity(self) -> (usize, usize) {
        match self {
            Encoding::Gsm7 => (160, 153),
            Encoding::Ucs2 => (70, 67),
        }
    }
}

/// How a text goes out as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLength {
    pub encoding: Encoding,
    /// Characters as a person counts them.
    pub characters: usize,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    /// 0 for an empty text.
    pub segments: usize,
    /// Units left in the last segment before another one starts.
    pub remaining: usize,
}

/// Septets a character takes in GSM-7, or `None` when GSM-7 cannot carry it.
fn septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

pub fn measure(text: &str) -> SmsLength {
    let gsm: Option<Vec<usize>> = text.chars().map(septets).collect();
    let (encoding, sizes) = match gsm {
        Some(sizes) => (Encoding::Gsm7, sizes),
        None => (Encoding::Ucs2, text.chars().map(char::len_utf16).collect()),
    };
    let units: usize = sizes.iter().sum();
    let (single, part) = encoding.capacity();
    let (segments, used_in_last) = if units == 0 {
        (0, 0)
    } else if units <= single {
        (1, units)
    } else {
        // Filled part by part, so a two-unit character that does not fit starts the next one.
        let mut segments = 1;
        let mut used = 0;
        for size in sizes {
            if used + size > part {
                segments += 1;
                used = 0;
            }
            used += size;
        }
        (segments, used)
    };
    let capacity = if segments <= 1 { single } else { part };
    SmsLength {
        encoding,
        characters: text.chars().count(),
        units,
        segments,
        remaining: capacity - used_in_last,
    }
}

/// What a customer's one-word text asks of the sender, by Twilio's default keywords
/// (https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP and its synonyms: Twilio blocks further texts to them from this sender.
    OptOut,
    /// START and its synonyms: they may be texted again.
    OptIn,
    /// HELP or INFO: Twilio answers with the sender's help text.
    Help,
}

const OPT_OUT: &[&str] = &[
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
const OPT_IN: &[&str] = &["START", "YES", "UNSTOP"];
const HELP: &[&str] = &["HELP", "INFO"];

/// The keyword a text is, if it is exactly one (any case, surrounding spaces ignored).
pub fn keyword(body: &str) -> Option<Keyword> {
    let word = body.trim().to_ascii_uppercase();
    if OPT_OUT.contains(&word.as_str()) {
        Some(Keyword::OptOut)
    } else if OPT_IN.contains(&word.as_str()) {
        Some(Keyword::OptIn)
    } else if HELP.contains(&word.as_str()) {
        Some(Keyword::Help)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> (Encoding, usize, usize, usize) {
        let m = measure(text);
        (m.encoding, m.units, m.segments, m.remaining)
    }

    #[test]
    fn lengths_and_segments() {
        let table: Vec<(String, (Encoding, usize, usize, usize))> = vec![
            (String::new(), (Encoding::Gsm7, 0, 0, 160)),
            ("Hello".into(), (Encoding::Gsm7, 5, 1, 155)),
            ("a".repeat(160), (Encoding::Gsm7, 160, 1, 0)),
            ("a".repeat(161), (Encoding::Gsm7, 161, 2, 145)),
            ("a".repeat(306), (Encoding::Gsm7, 306, 2, 0)),
            ("a".repeat(307), (Encoding::Gsm7, 307, 3, 152)),
            // The euro takes two septets.
            ("Price: 5€".into(), (Encoding::Gsm7, 10, 1, 150)),
            ("é, ñ, Ä and £ are GSM".into(), (Encoding::Gsm7, 21, 1, 139)),
            // One character outside the alphabet makes the whole text UCS-2.
            ("Hello ✓".into(), (Encoding::Ucs2, 7, 1, 63)),
            ("ç".into(), (Encoding::Ucs2, 1, 1, 69)),
            ("x".repeat(70) + "✓", (Encoding::Ucs2, 71, 2, 63)),
            // An emoji is a surrogate pair: two units.
            ("👍".into(), (Encoding::Ucs2, 2, 1, 68)),
        ];
        for (text, expected) in table {
            assert_eq!(shape(&text), expected, "{text:?}");
        }
    }

    #[test]
    fn a_part_never_splits_a_two_unit_character() {
        // 152 septets, then a euro: the euro does not fit the first part's last septet.
        let text = "a".repeat(152) + "€" + &"b".repeat(10);
        let m = measure(&text);
        assert_eq!((m.units, m.segments), (164, 2));
        assert_eq!(m.remaining, 153 - 12, "the euro opened the second part");
        let emoji = "x".repeat(66) + "👍" + &"y".repeat(10);
        let m = measure(&emoji);
        assert_eq!((m.encoding, m.units, m.segments), (Encoding::Ucs2, 78, 2));
        assert_eq!(m.remaining, 67 - 12);
        assert_eq!(m.characters, 77);
    }

    #[test]
    fn keywords_are_single_words_in_any_case() {
        for (body, expected) in [
            ("STOP", Some(Keyword::OptOut)),
            ("  stop \n", Some(Keyword::OptOut)),
            ("Unsubscribe", Some(Keyword::OptOut)),
            ("cancel", Some(Keyword::OptOut)),
            ("START", Some(Keyword::OptIn)),
            ("unstop", Some(Keyword::OptIn)),
            ("yes", Some(Keyword::OptIn)),
            ("help", Some(Keyword::Help)),
            ("INFO", Some(Keyword::Help)),
            ("please stop", None),
            ("STOP!", None),
            ("", None),
        ] {
            assert_eq!(keyword(body), expected, "{body:?}");
        }
    }
}
