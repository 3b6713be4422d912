//! Cases on an order: opened by agents or by a provider's event (a payment dispute), moved on
//! to escalated or resolved. Each write records its timeline entry, and a provider event is
//! recorded by the same write, so a redelivery changes nothing.

use super::support::{OpenCaseRequest, UpdateCaseRequest, agent, may_handle};
use super::text::text;
use super::{AppError, Caller, Oms};
use crate::domain::support::{Case, CaseStatus};
use crate::domain::*;

impl Oms {
    pub async fn open_case(
        &self,
        c: &Caller,
        req: OpenCaseRequest,
        external_ref: Option<String>,
    ) -> Result<Case, AppError> {
        self.open_case_for(c, req, external_ref, None).await
    }

    /// Opens a case; with `event`, the provider event that asks for it is recorded by the same
    /// write, so a redelivery opens nothing more (`AppError::Conflict` "duplicate-event").
    pub(crate) async fn open_case_for(
        &self,
        c: &Caller,
        req: OpenCaseRequest,
        external_ref: Option<String>,
        event: Option<ProviderEvent>,
    ) -> Result<Case, AppError> {
        self.open_case_as(c, req, external_ref, event, CaseId::generate(), None).await
    }

    /// Opens a case under `id` (a provider's dispute has one id, so two events that both
    /// would open it open one: 409 `case-exists` for the second), resolved already with
    /// `resolved` (a dispute whose closing arrived before its opening).
    pub(crate) async fn open_case_as(
        &self,
        c: &Caller,
        req: OpenCaseRequest,
        external_ref: Option<String>,
        event: Option<ProviderEvent>,
        id: CaseId,
        resolved: Option<String>,
    ) -> Result<Case, AppError> {
        may_handle(c, req.kind)?;
        self.order_for_agent(&req.order_id).await?;
        let now = self.clock.now();
        let case = Case {
            id,
            order_id: req.order_id.clone(),
            kind: req.kind,
            status: if resolved.is_some() { CaseStatus::Resolved } else { CaseStatus::Open },
            subject: text("subject", &req.subject, 200)?,
            description: req.description.as_deref().map(|d| text("description", d, 5000)).transpose()?,
            resolution: resolved.clone(),
            external_ref,
            opened_by: c.customer.to_string(),
            due_by: req.due_by,
            messages: req.message.clone().into_iter().collect(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let ev = TimelineEvent::new(now, "case.opened", agent(c))
            .with_note(format!("{} {:?}: {}", case.id, case.kind, case.subject));
        let mut change = OrderChange::for_order(&case.order_id).with_event(ev);
        if let Some(r) = &resolved {
            change = change
                .with_event(TimelineEvent::new(now, "case.resolved", agent(c)).with_note(format!("{}: {r}", case.id)));
        }
        change.cases.push(Write::Create(case.clone()));
        change.provider_event = event;
        match self.store.commit(&change).await {
            Ok(()) => Ok(case),
            Err(crate::ports::StoreError::AlreadyExists) => Err(AppError::Conflict {
                kind: "case-exists",
                detail: format!("case {} was opened meanwhile", case.id),
            }),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn update_case(&self, c: &Caller, id: &CaseId, req: UpdateCaseRequest) -> Result<Case, AppError> {
        self.update_case_for(c, id, req, None).await
    }

    /// Moves a case on; with `event`, recorded by the same write as `open_case_for` does.
    pub(crate) async fn update_case_for(
        &self,
        c: &Caller,
        id: &CaseId,
        req: UpdateCaseRequest,
        event: Option<ProviderEvent>,
    ) -> Result<Case, AppError> {
        let case = self.store.get_case(id).await?.ok_or(AppError::NotFound)?;
        may_handle(c, case.kind)?;
        let resolution = req.resolution.as_deref().map(|r| text("resolution", r, 2000)).transpose()?;
        if case.status == req.status && resolution.as_ref().is_none_or(|r| Some(r) == case.resolution.as_ref()) {
            return Ok(case);
        }
        if case.status != req.status && !case.status.can_move_to(req.status) {
            return Err(AppError::Unprocessable {
                kind: "invalid-case-transition",
                detail: format!("a {} case cannot become {}", case.status.as_str(), req.status.as_str()),
            });
        }
        let now = self.clock.now();
        let mut next = case.clone();
        next.status = req.status;
        next.resolution = resolution.or(case.resolution.clone());
        next.version += 1;
        next.updated_at = now;
        let ev = TimelineEvent::new(now, &format!("case.{}", req.status.as_str()), agent(c)).with_note(format!(
            "{}{}",
            case.id,
            next.resolution.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
        ));
        let mut change = OrderChange::for_order(&case.order_id).with_event(ev);
        change.cases.push(Write::Update { value: next.clone(), expected_version: case.version });
        change.provider_event = event;
        self.store.commit(&change).await?;
        Ok(next)
    }
}
