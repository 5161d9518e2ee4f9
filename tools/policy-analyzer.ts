// Evaluates a plan through the policy pack's own gRPC analyzer, started the way the Pulumi CLI
// starts a local Node.js pack: `pulumi-analyzer-policy` resolves @pulumi/pulumi/cmd/run-policy-pack
// from the pack directory and runs it with node (cwd = the pack, args = <engine> .); the pack's
// `new PolicyPack(...)` serves the Analyzer service and prints its port. The engine then calls
// GetAnalyzerInfo, GetPluginInfo, ConfigureStack, Configure (config file over schema defaults),
// Analyze for every resource and AnalyzeStack for the whole stack. So does this client.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import * as services from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import type { Plan, PlanResource, PolicyResult, PolicyViolation } from "./plan";
import { EnforcementLevel, loadPolicyPackConfig, PackConfig, PolicyDescriptor, reconcilePolicyPackConfig } from "./policy-config";
import { analyzerProperties, ValueMode } from "./policy-unknowns";
import { PROJECT_ROOT } from "./stack-config";

/** No engine runs offline; the pack's runner drops this argument (it only logs through the engine when one exists). */
const NO_ENGINE = "127.0.0.1:0";
const START_TIMEOUT_MS = 120_000; // the runner type-checks the pack with ts-node first
const CALL_TIMEOUT_MS = 60_000;

const LEVELS: Record<number, EnforcementLevel> = {
    [pb.EnforcementLevel.ADVISORY]: "advisory",
    [pb.EnforcementLevel.MANDATORY]: "mandatory",
    [pb.EnforcementLevel.DISABLED]: "disabled",
    [pb.EnforcementLevel.REMEDIATE]: "remediate",
};
const LEVEL_CODES = Object.fromEntries(Object.entries(LEVELS).map(([k, v]) => [v, Number(k)])) as Record<EnforcementLevel, number>;

export class PolicyPackError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PolicyPackError";
    }
}

/** A resource as the engine describes it to the analyzer. */
export interface AnalyzerResource {
    urn: string;
    type: string;
    name: string;
    properties: Record<string, unknown>;
    parent?: string | null;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
    protect?: boolean;
    provider?: { urn: string; type: string; name: string; properties: Record<string, unknown> };
}

export interface AnalyzerInfo {
    name: string;
    version: string;
    policies: PolicyDescriptor[];
    initialConfig: PackConfig;
}

export interface AnalyzerSession {
    readonly info: AnalyzerInfo;
    /** Sends Configure with an already reconciled config (see reconcilePolicyPackConfig). */
    configure(config: PackConfig): Promise<void>;
    analyze(resource: AnalyzerResource): Promise<PolicyViolation[]>;
    analyzeStack(resources: AnalyzerResource[]): Promise<PolicyViolation[]>;
    close(): Promise<void>;
}

export interface StartOptions {
    project: string;
    stack: string;
    dryRun?: boolean;
}

function resolveRunner(packDir: string): string {
    if (!fs.existsSync(path.join(packDir, "PulumiPolicy.yaml"))) {
        throw new PolicyPackError(`failed to load Pulumi policy project located at "${packDir}": no PulumiPolicy.yaml`);
    }
    try {
        return require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
    } catch {
        throw new PolicyPackError(`it looks like the policy pack's dependencies are not installed; try running npm install in "${packDir}"`);
    }
}

/** Starts the pack's analyzer and connects to it; the caller must close() the session. */
export async function startAnalyzer(packDir: string, opts: StartOptions): Promise<AnalyzerSession> {
    const dir = path.resolve(packDir);
    const runner = resolveRunner(dir);
    const child = spawn(process.execPath, [runner, NO_ENGINE, "."], {
        cwd: dir,
        env: {
            ...process.env,
            PULUMI_NODEJS_PROJECT: opts.project, PULUMI_NODEJS_STACK: opts.stack, PULUMI_NODEJS_DRY_RUN: String(opts.dryRun ?? true),
            PULUMI_PROJECT: opts.project, PULUMI_STACK: opts.stack, PULUMI_DRY_RUN: String(opts.dryRun ?? true),
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const stderr: string[] = [];
    child.stderr!.setEncoding("utf8").on("data", (s: string) => { stderr.push(s); });
    const tail = () => stderr.join("").trim().split("\n").slice(-30).join("\n");
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const exit = new Promise<void>((resolve) => child.on("exit", (code, signal) => { exited = { code, signal }; resolve(); }));

    const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new PolicyPackError(`policy pack "${packDir}" did not print its port within ${START_TIMEOUT_MS / 1000}s\n${tail()}`)); }, START_TIMEOUT_MS);
        child.stdout!.setEncoding("utf8").on("data", (s: string) => {
            out += s;
            const line = out.split("\n")[0];
            if (out.includes("\n") && /^\d+$/.test(line.trim())) { clearTimeout(timer); resolve(Number(line.trim())); }
        });
        child.on("error", (err) => { clearTimeout(timer); reject(new PolicyPackError(`policy pack "${packDir}" failed to start: ${err.message}`)); });
        child.on("exit", (code, signal) => {
            clearTimeout(timer);
            reject(new PolicyPackError(`policy pack "${packDir}" failed to start (exit ${code ?? signal}):\n${tail() || out.trim()}`));
        });
    });

    const client = new services.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
        "grpc.max_receive_message_length": 400 * 1024 * 1024,
        "grpc.max_send_message_length": 400 * 1024 * 1024,
    });
    const call = <Req, Res>(method: string, req: Req): Promise<Res> => new Promise((resolve, reject) => {
        const deadline = new Date(Date.now() + CALL_TIMEOUT_MS);
        (client as any)[method](req, new grpc.Metadata(), { deadline }, (err: grpc.ServiceError | null, res: Res) => {
            if (!err) return resolve(res);
            const died = exited ? ` (the analyzer exited: ${exited.code ?? exited.signal})` : "";
            reject(new PolicyPackError(`policy pack "${packDir}" failed in ${method}${died}: ${err.details || err.message}${tail() ? `\n${tail()}` : ""}`));
        });
    });

    const close = async () => {
        client.close();
        if (!exited) {
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
            await exit;
            clearTimeout(timer);
        }
    };

    try {
        const infoRes = await call<Empty, pb.AnalyzerInfo>("getAnalyzerInfo", new Empty());
        await call<Empty, unknown>("getPluginInfo", new Empty());
        const stackReq = new pb.AnalyzerStackConfigureRequest();
        stackReq.setStack(opts.stack);
        stackReq.setProject(opts.project);
        stackReq.setDryRun(opts.dryRun ?? true);
        await call("configureStack", stackReq);
        const info = toInfo(infoRes);
        return {
            info,
            configure: async (config) => { await call("configure", configureRequest(config)); },
            analyze: async (r) => diagnostics(await call<pb.AnalyzeRequest, pb.AnalyzeResponse>("analyze", analyzeRequest(r)), r.urn),
            analyzeStack: async (rs) => {
                const req = new pb.AnalyzeStackRequest();
                req.setResourcesList(rs.map(stackResource));
                return diagnostics(await call<pb.AnalyzeStackRequest, pb.AnalyzeResponse>("analyzeStack", req));
            },
            close,
        };
    } catch (err) {
        await close();
        throw err;
    }
}

function toInfo(res: pb.AnalyzerInfo): AnalyzerInfo {
    const policies = res.getPoliciesList().map((p): PolicyDescriptor => {
        const schema = p.getConfigschema();
        return {
            name: p.getName(),
            description: p.getDescription(),
            enforcementLevel: LEVELS[p.getEnforcementlevel()],
            configSchema: schema ? { properties: (schema.getProperties()?.toJavaScript() ?? {}) as Record<string, any>, required: schema.getRequiredList() } : undefined,
        };
    });
    const initialConfig: PackConfig = {};
    res.getInitialconfigMap().forEach((c: pb.PolicyConfig, name: string) => {
        initialConfig[name] = { enforcementLevel: LEVELS[c.getEnforcementlevel()], properties: c.getProperties()?.toJavaScript() };
    });
    return { name: res.getName(), version: res.getVersion(), policies, initialConfig };
}

function configureRequest(config: PackConfig): pb.ConfigureAnalyzerRequest {
    const req = new pb.ConfigureAnalyzerRequest();
    const map = req.getPolicyconfigMap();
    for (const [name, entry] of Object.entries(config)) {
        const c = new pb.PolicyConfig();
        c.setEnforcementlevel(LEVEL_CODES[entry.enforcementLevel ?? "mandatory"]);
        c.setProperties(Struct.fromJavaScript((entry.properties ?? {}) as any));
        map.set(name, c);
    }
    return req;
}

function options(r: AnalyzerResource): pb.AnalyzerResourceOptions {
    const o = new pb.AnalyzerResourceOptions();
    o.setProtect(Boolean(r.protect));
    o.setCustomtimeouts(new pb.AnalyzerResourceOptions.CustomTimeouts());
    if (r.parent) o.setParent(r.parent);
    return o;
}

function provider(r: AnalyzerResource): pb.AnalyzerProviderResource | undefined {
    if (!r.provider) return undefined;
    const p = new pb.AnalyzerProviderResource();
    p.setUrn(r.provider.urn);
    p.setType(r.provider.type);
    p.setName(r.provider.name);
    p.setProperties(Struct.fromJavaScript(r.provider.properties as any));
    return p;
}

/** The fields Analyze's request and AnalyzeStack's resources share. */
function describeTo<M extends pb.AnalyzeRequest | pb.AnalyzerResource>(msg: M, r: AnalyzerResource): M {
    msg.setUrn(r.urn);
    msg.setType(r.type);
    msg.setName(r.name);
    msg.setProperties(Struct.fromJavaScript(r.properties as any));
    msg.setOptions(options(r));
    const p = provider(r);
    if (p) msg.setProvider(p);
    return msg;
}

function analyzeRequest(r: AnalyzerResource): pb.AnalyzeRequest {
    return describeTo(new pb.AnalyzeRequest(), r);
}

function stackResource(r: AnalyzerResource): pb.AnalyzerResource {
    const res = describeTo(new pb.AnalyzerResource(), r);
    res.setParent(r.parent ?? "");
    res.setDependenciesList(r.dependencies ?? []);
    const deps = res.getPropertydependenciesMap();
    for (const [prop, urns] of Object.entries(r.propertyDependencies ?? {})) {
        if (urns.length === 0) continue; // the engine skips properties without dependencies
        const d = new pb.AnalyzerPropertyDependencies();
        d.setUrnsList(urns);
        deps.set(prop, d);
    }
    return res;
}

function diagnostics(res: pb.AnalyzeResponse, urn?: string): PolicyViolation[] {
    return res.getDiagnosticsList().map((d) => ({
        policyPackName: d.getPolicypackname(),
        policyName: d.getPolicyname(),
        enforcementLevel: LEVELS[d.getEnforcementlevel()] as PolicyViolation["enforcementLevel"],
        message: d.getMessage(),
        description: d.getDescription() || undefined,
        urn: d.getUrn() || urn || undefined,
    }));
}

// ---------------------------------------------------------------------------------------------
// A whole plan
// ---------------------------------------------------------------------------------------------

/** The provider resource a plan resource's `provider` reference ("urn::id") points at, if recorded. */
function providerOf(plan: Plan, r: PlanResource, props: Map<string, { inputs: Record<string, unknown> }>): AnalyzerResource["provider"] {
    if (!r.provider) return undefined;
    const urn = r.provider.slice(0, r.provider.lastIndexOf("::"));
    const p = plan.resources.find((x) => x.urn === urn);
    return p ? { urn: p.urn, type: p.type, name: p.name, properties: props.get(p.urn)?.inputs ?? {} } : undefined;
}

/** Sends every resource through Analyze and the stack through AnalyzeStack, with `mode`'s values. */
export async function analyzePlan(session: AnalyzerSession, plan: Plan, mode: ValueMode): Promise<PolicyViolation[]> {
    const props = analyzerProperties(plan, mode);
    const base = (r: PlanResource) => ({
        urn: r.urn, type: r.type, name: r.name, parent: r.parent, protect: r.protect, provider: providerOf(plan, r, props),
    });
    const found: PolicyViolation[] = [];
    for (const r of plan.resources) {
        found.push(...await session.analyze({ ...base(r), properties: props.get(r.urn)!.inputs }));
    }
    found.push(...await session.analyzeStack(plan.resources.map((r) => ({
        ...base(r), properties: props.get(r.urn)!.outputs, dependencies: r.dependencies, propertyDependencies: r.propertyDependencies,
    }))));
    return found;
}

export interface EvaluateOptions {
    packDir: string;
    configFile?: string;
    /**
     * Which values the analyzer sees: "preview" (a first `pulumi preview`: computed values unknown),
     * "known" (`pulumi up`, once dependencies exist), or "both" (default: the union, so a violation
     * either command would report is reported).
     */
    values?: ValueMode | "both";
}

function relativeToRoot(p: string): string {
    const rel = path.relative(PROJECT_ROOT, path.resolve(p));
    return rel.startsWith("..") ? path.resolve(p) : rel;
}

/** Evaluates the plan against the pack, exactly as the CLI drives a local pack. */
export async function evaluatePolicies(plan: Plan, opts: EvaluateOptions): Promise<PolicyResult> {
    const fileConfig = opts.configFile ? loadPolicyPackConfig(path.resolve(opts.configFile)) : {};
    const session = await startAnalyzer(opts.packDir, { project: plan.project, stack: plan.stack });
    try {
        await session.configure(reconcilePolicyPackConfig(session.info.policies, session.info.initialConfig, fileConfig));
        const modes: ValueMode[] = opts.values === "preview" || opts.values === "known" ? [opts.values] : ["preview", "known"];
        const seen = new Set<string>();
        const violations: PolicyViolation[] = [];
        for (const mode of modes) {
            for (const v of await analyzePlan(session, plan, mode)) {
                const key = `${v.policyName}\u0000${v.urn ?? ""}\u0000${v.message}`;
                if (!seen.has(key)) { seen.add(key); violations.push(v); }
            }
        }
        const order = new Map(plan.resources.map((r, i) => [r.urn, i]));
        violations.sort((a, b) => (order.get(a.urn ?? "") ?? -1) - (order.get(b.urn ?? "") ?? -1) || a.policyName.localeCompare(b.policyName));
        return {
            pack: relativeToRoot(opts.packDir),
            ...(opts.configFile ? { config: relativeToRoot(opts.configFile) } : {}),
            violations,
            mandatoryCount: violations.filter((v) => v.enforcementLevel === "mandatory" || v.enforcementLevel === "remediate").length,
            advisoryCount: violations.filter((v) => v.enforcementLevel === "advisory").length,
        };
    } finally {
        await session.close();
    }
}

/** "1 mandatory violation", "0 mandatory violations". */
export function countOf(n: number, what: string): string {
    return `${n} ${what}${n === 1 ? "" : "s"}`;
}

/** The violations as `pulumi preview` lists them, ending with the line "N mandatory violation(s)". */
export function formatViolations(result: PolicyResult, plan: Plan): string {
    const lines = [`Policies (local: ${result.pack}${result.config ? `, config: ${result.config}` : ""}):`];
    const packs = [...new Set(result.violations.map((v) => v.policyPackName))];
    if (packs.length === 0) lines.push(`    ✅ no violations`);
    for (const pack of packs) {
        const vs = result.violations.filter((v) => v.policyPackName === pack);
        lines.push(`    ${vs.some((v) => v.enforcementLevel !== "advisory") ? "❌" : "⚠️ "} ${pack}`);
        for (const v of vs) {
            const r = plan.resources.find((x) => x.urn === v.urn);
            lines.push(`        - [${v.enforcementLevel}]  ${v.policyName}${r ? `  (${r.type}: ${r.name})` : ""}`);
            // The SDK already puts the policy's description on the message's first line, as the CLI prints it.
            for (const line of v.message.split("\n")) lines.push(`          ${line}`);
        }
    }
    lines.push("", countOf(result.advisoryCount, "advisory violation"), countOf(result.mandatoryCount, "mandatory violation"));
    return lines.join("\n");
}
