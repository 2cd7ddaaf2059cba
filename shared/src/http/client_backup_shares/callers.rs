//! Who calls a client-share function, fixed when it starts: the app's users through a JWT
//! authorizer, or the customer's backend over SigV4; and so whose shares a request may touch.

use super::{CLIENT_ID_PARAMETER, Refusal};
use crate::domain::ClientId;
use crate::http::caller::{caller_arn, token_claim};
use lambda_http::{Request, RequestExt};

/// Who calls a client-share function, and so whose shares a request may touch (one per function,
/// from its environment: `CLIENT_SHARE_CALLERS`, `OWNER_CLAIM`).
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
    /// `CLIENT_SHARE_CALLERS` is `app` (the default) or `backend`; `OWNER_CLAIM` defaults to `sub`.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let var = |name| lookup(name).filter(|value| !value.is_empty());
        match var("CLIENT_SHARE_CALLERS").as_deref() {
            None | Some("app") => Ok(Self::App {
                owner_claim: var("OWNER_CLAIM").unwrap_or_else(|| "sub".to_owned()),
            }),
            Some("backend") => Ok(Self::Backend),
            Some(other) => Err(format!(
                "CLIENT_SHARE_CALLERS is `{other}`: expected `app` or `backend`"
            )),
        }
    }

    /// The owner of the shares `request` may touch, and the SigV4 caller that named it.
    pub(super) fn owner(&self, request: &Request) -> Result<(ClientId, Option<String>), Refusal> {
        match self {
            Self::App { owner_claim } => token_claim(request, owner_claim)
                .and_then(|owner| ClientId::parse(&owner).ok())
                .map(|owner| (owner, None))
                .ok_or_else(|| Refusal::Unauthenticated(owner_claim.clone())),
            Self::Backend => {
                let caller = caller_arn(request).ok_or(Refusal::NoCallerIdentity)?;
                let client_id = request
                    .path_parameters()
                    .first(CLIENT_ID_PARAMETER)
                    .unwrap_or_default()
                    .to_owned();
                Ok((ClientId::parse(&client_id)?, Some(caller)))
            }
        }
    }
}
