// The Service's edge, as pure functions: which TLS setup the arguments ask for, the listener
// security policy, and the WAF rules. service.ts creates the resources from these.

/**
 * TLS 1.3 and 1.2 only, TLS 1.2 restricted to ECDHE AES-GCM suites, with hybrid post-quantum key
 * exchange (ML-KEM) for clients that offer it. The ELB guide recommends this policy (and the
 * console picks it by default); `ELBSecurityPolicy-TLS13-1-2-2021-06`, the former recommendation,
 * additionally allows CBC suites on TLS 1.2. API calls that omit the policy get
 * ELBSecurityPolicy-2016-08 (TLS 1.0+), hence always set.
 */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09";

/** How the HTTPS listener gets its certificate, if at all. */
export type TlsSetup =
    | { kind: "certificate-arn"; certificateArn: string }
    | { kind: "dns-validated"; domainName: string; hostedZoneId: string; hostName: string }
    | { kind: "none" };

export interface TlsArgs {
    certificateArn?: string;
    domainName?: string;
    hostedZoneId?: string;
    apiHostPrefix: string;
}

/**
 * The TLS setup the arguments select: a given certificate, or an ACM certificate for
 * `<apiHostPrefix>.<domainName>` validated in the hosted zone, or none (HTTP only). Throws, naming
 * the property, when they are contradictory or half given.
 */
export function tlsSetup(component: string, a: TlsArgs): TlsSetup {
    const given = (v: string | undefined) => v !== undefined && v !== "";
    if (given(a.certificateArn) && (given(a.domainName) || given(a.hostedZoneId))) {
        throw new Error(`${component}: certificateArn and domainName/hostedZoneId are alternatives; pass one or the other, not both`);
    }
    if (given(a.domainName) !== given(a.hostedZoneId)) {
        const missing = given(a.domainName) ? "hostedZoneId" : "domainName";
        throw new Error(`${component}: ${missing} is required when ${missing === "hostedZoneId" ? "domainName" : "hostedZoneId"} is given (the certificate is validated and the alias created in that zone)`);
    }
    if (given(a.certificateArn)) return { kind: "certificate-arn", certificateArn: a.certificateArn! };
    if (given(a.domainName)) {
        return { kind: "dns-validated", domainName: a.domainName!, hostedZoneId: a.hostedZoneId!, hostName: `${a.apiHostPrefix}.${a.domainName}` };
    }
    return { kind: "none" };
}

/** Visibility for one rule or the web ACL: CloudWatch metrics and sampled requests on. */
export function visibility(metricName: string) {
    return { cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

/** AWS managed rule groups the web ACL runs, in evaluation order after the IP reputation list. */
export const MANAGED_RULE_GROUPS = [
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
] as const;

/** Name of the rate-based rule. */
export const RATE_RULE_NAME = "rate-limit-per-ip";

/** WAF's rate-based evaluation window, seconds (the limit counts requests per IP in this window). */
export const RATE_WINDOW_SECONDS = 300;

/**
 * The web ACL's rules. Known-bad IPs are dropped first, then one IP over the rate limit is
 * blocked before the costlier inspection rules run; the managed groups keep their own actions
 * (override none). Priorities are unique and in that order.
 */
export function wafRules(rateLimit: number, metricPrefix: string) {
    const managed = (name: string, priority: number) => ({
        name,
        priority,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: "AWS", name } },
        visibilityConfig: visibility(`${metricPrefix}-${name}`),
    });
    return [
        managed(MANAGED_RULE_GROUPS[0], 0),
        {
            name: RATE_RULE_NAME,
            priority: 1,
            action: { block: {} },
            statement: {
                rateBasedStatement: { limit: rateLimit, aggregateKeyType: "IP", evaluationWindowSec: RATE_WINDOW_SECONDS },
            },
            visibilityConfig: visibility(`${metricPrefix}-${RATE_RULE_NAME}`),
        },
        managed(MANAGED_RULE_GROUPS[1], 2),
        managed(MANAGED_RULE_GROUPS[2], 3),
    ];
}

/** WAF sends logs only to CloudWatch log groups whose name starts with this. */
export const WAF_LOG_GROUP_PREFIX = "aws-waf-logs-";

/** Request headers replaced by REDACTED in the WAF logs (lower case, as WAF requires). */
export const WAF_REDACTED_HEADERS: readonly string[] = ["authorization", "cookie"];
