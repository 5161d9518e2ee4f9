// The GitHub workflows users run: each one must pass a GitHub-workflow schema validator, and the
// promises the README makes about them (pinned actions, least privilege, one update per stack,
// the policy pack on every Pulumi step, a protected prod deploy) are checked here.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { validateWorkflow, ValidationError } from "@action-validator/core";

const ROOT = path.resolve(__dirname, "..");
const WORKFLOW_DIR = path.join(ROOT, ".github", "workflows");
const POLICY_PACK_DIR = "policy-pack";
const REGION = "ap-northeast-1";

interface Step {
    name?: string;
    id?: string;
    if?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
}

interface Job {
    name?: string;
    uses?: string;
    needs?: string | string[];
    if?: string;
    permissions?: Record<string, string> | string;
    concurrency?: { group: string; "cancel-in-progress"?: boolean } | string;
    environment?: string | { name: string; url?: string };
    strategy?: { matrix?: Record<string, unknown> };
    env?: Record<string, string>;
    steps?: Step[];
    "timeout-minutes"?: number;
}

interface Workflow {
    name?: string;
    on: Record<string, unknown>;
    permissions?: Record<string, string> | string;
    jobs: Record<string, Job>;
}

const files = fs.readdirSync(WORKFLOW_DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
const sources = new Map(files.map((f) => [f, fs.readFileSync(path.join(WORKFLOW_DIR, f), "utf8")]));
const workflows = new Map(files.map((f) => [f, parseYaml(sources.get(f) as string) as Workflow]));
const stacks = fs.readdirSync(ROOT).map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => !!s).sort();

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

function describeErrors(errors: ValidationError[]): string {
    return errors.map((e) => {
        const where = "path" in e && e.path ? e.path : "location" in e && e.location ? `line ${e.location.line}` : "";
        const nested = "states" in e && e.states ? e.states.flatMap((s) => s.errors.map((n) => `${n.title}: ${n.detail ?? ""}`)) : [];
        return `${where} ${e.title}${e.detail ? `: ${e.detail}` : ""}${nested.length ? ` (${nested.join("; ")})` : ""}`;
    }).join("\n");
}

/** Every `uses:` reference in a workflow's text that is not a local path, with its trailing comment. */
export function pinProblems(text: string): string[] {
    const problems: string[] = [];
    text.split("\n").forEach((line, i) => {
        const m = /^\s*(?:-\s+)?uses:\s*(['"]?)([^\s'"#]+)\1\s*(?:#\s*(.*))?$/.exec(line);
        if (!m) return;
        const ref = m[2];
        const comment = (m[3] ?? "").trim();
        if (ref.startsWith("./")) return;
        const at = `line ${i + 1}: ${ref}`;
        const pinned = /^[\w.-]+\/[\w.\/-]+@([0-9a-f]{40})$/.exec(ref);
        if (!pinned) {
            problems.push(`${at} is not pinned to a full 40-character commit SHA`);
        } else if (!/^v\d+\.\d+\.\d+$/.test(comment)) {
            problems.push(`${at} has no "# vX.Y.Z" comment naming the release its SHA is`);
        }
    });
    return problems;
}

/** The value of `${{ matrix.x }}`, `${{ env.X }}` (job env) and `${{ vars.X }}` (unset: "") in `text`. */
function resolve(text: string, job: Job, matrix: Record<string, string>): string {
    return text.replace(/\$\{\{\s*(matrix|env|vars)\.([\w-]+)\s*\}\}/g, (whole, scope: string, key: string) => {
        if (scope === "vars") return "";
        if (scope === "matrix") {
            assert.ok(key in matrix, `${whole} used outside a matrix`);
            return matrix[key];
        }
        const value = job.env?.[key];
        assert.ok(value !== undefined, `${whole} is not set in the job's env`);
        return resolve(value, job, matrix);
    });
}

/** The stacks a job runs for: its `matrix.stack` values, or its `env.STACK`. */
function instances(job: Job): { stack: string; matrix: Record<string, string> }[] {
    const matrixStacks = job.strategy?.matrix?.stack;
    if (Array.isArray(matrixStacks)) return matrixStacks.map((s) => ({ stack: String(s), matrix: { stack: String(s) } }));
    const stack = job.env?.STACK;
    assert.ok(stack, `job "${job.name}" runs Pulumi but names no stack (matrix.stack or env.STACK)`);
    return [{ stack, matrix: {} }];
}

const isPulumiStep = (s: Step) => (s.uses ?? "").startsWith("pulumi/actions@");
const isAwsCredentialsStep = (s: Step) => (s.uses ?? "").startsWith("aws-actions/configure-aws-credentials@");
const pulumiSteps = (job: Job) => (job.steps ?? []).filter(isPulumiStep);

function allJobs(): { file: string; id: string; job: Job }[] {
    return [...workflows].flatMap(([file, wf]) => Object.entries(wf.jobs).map(([id, job]) => ({ file, id, job })));
}

function permission(perms: Job["permissions"], scope: string): string {
    if (perms === undefined) return "unset";
    if (typeof perms === "string") return perms;
    return perms[scope] ?? "none";
}

function needsOf(job: Job): string[] {
    return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}

function environmentName(job: Job): string | undefined {
    return typeof job.environment === "string" ? job.environment : job.environment?.name;
}

function concurrencyOf(job: Job): { group: string; cancel: boolean } | undefined {
    if (job.concurrency === undefined) return undefined;
    if (typeof job.concurrency === "string") return { group: job.concurrency, cancel: false };
    return { group: job.concurrency.group, cancel: job.concurrency["cancel-in-progress"] === true };
}

function triggers(wf: Workflow): string[] {
    return typeof wf.on === "string" ? [wf.on] : Array.isArray(wf.on) ? wf.on : Object.keys(wf.on);
}

function workflowOn(event: string): [string, Workflow] {
    const found = [...workflows].find(([, wf]) => triggers(wf).includes(event));
    assert.ok(found, `no workflow runs on ${event}`);
    return found;
}

/** Steps of a job, following a call to a local reusable workflow. */
function stepsOf(job: Job): Step[] {
    if (job.uses?.startsWith("./")) {
        const called = parseYaml(fs.readFileSync(path.join(ROOT, job.uses), "utf8")) as Workflow;
        return Object.values(called.jobs).flatMap(stepsOf);
    }
    return job.steps ?? [];
}

// ------------------------------------------------------------------------------------------------

describe("GitHub workflows", () => {
    it("exist for pull requests and for pushes to main", () => {
        assert.ok(files.length > 0, "no workflow files in .github/workflows");
        const [, pr] = workflowOn("pull_request");
        const [, push] = workflowOn("push");
        assert.ok(pr.jobs && push.jobs);
        const branches = (push.on.push as { branches?: string[] } | null)?.branches;
        assert.deepEqual(branches, ["main"], "the deploy workflow must run on pushes to main only");
    });

    describe("schema validation (@action-validator/core)", () => {
        for (const file of files) {
            it(`${file} is a valid workflow`, () => {
                const state = validateWorkflow(sources.get(file) as string);
                assert.equal(state.actionType, "workflow");
                assert.deepEqual(state.errors, [], `${file}:\n${describeErrors(state.errors)}`);
            });
        }

        it("rejects broken workflows", () => {
            const cases: Record<string, string> = {
                "a misspelt job key": "on: push\njobs:\n  a:\n    runs-onn: ubuntu-24.04\n    steps:\n      - run: echo\n",
                "a YAML syntax error": "on: push\njobs: [\n",
                "a job that needs a job that does not exist": "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    needs: build\n    steps:\n      - run: echo\n",
                "an unknown permission scope": "on: push\npermissions:\n  id-tokens: write\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo\n",
                "an unknown trigger": "on: pull_requests\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo\n",
            };
            for (const [what, source] of Object.entries(cases)) {
                assert.ok(validateWorkflow(source).errors.length > 0, `the validator accepted ${what}`);
            }
            // And one of this project's own workflows, broken by a single key.
            const [file] = workflowOn("pull_request");
            const broken = (sources.get(file) as string).replace(/\bruns-on:/, "run-on:");
            assert.notEqual(broken, sources.get(file));
            assert.ok(validateWorkflow(broken).errors.length > 0, `${file} with run-on: was accepted`);
        });
    });

    describe("supply chain", () => {
        for (const file of files) {
            it(`${file}: every action is pinned to a full commit SHA with its release in a comment`, () => {
                assert.deepEqual(pinProblems(sources.get(file) as string), []);
            });
        }

        it("the pin check catches branches, bare majors, exact tags, short SHAs and missing comments", () => {
            const sample = [
                "      - uses: actions/checkout@main",
                "      - uses: actions/checkout@v7",
                "      - uses: actions/checkout@v7.0.1",
                "      - uses: actions/checkout@3d3c42e # v7.0.1",
                "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
                "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7",
                "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
                "    uses: ./.github/workflows/checks.yml",
            ].join("\n");
            assert.equal(pinProblems(sample).length, 6, pinProblems(sample).join("\n"));
        });

        it("local reusable workflows exist", () => {
            for (const { file, id, job } of allJobs()) {
                if (job.uses?.startsWith("./")) assert.ok(fs.existsSync(path.join(ROOT, job.uses)), `${file} ${id}: ${job.uses} does not exist`);
            }
        });
    });

    describe("permissions", () => {
        for (const file of files) {
            it(`${file}: workflow-level permissions are contents: read only`, () => {
                assert.deepEqual(workflows.get(file)?.permissions, { contents: "read" });
            });
        }

        it("every job states its permissions", () => {
            for (const { file, id, job } of allJobs()) {
                assert.ok(job.permissions && typeof job.permissions === "object", `${file} ${id} has no permissions block`);
                assert.notEqual(permission(job.permissions, "contents"), "write", `${file} ${id} can write contents`);
            }
        });

        it("id-token: write is granted exactly to the jobs that assume an AWS role", () => {
            for (const { file, id, job } of allJobs()) {
                const assumes = (job.steps ?? []).some(isAwsCredentialsStep);
                assert.equal(permission(job.permissions, "id-token") === "write", assumes,
                    `${file} ${id}: id-token: ${permission(job.permissions, "id-token")}, assumes a role: ${assumes}`);
            }
        });

        it("pull-requests: write is granted only to the jobs that comment on the pull request", () => {
            for (const { file, id, job } of allJobs()) {
                const comments = pulumiSteps(job).some((s) => s.with?.["comment-on-pr"] === true);
                assert.equal(permission(job.permissions, "pull-requests") === "write", comments, `${file} ${id}`);
            }
        });

        it("AWS credentials come from a role in a repository variable, in the stacks' region, never from keys", () => {
            for (const { file, id, job } of allJobs()) {
                for (const step of (job.steps ?? []).filter(isAwsCredentialsStep)) {
                    assert.match(String(step.with?.["role-to-assume"]), /^\$\{\{\s*vars\.AWS_[A-Z_]+_ROLE_ARN\s*\}\}$/, `${file} ${id}`);
                    assert.equal(step.with?.["aws-region"], REGION, `${file} ${id}`);
                    for (const key of ["aws-access-key-id", "aws-secret-access-key"]) {
                        assert.ok(!(key in (step.with ?? {})), `${file} ${id} passes ${key}`);
                    }
                }
            }
        });
    });

    describe("Pulumi steps", () => {
        const pulumiJobs = allJobs().filter(({ job }) => pulumiSteps(job).length > 0);

        it("exist in the pull-request and the deploy workflows", () => {
            assert.ok(pulumiJobs.some(({ file }) => file === workflowOn("pull_request")[0]));
            assert.ok(pulumiJobs.some(({ file }) => file === workflowOn("push")[0]));
        });

        it("every Pulumi step runs the policy pack with its own stack's pack config and stack name", () => {
            for (const { file, id, job } of pulumiJobs) {
                for (const { stack, matrix } of instances(job)) {
                    assert.ok(stacks.includes(stack), `${file} ${id}: unknown stack ${stack}`);
                    for (const step of pulumiSteps(job)) {
                        const w = step.with ?? {};
                        const where = `${file} ${id} (${stack})`;
                        assert.equal(resolve(String(w.policyPacks ?? ""), job, matrix), POLICY_PACK_DIR, `${where}: policyPacks`);
                        const config = resolve(String(w.policyPackConfigs ?? ""), job, matrix);
                        assert.equal(config, `${POLICY_PACK_DIR}/${stack}.json`, `${where}: policyPackConfigs`);
                        assert.ok(fs.existsSync(path.join(ROOT, config)), `${where}: ${config} does not exist`);
                        assert.equal(resolve(String(w["stack-name"] ?? ""), job, matrix), stack, `${where}: stack-name`);
                        assert.ok(["preview", "up"].includes(String(w.command)), `${where}: command ${w.command}`);
                    }
                }
            }
            assert.ok(fs.existsSync(path.join(ROOT, POLICY_PACK_DIR, "PulumiPolicy.yaml")), "the policy pack is missing");
        });

        it("assume AWS credentials and install the project's packages before running", () => {
            for (const { file, id, job } of pulumiJobs) {
                const steps = job.steps ?? [];
                const first = steps.findIndex(isPulumiStep);
                assert.ok(steps.slice(0, first).some(isAwsCredentialsStep), `${file} ${id}: no AWS credentials before Pulumi`);
                assert.ok(steps.slice(0, first).some((s) => s.run?.trim() === "npm ci"), `${file} ${id}: no npm ci before Pulumi`);
            }
        });

        it("every job that runs Pulumi has a concurrency group per stack; updates are never cancelled", () => {
            for (const { file, id, job } of pulumiJobs) {
                const c = concurrencyOf(job);
                assert.ok(c, `${file} ${id} has no concurrency group`);
                const groups = instances(job).map(({ stack, matrix }) => {
                    const group = resolve(c.group, job, matrix);
                    assert.ok(group.split(/[^A-Za-z0-9]+/).includes(stack), `${file} ${id}: group "${group}" does not name stack ${stack}`);
                    return group;
                });
                assert.equal(new Set(groups).size, groups.length, `${file} ${id}: stacks share a group`);
                if (pulumiSteps(job).some((s) => s.with?.command === "up")) {
                    assert.equal(c.cancel, false, `${file} ${id}: an update must not be cancelled in progress`);
                }
            }
        });

        it("a preview never shares a concurrency group with an update (a pending update must not be displaced)", () => {
            const groupsOf = (command: string) => new Set(pulumiJobs
                .filter(({ job }) => pulumiSteps(job).some((s) => s.with?.command === command))
                .flatMap(({ job }) => instances(job).map(({ matrix }) => resolve((concurrencyOf(job) as { group: string }).group, job, matrix))));
            const updates = groupsOf("up");
            for (const group of groupsOf("preview")) assert.ok(!updates.has(group), `preview group ${group} is also an update group`);
        });
    });

    describe("pull requests", () => {
        const [file, wf] = workflowOn("pull_request");

        it("run npm ci, npm test and the offline preview of every stack", () => {
            const checks = wf.jobs.checks;
            assert.ok(checks, `${file} has no checks job`);
            const runs = stepsOf(checks).map((s) => s.run?.trim() ?? "");
            const setupNode = stepsOf(checks).find((s) => (s.uses ?? "").startsWith("actions/setup-node@"));
            // A maintained LTS line (Node 20 left support in April 2026); package.json still accepts >= 20.
            assert.equal(String(setupNode?.with?.["node-version"]), "22");
            assert.equal(setupNode?.with?.cache, "npm");
            assert.ok(runs.indexOf("npm ci") >= 0 && runs.indexOf("npm ci") < runs.indexOf("npm test"), runs.join(" | "));
            for (const stack of stacks) {
                assert.ok(runs.some((r) => new RegExp(`^npm run preview:offline -- --stack ${stack}\\b`).test(r)), `no offline preview of ${stack}`);
            }
        });

        it("preview every stack with Pulumi after the checks pass, and post the summary", () => {
            const preview = Object.values(wf.jobs).find((j) => pulumiSteps(j).length > 0);
            assert.ok(preview);
            assert.ok(needsOf(preview).includes("checks"));
            assert.deepEqual(instances(preview).map((i) => i.stack).sort(), stacks);
            const step = pulumiSteps(preview)[0];
            assert.equal(step.with?.command, "preview");
            assert.equal(step.with?.["comment-on-pr"], true);
            assert.equal(step.with?.["comment-on-summary"], true);
        });
    });

    describe("deploys", () => {
        const [file, wf] = workflowOn("push");
        const upJob = (stack: string) => {
            const found = Object.entries(wf.jobs).find(([, j]) =>
                pulumiSteps(j).some((s) => s.with?.command === "up") && instances(j).some((i) => i.stack === stack));
            assert.ok(found, `${file} has no pulumi up job for ${stack}`);
            return found;
        };

        it("update dev after the checks pass", () => {
            const [, dev] = upJob("dev");
            assert.ok(needsOf(dev).includes("checks"));
            assert.deepEqual(instances(dev).map((i) => i.stack), ["dev"]);
        });

        it("update prod only through the protected production environment, after dev succeeds", () => {
            const [devId] = upJob("dev");
            const [, prod] = upJob("prod");
            assert.equal(environmentName(prod), "production");
            assert.ok(needsOf(prod).includes(devId), `the prod update needs ${devId}`);
            assert.deepEqual(instances(prod).map((i) => i.stack), ["prod"]);
            assert.ok(!prod.if, "the prod update must not be conditional (a condition could skip the approval path)");
        });

        it("show the reviewer a prod preview before the approval", () => {
            const [, prod] = upJob("prod");
            const previewIds = needsOf(prod).filter((n) => pulumiSteps(wf.jobs[n]).some((s) => s.with?.command === "preview"));
            assert.ok(previewIds.length === 1, "the prod update needs a prod preview job");
            assert.deepEqual(instances(wf.jobs[previewIds[0]]).map((i) => i.stack), ["prod"]);
        });

        it("set up arm64 emulation exactly when the stack file asks for ARM64 tasks", () => {
            assert.ok(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8").includes("cpuArchitecture:"), "the setting was renamed");
            for (const [id, job] of Object.entries(wf.jobs).filter(([, j]) => pulumiSteps(j).some((s) => s.with?.command === "up"))) {
                const detect = (job.steps ?? []).find((s) => s.id === "arch");
                const qemu = (job.steps ?? []).find((s) => (s.uses ?? "").startsWith("docker/setup-qemu-action@"));
                assert.ok(detect?.run && qemu, `${id}: no architecture check or QEMU step`);
                assert.equal(qemu.if, "steps.arch.outputs.arm64 == 'true'");
                const grep = /grep -Eq '([^']+)'/.exec(detect.run)?.[1];
                assert.ok(grep, `${id}: no grep in the architecture check`);
                const pattern = new RegExp(grep.replace(/\[\[:space:\]\]/g, "\\s"));
                assert.ok(pattern.test("  backend-infra:cpuArchitecture: ARM64"));
                assert.ok(pattern.test('  backend-infra:cpuArchitecture: "ARM64"'));
                assert.ok(!pattern.test("  backend-infra:cpuArchitecture: X86_64"));
                assert.ok(!pattern.test("  # backend-infra:cpuArchitecture: ARM64"));
            }
        });
    });

    it("every job has a timeout", () => {
        for (const { file, id, job } of allJobs()) {
            if (job.uses) continue; // a reusable workflow's jobs carry their own
            assert.ok(typeof job["timeout-minutes"] === "number", `${file} ${id} has no timeout-minutes`);
        }
    });
});
