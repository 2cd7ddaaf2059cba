//! The operations measured warm, and what each is measured against.

/// The operations measured warm, in the order of the table.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    BackupNew,
    BackupReplace,
    BackupRepeat,
    FetchOne,
    FetchEight,
    ClientSharePut,
    ClientShareGet,
}

impl Operation {
    pub const ALL: [Self; 7] = [
        Self::BackupNew,
        Self::BackupReplace,
        Self::BackupRepeat,
        Self::FetchOne,
        Self::FetchEight,
        Self::ClientSharePut,
        Self::ClientShareGet,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::BackupNew => "/backup, new share",
            Self::BackupReplace => "/backup, replacing",
            Self::BackupRepeat => "/backup, repeat",
            Self::FetchOne => "/backup/fetch, 1 share",
            Self::FetchEight => "/backup/fetch, 8 shares",
            Self::ClientSharePut => "client share PUT, new",
            Self::ClientShareGet => "client share GET",
        }
    }

    /// The storage calls a raw SDK client makes for the same work: a client share's `PUT` is a
    /// new backup's, its `GET` one share's fetch.
    pub fn storage(self) -> Self {
        match self {
            Self::ClientSharePut => Self::BackupNew,
            Self::ClientShareGet => Self::FetchOne,
            other => other,
        }
    }

    /// The refused request whose p50 is this operation's floor.
    pub fn floor(self) -> &'static str {
        match self {
            Self::FetchOne | Self::FetchEight => "backup-fetch",
            Self::ClientSharePut | Self::ClientShareGet => "client-backup-shares",
            _ => "backup",
        }
    }
}
