//! The existing resources a deploy's templates name, whose resource-based policies take part in
//! `check` and are collected by `snapshot`.

use std::path::PathBuf;

use crate::core::resources::named_in_template;
use crate::inputs::template::{self, TemplateError};

/// The existing resources the templates' properties name, as ARNs (see
/// [`named_in_template`]), sorted; bare KMS key ids take the deploy's region and account.
pub fn template_resources(
    files: &[PathBuf],
    region: Option<&str>,
    account: Option<&str>,
) -> Result<Vec<String>, TemplateError> {
    let mut out = Vec::new();
    for file in files {
        let t = template::load(file)?;
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
