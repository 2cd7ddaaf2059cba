//! Who calls a client-share function (`CLIENT_SHARE_CALLERS`, `OWNER_CLAIM`), read with the rest
//! of [`super::Config`]; `http/client_backup_shares/callers.rs` finds each request's owner from it.

use super::ConfigError;
use crate::domain::client_owner::claim_is_trusted;

/// Who calls a client-share function, and so whose shares a request may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callers {
    /// The app's users, through the HTTP API's JWT authorizer: the owner is the value of this
    /// claim in the verified token.
    App { owner_claim: String },
    /// The customer's backend (the Enclave MPC API), through the REST API's IAM authorization
    /// and its allow-list: the owner is the path's `clientId`, and only for a SigV4 caller.
    Backend,
}

impl Callers {
    /// `CLIENT_SHARE_CALLERS` is `app` (the default) or `backend`; `OWNER_CLAIM` defaults to
    /// `sub`, and never names a claim the user may be able to write.
    pub fn from_lookup(set: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match set("CLIENT_SHARE_CALLERS").as_deref() {
            None | Some("app") => {
                let owner_claim = set("OWNER_CLAIM").unwrap_or_else(|| "sub".to_owned());
                if !claim_is_trusted(&owner_claim) {
                    return Err(ConfigError::Invalid {
                        name: "OWNER_CLAIM",
                        reason: "a claim the user may be able to write, such as custom:* or an editable profile claim (docs/client-shares.md, \"Which claim names the owner\")",
                    });
                }
                Ok(Self::App { owner_claim })
            }
            Some("backend") => Ok(Self::Backend),
            Some(_) => Err(ConfigError::Invalid {
                name: "CLIENT_SHARE_CALLERS",
                reason: "neither `app` nor `backend`",
            }),
        }
    }
}
