//! Who calls a client-share function, fixed when it starts: the app's users through a JWT
//! authorizer, or the customer's backend over SigV4; and so whose shares a request may touch.

use super::{CLIENT_ID_PARAMETER, Refusal};
use crate::domain::ClientId;
use crate::domain::client_owner::{ClientShareOwner, claim_is_trusted};
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
            None | Some("app") => {
                let owner_claim = var("OWNER_CLAIM").unwrap_or_else(|| "sub".to_owned());
                if !claim_is_trusted(&owner_claim) {
                    return Err(format!(
                        "OWNER_CLAIM is `{owner_claim}`: a `custom:` claim may be writable by the user (docs/client-shares.md, \"Which claim names the owner\")"
                    ));
                }
                Ok(Self::App { owner_claim })
            }
            Some("backend") => Ok(Self::Backend),
            Some(other) => Err(format!(
                "CLIENT_SHARE_CALLERS is `{other}`: expected `app` or `backend`"
            )),
        }
    }

    /// The stored owner of the shares `request` may touch (`client_owner`: its variant, and an
    /// app user's issuer and claim, bound in), and the SigV4 caller that named it.
    pub(super) fn owner(&self, request: &Request) -> Result<(ClientId, Option<String>), Refusal> {
        match self {
            Self::App { owner_claim } => {
                let owner =
                    ClientShareOwner::of_token(owner_claim, |claim| token_claim(request, claim))
                        .map_err(Refusal::Unauthenticated)?;
                Ok((owner.stored_as()?, None))
            }
            Self::Backend => {
                let caller = caller_arn(request).ok_or(Refusal::NoCallerIdentity)?;
                let client_id = request
                    .path_parameters()
                    .first(CLIENT_ID_PARAMETER)
                    .unwrap_or_default()
                    .to_owned();
                let owner = ClientShareOwner::Backend(ClientId::parse(&client_id)?);
                Ok((owner.stored_as()?, Some(caller)))
            }
        }
    }
}
