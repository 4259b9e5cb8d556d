//! Object types of the Permissions API and their ordered permission levels.

/// One securable object type, named by its URL segment in `/api/2.0/permissions/{segment}/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectType {
    pub segment: &'static str,
    /// The `object_type` string responses carry.
    pub wire_name: &'static str,
    /// Levels from weakest to strongest, with their descriptions.
    pub levels: &'static [(&'static str, &'static str)],
}

/// Secret scopes: their ACLs are changed through the Secrets API (`/secrets/acls/*`), not
/// the Permissions API, so the type is not among [`OBJECT_TYPES`].
pub static SECRET_SCOPES: ObjectType = ObjectType {
    segment: "secret-scopes",
    wire_name: "secret-scope",
    levels: &[("READ", "Can read secrets"), ("WRITE", "Can read and write secrets"), ("MANAGE", "Can change the scope's ACLs and delete it")],
};

const READ_RUN_EDIT_MANAGE: &[(&str, &str)] = &[
    ("CAN_READ", "Can view the object"),
    ("CAN_RUN", "Can view and run the object"),
    ("CAN_EDIT", "Can view, run and edit the object"),
    ("CAN_MANAGE", "Can manage the object and its permissions"),
];

pub const OBJECT_TYPES: &[ObjectType] = &[
    ObjectType {
        segment: "clusters",
        wire_name: "cluster",
        levels: &[("CAN_ATTACH_TO", "Can attach to the cluster"), ("CAN_RESTART", "Can restart the cluster"), ("CAN_MANAGE", "Can manage the cluster")],
    },
    ObjectType {
        segment: "jobs",
        wire_name: "job",
        levels: &[
            ("CAN_VIEW", "Can view the job"),
            ("CAN_MANAGE_RUN", "Can run and cancel runs of the job"),
            ("CAN_MANAGE", "Can manage the job"),
            ("IS_OWNER", "Owns the job"),
        ],
    },
    ObjectType {
        segment: "warehouses",
        wire_name: "warehouses",
        levels: &[
            ("CAN_VIEW", "Can view the warehouse"),
            ("CAN_MONITOR", "Can monitor the warehouse"),
            ("CAN_USE", "Can run queries on the warehouse"),
            ("CAN_MANAGE", "Can manage the warehouse"),
            ("IS_OWNER", "Owns the warehouse"),
        ],
    },
    ObjectType {
        segment: "serving-endpoints",
        wire_name: "serving-endpoint",
        levels: &[("CAN_VIEW", "Can view the endpoint"), ("CAN_QUERY", "Can query the endpoint"), ("CAN_MANAGE", "Can manage the endpoint")],
    },
    ObjectType {
        segment: "experiments",
        wire_name: "mlflowExperiment",
        levels: &[("CAN_READ", "Can read the experiment"), ("CAN_EDIT", "Can edit the experiment"), ("CAN_MANAGE", "Can manage the experiment")],
    },
    ObjectType {
        segment: "registered-models",
        wire_name: "registered-model",
        levels: &[
            ("CAN_READ", "Can read the model"),
            ("CAN_EDIT", "Can edit the model"),
            ("CAN_MANAGE_STAGING_VERSIONS", "Can manage staging versions"),
            ("CAN_MANAGE_PRODUCTION_VERSIONS", "Can manage production versions"),
            ("CAN_MANAGE", "Can manage the model"),
        ],
    },
    ObjectType { segment: "notebooks", wire_name: "notebook", levels: READ_RUN_EDIT_MANAGE },
    ObjectType { segment: "directories", wire_name: "directory", levels: READ_RUN_EDIT_MANAGE },
    ObjectType { segment: "files", wire_name: "file", levels: READ_RUN_EDIT_MANAGE },
    ObjectType { segment: "repos", wire_name: "repo", levels: READ_RUN_EDIT_MANAGE },
    ObjectType {
        segment: "pipelines",
        wire_name: "pipelines",
        levels: &[("CAN_VIEW", "Can view the pipeline"), ("CAN_RUN", "Can run the pipeline"), ("CAN_MANAGE", "Can manage the pipeline"), ("IS_OWNER", "Owns the pipeline")],
    },
    ObjectType { segment: "cluster-policies", wire_name: "cluster-policy", levels: &[("CAN_USE", "Can use the policy")] },
    ObjectType {
        segment: "instance-pools",
        wire_name: "instance-pool",
        levels: &[("CAN_ATTACH_TO", "Can attach to the pool"), ("CAN_MANAGE", "Can manage the pool")],
    },
    ObjectType { segment: "apps", wire_name: "apps", levels: &[("CAN_USE", "Can use the app"), ("CAN_MANAGE", "Can manage the app")] },
    ObjectType { segment: "tokens", wire_name: "tokens", levels: &[("CAN_USE", "Can create and use personal access tokens"), ("CAN_MANAGE", "Can manage token permissions")] },
    ObjectType { segment: "passwords", wire_name: "passwords", levels: &[("CAN_USE", "Can sign in with a password")] },
];

impl ObjectType {
    pub fn find(segment: &str) -> Option<&'static ObjectType> {
        OBJECT_TYPES.iter().find(|t| t.segment == segment)
    }

    /// Rank of a level (higher is stronger), or `None` when the type has no such level.
    pub fn rank(&self, level: &str) -> Option<usize> {
        self.levels.iter().position(|(name, _)| *name == level)
    }

    /// The level an admin holds on every object of this type.
    pub fn admin_level(&self) -> &'static str {
        match self.rank("CAN_MANAGE") {
            Some(_) => "CAN_MANAGE",
            None => self.levels[self.levels.len() - 1].0,
        }
    }

    pub fn level_names(&self) -> String {
        self.levels.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
    }
}
