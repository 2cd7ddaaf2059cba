//! Who calls a client-share function, fixed when it starts: the app's users through a JWT
//! authorizer, or the customer's backend over SigV4; and so whose shares a request may touch.

use crate::domain::ClientId;
use crate::domain::client_owner::ClientShareOwner;
use crate::http::caller::{caller_arn, token_claim};
use crate::http::error::Rejection;
use crate::http::path;
use lambda_http::{Request, RequestExt};

pub use crate::config::Callers;

impl Callers {
    /// The stored owner of the shares `request` may touch (`client_owner`: its variant, and an
    /// app user's issuer and claim, bound in), and the SigV4 caller that named it.
    pub(super) fn owner(&self, request: &Request) -> Result<(ClientId, Option<String>), Rejection> {
        match self {
            Self::App { owner_claim } => {
                let owner =
                    ClientShareOwner::of_token(owner_claim, |claim| token_claim(request, claim))
                        .map_err(Rejection::from)?;
                Ok((owner.stored_as()?, None))
            }
            Self::Backend => {
                let caller = caller_arn(request).ok_or(Rejection::NoCallerIdentity)?;
                let client_id = request
                    .path_parameters()
                    .first(path::CLIENT_ID)
                    .unwrap_or_default()
                    .to_owned();
                let owner = ClientShareOwner::Backend(ClientId::parse(&client_id)?);
                Ok((owner.stored_as()?, Some(caller)))
            }
        }
    }
}
