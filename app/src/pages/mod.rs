//! One module per page of the app shell.

pub mod coming;
pub mod dashboard;
