//! The OpenStack role-to-permission matrix (the domain notes §1.7; seed 000): which OpenStack permissions each
//! `publicCloudProject:*` role action carries. Rows are bitsets over the permissions.

/// One OpenStack permission (`compute_read`) and the service it belongs to (`Nova`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Permission {
    pub name: String,
    pub service: String,
}

/// One role action and the permissions it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub action: Box<str>,
    /// Bit `i` set = carries permission `i`.
    pub bits: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    pub source: String,
    /// Where the matrix was read from (`<built-in>` or a path).
    pub origin: String,
    pub permissions: Vec<Permission>,
    pub roles: Vec<Role>,
}

impl Matrix {
    pub fn permission_index(&self, name: &str) -> Option<usize> {
        self.permissions.iter().position(|p| p.name == name)
    }

    pub fn role(&self, action: &str) -> Option<&Role> {
        self.roles.iter().find(|r| &*r.action == action)
    }

    /// The roles whose row carries permission `index`, in matrix order.
    pub fn roles_carrying(&self, index: usize) -> impl Iterator<Item = &Role> {
        self.roles
            .iter()
            .filter(move |r| r.bits & (1 << index) != 0)
    }

    /// The permission names of a row.
    pub fn row(&self, role: &Role) -> Vec<&str> {
        self.permissions
            .iter()
            .enumerate()
            .filter(|(i, _)| role.bits & (1 << i) != 0)
            .map(|(_, p)| p.name.as_str())
            .collect()
    }
}
