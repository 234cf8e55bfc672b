//! The resources a deploy touches that can be named before it runs, whose resource-based
//! policies take part in `check` and are collected by `snapshot`: the Jets bootstrap stack's
//! deploy bucket, and the existing resources the `--template` files name.

use std::path::PathBuf;

use iam_doctor::core::resources::named_in_template;
use iam_doctor::inputs::template;

use super::Failure;

/// The existing resources the templates' properties name, as ARNs (see
/// [`named_in_template`]); bare KMS key ids take the deploy's region and account.
pub fn in_templates(
    files: &[PathBuf],
    region: Option<&str>,
    account: Option<&str>,
) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    for file in files {
        let t = template::load(file).map_err(Failure::from_error)?;
        for resource in t.resources().values() {
            if let Some(props) = resource.get("Properties") {
                out.extend(named_in_template(props, region, account));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
