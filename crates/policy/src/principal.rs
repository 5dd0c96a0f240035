//! The caller an API key stands for, as stored (by key hash) in KV.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Free,
    Pro,
    Enterprise,
}

impl Tier {
    pub fn id(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Pro => "pro",
            Tier::Enterprise => "enterprise",
        }
    }
}

/// A KV key record: `{"user":"alice","team":"research","org":"acme","roles":[…],"tier":"pro"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Principal {
    pub user: String,
    pub team: String,
    pub org: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub tier: Tier,
}

#[derive(Debug, thiserror::Error)]
pub enum PrincipalError {
    #[error("key record is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("key record has an empty `{0}`")]
    Empty(&'static str),
}

pub const ADMIN_ROLE: &str = "admin";

impl Principal {
    pub fn from_json(text: &str) -> Result<Self, PrincipalError> {
        let principal: Principal = serde_json::from_str(text)?;
        for (field, value) in [
            ("user", &principal.user),
            ("team", &principal.team),
            ("org", &principal.org),
        ] {
            if value.trim().is_empty() {
                return Err(PrincipalError::Empty(field));
            }
        }
        Ok(principal)
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(ADMIN_ROLE)
    }
}
