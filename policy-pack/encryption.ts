// Encryption: data at rest under customer-managed keys, data in transit over TLS, no plaintext secrets.
import type { Policies } from "@pulumi/policy";
import { dependenciesOf, describe, exemptSchema, isSet, list, parseJson, read, referencing, resourcePolicy, stackPolicy, T, UNKNOWN } from "./lib";

/** AWS-managed key aliases (alias/aws/rds, alias/aws/sns, …): not rotatable or grantable by us. */
const AWS_MANAGED_KEY = /(^|:)alias\/aws\//;

export const rdsEncryptedWithCmk = resourcePolicy<{ allowAwsManagedKey: boolean }>({
    name: "rds-storage-encrypted-with-cmk",
    description: "Checks that RDS/Aurora clusters and instances encrypt storage with a customer-managed KMS key.",
    configSchema: {
        properties: {
            allowAwsManagedKey: { type: "boolean", default: false, description: "Accept the AWS-managed aws/rds key instead of a customer-managed key." },
        },
    },
    types: [T.rdsCluster, T.rdsInstance],
    check: (r, config, report) => {
        if (r.props.storageEncrypted !== true) {
            report(`${describe(r)} stores data unencrypted; set storageEncrypted: true and kmsKeyId to a customer-managed aws.kms.Key's ARN.`);
            return;
        }
        if (config.allowAwsManagedKey) return;
        if (!isSet(r.props, "kmsKeyId")) {
            report(`${describe(r)} is encrypted with the AWS-managed aws/rds key; set kmsKeyId to a customer-managed aws.kms.Key's ARN.`);
            return;
        }
        const key = read(r.props, "kmsKeyId");
        if (typeof key === "string" && AWS_MANAGED_KEY.test(key)) {
            report(`${describe(r)} uses the AWS-managed key ${key}; set kmsKeyId to a customer-managed aws.kms.Key's ARN.`);
        }
    },
});

/** Parameters that make each engine refuse non-TLS connections. */
const FORCE_TLS_DEFAULT: Record<string, Record<string, string>> = {
    "aurora-postgresql": { "rds.force_ssl": "1" },
    "aurora-mysql": { require_secure_transport: "ON" },
    "postgres": { "rds.force_ssl": "1" },
    "mysql": { require_secure_transport: "ON" },
};

export const rdsForcesTls = stackPolicy<{ parameters: Record<string, Record<string, string>>; exempt: string[] }>({
    name: "rds-cluster-forces-tls",
    description: "Checks that every RDS/Aurora cluster uses a cluster parameter group from this stack that forces TLS (rds.force_ssl=1 for PostgreSQL, require_secure_transport=ON for MySQL).",
    configSchema: {
        properties: {
            parameters: {
                type: "object",
                additionalProperties: { type: "object", additionalProperties: { type: "string" } },
                default: FORCE_TLS_DEFAULT,
                description: "Engine → parameter name → required value in the cluster parameter group.",
            },
            exempt: exemptSchema,
        },
    },
    check: (resources, config, report) => {
        for (const cluster of resources.filter((r) => r.type === T.rdsCluster)) {
            const engine = read(cluster.props, "engine");
            const required = typeof engine === "string" ? config.parameters[engine] : undefined;
            if (!required) continue;
            const want = Object.entries(required).map(([k, v]) => `${k}=${v}`).join(", ");
            const groups = dependenciesOf(cluster, "dbClusterParameterGroupName", T.rdsClusterParameterGroup);
            if (groups.length === 0) {
                report(cluster, `${describe(cluster)} does not use a cluster parameter group from this stack, so nothing forces TLS; create an aws.rds.ClusterParameterGroup with ${want} and set dbClusterParameterGroupName to its name.`);
                continue;
            }
            for (const group of groups) {
                const params = list(group.props, "parameters");
                if (params === UNKNOWN) continue;
                for (const [name, value] of Object.entries(required)) {
                    const found = params.find((p) => read(p, "name") === name);
                    const actual = found === undefined ? undefined : read(found, "value");
                    if (actual === UNKNOWN) continue;
                    if (actual === undefined || String(actual).toLowerCase() !== value.toLowerCase()) {
                        report(cluster, `${describe(cluster)} uses ${describe(group)}, which does not force TLS; set its parameter ${name} to "${value}"${actual === undefined ? "" : ` (it is "${actual}")`}.`);
                    }
                }
            }
        }
    },
});

export const bucketEncryption = stackPolicy<{ allowedAlgorithms: string[]; exempt: string[] }>({
    name: "s3-bucket-encryption",
    description: "Checks that every S3 bucket has a server-side encryption configuration with an allowed default algorithm.",
    configSchema: {
        properties: {
            allowedAlgorithms: { type: "array", items: { type: "string", enum: ["aws:kms", "aws:kms:dsse", "AES256"] }, default: ["aws:kms", "aws:kms:dsse", "AES256"], description: "Accepted applyServerSideEncryptionByDefault.sseAlgorithm values." },
            exempt: exemptSchema,
        },
    },
    check: (resources, config, report) => {
        for (const bucket of resources.filter((r) => r.type === T.bucket)) {
            const configs = referencing(resources, T.bucketSse, "bucket", bucket);
            if (configs.length === 0) {
                report(bucket, `${describe(bucket)} has no server-side encryption configuration; add an aws.s3.BucketServerSideEncryptionConfiguration for it with sseAlgorithm ${config.allowedAlgorithms.join(" or ")}.`);
                continue;
            }
            const algorithms = configs.flatMap((c) => { const rules = list(c.props, "rules"); return rules === UNKNOWN ? [UNKNOWN] : rules.map((rule) => read(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")); });
            if (algorithms.includes(UNKNOWN)) continue;
            if (!algorithms.some((a) => config.allowedAlgorithms.includes(a))) {
                report(bucket, `${describe(bucket)} has no default encryption rule with an allowed algorithm (found ${JSON.stringify(algorithms.filter(Boolean))}); set applyServerSideEncryptionByDefault.sseAlgorithm to ${config.allowedAlgorithms.join(" or ")}.`);
            }
        }
    },
});

function asArray(v: unknown): unknown[] {
    return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

/** True when a bucket policy document denies every request made without TLS, to the bucket and to its objects. */
export function deniesInsecureTransport(doc: any): boolean {
    return asArray(doc?.Statement).some((s: any) => {
        const everyone = s?.Principal === "*" || asArray(s?.Principal?.AWS).includes("*");
        const allActions = asArray(s?.Action).some((a) => a === "*" || a === "s3:*");
        const insecure = asArray(s?.Condition?.Bool?.["aws:SecureTransport"]).some((v) => v === false || v === "false");
        // Bucket-level calls (ListBucket, policy reads) name the bucket's ARN, object calls `<arn>/*`.
        const resources = asArray(s?.Resource).filter((r): r is string => typeof r === "string");
        const bucket = resources.some((r) => r === "*" || /^arn:[^:]+:s3:::[^/]+$/.test(r));
        const objects = resources.some((r) => r === "*" || r.endsWith("/*"));
        return s?.Effect === "Deny" && everyone && allActions && insecure && bucket && objects;
    });
}

export const bucketDeniesInsecureTransport = stackPolicy<{ exempt: string[] }>({
    name: "s3-bucket-denies-insecure-transport",
    description: "Checks that every S3 bucket has a bucket policy that denies all requests not made over TLS (aws:SecureTransport false).",
    configSchema: { properties: { exempt: exemptSchema } },
    check: (resources, _config, report) => {
        const fix = `a statement {Effect: "Deny", Principal: "*", Action: "s3:*", Condition: {Bool: {"aws:SecureTransport": "false"}}} over the bucket and its objects`;
        for (const bucket of resources.filter((r) => r.type === T.bucket)) {
            const policies = referencing(resources, T.bucketPolicy, "bucket", bucket);
            if (policies.length === 0) {
                report(bucket, `${describe(bucket)} has no bucket policy; add an aws.s3.BucketPolicy for it with ${fix}.`);
                continue;
            }
            // A policy that embeds the bucket's ARN is unknown until the bucket exists; it is checked when it is known.
            const known = policies.map((p) => read(p.props, "policy")).filter((text) => text !== UNKNOWN);
            if (known.length === policies.length && !known.some((text) => deniesInsecureTransport(parseJson(text)))) {
                report(bucket, `${describe(bucket)}'s bucket policy allows plain HTTP; add ${fix}.`);
            }
        }
    },
});

export const kmsKeyRotation = resourcePolicy<{ maxRotationPeriodDays: number }>({
    name: "kms-key-rotation",
    description: "Checks that every symmetric customer-managed KMS key rotates automatically, at least as often as configured.",
    configSchema: {
        properties: {
            maxRotationPeriodDays: { type: "integer", minimum: 90, maximum: 2560, default: 365, description: "Longest accepted rotationPeriodInDays." },
        },
    },
    types: [T.kmsKey],
    check: (r, config, report) => {
        const spec = read(r.props, "customerMasterKeySpec") ?? "SYMMETRIC_DEFAULT";
        const usage = read(r.props, "keyUsage") ?? "ENCRYPT_DECRYPT";
        // Automatic rotation exists only for symmetric encryption keys outside custom key stores.
        if (spec !== "SYMMETRIC_DEFAULT" || usage !== "ENCRYPT_DECRYPT" || isSet(r.props, "customKeyStoreId")) return;
        if (r.props.enableKeyRotation !== true) {
            report(`${describe(r)} never rotates; set enableKeyRotation: true (rotationPeriodInDays at most ${config.maxRotationPeriodDays}).`);
            return;
        }
        const period = r.props.rotationPeriodInDays ?? 365; // KMS rotates yearly when no period is given
        if (typeof period === "number" && period > config.maxRotationPeriodDays) {
            const given = r.props.rotationPeriodInDays === undefined ? " (the KMS default)" : "";
            report(`${describe(r)} rotates every ${period} days${given}; set rotationPeriodInDays to at most ${config.maxRotationPeriodDays}.`);
        }
    },
});

export const snsTopicEncrypted = resourcePolicy<{ allowAwsManagedKey: boolean }>({
    name: "sns-topic-encrypted",
    description: "Checks that every SNS topic is encrypted with a customer-managed KMS key (CloudWatch alarms cannot publish to a topic under the AWS-managed aws/sns key).",
    configSchema: {
        properties: {
            allowAwsManagedKey: { type: "boolean", default: false, description: "Accept alias/aws/sns (breaks CloudWatch alarm notifications)." },
        },
    },
    types: [T.snsTopic],
    check: (r, config, report) => {
        if (!isSet(r.props, "kmsMasterKeyId")) {
            report(`${describe(r)} is not encrypted; set kmsMasterKeyId to a customer-managed aws.kms.Key whose key policy lets cloudwatch.amazonaws.com use it.`);
            return;
        }
        const key = read(r.props, "kmsMasterKeyId");
        if (!config.allowAwsManagedKey && typeof key === "string" && AWS_MANAGED_KEY.test(key)) {
            report(`${describe(r)} uses the AWS-managed key ${key}, which CloudWatch alarms cannot use to publish; set kmsMasterKeyId to a customer-managed aws.kms.Key.`);
        }
    },
});

export const ecrRepositoryEncrypted = resourcePolicy<{ allowedEncryptionTypes: string[] }>({
    name: "ecr-repository-encrypted",
    description: "Checks that every ECR repository declares its encryption (encryptionConfigurations with an allowed encryptionType).",
    configSchema: {
        properties: {
            allowedEncryptionTypes: { type: "array", items: { type: "string", enum: ["AES256", "KMS", "KMS_DSSE"] }, default: ["AES256", "KMS", "KMS_DSSE"], description: "Accepted encryptionType values." },
        },
    },
    types: [T.ecrRepository],
    check: (r, config, report) => {
        const configs = r.props.encryptionConfigurations;
        const type = Array.isArray(configs) && configs.length > 0 ? configs[0].encryptionType ?? "AES256" : undefined;
        if (type === undefined) {
            report(`${describe(r)} does not declare its encryption; set encryptionConfigurations: [{ encryptionType: "${config.allowedEncryptionTypes.includes("KMS") ? "KMS" : config.allowedEncryptionTypes[0]}" }].`);
        } else if (!config.allowedEncryptionTypes.includes(type)) {
            report(`${describe(r)} uses encryptionType ${type}; use one of ${config.allowedEncryptionTypes.join(", ")}.`);
        }
    },
});

export const listenerHttps = resourcePolicy<{ allowedSslPolicyPattern: string }>({
    name: "alb-listener-https",
    description: "Checks that load balancer listeners use HTTPS/TLS with a TLS 1.2+ security policy, and that HTTP listeners only redirect to HTTPS.",
    configSchema: {
        properties: {
            allowedSslPolicyPattern: {
                type: "string",
                default: "^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)-",
                description: "Regular expression the sslPolicy must match (TLS 1.2 minimum policies).",
            },
        },
    },
    types: [T.lbListener, T.albListener],
    check: (r, config, report) => {
        const protocol = r.props.protocol ?? "HTTP"; // the provider's default for application load balancers
        if (protocol === "HTTPS" || protocol === "TLS") {
            const policy = r.props.sslPolicy;
            if (policy === undefined) {
                report(`${describe(r)} has no sslPolicy, so AWS applies ELBSecurityPolicy-2016-08 (TLS 1.0); set sslPolicy to a TLS 1.2+ policy such as ELBSecurityPolicy-TLS13-1-2-2021-06.`);
            } else if (!new RegExp(config.allowedSslPolicyPattern).test(policy)) {
                report(`${describe(r)} uses sslPolicy ${policy}, which allows TLS below 1.2; use a policy matching ${config.allowedSslPolicyPattern}, e.g. ELBSecurityPolicy-TLS13-1-2-2021-06.`);
            }
        } else if (protocol === "HTTP") {
            const actions: any[] = r.props.defaultActions ?? [];
            const onlyRedirects = actions.length > 0 && actions.every((a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS");
            if (!onlyRedirects) {
                report(`${describe(r)} serves plain HTTP; make its only default action a redirect to HTTPS: { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }.`);
            }
        } else {
            report(`${describe(r)} uses protocol ${protocol}, which is not encrypted; use HTTPS or TLS with a TLS 1.2+ sslPolicy.`);
        }
    },
});

/** Whether a listener or rule action sends the client to HTTPS; UNKNOWN when a preview cannot tell. */
function redirectsToHttps(action: unknown): boolean | typeof UNKNOWN {
    const type = read(action, "type");
    if (type === UNKNOWN) return UNKNOWN;
    if (type !== "redirect") return false;
    const protocol = read(action, "redirect", "protocol");
    return protocol === UNKNOWN ? UNKNOWN : protocol === "HTTPS";
}

export const listenerRuleHttps = stackPolicy<{ exempt: string[] }>({
    name: "alb-listener-rule-https",
    description: "Checks that listener rules on a plain-HTTP listener only redirect to HTTPS, so no host or path is served over HTTP behind a listener whose default action redirects.",
    configSchema: { properties: { exempt: exemptSchema } },
    check: (resources, _config, report) => {
        for (const rule of resources.filter((r) => r.type === T.lbListenerRule || r.type === T.albListenerRule)) {
            // Joined through listenerArn's property dependency: the listener's ARN is unknown in a first preview.
            for (const listener of dependenciesOf(rule, "listenerArn").filter((d) => d.type === T.lbListener || d.type === T.albListener)) {
                // The provider's default protocol for application load balancers; HTTPS listeners are fine, and
                // other protocols (which take no rules) are alb-listener-https's to report.
                const protocol = read(listener.props, "protocol") ?? "HTTP";
                if (protocol !== "HTTP") continue;
                const actions = list(rule.props, "actions");
                if (actions === UNKNOWN) continue;
                const verdicts = actions.map(redirectsToHttps);
                if (verdicts.includes(UNKNOWN) || (actions.length > 0 && verdicts.every((v) => v === true))) continue;
                const offending = [...new Set(actions.filter((_, i) => verdicts[i] === false).map((a) => {
                    const type = read(a, "type");
                    return type === "redirect" ? `a "redirect" action that does not go to HTTPS` : `a "${type}" action`;
                }))];
                const does = offending.length === 0 ? "has no action" : `has ${offending.join(" and ")}`;
                report(rule, `${describe(rule)} on ${describe(listener)}, which serves plain HTTP, ${does}; make its only action a redirect to HTTPS ({ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }), or attach the rule to the HTTPS listener.`);
            }
        }
    },
});

export const taskNoPlaintextSecrets = resourcePolicy<{ secretNamePattern: string; allowedNames: string[] }>({
    name: "ecs-task-no-plaintext-secrets",
    description: "Checks that no ECS task definition passes a secret as a plaintext environment variable (names like PASSWORD, SECRET, TOKEN, KEY, or credentials in a URL); secrets come through `secrets` (valueFrom).",
    configSchema: {
        properties: {
            secretNamePattern: {
                type: "string",
                default: "(^|_)(PASSWORD|PASSWD|PWD|SECRET|TOKEN|KEY|CREDENTIALS?)(_|$)",
                description: "Case-insensitive regular expression for variable names that hold secrets.",
            },
            allowedNames: { type: "array", items: { type: "string" }, default: [], description: "Variable names that match the pattern but hold no secret." },
        },
    },
    types: [T.taskDefinition],
    check: (r, config, report) => {
        const containers = parseJson(r.props.containerDefinitions);
        if (!Array.isArray(containers)) return;
        const secretName = new RegExp(config.secretNamePattern, "i");
        const reference = /(_ARN|_NAME|_ID|_PATH|_FILE)$/i; // names of references to secrets, not secrets
        for (const c of containers) {
            for (const env of Array.isArray(c?.environment) ? c.environment : []) {
                const name = String(env?.name ?? "");
                const value = String(env?.value ?? "");
                const fix = `move it to the container's "secrets" with valueFrom set to a Secrets Manager secret or SSM parameter ARN`;
                if (/:\/\/[^/\s:@]+:[^/\s@]+@/.test(value)) {
                    report(`${describe(r)} container "${c.name}" puts credentials in the URL of environment variable ${name}; ${fix}.`);
                } else if (secretName.test(name) && !config.allowedNames.includes(name) && !reference.test(name) && !/^arn:aws[a-z-]*:/.test(value)) {
                    report(`${describe(r)} container "${c.name}" passes ${name} as a plaintext environment variable; ${fix}.`);
                }
            }
        }
    },
});

export const encryptionPolicies: Policies = [
    rdsEncryptedWithCmk, rdsForcesTls, bucketEncryption, bucketDeniesInsecureTransport,
    kmsKeyRotation, snsTopicEncrypted, ecrRepositoryEncrypted, listenerHttps, listenerRuleHttps, taskNoPlaintextSecrets,
];
