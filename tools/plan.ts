// The offline preview's plan JSON: a contract read by the tests, the policy tooling and users'
// scripts. Keep its shape stable; when it must change, change every reader in the same commit.
import type { RecordedResource } from "./mock-harness";

export type PlanResource = RecordedResource;

export interface PolicyViolation {
    policyPackName: string;
    policyName: string;
    enforcementLevel: "advisory" | "mandatory" | "remediate" | "disabled";
    message: string;
    description?: string;
    /** URN of the resource the violation is about; absent for stack-wide violations without a resource. */
    urn?: string;
}

export interface PolicyResult {
    /** Directory of the pack that was evaluated, relative to the project root. */
    pack: string;
    /** Policy-pack config file passed to the pack, if any. */
    config?: string;
    violations: PolicyViolation[];
    mandatoryCount: number;
    advisoryCount: number;
}

export interface Plan {
    project: string;
    stack: string;
    resources: PlanResource[];
    /** Stack outputs, resolved from the mocks. */
    outputs: Record<string, unknown>;
    /** Result of the policy pack, or null when it was not run. */
    policy: PolicyResult | null;
}
