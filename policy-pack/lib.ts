// Shared helpers for the policies: type tokens, reading properties that a preview may not know
// yet, joining resources through property dependencies, and config with the schema's defaults.
import type { PolicyConfigSchema, PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

/** @pulumi/aws v7 type tokens the policies look at. */
export const T = {
    bucket: "aws:s3/bucket:Bucket",
    bucketSse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    bucketLifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    ecrRepository: "aws:ecr/repository:Repository",
    ecrLifecyclePolicy: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    rdsCluster: "aws:rds/cluster:Cluster",
    rdsClusterParameterGroup: "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    rdsClusterInstance: "aws:rds/clusterInstance:ClusterInstance",
    rdsInstance: "aws:rds/instance:Instance",
    kmsKey: "aws:kms/key:Key",
    snsTopic: "aws:sns/topic:Topic",
    lbListener: "aws:lb/listener:Listener",
    albListener: "aws:alb/listener:Listener",
    lbListenerRule: "aws:lb/listenerRule:ListenerRule",
    albListenerRule: "aws:alb/listenerRule:ListenerRule",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    albLoadBalancer: "aws:alb/loadBalancer:LoadBalancer",
    taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
    ecsService: "aws:ecs/service:Service",
    natGateway: "aws:ec2/natGateway:NatGateway",
    egressOnlyGateway: "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
    internetGateway: "aws:ec2/internetGateway:InternetGateway",
    route: "aws:ec2/route:Route",
    routeTable: "aws:ec2/routeTable:RouteTable",
    defaultRouteTable: "aws:ec2/defaultRouteTable:DefaultRouteTable",
    mainRouteTableAssociation: "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation",
    routeTableAssociation: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    subnet: "aws:ec2/subnet:Subnet",
    vpc: "aws:ec2/vpc:Vpc",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    defaultSecurityGroup: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    securityGroupEgressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
} as const;

/** Marks a value the engine sent as unknown (computed during preview). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Maybe<V> = V | typeof UNKNOWN;

/** The policy SDK's proxy throws this (an internal class) when an unknown value is read. */
function isUnknownValueError(err: unknown): boolean {
    return err instanceof Error && /can't be known during preview/.test(err.message);
}

/**
 * Reads `path` under `props`, returning UNKNOWN instead of throwing when a preview does not know it.
 * Stack policies use this so one unknown value does not turn the whole policy into an advisory.
 */
export function read(props: unknown, ...path: Array<string | number>): Maybe<any> {
    let value: any = props;
    for (const key of path) {
        if (value === undefined || value === null) return undefined;
        try {
            value = value[key];
        } catch (err) {
            if (isUnknownValueError(err)) return UNKNOWN;
            throw err;
        }
    }
    return value;
}

/** True when `key` is set (known or not): `in` does not trip the unknown-value proxy. */
export function isSet(props: unknown, key: string): boolean {
    return typeof props === "object" && props !== null && key in props && read(props, key) !== undefined && read(props, key) !== null;
}

/** The array under `path`, or [] when absent; UNKNOWN when the preview does not know it. */
export function list(props: unknown, ...path: Array<string | number>): Maybe<any[]> {
    const v = read(props, ...path);
    if (v === UNKNOWN) return UNKNOWN;
    if (v === undefined || v === null) return [];
    return Array.isArray(v) ? Array.from({ length: v.length }, (_, i) => read(v, i)) : [v];
}

/** Resources `property` of `r` was built from (the engine's property dependencies). */
export function dependenciesOf(r: PolicyResource, property: string, type?: string): PolicyResource[] {
    return (r.propertyDependencies[property] ?? []).filter((d) => type === undefined || d.type === type);
}

/** Resources of `type` whose `property` was built from `target` (e.g. the lifecycle config of a bucket). */
export function referencing(resources: PolicyResource[], type: string, property: string, target: PolicyResource): PolicyResource[] {
    return resources.filter((r) => r.type === type && dependenciesOf(r, property).some((d) => d.urn === target.urn));
}

/** `type "name"`, how messages name a resource. */
export function describe(r: { type: string; name: string }): string {
    return `${r.type.split(":").pop()} "${r.name}"`;
}

/** Config properties with their schema defaults, so a pack run without `Configure` behaves the same. */
export function configOf<C extends object>(schema: PolicyConfigSchema, given: object): C {
    const defaults = Object.fromEntries(Object.entries(schema.properties)
        .filter(([, s]) => typeof s === "object" && s.default !== undefined)
        .map(([k, s]) => [k, (s as PolicyConfigJSONSchema).default]));
    return { ...defaults, ...given } as C;
}

/** Parses JSON text, returning undefined when it is not JSON. */
export function parseJson(text: unknown): any {
    if (typeof text !== "string") return undefined;
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** Prefix length of a CIDR, or undefined when it is not one. */
export function prefixLength(cidr: unknown): { family: 4 | 6; bits: number } | undefined {
    if (typeof cidr !== "string") return undefined;
    const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(cidr.trim());
    if (!m) return undefined;
    return { family: m[1].includes(":") ? 6 : 4, bits: Number(m[2]) };
}

/** True when a CIDR is the internet or a large share of it (shorter than the given prefix lengths). */
export function isInternetWide(cidr: unknown, minIpv4 = 8, minIpv6 = 16): boolean {
    const p = prefixLength(cidr);
    if (!p) return false;
    return p.family === 4 ? p.bits < minIpv4 : p.bits < minIpv6;
}

// ---------------------------------------------------------------------------------------------
// Policy builders: one place that wires description, schema and config defaults together.
// ---------------------------------------------------------------------------------------------

interface PolicyMeta {
    name: string;
    description: string;
    configSchema: PolicyConfigSchema;
}

/** A resource policy over `types`; `check` receives the props, the config and a reporter. */
export function resourcePolicy<C extends object>(meta: PolicyMeta & {
    types: string[];
    check: (r: { type: string; name: string; urn: string; props: Record<string, any> }, config: C, report: (message: string) => void) => void;
}): ResourceValidationPolicy {
    return {
        name: meta.name,
        description: meta.description,
        enforcementLevel: "mandatory",
        configSchema: meta.configSchema,
        validateResource: (args, reportViolation) => {
            if (!meta.types.includes(args.type)) return;
            const config = configOf<C>(meta.configSchema, args.getConfig());
            if (isExempt(config, args.name)) return;
            meta.check({ type: args.type, name: args.name, urn: args.urn, props: args.props }, config, (message) => reportViolation(message));
        },
    };
}

/** A stack policy; `check` sees every resource and reports against a resource's URN. */
export function stackPolicy<C extends object>(meta: PolicyMeta & {
    check: (resources: PolicyResource[], config: C, report: (r: PolicyResource, message: string) => void, args: StackValidationArgs) => void;
}): StackValidationPolicy {
    return {
        name: meta.name,
        description: meta.description,
        enforcementLevel: "mandatory",
        configSchema: meta.configSchema,
        validateStack: (args, reportViolation: ReportViolation) => {
            const config = configOf<C>(meta.configSchema, args.getConfig());
            meta.check(args.resources, config, (r, message) => {
                if (!isExempt(config, r.name)) reportViolation(message, r.urn);
            }, args);
        },
    };
}

function isExempt(config: object, name: string): boolean {
    const exempt = (config as { exempt?: unknown }).exempt;
    return Array.isArray(exempt) && exempt.includes(name);
}

/** Resource names (logical Pulumi names) a policy skips; every policy that has nothing else to tune offers it. */
export const exemptSchema: PolicyConfigJSONSchema = {
    type: "array",
    items: { type: "string" },
    default: [],
    description: "Pulumi resource names this policy skips (document why next to the entry).",
};
