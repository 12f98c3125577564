//! Naming customers. A platform does not always tell who wrote; until it does, a customer is
//! "Customer" and the last four characters of their platform id, and the first real name the
//! platform gives replaces that placeholder, never a name already learned.

const PLACEHOLDER: &str = "Customer ";

/// The name of a customer we know only by their platform id.
pub fn placeholder_name(external_id: &str) -> String {
    let tail: String = external_id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{PLACEHOLDER}{tail}")
}

/// The name to store when a delivery tells `offered` about a contact now called `current`;
/// `None` when the current name stays.
pub fn learned_name(current: &str, offered: Option<&str>) -> Option<String> {
    let offered = offered.map(str::trim).filter(|name| !name.is_empty())?;
    (current.starts_with(PLACEHOLDER) && offered != current).then(|| offered.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_use_the_tail_of_the_platform_id() {
        assert_eq!(placeholder_name("1234567890"), "Customer 7890");
        assert_eq!(placeholder_name("42"), "Customer 42");
        assert_eq!(
            placeholder_name("+84 912 ✓✓"),
            "Customer 2 ✓✓",
            "whole characters, not bytes"
        );
    }

    #[test]
    fn a_real_name_replaces_only_a_placeholder() {
        assert_eq!(learned_name("Customer 7890", Some("Alice")), Some("Alice".into()));
        assert_eq!(learned_name("Alice", Some("Alicia")), None, "a learned name stays");
        assert_eq!(learned_name("Customer 7890", None), None);
        assert_eq!(learned_name("Customer 7890", Some("  ")), None);
    }
}
