// The pack's metadata and configuration: what the CLI reads from GetAnalyzerInfo, how a
// --policy-pack-config file is parsed and validated, that the per-stack files agree with the
// stacks' settings, and that a broken pack fails with a clear error.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Ajv from "ajv";
import { AnalyzerSession, evaluatePolicies, PolicyPackError, startAnalyzer } from "../tools/policy-analyzer";
import { loadPolicyPackConfig, parsePolicyPackConfig, PolicyConfigError, reconcilePolicyPackConfig } from "../tools/policy-config";
import { parseSettings, SettingsError } from "../config";
import { PROJECT_ROOT, readStackConfig } from "../tools/stack-config";
import { allPolicies } from "../policy-pack/policies";
import { configOf } from "../policy-pack/lib";
import { bucketLifecycle } from "../policy-pack/retention";
import { logBucketName } from "../components/log-pipeline";
import { S3_KEY_PREFIX } from "../fluent-bit/contract";
import { PACK_DIR, planOf, res, useAnalyzer } from "./policy-fixture";

describe("policy pack: metadata served to the CLI", function () {
    this.timeout(120_000);
    const session = useAnalyzer();

    it("serves every policy of the groups, once, under the pack name backend-infra", () => {
        const served = session().info.policies.map((p) => p.name);
        assert.equal(session().info.name, "backend-infra");
        assert.deepEqual([...served].sort(), allPolicies.map((p) => p.name).sort());
        assert.equal(new Set(served).size, served.length, "duplicate policy names");
    });

    it("gives every policy a kebab-case name, a description that starts with what is checked, mandatory by default, and a config schema whose defaults validate", () => {
        const ajv = new Ajv({ strict: true, strictTypes: false });
        for (const p of session().info.policies) {
            assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, p.name);
            assert.match(p.description, /^Checks (that|every)/, p.name);
            assert.equal(p.enforcementLevel, "mandatory", p.name);
            assert.ok(p.configSchema && Object.keys(p.configSchema.properties).length > 0, `${p.name} has no config schema`);
            for (const [key, schema] of Object.entries(p.configSchema!.properties)) {
                assert.notEqual(schema.default, undefined, `${p.name}.${key} has no default`);
                assert.ok(ajv.validate(schema, schema.default), `${p.name}.${key}: default ${JSON.stringify(schema.default)} fails its own schema: ${ajv.errorsText()}`);
            }
        }
    });

    it("accepts both stacks' pack config files", () => {
        for (const stack of ["dev", "prod"]) {
            const config = reconcilePolicyPackConfig(session().info.policies, session().info.initialConfig, loadPolicyPackConfig(path.join(PACK_DIR, `${stack}.json`)));
            assert.equal(config["alb-listener-https"].enforcementLevel, stack === "dev" ? "advisory" : "mandatory");
            // A forwarding rule on the HTTP listener serves plain HTTP just as a forwarding listener does.
            assert.equal(config["alb-listener-rule-https"].enforcementLevel, config["alb-listener-https"].enforcementLevel, `${stack}: alb-listener-rule-https differs from alb-listener-https`);
        }
    });

    it("refuses config that breaks a policy's schema, naming the policy and the property", () => {
        const given = parsePolicyPackConfig(JSON.stringify({ "cloudwatch-log-group-retention": { retentionDays: 10 }, "aurora-backup-retention": { minimumDays: "seven" } }));
        assert.throws(() => reconcilePolicyPackConfig(session().info.policies, {}, given),
            (err: Error) => err instanceof PolicyConfigError
                && /cloudwatch-log-group-retention: \/retentionDays must be equal to one of the allowed values/.test(err.message)
                && /aurora-backup-retention: \/minimumDays must be integer/.test(err.message));
    });

    it("applies \"all\" first and per-policy levels over it, keeping schema defaults", () => {
        const config = reconcilePolicyPackConfig(session().info.policies, {}, parsePolicyPackConfig(JSON.stringify({ all: "advisory", "kms-key-rotation": "disabled" })));
        assert.equal(config["subnet-no-public-ip-on-launch"].enforcementLevel, "advisory");
        assert.equal(config["kms-key-rotation"].enforcementLevel, "disabled");
        assert.equal(config["cloudwatch-log-group-retention"].properties?.retentionDays, 30);
    });

    it("lets a disabled policy report nothing and an advisory one report as advisory", async () => {
        const s: AnalyzerSession = session();
        await s.configure(reconcilePolicyPackConfig(s.info.policies, {}, { "kms-key-rotation": { enforcementLevel: "disabled" }, "sns-topic-encrypted": { enforcementLevel: "advisory" } }));
        const key = await s.analyze({ urn: "urn:pulumi:test::p::aws:kms/key:Key::k", type: "aws:kms/key:Key", name: "k", properties: {} });
        const topic = await s.analyze({ urn: "urn:pulumi:test::p::aws:sns/topic:Topic::t", type: "aws:sns/topic:Topic", name: "t", properties: {} });
        assert.deepEqual(key, []);
        assert.deepEqual(topic.map((v) => [v.policyName, v.enforcementLevel]), [["sns-topic-encrypted", "advisory"]]);
    });
});

describe("policy pack config files", () => {
    it("parses levels and properties like the CLI, refusing bad levels", () => {
        assert.deepEqual(parsePolicyPackConfig(`{"a": "advisory", "b": {"enforcementLevel": "mandatory", "x": 1}, "c": {}}`),
            { a: { enforcementLevel: "advisory" }, b: { enforcementLevel: "mandatory", properties: { x: 1 } } });
        assert.throws(() => parsePolicyPackConfig(`{"a": "sometimes"}`), /"sometimes" is not a valid enforcement level/);
        assert.throws(() => parsePolicyPackConfig(`{"a": 3}`), /must be a string or object/);
        assert.throws(() => parsePolicyPackConfig(`not json`), /not JSON/);
    });

    for (const stack of ["dev", "prod"] as const) {
        it(`policy-pack/${stack}.json matches Pulumi.${stack}.yaml (log retention, backup floor, S3 lifecycle days)`, () => {
            const values = readStackConfig(stack).values;
            const n = (key: string) => Number(values[`backend-infra:${key}`]);
            const pack = loadPolicyPackConfig(path.join(PACK_DIR, `${stack}.json`));
            assert.equal(pack["cloudwatch-log-group-retention"].properties?.retentionDays, n("logRetentionDays"));
            assert.ok(n("dbBackupRetentionDays") >= (pack["aurora-backup-retention"].properties?.minimumDays as number),
                `dbBackupRetentionDays ${n("dbBackupRetentionDays")} is below the pack's minimum`);
            const lifecycle = pack["s3-bucket-lifecycle"].properties!;
            assert.ok(n("logExpireAfterDays") <= (lifecycle.maxExpirationDays as number), "logExpireAfterDays above the pack's maximum");
            assert.ok(n("logArchiveAfterDays") <= (lifecycle.maxArchiveDays as number), "logArchiveAfterDays after the pack's archive day");
            assert.ok(n("logNoncurrentExpireAfterDays") <= (lifecycle.maxNoncurrentVersionDays as number), "noncurrent versions kept longer than the pack allows");
        });
    }

    for (const stack of ["dev", "prod"] as const) {
        it(`policy-pack/${stack}.json knows the log bucket without its lifecycle rules: the router's prefix is archived and LogPipeline's bucket name matches`, () => {
            const given = loadPolicyPackConfig(path.join(PACK_DIR, `${stack}.json`))["s3-bucket-lifecycle"]?.properties ?? {};
            const lifecycle = configOf<{ archivePrefixes: string[]; logBucketNamePattern: string }>(bucketLifecycle.configSchema!, given);
            assert.ok(lifecycle.archivePrefixes.includes(S3_KEY_PREFIX), `archivePrefixes ${JSON.stringify(lifecycle.archivePrefixes)} lacks the router's ${S3_KEY_PREFIX}`);
            const region = String(readStackConfig(stack).values["aws:region"]);
            const name = logBucketName(stack, "123456789012", region);
            assert.ok(lifecycle.logBucketNamePattern !== "" && new RegExp(lifecycle.logBucketNamePattern).test(name), `${name} does not match logBucketNamePattern ${lifecycle.logBucketNamePattern}`);
        });
    }

    it("are documented: the README's Policy pack section names every policy", () => {
        const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
        const section = readme.slice(readme.indexOf("\n## Policy pack"));
        assert.ok(section.length > 1, "README has no ## Policy pack section");
        for (const p of allPolicies) assert.ok(section.includes(`\`${p.name}\``), `README does not explain ${p.name}`);
    });

    it("keeps the prod backup floor where config.ts puts it for protected stacks (the same day count, not just one below the other)", () => {
        const floor = loadPolicyPackConfig(path.join(PACK_DIR, "prod.json"))["aurora-backup-retention"].properties?.minimumDays as number;
        const prodWith = (days: number) => () => parseSettings({ stack: "prod", values: { ...readStackConfig("prod").values, "backend-infra:dbBackupRetentionDays": String(days) } });
        assert.doesNotThrow(prodWith(floor), `config.ts refuses ${floor} backup days in prod, which the pack allows`);
        assert.throws(prodWith(floor - 1), (err: Error) => err instanceof SettingsError && /dbBackupRetentionDays/.test(err.message),
            `config.ts accepts ${floor - 1} backup days in prod, which the pack refuses: the preview would pass settings the pack then stops`);
    });
});

describe("policy pack as the CLI runs it", function () {
    this.timeout(120_000);

    it("has what pulumi-analyzer-policy needs: PulumiPolicy.yaml (nodejs), a package.json version, and @pulumi/pulumi resolvable from the pack", () => {
        assert.match(fs.readFileSync(path.join(PACK_DIR, "PulumiPolicy.yaml"), "utf8"), /^runtime: nodejs$/m);
        assert.match(JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8")).version, /^\d+\.\d+\.\d+$/);
        assert.ok(require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [PACK_DIR] }).startsWith(PROJECT_ROOT));
    });

    /** PIDs of processes whose working directory is `dir` (Linux /proc; the analyzer runs in its pack's directory). */
    function processesIn(dir: string): string[] {
        return fs.readdirSync("/proc").filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
            try {
                return fs.readlinkSync(`/proc/${pid}/cwd`) === fs.realpathSync(dir);
            } catch {
                return false; // gone, or not ours to inspect
            }
        });
    }

    /** A throwaway pack next to the project's node_modules (linked), running `body` as its index.js. */
    function scratchPack(body: string): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "broken-pack-"));
        fs.writeFileSync(path.join(dir, "PulumiPolicy.yaml"), "runtime: nodejs\n");
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "scratch", version: "0.0.1" }));
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
        fs.writeFileSync(path.join(dir, "index.js"), body);
        return dir;
    }

    it("says to install dependencies when the pack cannot resolve @pulumi/pulumi", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bare-pack-"));
        fs.writeFileSync(path.join(dir, "PulumiPolicy.yaml"), "runtime: nodejs\n");
        await assert.rejects(startAnalyzer(dir, { project: "p", stack: "s" }), (err: Error) => err instanceof PolicyPackError && /try running npm install in/.test(err.message));
    });

    it("reports a pack that fails to load with its error output", async () => {
        const dir = scratchPack(`throw new Error("policy pack exploded while loading");\n`);
        await assert.rejects(startAnalyzer(dir, { project: "p", stack: "s" }),
            (err: Error) => err instanceof PolicyPackError && /failed to start/.test(err.message) && /policy pack exploded while loading/.test(err.message));
    });

    it("reports an analyzer that crashes mid-evaluation and leaves no process behind", async () => {
        const dir = scratchPack(`
const { PolicyPack } = require("@pulumi/policy");
new PolicyPack("crashy", { policies: [{ name: "crash", description: "Checks nothing; exits", enforcementLevel: "mandatory",
    validateResource: () => { process.stderr.write("about to crash\\n"); process.exit(3); } }] });
`);
        const plan = planOf("test", [res("aws:s3/bucket:Bucket", "b", {})]);
        await assert.rejects(evaluatePolicies(plan, { packDir: dir }),
            (err: Error) => err instanceof PolicyPackError && /failed in analyze/.test(err.message) && /about to crash/.test(err.message));
        assert.deepEqual(processesIn(dir), [], "an analyzer process is still running in the pack directory");
    });

    it("stops the analyzer it started once the evaluation is done", async () => {
        const dir = scratchPack(`
const { PolicyPack } = require("@pulumi/policy");
new PolicyPack("quiet", { policies: [{ name: "nothing", description: "Checks nothing", enforcementLevel: "mandatory", validateResource: () => undefined }] });
`);
        const result = await evaluatePolicies(planOf("test", [res("aws:s3/bucket:Bucket", "b", {})]), { packDir: dir });
        assert.equal(result.mandatoryCount, 0);
        assert.deepEqual(processesIn(dir), []);
    });
});
