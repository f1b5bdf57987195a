export * from './plan/duration.ts';
export * from './plan/plan-spec.ts';
export * from './plan/compiled-plan.ts';
export * from './plan/validate-plan.ts';
export * from './release/release-state.ts';
export * from './release/transition.ts';
