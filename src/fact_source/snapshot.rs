//! The offline source: a snapshot folder as `iam-doctor snapshot` writes it.

use std::path::{Path, PathBuf};

use crate::core::check::OrgVisibility;
use crate::core::facts::{OrgFacts, PrincipalKind, ResourcePolicies};
use crate::core::principal_ref::PrincipalRef;
use crate::inputs::auth_details::{AuthDetailsError, AuthorizationDetails};
use crate::inputs::organization::{self, OrganizationError};
use crate::inputs::resource_policies::{self, ResourcePoliciesError};

use super::Facts;

/// The file every snapshot holds: `aws iam get-account-authorization-details` output.
pub const DETAILS_FILE: &str = "authorization-details.json";
/// The account's organization path, when it could be read.
pub const ORG_FILE: &str = "organization.json";

/// A snapshot folder that cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("`--offline {dir}` is a file, not a folder")]
    NotAFolder { dir: String },
    #[error("offline folder `{dir}` does not exist")]
    Missing { dir: String },
    #[error("cannot read offline folder `{dir}`: {detail}")]
    Unreadable { dir: String, detail: String },
    #[error(transparent)]
    Details(#[from] AuthDetailsError),
    #[error(transparent)]
    Organization(#[from] OrganizationError),
    #[error(transparent)]
    ResourcePolicies(#[from] ResourcePoliciesError),
    /// The snapshot has no caller and no stacks: the principal must be named.
    #[error("offline checks need `--role NAME|ARN` or `--user NAME|ARN`")]
    NoNamedPrincipal,
    /// `organization.json` was collected for another account than the principal's.
    #[error(
        "`{file}` describes account {org_account} but `{principal}` is in account {principal_account}"
    )]
    OtherAccount {
        file: String,
        org_account: String,
        principal: String,
        principal_account: String,
    },
}

/// An offline snapshot: `authorization-details.json`, optionally `organization.json` and
/// `resource-policies.json`.
pub struct Snapshot {
    dir: PathBuf,
    details: AuthorizationDetails,
    org: Option<OrgFacts>,
    resource_policies: ResourcePolicies,
}

impl Snapshot {
    pub fn open(dir: &Path) -> Result<Snapshot, SnapshotError> {
        let shown = || dir.display().to_string();
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(SnapshotError::NotAFolder { dir: shown() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SnapshotError::Missing { dir: shown() });
            }
            Err(e) => {
                return Err(SnapshotError::Unreadable {
                    dir: shown(),
                    detail: e.to_string(),
                });
            }
        }
        let details = AuthorizationDetails::load(&dir.join(DETAILS_FILE))?;
        let org_path = dir.join(ORG_FILE);
        let org = if org_path.exists() {
            Some(organization::load(&org_path)?)
        } else {
            None
        };
        let policies_path = dir.join(resource_policies::FILE_NAME);
        let resource_policies = if policies_path.exists() {
            resource_policies::load(&policies_path)?
        } else {
            ResourcePolicies::new()
        };
        Ok(Snapshot {
            dir: dir.to_path_buf(),
            details,
            org,
            resource_policies,
        })
    }

    /// The principal's facts. Without `organization.json` no SCP or RCP is evaluated, a note
    /// says so, and the organization counts as unreadable.
    pub fn principal_facts(
        &self,
        who: &PrincipalRef,
    ) -> Result<(Facts, OrgVisibility), SnapshotError> {
        let (kind, named) = match who {
            PrincipalRef::Role(r) => (PrincipalKind::Role, r),
            PrincipalRef::User(u) => (PrincipalKind::User, u),
            PrincipalRef::Caller | PrincipalRef::Stack(_) => {
                return Err(SnapshotError::NoNamedPrincipal);
            }
        };
        let principal = self.details.principal(kind, named)?;
        let mut notes = Vec::new();
        let org = match &self.org {
            Some(org) if org.account_id != principal.account_id => {
                return Err(SnapshotError::OtherAccount {
                    file: self.dir.join(ORG_FILE).display().to_string(),
                    org_account: org.account_id.clone(),
                    principal: principal.name.clone(),
                    principal_account: principal.account_id.clone(),
                });
            }
            Some(org) => Some(org.clone()),
            None => {
                notes.push(format!(
                    "no `{ORG_FILE}` in `{}`: SCPs and RCPs were not evaluated",
                    self.dir.display()
                ));
                None
            }
        };
        let visibility = if org.is_some() {
            OrgVisibility::Evaluated
        } else {
            OrgVisibility::Unreadable
        };
        let facts = Facts {
            principal,
            org,
            resource_policies: self.resource_policies.clone(),
            notes,
            incomplete: false,
        };
        Ok((facts, visibility))
    }

    /// The resources the snapshot recorded a policy fact for.
    pub fn recorded_resources(&self) -> Vec<String> {
        self.resource_policies.keys().cloned().collect()
    }

    /// The resource-policy facts the snapshot recorded.
    pub fn recorded_policies(&self) -> &ResourcePolicies {
        &self.resource_policies
    }
}
