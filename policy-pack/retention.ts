// Retention: logs, objects, images and backups are kept for a bounded, configured time.
import type { Policies } from "@pulumi/policy";
import { describe, exemptSchema, list, parseJson, read, referencing, resourcePolicy, stackPolicy, T, UNKNOWN } from "./lib";

/** Values CloudWatch Logs accepts for retentionInDays (0 means never expire and is refused here). */
export const CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export const logGroupRetention = resourcePolicy<{ retentionDays: number; exceptions: Record<string, number> }>({
    name: "cloudwatch-log-group-retention",
    description: "Checks that every CloudWatch log group expires its events after the stack's retention (or a per-group exception), never keeping them forever.",
    configSchema: {
        properties: {
            retentionDays: { type: "integer", enum: CLOUDWATCH_RETENTION_DAYS, default: 30, description: "Required retentionInDays (the stack's logRetentionDays)." },
            exceptions: {
                type: "object",
                additionalProperties: { type: "integer", enum: CLOUDWATCH_RETENTION_DAYS },
                default: {},
                description: "Log group name or Pulumi resource name → the retention it must have instead.",
            },
        },
    },
    types: [T.logGroup],
    check: (r, config, report) => {
        const groupName = read(r.props, "name");
        const exception = config.exceptions[r.name] ?? (typeof groupName === "string" ? config.exceptions[groupName] : undefined);
        const want = exception ?? config.retentionDays;
        const why = exception !== undefined ? "its configured exception" : "the stack's log retention";
        const days = read(r.props, "retentionInDays");
        if (days === UNKNOWN) {
            report(`${describe(r)} has a retention that is unknown until apply; set retentionInDays: ${want} (${why}) as a plain value.`);
        } else if (read(r.props, "logGroupClass") === "DELIVERY") {
            report(`${describe(r)} uses logGroupClass DELIVERY, which CloudWatch pins to 2 days of retention; use the STANDARD class with retentionInDays: ${want} (${why}).`);
        } else if (days === undefined || days === null || days === 0) {
            report(`${describe(r)} keeps its logs forever; set retentionInDays: ${want} (${why}).`);
        } else if (days !== want) {
            report(`${describe(r)} keeps its logs ${days} days; set retentionInDays: ${want} (${why}).`);
        }
    },
});

interface LifecycleConfig {
    maxExpirationDays: number;
    maxNoncurrentVersionDays: number;
    archivePrefixes: string[];
    archiveStorageClasses: string[];
    maxArchiveDays: number;
    exempt: string[];
}

/** The key prefix a lifecycle rule is limited to ("" for the whole bucket), or UNKNOWN. */
function rulePrefix(rule: unknown): string | typeof UNKNOWN {
    for (const path of [["filter", "prefix"], ["filter", "and", "prefix"], ["prefix"]]) {
        const p = read(rule, ...path);
        if (p === UNKNOWN) return UNKNOWN;
        if (typeof p === "string") return p;
    }
    return "";
}

export const bucketLifecycle = stackPolicy<LifecycleConfig>({
    name: "s3-bucket-lifecycle",
    description: "Checks that every S3 bucket has a lifecycle configuration that expires current objects within the maximum, expires noncurrent versions when versioned, and moves log prefixes to Glacier by the configured day.",
    configSchema: {
        properties: {
            maxExpirationDays: { type: "integer", minimum: 1, default: 365, description: "Current objects must expire within this many days (the stack's logExpireAfterDays)." },
            maxNoncurrentVersionDays: { type: "integer", minimum: 1, default: 30, description: "Noncurrent versions of versioned buckets must expire within this many days." },
            archivePrefixes: { type: "array", items: { type: "string" }, default: ["logs/"], description: "Key prefixes holding logs; rules for them must transition to an archive class." },
            archiveStorageClasses: { type: "array", items: { type: "string" }, default: ["GLACIER", "DEEP_ARCHIVE"], description: "Storage classes that count as Glacier." },
            maxArchiveDays: { type: "integer", minimum: 0, default: 90, description: "Log prefixes must move to an archive class by this day (the stack's logArchiveAfterDays)." },
            exempt: exemptSchema,
        },
    },
    check: (resources, config, report) => {
        for (const bucket of resources.filter((r) => r.type === T.bucket)) {
            const configs = referencing(resources, T.bucketLifecycle, "bucket", bucket);
            if (configs.length === 0) {
                report(bucket, `${describe(bucket)} has no lifecycle configuration; add an aws.s3.BucketLifecycleConfiguration for it whose rules expire objects within ${config.maxExpirationDays} days.`);
                continue;
            }
            const rules = configs.flatMap((c) => { const l = list(c.props, "rules"); return l === UNKNOWN ? [] : l; })
                .filter((rule) => read(rule, "status") === "Enabled");
            const expiryDays = rules.map((rule) => read(rule, "expiration", "days")).filter((d): d is number => typeof d === "number");
            if (!expiryDays.some((d) => d <= config.maxExpirationDays)) {
                report(bucket, `${describe(bucket)} never expires its current objects; give an enabled lifecycle rule expiration.days of at most ${config.maxExpirationDays}.`);
            }
            for (const d of expiryDays.filter((d) => d > config.maxExpirationDays)) {
                report(bucket, `${describe(bucket)} keeps objects ${d} days; lower the rule's expiration.days to at most ${config.maxExpirationDays}.`);
            }
            const versioned = referencing(resources, T.bucketVersioning, "bucket", bucket)
                .some((v) => read(v.props, "versioningConfiguration", "status") === "Enabled");
            if (versioned) {
                const noncurrent = rules.map((rule) => read(rule, "noncurrentVersionExpiration", "noncurrentDays")).filter((d): d is number => typeof d === "number");
                if (!noncurrent.some((d) => d <= config.maxNoncurrentVersionDays)) {
                    report(bucket, `${describe(bucket)} is versioned but never expires noncurrent versions; give an enabled rule noncurrentVersionExpiration.noncurrentDays of at most ${config.maxNoncurrentVersionDays}.`);
                }
            }
            for (const rule of rules) {
                const prefix = rulePrefix(rule);
                if (prefix === UNKNOWN || !config.archivePrefixes.some((p) => prefix.startsWith(p))) continue;
                const transitions = list(rule, "transitions");
                const archived = transitions !== UNKNOWN && transitions.some((t) =>
                    config.archiveStorageClasses.includes(read(t, "storageClass")) && typeof read(t, "days") === "number" && read(t, "days") <= config.maxArchiveDays);
                if (!archived) {
                    report(bucket, `${describe(bucket)} does not move "${prefix}" to Glacier in time; give rule "${read(rule, "id")}" a transition to ${config.archiveStorageClasses[0]} at day ${config.maxArchiveDays} or earlier.`);
                }
            }
        }
    },
});

export const ecrLifecycle = stackPolicy<{ exempt: string[] }>({
    name: "ecr-repository-lifecycle-policy",
    description: "Checks that every ECR repository has a lifecycle policy with at least one rule, so old images expire.",
    configSchema: { properties: { exempt: exemptSchema } },
    check: (resources, _config, report) => {
        for (const repo of resources.filter((r) => r.type === T.ecrRepository)) {
            const policies = referencing(resources, T.ecrLifecyclePolicy, "repository", repo);
            if (policies.length === 0) {
                report(repo, `${describe(repo)} has no lifecycle policy; add an aws.ecr.LifecyclePolicy for it that expires untagged and old images.`);
                continue;
            }
            for (const p of policies) {
                const text = read(p.props, "policy");
                if (text === UNKNOWN) continue;
                const rules = parseJson(text)?.rules;
                if (!Array.isArray(rules) || rules.length === 0) {
                    report(repo, `${describe(repo)}'s lifecycle policy ${describe(p)} has no rules; give it at least one rule that expires images.`);
                }
            }
        }
    },
});

export const auroraBackupRetention = resourcePolicy<{ minimumDays: number }>({
    name: "aurora-backup-retention",
    description: "Checks that every RDS/Aurora cluster keeps automated backups for at least the configured number of days.",
    configSchema: {
        properties: {
            minimumDays: { type: "integer", minimum: 1, maximum: 35, default: 7, description: "Minimum backupRetentionPeriod (the stack's dbBackupRetentionDays floor)." },
        },
    },
    types: [T.rdsCluster],
    check: (r, config, report) => {
        const days = r.props.backupRetentionPeriod; // an unknown value makes the SDK report "can't run during preview"
        const effective = days === undefined || days === null ? 1 : days; // RDS's default is 1 day
        if (effective < config.minimumDays) {
            report(`${describe(r)} keeps backups ${effective} day(s)${days === undefined ? " (the RDS default)" : ""}; set backupRetentionPeriod to at least ${config.minimumDays}.`);
        }
    },
});

export const retentionPolicies: Policies = [logGroupRetention, bucketLifecycle, ecrLifecycle, auroraBackupRetention];
