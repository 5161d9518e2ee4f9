// Typed, validated stack settings: the only module that reads pulumi.Config.
//
// Every project setting is a flat key in the `backend-infra:` namespace, declared with its type and
// default in Pulumi.yaml and set per stack in Pulumi.<stack>.yaml. `parseSettings` is a pure function
// (unit-tested without mocks); `loadSettings` feeds it the running stack's configuration. Any problem
// stops the program before a resource is registered, with the key, the bad value and the stack file.
import * as pulumi from "@pulumi/pulumi";
import { Netmask } from "netmask";
import { z } from "zod";

export const PROJECT = "backend-infra";

/** Retention values CloudWatch Logs accepts (PutRetentionPolicy). */
export const CLOUDWATCH_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Interface endpoints the platform cannot run without: image pulls, FireLens/awslogs, the DB secret. */
export const REQUIRED_INTERFACE_ENDPOINTS = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"] as const;

/** Interface endpoint services a stack may add (com.amazonaws.<region>.<service>). */
export const KNOWN_INTERFACE_ENDPOINTS = [
    ...REQUIRED_INTERFACE_ENDPOINTS,
    "ecs", "ecs-agent", "ecs-telemetry", "kms", "monitoring", "sts", "ssm", "ssmmessages", "ec2messages",
    "sqs", "sns", "events", "xray", "elasticloadbalancing", "rds", "execute-api",
] as const;

/** Aurora PostgreSQL provisioned instance classes (db.t3/t4g burstable, r5/r6g/r6i/r7g/r7i/r8g memory optimised). */
export const AURORA_POSTGRES_INSTANCE_CLASSES: readonly string[] = [
    "db.t3.medium", "db.t3.large", "db.t4g.medium", "db.t4g.large",
    ...["r5", "r6i", "r7i"].flatMap((f) =>
        ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"].map((s) => `db.${f}.${s}`)),
    ...["r6g", "r7g", "r8g"].flatMap((f) =>
        ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"].map((s) => `db.${f}.${s}`)),
];

/** Fargate task sizes: CPU units → the memory values (MiB) Fargate accepts with them. */
export const FARGATE_CPU_MEMORY: Readonly<Record<number, readonly number[]>> = {
    256: [512, 1024, 2048],
    512: range(1024, 4096, 1024),
    1024: range(2048, 8192, 1024),
    2048: range(4096, 16384, 1024),
    4096: range(8192, 30720, 1024),
    8192: range(16384, 61440, 4096),
    16384: range(32768, 122880, 8192),
};

/** Master user names RDS reserves or that every scanner tries first. */
const DEFAULT_DB_USERNAMES = ["postgres", "admin", "root", "rdsadmin", "master", "user", "administrator"];

function range(from: number, to: number, step: number): number[] {
    const out: number[] = [];
    for (let v = from; v <= to; v += step) out.push(v);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Field types
// ---------------------------------------------------------------------------------------------

const ipv4Cidr = z.string().refine((v) => parseCidr(v) !== undefined, {
    message: "is not an IPv4 CIDR block like 10.0.0.0/16 (network address, then /prefix)",
});
const retentionDays = z.number().int().refine((v) => (CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(v), {
    message: `is not a retention CloudWatch Logs accepts (${CLOUDWATCH_RETENTION_DAYS.join(", ")})`,
});
const percent = z.number().gt(0).lte(100);
const positiveInt = z.number().int().positive();
const hhmm = "([01]\\d|2[0-3]):[0-5]\\d";
const backupWindow = z.string().regex(new RegExp(`^${hhmm}-${hhmm}$`), {
    message: 'is not a daily UTC window like "17:00-18:00"',
});
const day = "(mon|tue|wed|thu|fri|sat|sun)";
const maintenanceWindow = z.string().regex(new RegExp(`^${day}:${hhmm}-${day}:${hhmm}$`), {
    message: 'is not a weekly UTC window like "sun:18:30-sun:19:30"',
});
const email = z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { message: "is not an e-mail address" });
const hostname = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/, {
    message: "is not a lower-case DNS name like example.com",
});

// ---------------------------------------------------------------------------------------------
// One schema per area. Defaults live in Pulumi.yaml only, so every key here is required unless it
// is genuinely optional (an empty value means "not used").
// ---------------------------------------------------------------------------------------------

export const protectionSchema = z.strictObject({
    /** true: stateful resources get `protect`, deletion protection, final snapshots, retention. */
    protectStatefulResources: z.boolean(),
});

export const networkSchema = z.strictObject({
    vpcCidr: ipv4Cidr,
    availabilityZoneCount: z.number().int().min(2, { message: "must be at least 2 (the ALB and Aurora need two AZs)" }).max(6),
    subnetPrefixLength: z.number().int().min(16).max(28),
    interfaceEndpointServices: z.array(z.enum(KNOWN_INTERFACE_ENDPOINTS, {
        message: `is not an interface endpoint service this project knows (${KNOWN_INTERFACE_ENDPOINTS.join(", ")})`,
    })),
    logRetentionDays: retentionDays,
});

export const logsSchema = z.strictObject({
    logArchiveAfterDays: positiveInt,
    logExpireAfterDays: positiveInt,
    logNoncurrentExpireAfterDays: positiveInt,
});

export const databaseSchema = z.strictObject({
    dbInstanceClass: z.string().refine((v) => AURORA_POSTGRES_INSTANCE_CLASSES.includes(v), {
        message: "is not an instance class Aurora PostgreSQL offers (e.g. db.t4g.medium, db.r6g.large)",
    }),
    dbReaderCount: z.number().int().min(0).max(15),
    dbBackupRetentionDays: z.number().int().min(1).max(35),
    dbBackupWindow: backupWindow,
    dbMaintenanceWindow: maintenanceWindow,
    dbName: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, { message: "must start with a letter and hold only a-z, 0-9 and _" }),
    dbMasterUsername: z.string()
        .regex(/^[a-z][a-z0-9_]{0,62}$/, { message: "must start with a letter and hold only a-z, 0-9 and _" })
        .refine((v) => !DEFAULT_DB_USERNAMES.includes(v), { message: `must not be a default name (${DEFAULT_DB_USERNAMES.join(", ")})` }),
    dbSlowQueryMs: z.number().int().min(0).max(2147483647), // log_min_duration_statement's range (0 logs every statement)
    dbReaderAutoScaling: z.boolean(),
    dbReaderMinCount: z.number().int().min(1).max(15),
    dbReaderMaxCount: z.number().int().min(1).max(15),
    dbReaderCpuTarget: percent,
});

export const serviceSchema = z.strictObject({
    appImage: z.string().optional(),
    appImageTag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, { message: "is not a Docker image tag" }).optional(),
    appPort: z.number().int().min(1024).max(65535),
    healthCheckPath: z.string().regex(/^\/[\x21-\x7e]*$/, { message: 'must be a URL path starting with "/"' }),
    cpuArchitecture: z.enum(["X86_64", "ARM64"], { message: "must be X86_64 or ARM64" }),
    taskCpu: z.number().int(),
    taskMemory: z.number().int(),
    desiredCount: z.number().int().min(1),
    minTaskCount: z.number().int().min(1),
    maxTaskCount: z.number().int().min(1),
    scalingCpuTarget: percent,
    scalingMemoryTarget: percent,
    healthCheckGracePeriodSeconds: z.number().int().min(0).max(2147483647),
    deregistrationDelaySeconds: z.number().int().min(0).max(3600),
    certificateArn: z.string().regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, {
        message: "is not an ACM certificate ARN",
    }).optional(),
    domainName: hostname.optional(),
    hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, { message: "is not a Route 53 hosted zone ID (Z…)" }).optional(),
    apiHostPrefix: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { message: "is not a DNS label" }),
    wafRateLimit: z.number().int().min(10).max(2000000000),
});

export const alertsSchema = z.strictObject({
    alertEmails: z.array(email),
    alarm5xxRatePercent: percent,
    alarmLatencyMs: positiveInt,
    alarmEcsCpuPercent: percent,
    alarmEcsMemoryPercent: percent,
    alarmDbCpuPercent: percent,
    alarmDbConnections: positiveInt,
    alarmDbFreeableMemoryMiB: positiveInt,
    alarmDbFreeLocalStorageMiB: positiveInt,
    alarmErrorLogCriticalCount: positiveInt,
});

const AREAS = {
    protection: protectionSchema,
    network: networkSchema,
    logs: logsSchema,
    database: databaseSchema,
    service: serviceSchema,
    alerts: alertsSchema,
} as const;

export type ProtectionSettings = z.infer<typeof protectionSchema>;
export type NetworkSettings = z.infer<typeof networkSchema>;
export type LogsSettings = z.infer<typeof logsSchema>;
export type DatabaseSettings = z.infer<typeof databaseSchema>;
export type ServiceSettings = z.infer<typeof serviceSchema>;
export type AlertsSettings = z.infer<typeof alertsSchema>;

export interface Settings {
    project: string;
    stack: string;
    /** The file a user edits for this stack, named in every error. */
    stackFile: string;
    /** Things a preview should tell the user that do not stop it (placeholders that `pulumi up` refuses). */
    notices: string[];
    region: string;
    protection: ProtectionSettings;
    network: NetworkSettings;
    logs: LogsSettings;
    database: DatabaseSettings;
    service: ServiceSettings;
    alerts: AlertsSettings;
}

/** Every project key, with the area that owns it. */
export const SETTING_KEYS: Readonly<Record<string, keyof typeof AREAS>> = Object.fromEntries(
    Object.entries(AREAS).flatMap(([area, schema]) => Object.keys(schema.shape).map((k) => [k, area as keyof typeof AREAS])),
);

/** Keys whose values are strings even when they look like numbers (e.g. an image tag "1.0"). */
const STRING_KEYS = new Set(
    Object.values(AREAS).flatMap((schema) =>
        Object.entries(schema.shape as Record<string, z.ZodType>)
            .filter(([, field]) => unwrapOptional(field).def.type === "string")
            .map(([k]) => k)),
);

/**
 * Optional keys. Pulumi.yaml declares them with `default: ""` (the CLI refuses a stack that leaves a
 * declared key without a default unset), so an empty string means "not set".
 */
export const OPTIONAL_KEYS: ReadonlySet<string> = new Set(
    Object.values(AREAS).flatMap((schema) =>
        Object.entries(schema.shape as Record<string, z.ZodType>)
            .filter(([, field]) => field instanceof z.ZodOptional)
            .map(([k]) => k)),
);

function unwrapOptional(field: z.ZodType): z.ZodType {
    return field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/** A RunError, so the Pulumi CLI prints the message alone, without a stack trace. */
export class SettingsError extends pulumi.RunError {
    constructor(readonly stackFile: string, readonly problems: string[]) {
        super(`Invalid stack settings in ${stackFile}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "SettingsError";
    }
}

export interface RawStackConfig {
    stack: string;
    /** Fully qualified keys (`backend-infra:vpcCidr`, `aws:region`) to values as the Pulumi runtime holds them. */
    values: Record<string, string>;
    /**
     * true for `pulumi up` (resources will really be created), false for a preview. Settings that
     * are only placeholders (a documentation domain) pass a preview with a notice and stop an update.
     */
    deploying?: boolean;
}

/** Stack names become part of AWS names (buckets, clusters, log groups): keep them short and lower-case. */
const STACK_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** Domains reserved for documentation and tests (RFC 2606, RFC 6761): never a real deployment's. */
export function isReservedDomain(domain: string): boolean {
    return /(^|\.)example\.(com|net|org)$/.test(domain) || /\.(example|test|invalid|localhost)$/.test(domain);
}

/**
 * Validates a stack's configuration. Values are the strings the Pulumi runtime holds (structured
 * values are JSON). Throws a SettingsError listing every problem, each with key, value and file.
 */
export function parseSettings(raw: RawStackConfig): Settings {
    const stackFile = `Pulumi.${raw.stack}.yaml`;
    const problems: string[] = [];
    const say = (key: string, value: unknown, message: string) =>
        problems.push(`${key} = ${value === undefined ? "(not set)" : JSON.stringify(value)}: ${message}`);

    if (!STACK_NAME.test(raw.stack)) {
        problems.push(`stack "${raw.stack}": stack names become part of AWS resource names; use 1–20 lower-case letters, digits and hyphens, starting with a letter`);
    }
    const region = raw.values["aws:region"];
    if (!region) {
        say("aws:region", undefined, "the AWS region is required (e.g. ap-northeast-1)");
    } else if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region)) {
        say("aws:region", region, "is not an AWS region name like ap-northeast-1");
    }

    const byArea: Record<string, Record<string, unknown>> = Object.fromEntries(Object.keys(AREAS).map((a) => [a, {}]));
    for (const [fullKey, rawValue] of Object.entries(raw.values)) {
        const [namespace, key] = splitKey(fullKey);
        if (namespace !== PROJECT) continue;
        const area = SETTING_KEYS[key];
        if (!area) {
            const hint = closestKey(key);
            say(fullKey, rawValue, `unknown setting${hint ? ` (did you mean ${PROJECT}:${hint}?)` : ""}`);
            continue;
        }
        if (OPTIONAL_KEYS.has(key) && rawValue === "") continue;
        byArea[area][key] = STRING_KEYS.has(key) ? rawValue : decodeValue(rawValue);
    }

    const parsed: Record<string, unknown> = {};
    for (const [area, schema] of Object.entries(AREAS)) {
        const result = (schema as z.ZodType).safeParse(byArea[area]);
        if (result.success) {
            parsed[area] = result.data;
            continue;
        }
        for (const issue of result.error.issues) {
            const key = String(issue.path[0] ?? "");
            const value = issue.path.reduce<unknown>((v, p) => (v as Record<PropertyKey, unknown> | undefined)?.[p as PropertyKey], byArea[area]);
            const where = issue.path.length > 1 ? ` (item ${issue.path.slice(1).join(".")})` : "";
            say(`${PROJECT}:${key}`, value, describeIssue(issue, value) + where);
        }
    }
    if (problems.length > 0) throw new SettingsError(stackFile, problems);

    const settings: Settings = {
        project: PROJECT,
        stack: raw.stack,
        stackFile,
        region: region!,
        notices: [],
        ...(parsed as Pick<Settings, keyof typeof AREAS>),
    };
    crossCheck(settings, say);
    const domain = settings.service.domainName;
    if (domain !== undefined && isReservedDomain(domain)) {
        const what = `${domain} is a placeholder reserved for documentation (RFC 2606): set ${PROJECT}:domainName and ${PROJECT}:hostedZoneId to your own domain and Route 53 zone, or ${PROJECT}:certificateArn, before deploying`;
        if (raw.deploying) say(`${PROJECT}:domainName`, domain, what);
        else settings.notices.push(`${PROJECT}:domainName in ${stackFile}: ${what}; a preview goes on, \`pulumi up\` stops here.`);
    }
    if (problems.length > 0) throw new SettingsError(stackFile, problems);
    return settings;
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
    if (issue.code === "invalid_type") {
        return value === undefined ? "is required (declare a default in Pulumi.yaml or set it for the stack)" : `must be ${issue.expected === "number" ? "a number" : `of type ${issue.expected}`}`;
    }
    return issue.message.replace(/^Invalid input: /, "");
}

/** Rules that span several keys. */
function crossCheck(s: Settings, say: (key: string, value: unknown, message: string) => void): void {
    const k = (key: string) => `${PROJECT}:${key}`;
    const prod = s.protection.protectStatefulResources;

    // Network: every AZ needs a public and a private subnet inside the VPC.
    const vpc = parseCidr(s.network.vpcCidr)!;
    // Public subnets come from the VPC's first half and private ones from its second half (see
    // components/network.ts), so each half must hold one subnet per AZ.
    const perHalf = s.network.subnetPrefixLength < vpc.bitmask + 1 ? 0 : 2 ** (s.network.subnetPrefixLength - vpc.bitmask - 1);
    if (perHalf < s.network.availabilityZoneCount) {
        say(k("vpcCidr"), s.network.vpcCidr,
            `is too small for ${s.network.availabilityZoneCount} AZs with /${s.network.subnetPrefixLength} subnets: each half of the VPC (public, private) holds ${perHalf}`);
    }
    if (vpc.bitmask < 16 || vpc.bitmask > 28) {
        say(k("vpcCidr"), s.network.vpcCidr, "must have a prefix between /16 and /28 (the VPC limits)");
    }
    const missing = REQUIRED_INTERFACE_ENDPOINTS.filter((e) => !s.network.interfaceEndpointServices.includes(e));
    if (missing.length > 0) {
        say(k("interfaceEndpointServices"), s.network.interfaceEndpointServices,
            `must include ${missing.join(", ")}: without them the private subnets cannot pull images, ship logs or read the DB secret`);
    }
    const dupes = s.network.interfaceEndpointServices.filter((e, i, all) => all.indexOf(e) !== i);
    if (dupes.length > 0) say(k("interfaceEndpointServices"), s.network.interfaceEndpointServices, `lists ${dupes.join(", ")} twice`);

    // Logs: Glacier Flexible Retrieval bills 90 days minimum; expiring before archiving is a contradiction.
    if (s.logs.logExpireAfterDays <= s.logs.logArchiveAfterDays) {
        say(k("logExpireAfterDays"), s.logs.logExpireAfterDays, `must be greater than logArchiveAfterDays (${s.logs.logArchiveAfterDays})`);
    }

    // Database
    if (prod && s.database.dbReaderCount < 1) {
        say(k("dbReaderCount"), s.database.dbReaderCount, "must be at least 1 when protectStatefulResources is true (prod needs a reader in a second AZ)");
    }
    if (prod && s.database.dbBackupRetentionDays < 7) {
        say(k("dbBackupRetentionDays"), s.database.dbBackupRetentionDays, "must be at least 7 when protectStatefulResources is true");
    }
    if (s.database.dbReaderMinCount > s.database.dbReaderMaxCount) {
        say(k("dbReaderMinCount"), s.database.dbReaderMinCount, `must not exceed dbReaderMaxCount (${s.database.dbReaderMaxCount})`);
    }
    if (s.database.dbReaderAutoScaling && s.database.dbReaderCount < 1) {
        say(k("dbReaderAutoScaling"), true, "needs dbReaderCount of at least 1 (scaling adds readers to existing ones)");
    } else if (s.database.dbReaderAutoScaling
        && (s.database.dbReaderCount < s.database.dbReaderMinCount || s.database.dbReaderCount > s.database.dbReaderMaxCount)) {
        say(k("dbReaderCount"), s.database.dbReaderCount,
            `must lie between dbReaderMinCount (${s.database.dbReaderMinCount}) and dbReaderMaxCount (${s.database.dbReaderMaxCount}) when dbReaderAutoScaling is on`);
    }
    for (const [key, v] of [["dbBackupWindow", s.database.dbBackupWindow], ["dbMaintenanceWindow", s.database.dbMaintenanceWindow]] as const) {
        if (windowMinutes(v) < 30) say(k(key), v, "must be at least 30 minutes long");
    }
    if (windowsOverlap(s.database.dbBackupWindow, s.database.dbMaintenanceWindow)) {
        say(k("dbMaintenanceWindow"), s.database.dbMaintenanceWindow, `overlaps dbBackupWindow (${s.database.dbBackupWindow})`);
    }

    // Service
    const sv = s.service;
    if ((sv.appImage === undefined) === (sv.appImageTag === undefined)) {
        say(k("appImageTag"), sv.appImageTag,
            "set exactly one of appImage (a full image URI) and appImageTag (a tag in this stack's backend repository)");
    }
    if (sv.appImage !== undefined && !ecrImageInRegion(sv.appImage, s.region)) {
        say(k("appImage"), sv.appImage,
            `must be a private ECR image in ${s.region} with a tag or digest (<account>.dkr.ecr.${s.region}.amazonaws.com/<repository>:<tag>): the tasks reach no other registry`);
    }
    const memories = FARGATE_CPU_MEMORY[sv.taskCpu];
    if (!memories) {
        say(k("taskCpu"), sv.taskCpu, `is not a Fargate CPU value (${Object.keys(FARGATE_CPU_MEMORY).join(", ")})`);
    } else if (!memories.includes(sv.taskMemory)) {
        say(k("taskMemory"), sv.taskMemory, `is not a memory size Fargate accepts with taskCpu ${sv.taskCpu} (${describeSizes(memories)})`);
    }
    if (sv.minTaskCount > sv.maxTaskCount) {
        say(k("minTaskCount"), sv.minTaskCount, `must not exceed maxTaskCount (${sv.maxTaskCount})`);
    }
    if (sv.desiredCount < sv.minTaskCount || sv.desiredCount > sv.maxTaskCount) {
        say(k("desiredCount"), sv.desiredCount, `must lie between minTaskCount (${sv.minTaskCount}) and maxTaskCount (${sv.maxTaskCount})`);
    }
    if (prod && sv.desiredCount < 2) {
        say(k("desiredCount"), sv.desiredCount, "must be at least 2 when protectStatefulResources is true (one task per AZ)");
    }
    if (prod && sv.minTaskCount < 2) {
        say(k("minTaskCount"), sv.minTaskCount, "must be at least 2 when protectStatefulResources is true");
    }
    if (sv.certificateArn !== undefined && sv.domainName !== undefined) {
        say(k("certificateArn"), sv.certificateArn, "set either certificateArn or domainName with hostedZoneId, not both");
    }
    if ((sv.domainName === undefined) !== (sv.hostedZoneId === undefined)) {
        const [given, missingKey] = sv.domainName !== undefined ? ["domainName", "hostedZoneId"] : ["hostedZoneId", "domainName"];
        say(k(missingKey), undefined, `is required when ${given} is set (the certificate is validated and the alias created in that zone)`);
    }
    if (sv.certificateArn !== undefined && !sv.certificateArn.includes(`:acm:${s.region}:`)) {
        say(k("certificateArn"), sv.certificateArn, `must be a certificate in the stack's region ${s.region} (an ALB cannot use another region's certificate)`);
    }

    // Alerts: each address is subscribed once per topic; a repeat would clash with itself.
    const seen = new Set<string>();
    for (const address of s.alerts.alertEmails) {
        if (seen.has(address.toLowerCase())) say(k("alertEmails"), s.alerts.alertEmails, `lists ${address} more than once`);
        seen.add(address.toLowerCase());
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers (exported for tests)
// ---------------------------------------------------------------------------------------------

/** "1024–4096 MiB in steps of 1024" for an even range, else the sizes themselves ("512, 1024 or 2048 MiB"). */
export function describeSizes(sizes: readonly number[]): string {
    const step = sizes[1] - sizes[0];
    const even = sizes.length > 2 && sizes.every((v, i) => i === 0 || v - sizes[i - 1] === step);
    if (even) return `${sizes[0]}–${sizes[sizes.length - 1]} MiB in steps of ${step}`;
    return `${sizes.slice(0, -1).join(", ")} or ${sizes[sizes.length - 1]} MiB`;
}

/**
 * An image URI the tasks can pull: a private ECR repository in `region` (FIPS endpoint too), with a
 * tag or digest. The tasks have no internet route, only this region's ECR endpoints.
 */
export function ecrImageInRegion(uri: string, region: string): boolean {
    const host = `\\d{12}\\.dkr\\.ecr(-fips)?\\.${region.replace(/-/g, "\\-")}\\.amazonaws\\.com`;
    return new RegExp(`^${host}/[a-z0-9._/-]+(:[\\w.-]+|@sha256:[0-9a-f]{64})$`).test(uri);
}

/** A CIDR with its network address exactly at the block's start, or undefined. */
export function parseCidr(value: string): Netmask | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) return undefined;
    try {
        const block = new Netmask(value);
        return block.base === value.split("/")[0] ? block : undefined;
    } catch {
        return undefined;
    }
}

function splitKey(fullKey: string): [string, string] {
    const i = fullKey.indexOf(":");
    return i < 0 ? [PROJECT, fullKey] : [fullKey.slice(0, i), fullKey.slice(i + 1)];
}

function decodeValue(raw: string): unknown {
    try {
        return JSON.parse(raw);
    } catch {
        return raw;
    }
}

function closestKey(key: string): string | undefined {
    let best: [string, number] | undefined;
    for (const candidate of Object.keys(SETTING_KEYS)) {
        const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
        if (d <= 3 && (!best || d < best[1])) best = [candidate, d];
    }
    return best?.[0];
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = tmp;
        }
    }
    return row[b.length];
}

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEK = 7 * 1440;

/** [start, end) in minutes of the week; a daily window yields one interval per day. */
function windowIntervals(window: string): Array<[number, number]> {
    const parts = window.split("-");
    const toMin = (p: string) => {
        const bits = p.split(":");
        const [d, h, m] = bits.length === 3 ? bits : [undefined, ...bits];
        return { day: d === undefined ? undefined : DAYS.indexOf(d), min: Number(h) * 60 + Number(m) };
    };
    const [a, b] = parts.map(toMin);
    if (a.day === undefined) {
        const len = (b.min - a.min + 1440) % 1440;
        return DAYS.map((_, d) => [d * 1440 + a.min, d * 1440 + a.min + len] as [number, number]);
    }
    const start = a.day * 1440 + a.min;
    const len = ((b.day! * 1440 + b.min) - start + WEEK) % WEEK;
    return [[start, start + len]];
}

export function windowMinutes(window: string): number {
    const [[start, end]] = windowIntervals(window);
    return end - start;
}

export function windowsOverlap(x: string, y: string): boolean {
    // Compare over two weeks so windows that wrap past Sunday midnight still meet.
    const shifted = (iv: Array<[number, number]>) => iv.flatMap(([s, e]) => [[s, e], [s + WEEK, e + WEEK]] as Array<[number, number]>);
    const xs = shifted(windowIntervals(x));
    const ys = shifted(windowIntervals(y));
    return xs.some(([s1, e1]) => ys.some(([s2, e2]) => s1 < e2 && s2 < e1));
}

/** The running stack's settings. Called once, by index.ts, before any resource is created. */
export function loadSettings(): Settings {
    const settings = parseSettings({ stack: pulumi.getStack(), values: pulumi.runtime.allConfig(), deploying: !pulumi.runtime.isDryRun() });
    for (const notice of settings.notices) pulumi.log.warn(notice);
    return settings;
}
