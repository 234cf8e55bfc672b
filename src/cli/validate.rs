//! Checks of option values made before any work starts, so a bad value is a usage error
//! (exit 2) at once rather than a wrong answer or a failure after the AWS calls.

use iam_doctor::core::region::{self, RegionError, RegionName};
use iam_doctor::error::Help;

use super::{Failure, warn};

/// `--region`: a malformed name is an input error; a well-formed name the partitions data
/// does not list is a warning (it may be newer than the data), and the run goes on.
pub fn region(value: &str, quiet: bool) -> Result<(), Failure> {
    match region::check(value) {
        Ok(RegionName::Known { .. }) => Ok(()),
        Ok(RegionName::Unknown) => {
            let nearest = region::nearest_known(value)
                .map(|r| format!(" (did you mean `{r}`?)"))
                .unwrap_or_default();
            warn(
                quiet,
                &format!(
                    "`--region {value}` is not a region AWS's partitions data lists{nearest}: requests and `aws:RequestedRegion` use it as given (data: {})",
                    region::SOURCE.lines().next().unwrap_or_default()
                ),
            );
            Ok(())
        }
        Err(e @ RegionError::Empty) => {
            Err(Failure::input(format!("`--region`: {e}"), Help::help(&e)))
        }
        Err(e) => Err(Failure::input(
            format!("`--region` (or AWS_REGION): {e}"),
            Help::help(&e),
        )),
    }
}

/// An AWS account id: exactly 12 digits.
pub fn account_id(value: &str) -> Result<(), Failure> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    Err(Failure::input(
        format!(
            "`--account {}` is not an AWS account id: an account id is 12 digits",
            iam_doctor::aws::network::shown_value(value).escape_default()
        ),
        "give the 12-digit id, e.g. `--account 111122223333` (`aws sts get-caller-identity` shows yours), or leave `--account` out to audit the credentials' account",
    ))
}
