use std::sync::Arc;

use kiln_core::authn::Authenticator;
use kiln_core::workspace::WorkspaceInfo;
use kiln_store::Store;

/// Everything handlers need, cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub workspace: Arc<WorkspaceInfo>,
    pub authenticator: Authenticator,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, workspace: WorkspaceInfo) -> AppState {
        AppState { authenticator: Authenticator::new(store.clone()), store, workspace: Arc::new(workspace) }
    }
}
