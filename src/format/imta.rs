//! Sun Messaging Server logs (placeholder until the imta_logger kind lands).
use super::{FormatContext, KindSetup};
use crate::config::{ConfigError, Options};

/// Reads imta_logger's options.
pub fn setup(_o: &mut Options<'_>, _ctx: &FormatContext) -> Result<KindSetup, ConfigError> {
    Err(ConfigError {
        line: 0,
        key: None,
        msg: "imta_logger is not available yet".into(),
    })
}
