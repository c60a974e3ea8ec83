//! Postfix-style logs (placeholder until the postfix_logger kind lands).
use super::{FormatContext, KindSetup};
use crate::config::{ConfigError, Options};

/// Reads postfix_logger's options.
pub fn setup(_o: &mut Options<'_>, _ctx: &FormatContext) -> Result<KindSetup, ConfigError> {
    Err(ConfigError {
        line: 0,
        key: None,
        msg: "postfix_logger is not available yet".into(),
    })
}
