// Each policy, through the pack's own analyzer (Analyze for every resource, AnalyzeStack for the
// set): a compliant set of crafted resources passes, and one changed property is caught. Every
// case runs with values as in a first preview (computed values unknown) and as in an update.
import { strict as assert } from "assert";
import type { PlanResource } from "../tools/plan";
import type { ValueMode } from "../tools/policy-unknowns";
import { packConfig, planOf, res, show, useAnalyzer, violationsOf } from "./policy-fixture";

const T = {
    bucket: "aws:s3/bucket:Bucket",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    repo: "aws:ecr/repository:Repository",
    repoLifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    cluster: "aws:rds/cluster:Cluster",
    paramGroup: "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    instance: "aws:rds/clusterInstance:ClusterInstance",
    key: "aws:kms/key:Key",
    topic: "aws:sns/topic:Topic",
    listener: "aws:lb/listener:Listener",
    listenerRule: "aws:lb/listenerRule:ListenerRule",
    albListener: "aws:alb/listener:Listener",
    albListenerRule: "aws:alb/listenerRule:ListenerRule",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    taskDef: "aws:ecs/taskDefinition:TaskDefinition",
    service: "aws:ecs/service:Service",
    nat: "aws:ec2/natGateway:NatGateway",
    eigw: "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
    igw: "aws:ec2/internetGateway:InternetGateway",
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    routeTable: "aws:ec2/routeTable:RouteTable",
    route: "aws:ec2/route:Route",
    assoc: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
};

/** Sets `prop` of `r` to the ID (or `value`) of `targets`, with the property dependency the SDK records. */
function link(r: PlanResource, prop: string, targets: PlanResource[], value?: unknown): PlanResource {
    r.inputs[prop] = value ?? (targets.length === 1 ? targets[0].id : targets.map((t) => t.id));
    r.outputs[prop] = r.inputs[prop];
    r.propertyDependencies[prop] = [...(r.propertyDependencies[prop] ?? []), ...targets.map((t) => t.urn)];
    r.dependencies = [...new Set([...r.dependencies, ...targets.map((t) => t.urn)])];
    return r;
}

/** Sets an input and the matching output (Analyze sees inputs, AnalyzeStack outputs). */
function set(r: PlanResource, prop: string, value: unknown): void {
    r.inputs[prop] = value;
    r.outputs[prop] = value;
}

/** The log bucket's rules as the stack writes them: log prefixes archived, the whole bucket expired. */
const LOGS_RULE = { id: "logs", status: "Enabled", filter: { prefix: "logs/" }, transitions: [{ days: 90, storageClass: "GLACIER" }], expiration: { days: 365 } };
const WHOLE_BUCKET_RULE = { id: "whole-bucket", status: "Enabled", filter: {}, expiration: { days: 365 }, noncurrentVersionExpiration: { noncurrentDays: 30 } };

/** Archives what an ALB delivers under the prefix "alb" (ELB writes alb/AWSLogs/<account-id>/…). */
const ALB_RULE = { id: "alb", status: "Enabled", filter: { prefix: "alb/" }, transitions: [{ days: 90, storageClass: "GLACIER" }], expiration: { days: 365 } };

/** A bucket with its settings; `name` is its Pulumi resource name, `bucketName` its bucket name, `tags` its tags. */
function bucketSet(opts: { lifecycleRules?: any[] | null; versioned?: boolean; sse?: string | null; policy?: any | null; name?: string; bucketName?: string; tags?: Record<string, string> } = {}): PlanResource[] {
    const bucket = res(T.bucket, opts.name ?? "logs", { bucket: opts.bucketName ?? "backend-logs-test", forceDestroy: true, ...(opts.tags ? { tags: opts.tags } : {}) });
    bucket.computed = ["id", "arn"];
    bucket.outputs.arn = "arn:aws:s3:::backend-logs-test-arn";
    const out = [bucket];
    const rules = opts.lifecycleRules === undefined ? [LOGS_RULE, WHOLE_BUCKET_RULE] : opts.lifecycleRules;
    if (rules !== null) out.push(link(res(T.lifecycle, "logs-lifecycle", { rules }), "bucket", [bucket]));
    if (opts.versioned ?? true) out.push(link(res(T.versioning, "logs-versioning", { versioningConfiguration: { status: "Enabled" } }), "bucket", [bucket]));
    const sse = opts.sse === undefined ? "aws:kms" : opts.sse;
    if (sse !== null) out.push(link(res(T.sse, "logs-sse", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: sse } }] }), "bucket", [bucket]));
    const statement = opts.policy === undefined ? {
        Effect: "Deny", Principal: "*", Action: "s3:*",
        Resource: [bucket.outputs.arn, `${bucket.outputs.arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } },
    } : opts.policy;
    if (statement !== null) {
        const policy = link(res(T.bucketPolicy, "logs-policy", {}), "bucket", [bucket]);
        link(policy, "policy", [bucket], JSON.stringify({ Version: "2012-10-17", Statement: [statement] }));
        out.push(policy);
    }
    return out;
}

/** A bucket that holds no logs by its name or tags (a static-assets bucket), with the given rules. */
function assetsBucket(lifecycleRules: any[]): PlanResource[] {
    return bucketSet({ name: "assets", bucketName: "backend-assets-test", tags: { Name: "assets" }, lifecycleRules });
}

/** Adds an application load balancer whose `accessLogs` (bucket built from the set's bucket) has the given prefix and switch. */
function withAccessLogs(resources: PlanResource[], settings: { prefix?: string; enabled?: boolean }): PlanResource[] {
    const bucket = resources[0];
    return [...resources, link(res(T.loadBalancer, "alb", { loadBalancerType: "application" }), "accessLogs", [bucket], { bucket: bucket.inputs.bucket, ...settings })];
}

/** An HTTPS listener and an HTTP listener that redirects to it, plus the rules `rules` attaches. */
function listeners(rules: (l: { https: PlanResource; http: PlanResource }) => PlanResource[], types = { listener: T.listener }): PlanResource[] {
    const https = res(types.listener, "https", { protocol: "HTTPS", port: 443, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", defaultActions: [{ type: "forward", targetGroupArn: "arn:tg" }] });
    const http = res(types.listener, "http", { protocol: "HTTP", port: 80, defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }] });
    https.computed = http.computed = ["id", "arn"];
    return [https, http, ...rules({ https, http })];
}

/** A listener rule for /api/* with the given actions, on `listener` (listenerArn built from it). */
function ruleOn(listener: PlanResource, name: string, actions: any[], type = T.listenerRule): PlanResource {
    return link(res(type, name, { priority: 10, actions, conditions: [{ pathPattern: { values: ["/api/*"] } }] }), "listenerArn", [listener]);
}
const FORWARD = [{ type: "forward", targetGroupArn: "arn:tg" }];
const TO_HTTPS = [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }];

/** A VPC with public and private subnets, routes, the required endpoints, and a service in the private subnets. */
function network(change: (n: Record<string, PlanResource>) => void = () => undefined): PlanResource[] {
    const n: Record<string, PlanResource> = {};
    n.vpc = res(T.vpc, "vpc", { cidrBlock: "10.0.0.0/16" });
    n.igw = link(res(T.igw, "igw", {}), "vpcId", [n.vpc]);
    n.pubSubnet = link(res(T.subnet, "public-1", { cidrBlock: "10.0.0.0/20", tags: { Tier: "public" } }), "vpcId", [n.vpc]);
    n.privSubnet = link(res(T.subnet, "private-1", { cidrBlock: "10.0.32.0/20", tags: { Tier: "private" } }), "vpcId", [n.vpc]);
    n.pubRt = link(res(T.routeTable, "public-rt", { tags: { Tier: "public" } }), "vpcId", [n.vpc]);
    n.privRt = link(res(T.routeTable, "private-rt", { tags: { Tier: "private" } }), "vpcId", [n.vpc]);
    n.pubRoute = link(link(res(T.route, "public-default", { destinationCidrBlock: "0.0.0.0/0" }), "routeTableId", [n.pubRt]), "gatewayId", [n.igw]);
    n.pubAssoc = link(link(res(T.assoc, "public-1-rta", {}), "subnetId", [n.pubSubnet]), "routeTableId", [n.pubRt]);
    n.privAssoc = link(link(res(T.assoc, "private-1-rta", {}), "subnetId", [n.privSubnet]), "routeTableId", [n.privRt]);
    n.s3 = link(link(res(T.endpoint, "s3", { serviceName: "com.amazonaws.ap-northeast-1.s3", vpcEndpointType: "Gateway" }), "vpcId", [n.vpc]), "routeTableIds", [n.privRt], [n.privRt.id]);
    for (const svc of ["ecr.api", "ecr.dkr", "logs", "secretsmanager"]) {
        n[svc] = link(link(res(T.endpoint, svc.replace(".", "-"), { serviceName: `com.amazonaws.ap-northeast-1.${svc}`, vpcEndpointType: "Interface", privateDnsEnabled: true }), "vpcId", [n.vpc]), "subnetIds", [n.privSubnet], [n.privSubnet.id]);
    }
    n.sg = link(res(T.sg, "service-sg", { description: "service" }), "vpcId", [n.vpc]);
    n.service = link(res(T.service, "api", { launchType: "FARGATE" }), "networkConfiguration", [n.privSubnet, n.sg],
        { assignPublicIp: false, subnets: [n.privSubnet.id], securityGroups: [n.sg.id] });
    change(n);
    return Object.values(n);
}

interface Case {
    policy: string;
    good: () => PlanResource[];
    /** Other compliant shapes the policy must not flag. */
    alsoGood?: Array<{ what: string; resources: () => PlanResource[] }>;
    bad: Array<{ what: string; resources: () => PlanResource[]; message: RegExp; knownOnly?: true }>;
    config?: Record<string, unknown>;
}

const cases: Case[] = [
    {
        policy: "cloudwatch-log-group-retention",
        config: { retentionDays: 7, exceptions: { "/aws/audit": 365 } },
        good: () => [res(T.logGroup, "flow-logs", { name: "/vpc/flow", retentionInDays: 7 }), res(T.logGroup, "audit", { name: "/aws/audit", retentionInDays: 365 })],
        bad: [
            { what: "no retention", resources: () => [res(T.logGroup, "flow-logs", { name: "/vpc/flow" })], message: /LogGroup "flow-logs" keeps its logs forever; set retentionInDays: 7/ },
            { what: "the wrong days", resources: () => [res(T.logGroup, "flow-logs", { retentionInDays: 30 })], message: /keeps its logs 30 days; set retentionInDays: 7/ },
            { what: "an exception ignored", resources: () => [res(T.logGroup, "audit", { name: "/aws/audit", retentionInDays: 7 })], message: /set retentionInDays: 365 \(its configured exception\)/ },
        ],
    },
    {
        policy: "s3-bucket-lifecycle",
        good: () => bucketSet(),
        alsoGood: [
            // How the provider reports the rules back in state: empty filter fields next to the real ones.
            { what: "rules as provider state", resources: () => bucketSet({ lifecycleRules: [
                { ...LOGS_RULE, filter: { prefix: "", and: { prefix: "logs/", tags: {} }, objectSizeGreaterThan: 0, objectSizeLessThan: 0, tag: null } },
                { ...WHOLE_BUCKET_RULE, filter: { prefix: "", objectSizeGreaterThan: 0, tag: null, and: null } },
            ] }) },
            { what: "logs archived by the whole-bucket rule", resources: () => bucketSet({ lifecycleRules: [{ ...WHOLE_BUCKET_RULE, transitions: [{ days: 30, storageClass: "DEEP_ARCHIVE" }] }, { id: "logs-expiry", status: "Enabled", filter: { prefix: "logs/" }, expiration: { days: 180 } }] }) },
            // Buckets that hold no logs need no archive rule; log buckets are known by tag, name or a log delivery.
            { what: "a bucket that holds no logs, without an archive rule", resources: () => assetsBucket([WHOLE_BUCKET_RULE]) },
            { what: "ALB access logs archived by a rule for their prefix", resources: () => withAccessLogs(assetsBucket([ALB_RULE, WHOLE_BUCKET_RULE]), { prefix: "alb", enabled: true }) },
            { what: "ALB access logs that are off (ELB's default, even with a bucket)", resources: () => withAccessLogs(assetsBucket([WHOLE_BUCKET_RULE]), { prefix: "alb" }) },
        ],
        bad: [
            { what: "no lifecycle configuration", resources: () => bucketSet({ lifecycleRules: null }), message: /Bucket "logs" has no lifecycle configuration.*365 days/ },
            { what: "objects kept too long", resources: () => bucketSet({ lifecycleRules: [LOGS_RULE, { ...WHOLE_BUCKET_RULE, expiration: { days: 400 } }] }), message: /keeps objects 400 days/ },
            { what: "noncurrent versions kept", resources: () => bucketSet({ lifecycleRules: [LOGS_RULE, { ...WHOLE_BUCKET_RULE, noncurrentVersionExpiration: undefined }] }), message: /versioned but never expires all of its noncurrent versions/ },
            { what: "logs archived late", resources: () => bucketSet({ lifecycleRules: [{ ...LOGS_RULE, transitions: [{ days: 180, storageClass: "GLACIER" }] }, WHOLE_BUCKET_RULE] }), message: /does not move "logs\/" to Glacier in time.*day 90/ },
            // The log prefixes of a log bucket must be archived whatever its rules name: deleting the rule is caught.
            { what: "the logs/ rule deleted from a bucket named as a log bucket", resources: () => bucketSet({ lifecycleRules: [WHOLE_BUCKET_RULE] }),
                message: /Bucket "logs" does not move "logs\/" to Glacier in time: it holds logs \(its name "backend-logs-test" matches logBucketNamePattern\), but no enabled lifecycle rule covering "logs\/" archives it; add an enabled rule with filter \{ prefix: "logs\/" \} and a transition to GLACIER at day 90 or earlier/ },
            { what: "the logs/ rule deleted from a bucket tagged DataClass=logs", resources: () => bucketSet({ name: "archive", bucketName: "backend-archive-test", tags: { DataClass: "logs" }, lifecycleRules: [WHOLE_BUCKET_RULE] }),
                message: /Bucket "archive" does not move "logs\/" to Glacier in time: it holds logs \(tag DataClass=logs\)/ },
            { what: "the logs/ rule deleted from a bucket whose name a first preview does not know (its resource name matches)", resources: () => {
                const suffix = res("random:index/randomId:RandomId", "suffix", { byteLength: 5 });
                suffix.computed = ["id", "hex"];
                suffix.outputs.hex = "a1b2c3d4e5";
                const set = bucketSet({ name: "access-logs", bucketName: "backend-store-a1b2c3d4e5", lifecycleRules: [WHOLE_BUCKET_RULE] });
                link(set[0], "bucket", [suffix], "backend-store-a1b2c3d4e5");
                return [suffix, ...set];
            }, message: /Bucket "access-logs" does not move "logs\/" to Glacier in time: it holds logs \(its name "access-logs" matches/ },
            { what: "ALB access logs delivered to a bucket that does not archive them", resources: () => withAccessLogs(assetsBucket([WHOLE_BUCKET_RULE]), { prefix: "alb", enabled: true }),
                message: /Bucket "assets" does not move "alb\/AWSLogs\/" to Glacier in time: LoadBalancer "alb" delivers its access logs there/ },
            { what: "ALB access logs at the bucket's root, next to an archived alb/", resources: () => withAccessLogs(assetsBucket([ALB_RULE, WHOLE_BUCKET_RULE]), { enabled: true }),
                message: /Bucket "assets" does not move "AWSLogs\/" to Glacier in time: LoadBalancer "alb" delivers its access logs there/ },
            // Rules limited to a prefix, a tag or a size leave the other objects (or versions) in the bucket forever.
            { what: "only the log prefix expiring", resources: () => bucketSet({ lifecycleRules: [{ ...LOGS_RULE, noncurrentVersionExpiration: { noncurrentDays: 30 } }] }), message: /Bucket "logs" never expires all of its current objects; give an enabled lifecycle rule that applies to the whole bucket/ },
            { what: "only tagged objects expiring", resources: () => bucketSet({ lifecycleRules: [LOGS_RULE, { ...WHOLE_BUCKET_RULE, filter: { tag: { key: "temp", value: "yes" } } }] }), message: /never expires all of its current objects/ },
            { what: "noncurrent versions expiring under one prefix only", resources: () => bucketSet({ lifecycleRules: [{ ...LOGS_RULE, noncurrentVersionExpiration: { noncurrentDays: 30 } }, { ...WHOLE_BUCKET_RULE, noncurrentVersionExpiration: undefined }] }), message: /never expires all of its noncurrent versions/ },
            { what: "the log rule disabled", resources: () => bucketSet({ lifecycleRules: [{ ...LOGS_RULE, status: "Disabled" }, WHOLE_BUCKET_RULE] }), message: /does not move "logs\/" to Glacier in time; give rule "logs" \(it is not Enabled\)/ },
        ],
    },
    {
        policy: "ecr-repository-lifecycle-policy",
        good: () => { const repo = res(T.repo, "app", { encryptionConfigurations: [{ encryptionType: "KMS" }] }); return [repo, link(res(T.repoLifecycle, "app-lifecycle", { policy: JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 }, action: { type: "expire" } }] }) }), "repository", [repo], "app")]; },
        bad: [
            { what: "no lifecycle policy", resources: () => [res(T.repo, "app", { encryptionConfigurations: [{ encryptionType: "KMS" }] })], message: /Repository "app" has no lifecycle policy/ },
            { what: "a policy without rules", resources: () => { const repo = res(T.repo, "app", {}); return [repo, link(res(T.repoLifecycle, "app-lifecycle", { policy: "{\"rules\":[]}" }), "repository", [repo], "app")]; }, message: /has no rules/ },
        ],
    },
    {
        policy: "aurora-backup-retention",
        config: { minimumDays: 7 },
        good: () => [res(T.cluster, "db", { engine: "aurora-postgresql", backupRetentionPeriod: 14 })],
        bad: [
            { what: "the default retention", resources: () => [res(T.cluster, "db", { engine: "aurora-postgresql" })], message: /Cluster "db" keeps backups 1 day\(s\) \(the RDS default\); set backupRetentionPeriod to at least 7/ },
            { what: "too short", resources: () => [res(T.cluster, "db", { engine: "aurora-postgresql", backupRetentionPeriod: 3 })], message: /keeps backups 3 day\(s\)/ },
        ],
    },
    {
        policy: "rds-storage-encrypted-with-cmk",
        good: () => { const key = res(T.key, "db-key", { enableKeyRotation: true }); key.computed = ["id", "arn"]; key.outputs.arn = "arn:aws:kms:ap-northeast-1:123456789012:key/db-key"; return [key, link(res(T.cluster, "db", { engine: "aurora-postgresql", storageEncrypted: true }), "kmsKeyId", [key], key.outputs.arn)]; },
        bad: [
            { what: "unencrypted storage", resources: () => [res(T.cluster, "db", { engine: "aurora-postgresql", storageEncrypted: false })], message: /Cluster "db" stores data unencrypted; set storageEncrypted: true/ },
            { what: "the AWS-managed key", resources: () => [res(T.cluster, "db", { engine: "aurora-postgresql", storageEncrypted: true })], message: /AWS-managed aws\/rds key/ },
        ],
    },
    {
        policy: "rds-cluster-forces-tls",
        good: () => { const pg = res(T.paramGroup, "db-params", { family: "aurora-postgresql16", parameters: [{ name: "rds.force_ssl", value: "1" }] }); return [pg, link(res(T.cluster, "db", { engine: "aurora-postgresql" }), "dbClusterParameterGroupName", [pg], "db-params")]; },
        bad: [
            { what: "force_ssl off", resources: () => { const pg = res(T.paramGroup, "db-params", { family: "aurora-postgresql16", parameters: [{ name: "rds.force_ssl", value: "0" }] }); return [pg, link(res(T.cluster, "db", { engine: "aurora-postgresql" }), "dbClusterParameterGroupName", [pg], "db-params")]; }, message: /set its parameter rds.force_ssl to "1" \(it is "0"\)/ },
            { what: "the default parameter group", resources: () => [res(T.cluster, "db", { engine: "aurora-postgresql" })], message: /does not use a cluster parameter group from this stack/ },
        ],
    },
    {
        policy: "s3-bucket-encryption",
        good: () => bucketSet(),
        bad: [
            { what: "no encryption configuration", resources: () => bucketSet({ sse: null }), message: /Bucket "logs" has no server-side encryption configuration/ },
            { what: "a disallowed algorithm", resources: () => bucketSet({ sse: "none" }), message: /no default encryption rule with an allowed algorithm/ },
        ],
    },
    {
        policy: "s3-bucket-denies-insecure-transport",
        good: () => bucketSet(),
        bad: [
            { what: "no bucket policy", resources: () => bucketSet({ policy: null }), message: /Bucket "logs" has no bucket policy/ },
            { what: "no TLS deny", resources: () => bucketSet({ policy: { Effect: "Allow", Principal: { Service: "logging.s3.amazonaws.com" }, Action: "s3:PutObject", Resource: "*" } }), message: /bucket policy allows plain HTTP/ },
            // The ARN makes the document unknown in a first preview; it is checked once known.
            { what: "a TLS deny over the objects only", knownOnly: true, resources: () => bucketSet({ policy: { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "arn:aws:s3:::backend-logs-test-arn/*", Condition: { Bool: { "aws:SecureTransport": "false" } } } }), message: /bucket policy allows plain HTTP/ },
            { what: "a TLS deny over the bucket only", knownOnly: true, resources: () => bucketSet({ policy: { Effect: "Deny", Principal: { AWS: "*" }, Action: "*", Resource: ["arn:aws:s3:::backend-logs-test-arn"], Condition: { Bool: { "aws:SecureTransport": false } } } }), message: /bucket policy allows plain HTTP/ },
        ],
    },
    {
        policy: "kms-key-rotation",
        config: { maxRotationPeriodDays: 180 },
        good: () => [res(T.key, "db-key", { enableKeyRotation: true, rotationPeriodInDays: 180 }), res(T.key, "signing", { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY" })],
        bad: [
            { what: "no rotation", resources: () => [res(T.key, "db-key", {})], message: /Key "db-key" never rotates; set enableKeyRotation: true/ },
            { what: "a long rotation period", resources: () => [res(T.key, "db-key", { enableKeyRotation: true, rotationPeriodInDays: 730 })], message: /rotates every 730 days/ },
            { what: "KMS's yearly default against a shorter maximum", resources: () => [res(T.key, "db-key", { enableKeyRotation: true })], message: /rotates every 365 days \(the KMS default\); set rotationPeriodInDays to at most 180/ },
        ],
    },
    {
        policy: "sns-topic-encrypted",
        good: () => { const key = res(T.key, "alerts-key", { enableKeyRotation: true }); return [key, link(res(T.topic, "critical", {}), "kmsMasterKeyId", [key])]; },
        bad: [
            { what: "no encryption", resources: () => [res(T.topic, "critical", {})], message: /Topic "critical" is not encrypted/ },
            { what: "the AWS-managed key", resources: () => [res(T.topic, "critical", { kmsMasterKeyId: "alias/aws/sns" })], message: /AWS-managed key alias\/aws\/sns, which CloudWatch alarms cannot use/ },
        ],
    },
    {
        policy: "ecr-repository-encrypted",
        good: () => [res(T.repo, "app", { encryptionConfigurations: [{ encryptionType: "KMS" }] })],
        bad: [{ what: "implicit encryption", resources: () => [res(T.repo, "app", {})], message: /Repository "app" does not declare its encryption/ }],
    },
    {
        policy: "alb-listener-https",
        good: () => [
            res(T.listener, "https", { protocol: "HTTPS", port: 443, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", defaultActions: [{ type: "forward", targetGroupArn: "arn:tg" }] }),
            res(T.listener, "http", { protocol: "HTTP", port: 80, defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }] }),
        ],
        bad: [
            { what: "an HTTP forward", resources: () => [res(T.listener, "http", { protocol: "HTTP", port: 80, defaultActions: [{ type: "forward", targetGroupArn: "arn:tg" }] })], message: /Listener "http" serves plain HTTP; make its only default action a redirect to HTTPS/ },
            { what: "a TLS 1.0 policy", resources: () => [res(T.listener, "https", { protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-2016-08", defaultActions: [] })], message: /sslPolicy ELBSecurityPolicy-2016-08, which allows TLS below 1.2/ },
            { what: "no ssl policy", resources: () => [res(T.listener, "https", { protocol: "HTTPS", defaultActions: [] })], message: /has no sslPolicy/ },
        ],
    },
    {
        policy: "alb-listener-rule-https",
        good: () => listeners((l) => [ruleOn(l.https, "api-on-https", FORWARD), ruleOn(l.http, "api-to-https", TO_HTTPS)]),
        alsoGood: [
            { what: "rules of aws.alb listeners that redirect", resources: () => listeners((l) => [ruleOn(l.http, "api-to-https", TO_HTTPS, T.albListenerRule)], { listener: T.albListener }) },
        ],
        bad: [
            { what: "a forwarding rule on the HTTP listener", resources: () => listeners((l) => [ruleOn(l.http, "api-on-http", FORWARD)]),
                message: /ListenerRule "api-on-http" on Listener "http", which serves plain HTTP, has a "forward" action; make its only action a redirect to HTTPS/ },
            { what: "a fixed response on the HTTP listener", resources: () => listeners((l) => [ruleOn(l.http, "maintenance", [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "503" } }])]),
                message: /ListenerRule "maintenance" on Listener "http", which serves plain HTTP, has a "fixed-response" action/ },
            { what: "a redirect that keeps HTTP", resources: () => listeners((l) => [ruleOn(l.http, "moved", [{ type: "redirect", redirect: { host: "api.example.com", statusCode: "HTTP_301" } }])]),
                message: /ListenerRule "moved" on Listener "http", which serves plain HTTP, has a "redirect" action that does not go to HTTPS/ },
            { what: "an aws.alb forwarding rule on an aws.alb HTTP listener", resources: () => listeners((l) => [ruleOn(l.http, "api-on-http", FORWARD, T.albListenerRule)], { listener: T.albListener }),
                message: /ListenerRule "api-on-http" on Listener "http", which serves plain HTTP, has a "forward" action/ },
        ],
    },
    {
        policy: "ecs-task-no-plaintext-secrets",
        good: () => [res(T.taskDef, "api", { family: "api", containerDefinitions: JSON.stringify([{ name: "app", environment: [{ name: "LOG_LEVEL", value: "INFO" }, { name: "DB_SECRET_ARN", value: "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db" }], secrets: [{ name: "DB_PASSWORD", valueFrom: "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db:password::" }] }]) })],
        bad: [
            { what: "a plaintext password", resources: () => [res(T.taskDef, "api", { family: "api", containerDefinitions: JSON.stringify([{ name: "app", environment: [{ name: "DB_PASSWORD", value: "hunter2" }] }]) })], message: /TaskDefinition "api" container "app" passes DB_PASSWORD as a plaintext environment variable/ },
            { what: "credentials in a URL", resources: () => [res(T.taskDef, "api", { family: "api", containerDefinitions: JSON.stringify([{ name: "app", environment: [{ name: "DATABASE_URL", value: "postgresql://admin:hunter2@db:5432/app" }] }]) })], message: /puts credentials in the URL of environment variable DATABASE_URL/ },
        ],
    },
    {
        policy: "no-nat-or-egress-only-gateway",
        good: () => network(),
        bad: [
            { what: "a NAT gateway", resources: () => network((n) => { n.nat = link(res(T.nat, "nat", { connectivityType: "public" }), "subnetId", [n.pubSubnet]); }), message: /NatGateway "nat" would give private subnets a path to the internet/ },
            { what: "an egress-only internet gateway", resources: () => network((n) => { n.eigw = link(res(T.eigw, "eigw", {}), "vpcId", [n.vpc]); }), message: /EgressOnlyInternetGateway "eigw"/ },
        ],
    },
    {
        policy: "internet-routes-only-in-public-subnets",
        good: () => network(),
        bad: [
            { what: "a private default route to NAT", resources: () => network((n) => { n.nat = link(res(T.nat, "nat", {}), "subnetId", [n.pubSubnet]); n.natRoute = link(link(res(T.route, "private-default", { destinationCidrBlock: "0.0.0.0/0" }), "routeTableId", [n.privRt]), "natGatewayId", [n.nat]); }), message: /Route "private-default" in RouteTable "private-rt" sends 0.0.0.0\/0 to a NAT gateway/ },
            { what: "a private subnet on the public table", resources: () => network((n) => { n.privAssoc = link(link(res(T.assoc, "private-1-rta", {}), "subnetId", [n.privSubnet]), "routeTableId", [n.pubRt]); }), message: /associated with Subnet "private-1", which is not a public subnet/ },
            { what: "an inline IPv6 default route", resources: () => network((n) => { link(n.privRt, "routes", [n.igw], [{ ipv6CidrBlock: "::/0", gatewayId: n.igw.id }]); }), message: /RouteTable "private-rt" routes ::\/0 to the internet gateway but is associated with Subnet "private-1"/ },
            { what: "a default route in the VPC's main table (vpc.mainRouteTableId)", resources: () => network((n) => { n.mainRoute = link(link(res(T.route, "main-default", { destinationCidrBlock: "0.0.0.0/0" }), "routeTableId", [n.vpc], "rtb-main"), "gatewayId", [n.igw]); }), message: /Route "main-default" in the main route table of Vpc "vpc" routes 0.0.0.0\/0 to the internet gateway from the VPC's main route table/ },
            { what: "a default route in a table the stack does not create", resources: () => network((n) => { n.foreign = link(res(T.route, "foreign-default", { destinationCidrBlock: "0.0.0.0/0", routeTableId: "rtb-0123456789abcdef0" }), "gatewayId", [n.igw]); }), message: /Route "foreign-default" routes 0.0.0.0\/0 to the internet gateway in a route table this stack does not create/ },
        ],
    },
    {
        policy: "ecs-service-private-networking",
        good: () => network(),
        bad: [
            { what: "a public IP", resources: () => network((n) => { n.service.inputs.networkConfiguration.assignPublicIp = true; }), message: /Service "api" gives its tasks public IPs/ },
            { what: "a public subnet", resources: () => network((n) => { n.service = link(res(T.service, "api", {}), "networkConfiguration", [n.pubSubnet], { assignPublicIp: false, subnets: [n.pubSubnet.id] }); }), message: /runs in Subnet "public-1", which routes to the internet through RouteTable "public-rt"/ },
            { what: "no network configuration", resources: () => network((n) => { n.service = res(T.service, "api", { launchType: "EC2" }); }), message: /has no networkConfiguration/ },
            { what: "a subnet on the VPC's main table, which routes to the internet", resources: () => network((n) => {
                delete n.privAssoc;
                n.mainRoute = link(link(res(T.route, "main-default", { destinationCidrBlock: "0.0.0.0/0" }), "routeTableId", [n.vpc], "rtb-main"), "gatewayId", [n.igw]);
            }), message: /runs in Subnet "private-1", which routes to the internet through the main route table of Vpc "vpc"/ },
        ],
    },
    {
        policy: "security-group-no-egress-anywhere",
        good: () => network((n) => { n.rule = link(res(T.egressRule, "to-endpoints", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "10.0.0.0/16" }), "securityGroupId", [n.sg]); }),
        bad: [
            { what: "a rule to 0.0.0.0/0", resources: () => network((n) => { n.rule = link(res(T.egressRule, "anywhere", { ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" }), "securityGroupId", [n.sg]); }), message: /SecurityGroupEgressRule "anywhere" allows egress to 0.0.0.0\/0/ },
            { what: "an inline ::/0 egress", resources: () => network((n) => { set(n.sg, "egress", [{ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }]); }), message: /SecurityGroup "service-sg" allows egress to ::\/0/ },
            { what: "an egress SecurityGroupRule", resources: () => network((n) => { n.rule = link(res(T.sgRule, "half", { type: "egress", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/1", "128.0.0.0/1"] }), "securityGroupId", [n.sg]); }), message: /SecurityGroupRule "half" allows egress to 0.0.0.0\/1/ },
        ],
    },
    {
        policy: "vpc-endpoints-required",
        good: () => network(),
        bad: [
            { what: "the logs endpoint removed", resources: () => network((n) => { delete n.logs; }), message: /Vpc "vpc" has no logs interface endpoint/ },
            { what: "private DNS off", resources: () => network((n) => { set(n["ecr.api"], "privateDnsEnabled", false); }), message: /VpcEndpoint "ecr-api" has private DNS off.*set privateDnsEnabled: true/ },
            { what: "the S3 gateway detached from a private table", resources: () => network((n) => { link(n.s3, "routeTableIds", [], []); n.s3.propertyDependencies.routeTableIds = []; }), message: /VpcEndpoint "s3" is not attached to RouteTable "private-rt"/ },
            { what: "no S3 gateway", resources: () => network((n) => { delete n.s3; }), message: /Vpc "vpc" has no s3 gateway endpoint/ },
        ],
    },
    {
        policy: "rds-instance-not-publicly-accessible",
        good: () => [res(T.instance, "db-writer", { instanceClass: "db.t4g.medium", engine: "aurora-postgresql", publiclyAccessible: false })],
        bad: [{ what: "a public instance", resources: () => [res(T.instance, "db-writer", { instanceClass: "db.t4g.medium", engine: "aurora-postgresql", publiclyAccessible: true })], message: /ClusterInstance "db-writer" is publicly accessible; set publiclyAccessible: false/ }],
    },
    {
        policy: "subnet-no-public-ip-on-launch",
        good: () => network(),
        bad: [{ what: "public IPs on launch", resources: () => network((n) => { set(n.pubSubnet, "mapPublicIpOnLaunch", true); }), message: /Subnet "public-1" maps public IPs on launch/ }],
    },
];

describe("policy pack: each policy through the analyzer", function () {
    this.timeout(120_000);
    const session = useAnalyzer();

    it("has a case here for every policy the pack serves", () => {
        assert.deepEqual(cases.map((c) => c.policy).sort(), session().info.policies.map((p) => p.name).sort());
    });

    for (const c of cases) {
        describe(c.policy, () => {
            const config = () => packConfig(session(), undefined, c.config ? { [c.policy]: { properties: c.config } } : {});

            it("passes the compliant resources", async () => {
                const found = (await violationsOf(session(), planOf("test", c.good()), config())).filter((v) => v.policyName === c.policy);
                assert.deepEqual(found, [], show(found));
            });

            for (const good of c.alsoGood ?? []) {
                it(`passes ${good.what}`, async () => {
                    const found = (await violationsOf(session(), planOf("test", good.resources()), config())).filter((v) => v.policyName === c.policy);
                    assert.deepEqual(found, [], show(found));
                });
            }

            for (const bad of c.bad) {
                // Values a first preview cannot know (JSON embedding an ARN) are only checked once known.
                const modes: ValueMode[] = bad.knownOnly ? ["known"] : ["preview", "known"];
                for (const mode of modes) {
                    it(`catches ${bad.what} (${mode === "preview" ? "first preview" : "known values"})`, async () => {
                        const found = (await violationsOf(session(), planOf("test", bad.resources()), config(), [mode])).filter((v) => v.policyName === c.policy);
                        assert.ok(found.some((v) => bad.message.test(v.message) && v.enforcementLevel === "mandatory" && v.urn?.startsWith("urn:pulumi:test::")),
                            `expected a mandatory ${c.policy} violation matching ${bad.message}, got:\n${show(found)}`);
                    });
                }
            }
        });
    }
});
