//! The Instagram part of the fake's in-memory world: professional accounts
//! linked to Pages, their customers (IGSIDs) and when each last wrote.

use std::collections::HashMap;

use super::payloads::now_ms;
use super::world::{FakeIgCustomer, FakeInstagramAccount};

/// Instagram's standard messaging window.
pub(crate) const IG_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// How long the `HUMAN_AGENT` tag extends it.
pub(crate) const IG_HUMAN_AGENT_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Clone, Debug)]
pub(crate) struct IgAccountState {
    pub id: String,
    pub page_id: String,
    pub username: String,
    pub name: String,
    pub profile_picture_url: Option<String>,
    pub customers: Vec<FakeIgCustomer>,
}

pub(crate) struct IgState {
    pub accounts: Vec<IgAccountState>,
    /// IGSID → when the customer last wrote (ms). Absent: never.
    pub last_message: HashMap<String, i64>,
}

impl IgState {
    pub fn new(accounts: &[FakeInstagramAccount]) -> Self {
        let now = now_ms();
        let mut last_message = HashMap::new();
        for account in accounts {
            for customer in account.customers.iter().filter(|c| c.window_open) {
                last_message.insert(customer.igsid.clone(), now);
            }
        }
        Self {
            accounts: accounts
                .iter()
                .map(|a| IgAccountState {
                    id: a.id.clone(),
                    page_id: a.page_id.clone(),
                    username: a.username.clone(),
                    name: a.name.clone(),
                    profile_picture_url: a.profile_picture_url.clone(),
                    customers: a.customers.clone(),
                })
                .collect(),
            last_message,
        }
    }

    pub fn account(&self, ig_id: &str) -> Option<&IgAccountState> {
        self.accounts.iter().find(|a| a.id == ig_id)
    }

    pub fn account_for_page(&self, page_id: &str) -> Option<&IgAccountState> {
        self.accounts.iter().find(|a| a.page_id == page_id)
    }

    /// A customer writing: they become known to the account (with a
    /// generated profile if new) and their window opens.
    pub fn customer_wrote(&mut self, ig_id: &str, igsid: &str, at_ms: i64) {
        if let Some(account) = self.accounts.iter_mut().find(|a| a.id == ig_id)
            && !account.customers.iter().any(|c| c.igsid == igsid)
        {
            let suffix = super::wa_state::last_digits(igsid, 4);
            account.customers.push(FakeIgCustomer::new(
                igsid,
                &format!("Instagram User {suffix}"),
                &format!("ig.user.{suffix}"),
            ));
        }
        self.last_message.insert(igsid.to_owned(), at_ms);
    }
}
