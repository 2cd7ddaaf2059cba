//! The domain: what Portal sends and gets back, whose share a share is, how it is sealed, what
//! storing it did, and the operator's custody vocabulary. No AWS type appears here.

pub mod client_owner;
pub mod client_share;
pub mod custody;
pub mod envelope;
mod owner;
mod pair;
mod portal;
pub mod reconcile;
mod share;
mod stored;

pub use owner::Owner;
pub use pair::{BackupSharePairId, Wanted};
pub use portal::{
    BACKUP_SHARE_PAIR_ID, Backup, BackupMethod, ClientId, Fetch, InvalidRequest,
    MAX_IDENTIFIER_BYTES, UNKNOWN_BACKUP_METHOD,
};
pub use share::Share;
pub use stored::{ClientShares, CurrentShare, StoreError, Stored};
