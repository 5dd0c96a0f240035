//! Policy slicing: Cedar is handed only the policies whose scope a request satisfies.
//!
//! Cedar evaluates every policy of the set it is given, so its cost grows with the whole
//! bundle (every org's and team's policies) while a request can only match the few whose
//! scope names its caller, action and model. At load, each policy is indexed by its
//! principal scope; per request, the candidates are the unscoped policies plus those
//! scoped to the caller or one of its ancestors, and each candidate's whole scope is
//! checked against the request's entities.
//!
//! Exact, not a heuristic: Cedar evaluates a policy as `scope && when && !unless`, and
//! `&&` short-circuits, so a policy whose scope fails is false without evaluating its
//! conditions. It can neither decide nor error: leaving it out changes neither the
//! decision, nor the deciding policies, nor the errors (`tests/policies/slicing.rs` checks this
//! against the full set on generated bundles).
//!
//! Slices are memoised by the policies they hold, so callers of one team share one.

use std::collections::HashMap;
use std::sync::Arc;

use cedar_policy::{
    ActionConstraint, Entities, EntityTypeName, EntityUid, Policy, PolicySet, PrincipalConstraint,
    ResourceConstraint,
};

use crate::memo::Memo;

/// Distinct slices kept: one per (team, action, model group) in use, in practice.
const SLICES_KEPT: usize = 512;

/// A principal or resource scope (Cedar gives the two their own, identical, enums).
#[derive(Debug, Clone)]
enum EntityScope {
    Any,
    In(EntityUid),
    Eq(EntityUid),
    Is(EntityTypeName),
    IsIn(EntityTypeName, EntityUid),
}

impl From<PrincipalConstraint> for EntityScope {
    fn from(scope: PrincipalConstraint) -> Self {
        match scope {
            PrincipalConstraint::Any => Self::Any,
            PrincipalConstraint::In(e) => Self::In(e),
            PrincipalConstraint::Eq(e) => Self::Eq(e),
            PrincipalConstraint::Is(t) => Self::Is(t),
            PrincipalConstraint::IsIn(t, e) => Self::IsIn(t, e),
        }
    }
}

impl From<ResourceConstraint> for EntityScope {
    fn from(scope: ResourceConstraint) -> Self {
        match scope {
            ResourceConstraint::Any => Self::Any,
            ResourceConstraint::In(e) => Self::In(e),
            ResourceConstraint::Eq(e) => Self::Eq(e),
            ResourceConstraint::Is(t) => Self::Is(t),
            ResourceConstraint::IsIn(t, e) => Self::IsIn(t, e),
        }
    }
}

impl EntityScope {
    /// The entity the scope names, which the index keys it under.
    fn entity(&self) -> Option<&EntityUid> {
        match self {
            Self::Any | Self::Is(_) => None,
            Self::In(e) | Self::Eq(e) | Self::IsIn(_, e) => Some(e),
        }
    }

    fn admits(&self, entity: &Lineage<'_>) -> bool {
        match self {
            Self::Any => true,
            Self::Eq(e) => entity.uid == e,
            Self::In(e) => entity.is_in(e),
            Self::Is(t) => entity.uid.type_name() == t,
            Self::IsIn(t, e) => entity.uid.type_name() == t && entity.is_in(e),
        }
    }
}

/// An entity of the request and its ancestors, as Cedar's `in` sees them.
struct Lineage<'a> {
    uid: &'a EntityUid,
    ancestors: Vec<&'a EntityUid>,
}

impl<'a> Lineage<'a> {
    /// An entity absent from `entities` has no ancestors: `x in y` is then `x == y`, as
    /// in Cedar.
    fn of(uid: &'a EntityUid, entities: &'a Entities) -> Self {
        Self {
            uid,
            ancestors: entities.ancestors(uid).into_iter().flatten().collect(),
        }
    }

    fn is_in(&self, group: &EntityUid) -> bool {
        self.uid == group || self.ancestors.contains(&group)
    }

    fn self_and_ancestors(&self) -> impl Iterator<Item = &EntityUid> {
        std::iter::once(self.uid).chain(self.ancestors.iter().copied())
    }
}

#[derive(Debug, Clone)]
struct Scope {
    principal: EntityScope,
    action: ActionConstraint,
    resource: EntityScope,
}

impl Scope {
    fn of(policy: &Policy) -> Self {
        Self {
            principal: policy.principal_constraint().into(),
            action: policy.action_constraint(),
            resource: policy.resource_constraint().into(),
        }
    }

    fn admits(&self, principal: &Lineage<'_>, action: &Lineage<'_>, resource: &Lineage) -> bool {
        let action_ok = match &self.action {
            ActionConstraint::Any => true,
            ActionConstraint::Eq(a) => action.uid == a,
            ActionConstraint::In(groups) => groups.iter().any(|g| action.is_in(g)),
        };
        action_ok && self.principal.admits(principal) && self.resource.admits(resource)
    }
}

/// The request a slice is cut for: its principal, action and resource entity ids, and
/// the entities (with their ancestors) Cedar will evaluate it against.
#[derive(Clone, Copy)]
pub struct ScopeRequest<'a> {
    pub principal: &'a EntityUid,
    pub action: &'a EntityUid,
    pub resource: &'a EntityUid,
    pub entities: &'a Entities,
}

/// A policy set indexed by principal scope, cutting per-request slices of it.
#[derive(Debug)]
pub struct PolicyIndex {
    all: Arc<PolicySet>,
    policies: Vec<Policy>,
    scopes: Vec<Scope>,
    /// Policies with no principal entity in scope (`principal` or `principal is T`).
    unscoped: Vec<u32>,
    /// Policies whose principal scope names this entity (`==`, `in`, `is … in`).
    by_principal: HashMap<EntityUid, Vec<u32>>,
    slices: Memo<Vec<u32>, Arc<PolicySet>>,
}

impl PolicyIndex {
    pub fn new(all: PolicySet) -> Self {
        let policies: Vec<Policy> = all.policies().cloned().collect();
        let scopes: Vec<Scope> = policies.iter().map(Scope::of).collect();
        let mut unscoped = Vec::new();
        let mut by_principal: HashMap<EntityUid, Vec<u32>> = HashMap::new();
        for (index, scope) in (0u32..).zip(&scopes) {
            match scope.principal.entity() {
                Some(entity) => by_principal.entry(entity.clone()).or_default().push(index),
                None => unscoped.push(index),
            }
        }
        Self {
            all: Arc::new(all),
            policies,
            scopes,
            unscoped,
            by_principal,
            slices: Memo::new(SLICES_KEPT),
        }
    }

    pub fn all(&self) -> &PolicySet {
        &self.all
    }

    /// The policies whose scope `request` satisfies: exactly those Cedar could find
    /// satisfied or in error on it.
    pub fn slice(&self, request: ScopeRequest<'_>) -> Arc<PolicySet> {
        let principal = Lineage::of(request.principal, request.entities);
        let action = Lineage::of(request.action, request.entities);
        let resource = Lineage::of(request.resource, request.entities);

        let scoped = principal
            .self_and_ancestors()
            .filter_map(|uid| self.by_principal.get(uid))
            .flatten();
        let mut members: Vec<u32> = self
            .unscoped
            .iter()
            .chain(scoped)
            .copied()
            .filter(|&index| {
                self.scopes
                    .get(index as usize)
                    .is_some_and(|scope| scope.admits(&principal, &action, &resource))
            })
            .collect();
        // Canonical order, so one set of policies is one memo entry.
        members.sort_unstable();
        members.dedup();

        let cut = || {
            PolicySet::from_policies(
                members
                    .iter()
                    .filter_map(|&index| self.policies.get(index as usize).cloned()),
            )
            .map(Arc::new)
            .map_err(drop)
        };
        // Cutting cannot fail (ids are unique in the full set); if it ever did, the full
        // set is always a correct answer.
        self.slices
            .get_or_try_insert(&members, cut)
            .unwrap_or_else(|_| Arc::clone(&self.all))
    }
}
