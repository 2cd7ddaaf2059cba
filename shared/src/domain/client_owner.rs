//! Whose client backup share a request touches, bound to how the caller was authenticated.
//!
//! The app variant (an app user's verified token) and the backend variant (the customer's
//! backend over SigV4, naming a Portal clientId) may both serve one table under one key, so the
//! stored owner names its variant, and an app user's also the token's issuer and the claim:
//! `app <iss> <claim> <value>` or `backend <clientId>`. It is the item's `clientId`, and so part of
//! the share's associated data and KMS context: no user of one issuer, claim or variant can ever
//! name, or open, another's share, whatever the values. An issuer and a claim name hold no
//! whitespace, so the value, last, is unambiguous.

use super::{ClientId, InvalidRequest};

/// The longest stored owner: well inside DynamoDB's 2,048-byte partition key.
pub const MAX_OWNER_BYTES: usize = 1024;

/// Claims a user may be able to change, each taken only with its companion claim `"true"`.
const VERIFIED_BY: [(&str, &str); 2] = [
    ("email", "email_verified"),
    ("phone_number", "phone_number_verified"),
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientShareOwner {
    /// An app user: the verified token's issuer, the owner claim's name and its value.
    AppUser {
        issuer: String,
        claim: String,
        value: String,
    },
    /// A Portal client named by the customer's backend.
    Backend(ClientId),
}

/// Why a verified token names no owner.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoOwner {
    #[error("the token has no `{0}` claim")]
    MissingClaim(String),
    #[error("the token's `{claim}` is not verified (`{verified_by}` is not true)")]
    Unverified {
        claim: String,
        verified_by: &'static str,
    },
    #[error("the token's owner claim or issuer is not usable as an owner")]
    Unusable,
}

impl ClientShareOwner {
    /// The owner an app user's verified token names: `claim`'s value, with the token's `iss`.
    /// `claim_of` reads the token's claims.
    pub fn of_token(
        claim: &str,
        claim_of: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, NoOwner> {
        let value = claim_of(claim).ok_or_else(|| NoOwner::MissingClaim(claim.to_owned()))?;
        if let Some((_, verified_by)) = VERIFIED_BY.iter().find(|(name, _)| *name == claim)
            && claim_of(verified_by).as_deref() != Some("true")
        {
            return Err(NoOwner::Unverified {
                claim: claim.to_owned(),
                verified_by,
            });
        }
        let issuer = claim_of("iss").ok_or_else(|| NoOwner::MissingClaim("iss".to_owned()))?;
        let owner = Self::AppUser {
            issuer,
            claim: claim.to_owned(),
            value,
        };
        owner.stored_as().map_err(|_| NoOwner::Unusable)?;
        Ok(owner)
    }

    /// The `clientId` the owner's shares are stored under.
    pub fn stored_as(&self) -> Result<ClientId, InvalidRequest> {
        let stored = match self {
            Self::AppUser {
                issuer,
                claim,
                value,
            } => {
                let bare = |part: &str| !part.is_empty() && !part.contains(char::is_whitespace);
                if !bare(issuer) || !bare(claim) || value.trim().is_empty() {
                    return Err(InvalidRequest::EmptyField("clientId"));
                }
                format!("app {issuer} {claim} {value}")
            }
            Self::Backend(client_id) => format!("backend {client_id}"),
        };
        ClientId::bound(stored, MAX_OWNER_BYTES)
    }
}

/// Who stored the client shares kept under a bare owner (every release before 0.4.0): what
/// `custody client-owners` binds them to. A table only one variant ever wrote is unambiguous.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegacyOwners {
    /// The app variant: bare owners are values of `claim` in tokens of `issuer`.
    App { issuer: String, claim: String },
    /// The backend variant: bare owners are Portal clientIds.
    Backend,
}

impl LegacyOwners {
    /// The owner a bare stored owner belongs to; `None` for one already bound.
    pub fn owner_of(&self, stored: &ClientId) -> Option<ClientShareOwner> {
        if is_bound(stored) {
            return None;
        }
        Some(match self {
            Self::App { issuer, claim } => ClientShareOwner::AppUser {
                issuer: issuer.clone(),
                claim: claim.clone(),
                value: stored.as_str().to_owned(),
            },
            Self::Backend => ClientShareOwner::Backend(stored.clone()),
        })
    }
}

/// Whether a stored owner names its variant (stored by 0.4.0 or later, or bound since).
pub fn is_bound(stored: &ClientId) -> bool {
    ["app ", "backend "]
        .iter()
        .any(|prefix| stored.as_str().starts_with(prefix))
}

/// What `custody client-owners` did with one current client share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerBound {
    /// Sealed again under its bound owner, the bare row moved to its history.
    Bound,
    /// Its owner already names its variant.
    AlreadyBound,
    /// The bound owner has a share of this slot already (the user stored one since the
    /// upgrade): that one stays, and so does the bare row, for an operator to look at.
    NewerThere,
    /// Changed while being read: a second run takes it.
    ChangedMeanwhile,
}

/// OpenID Connect's profile claims, which a user may edit at most issuers.
pub const USER_EDITABLE_CLAIMS: [&str; 15] = [
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "address",
    "updated_at",
];

/// Whether an owner claim can be trusted to stay the same user's: `custom:` claims (Cognito's
/// custom attributes) and OIDC's profile claims may be writable by the user, so they are
/// refused when the function starts.
pub fn claim_is_trusted(claim: &str) -> bool {
    !claim.is_empty()
        && !claim.contains(char::is_whitespace)
        && !claim.starts_with("custom:")
        && !USER_EDITABLE_CLAIMS.contains(&claim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn token(claims: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let claims: HashMap<String, String> = claims
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        move |name| claims.get(name).cloned()
    }

    const ISS: &str = "https://issuer.example/pool";

    #[test]
    fn the_variant_issuer_and_claim_are_part_of_the_stored_owner() {
        let user = ClientShareOwner::of_token("sub", token(&[("sub", "cli_1"), ("iss", ISS)]))
            .unwrap()
            .stored_as()
            .unwrap();
        let backend = ClientShareOwner::Backend(ClientId::parse("cli_1").unwrap())
            .stored_as()
            .unwrap();
        let other_issuer = ClientShareOwner::of_token(
            "sub",
            token(&[("sub", "cli_1"), ("iss", "https://other.example/")]),
        )
        .unwrap()
        .stored_as()
        .unwrap();
        assert_eq!(user.as_str(), format!("app {ISS} sub cli_1"));
        assert_eq!(backend.as_str(), "backend cli_1");
        assert_ne!(user, other_issuer);
        // A backend clientId shaped like an app owner is still the backend's.
        let forged =
            ClientShareOwner::Backend(ClientId::parse(&format!("app {ISS} sub x")).unwrap());
        assert!(forged.stored_as().unwrap().as_str().starts_with("backend "));
    }

    #[test]
    fn an_email_or_phone_number_is_an_owner_only_when_verified() {
        for (claim, verified_by) in VERIFIED_BY {
            let unverified = token(&[(claim, "a@b.example"), ("iss", ISS)]);
            assert_eq!(
                ClientShareOwner::of_token(claim, unverified),
                Err(NoOwner::Unverified {
                    claim: claim.to_owned(),
                    verified_by
                })
            );
            let said_false = token(&[(claim, "a@b.example"), (verified_by, "false"), ("iss", ISS)]);
            assert!(ClientShareOwner::of_token(claim, said_false).is_err());
            let verified = token(&[(claim, "a@b.example"), (verified_by, "true"), ("iss", ISS)]);
            assert!(ClientShareOwner::of_token(claim, verified).is_ok());
        }
    }

    #[test]
    fn a_token_without_the_claim_or_an_issuer_names_no_owner() {
        assert!(ClientShareOwner::of_token("sub", token(&[("iss", ISS)])).is_err());
        assert!(ClientShareOwner::of_token("sub", token(&[("sub", "u")])).is_err());
        let huge = "u".repeat(MAX_OWNER_BYTES);
        assert_eq!(
            ClientShareOwner::of_token("sub", token(&[("sub", &huge), ("iss", ISS)])),
            Err(NoOwner::Unusable)
        );
        assert!(!claim_is_trusted("custom:wallet_user"));
        assert!(!claim_is_trusted("preferred_username") && !claim_is_trusted("name"));
        assert!(claim_is_trusted("sub") && claim_is_trusted("cognito:username"));
    }
}
