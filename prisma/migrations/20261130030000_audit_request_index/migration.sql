-- The dashboard links a control's result to the audit events its request caused.
CREATE INDEX "audit_event_request_id_idx" ON "audit_event"("request_id");
