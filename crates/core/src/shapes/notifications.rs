//! Notification destinations (`settings.py` of the SDK). Kiln sends to generic webhooks only;
//! the service refuses other destination types.

use super::{KEY, NAME, Shape, optional};

const GENERIC_WEBHOOK: Shape = Shape::Object(&[
    optional("url", KEY),
    optional("url_set", Shape::Bool),
    optional("username", NAME),
    optional("username_set", Shape::Bool),
    optional("password", NAME),
    optional("password_set", Shape::Bool),
]);

/// The body of a create or update: both fields are optional on the wire; a create needs them.
pub static DESTINATION: Shape = Shape::Object(&[optional("display_name", NAME), optional("config", Shape::Object(&[optional("generic_webhook", GENERIC_WEBHOOK)]))]);
