// The offline preview itself (`npm run preview:offline`): how it reads a stack's config (as the
// CLI hands it to the program), its command line, the plan JSON contract, the mocks behind it,
// and the tool end to end in a scratch copy of the project (exit codes, messages, output).
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { failureMessage, UsageError } from "../tools/cli-args";
import { EXPECTED_ERRORS, parseArgs } from "../tools/offline-preview";
import { mockCall, MOCKED_TYPES } from "../tools/mocks";
import type { Plan } from "../tools/plan";
import { PolicyConfigError } from "../tools/policy-config";
import { formatViolations } from "../tools/policy-analyzer";
import { parseArgs as parseCheckArgs } from "../tools/policy-check";
import { PROJECT_ROOT, readStackConfig, StackConfigError } from "../tools/stack-config";
import { stackPlan } from "./policy-fixture";

/** A directory holding `files` (name → text). */
function tempProject(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-config-"));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
}

const PROJECT_FILE = `name: demo
runtime: nodejs
config:
  cidr:
    type: string
    default: 10.0.0.0/16
  zones:
    type: integer
    default: 2
  emails:
    type: array
    default: []
  fixed:
    value: pinned
  aws:region: us-east-1
`;

describe("offline preview", function () {
    this.timeout(180_000);

    describe("stack config, as the CLI hands it to the program", () => {
        it("lays the stack file over Pulumi.yaml's defaults: namespaced keys, aws:* keys, structured values as JSON", () => {
            const root = tempProject({
                "Pulumi.yaml": PROJECT_FILE,
                "Pulumi.s.yaml": `config:
  aws:region: ap-northeast-1
  aws:defaultTags:
    tags:
      Stack: s
  demo:zones: 3
  demo:emails:
    - a@example.org
  demo:config:legacy: old-form
  demo:unset:
`,
            });
            const cfg = readStackConfig("s", root);
            assert.equal(cfg.project, "demo");
            assert.deepEqual(cfg.values, {
                "demo:cidr": "10.0.0.0/16",
                "demo:zones": "3",
                "demo:emails": JSON.stringify(["a@example.org"]),
                "demo:fixed": "pinned",
                "aws:region": "ap-northeast-1",
                "aws:defaultTags": JSON.stringify({ tags: { Stack: "s" } }),
                "demo:legacy": "old-form",
            });
            assert.deepEqual(cfg.encryptedKeys, []);
        });

        it("reports secure: values, also inside structured values, leaving Pulumi.yaml's default in their place", () => {
            const root = tempProject({
                "Pulumi.yaml": PROJECT_FILE,
                "Pulumi.s.yaml": "config:\n  demo:token:\n    secure: v1:AAAA\n  demo:db:\n    user: app\n    password:\n      secure: v1:BBBB\n  demo:emails:\n    secure: v1:CCCC\n",
            });
            const cfg = readStackConfig("s", root);
            assert.deepEqual(cfg.encryptedKeys, ["demo:token", "demo:db", "demo:emails"]);
            assert.ok(!("demo:token" in cfg.values) && !("demo:db" in cfg.values), JSON.stringify(cfg.values));
            assert.equal(cfg.values["demo:emails"], "[]");
        });

        it("reads a bare key in a stack file as the project's, as `pulumi config set` writes it", () => {
            const root = tempProject({ "Pulumi.yaml": PROJECT_FILE, "Pulumi.s.yaml": "config:\n  zones: 3\n" });
            assert.equal(readStackConfig("s", root).values["demo:zones"], "3");
        });

        it("refuses, as the CLI does, a stack that leaves keys declared without a default unset", () => {
            const project = PROJECT_FILE + "  owner:\n    type: string\n  team:\n    type: string\n    description: who runs it\n  optional:\n    type: string\n    default: \"\"\n";
            const root = tempProject({ "Pulumi.yaml": project, "Pulumi.s.yaml": "config:\n  demo:zones: 3\n", "Pulumi.t.yaml": "config:\n  demo:owner: ops\n", "Pulumi.u.yaml": "config:\n  demo:owner: ops\n  demo:team:\n    secure: v1:AAAA\n" });
            assert.throws(() => readStackConfig("s", root), (err: Error) => err instanceof StackConfigError
                && err.message.startsWith("Pulumi.s.yaml: Stack 's' is missing configuration values 'owner' and 'team' (set them in Pulumi.s.yaml"));
            assert.throws(() => readStackConfig("t", root), /Stack 't' is missing configuration value 'team' \(set it in/);
            assert.deepEqual(readStackConfig("u", root).encryptedKeys, ["demo:team"], "an encrypted value counts as set");
        });

        it("names the stacks that exist when the stack file is missing", () => {
            const root = tempProject({ "Pulumi.yaml": PROJECT_FILE, "Pulumi.a.yaml": "config: {}\n", "Pulumi.b.yaml": "" });
            assert.throws(() => readStackConfig("c", root), /Pulumi\.c\.yaml: no such stack file \(stacks here: a, b\)/);
            assert.deepEqual(readStackConfig("b", root).values, { "demo:cidr": "10.0.0.0/16", "demo:zones": "2", "demo:emails": "[]", "demo:fixed": "pinned", "aws:region": "us-east-1" });
        });
    });

    describe("command line", () => {
        it("takes --flag value and --flag=value, and refuses what it does not know", () => {
            assert.deepEqual(parseArgs(["--stack", "dev", "--json=out.json", "--no-policy"]), { stack: "dev", json: "out.json", policy: false });
            assert.deepEqual(parseArgs(["-s", "prod", "--policy-pack", "p", "--policy-pack-config", "c.json"]), { stack: "prod", policyPack: "p", policyPackConfig: "c.json", policy: true });
            assert.throws(() => parseArgs([]), /--stack is required/);
            assert.throws(() => parseArgs(["--stack"]), /--stack needs a value/);
            assert.throws(() => parseArgs(["--stack", "--json", "x"]), /--stack needs a value/);
            assert.throws(() => parseArgs(["--stack", "dev", "--policy"]), /unknown argument --policy/);
            assert.throws(() => parseArgs(["--stack", "dev", "--no-policy=yes"]), /--no-policy takes no value/);
        });

        it("ends with the message alone for errors it expects (settings, stack file, pack, pack config), the stack otherwise", () => {
            const usage = "usage: npm run preview:offline -- --stack NAME";
            assert.equal(failureMessage(new UsageError("--stack is required"), usage, EXPECTED_ERRORS, "the program failed: "), `error: --stack is required\n${usage}`);
            assert.equal(failureMessage(new PolicyConfigError("policy pack configuration is invalid"), usage, EXPECTED_ERRORS, "the program failed: "), "error: policy pack configuration is invalid");
            assert.equal(failureMessage(new StackConfigError("Pulumi.x.yaml", "no such stack file"), usage, EXPECTED_ERRORS, "the program failed: "), "error: Pulumi.x.yaml: no such stack file");
            const crash = failureMessage(new TypeError("x is undefined"), usage, EXPECTED_ERRORS, "the program failed: ");
            assert.match(crash, /^error: the program failed: TypeError: x is undefined\n\s+at /);
        });

        it("policy:check shares the same rules", () => {
            assert.deepEqual(parseCheckArgs(["plan.json", "--values=known"]), { plan: "plan.json", policyPack: "policy-pack", values: "known" });
            assert.throws(() => parseCheckArgs(["plan.json", "--values"]), /--values needs a value/);
            assert.throws(() => parseCheckArgs(["a.json", "b.json"]), /unexpected argument b\.json/);
        });
    });

    describe("the plan JSON contract (tools/plan.ts) and the mocks behind it", () => {
        const PLAN_KEYS = ["outputs", "policy", "project", "resources", "stack"];
        const RESOURCE_KEYS = ["computed", "custom", "dependencies", "id", "inputs", "name", "outputs", "parent", "propertyDependencies", "protect", "provider", "retainOnDelete", "type", "urn"];

        for (const stack of ["dev", "prod"] as const) {
            it(`${stack}: has the documented shape, every URN resolves, and every custom type has its own mock`, () => {
                const plan: Plan = stackPlan(stack);
                assert.deepEqual(Object.keys(plan).sort(), PLAN_KEYS);
                assert.equal(plan.project, "backend-infra");
                assert.equal(plan.stack, stack);
                assert.equal(plan.policy, null, "--no-policy records no policy result");
                const urns = new Set(plan.resources.map((r) => r.urn));
                assert.equal(urns.size, plan.resources.length, "duplicate URNs");
                for (const r of plan.resources) {
                    assert.deepEqual(Object.keys(r).sort(), RESOURCE_KEYS, r.urn);
                    if (r.parent) assert.ok(urns.has(r.parent), `${r.urn}: parent ${r.parent} is not in the plan`);
                    for (const [prop, deps] of Object.entries(r.propertyDependencies)) {
                        for (const d of deps) assert.ok(urns.has(d), `${r.urn}: ${prop} depends on ${d}, which is not in the plan`);
                    }
                    if (!r.custom) continue;
                    // A type without an entry would get its inputs echoed back and no realistic IDs or ARNs.
                    assert.ok(MOCKED_TYPES.includes(r.type), `${r.type} (${r.urn}) has no entry in tools/mocks.ts`);
                    assert.ok(r.id, `${r.urn} has no id`);
                    assert.ok(r.computed.includes("id"), `${r.urn}: computed does not list id`);
                    for (const key of r.computed.filter((k) => k !== "id")) assert.ok(key in r.outputs, `${r.urn}: computed ${key} is not an output`);
                }
                assert.ok(Object.keys(plan.outputs).length > 0, "no stack outputs");
            });
        }
    });

    describe("mocked provider functions", () => {
        it("render aws.iam.getPolicyDocument as the IAM JSON the provider returns, not the raw inputs", () => {
            const json = JSON.parse(mockCall({ token: "aws:iam/getPolicyDocument:getPolicyDocument", inputs: { statements: [
                { sid: "Read", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"], principals: [{ type: "Service", identifiers: ["logs.amazonaws.com"] }],
                    conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["123456789012"] }] },
                { effect: "Deny", actions: ["s3:*"], resources: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], principals: [{ type: "*", identifiers: ["*"] }] },
            ] } } as any, { region: "ap-northeast-1", stack: "dev" }).json);
            assert.deepEqual(json, { Version: "2012-10-17", Statement: [
                { Sid: "Read", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*", Principal: { Service: "logs.amazonaws.com" }, Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } } },
                { Effect: "Deny", Action: "s3:*", Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], Principal: "*" },
            ] });
        });

        it("refuse a provider function they do not know, naming it", () => {
            assert.throws(() => mockCall({ token: "aws:ec2/getVpc:getVpc", inputs: {} } as any, { region: "ap-northeast-1", stack: "dev" }),
                /unmocked provider function aws:ec2\/getVpc:getVpc: add it to tools\/mocks\.ts/);
        });
    });

    describe("printing", () => {
        it("counts violations with the right grammar", () => {
            const plan: Plan = { project: "p", stack: "s", resources: [], outputs: {}, policy: null };
            const v = { policyPackName: "pack", policyName: "x", enforcementLevel: "advisory" as const, message: "m" };
            const text = formatViolations({ pack: "policy-pack", violations: [v], advisoryCount: 1, mandatoryCount: 0 }, plan);
            assert.match(text, /\n1 advisory violation\n0 mandatory violations$/);
            const two = formatViolations({ pack: "policy-pack", violations: [v, { ...v, enforcementLevel: "mandatory" }, { ...v, enforcementLevel: "mandatory" }], advisoryCount: 1, mandatoryCount: 2 }, plan);
            assert.match(two, /\n2 mandatory violations$/);
        });
    });

    describe("npm run preview:offline, end to end in a scratch copy of the project", () => {
        let scratch = "";
        before(() => {
            scratch = fs.mkdtempSync(path.join(os.tmpdir(), "offline-preview-"));
            for (const entry of ["index.ts", "platform.ts", "config.ts", "components", "fluent-bit", "policy-pack", "tools", "Pulumi.yaml", "Pulumi.dev.yaml", "package.json", "tsconfig.json"]) {
                fs.cpSync(path.join(PROJECT_ROOT, entry), path.join(scratch, entry), { recursive: true });
            }
            fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(scratch, "node_modules"), "dir");
        });
        after(() => { if (scratch) fs.rmSync(scratch, { recursive: true, force: true }); });

        const devFile = () => fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8");
        const preview = (...args: string[]) => spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "tools/offline-preview.ts", ...args],
            { cwd: scratch, encoding: "utf8" });

        it("stops on a bad setting before any resource, naming the key, the value and the stack file (exit 1)", () => {
            fs.writeFileSync(path.join(scratch, "Pulumi.typo.yaml"), devFile().replace(/Stack: dev/, "Stack: typo") + "  backend-infra:vpcCidrr: 10.1.0.0/16\n");
            const run = preview("--stack", "typo");
            assert.equal(run.status, 1, run.stdout + run.stderr);
            assert.match(run.stderr, /error: Invalid stack settings in Pulumi\.typo\.yaml:\n\s+- backend-infra:vpcCidrr = "10\.1\.0\.0\/16": unknown setting/);
            assert.doesNotMatch(run.stdout, /Resources:/);
        });

        it("refuses a stack the CLI would refuse (a declared key without default left unset), naming the file (exit 1)", () => {
            const projectFile = path.join(scratch, "Pulumi.yaml");
            const original = fs.readFileSync(projectFile, "utf8");
            try {
                assert.match(original, /\nconfig:\n(?:[ #][^\n]*\n|\n)*$/, "config: is no longer Pulumi.yaml's last block; adapt this test");
                fs.writeFileSync(projectFile, original + "  supportEmail:\n    type: string\n");
                fs.writeFileSync(path.join(scratch, "Pulumi.missing.yaml"), devFile());
                const run = preview("--stack", "missing");
                assert.equal(run.status, 1, run.stdout + run.stderr);
                assert.match(run.stderr, /^error: Pulumi\.missing\.yaml: Stack 'missing' is missing configuration value 'supportEmail'/m);
                assert.doesNotMatch(run.stderr, /the program failed/);
            } finally {
                fs.writeFileSync(projectFile, original);
            }
        });

        it("stands in Pulumi.yaml's default for a secret it cannot decrypt, prints the tree, outputs and counts, and exits 1 on a mandatory violation", () => {
            // dev with its alert e-mails encrypted, checked with a config that makes the plain-HTTP listener mandatory.
            fs.writeFileSync(path.join(scratch, "Pulumi.secret.yaml"), devFile() + "  backend-infra:alertEmails:\n    secure: v1:c2VjcmV0:ZW5jcnlwdGVk\n");
            const strict = path.join(scratch, "strict.json");
            const devPackConfig = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "policy-pack", "dev.json"), "utf8"));
            fs.writeFileSync(strict, JSON.stringify({ ...devPackConfig, "alb-listener-https": "mandatory" }));
            const out = path.join(scratch, "secret.plan.json");
            const run = preview("--stack", "secret", "--policy-pack-config", strict, "--json", out);
            assert.equal(run.status, 1, run.stdout + run.stderr);
            assert.match(run.stderr, /warning: backend-infra:alertEmails is a secret \(secure: in Pulumi\.secret\.yaml\) that cannot be decrypted offline; the preview runs with Pulumi\.yaml's default \(\[\]\) instead\./);
            assert.match(run.stdout, /^ \+   pulumi:pulumi:Stack +backend-infra-secret +create$/m);
            assert.match(run.stdout, /^ \+   │  └─ aws:ec2\/vpc:Vpc +backend-vpc +create$/m);
            assert.match(run.stdout, /^Outputs \(mock values[^\n]*\n(?: {4}\w+ *: [^\n]+\n)*? {4}vpcId +: "vpc-[0-9a-f]+"\n/m);
            assert.match(run.stdout, /^Resources: \+ \d+ to create\n(?: +\d+ [^\n]+\n)+/m);
            assert.match(run.stdout, /\[mandatory\]  alb-listener-https  \(aws:lb\/listener:Listener: backend-api-http\)/);
            assert.match(run.stdout, /\n1 mandatory violation\n\nPlan written to /);
            const plan: Plan = JSON.parse(fs.readFileSync(out, "utf8"));
            assert.equal(plan.stack, "secret");
            assert.equal(plan.policy?.mandatoryCount, 1);
            assert.equal(plan.policy?.pack, "policy-pack");
            assert.deepEqual(plan.policy?.violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => v.policyName), ["alb-listener-https"]);
        });
    });
});
