//! Who a resource-based policy's `Principal` / `NotPrincipal` names, compared with the
//! principal making the request.

use super::arn::Arn;
use super::policy::{PrincipalClause, Principals};

/// How a `Principal` element names the request's principal.
///
/// A check knows the role but not the name of the session a deploy will run under; the request
/// principal is then the role's ARN and a policy naming one particular session of it is
/// [`PrincipalMatch::SessionOfRole`]: never counted as granting, always as denying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalMatch {
    /// It does not name it.
    No,
    /// It names a session of the caller's role that may or may not be the caller's.
    SessionOfRole,
    /// It names the caller's account: the account's IAM policies decide.
    Account,
    /// It names the caller's role ARN: boundaries and session policies still apply.
    Role,
    /// It names the caller itself (`*`, the session, the user).
    Direct,
}

/// The principal making a request, as resource policies see it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller<'a> {
    /// A session of a role whose name is not known (`arn:…:iam::A:role/path/NAME`).
    RoleSession {
        account: &'a str,
        role_arn: &'a str,
        name: &'a str,
    },
    /// A known session (`arn:…:sts::A:assumed-role/NAME/SESSION`).
    AssumedRole {
        account: &'a str,
        name: &'a str,
        arn: &'a str,
    },
    /// An IAM user, or any other principal: matched by its exact ARN.
    Other { account: &'a str, arn: &'a str },
}

fn caller(principal: &str) -> Caller<'_> {
    let Some(arn) = Arn::parse(principal) else {
        return Caller::Other {
            account: "",
            arn: principal,
        };
    };
    match arn.service {
        "iam" if arn.resource.starts_with("role/") => Caller::RoleSession {
            account: arn.account,
            role_arn: principal,
            name: arn.resource.rsplit('/').next().unwrap_or(""),
        },
        "sts" if arn.resource.starts_with("assumed-role/") => {
            let mut parts = arn.resource.splitn(3, '/');
            parts.next();
            Caller::AssumedRole {
                account: arn.account,
                name: parts.next().unwrap_or(""),
                arn: principal,
            }
        }
        _ => Caller::Other {
            account: arn.account,
            arn: principal,
        },
    }
}

impl Caller<'_> {
    fn account(&self) -> &str {
        match self {
            Caller::RoleSession { account, .. }
            | Caller::AssumedRole { account, .. }
            | Caller::Other { account, .. } => account,
        }
    }
}

/// How one `AWS` principal value names the caller.
fn value_match(value: &str, who: &Caller<'_>) -> PrincipalMatch {
    if value == "*" {
        return PrincipalMatch::Direct;
    }
    let account = who.account();
    if !account.is_empty() && value == account {
        return PrincipalMatch::Account;
    }
    let Some(named) = Arn::parse(value) else {
        return PrincipalMatch::No;
    };
    if named.account != account || account.is_empty() {
        return PrincipalMatch::No;
    }
    match (named.service, named.resource, who) {
        ("iam", "root", _) => PrincipalMatch::Account,
        ("iam", r, Caller::RoleSession { role_arn, .. }) if r.starts_with("role/") => {
            if value == *role_arn {
                PrincipalMatch::Role
            } else {
                PrincipalMatch::No
            }
        }
        // A session ARN carries the role's name but not its path.
        ("iam", r, Caller::AssumedRole { name, .. }) if r.starts_with("role/") => {
            if r.rsplit('/').next() == Some(*name) {
                PrincipalMatch::Role
            } else {
                PrincipalMatch::No
            }
        }
        ("sts", r, Caller::RoleSession { name, .. }) if r.starts_with("assumed-role/") => {
            if r.split('/').nth(1) == Some(*name) {
                PrincipalMatch::SessionOfRole
            } else {
                PrincipalMatch::No
            }
        }
        (_, _, Caller::AssumedRole { arn, .. } | Caller::Other { arn, .. }) if value == *arn => {
            PrincipalMatch::Direct
        }
        _ => PrincipalMatch::No,
    }
}

/// The strongest way any `AWS` value of the element names the caller. Only `AWS` principals
/// can name an IAM role or user: `Service`, `Federated` and `CanonicalUser` never do.
fn strongest(p: &Principals, who: &Caller<'_>) -> PrincipalMatch {
    match p {
        Principals::Any => PrincipalMatch::Direct,
        Principals::ByType(types) => types
            .iter()
            .filter(|(t, _)| t == "AWS")
            .flat_map(|(_, values)| values.iter())
            .map(|v| value_match(v, who))
            .max()
            .unwrap_or(PrincipalMatch::No),
    }
}

/// Is every identity AWS checks for the caller (its account, its role, its session; or its
/// account and user) listed? Only then does a `NotPrincipal` leave the caller out
/// (reference_policies_elements_notprincipal: the account, the role and the assumed-role
/// session are each evaluated). A session whose name is not known is never known to be listed.
fn all_identities_listed(p: &Principals, who: &Caller<'_>) -> bool {
    let Principals::ByType(types) = p else {
        return true;
    };
    let found: Vec<PrincipalMatch> = types
        .iter()
        .filter(|(t, _)| t == "AWS")
        .flat_map(|(_, values)| values.iter())
        .map(|v| value_match(v, who))
        .collect();
    let has = |m: PrincipalMatch| found.contains(&m);
    match who {
        Caller::RoleSession { .. } => false,
        Caller::AssumedRole { .. } => {
            has(PrincipalMatch::Account) && has(PrincipalMatch::Role) && has(PrincipalMatch::Direct)
        }
        Caller::Other { .. } => has(PrincipalMatch::Account) && has(PrincipalMatch::Direct),
    }
}

/// Does a resource policy's `Deny` statement apply to the caller? A statement without a
/// principal element applies to everyone. `NotPrincipal` with `Deny` denies every principal
/// it does not fully list, and always denies a caller with a permissions boundary
/// (reference_policies_elements_notprincipal, access_policies_boundaries).
pub fn deny_applies(clause: Option<&PrincipalClause>, principal: &str, has_boundary: bool) -> bool {
    let who = caller(principal);
    match clause {
        None => true,
        Some(PrincipalClause::Principal(p)) => strongest(p, &who) != PrincipalMatch::No,
        Some(PrincipalClause::NotPrincipal(_)) if has_boundary => true,
        Some(PrincipalClause::NotPrincipal(p)) => !all_identities_listed(p, &who),
    }
}

/// How a resource policy's `Allow` statement names the caller. `NotPrincipal` with `Allow` is
/// not supported by AWS (reference_policies_elements_notprincipal) and grants nothing; a
/// session of the caller's role that may not be the caller's grants nothing either.
///
/// Within one account the *way* a resource policy names the caller decides what its `Allow`
/// does (reference_policies_evaluation-logic, policy-eval-denyallow; access_policies_boundaries,
/// "Resource-based policies"): the account (`ACCT` or `arn:aws:iam::ACCT:root`) only delegates
/// to the account's IAM policies; a role ARN grants, but a permissions boundary or session
/// policy still limits it; a role session ARN, an IAM user ARN or `*` grants directly.
pub fn allow_match(clause: Option<&PrincipalClause>, principal: &str) -> PrincipalMatch {
    match clause {
        // Resource policies name their principals; one that does not names no one.
        None | Some(PrincipalClause::NotPrincipal(_)) => PrincipalMatch::No,
        Some(PrincipalClause::Principal(p)) => match strongest(p, &caller(principal)) {
            PrincipalMatch::SessionOfRole => PrincipalMatch::No,
            m => m,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn clause(principal_json: &str) -> PrincipalClause {
        let text = format!(
            r#"{{"Statement":[{{"Effect":"Allow",{principal_json},"Action":"s3:GetObject","Resource":"*"}}]}}"#
        );
        Policy::parse("p", &text)
            .expect("valid")
            .statements
            .remove(0)
            .principal
            .expect("has a principal element")
    }

    const ROLE: &str = "arn:aws:iam::111122223333:role/deploy/app-deployer";
    const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/app-deployer/build-42";
    const USER: &str = "arn:aws:iam::111122223333:user/alice";

    /// reference_policies_evaluation-logic (policy-eval-denyallow, "Resource-based policies and
    /// implicit denies in other policy types") and reference_policies_elements_principal: how
    /// each form of principal names each kind of caller.
    #[test]
    fn principal_forms_name_callers_as_the_evaluation_logic_page_says() {
        use PrincipalMatch::*;
        let cases: &[(&str, &str, PrincipalMatch)] = &[
            (r#""Principal":"*""#, ROLE, Direct),
            (r#""Principal":{"AWS":"*"}"#, SESSION, Direct),
            (r#""Principal":{"AWS":"111122223333"}"#, ROLE, Account),
            (
                r#""Principal":{"AWS":"arn:aws:iam::111122223333:root"}"#,
                USER,
                Account,
            ),
            (
                r#""Principal":{"AWS":"arn:aws:iam::444455556666:root"}"#,
                ROLE,
                No,
            ),
            (r#""Principal":{"AWS":"444455556666"}"#, ROLE, No),
            (
                r#""Principal":{"AWS":"arn:aws:iam::111122223333:role/deploy/app-deployer"}"#,
                ROLE,
                Role,
            ),
            // The role ARN names the role's sessions; a session ARN has no path.
            (
                r#""Principal":{"AWS":"arn:aws:iam::111122223333:role/deploy/app-deployer"}"#,
                SESSION,
                Role,
            ),
            (
                r#""Principal":{"AWS":"arn:aws:iam::111122223333:role/other"}"#,
                ROLE,
                No,
            ),
            (
                r#""Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/app-deployer/build-42"}"#,
                SESSION,
                Direct,
            ),
            (
                r#""Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/app-deployer/build-7"}"#,
                SESSION,
                No,
            ),
            // The check's caller is a session of the role whose name is not known.
            (
                r#""Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/app-deployer/build-42"}"#,
                ROLE,
                SessionOfRole,
            ),
            (
                r#""Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"}"#,
                USER,
                Direct,
            ),
            (
                r#""Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"}"#,
                USER,
                No,
            ),
            // Only AWS principals name IAM roles and users.
            (
                r#""Principal":{"Service":"lambda.amazonaws.com"}"#,
                ROLE,
                No,
            ),
            (r#""Principal":{"Service":"*"}"#, ROLE, No),
            (
                r#""Principal":{"Federated":"cognito-identity.amazonaws.com"}"#,
                SESSION,
                No,
            ),
            // Several values: the strongest wins.
            (
                r#""Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/deploy/app-deployer"]}"#,
                ROLE,
                Role,
            ),
        ];
        for (json, caller, expected) in cases {
            let c = clause(json);
            let PrincipalClause::Principal(p) = &c else {
                panic!("a Principal element")
            };
            assert_eq!(
                strongest(p, &super::caller(caller)),
                *expected,
                "{json} for {caller}"
            );
        }
    }

    /// reference_policies_elements_notprincipal: "NotPrincipal must be used with Deny"; with
    /// Deny it denies every principal except those listed, and a role session is left out only
    /// when its account, its role and the session itself are all listed.
    #[test]
    fn notprincipal_denies_unless_every_identity_is_listed() {
        let full = clause(
            r#""NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:role/deploy/app-deployer","arn:aws:sts::111122223333:assumed-role/app-deployer/build-42"]}"#,
        );
        let role_only = clause(
            r#""NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/deploy/app-deployer"]}"#,
        );
        let user_and_account = clause(
            r#""NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:root"]}"#,
        );
        assert!(!deny_applies(Some(&full), SESSION, false));
        assert!(deny_applies(Some(&role_only), SESSION, false));
        assert!(!deny_applies(Some(&user_and_account), USER, false));
        assert!(deny_applies(
            Some(&user_and_account),
            "arn:aws:iam::111122223333:user/bob",
            false
        ));
        // The check's caller: a session whose name is not known cannot be known to be listed.
        assert!(deny_applies(Some(&full), ROLE, false));
        // access_policies_boundaries: NotPrincipal with Deny always denies a principal that has
        // a permissions boundary, whatever it lists.
        assert!(deny_applies(Some(&full), SESSION, true));
        // NotPrincipal with Allow is not supported: it grants nothing.
        assert_eq!(allow_match(Some(&full), USER), PrincipalMatch::No);
    }

    #[test]
    fn deny_applies_to_every_way_of_naming_the_caller_allow_only_to_known_ones() {
        let account = clause(r#""Principal":{"AWS":"111122223333"}"#);
        let other_session = clause(
            r#""Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/app-deployer/build-42"}"#,
        );
        assert!(deny_applies(Some(&account), ROLE, false));
        assert_eq!(allow_match(Some(&account), ROLE), PrincipalMatch::Account);
        // A session of the role that may be the caller's: denies, never grants.
        assert!(deny_applies(Some(&other_session), ROLE, false));
        assert_eq!(allow_match(Some(&other_session), ROLE), PrincipalMatch::No);
        assert!(deny_applies(None, ROLE, false));
        assert_eq!(allow_match(None, ROLE), PrincipalMatch::No);
    }
}
