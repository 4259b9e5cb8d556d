//! The declared Databricks shape of each typed request body read with `Checked`.

use kiln_api::secrets::CreateScope;
use kiln_api::sql::{ExecuteStatementRequest, WarehouseSpec};
use kiln_api::tokens::{CreateOboTokenRequest, CreateTokenRequest};
use kiln_api::uc::{CreateCatalog, CreateFunctionRequest, CreateSchema, CreateVolume, UpdatePermissions, UpdateSecurable};
use kiln_core::shapes::{self, Shape};

use crate::extract::RequestShape;

macro_rules! request_shapes {
    ($($request:ty => $shape:expr),* $(,)?) => {
        $(impl RequestShape for $request {
            const SHAPE: &'static Shape = &$shape;
        })*
    };
}

request_shapes! {
    CreateCatalog => shapes::uc::SECURABLE,
    CreateSchema => shapes::uc::SECURABLE,
    CreateVolume => shapes::uc::SECURABLE,
    UpdateSecurable => shapes::uc::UPDATE,
    CreateFunctionRequest => shapes::uc::FUNCTION_CREATE,
    UpdatePermissions => shapes::uc::GRANTS_UPDATE,
    WarehouseSpec => shapes::sql::WAREHOUSE,
    ExecuteStatementRequest => shapes::sql::STATEMENT,
    CreateTokenRequest => shapes::tokens::TOKEN_CREATE,
    CreateOboTokenRequest => shapes::tokens::ON_BEHALF_OF_TOKEN,
    CreateScope => shapes::tokens::SCOPE_CREATE,
    kiln_api::jobs::RepairRunRequest => shapes::jobs::REPAIR_RUN,
    kiln_api::scim::ScimResourceInput => shapes::scim::RESOURCE_INPUT,
    kiln_api::scim::PatchRequest => shapes::scim::PATCH,
}
