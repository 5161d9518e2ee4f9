// Shared fixtures for the policy specs: the real plans of the stacks (one offline preview per stack
// per test run), crafted resources, and the policy pack's analyzer started once per spec file.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Plan, PlanResource, PolicyViolation } from "../tools/plan";
import { AnalyzerSession, analyzePlan, startAnalyzer } from "../tools/policy-analyzer";
import { loadPolicyPackConfig, PackConfig, reconcilePolicyPackConfig } from "../tools/policy-config";
import type { ValueMode } from "../tools/policy-unknowns";
import { PROJECT_ROOT } from "../tools/stack-config";

export { UNKNOWN_VALUE } from "../tools/policy-unknowns";
export const PACK_DIR = path.join(PROJECT_ROOT, "policy-pack");
export type StackName = "dev" | "prod";

const plans = new Map<StackName, string>();

/** A fresh copy of the stack's plan, built once per process by the offline preview (without policy). */
export function stackPlan(stack: StackName): Plan {
    let text = plans.get(stack);
    if (text === undefined) {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "policy-plan-")), `${stack}.json`);
        execFileSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "tools/offline-preview.ts", "--stack", stack, "--json", file, "--no-policy"],
            { cwd: PROJECT_ROOT, stdio: ["ignore", "ignore", "pipe"] });
        text = fs.readFileSync(file, "utf8");
        plans.set(stack, text);
    }
    return JSON.parse(text);
}

/** Writes a plan to a temporary file (for the policy:check CLI). */
export function writePlan(plan: Plan): string {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "policy-plan-")), `${plan.stack}.json`);
    fs.writeFileSync(file, JSON.stringify(plan));
    return file;
}

/** A resource shaped like the plan's, for crafting Analyze / AnalyzeStack inputs. */
export function res(type: string, name: string, inputs: Record<string, any>, extra: Partial<PlanResource> = {}): PlanResource {
    return {
        urn: `urn:pulumi:test::backend-infra::${type}::${name}`,
        type, name, id: `${name}-id`, parent: null, custom: true,
        inputs, outputs: { ...inputs }, computed: ["id"],
        dependencies: Object.values(extra.propertyDependencies ?? {}).flat(),
        propertyDependencies: {}, provider: null, protect: false, retainOnDelete: false,
        ...extra,
    };
}

/** A plan made of crafted resources. */
export function planOf(stack: string, resources: PlanResource[]): Plan {
    return { project: "backend-infra", stack, resources, outputs: {}, policy: null };
}

/** The plan's one resource of `type` whose name ends with `suffix` (throws otherwise). */
export function one(plan: Plan, type: string, suffix = ""): PlanResource {
    const found = plan.resources.filter((r) => r.type === type && r.name.endsWith(suffix));
    if (found.length !== 1) throw new Error(`expected one ${type} *${suffix} in the ${plan.stack} plan, found ${found.length}`);
    return found[0];
}

/** The pack's config for a stack (its policy-pack/<stack>.json over the schema defaults), or the defaults alone. */
export function packConfig(session: AnalyzerSession, stack?: StackName, extra: PackConfig = {}): PackConfig {
    const file = stack ? loadPolicyPackConfig(path.join(PACK_DIR, `${stack}.json`)) : {};
    const merged: PackConfig = { ...file };
    for (const [k, v] of Object.entries(extra)) merged[k] = { ...merged[k], ...v, properties: { ...merged[k]?.properties, ...v.properties } };
    return reconcilePolicyPackConfig(session.info.policies, session.info.initialConfig, merged);
}

/** Starts the pack in `before` and stops it in `after`; returns a getter for the session. */
export function useAnalyzer(stack = "test"): () => AnalyzerSession {
    let session: AnalyzerSession | undefined;
    before(async function () {
        this.timeout(180_000);
        session = await startAnalyzer(PACK_DIR, { project: "backend-infra", stack });
    });
    after(async () => { await session?.close(); });
    return () => {
        if (!session) throw new Error("the analyzer is not running");
        return session;
    };
}

/** Violations of a plan under the given config, values as in a first preview and as in an update. */
export async function violationsOf(session: AnalyzerSession, plan: Plan, config: PackConfig, modes: ValueMode[] = ["preview", "known"]): Promise<PolicyViolation[]> {
    await session.configure(config);
    const out: PolicyViolation[] = [];
    for (const mode of modes) out.push(...await analyzePlan(session, plan, mode));
    return out;
}

/** "policy @ urn: message" lines, for assertion messages. */
export function show(vs: PolicyViolation[]): string {
    return vs.map((v) => `[${v.enforcementLevel}] ${v.policyName} @ ${v.urn}: ${v.message}`).join("\n") || "(none)";
}
