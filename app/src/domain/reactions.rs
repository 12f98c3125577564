//! Reactions on a message. A customer has at most one reaction per message: a new one
//! replaces theirs, none takes it back. Our own reactions are left as they are.

use crate::model::{Direction, Millis, Reaction};

/// The reactions after the customer reacted with `emoji` (or took theirs back); `None`
/// when nothing changes, so a repeated webhook leaves no trace.
pub fn with_customer_reaction(reactions: &[Reaction], emoji: Option<String>, at: Millis) -> Option<Vec<Reaction>> {
    let mut next: Vec<Reaction> = reactions
        .iter()
        .filter(|r| r.direction != Direction::Inbound)
        .cloned()
        .collect();
    if let Some(emoji) = emoji {
        next.push(Reaction {
            emoji,
            direction: Direction::Inbound,
            at,
        });
    }
    let same = reactions.len() == next.len()
        && reactions
            .iter()
            .zip(&next)
            .all(|(a, b)| a.emoji == b.emoji && a.direction == b.direction);
    (!same).then_some(next)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn reaction(emoji: &str, direction: Direction) -> Reaction {
        Reaction {
            emoji: emoji.into(),
            direction,
            at: 1,
        }
    }

    #[test]
    fn a_new_reaction_replaces_the_customers_old_one() {
        let before = [reaction("👍", Direction::Outbound), reaction("😀", Direction::Inbound)];
        let after = with_customer_reaction(&before, Some("❤️".into()), 5).unwrap();
        assert_eq!(after.len(), 2);
        assert_eq!(after[0], before[0], "ours is kept");
        assert_eq!((after[1].emoji.as_str(), after[1].at), ("❤️", 5));
    }

    #[test]
    fn none_takes_the_customers_reaction_back() {
        let before = [reaction("😀", Direction::Inbound)];
        assert_eq!(with_customer_reaction(&before, None, 5), Some(vec![]));
    }

    #[test]
    fn the_same_reaction_again_changes_nothing() {
        let before = [reaction("😀", Direction::Inbound)];
        assert_eq!(with_customer_reaction(&before, Some("😀".into()), 9), None);
        assert_eq!(with_customer_reaction(&[], None, 9), None);
    }
}
