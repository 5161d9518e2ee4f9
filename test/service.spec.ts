import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Aurora } from "../components/aurora";
import { LogPipeline } from "../components/log-pipeline";
import { Service, ServiceArgs, validateServiceArgs } from "../components/service";
import { MANAGED_RULE_GROUPS, RATE_RULE_NAME, TLS_POLICY, tlsSetup, wafRules } from "../components/service-edge";
import {
    appHealthCheck, appImageUri, containerDefinitions, ContainerInputs, ecsTasksTrustPolicy, executionRoleStatements,
    policyDocument, ROUTER_CONTAINER_NAME, secretJsonKey,
} from "../components/service-task";
import { SettingsError, Settings } from "../config";
import { buildPlatform } from "../platform";
import { FIRELENS_OPTIONS, ROUTER_ENV, ROUTER_ENV_NAMES } from "../fluent-bit/contract";
import { MOCK_ACCOUNT_ID, MOCKED_TYPES } from "../tools/mocks";
import { ResourceRecorder } from "../tools/mock-harness";
import { ConfigOverrides, RecordedResource, runUnderMocks, StackName, stackSettings, valueOf } from "./helpers";

const T = {
    component: "backend-infra:service:Service",
    repo: "aws:ecr/repository:Repository",
    repoLifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    cluster: "aws:ecs/cluster:Cluster",
    taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
    service: "aws:ecs/service:Service",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    legacyRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    alb: "aws:lb/loadBalancer:LoadBalancer",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    listener: "aws:lb/listener:Listener",
    certificate: "aws:acm/certificate:Certificate",
    certificateValidation: "aws:acm/certificateValidation:CertificateValidation",
    record: "aws:route53/record:Record",
    webAcl: "aws:wafv2/webAcl:WebAcl",
    webAclAssociation: "aws:wafv2/webAclAssociation:WebAclAssociation",
    webAclLogging: "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    logResourcePolicy: "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
    scalingTarget: "aws:appautoscaling/target:Target",
    scalingPolicy: "aws:appautoscaling/policy:Policy",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    dbCluster: "aws:rds/cluster:Cluster",
    dbKey: "aws:kms/key:Key",
};

const REGION = "ap-northeast-1";
const NAME = "backend-api";
const CERT_ARN = `arn:aws:acm:${REGION}:${MOCK_ACCOUNT_ID}:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b`;
/** prod with a given certificate instead of the domain and zone. */
const WITH_CERT_ARN: ConfigOverrides = {
    "backend-infra:certificateArn": CERT_ARN,
    "backend-infra:domainName": undefined,
    "backend-infra:hostedZoneId": undefined,
};

interface Built {
    service: Service;
    logs: LogPipeline;
    aurora: Aurora;
    /** The options the ECS service was registered with (ignoreChanges is not on the wire to the mocks). */
    serviceOpts: pulumi.CustomResourceOptions | undefined;
}

/** The program's wiring (platform.ts, as index.ts builds it) for a stack, capturing the ECS service's options. */
function buildStack(stack: StackName, overrides: ConfigOverrides = {}) {
    return runUnderMocks(stack, (s): Built => {
        const built: Built = { serviceOpts: undefined } as Built;
        const platform = buildPlatform(s, {
            transformations: [(a) => {
                if (a.type === T.service) built.serviceOpts = a.opts;
                return undefined;
            }],
        });
        return { ...built, service: platform.service, logs: platform.logs, aurora: platform.database };
    }, overrides);
}

function deps(r: RecordedResource, prop: string): string[] {
    return r.propertyDependencies[prop] ?? [];
}

/** Every URN `r` waits for: explicit dependsOn and property dependencies. */
function allDeps(r: RecordedResource): string[] {
    return [...r.dependencies, ...Object.values(r.propertyDependencies).flat()];
}

/** Resources under the Service component (at any depth). */
function underService(rec: ResourceRecorder): RecordedResource[] {
    const root = rec.one(T.component).urn;
    const isUnder = (r: RecordedResource): boolean => r.parent === root || (r.parent !== null && isUnder(rec.byUrn(r.parent)!));
    return rec.resources.filter(isUnder);
}

/** The container definitions the task definition carries, by name. */
function containers(rec: ResourceRecorder): Record<string, any> {
    const list = JSON.parse(rec.one(T.taskDefinition).inputs.containerDefinitions) as any[];
    return Object.fromEntries(list.map((c) => [c.name, c]));
}

/** The rules of one security group, as comparable strings. */
function rulesOf(rec: ResourceRecorder, sg: RecordedResource): { ingress: string[]; egress: string[] } {
    const describeRule = (r: RecordedResource) => {
        const peer = r.inputs.cidrIpv4 !== undefined ? `cidr ${r.inputs.cidrIpv4}`
            : r.inputs.prefixListId !== undefined ? `prefix-list ${r.inputs.prefixListId}`
                : r.inputs.referencedSecurityGroupId !== undefined ? `sg ${r.inputs.referencedSecurityGroupId}`
                    : `ipv6 ${r.inputs.cidrIpv6}`;
        return `${r.inputs.ipProtocol}/${r.inputs.fromPort}-${r.inputs.toPort} ${peer}`;
    };
    const of = (type: string) => rec.ofType(type).filter((r) => deps(r, "securityGroupId").includes(sg.urn)).map(describeRule).sort();
    return { ingress: of(T.ingress), egress: of(T.egress) };
}

// ---------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------

describe("Service helpers", () => {
    const inputs: ContainerInputs = {
        routerImage: `${MOCK_ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/backend-dev/fluent-bit@sha256:${"a".repeat(64)}`,
        routerEnvironment: [{ name: "AWS_REGION", value: REGION }],
        routerLogGroupName: "/ecs/backend-dev/firelens",
        region: REGION,
        appImage: "registry.example.com/api:1.2.3",
        appPort: 8000,
        healthCheckPath: "/health",
        dbHost: "db.example.internal",
        dbPort: 5432,
        dbName: "backend",
        dbSecretArn: `arn:aws:secretsmanager:${REGION}:${MOCK_ACCOUNT_ID}:secret:rds!cluster-abc-123456`,
    };

    it("addresses one JSON key of the current secret version in valueFrom", () => {
        assert.equal(secretJsonKey("arn:aws:secretsmanager:r:1:secret:s-AbCdEf", "password"), "arn:aws:secretsmanager:r:1:secret:s-AbCdEf:password::");
    });

    it("takes the image URI as given, or the tag in the backend repository", () => {
        assert.equal(appImageUri("1.dkr.ecr/r", { appImage: "x/y:1" }), "x/y:1");
        assert.equal(appImageUri("1.dkr.ecr/r", { appImageTag: "0.1.0" }), "1.dkr.ecr/r:0.1.0");
        assert.throws(() => appImageUri("1.dkr.ecr/r", {}), /appImage or appImageTag/);
    });

    it("health-checks the app with Python's standard library on its own port and path, in exec form", () => {
        const hc = appHealthCheck(8080, "/ready?deep=1");
        assert.equal(hc.command[0], "CMD");
        assert.equal(hc.command[1], "python3");
        assert.match(hc.command[3], /urllib\.request\.urlopen\("http:\/\/127\.0\.0\.1:8080\/ready\?deep=1", timeout=4\)\.status == 200/);
        assert.ok(hc.timeout > 4, "the ECS timeout leaves room for urllib's own");
    });

    it("puts the router first and makes the app wait until it is healthy", () => {
        const [router, app] = containerDefinitions(inputs) as any[];
        assert.equal(router.name, ROUTER_CONTAINER_NAME);
        assert.deepEqual(app.dependsOn, [{ containerName: ROUTER_CONTAINER_NAME, condition: "HEALTHY" }]);
        assert.ok(router.healthCheck, "HEALTHY needs a health check on the router");
    });

    it("selects the TLS setup, refusing a certificate together with a domain and half a domain", () => {
        assert.deepEqual(tlsSetup("S", { apiHostPrefix: "api" }), { kind: "none" });
        assert.deepEqual(tlsSetup("S", { apiHostPrefix: "api", certificateArn: CERT_ARN }), { kind: "certificate-arn", certificateArn: CERT_ARN });
        assert.deepEqual(tlsSetup("S", { apiHostPrefix: "api", domainName: "example.com", hostedZoneId: "Z1" }),
            { kind: "dns-validated", domainName: "example.com", hostedZoneId: "Z1", hostName: "api.example.com" });
        assert.throws(() => tlsSetup("S", { apiHostPrefix: "api", certificateArn: CERT_ARN, domainName: "example.com", hostedZoneId: "Z1" }),
            /S: certificateArn and domainName\/hostedZoneId are alternatives/);
        assert.throws(() => tlsSetup("S", { apiHostPrefix: "api", domainName: "example.com" }), /S: hostedZoneId is required when domainName is given/);
        assert.throws(() => tlsSetup("S", { apiHostPrefix: "api", hostedZoneId: "Z1" }), /S: domainName is required when hostedZoneId is given/);
    });

    it("orders the WAF rules IP reputation, rate limit, common, known bad inputs, with unique priorities", () => {
        const rules = wafRules(500, "m");
        assert.deepEqual(rules.map((r) => r.name), [MANAGED_RULE_GROUPS[0], RATE_RULE_NAME, MANAGED_RULE_GROUPS[1], MANAGED_RULE_GROUPS[2]]);
        assert.deepEqual(rules.map((r) => r.priority), [0, 1, 2, 3]);
        assert.equal(new Set(rules.map((r) => r.visibilityConfig.metricName)).size, rules.length, "metric names are unique");
    });

    it("builds trust policies for ECS tasks of this account (and, for the task role, this region's ECS)", () => {
        const ctx = { accountId: MOCK_ACCOUNT_ID, partition: "aws", region: REGION };
        const exec = ecsTasksTrustPolicy(ctx, false) as any;
        assert.deepEqual(exec.Statement[0].Condition, { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID } });
        const task = ecsTasksTrustPolicy(ctx, true) as any;
        assert.deepEqual(task.Statement[0].Condition, {
            StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID },
            ArnLike: { "aws:SourceArn": `arn:aws:ecs:${REGION}:${MOCK_ACCOUNT_ID}:*` },
        });
        assert.deepEqual(task.Statement[0].Principal, { Service: "ecs-tasks.amazonaws.com" });
    });

    it("refuses duplicate statement ids in one policy", () => {
        const statements = executionRoleStatements({ dbSecretArn: "s", dbKmsKeyArn: "k", backendRepositoryArn: "r", region: REGION, dnsSuffix: "amazonaws.com" });
        assert.throws(() => policyDocument([...statements, statements[0]]), /duplicate IAM statement Sid ReadDbSecret/);
    });

    describe("validateServiceArgs", () => {
        const valid = (): ServiceArgs => ({
            ...stackSettings("dev").service,
            stack: "dev", region: REGION, protect: false, logRetentionDays: 7,
            vpcId: "vpc-1", publicSubnetIds: ["a", "b"], privateSubnetIds: ["c", "d"], endpointSecurityGroupId: "sg-e", s3PrefixListId: "pl-1",
            dbHost: "h", dbPort: 5432, dbName: "backend", dbSecretArn: "s", dbKmsKeyArn: "k", dbSecurityGroupId: "sg-db",
            logBucketName: "b", albAccessLogPrefix: "alb", routerImage: "i", routerEnvironment: [], routerLogGroupName: "g",
            taskRoleStatements: [], executionRoleStatements: [],
        });
        const refuses = (change: Partial<ServiceArgs>, message: RegExp) =>
            assert.throws(() => validateServiceArgs(NAME, { ...valid(), ...change }), message);

        it("accepts the dev settings", () => {
            assert.deepEqual(validateServiceArgs(NAME, valid()), { kind: "none" });
        });
        it("refuses a certificate ARN together with a domain, naming the properties", () => {
            refuses({ certificateArn: CERT_ARN, domainName: "example.com", hostedZoneId: "Z1" },
                /^Error: Service backend-api: certificateArn and domainName\/hostedZoneId are alternatives/);
        });
        it("refuses a domain without its hosted zone", () => {
            refuses({ domainName: "example.com" }, /Service backend-api: hostedZoneId is required when domainName is given/);
        });
        it("refuses a CPU/memory pair Fargate does not run", () => {
            refuses({ taskCpu: 512, taskMemory: 512 }, /Service backend-api: taskMemory 512 is not a size Fargate accepts with taskCpu 512/);
            refuses({ taskCpu: 300 }, /Service backend-api: taskCpu 300 is not a Fargate CPU value/);
        });
        it("refuses an app image the private subnets cannot reach (outside this region's ECR)", () => {
            refuses({ appImageTag: undefined, appImage: "public.ecr.aws/docker/library/python:3.12-slim" },
                /appImage "public\.ecr\.aws\/docker\/library\/python:3\.12-slim" must be an ECR image in ap-northeast-1/);
            refuses({ appImageTag: undefined, appImage: `${MOCK_ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/api:1` }, /must be an ECR image in ap-northeast-1/);
            assert.equal(validateServiceArgs(NAME, { ...valid(), appImageTag: undefined, appImage: `${MOCK_ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/api:1` }).kind, "none");
        });
        it("refuses both or neither of appImage and appImageTag", () => {
            refuses({ appImage: `${MOCK_ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/api:1`, appImageTag: "1" }, /exactly one of appImage .* and appImageTag/);
            refuses({ appImage: undefined, appImageTag: undefined }, /exactly one of appImage .* and appImageTag/);
        });
        it("refuses an app port the log router listens on", () => {
            refuses({ appPort: 24224 }, /appPort 24224 is taken by the log router/);
            refuses({ appPort: 8877 }, /appPort 8877 is taken by the log router/);
        });
        it("refuses a desired count outside the scaling bounds", () => {
            refuses({ desiredCount: 3, maxTaskCount: 2 }, /desiredCount 3 must lie between minTaskCount 1 and maxTaskCount 2/);
        });
        it("refuses names AWS would refuse", () => {
            refuses({ stack: "Dev" }, /name and stack make "backend-api-Dev"/);
        });
    });
});

describe("Service settings (config.ts)", () => {
    it("rejects a CPU/memory pair Fargate does not run, naming the key and the stack file", () => {
        assert.throws(() => stackSettings("dev", { "backend-infra:taskMemory": "3072", "backend-infra:taskCpu": "256" }),
            (err: unknown) => err instanceof SettingsError
                && /Invalid stack settings in Pulumi\.dev\.yaml/.test(err.message)
                && /backend-infra:taskMemory = 3072: is not a memory size Fargate accepts with taskCpu 256/.test(err.message));
    });
    it("rejects a domain without its hosted zone", () => {
        assert.throws(() => stackSettings("prod", { "backend-infra:hostedZoneId": undefined }),
            (err: unknown) => err instanceof SettingsError && /Pulumi\.prod\.yaml/.test(err.message)
                && /backend-infra:hostedZoneId = \(not set\): is required when domainName is set/.test(err.message));
    });
    it("rejects a certificate ARN together with a domain", () => {
        assert.throws(() => stackSettings("prod", { "backend-infra:certificateArn": CERT_ARN }),
            (err: unknown) => err instanceof SettingsError && /backend-infra:certificateArn = .*set either certificateArn or domainName with hostedZoneId, not both/.test(err.message));
    });
});

// ---------------------------------------------------------------------------------------------
// Under mocks, per stack
// ---------------------------------------------------------------------------------------------

for (const stack of ["dev", "prod"] as const) {
    const prod = stack === "prod";
    const physical = `${NAME}-${stack}`;

    describe(`Service (${stack})`, () => {
        let rec: ResourceRecorder;
        let built: Built;
        let settings: Settings;
        let alb: RecordedResource;
        let targetGroup: RecordedResource;
        let taskSg: RecordedResource;
        let albSg: RecordedResource;
        let repo: RecordedResource;
        before(async function () {
            this.timeout(30000);
            const run = await buildStack(stack);
            rec = run.recorder;
            built = run.result;
            settings = run.settings;
            alb = rec.one(T.alb);
            targetGroup = rec.one(T.targetGroup);
            taskSg = rec.one(T.sg, `${NAME}-task-sg`);
            albSg = rec.one(T.sg, `${NAME}-alb-sg`);
            repo = rec.one(T.repo, `${NAME}-repo`);
        });

        it("nests every child under the component and uses only mocked types", () => {
            const children = underService(rec);
            const named = rec.resources.filter((r) => r.name.startsWith(`${NAME}-`) && r.type !== T.component);
            assert.deepEqual(children.map((r) => r.urn).sort(), named.map((r) => r.urn).sort(), "children are named after the component");
            assert.equal(children.length, prod ? 35 : 30, "dev + certificate, validation record, validation, alias and HTTPS listener in prod");
            for (const r of children) assert.ok(MOCKED_TYPES.includes(r.type), `${r.type} (${r.urn}) has no entry in tools/mocks.ts`);
        });

        describe("backend repository", () => {
            it("is stack-scoped, scanned on push, immutable and encrypted", () => {
                assert.equal(repo.inputs.name, physical);
                assert.deepEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
                assert.equal(repo.inputs.imageTagMutability, "IMMUTABLE");
                assert.deepEqual(repo.inputs.encryptionConfigurations, [{ encryptionType: "AES256" }]);
            });
            it(prod ? "refuses deletion while it holds images" : "is deleted with its images on destroy", () => {
                assert.equal(repo.inputs.forceDelete, !prod);
            });
            it("expires all but the newest 10 images", () => {
                const lifecycle = rec.one(T.repoLifecycle, `${NAME}-repo-lifecycle`);
                assert.deepEqual(deps(lifecycle, "repository"), [repo.urn]);
                assert.deepEqual(JSON.parse(lifecycle.inputs.policy).rules, [{
                    rulePriority: 1,
                    description: "Keep the newest 10 images",
                    selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 10 },
                    action: { type: "expire" },
                }]);
            });
        });

        it("runs a stack-scoped cluster with Container Insights on", () => {
            const cluster = rec.one(T.cluster);
            assert.equal(cluster.inputs.name, physical);
            assert.deepEqual(cluster.inputs.settings, [{ name: "containerInsights", value: "enabled" }]);
        });

        describe("task definition", () => {
            let td: RecordedResource;
            let router: any;
            let app: any;
            before(() => {
                td = rec.one(T.taskDefinition);
                const byName = containers(rec);
                assert.deepEqual(Object.keys(byName).sort(), ["app", "log_router"], "exactly two containers");
                router = byName.log_router;
                app = byName.app;
            });

            it(`is a Fargate awsvpc task of ${prod ? "1024 CPU / 2048 MiB" : "512 CPU / 1024 MiB"} on Linux/X86_64`, () => {
                assert.equal(td.inputs.family, physical);
                assert.deepEqual(td.inputs.requiresCompatibilities, ["FARGATE"]);
                assert.equal(td.inputs.networkMode, "awsvpc");
                assert.equal(td.inputs.cpu, prod ? "1024" : "512");
                assert.equal(td.inputs.memory, prod ? "2048" : "1024");
                assert.deepEqual(td.inputs.runtimePlatform, { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" });
            });

            it("runs with the execution role and the task role", () => {
                assert.deepEqual(deps(td, "executionRoleArn"), [rec.one(T.role, `${NAME}-execution-role`).urn]);
                assert.deepEqual(deps(td, "taskRoleArn"), [rec.one(T.role, `${NAME}-task-role`).urn]);
            });

            describe("log_router", () => {
                it("runs the LogPipeline image by digest, essential, as root", async () => {
                    assert.equal(router.image, await valueOf(built.logs.imageRef));
                    assert.match(router.image, new RegExp(`/backend-${stack}/fluent-bit@sha256:[0-9a-f]{64}$`));
                    assert.equal(router.essential, true);
                    assert.equal(router.user, "0");
                });

                it("is the FireLens router with the custom config at the path the Dockerfile copies it to, and ECS metadata", () => {
                    const dockerfile = fs.readFileSync(path.join(__dirname, "..", "fluent-bit", "Dockerfile"), "utf8");
                    const copied = /^COPY\s+extra\.conf\s+(\S+)\s*$/m.exec(dockerfile);
                    assert.ok(copied, "the Dockerfile copies extra.conf");
                    assert.equal(router.firelensConfiguration.type, "fluentbit");
                    assert.deepEqual(router.firelensConfiguration.options, { ...FIRELENS_OPTIONS, "enable-ecs-log-metadata": "true" });
                    assert.equal(router.firelensConfiguration.options["config-file-type"], "file");
                    assert.equal(router.firelensConfiguration.options["config-file-value"], copied![1]);
                });

                it("gets exactly the environment its config reads, from LogPipeline", async () => {
                    assert.deepEqual(router.environment, await valueOf(built.logs.routerEnvironment));
                    assert.deepEqual(router.environment.map((e: any) => e.name), ROUTER_ENV_NAMES);
                    const env = Object.fromEntries(router.environment.map((e: any) => [e.name, e.value]));
                    assert.equal(env[ROUTER_ENV.region], REGION);
                    assert.equal(env[ROUTER_ENV.bucket], await valueOf(built.logs.bucketName));
                    assert.equal(env[ROUTER_ENV.errorLogGroup], `/ecs/backend-${stack}/errors`);
                });

                it("logs its own output with awslogs to the router group", async () => {
                    assert.deepEqual(router.logConfiguration, {
                        logDriver: "awslogs",
                        options: {
                            "awslogs-group": await valueOf(built.logs.routerLogGroupName),
                            "awslogs-region": REGION,
                            "awslogs-stream-prefix": "ecs",
                        },
                    });
                });

                it("reserves 50 MiB, outlives Fluent Bit's 25 s grace on stop, and health-checks Fluent Bit's uptime endpoint on loopback", () => {
                    assert.equal(router.memoryReservation, 50);
                    assert.ok(router.stopTimeout > 25 && router.stopTimeout <= 120, `stopTimeout ${router.stopTimeout}`);
                    assert.deepEqual(router.healthCheck.command, ["CMD-SHELL", "curl -fs http://127.0.0.1:2020/api/v1/uptime || exit 1"]);
                    assert.deepEqual([router.healthCheck.interval, router.healthCheck.timeout, router.healthCheck.retries], [10, 5, 3]);
                    assert.equal(router.portMappings, undefined, "FireLens' 24224 is never published");
                });
            });

            describe("app", () => {
                it("runs the backend repository's image at the configured tag, essential, on the app port", async () => {
                    assert.equal(app.image, `${await valueOf(built.service.repositoryUrl)}:0.1.0`);
                    assert.equal(app.essential, true);
                    assert.deepEqual(app.portMappings, [{ containerPort: 8000, protocol: "tcp" }]);
                });

                it("logs through awsfirelens with no options at all", () => {
                    assert.deepEqual(app.logConfiguration, { logDriver: "awsfirelens" });
                    assert.equal("options" in app.logConfiguration, false);
                });

                it("starts once the router is healthy", () => {
                    assert.deepEqual(app.dependsOn, [{ containerName: "log_router", condition: "HEALTHY" }]);
                });

                it("gets the database location in plain environment, TLS required", async () => {
                    assert.deepEqual(app.environment, [
                        { name: "DB_HOST", value: await valueOf(built.aurora.writerEndpoint) },
                        { name: "DB_PORT", value: "5432" },
                        { name: "DB_NAME", value: "backend" },
                        { name: "DB_SSLMODE", value: "require" },
                    ]);
                });

                it("gets the credentials only as secrets from the Aurora secret's JSON keys", async () => {
                    const secretArn = await valueOf(built.aurora.secretArn);
                    assert.deepEqual(app.secrets, [
                        { name: "DB_USERNAME", valueFrom: `${secretArn}:username::` },
                        { name: "DB_PASSWORD", valueFrom: `${secretArn}:password::` },
                    ]);
                });

                it("has no environment variable that looks like a credential, in any container", () => {
                    for (const c of [router, app]) {
                        for (const e of c.environment) assert.doesNotMatch(e.name, /PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL/i, `${c.name}: ${e.name}`);
                    }
                    assert.equal(router.secrets, undefined);
                });

                it("health-checks the health path on the app port without curl", () => {
                    assert.equal(app.healthCheck.command[0], "CMD");
                    assert.equal(app.healthCheck.command[1], "python3");
                    assert.match(app.healthCheck.command[3], /urlopen\("http:\/\/127\.0\.0\.1:8000\/health", timeout=4\)\.status == 200/);
                    assert.ok(app.healthCheck.startPeriod >= 30, "the app gets time to start");
                });
            });
        });

        describe("IAM", () => {
            let execRole: RecordedResource;
            let taskRole: RecordedResource;
            before(() => {
                execRole = rec.one(T.role, `${NAME}-execution-role`);
                taskRole = rec.one(T.role, `${NAME}-task-role`);
            });
            const policiesOf = (role: RecordedResource) => rec.ofType(T.rolePolicy).filter((p) => deps(p, "role").includes(role.urn));
            const attachmentsOf = (role: RecordedResource) => rec.ofType(T.attachment).filter((p) => deps(p, "role").includes(role.urn));

            it("lets only ECS tasks of this account assume the execution role", () => {
                const trust = JSON.parse(execRole.inputs.assumeRolePolicy);
                assert.deepEqual(trust.Statement, [{
                    Effect: "Allow",
                    Principal: { Service: "ecs-tasks.amazonaws.com" },
                    Action: "sts:AssumeRole",
                    Condition: { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID } },
                }]);
            });

            it("attaches AmazonECSTaskExecutionRolePolicy to the execution role, nothing else managed", () => {
                assert.deepEqual(attachmentsOf(execRole).map((a) => a.inputs.policyArn),
                    ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]);
            });

            it("grants the execution role exactly: the DB secret, its key via Secrets Manager, both image repositories, the router's logs", async () => {
                const policies = policiesOf(execRole);
                assert.equal(policies.length, 1);
                const doc = JSON.parse(policies[0].inputs.policy);
                const secretArn = await valueOf(built.aurora.secretArn);
                const keyArn = await valueOf(built.aurora.kmsKeyArn);
                const routerRepoArn = await valueOf(built.logs.repositoryArn);
                const routerGroupArn = await valueOf(built.logs.routerLogGroupArn);
                assert.equal(doc.Version, "2012-10-17");
                assert.deepEqual(doc.Statement, [
                    { Sid: "ReadDbSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn] },
                    {
                        Sid: "DecryptDbSecret", Effect: "Allow", Action: ["kms:Decrypt"], Resource: [keyArn],
                        Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } },
                    },
                    {
                        Sid: "PullBackendImage", Effect: "Allow",
                        Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                        Resource: [repo.outputs.arn],
                    },
                    {
                        Sid: "PullRouterImage", Effect: "Allow",
                        Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                        Resource: [routerRepoArn],
                    },
                    {
                        Sid: "RouterOwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                        Resource: [routerGroupArn, `${routerGroupArn}:log-stream:*`],
                    },
                ]);
                assert.match(secretArn, /^arn:aws:secretsmanager:/);
                assert.match(keyArn, /^arn:aws:kms:/);
            });

            it("lets only ECS tasks of this account and region assume the task role", () => {
                const trust = JSON.parse(taskRole.inputs.assumeRolePolicy);
                assert.deepEqual(trust.Statement[0].Condition, {
                    StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID },
                    ArnLike: { "aws:SourceArn": `arn:aws:ecs:${REGION}:${MOCK_ACCOUNT_ID}:*` },
                });
            });

            it("gives the task role the LogPipeline grants and nothing else", async () => {
                assert.deepEqual(attachmentsOf(taskRole), [], "no managed policies");
                const policies = policiesOf(taskRole);
                assert.equal(policies.length, 1);
                assert.deepEqual(JSON.parse(policies[0].inputs.policy).Statement, await valueOf(built.logs.taskRoleStatements));
            });

            it("names every action (no wildcard actions) and every resource", () => {
                for (const p of [...policiesOf(execRole), ...policiesOf(taskRole)]) {
                    for (const s of JSON.parse(p.inputs.policy).Statement) {
                        for (const a of s.Action) assert.doesNotMatch(a, /\*/, `${p.urn} ${s.Sid}`);
                        for (const r of s.Resource) assert.notEqual(r, "*", `${p.urn} ${s.Sid}`);
                    }
                }
            });
        });

        describe("security groups", () => {
            it("keep no inline rules", () => {
                for (const sg of [taskSg, albSg]) {
                    assert.equal(sg.inputs.ingress, undefined, sg.urn);
                    assert.equal(sg.inputs.egress, undefined, sg.urn);
                }
                assert.deepEqual(rec.ofType(T.legacyRule), [], "no aws.ec2.SecurityGroupRule");
            });

            it("let tasks in on the app port from the ALB only, and out only to the endpoints, S3 and the database on 443/5432", () => {
                const endpointSg = rec.one(T.sg, "endpoints-sg").id;
                const prefixList = rec.ofType(T.endpoint).find((e) => e.inputs.vpcEndpointType === "Gateway")!.outputs.prefixListId;
                const dbSg = rec.one(T.sg, "backend-db-sg").id;
                assert.deepEqual(rulesOf(rec, taskSg), {
                    ingress: [`tcp/8000-8000 sg ${albSg.id}`],
                    egress: [`tcp/443-443 prefix-list ${prefixList}`, `tcp/443-443 sg ${endpointSg}`, `tcp/5432-5432 sg ${dbSg}`].sort(),
                });
            });

            it("let the ALB in on 80 and 443 from anywhere, and out only to the tasks' app port", () => {
                assert.deepEqual(rulesOf(rec, albSg), {
                    ingress: ["tcp/443-443 cidr 0.0.0.0/0", "tcp/80-80 cidr 0.0.0.0/0"],
                    egress: [`tcp/8000-8000 sg ${taskSg.id}`],
                });
            });

            it("carry descriptions EC2 accepts (a-z A-Z 0-9 space ._-:/()#,@[]+=&;{}!$*, at most 255), on every group and rule of the stack", () => {
                // CreateSecurityGroup and Authorize*/the rule APIs reject anything else (an apostrophe
                // fails the whole deploy), and the mocks do not check it.
                const ec2Text = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/;
                const described = [...rec.ofType(T.sg), ...rec.ofType(T.ingress), ...rec.ofType(T.egress)];
                assert.ok(described.length >= 3 + 9, "the task, ALB, endpoint and DB groups and their rules");
                for (const r of described) {
                    if (r.inputs.description === undefined) continue;
                    assert.match(r.inputs.description, ec2Text, `${r.urn}: description "${r.inputs.description}"`);
                }
                assert.ok(taskSg.inputs.description && albSg.inputs.description, "the Service's groups are described");
            });

            it("send nothing to 0.0.0.0/0 or ::/0 from any group", () => {
                for (const r of rec.ofType(T.egress)) {
                    assert.notEqual(r.inputs.cidrIpv4, "0.0.0.0/0", r.urn);
                    assert.notEqual(r.inputs.cidrIpv6, "::/0", r.urn);
                }
            });

            it("are admitted by the database on 5432 (Aurora.allowClient)", () => {
                const dbSg = rec.one(T.sg, "backend-db-sg");
                assert.deepEqual(rulesOf(rec, dbSg).ingress, [`tcp/5432-5432 sg ${taskSg.id}`]);
            });
        });

        describe("load balancer", () => {
            it("is internet-facing in the public subnets, behind its own group, dropping invalid headers", () => {
                assert.equal(alb.inputs.loadBalancerType, "application");
                assert.equal(alb.inputs.internal, false);
                const publicSubnets = rec.ofType("aws:ec2/subnet:Subnet").filter((s) => s.inputs.tags.Tier === "public").map((s) => s.urn).sort();
                assert.deepEqual([...deps(alb, "subnets")].sort(), publicSubnets);
                assert.deepEqual(deps(alb, "securityGroups"), [albSg.urn]);
                assert.equal(alb.inputs.dropInvalidHeaderFields, true);
            });

            it(prod ? "has deletion protection" : "has no deletion protection", () => {
                assert.equal(alb.inputs.enableDeletionProtection, prod);
            });

            it("logs to the log bucket under the ALB prefix, after the bucket policy admits ELB delivery", async () => {
                assert.deepEqual(alb.inputs.accessLogs, { bucket: await valueOf(built.logs.bucketName), prefix: "alb", enabled: true });
                assert.ok(deps(alb, "accessLogs").includes(rec.one(T.bucketPolicy).urn), `${alb.urn} must wait for the bucket policy`);
            });

            it(`forwards to an ip target group on the app port, health-checked on /health expecting 200, draining ${30} s`, () => {
                assert.equal(targetGroup.inputs.targetType, "ip");
                assert.equal(targetGroup.inputs.protocol, "HTTP");
                assert.equal(targetGroup.inputs.port, 8000);
                assert.deepEqual(deps(targetGroup, "vpcId"), [rec.one("aws:ec2/vpc:Vpc").urn]);
                assert.equal(targetGroup.inputs.deregistrationDelay, settings.service.deregistrationDelaySeconds);
                assert.deepEqual(targetGroup.inputs.healthCheck, {
                    enabled: true, protocol: "HTTP", port: "traffic-port", path: "/health", matcher: "200",
                    interval: 15, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3,
                });
            });
        });

        if (prod) {
            describe("listeners (domain and hosted zone)", () => {
                it("requests a DNS-validated certificate for api.example.com and validates it in the zone", () => {
                    const cert = rec.one(T.certificate);
                    assert.equal(cert.inputs.domainName, "api.example.com");
                    assert.equal(cert.inputs.validationMethod, "DNS");
                    assert.equal(cert.inputs.subjectAlternativeNames, undefined);
                    const validationRecord = rec.one(T.record, `${NAME}-cert-validation`);
                    assert.equal(validationRecord.inputs.zoneId, "Z0EXAMPLE12345");
                    assert.equal(validationRecord.inputs.type, "CNAME");
                    assert.match(validationRecord.inputs.name, /^_[0-9a-f]+\.api\.example\.com\.$/);
                    assert.match(validationRecord.inputs.records[0], /\.acm-validations\.aws\.$/);
                    assert.deepEqual(deps(validationRecord, "name"), [cert.urn]);
                    const validation = rec.one(T.certificateValidation);
                    assert.deepEqual(deps(validation, "certificateArn"), [cert.urn]);
                    assert.deepEqual(deps(validation, "validationRecordFqdns"), [validationRecord.urn]);
                });

                it(`serves HTTPS with ${TLS_POLICY} and the validated certificate, forwarding to the targets`, () => {
                    const https = rec.one(T.listener, `${NAME}-https`);
                    assert.equal(https.inputs.port, 443);
                    assert.equal(https.inputs.protocol, "HTTPS");
                    assert.equal(https.inputs.sslPolicy, "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09");
                    assert.deepEqual(deps(https, "certificateArn"), [rec.one(T.certificateValidation).urn]);
                    assert.deepEqual(https.inputs.defaultActions, [{ type: "forward", targetGroupArn: targetGroup.outputs.arn }]);
                    assert.deepEqual(deps(https, "loadBalancerArn"), [alb.urn]);
                });

                it("answers HTTP with a permanent redirect to HTTPS", () => {
                    const http = rec.one(T.listener, `${NAME}-http`);
                    assert.equal(http.inputs.port, 80);
                    assert.equal(http.inputs.protocol, "HTTP");
                    assert.deepEqual(http.inputs.defaultActions, [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]);
                    assert.equal(rec.ofType(T.listener).length, 2);
                });

                it("points api.example.com at the ALB with an alias that evaluates target health", () => {
                    const alias = rec.one(T.record, `${NAME}-alias`);
                    assert.equal(alias.inputs.zoneId, "Z0EXAMPLE12345");
                    assert.equal(alias.inputs.name, "api.example.com");
                    assert.equal(alias.inputs.type, "A");
                    assert.deepEqual(alias.inputs.aliases, [{ name: alb.outputs.dnsName, zoneId: alb.outputs.zoneId, evaluateTargetHealth: true }]);
                });

                it("publishes https://api.example.com as the URL", async () => {
                    assert.equal(await valueOf(built.service.url), "https://api.example.com");
                });
            });
        } else {
            describe("listeners (no certificate)", () => {
                it("serves plain HTTP on 80, forwarding to the targets, and nothing else", () => {
                    const listeners = rec.ofType(T.listener);
                    assert.equal(listeners.length, 1);
                    assert.equal(listeners[0].inputs.port, 80);
                    assert.equal(listeners[0].inputs.protocol, "HTTP");
                    assert.deepEqual(listeners[0].inputs.defaultActions, [{ type: "forward", targetGroupArn: targetGroup.outputs.arn }]);
                });
                it("requests no certificate and writes no DNS record", () => {
                    assert.deepEqual(rec.ofType(T.certificate), []);
                    assert.deepEqual(rec.ofType(T.certificateValidation), []);
                    assert.deepEqual(rec.ofType(T.record), []);
                });
                it("publishes http://<ALB DNS name> as the URL", async () => {
                    assert.equal(await valueOf(built.service.url), `http://${alb.outputs.dnsName}`);
                });
            });
        }

        describe("ECS service", () => {
            let svc: RecordedResource;
            before(() => { svc = rec.one(T.service); });

            it(`runs ${prod ? 2 : 1} Fargate task(s) of the task definition in the cluster`, () => {
                assert.equal(svc.inputs.name, physical);
                assert.equal(svc.inputs.launchType, "FARGATE");
                assert.equal(svc.inputs.desiredCount, prod ? 2 : 1);
                assert.deepEqual(deps(svc, "cluster"), [rec.one(T.cluster).urn]);
                assert.deepEqual(deps(svc, "taskDefinition"), [rec.one(T.taskDefinition).urn]);
            });

            it("places tasks in the private subnets with the task group and no public IP, rebalanced over AZs", () => {
                const privateSubnets = rec.ofType("aws:ec2/subnet:Subnet").filter((s) => s.inputs.tags.Tier === "private").map((s) => s.id).sort();
                assert.deepEqual([...svc.inputs.networkConfiguration.subnets].sort(), privateSubnets);
                assert.deepEqual(svc.inputs.networkConfiguration.securityGroups, [taskSg.id]);
                assert.equal(svc.inputs.networkConfiguration.assignPublicIp, false);
                assert.equal(svc.inputs.availabilityZoneRebalancing, "ENABLED");
            });

            it("rolls out 100/200 with the circuit breaker and automatic rollback, without waiting for steady state", () => {
                assert.equal(svc.inputs.deploymentMinimumHealthyPercent, 100);
                assert.equal(svc.inputs.deploymentMaximumPercent, 200);
                assert.deepEqual(svc.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
                assert.equal(svc.inputs.waitForSteadyState, false);
                assert.equal(svc.inputs.healthCheckGracePeriodSeconds, 60);
            });

            it("registers the app container's port with the target group and propagates the service's tags", () => {
                assert.deepEqual(svc.inputs.loadBalancers, [{ targetGroupArn: targetGroup.outputs.arn, containerName: "app", containerPort: 8000 }]);
                assert.equal(svc.inputs.propagateTags, "SERVICE");
                assert.equal(svc.inputs.enableEcsManagedTags, true);
            });

            it("leaves the task count to auto scaling after creation (ignoreChanges desiredCount)", () => {
                assert.deepEqual(built.serviceOpts?.ignoreChanges, ["desiredCount"]);
            });

            it("waits for the listeners, the task group's rules and the role grants before starting tasks", () => {
                const waitsFor = allDeps(svc);
                const needed = [
                    ...rec.ofType(T.listener),
                    ...rec.ofType(T.ingress).filter((r) => deps(r, "securityGroupId").includes(taskSg.urn)),
                    ...rec.ofType(T.egress).filter((r) => deps(r, "securityGroupId").includes(taskSg.urn)),
                    ...rec.ofType(T.rolePolicy).filter((p) => p.name.startsWith(NAME)),
                    ...rec.ofType(T.attachment).filter((p) => p.name.startsWith(NAME)),
                ];
                assert.equal(needed.length, (prod ? 2 : 1) + 4 + 2 + 1);
                for (const r of needed) assert.ok(waitsFor.includes(r.urn), `${svc.urn} must wait for ${r.urn}`);
            });
        });

        describe("auto scaling", () => {
            it(`scales the service between ${prod ? "2 and 6" : "1 and 2"} tasks`, () => {
                const target = rec.one(T.scalingTarget, `${NAME}-scaling`);
                assert.equal(target.inputs.serviceNamespace, "ecs");
                assert.equal(target.inputs.scalableDimension, "ecs:service:DesiredCount");
                assert.equal(target.inputs.resourceId, `service/${physical}/${physical}`);
                assert.deepEqual(deps(target, "resourceId").sort(), [rec.one(T.cluster).urn, rec.one(T.service).urn].sort());
                assert.equal(target.inputs.minCapacity, prod ? 2 : 1);
                assert.equal(target.inputs.maxCapacity, prod ? 6 : 2);
            });

            it("tracks average CPU and average memory with cooldowns", () => {
                const target = rec.one(T.scalingTarget, `${NAME}-scaling`);
                const policies = rec.ofType(T.scalingPolicy).filter((p) => p.name.startsWith(NAME));
                const byMetric: Record<string, RecordedResource> = Object.fromEntries(policies.map((p) => [
                    p.inputs.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType, p]));
                assert.deepEqual(Object.keys(byMetric).sort(), ["ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization"]);
                const expected: Record<string, number> = {
                    ECSServiceAverageCPUUtilization: settings.service.scalingCpuTarget,
                    ECSServiceAverageMemoryUtilization: settings.service.scalingMemoryTarget,
                };
                for (const [metric, p] of Object.entries(byMetric)) {
                    assert.equal(p.inputs.policyType, "TargetTrackingScaling");
                    assert.equal(p.inputs.resourceId, `service/${physical}/${physical}`);
                    assert.deepEqual(deps(p, "resourceId"), [target.urn]);
                    const cfg = p.inputs.targetTrackingScalingPolicyConfiguration;
                    assert.equal(cfg.targetValue, expected[metric]);
                    assert.ok(cfg.targetValue < 80, "scales before 80 %");
                    assert.equal(cfg.scaleOutCooldown, 60);
                    assert.equal(cfg.scaleInCooldown, 300);
                }
            });
        });

        describe("WAF", () => {
            let acl: RecordedResource;
            before(() => { acl = rec.one(T.webAcl); });

            it("is a regional web ACL that allows by default, with metrics and samples", () => {
                assert.equal(acl.inputs.name, physical);
                assert.equal(acl.inputs.scope, "REGIONAL");
                assert.deepEqual(acl.inputs.defaultAction, { allow: {} });
                assert.deepEqual(acl.inputs.visibilityConfig, { cloudwatchMetricsEnabled: true, metricName: physical, sampledRequestsEnabled: true });
            });

            it("runs the IP reputation, common and known-bad-inputs rule groups with their own actions", () => {
                const managed = acl.inputs.rules.filter((r: any) => r.statement.managedRuleGroupStatement);
                assert.deepEqual(managed.map((r: any) => r.statement.managedRuleGroupStatement),
                    MANAGED_RULE_GROUPS.map((name) => ({ vendorName: "AWS", name })));
                for (const r of managed) {
                    assert.deepEqual(r.overrideAction, { none: {} }, r.name);
                    assert.equal(r.action, undefined, r.name);
                    assert.equal(r.visibilityConfig.cloudwatchMetricsEnabled, true, r.name);
                }
            });

            it(`blocks a client IP above ${2000} requests per 5 minutes`, () => {
                const rate = acl.inputs.rules.find((r: any) => r.name === RATE_RULE_NAME);
                assert.deepEqual(rate.action, { block: {} });
                assert.deepEqual(rate.statement, { rateBasedStatement: { limit: settings.service.wafRateLimit, aggregateKeyType: "IP", evaluationWindowSec: 300 } });
                assert.equal(settings.service.wafRateLimit, 2000);
            });

            it("is associated with the ALB", () => {
                const association = rec.one(T.webAclAssociation);
                assert.deepEqual(deps(association, "resourceArn"), [alb.urn]);
                assert.deepEqual(deps(association, "webAclArn"), [acl.urn]);
            });

            it(`logs to aws-waf-logs-${physical}, kept ${prod ? 30 : 7} days, through a policy on that group only`, () => {
                const group = rec.one(T.logGroup, `${NAME}-waf-logs`);
                assert.equal(group.inputs.name, `aws-waf-logs-${physical}`);
                assert.equal(group.inputs.retentionInDays, prod ? 30 : 7);
                const logging = rec.one(T.webAclLogging);
                assert.deepEqual(deps(logging, "resourceArn"), [acl.urn]);
                assert.deepEqual(logging.inputs.logDestinationConfigs, [group.outputs.arn]);
                assert.deepEqual(logging.inputs.redactedFields, [{ singleHeader: { name: "authorization" } }, { singleHeader: { name: "cookie" } }]);
                const policy = rec.one(T.logResourcePolicy);
                assert.equal(policy.inputs.resourceArn, group.outputs.arn);
                assert.ok(logging.dependencies.includes(policy.urn), "logging starts once delivery is allowed");
                assert.deepEqual(JSON.parse(policy.inputs.policyDocument).Statement, [{
                    Sid: "WafLogDelivery",
                    Effect: "Allow",
                    Principal: { Service: "delivery.logs.amazonaws.com" },
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                    Resource: `${group.outputs.arn}:*`,
                    Condition: {
                        StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID },
                        ArnLike: { "aws:SourceArn": `arn:aws:logs:${REGION}:${MOCK_ACCOUNT_ID}:*` },
                    },
                }]);
            });
        });

        it("exposes the outputs the Alerts component and operators need", async () => {
            const s = built.service;
            assert.equal(await valueOf(s.clusterName), physical);
            assert.equal(await valueOf(s.serviceName), physical);
            assert.equal(await valueOf(s.albArnSuffix), alb.outputs.arnSuffix);
            assert.match(await valueOf(s.albArnSuffix), /^app\/[^/]+\/[0-9a-f]+$/);
            assert.match(await valueOf(s.targetGroupArnSuffix), /^targetgroup\/[^/]+\/[0-9a-f]+$/);
            assert.equal(await valueOf(s.albDnsName), alb.outputs.dnsName);
            assert.equal(await valueOf(s.albArn), alb.outputs.arn);
            assert.equal(await valueOf(s.clusterArn), rec.one(T.cluster).outputs.arn);
            assert.equal(await valueOf(s.serviceArn), rec.one("aws:ecs/service:Service").outputs.arn);
            assert.match(await valueOf(s.serviceArn), new RegExp(`:service/${physical}/${physical}$`));
            assert.equal(await valueOf(s.taskSecurityGroupId), taskSg.id);
            assert.equal(await valueOf(s.albSecurityGroupId), albSg.id);
            assert.equal(await valueOf(s.repositoryUrl), repo.outputs.repositoryUrl);
            assert.equal(await valueOf(s.webAclArn), rec.one(T.webAcl).outputs.arn);
            const component = rec.one(T.component);
            assert.deepEqual(Object.keys(component.outputs).sort(), [
                "albArn", "albArnSuffix", "albDnsName", "albSecurityGroupId", "clusterArn", "clusterName", "repositoryUrl",
                "serviceArn", "serviceName", "targetGroupArnSuffix", "taskSecurityGroupId", "url", "wafLogGroupName", "webAclArn",
            ]);
        });
    });
}

describe("Service (prod with a certificate ARN instead of a domain)", () => {
    let rec: ResourceRecorder;
    let built: Built;
    before(async function () {
        this.timeout(30000);
        const run = await buildStack("prod", WITH_CERT_ARN);
        rec = run.recorder;
        built = run.result;
    });

    it("serves HTTPS with the given certificate and redirects HTTP, with no ACM request or DNS record", () => {
        const https = rec.one(T.listener, `${NAME}-https`);
        assert.equal(https.inputs.certificateArn, CERT_ARN);
        assert.equal(https.inputs.sslPolicy, TLS_POLICY);
        const http = rec.one(T.listener, `${NAME}-http`);
        assert.equal(http.inputs.defaultActions[0].type, "redirect");
        assert.deepEqual(rec.ofType(T.certificate), []);
        assert.deepEqual(rec.ofType(T.certificateValidation), []);
        assert.deepEqual(rec.ofType(T.record), []);
    });

    it("publishes https://<ALB DNS name> as the URL", async () => {
        assert.equal(await valueOf(built.service.url), `https://${rec.one(T.alb).outputs.dnsName}`);
    });
});

describe("Service (dev with an explicit image URI)", () => {
    it("runs that image and still creates the backend repository", async function () {
        this.timeout(30000);
        const image = `210987654321.dkr.ecr.${REGION}.amazonaws.com/shared/backend@sha256:${"b".repeat(64)}`;
        const run = await buildStack("dev", { "backend-infra:appImage": image, "backend-infra:appImageTag": undefined });
        assert.equal(containers(run.recorder).app.image, image);
        run.recorder.one(T.repo, `${NAME}-repo`);
    });
});
