//! Where facts come from: an offline snapshot folder, or AWS itself.

use std::path::{Path, PathBuf};

use iam_doctor::core::facts::{OrgFacts, PrincipalFacts, PrincipalKind, ResourcePolicies};
use iam_doctor::core::principal_ref::PrincipalRef;
use iam_doctor::inputs::auth_details::AuthorizationDetails;
use iam_doctor::inputs::{organization, resource_policies};

use super::Failure;

/// A principal's facts, with what qualifies them.
#[derive(Debug, Clone)]
pub struct Facts {
    pub principal: PrincipalFacts,
    pub org: Option<OrgFacts>,
    /// What is known of the resource-based policies of the resources the deploy touches.
    pub resource_policies: ResourcePolicies,
    pub notes: Vec<String>,
    /// True when part of the picture is missing (e.g. SCPs unreadable).
    pub incomplete: bool,
}

/// An offline snapshot: `authorization-details.json`, optionally `organization.json` and
/// `resource-policies.json`.
pub struct Offline {
    dir: PathBuf,
    details: AuthorizationDetails,
    org: Option<OrgFacts>,
    resource_policies: ResourcePolicies,
}

impl Offline {
    pub fn open(dir: &Path) -> Result<Offline, Failure> {
        const CREATE: &str = "create it with `iam-doctor snapshot --out DIR`, or save `aws iam get-account-authorization-details` output there as `authorization-details.json`";
        match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(Failure::input(
                    format!("`--offline {}` is a file, not a folder", dir.display()),
                    format!(
                        "pass the folder that holds `authorization-details.json` (and optionally `organization.json`); {CREATE}"
                    ),
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Failure::input(
                    format!("offline folder `{}` does not exist", dir.display()),
                    CREATE,
                ));
            }
            Err(e) => {
                return Err(Failure::input(
                    format!("cannot read offline folder `{}`: {e}", dir.display()),
                    "check that the folder is readable",
                ));
            }
        }
        let details = AuthorizationDetails::load(&dir.join("authorization-details.json"))
            .map_err(Failure::from_error)?;
        let org_path = dir.join("organization.json");
        let org = if org_path.exists() {
            Some(organization::load(&org_path).map_err(Failure::from_error)?)
        } else {
            None
        };
        let policies_path = dir.join(resource_policies::FILE_NAME);
        let resource_policies = if policies_path.exists() {
            resource_policies::load(&policies_path).map_err(Failure::from_error)?
        } else {
            ResourcePolicies::new()
        };
        Ok(Offline {
            dir: dir.to_path_buf(),
            details,
            org,
            resource_policies,
        })
    }

    pub fn facts(&self, who: &PrincipalRef) -> Result<Facts, Failure> {
        let (kind, named) = match who {
            PrincipalRef::Role(r) => (PrincipalKind::Role, r),
            PrincipalRef::User(u) => (PrincipalKind::User, u),
            PrincipalRef::Caller | PrincipalRef::Stack(_) => {
                return Err(Failure::input(
                    "offline checks need `--role NAME|ARN` or `--user NAME|ARN`",
                    "name the principal to check: the snapshot has no caller or stack",
                ));
            }
        };
        let principal = self
            .details
            .principal(kind, named)
            .map_err(Failure::from_error)?;
        let mut notes = Vec::new();
        let org = match &self.org {
            Some(org) if org.account_id != principal.account_id => {
                return Err(Failure::input(
                    format!(
                        "`{}` describes account {} but `{}` is in account {}",
                        self.dir.join("organization.json").display(),
                        org.account_id,
                        principal.name,
                        principal.account_id
                    ),
                    "collect `organization.json` for the principal's account (`iam-doctor snapshot --out DIR`)",
                ));
            }
            Some(org) => Some(org.clone()),
            None => {
                notes.push(format!(
                    "no `organization.json` in `{}`: SCPs and RCPs were not evaluated",
                    self.dir.display()
                ));
                None
            }
        };
        Ok(Facts {
            principal,
            org,
            resource_policies: self.resource_policies.clone(),
            notes,
            incomplete: false,
        })
    }
}
