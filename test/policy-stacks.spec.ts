// The real stacks against the pack: both plans pass with their stack's pack config, and edits of
// them that break a platform promise are each caught by the intended policy.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import type { Plan, PlanResource, PolicyViolation } from "../tools/plan";
import { evaluatePolicies } from "../tools/policy-analyzer";
import { one, PACK_DIR, packConfig, res, show, StackName, stackPlan, useAnalyzer, violationsOf, writePlan } from "./policy-fixture";
import { PROJECT_ROOT } from "../tools/stack-config";

const T = {
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    subnet: "aws:ec2/subnet:Subnet",
    routeTable: "aws:ec2/routeTable:RouteTable",
    route: "aws:ec2/route:Route",
    assoc: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    nat: "aws:ec2/natGateway:NatGateway",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    service: "aws:ecs/service:Service",
    taskDef: "aws:ecs/taskDefinition:TaskDefinition",
    listener: "aws:lb/listener:Listener",
    listenerRule: "aws:lb/listenerRule:ListenerRule",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    bucket: "aws:s3/bucket:Bucket",
    bucketSse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    bucketLifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    cluster: "aws:rds/cluster:Cluster",
    paramGroup: "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    instance: "aws:rds/clusterInstance:ClusterInstance",
    key: "aws:kms/key:Key",
    topic: "aws:sns/topic:Topic",
    repo: "aws:ecr/repository:Repository",
    repoLifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
};

/** Sets a property on the inputs and the outputs alike (Analyze reads inputs, AnalyzeStack outputs). */
function set(r: PlanResource, prop: string, value: unknown): void {
    if (value === undefined) {
        delete r.inputs[prop];
        delete r.outputs[prop];
    } else {
        r.inputs[prop] = value;
        r.outputs[prop] = value;
    }
}

function remove(plan: Plan, r: PlanResource): void {
    plan.resources = plan.resources.filter((x) => x.urn !== r.urn);
}

/** Adds a resource under the stack, `prop` built from `targets` (the property dependency the SDK records). */
function add(plan: Plan, type: string, name: string, inputs: Record<string, unknown>, links: Record<string, PlanResource[]> = {}): PlanResource {
    const r = res(type, name, inputs, { urn: `urn:pulumi:${plan.stack}::${plan.project}::${type}::${name}` });
    for (const [prop, targets] of Object.entries(links)) {
        if (!(prop in r.inputs)) set(r, prop, targets.length === 1 ? targets[0].id : targets.map((t) => t.id));
        r.propertyDependencies[prop] = targets.map((t) => t.urn);
        r.dependencies.push(...targets.map((t) => t.urn));
    }
    plan.resources.push(r);
    return r;
}

function containers(r: PlanResource): any[] {
    return JSON.parse(r.inputs.containerDefinitions);
}

interface Mutation {
    stack: StackName;
    what: string;
    policy: string;
    /** Edits the plan; returns the resource the violation must name. */
    edit: (plan: Plan) => PlanResource;
    level?: "advisory" | "mandatory";
    /** What the violation must say, when the policy has more than one way to fail. */
    message?: RegExp;
}

/** The lifecycle configuration's rules without the one whose id is given (the rule is gone, not disabled). */
function withoutRule(p: Plan, id: string): PlanResource {
    const lc = one(p, T.bucketLifecycle);
    const rules = lc.inputs.rules.filter((r: any) => r.id !== id);
    assert.equal(rules.length, lc.inputs.rules.length - 1, `no lifecycle rule "${id}" in the ${p.stack} plan`);
    set(lc, "rules", rules);
    return one(p, T.bucket);
}

/** A rule forwarding /admin/* on the HTTP listener (listenerArn built from it), the way service.ts would attach one. */
function forwardingRuleOnHttp(p: Plan): PlanResource {
    const tg = one(p, T.targetGroup);
    return add(p, T.listenerRule, "backend-api-admin", { priority: 10, actions: [{ type: "forward", targetGroupArn: tg.id }], conditions: [{ pathPattern: { values: ["/admin/*"] } }] },
        { listenerArn: [one(p, T.listener, "api-http")], actions: [tg] });
}

const mutations: Mutation[] = [
    {
        stack: "dev", what: "a NAT gateway added", policy: "no-nat-or-egress-only-gateway",
        edit: (p) => add(p, T.nat, "backend-nat", { connectivityType: "public" }, { subnetId: [one(p, T.subnet, "public-1")] }),
    },
    {
        stack: "dev", what: "a 0.0.0.0/0 route to it in a private table", policy: "internet-routes-only-in-public-subnets",
        edit: (p) => {
            const nat = add(p, T.nat, "backend-nat", {}, { subnetId: [one(p, T.subnet, "public-1")] });
            return add(p, T.route, "backend-private-1-default", { destinationCidrBlock: "0.0.0.0/0" }, { routeTableId: [one(p, T.routeTable, "private-1-rt")], natGatewayId: [nat] });
        },
    },
    {
        stack: "dev", what: "a default route to the internet gateway in the VPC's main route table", policy: "internet-routes-only-in-public-subnets",
        edit: (p) => add(p, T.route, "backend-main-default", { destinationCidrBlock: "0.0.0.0/0" },
            { routeTableId: [one(p, "aws:ec2/vpc:Vpc")], gatewayId: [one(p, "aws:ec2/internetGateway:InternetGateway")] }),
    },
    {
        stack: "dev", what: "a private subnet associated with the public route table", policy: "internet-routes-only-in-public-subnets",
        edit: (p) => {
            const assoc = one(p, T.assoc, "private-1-rta");
            const publicTable = one(p, T.routeTable, "public-rt");
            set(assoc, "routeTableId", publicTable.id);
            assoc.propertyDependencies.routeTableId = [publicTable.urn];
            return one(p, T.route, "public-default");
        },
    },
    {
        stack: "prod", what: "an egress-anywhere rule on the task security group", policy: "security-group-no-egress-anywhere",
        edit: (p) => add(p, T.egressRule, "backend-api-task-out-anywhere", { ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" }, { securityGroupId: [one(p, T.sg, "task-sg")] }),
    },
    {
        stack: "prod", what: "a public IP on the service", policy: "ecs-service-private-networking",
        edit: (p) => { const s = one(p, T.service); set(s, "networkConfiguration", { ...s.inputs.networkConfiguration, assignPublicIp: true }); return s; },
    },
    {
        stack: "prod", what: "the service moved to the public subnets", policy: "ecs-service-private-networking",
        edit: (p) => {
            const s = one(p, T.service);
            const pub = p.resources.filter((r) => r.type === T.subnet && r.inputs.tags?.Tier === "public");
            const sgs = s.propertyDependencies.networkConfiguration.filter((u) => !u.includes(T.subnet));
            set(s, "networkConfiguration", { ...s.inputs.networkConfiguration, subnets: pub.map((x) => x.id) });
            s.propertyDependencies.networkConfiguration = [...sgs, ...pub.map((x) => x.urn)];
            return s;
        },
    },
    {
        stack: "dev", what: "a log group without retention", policy: "cloudwatch-log-group-retention",
        edit: (p) => { const g = one(p, T.logGroup, "flow-logs"); set(g, "retentionInDays", undefined); return g; },
    },
    {
        stack: "prod", what: "a log group with the dev retention", policy: "cloudwatch-log-group-retention",
        edit: (p) => { const g = one(p, T.logGroup, "logs-errors"); set(g, "retentionInDays", 7); return g; },
    },
    {
        stack: "prod", what: "the log bucket without encryption", policy: "s3-bucket-encryption",
        edit: (p) => { remove(p, one(p, T.bucketSse)); return one(p, T.bucket); },
    },
    {
        stack: "dev", what: "the log bucket without lifecycle", policy: "s3-bucket-lifecycle",
        edit: (p) => { remove(p, one(p, T.bucketLifecycle)); return one(p, T.bucket); },
    },
    {
        stack: "prod", what: "log prefixes archived after a year", policy: "s3-bucket-lifecycle",
        edit: (p) => {
            const lc = one(p, T.bucketLifecycle);
            set(lc, "rules", lc.inputs.rules.map((r: any) => r.transitions ? { ...r, transitions: [{ days: 400, storageClass: "GLACIER" }] } : r));
            return one(p, T.bucket);
        },
    },
    {
        // The bucket is a log bucket by its DataClass tag, not because a rule names logs/: deleting the rule is caught.
        stack: "prod", what: "the router's logs/ rule deleted", policy: "s3-bucket-lifecycle",
        message: /does not move "logs\/" to Glacier in time: it holds logs \(tag DataClass=logs\)/,
        edit: (p) => withoutRule(p, "router-logs"),
    },
    {
        // Without the tag, the bucket's name still marks it as a log bucket.
        stack: "prod", what: "the logs/ rule deleted and the DataClass tag dropped", policy: "s3-bucket-lifecycle",
        message: /does not move "logs\/" to Glacier in time: it holds logs \(its name "backend-prod-logs-\d{12}-[a-z0-9-]+" matches logBucketNamePattern\)/,
        edit: (p) => {
            const bucket = one(p, T.bucket);
            const { DataClass: _dropped, ...tags } = bucket.inputs.tags;
            set(bucket, "tags", tags);
            return withoutRule(p, "router-logs");
        },
    },
    {
        stack: "dev", what: "the ALB access-log rule deleted", policy: "s3-bucket-lifecycle",
        message: /does not move "alb\/AWSLogs\/" to Glacier in time: LoadBalancer "backend-api-alb" delivers its access logs there/,
        edit: (p) => withoutRule(p, "alb-access-logs"),
    },
    {
        stack: "prod", what: "the bucket policy without the TLS deny", policy: "s3-bucket-denies-insecure-transport",
        edit: (p) => {
            const bp = one(p, T.bucketPolicy);
            const doc = JSON.parse(bp.inputs.policy);
            set(bp, "policy", JSON.stringify({ ...doc, Statement: doc.Statement.filter((s: any) => s.Effect !== "Deny") }));
            return one(p, T.bucket);
        },
    },
    {
        stack: "prod", what: "unencrypted Aurora", policy: "rds-storage-encrypted-with-cmk",
        edit: (p) => { const c = one(p, T.cluster); set(c, "storageEncrypted", false); return c; },
    },
    {
        stack: "prod", what: "backups kept 3 days", policy: "aurora-backup-retention",
        edit: (p) => { const c = one(p, T.cluster); set(c, "backupRetentionPeriod", 3); return c; },
    },
    {
        stack: "prod", what: "a parameter group that no longer forces TLS", policy: "rds-cluster-forces-tls",
        edit: (p) => { const g = one(p, T.paramGroup); set(g, "parameters", g.inputs.parameters.filter((x: any) => x.name !== "rds.force_ssl")); return one(p, T.cluster); },
    },
    {
        stack: "prod", what: "a publicly accessible instance", policy: "rds-instance-not-publicly-accessible",
        edit: (p) => { const i = one(p, T.instance, "writer"); set(i, "publiclyAccessible", true); return i; },
    },
    {
        stack: "prod", what: "a key without rotation", policy: "kms-key-rotation",
        edit: (p) => { const k = one(p, T.key, "db-key"); set(k, "enableKeyRotation", false); return k; },
    },
    {
        stack: "prod", what: "an HTTP forward listener in prod", policy: "alb-listener-https",
        edit: (p) => { const l = one(p, T.listener, "api-http"); set(l, "defaultActions", one(p, T.listener, "api-https").inputs.defaultActions); return l; },
    },
    {
        stack: "prod", what: "a forwarding rule on the redirecting HTTP listener in prod", policy: "alb-listener-rule-https",
        message: /ListenerRule "backend-api-admin" on Listener "backend-api-http", which serves plain HTTP, has a "forward" action/,
        edit: forwardingRuleOnHttp,
    },
    {
        stack: "dev", what: "a plaintext DB password variable", policy: "ecs-task-no-plaintext-secrets",
        edit: (p) => {
            const td = one(p, T.taskDef);
            set(td, "containerDefinitions", JSON.stringify(containers(td).map((c) => c.name === "app" ? { ...c, environment: [...(c.environment ?? []), { name: "DB_PASSWORD", value: "not-a-secret-any-more" }] } : c)));
            return td;
        },
    },
    {
        stack: "dev", what: "an interface endpoint without private DNS", policy: "vpc-endpoints-required",
        edit: (p) => { const e = one(p, T.endpoint, "ecr-dkr"); set(e, "privateDnsEnabled", false); return e; },
    },
    {
        stack: "prod", what: "the logs endpoint removed", policy: "vpc-endpoints-required",
        edit: (p) => { remove(p, one(p, T.endpoint, "backend-logs")); return p.resources.find((r) => r.type === "aws:ec2/vpc:Vpc")!; },
    },
    {
        stack: "dev", what: "a subnet that maps public IPs", policy: "subnet-no-public-ip-on-launch",
        edit: (p) => { const s = one(p, T.subnet, "public-2"); set(s, "mapPublicIpOnLaunch", true); return s; },
    },
    {
        stack: "dev", what: "a repository without its lifecycle policy", policy: "ecr-repository-lifecycle-policy",
        edit: (p) => { remove(p, one(p, T.repoLifecycle, "api-repo-lifecycle")); return one(p, T.repo, "api-repo"); },
    },
    {
        stack: "dev", what: "a repository without declared encryption", policy: "ecr-repository-encrypted",
        edit: (p) => { const r = one(p, T.repo, "api-repo"); set(r, "encryptionConfigurations", undefined); return r; },
    },
    {
        stack: "prod", what: "an alert topic under the AWS-managed key", policy: "sns-topic-encrypted",
        edit: (p) => {
            const topic = p.resources.find((r) => r.type === T.topic) ?? add(p, T.topic, "backend-alerts-critical", {});
            set(topic, "kmsMasterKeyId", "alias/aws/sns");
            topic.propertyDependencies.kmsMasterKeyId = [];
            return topic;
        },
    },
];

describe("policy pack: the real stacks", function () {
    this.timeout(180_000);

    for (const stack of ["dev", "prod"] as const) {
        it(`passes the ${stack} plan with policy-pack/${stack}.json: 0 mandatory violations`, async () => {
            const plan = stackPlan(stack);
            const result = await evaluatePolicies(plan, { packDir: PACK_DIR, configFile: path.join(PACK_DIR, `${stack}.json`) });
            assert.equal(result.mandatoryCount, 0, show(result.violations));
            assert.equal(result.config, `policy-pack/${stack}.json`);
            // Stack policies join through property dependencies, so a first preview's unknown IDs never stop them;
            // only a task definition (it embeds image URLs) waits for known values.
            const cantRun = result.violations.filter((v) => /can't run policy/.test(v.message)).map((v) => v.policyName);
            assert.deepEqual([...new Set(cantRun)].filter((p) => p !== "ecs-task-no-plaintext-secrets"), [], show(result.violations));
        });
    }
});

describe("policy pack: edits of the real plans", function () {
    this.timeout(120_000);
    const session = useAnalyzer();

    it(`covers at least 15 edits`, () => assert.ok(mutations.length >= 15, `${mutations.length} mutations`));

    for (const m of mutations) {
        it(`${m.stack}: ${m.what} → ${m.policy}`, async () => {
            const plan = stackPlan(m.stack);
            const target = m.edit(plan);
            const found = await violationsOf(session(), plan, packConfig(session(), m.stack));
            const hits = found.filter((v: PolicyViolation) => v.policyName === m.policy && v.urn === target.urn);
            assert.ok(hits.some((v) => v.enforcementLevel === (m.level ?? "mandatory") && v.message.includes(`"${target.name}"`) && (m.message?.test(v.message) ?? true)),
                `expected a ${m.level ?? "mandatory"} ${m.policy} violation naming ${target.urn}${m.message ? ` matching ${m.message}` : ""}, got:\n${show(found)}`);
        });
    }

    it("reports the HTTP forward listener as advisory in dev (its pack config) and mandatory in prod", async () => {
        const levels: Record<string, string[]> = {};
        for (const stack of ["dev", "prod"] as const) {
            const plan = stackPlan(stack);
            const l = one(plan, T.listener, "api-http");
            set(l, "defaultActions", [{ type: "forward", targetGroupArn: "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/tg/1" }]);
            const found = await violationsOf(session(), plan, packConfig(session(), stack));
            levels[stack] = [...new Set(found.filter((v) => v.policyName === "alb-listener-https" && v.urn === l.urn).map((v) => v.enforcementLevel))];
        }
        assert.deepEqual(levels, { dev: ["advisory"], prod: ["mandatory"] });
    });

    it("knows the log bucket by the DataClass=logs tag alone (the tag LogPipeline adds), with name matching off", async () => {
        const plan = stackPlan("prod");
        const bucket = one(plan, T.bucket);
        set(bucket, "tags", { ...bucket.inputs.tags, DataClass: "logs" });
        withoutRule(plan, "router-logs");
        const found = await violationsOf(session(), plan, packConfig(session(), "prod", { "s3-bucket-lifecycle": { properties: { logBucketNamePattern: "" } } }));
        const hits = found.filter((v) => v.policyName === "s3-bucket-lifecycle" && v.urn === bucket.urn && v.enforcementLevel === "mandatory");
        assert.ok(hits.some((v) => /does not move "logs\/" to Glacier in time: it holds logs \(tag DataClass=logs\)/.test(v.message)), show(found));
    });

    it("reports a forwarding rule on the HTTP listener as advisory in dev and mandatory in prod, like the listener", async () => {
        const levels: Record<string, string[]> = {};
        for (const stack of ["dev", "prod"] as const) {
            const plan = stackPlan(stack);
            const rule = forwardingRuleOnHttp(plan);
            const found = await violationsOf(session(), plan, packConfig(session(), stack));
            levels[stack] = [...new Set(found.filter((v) => v.policyName === "alb-listener-rule-https" && v.urn === rule.urn).map((v) => v.enforcementLevel))];
        }
        assert.deepEqual(levels, { dev: ["advisory"], prod: ["mandatory"] });
    });
});

describe("npm run policy:check", function () {
    this.timeout(180_000);
    const check = (...args: string[]) => spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "tools/policy-check.ts", ...args],
        { cwd: PROJECT_ROOT, encoding: "utf8" });

    it("exits 0 on the dev plan and ends with 0 mandatory violations", () => {
        const run = check(writePlan(stackPlan("dev")));
        assert.equal(run.status, 0, run.stdout + run.stderr);
        assert.match(run.stdout, /config: policy-pack\/dev\.json/);
        assert.match(run.stdout.trimEnd(), /\n0 mandatory violations$/);
    });

    it("exits non-zero on a mutated plan, naming the policy and the resource", () => {
        const plan = stackPlan("prod");
        const i = one(plan, T.instance, "writer");
        set(i, "publiclyAccessible", true);
        const run = check(writePlan(plan), "--policy-pack", "policy-pack", "--values", "known");
        assert.equal(run.status, 1, run.stdout + run.stderr);
        assert.match(run.stdout, /\[mandatory\]  rds-instance-not-publicly-accessible  \(aws:rds\/clusterInstance:ClusterInstance: backend-db-writer\)/);
        assert.match(run.stdout.trimEnd(), /\n1 mandatory violation$/);
    });

    it("exits 2 with the usage when the plan is missing, without starting the pack", () => {
        const run = check("--values", "sometimes");
        assert.equal(run.status, 2);
        assert.match(run.stderr, /--values must be preview, known or both/);
        assert.match(run.stderr, /usage: npm run policy:check -- PLAN\.json/);
    });
});
