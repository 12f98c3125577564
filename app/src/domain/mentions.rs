//! Who a note's text @mentions: `@Lea` or `@Lea Martin` names a member of the organization by
//! their first name or full name, in any case, ending at a space or punctuation. A first name
//! that two members share mentions neither (say the full name); an `@` in an email address
//! mentions nobody. `@Support` names a team: every member of it is mentioned.

use crate::model::{Id, User};

/// Whether the lower-cased `text` holds `@name` as a whole word.
fn names(text: &str, name: &str) -> bool {
    let wanted = format!("@{}", name.to_lowercase());
    text.match_indices(&wanted).any(|(at, _)| {
        let before_ok = text[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after_ok = text[at + wanted.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        before_ok && after_ok
    })
}

/// The members of the teams `body` names (`@Support`), each once: teams are given as
/// (name, member ids).
pub fn mentioned_by_team(body: &str, teams: &[(String, Vec<Id>)]) -> Vec<Id> {
    let text = body.to_lowercase();
    let mut out: Vec<Id> = Vec::new();
    for (name, members) in teams {
        if !name.trim().is_empty() && names(&text, name.trim()) {
            for id in members {
                if !out.contains(id) {
                    out.push(*id);
                }
            }
        }
    }
    out
}

/// The members `body` mentions by name, each once, in member order.
pub fn mentioned_by_name(body: &str, members: &[User]) -> Vec<Id> {
    let text = body.to_lowercase();
    let mentions_name = |name: &str| names(&text, name);
    let first_name = |user: &User| user.name.split_whitespace().next().unwrap_or_default().to_string();
    members
        .iter()
        .filter(|user| {
            let first = first_name(user);
            let unique_first = members
                .iter()
                .filter(|other| first_name(other).eq_ignore_ascii_case(&first))
                .count()
                == 1;
            mentions_name(user.name.trim()) || (unique_first && !first.is_empty() && mentions_name(&first))
        })
        .map(|user| user.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    #[test]
    fn a_team_named_mentions_its_members() {
        let teams = vec![("Support".to_string(), vec![1, 2]), ("Billing".to_string(), vec![2, 3])];
        assert_eq!(mentioned_by_team("@support can someone look?", &teams), vec![1, 2]);
        assert_eq!(mentioned_by_team("@Billing and @Support", &teams), vec![1, 2, 3]);
        assert!(mentioned_by_team("@Supporters", &teams).is_empty(), "whole words only");
        assert!(mentioned_by_team("support@acme.test", &teams).is_empty());
    }

    fn member(id: Id, name: &str) -> User {
        User {
            id,
            organization_id: 1,
            name: name.into(),
            email: format!("{id}@acme.test"),
            role: Role::Agent,
        }
    }

    #[test]
    fn names_after_an_at_sign() {
        let members = vec![
            member(1, "Lea Martin"),
            member(2, "Ben Okafor"),
            member(3, "Ben Stone"),
            member(4, "Ana"),
        ];
        for (body, expected) in [
            ("@Lea can you check?", vec![1]),
            ("cc @lea martin, thanks", vec![1]),
            ("@Ben Okafor and @ana!", vec![2, 4]),
            ("@Ben please", vec![]),
            ("write to lea@acme.test", vec![]),
            ("@Leah is not Lea", vec![]),
            ("@Lea @Lea twice", vec![1]),
            ("no mention", vec![]),
        ] {
            assert_eq!(mentioned_by_name(body, &members), expected, "{body}");
        }
    }
}
