//! Encoded authorization messages opened with `sts:DecodeAuthorizationMessage`, so a denial is
//! explained from the request AWS evaluated rather than from the words it printed.

use crate::core::denial::{Denial, EncodedMessage};
use crate::inputs::authorization_message;

use super::AwsFacts;

impl AwsFacts {
    /// Decodes the denial's encoded authorization message, if it has one. Decoded, the denial
    /// becomes AWS's decoded request (action, resource, principal, region, context: see
    /// [`authorization_message::DecodedAuthorization::apply_to`]); otherwise it keeps what the
    /// text said and records why it was not decoded. Never fails: a message that cannot be
    /// decoded is still explained from its text.
    pub fn decode_denial(&self, denial: &mut Denial) {
        let Some(encoded) = denial.encoded_message.clone() else {
            return;
        };
        let answer = self.block_on(self.session().iam().decode_authorization_message(&encoded));
        let reason = match answer {
            Ok(text) => match authorization_message::parse(&text) {
                Ok(decoded) => {
                    decoded.apply_to(denial);
                    return;
                }
                Err(e) => format!("AWS decoded it, but {e}"),
            },
            Err(e) => e.to_string(),
        };
        denial.encoded = Some(EncodedMessage::NotDecoded { reason });
    }
}
