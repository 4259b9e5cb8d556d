//! Permissions (`iam.py` of the SDK): the entries of an access control list. Levels are
//! checked against the object type by the service, which names the levels that type has.

use super::{MAX_ITEMS, NAME, Shape, optional};

/// One entry of a Permissions API request.
pub static ACCESS_CONTROL_REQUEST: Shape =
    Shape::Object(&[optional("group_name", NAME), optional("permission_level", NAME), optional("service_principal_name", NAME), optional("user_name", NAME)]);

/// `access_control_list` of `PUT` and `PATCH /permissions/...`.
pub static ACCESS_CONTROL_LIST: Shape = Shape::Array(&ACCESS_CONTROL_REQUEST, MAX_ITEMS);
