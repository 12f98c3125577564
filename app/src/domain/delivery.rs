//! Replies whose send was cut off. An instance that claimed a reply may stop before the
//! platform answered; after the claim timeout the reply is recovered by what we know:
//! an echo already recorded its platform id (it arrived), the platform de-duplicates sends
//! (send it again), or neither (it may or may not have arrived: an agent must check).

use crate::model::{ChannelKind, MessageStatus};

/// Why a reply is `failed` after its send was cut off before the platform answered, on a
/// platform that would send it twice if we simply tried again.
pub const INTERRUPTED_SEND: &str = "Sending was interrupted before the platform answered; it may or may not have reached \
    the customer. Check the conversation on the platform, then retry.";

/// The status (and error) a reply stuck in `sending` is recovered to.
pub fn recovered(platform_id_known: bool, kind: ChannelKind) -> (MessageStatus, Option<&'static str>) {
    if platform_id_known {
        (MessageStatus::Sent, None)
    } else if kind.idempotent_send() {
        (MessageStatus::Pending, None)
    } else {
        (MessageStatus::Failed, Some(INTERRUPTED_SEND))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_echoed_send_arrived() {
        for kind in ChannelKind::ALL {
            assert_eq!(recovered(true, *kind), (MessageStatus::Sent, None), "{kind}");
        }
    }

    #[test]
    fn only_a_deduplicating_platform_gets_the_send_again() {
        for kind in ChannelKind::ALL {
            let (status, error) = recovered(false, *kind);
            if kind.idempotent_send() {
                assert_eq!((status, error), (MessageStatus::Pending, None), "{kind}");
            } else {
                assert_eq!(
                    (status, error),
                    (MessageStatus::Failed, Some(INTERRUPTED_SEND)),
                    "{kind}"
                );
            }
        }
    }
}
