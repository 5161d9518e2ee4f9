// Pulumi mocks shared by the tests and the offline preview: realistic IDs, ARNs and computed
// attributes per resource type, and the provider functions the program calls. Strict: an invoke
// that is not listed here throws, so a new data-source call cannot silently return garbage.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

export const MOCK_ACCOUNT_ID = "123456789012";

export interface MockContext {
    region: string;
    stack: string;
}

/** Deterministic hex derived from a name, so IDs are stable between runs. */
function hex(seed: string, length: number): string {
    return crypto.createHash("sha256").update(seed).digest("hex").slice(0, length);
}

function arn(ctx: MockContext, service: string, resource: string, regional = true): string {
    return `arn:aws:${service}:${regional ? ctx.region : ""}:${MOCK_ACCOUNT_ID}:${resource}`;
}

type StateMaker = (name: string, inputs: Record<string, any>, ctx: MockContext) => { id: string; state: Record<string, any> };

/**
 * Computed attributes per type: what the provider would return after create. Everything listed
 * here (plus `id`) is unknown in a real preview; the offline preview marks it as such.
 */
const STATE: Record<string, StateMaker> = {
    "aws:ec2/vpc:Vpc": (n, i, c) => {
        const id = `vpc-${hex(n, 17)}`;
        return { id, state: { arn: arn(c, "ec2", `vpc/${id}`), defaultSecurityGroupId: `sg-${hex(n + "default", 17)}`, mainRouteTableId: `rtb-${hex(n + "main", 17)}`, defaultNetworkAclId: `acl-${hex(n, 17)}`, ownerId: MOCK_ACCOUNT_ID } };
    },
    "aws:ec2/subnet:Subnet": (n, _i, c) => { const id = `subnet-${hex(n, 17)}`; return { id, state: { arn: arn(c, "ec2", `subnet/${id}`), ownerId: MOCK_ACCOUNT_ID } }; },
    "aws:ec2/internetGateway:InternetGateway": (n, _i, c) => { const id = `igw-${hex(n, 17)}`; return { id, state: { arn: arn(c, "ec2", `internet-gateway/${id}`) } }; },
    "aws:ec2/routeTable:RouteTable": (n, _i, c) => { const id = `rtb-${hex(n, 17)}`; return { id, state: { arn: arn(c, "ec2", `route-table/${id}`) } }; },
    "aws:ec2/route:Route": (n) => ({ id: `r-${hex(n, 17)}`, state: {} }),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": (n) => ({ id: `rtbassoc-${hex(n, 17)}`, state: {} }),
    "aws:ec2/securityGroup:SecurityGroup": (n, _i, c) => { const id = `sg-${hex(n, 17)}`; return { id, state: { arn: arn(c, "ec2", `security-group/${id}`), ownerId: MOCK_ACCOUNT_ID } }; },
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (n, _i, c) => { const id = `sg-${hex(n, 17)}`; return { id, state: { arn: arn(c, "ec2", `security-group/${id}`) } }; },
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (n) => ({ id: `sgr-${hex(n, 17)}`, state: {} }),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (n) => ({ id: `sgr-${hex(n, 17)}`, state: {} }),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (n, i, c) => {
        const id = `vpce-${hex(n, 17)}`;
        const gateway = i.vpcEndpointType === "Gateway";
        return { id, state: { arn: arn(c, "ec2", `vpc-endpoint/${id}`), prefixListId: gateway ? `pl-${hex(n, 8)}` : undefined, dnsEntries: gateway ? [] : [{ dnsName: `${id}.${i.serviceName}.vpce.amazonaws.com`, hostedZoneId: "Z2E726K9Y6RL4W" }], networkInterfaceIds: gateway ? [] : [`eni-${hex(n, 17)}`] } };
    },
    "aws:ec2/flowLog:FlowLog": (n, _i, c) => { const id = `fl-${hex(n, 17)}`; return { id, state: { arn: arn(c, "ec2", `vpc-flow-log/${id}`) } }; },
    "aws:cloudwatch/logGroup:LogGroup": (n, i, c) => { const name = i.name ?? `${n}-${hex(n, 7)}`; return { id: name, state: { name, arn: arn(c, "logs", `log-group:${name}`) } }; },
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": (n, i) => ({ id: String(i.resourceArn ?? i.policyName ?? n), state: { policyScope: i.resourceArn ? "RESOURCE" : "ACCOUNT" } }),
    "aws:iam/role:Role": (n, i, c) => { const name = i.name ?? `${n}-${hex(n, 7)}`; return { id: name, state: { name, arn: arn(c, "iam", `role/${name}`, false), uniqueId: `AROA${hex(n, 17).toUpperCase()}` } }; },
    "aws:iam/rolePolicy:RolePolicy": (n, i) => ({ id: `${i.role}:${i.name ?? n}`, state: { name: i.name ?? n } }),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (n) => ({ id: `${n}-${hex(n, 8)}`, state: {} }),
    "aws:kms/key:Key": (n, _i, c) => { const keyId = `${hex(n, 8)}-${hex(n + 1, 4)}-${hex(n + 2, 4)}-${hex(n + 3, 4)}-${hex(n + 4, 12)}`; return { id: keyId, state: { keyId, arn: arn(c, "kms", `key/${keyId}`) } }; },
    "aws:kms/alias:Alias": (n, i, c) => ({ id: i.name ?? n, state: { arn: arn(c, "kms", i.name ?? n), targetKeyArn: arn(c, "kms", `key/${hex(n, 8)}`) } }),
    "aws:s3/bucket:Bucket": (n, i, c) => { const bucket = i.bucket ?? `${n}-${hex(n, 7)}`; return { id: bucket, state: { bucket, arn: `arn:aws:s3:::${bucket}`, bucketDomainName: `${bucket}.s3.amazonaws.com`, bucketRegionalDomainName: `${bucket}.s3.${c.region}.amazonaws.com`, region: c.region } }; },
    // Bucket settings are keyed by the bucket's name, as the provider does.
    ...Object.fromEntries([
        "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "bucketVersioning:BucketVersioning",
        "bucketPublicAccessBlock:BucketPublicAccessBlock", "bucketOwnershipControls:BucketOwnershipControls",
        "bucketLifecycleConfiguration:BucketLifecycleConfiguration", "bucketPolicy:BucketPolicy",
    ].map((t): [string, StateMaker] => [`aws:s3/${t}`, (n, i) => ({ id: String(i.bucket ?? n), state: {} })])),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": (n, i) => ({ id: String(i.repository ?? n), state: { registryId: MOCK_ACCOUNT_ID } }),
    "aws:ecr/repository:Repository": (n, i, c) => { const name = i.name ?? `${n}-${hex(n, 7)}`; return { id: name, state: { name, arn: arn(c, "ecr", `repository/${name}`), registryId: MOCK_ACCOUNT_ID, repositoryUrl: `${MOCK_ACCOUNT_ID}.dkr.ecr.${c.region}.amazonaws.com/${name}` } }; },
    "docker:index/image:Image": (n, i) => { const imageName: string = i.imageName ?? n; const repo = imageName.split(":")[0]; return { id: `${repo}@sha256:${hex(n, 64)}`, state: { imageName, repoDigest: `${repo}@sha256:${hex(n + "digest", 64)}`, baseImageName: imageName } }; },
    "aws:rds/cluster:Cluster": (n, i, c) => {
        const id = i.clusterIdentifier ?? `${n}-${hex(n, 7)}`;
        return { id, state: { clusterIdentifier: id, arn: arn(c, "rds", `cluster:${id}`), endpoint: `${id}.cluster-${hex(n, 12)}.${c.region}.rds.amazonaws.com`, readerEndpoint: `${id}.cluster-ro-${hex(n, 12)}.${c.region}.rds.amazonaws.com`, port: i.port ?? 5432, clusterResourceId: `cluster-${hex(n, 26).toUpperCase()}`, masterUserSecrets: i.manageMasterUserPassword ? [{ secretArn: arn(c, "secretsmanager", `secret:rds!cluster-${hex(n, 8)}-${hex(n, 6)}`), kmsKeyId: i.masterUserSecretKmsKeyId ?? "", secretStatus: "active" }] : [], hostedZoneId: "Z24O6O9L7SGTNB" } };
    },
    "aws:rds/clusterInstance:ClusterInstance": (n, i, c) => { const id = i.identifier ?? `${n}-${hex(n, 7)}`; return { id, state: { identifier: id, arn: arn(c, "rds", `db:${id}`), endpoint: `${id}.${hex(n, 12)}.${c.region}.rds.amazonaws.com`, dbiResourceId: `db-${hex(n, 26).toUpperCase()}`, writer: false } }; },
    "aws:rds/subnetGroup:SubnetGroup": (n, i, c) => { const name = i.name ?? `${n}-${hex(n, 7)}`; return { id: name, state: { name, arn: arn(c, "rds", `subgrp:${name}`) } }; },
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": (n, i, c) => { const name = i.name ?? `${n}-${hex(n, 7)}`; return { id: name, state: { name, arn: arn(c, "rds", `cluster-pg:${name}`) } }; },
    "aws:ecs/cluster:Cluster": (n, i, c) => { const name = i.name ?? `${n}-${hex(n, 7)}`; return { id: arn(c, "ecs", `cluster/${name}`), state: { name, arn: arn(c, "ecs", `cluster/${name}`) } }; },
    "aws:ecs/taskDefinition:TaskDefinition": (n, i, c) => { const family = i.family ?? n; return { id: family, state: { arn: arn(c, "ecs", `task-definition/${family}:1`), arnWithoutRevision: arn(c, "ecs", `task-definition/${family}`), revision: 1 } }; },
    "aws:ecs/service:Service": (n, i, c) => {
        const name = i.name ?? `${n}-${hex(n, 7)}`;
        // Long ARN format: service/<cluster name>/<service name>; the cluster input is the cluster's ARN.
        const service = arn(c, "ecs", `service/${String(i.cluster ?? "default").split("/").pop()}/${name}`);
        return { id: service, state: { name, arn: service } };
    },
    "aws:lb/loadBalancer:LoadBalancer": (n, i, c) => { const name = i.name ?? `${n.slice(0, 24)}-${hex(n, 7)}`; const suffix = `app/${name}/${hex(n, 16)}`; return { id: arn(c, "elasticloadbalancing", `loadbalancer/${suffix}`), state: { name, arn: arn(c, "elasticloadbalancing", `loadbalancer/${suffix}`), arnSuffix: suffix, dnsName: `${name}-${hex(n, 9)}.${c.region}.elb.amazonaws.com`, zoneId: "Z14GRHDCWA56QT" } }; },
    "aws:lb/targetGroup:TargetGroup": (n, i, c) => { const name = i.name ?? `${n.slice(0, 24)}-${hex(n, 7)}`; const suffix = `targetgroup/${name}/${hex(n, 16)}`; return { id: arn(c, "elasticloadbalancing", suffix), state: { name, arn: arn(c, "elasticloadbalancing", suffix), arnSuffix: suffix } }; },
    "aws:lb/listener:Listener": (n, _i, c) => { const a = arn(c, "elasticloadbalancing", `listener/app/${hex(n, 10)}/${hex(n, 16)}/${hex(n + "l", 16)}`); return { id: a, state: { arn: a } }; },
    "aws:acm/certificate:Certificate": (n, i, c) => { const a = arn(c, "acm", `certificate/${hex(n, 8)}-${hex(n, 4)}-${hex(n, 4)}-${hex(n, 4)}-${hex(n, 12)}`); return { id: a, state: { arn: a, domainValidationOptions: [{ domainName: i.domainName, resourceRecordName: `_${hex(n, 32)}.${i.domainName}.`, resourceRecordType: "CNAME", resourceRecordValue: `_${hex(n + "v", 32)}.acm-validations.aws.` }] } }; },
    "aws:acm/certificateValidation:CertificateValidation": (_n, i) => ({ id: String(i.certificateArn), state: {} }),
    "aws:route53/record:Record": (n, i) => ({ id: `${i.zoneId}_${i.name}_${i.type}`, state: { fqdn: i.name } }),
    "aws:wafv2/webAcl:WebAcl": (n, i, c) => { const name = i.name ?? n; const id = `${hex(n, 8)}-${hex(n, 4)}-${hex(n, 4)}-${hex(n, 4)}-${hex(n, 12)}`; return { id, state: { arn: arn(c, "wafv2", `regional/webacl/${name}/${id}`), capacity: 700 } }; },
    "aws:wafv2/webAclAssociation:WebAclAssociation": (n) => ({ id: `${hex(n, 16)}`, state: {} }),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": (n) => ({ id: `${hex(n, 16)}`, state: {} }),
    "aws:appautoscaling/target:Target": (_n, i) => ({ id: String(i.resourceId), state: { arn: `arn:aws:application-autoscaling:${hex(_n, 8)}` } }),
    "aws:appautoscaling/policy:Policy": (n, i, c) => ({ id: i.name ?? n, state: { arn: arn(c, "autoscaling", `scalingPolicy:${hex(n, 8)}:resource/${i.resourceId}:policyName/${i.name ?? n}`), alarmArns: [] } }),
    "aws:sns/topic:Topic": (n, i, c) => { const name = i.name ?? `${n}-${hex(n, 7)}`; return { id: arn(c, "sns", name), state: { name, arn: arn(c, "sns", name) } }; },
    "aws:sns/topicSubscription:TopicSubscription": (n, _i, c) => ({ id: arn(c, "sns", `${n}:${hex(n, 8)}`), state: { arn: "pending confirmation" } }),
    "aws:sns/topicPolicy:TopicPolicy": (n, i) => ({ id: String(i.arn ?? n), state: {} }),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (n, i, c) => { const name = i.name ?? n; return { id: name, state: { arn: arn(c, "cloudwatch", `alarm:${name}`) } }; },
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": (n, i) => ({ id: i.name ?? n, state: {} }),
    "aws:cloudwatch/dashboard:Dashboard": (n, i, c) => ({ id: i.dashboardName ?? n, state: { dashboardArn: arn(c, "cloudwatch", `dashboard/${i.dashboardName ?? n}`, false) } }),
    "aws:cloudwatch/eventRule:EventRule": (n, i, c) => { const name = i.name ?? `${n}-${hex(n, 7)}`; return { id: name, state: { name, arn: arn(c, "events", `rule/${name}`) } }; },
    "aws:cloudwatch/eventTarget:EventTarget": (n, i) => ({ id: `${i.rule}-${i.targetId ?? hex(n, 8)}`, state: {} }),
};

/** Every type the mocks know how to create; a spec can assert the program uses nothing else. */
export const MOCKED_TYPES = Object.keys(STATE);

export interface MockedResource {
    id: string;
    state: Record<string, any>;
    /** Names of state properties the mocks invented (unknown until apply in a real preview). */
    computed: string[];
}

/** Mock state for a resource: its inputs echoed back, plus computed attributes for its type. */
export function mockResource(args: pulumi.runtime.MockResourceArgs, ctx: MockContext): MockedResource {
    const maker = STATE[args.type];
    if (!args.custom) return { id: "", state: {}, computed: [] }; // component resources keep what they register
    if (!maker) {
        // Providers and types without a table entry still get a stable id; tests list them via MOCKED_TYPES.
        const id = args.type.startsWith("pulumi:providers:") ? `${args.name}-provider-id` : `${args.name}-${hex(args.name, 8)}`;
        return { id, state: { ...args.inputs }, computed: [] };
    }
    const made = maker(args.name, args.inputs ?? {}, ctx);
    const computed = Object.keys(made.state).filter((k) => made.state[k] !== undefined && args.inputs?.[k] === undefined);
    return { id: made.id, state: { ...args.inputs, ...stripUndefined(made.state) }, computed: ["id", ...computed] };
}

function stripUndefined(o: Record<string, any>): Record<string, any> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** A one-element list as its element, as the provider writes IAM JSON. */
function oneOrMany(values: unknown[]): unknown {
    return values.length === 1 ? values[0] : values;
}

/** The IAM JSON aws.iam.getPolicyDocument renders from its statements (capitalised keys, principals and conditions as maps). */
export function policyDocument(inputs: Record<string, any>): Record<string, unknown> {
    const principals = (list: any[] | undefined) => {
        if (!list?.length) return undefined;
        if (list.some((p) => p.type === "*")) return "*";
        const byType: Record<string, unknown[]> = {};
        for (const p of list) byType[p.type] = [...(byType[p.type] ?? []), ...p.identifiers];
        return Object.fromEntries(Object.entries(byType).map(([type, ids]) => [type, oneOrMany(ids)]));
    };
    const statements = (inputs.statements ?? []).map((s: any) => {
        const conditions: Record<string, Record<string, unknown>> = {};
        for (const c of s.conditions ?? []) conditions[c.test] = { ...conditions[c.test], [c.variable]: oneOrMany(c.values) };
        const doc: Record<string, unknown> = {
            Sid: s.sid,
            Effect: s.effect ?? "Allow",
            Action: s.actions?.length ? oneOrMany(s.actions) : undefined,
            NotAction: s.notActions?.length ? oneOrMany(s.notActions) : undefined,
            Resource: s.resources?.length ? oneOrMany(s.resources) : undefined,
            NotResource: s.notResources?.length ? oneOrMany(s.notResources) : undefined,
            Principal: principals(s.principals),
            NotPrincipal: principals(s.notPrincipals),
            Condition: Object.keys(conditions).length ? conditions : undefined,
        };
        return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined));
    });
    return { Version: inputs.version ?? "2012-10-17", ...(inputs.policyId ? { Id: inputs.policyId } : {}), Statement: statements };
}

/** Provider functions the program calls. Anything else throws, naming the token. */
export function mockCall(args: pulumi.runtime.MockCallArgs, ctx: MockContext): Record<string, any> {
    const azNames = ["a", "c", "d"].map((s) => `${ctx.region}${s}`);
    switch (args.token) {
        case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { names: azNames, zoneIds: azNames.map((_, i) => `apne1-az${[4, 1, 2][i] ?? i + 1}`), state: "available", id: ctx.region };
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: MOCK_ACCOUNT_ID, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/offline`, userId: "AIDAOFFLINE", id: MOCK_ACCOUNT_ID };
        case "aws:index/getRegion:getRegion":
            return { name: ctx.region, region: ctx.region, id: ctx.region, endpoint: `ec2.${ctx.region}.amazonaws.com`, description: "Asia Pacific (Tokyo)" };
        case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" };
        case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return { authorizationToken: Buffer.from("AWS:offline-token").toString("base64"), userName: "AWS", password: "offline-token", proxyEndpoint: `https://${MOCK_ACCOUNT_ID}.dkr.ecr.${ctx.region}.amazonaws.com`, expiresAt: "2099-01-01T00:00:00Z", id: ctx.region };
        case "aws:ec2/getPrefixList:getPrefixList":
        case "aws:ec2/getManagedPrefixList:getManagedPrefixList": {
            const name = args.inputs?.name ?? `com.amazonaws.${ctx.region}.s3`;
            return { id: `pl-${hex(String(name), 8)}`, name, cidrBlocks: ["52.219.0.0/20"] };
        }
        case "aws:iam/getPolicyDocument:getPolicyDocument":
            return { json: JSON.stringify(policyDocument(args.inputs ?? {})), id: hex(JSON.stringify(args.inputs ?? {}), 10) };
        case "aws:elb/getServiceAccount:getServiceAccount":
            return { id: "582318560864", arn: "arn:aws:iam::582318560864:root" };
        default:
            throw new Error(`unmocked provider function ${args.token}: add it to tools/mocks.ts`);
    }
}
