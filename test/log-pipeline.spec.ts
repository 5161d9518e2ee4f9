import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as aws from "@pulumi/aws";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import {
    contentTag, dockerPlatform, FLUENT_BIT_DIR, LogPipeline, LogPipelineArgs, validateLogPipelineArgs,
} from "../components/log-pipeline";
import { ROUTER_ENV, ROUTER_ENV_NAMES } from "../fluent-bit/contract";
import { MOCK_ACCOUNT_ID } from "../tools/mocks";
import { ResourceRecorder } from "../tools/mock-harness";
import { RecordedResource, runUnderMocks, StackName, valueOf } from "./helpers";

const T = {
    bucket: "aws:s3/bucket:Bucket",
    encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    policy: "aws:s3/bucketPolicy:BucketPolicy",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    repo: "aws:ecr/repository:Repository",
    repoLifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    image: "docker:index/image:Image",
};
const BUCKET_SETTINGS = [T.encryption, T.versioning, T.publicAccess, T.ownership, T.lifecycle, T.policy];
const REGION = "ap-northeast-1";

function buildLogPipeline(stack: StackName, overrides: Record<string, string> = {}) {
    return runUnderMocks(stack, (s) => {
        const logs = new LogPipeline("backend-logs", {
            stack: s.stack,
            region: s.region,
            protect: s.protection.protectStatefulResources,
            logRetentionDays: s.network.logRetentionDays,
            ...s.logs,
            cpuArchitecture: s.service.cpuArchitecture,
        });
        // Stands in for the Service's ALB, which logs to the bucket under the prefix.
        new aws.lb.LoadBalancer("probe-alb", { accessLogs: { bucket: logs.bucketName, prefix: logs.albAccessLogPrefix, enabled: true } });
        return logs;
    }, overrides);
}

/** The bucket settings resource of a type (each must point at the log bucket). */
function setting(rec: ResourceRecorder, type: string): RecordedResource {
    const r = rec.one(type);
    assert.deepEqual(r.propertyDependencies.bucket, [rec.one(T.bucket).urn], `${r.urn} must configure the log bucket`);
    return r;
}

describe("LogPipeline helpers", () => {
    const valid: LogPipelineArgs = {
        stack: "dev", region: REGION, protect: false, logRetentionDays: 7,
        logArchiveAfterDays: 90, logExpireAfterDays: 365, logNoncurrentExpireAfterDays: 30, cpuArchitecture: "X86_64",
    };

    it("maps ECS CPU architectures to Docker platforms", () => {
        assert.equal(dockerPlatform("X86_64"), "linux/amd64");
        assert.equal(dockerPlatform("ARM64"), "linux/arm64");
    });

    it("accepts the stacks' settings and rejects names S3 or ECR would refuse, naming the property", () => {
        assert.doesNotThrow(() => validateLogPipelineArgs("l", valid));
        assert.throws(() => validateLogPipelineArgs("l", { ...valid, stack: "Prod_1" }), /stack "Prod_1" must be lower-case/);
        assert.throws(() => validateLogPipelineArgs("l", { ...valid, stack: "a".repeat(30) }), /stack "a+" is too long.*63 characters/);
        assert.throws(() => validateLogPipelineArgs("l", { ...valid, logExpireAfterDays: 90 }), /logExpireAfterDays \(90\) must be greater than logArchiveAfterDays \(90\)/);
    });

    describe("contentTag", () => {
        let dir: string;
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "fluent-bit-"));
            fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\n");
            fs.mkdirSync(path.join(dir, "conf"));
            fs.writeFileSync(path.join(dir, "conf", "extra.conf"), "[SERVICE]\n    Flush 1\n");
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("is stable for the same files and platform, and names the architecture", () => {
            assert.equal(contentTag(dir, "linux/amd64"), contentTag(dir, "linux/amd64"));
            assert.match(contentTag(dir, "linux/amd64"), /^[0-9a-f]{20}-amd64$/);
            assert.match(contentTag(dir, "linux/arm64"), /^[0-9a-f]{20}-arm64$/);
        });

        it("changes with a file's content, a new file, a file mode or the platform", () => {
            const before = contentTag(dir, "linux/amd64");
            assert.notEqual(contentTag(dir, "linux/arm64").slice(0, 20), before.slice(0, 20), "platform");
            fs.writeFileSync(path.join(dir, "conf", "extra.conf"), "[SERVICE]\n    Flush 2\n");
            const edited = contentTag(dir, "linux/amd64");
            assert.notEqual(edited, before, "content");
            fs.writeFileSync(path.join(dir, "contract.ts"), "export {};\n");
            const added = contentTag(dir, "linux/amd64");
            assert.notEqual(added, edited, "new file (the Docker provider hashes the whole context)");
            fs.chmodSync(path.join(dir, "Dockerfile"), 0o600);
            assert.notEqual(contentTag(dir, "linux/amd64"), added, "mode");
        });
    });
});

for (const stack of ["dev", "prod"] as const) {
    const prod = stack === "prod";
    describe(`LogPipeline (${stack})`, () => {
        let rec: ResourceRecorder;
        let logs: LogPipeline;
        let settings: Awaited<ReturnType<typeof buildLogPipeline>>["settings"];
        before(async () => {
            const run = await buildLogPipeline(stack);
            rec = run.recorder;
            logs = run.result;
            settings = run.settings;
        });

        it("names the bucket by stack, account and region", () => {
            const bucket = rec.one(T.bucket);
            assert.equal(bucket.inputs.bucket, `backend-${stack}-logs-${MOCK_ACCOUNT_ID}-${REGION}`, bucket.urn);
        });

        it("tags the bucket as holding logs, the signal the pack's lifecycle policy reads", () => {
            const bucket = rec.one(T.bucket);
            assert.equal(bucket.inputs.tags.DataClass, "logs", bucket.urn);
            const packConfig = JSON.parse(fs.readFileSync(`policy-pack/${stack}.json`, "utf8"));
            const wanted = packConfig["s3-bucket-lifecycle"]?.logBucketTags ?? { DataClass: "logs" };
            for (const [k, v] of Object.entries(wanted)) assert.equal(bucket.inputs.tags[k], v, `${k} on ${bucket.urn}`);
        });

        it(prod ? "protects and retains the bucket and its settings, and never force-destroys it"
            : "lets `pulumi destroy` empty and delete the bucket, unprotected", () => {
            const bucket = rec.one(T.bucket);
            assert.equal(bucket.inputs.forceDestroy, !prod, `forceDestroy on ${bucket.urn}`);
            for (const r of [bucket, ...BUCKET_SETTINGS.map((t) => rec.one(t))]) {
                assert.equal(r.protect, prod, `protect on ${r.urn}`);
                assert.equal(r.retainOnDelete, prod, `retainOnDelete on ${r.urn}`);
            }
            for (const r of rec.resources.filter((r) => r.custom && r.parent && !BUCKET_SETTINGS.includes(r.type) && r.type !== T.bucket)) {
                assert.equal(r.protect, false, `only the bucket and its settings are protected, not ${r.urn}`);
            }
        });

        it("encrypts with SSE-S3 (AES256), the only encryption ALB log delivery accepts", () => {
            const rules = setting(rec, T.encryption).inputs.rules;
            assert.deepEqual(rules.map((r: any) => r.applyServerSideEncryptionByDefault), [{ sseAlgorithm: "AES256" }]);
        });

        it("turns versioning on", () => {
            assert.equal(setting(rec, T.versioning).inputs.versioningConfiguration.status, "Enabled");
        });

        it("sets all four public-access blocks", () => {
            const block = setting(rec, T.publicAccess).inputs;
            for (const key of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
                assert.equal(block[key], true, key);
            }
        });

        it("enforces bucket-owner ownership (ACLs disabled)", () => {
            assert.equal(setting(rec, T.ownership).inputs.rule.objectOwnership, "BucketOwnerEnforced");
        });

        describe("bucket policy", () => {
            let statements: any[];
            let bucketArn: string;
            before(() => {
                const policy = setting(rec, T.policy);
                statements = JSON.parse(policy.inputs.policy).Statement;
                bucketArn = rec.one(T.bucket).outputs.arn;
                const after = [rec.one(T.publicAccess).urn, rec.one(T.ownership).urn];
                assert.deepEqual(policy.dependencies.filter((d) => after.includes(d)).sort(), after.sort(), "applied after the public-access block and ownership");
            });

            it("is attached before an ALB that logs to the bucket is created", () => {
            const alb = rec.one("aws:lb/loadBalancer:LoadBalancer", "probe-alb");
            assert.ok(alb.propertyDependencies.accessLogs.includes(rec.one(T.policy).urn), `${alb.urn} must wait for the bucket policy`);
        });

        it("holds exactly the TLS deny and the ALB delivery grant", () => {
                assert.deepEqual(statements.map((s) => s.Sid), ["DenyInsecureTransport", "AllowAlbAccessLogDelivery"]);
            });

            it("denies every request without TLS, on the bucket and its objects", () => {
                const deny = statements[0];
                assert.deepEqual([deny.Effect, deny.Principal, deny.Action], ["Deny", "*", "s3:*"]);
                assert.deepEqual(deny.Resource, [bucketArn, `${bucketArn}/*`]);
                assert.deepEqual(deny.Condition, { Bool: { "aws:SecureTransport": "false" } });
            });

            it("lets ELB log delivery put objects under alb/AWSLogs/<this account>/ only", () => {
                const alb = statements[1];
                assert.equal(alb.Effect, "Allow");
                // Tokyo's regional ELB account (582318560864) and the log-delivery service principal.
                assert.deepEqual(alb.Principal, { AWS: "arn:aws:iam::582318560864:root", Service: "logdelivery.elasticloadbalancing.amazonaws.com" });
                assert.equal(alb.Action, "s3:PutObject");
                assert.equal(alb.Resource, `arn:aws:s3:::backend-${stack}-logs-${MOCK_ACCOUNT_ID}-${REGION}/alb/AWSLogs/${MOCK_ACCOUNT_ID}/*`);
                assert.equal(alb.Condition, undefined);
                assert.equal(logs.albAccessLogPrefix, "alb");
            });
        });

        describe("lifecycle", () => {
            let rules: Record<string, any>;
            before(() => {
                const lifecycle = setting(rec, T.lifecycle);
                rules = Object.fromEntries(lifecycle.inputs.rules.map((r: any) => [r.id, r]));
                assert.deepEqual(lifecycle.dependencies.filter((d) => d === rec.one(T.versioning).urn), [rec.one(T.versioning).urn], "after versioning");
            });

            it("archives logs/ to Glacier Flexible Retrieval after 90 days and expires it after 365 (the settings)", () => {
                const r = rules["router-logs"];
                assert.deepEqual([r.status, r.filter], ["Enabled", { prefix: "logs/" }]);
                assert.deepEqual(r.transitions, [{ days: 90, storageClass: "GLACIER" }]);
                assert.deepEqual(r.expiration, { days: 365 });
                assert.deepEqual([settings.logs.logArchiveAfterDays, settings.logs.logExpireAfterDays], [90, 365]);
            });

            it("archives and expires the ALB access logs the same way", () => {
                const r = rules["alb-access-logs"];
                assert.deepEqual([r.status, r.filter], ["Enabled", { prefix: "alb/" }]);
                assert.deepEqual(r.transitions, [{ days: 90, storageClass: "GLACIER" }]);
                assert.deepEqual(r.expiration, { days: 365 });
            });

            it("expires every object, noncurrent versions after 30 days and aborts uploads after 7, bucket-wide", () => {
                const r = rules["whole-bucket"];
                assert.deepEqual([r.status, r.filter], ["Enabled", {}]);
                assert.deepEqual(r.expiration, { days: 365 });
                assert.deepEqual(r.noncurrentVersionExpiration, { noncurrentDays: 30 });
                assert.equal(settings.logs.logNoncurrentExpireAfterDays, 30);
                assert.deepEqual(r.abortIncompleteMultipartUpload, { daysAfterInitiation: 7 });
                assert.equal(r.transitions, undefined);
            });

            it("has no other rule", () => {
                assert.deepEqual(Object.keys(rules).sort(), ["alb-access-logs", "router-logs", "whole-bucket"]);
            });
        });

        it(`keeps the error and router groups, stack-scoped, for ${prod ? 30 : 7} days`, async () => {
            const errors = rec.one(T.logGroup, "-errors");
            const router = rec.one(T.logGroup, "-router");
            assert.equal(errors.inputs.name, `/ecs/backend-${stack}/errors`);
            assert.equal(router.inputs.name, `/ecs/backend-${stack}/firelens`);
            for (const g of [errors, router]) {
                assert.equal(g.inputs.retentionInDays, prod ? 30 : 7, g.urn);
                assert.equal(g.inputs.retentionInDays, settings.network.logRetentionDays, g.urn);
            }
            assert.equal(await valueOf(logs.errorLogGroupName), `/ecs/backend-${stack}/errors`);
            assert.equal(await valueOf(logs.errorLogGroupArn), errors.outputs.arn);
            assert.equal(await valueOf(logs.routerLogGroupName), `/ecs/backend-${stack}/firelens`);
            assert.equal(await valueOf(logs.routerLogGroupArn), router.outputs.arn);
        });

        it("keeps the router image in a stack-scoped, scanned, immutable, encrypted repository", () => {
            const repo = rec.one(T.repo).inputs;
            assert.equal(repo.name, `backend-${stack}/fluent-bit`);
            assert.deepEqual(repo.imageScanningConfiguration, { scanOnPush: true });
            assert.equal(repo.imageTagMutability, "IMMUTABLE");
            assert.deepEqual(repo.encryptionConfigurations, [{ encryptionType: "AES256" }]);
            assert.equal(repo.forceDelete, !prod, "forceDelete only in dev");
        });

        it("expires all but the newest 5 router images", () => {
            const lifecycle = rec.one(T.repoLifecycle);
            assert.deepEqual(lifecycle.propertyDependencies.repository, [rec.one(T.repo).urn]);
            assert.deepEqual(JSON.parse(lifecycle.inputs.policy).rules, [{
                rulePriority: 1,
                description: "Keep the newest 5 images",
                selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 5 },
                action: { type: "expire" },
            }]);
        });

        it("builds the image from fluent-bit/ for linux/amd64, tagged by content, pushed with an ECR token", async () => {
            const image = rec.one(T.image);
            const repo = rec.one(T.repo);
            assert.equal(image.inputs.build.platform, "linux/amd64");
            assert.equal(path.resolve(image.inputs.build.context), FLUENT_BIT_DIR);
            assert.ok(!path.isAbsolute(image.inputs.build.context), "a relative context keeps the provider's inputs equal across machines");
            assert.equal(path.resolve(image.inputs.build.dockerfile), path.join(FLUENT_BIT_DIR, "Dockerfile"));
            assert.equal(image.inputs.imageName, `${repo.outputs.repositoryUrl}:${contentTag(FLUENT_BIT_DIR, "linux/amd64")}`);
            // The password is a secret, so the whole registry block travels as one.
            assert.equal(image.inputs.registry[specialSigKey], specialSecretSig, "registry credentials are secret");
            const registry = image.inputs.registry.value;
            assert.deepEqual(registry, { server: repo.outputs.repositoryUrl, username: "AWS", password: "offline-token" });
            const tokenCall = rec.calls.find((c) => c.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken");
            assert.equal(tokenCall?.inputs.registryId, MOCK_ACCOUNT_ID, "token for this repository's registry");
            assert.equal(await valueOf(logs.imageRef), image.outputs.repoDigest);
            assert.match(await valueOf(logs.imageRef), new RegExp(`^${repo.outputs.repositoryUrl}@sha256:[0-9a-f]{64}$`));
        });

        it("grants the task role PutObject on logs/ and error-log writes on the error group only", async () => {
            const bucketArn = rec.one(T.bucket).outputs.arn;
            const group = rec.one(T.logGroup, "-errors").outputs.arn;
            assert.deepEqual(await valueOf(logs.taskRoleStatements), [
                { Sid: "RouterPutLogObjects", Effect: "Allow", Action: ["s3:PutObject"], Resource: [`${bucketArn}/logs/*`] },
                {
                    Sid: "RouterWriteErrorLogs", Effect: "Allow",
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    Resource: [group, `${group}:log-stream:*`],
                },
            ]);
            assert.equal(group, `arn:aws:logs:${REGION}:${MOCK_ACCOUNT_ID}:log-group:/ecs/backend-${stack}/errors`);
        });

        it("grants the execution role image pulls from this repository and the router's own log writes", async () => {
            const repoArn = rec.one(T.repo).outputs.arn;
            const group = rec.one(T.logGroup, "-router").outputs.arn;
            assert.equal(repoArn, `arn:aws:ecr:${REGION}:${MOCK_ACCOUNT_ID}:repository/backend-${stack}/fluent-bit`);
            assert.deepEqual(await valueOf(logs.executionRoleStatements), [
                {
                    Sid: "PullRouterImage", Effect: "Allow",
                    Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    Resource: [repoArn],
                },
                { Sid: "RouterOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [group, `${group}:log-stream:*`] },
            ]);
        });

        it("gives the router exactly the variables its config reads, bound to this bucket, group and region", async () => {
            const env = await valueOf(logs.routerEnvironment);
            assert.deepEqual(env.map((e) => e.name).sort(), [...ROUTER_ENV_NAMES].sort());
            const value = Object.fromEntries(env.map((e) => [e.name, e.value]));
            assert.equal(value[ROUTER_ENV.region], REGION);
            assert.equal(value[ROUTER_ENV.bucket], rec.one(T.bucket).outputs.bucket);
            assert.equal(value[ROUTER_ENV.errorLogGroup], `/ecs/backend-${stack}/errors`);
        });

        it("nests every child under the component and records its outputs", async () => {
            const component = rec.one("backend-infra:logs:LogPipeline");
            const inside = new Set([component.urn]);
            for (const r of rec.resources.filter((r) => r !== component && r.name !== "probe-alb")) {
                assert.ok(r.parent && inside.has(r.parent), `${r.urn} has parent ${r.parent}`);
                inside.add(r.urn);
            }
            assert.equal(component.outputs.bucketName, await valueOf(logs.bucketName));
            assert.equal(component.outputs.bucketArn, await valueOf(logs.bucketArn));
            assert.equal(component.outputs.repositoryUrl, await valueOf(logs.repositoryUrl));
            assert.equal(component.outputs.repositoryArn, await valueOf(logs.repositoryArn));
            assert.equal(component.outputs.albAccessLogPrefix, "alb");
        });
    });
}

describe("LogPipeline (settings overrides)", () => {
    it("builds for linux/arm64 when cpuArchitecture is ARM64, with a different tag", async () => {
        const { recorder } = await buildLogPipeline("dev", { "backend-infra:cpuArchitecture": "ARM64" });
        const image = recorder.one(T.image);
        assert.equal(image.inputs.build.platform, "linux/arm64");
        assert.ok(image.inputs.imageName.endsWith(`:${contentTag(FLUENT_BIT_DIR, "linux/arm64")}`), image.inputs.imageName);
    });

    it("takes the lifecycle days from the settings", async () => {
        const { recorder } = await buildLogPipeline("prod", {
            "backend-infra:logArchiveAfterDays": "30",
            "backend-infra:logExpireAfterDays": "400",
            "backend-infra:logNoncurrentExpireAfterDays": "14",
        });
        const rules = Object.fromEntries(recorder.one(T.lifecycle).inputs.rules.map((r: any) => [r.id, r]));
        assert.deepEqual(rules["router-logs"].transitions, [{ days: 30, storageClass: "GLACIER" }]);
        assert.deepEqual(rules["alb-access-logs"].expiration, { days: 400 });
        assert.deepEqual(rules["whole-bucket"].expiration, { days: 400 });
        assert.deepEqual(rules["whole-bucket"].noncurrentVersionExpiration, { noncurrentDays: 14 });
    });
});
