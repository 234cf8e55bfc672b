//! Readers for the files people have, turning them into core facts.

pub mod access_denied;
pub mod auth_details;
pub mod authorization_message;
pub mod cloudtrail;
pub mod evidence;
pub mod file;
pub mod jets_config;
pub mod org_tree;
pub mod organization;
pub mod resource_policies;
pub mod ruby;
pub mod simulate;
pub mod template;

#[cfg(test)]
mod test_support;
