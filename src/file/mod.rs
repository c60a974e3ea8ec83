//! Where lines go: log files shared by path (opened once per path, reopened by name,
//! created with an exact mode, written with whole lines), their rotation and retention.
//! Destinations that are not files sit beside them: [`syslog`](crate::file::syslog).

pub mod open;
pub mod rotate;
pub mod shared;
pub mod syslog;

pub use open::OpenPolicy;
pub(crate) use open::registry_key;
pub(crate) use shared::after_fork_in_child;
pub use shared::{RotateCtx, SharedFile};
