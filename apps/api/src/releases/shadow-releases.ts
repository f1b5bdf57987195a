/**
 * A shadow release that succeeded served no traffic (core's shadow-release.ts): its version was
 * only compared. Wherever "succeeded" means "took the traffic" (what is live, the version to roll
 * back to, the upstream success a promotion needs, DORA's deployments) shadow releases are left
 * out with this filter (release.strategy, set from the plan when the release is created).
 */
export const NOT_SHADOW = { strategy: { not: 'shadow' } };
