//! (to be written)

pub mod logging;
pub mod paths;
pub mod systemd;
