// Retention: logs, objects, images and backups are kept for a bounded, configured time.
import type { Policies, PolicyResource } from "@pulumi/policy";
import { dependenciesOf, describe, exemptSchema, list, parseJson, read, referencing, resourcePolicy, stackPolicy, T, UNKNOWN } from "./lib";

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
    logBucketTags: Record<string, string>;
    logBucketNamePattern: string;
    exempt: string[];
}

/** Load balancer settings that deliver logs to S3; Elastic Load Balancing writes them under `<prefix>/AWSLogs/<account-id>/`. */
const LOAD_BALANCER_LOGS: Array<[property: string, what: string]> = [["accessLogs", "access logs"], ["connectionLogs", "connection logs"]];

/**
 * The key prefixes of `bucket` that hold logs, each with why, known without looking at its lifecycle
 * rules: every `archivePrefixes` entry when the bucket carries a configured tag or its name (the
 * bucket name, or the Pulumi resource name, which every preview knows) matches the pattern; and
 * `<prefix>/AWSLogs/` for each load balancer that delivers logs into it (joined through the property
 * dependency, or the same known bucket name). A value a preview does not know adds nothing; it is
 * checked once known.
 */
function logPrefixesOf(bucket: PolicyResource, resources: PolicyResource[], config: LifecycleConfig): Map<string, string> {
    const out = new Map<string, string>();
    const add = (prefix: string, why: string) => { if (!out.has(prefix)) out.set(prefix, why); };

    const tag = Object.entries(config.logBucketTags).find(([key, value]) =>
        read(bucket.props, "tags", key) === value || read(bucket.props, "tagsAll", key) === value);
    const pattern = config.logBucketNamePattern === "" ? undefined : new RegExp(config.logBucketNamePattern);
    const bucketName = read(bucket.props, "bucket");
    const name = pattern && [bucketName, bucket.name].find((n): n is string => typeof n === "string" && pattern.test(n));
    const why = tag ? `it holds logs (tag ${tag[0]}=${tag[1]})` : name ? `it holds logs (its name "${name}" matches logBucketNamePattern)` : undefined;
    if (why) for (const prefix of config.archivePrefixes) if (prefix !== "") add(prefix, why);

    for (const lb of resources.filter((r) => r.type === T.loadBalancer || r.type === T.albLoadBalancer)) {
        for (const [property, what] of LOAD_BALANCER_LOGS) {
            const target = read(lb.props, property, "bucket");
            const joined = dependenciesOf(lb, property).some((d) => d.urn === bucket.urn)
                || (typeof target === "string" && typeof bucketName === "string" && target === bucketName);
            // ELB delivers nothing unless enabled is true (its default is false, even with a bucket).
            if (!joined || read(lb.props, property, "enabled") !== true) continue;
            const prefix = read(lb.props, property, "prefix");
            if (prefix === UNKNOWN) continue;
            const base = typeof prefix === "string" ? prefix.replace(/^\/+|\/+$/g, "") : "";
            add(`${base === "" ? "" : `${base}/`}AWSLogs/`, `${describe(lb)} delivers its ${what} there`);
        }
    }
    return out;
}

/** The key prefix a lifecycle rule is limited to ("" for the whole bucket), or UNKNOWN. */
function rulePrefix(rule: unknown): string | typeof UNKNOWN {
    // Provider state may carry an empty `filter.prefix` next to the real one under `filter.and`.
    for (const path of [["filter", "prefix"], ["filter", "and", "prefix"], ["prefix"]]) {
        const p = read(rule, ...path);
        if (p === UNKNOWN) return UNKNOWN;
        if (typeof p === "string" && p !== "") return p;
    }
    return "";
}

/** Filters besides the prefix that leave objects out of a rule (0, null and {} mean none). */
const NARROWING_FILTERS = [
    ["filter", "tag"], ["filter", "and", "tags"],
    ["filter", "objectSizeGreaterThan"], ["filter", "objectSizeLessThan"],
    ["filter", "and", "objectSizeGreaterThan"], ["filter", "and", "objectSizeLessThan"],
];

/** Whether a rule applies to every object of the bucket (no prefix, tag or size filter); UNKNOWN when a preview cannot tell. */
function coversWholeBucket(rule: unknown): boolean | typeof UNKNOWN {
    const prefix = rulePrefix(rule);
    if (prefix === UNKNOWN) return UNKNOWN;
    if (prefix !== "") return false;
    for (const path of NARROWING_FILTERS) {
        const v = read(rule, ...path);
        if (v === UNKNOWN) return UNKNOWN;
        const none = v === undefined || v === null || v === 0 || (typeof v === "object" && Object.keys(v).length === 0);
        if (!none) return false;
    }
    return true;
}

/** Whether `path` under the rule is a day count of at most `max` (an unknown one is given the benefit of the doubt). */
function within(rule: unknown, path: string[], max: number): boolean {
    const d = read(rule, ...path);
    return d === UNKNOWN || (typeof d === "number" && d <= max);
}

export const bucketLifecycle = stackPolicy<LifecycleConfig>({
    name: "s3-bucket-lifecycle",
    description: "Checks that every S3 bucket has a lifecycle configuration that expires current objects within the maximum, expires noncurrent versions when versioned, and moves the prefixes that hold logs (known from tags, names and load balancer log deliveries, not only from the rules) to Glacier by the configured day.",
    configSchema: {
        properties: {
            maxExpirationDays: { type: "integer", minimum: 1, default: 365, description: "Current objects must expire within this many days (the stack's logExpireAfterDays)." },
            maxNoncurrentVersionDays: { type: "integer", minimum: 1, default: 30, description: "Noncurrent versions of versioned buckets must expire within this many days." },
            archivePrefixes: { type: "array", items: { type: "string" }, default: ["logs/"], description: "Key prefixes holding logs: every log bucket (logBucketTags, logBucketNamePattern) must move each to an archive class, and so must a rule of any bucket that names one (or a key under one)." },
            archiveStorageClasses: { type: "array", items: { type: "string" }, default: ["GLACIER", "DEEP_ARCHIVE"], description: "Storage classes that count as Glacier." },
            maxArchiveDays: { type: "integer", minimum: 0, default: 90, description: "Log prefixes must move to an archive class by this day (the stack's logArchiveAfterDays)." },
            logBucketTags: { type: "object", additionalProperties: { type: "string" }, default: { DataClass: "logs" }, description: "Tags (key → value); a bucket carrying any of them (in tags or tagsAll) holds logs." },
            logBucketNamePattern: { type: "string", default: "(^|[-_.])logs?([-_.]|$)", description: "Regular expression; a bucket whose bucket name or Pulumi resource name matches holds logs (\"\" turns name matching off)." },
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
            const ruleLists = configs.map((c) => list(c.props, "rules"));
            // Rules a preview does not know yet are checked once they are known (on `pulumi up`).
            if (ruleLists.includes(UNKNOWN)) continue;
            const allRules = (ruleLists as unknown[][]).flat();
            const rules = allRules.filter((rule) => read(rule, "status") === "Enabled");
            // Only a rule without a filter reaches every object; one limited to a prefix leaves the rest forever.
            const whole = rules.filter((rule) => coversWholeBucket(rule) !== false);
            if (!whole.some((rule) => within(rule, ["expiration", "days"], config.maxExpirationDays))) {
                report(bucket, `${describe(bucket)} never expires all of its current objects; give an enabled lifecycle rule that applies to the whole bucket (no prefix, tag or size filter) expiration.days of at most ${config.maxExpirationDays}.`);
            }
            for (const d of rules.map((rule) => read(rule, "expiration", "days")).filter((d): d is number => typeof d === "number" && d > config.maxExpirationDays)) {
                report(bucket, `${describe(bucket)} keeps objects ${d} days; lower the rule's expiration.days to at most ${config.maxExpirationDays}.`);
            }
            const versioned = referencing(resources, T.bucketVersioning, "bucket", bucket)
                .some((v) => read(v.props, "versioningConfiguration", "status") === "Enabled");
            if (versioned && !whole.some((rule) => within(rule, ["noncurrentVersionExpiration", "noncurrentDays"], config.maxNoncurrentVersionDays))) {
                report(bucket, `${describe(bucket)} is versioned but never expires all of its noncurrent versions; give an enabled rule that applies to the whole bucket noncurrentVersionExpiration.noncurrentDays of at most ${config.maxNoncurrentVersionDays}.`);
            }
            // Every log prefix the rules name (enabled or not), and every prefix the bucket holds logs under
            // whatever its rules say, must reach an archive class in time through an enabled rule that covers
            // it: its own, a rule for a shorter prefix, or a whole-bucket rule.
            const archives = (rule: unknown) => {
                const transitions = list(rule, "transitions");
                return transitions === UNKNOWN || transitions.some((t) => {
                    const cls = read(t, "storageClass");
                    return (cls === UNKNOWN || config.archiveStorageClasses.includes(cls)) && within(t, ["days"], config.maxArchiveDays);
                });
            };
            const logPrefixes = new Map<string, { named?: unknown; why?: string }>();
            for (const rule of allRules) {
                const prefix = rulePrefix(rule);
                if (prefix !== UNKNOWN && config.archivePrefixes.some((p) => p !== "" && prefix.startsWith(p)) && !logPrefixes.has(prefix)) logPrefixes.set(prefix, { named: rule });
            }
            for (const [prefix, why] of logPrefixesOf(bucket, resources, config)) logPrefixes.set(prefix, { ...logPrefixes.get(prefix), why });
            const archiveBy = `a transition to ${config.archiveStorageClasses[0]} at day ${config.maxArchiveDays} or earlier`;
            for (const [prefix, { named, why }] of logPrefixes) {
                const archived = rules.some((rule) => {
                    const p = rulePrefix(rule);
                    return (p === UNKNOWN || prefix.startsWith(p)) && archives(rule);
                });
                if (archived) continue;
                if (named !== undefined) {
                    const disabled = read(named, "status") !== "Enabled" ? " (it is not Enabled)" : "";
                    report(bucket, `${describe(bucket)} does not move "${prefix}" to Glacier in time; give rule "${read(named, "id")}"${disabled} ${archiveBy}.`);
                } else {
                    report(bucket, `${describe(bucket)} does not move "${prefix}" to Glacier in time: ${why}, but no enabled lifecycle rule covering "${prefix}" archives it; add an enabled rule with filter { prefix: "${prefix}" } and ${archiveBy}.`);
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
