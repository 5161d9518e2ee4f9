// Alerts: how operators learn about trouble before users do, and the one dashboard they look at.
//
// Two SNS topics per stack, `<prefix>-critical-alerts` (page someone) and `<prefix>-warning-alerts`
// (look today), encrypted with a customer-managed key whose policy lets CloudWatch alarms and
// EventBridge use it (see alerts-policies.ts), with an e-mail subscription per address. CloudWatch
// alarms on the load balancer, the ECS service, Aurora and the error-log count; a metric filter that
// turns the error log group into that count; a dashboard (alerts-dashboard.ts); EventBridge rules for
// tasks that stop on their own and failed deployments (alerts-events.ts).
//
// Everything it watches arrives as plain inputs (ARN suffixes, names, identifiers), not as the other
// components, so the alarms bind to exactly the dimension values CloudWatch publishes.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { dashboardBody } from "./alerts-dashboard";
import {
    deploymentFailedPattern, deploymentFailedTransformer, taskStoppedPattern, taskStoppedTransformer,
} from "./alerts-events";
import { AccountContext, alertsKeyPolicy, alertTopicPolicy } from "./alerts-policies";

export const MIB = 1024 * 1024;
/** Name of the error-log record count the metric filter publishes. */
export const ERROR_LOG_METRIC_NAME = "ErrorLogRecords";
/**
 * The error-log metric filter's pattern: the empty pattern, which matches every log event. The
 * FireLens router writes only records whose level is ERROR, CRITICAL or FATAL (any letter case) to
 * the error log group (fluent-bit/extra.conf), so every event there is one error. A JSON pattern on
 * `$.level` would compare case-sensitively and miss a line that is not a JSON object.
 */
export const ERROR_LOG_FILTER_PATTERN = "";

export type Severity = "critical" | "warning";

export interface AlertsArgs {
    /** Stack name; the AWS names are `<name>-<stack>-…` (topics, alarms, dashboard, rules, metric namespace, key alias). */
    stack: string;
    /** Region of the stack: every dashboard widget and the alarm ARN condition of the topic policies. */
    region: string;
    /** true (prod): the topic key gets `protect` and a 30-day deletion window. false (dev): 7 days, destroyable. */
    protect: boolean;
    /**
     * Addresses subscribed (protocol email) to both topics; each must confirm the e-mail SNS sends.
     * Empty is allowed: the topics then have no subscribers, and the component says so as a warning.
     */
    alertEmails: string[];
    /** Critical when target 5xx responses exceed this share of all requests (%), 3 of 5 minutes. */
    alarm5xxRatePercent: number;
    /** Warning when the average target response time exceeds this (ms), 4 of 5 minutes. */
    alarmLatencyMs: number;
    /** Warning when the service's average CPU exceeds this (%), 5 minutes running. */
    alarmEcsCpuPercent: number;
    /** Warning when the service's average memory exceeds this (%), 5 minutes running. */
    alarmEcsMemoryPercent: number;
    /** Warning when the writer's or any reader's CPU exceeds this (%), 5 minutes running. */
    alarmDbCpuPercent: number;
    /** Warning when the writer or any reader holds more connections than this, 3 of 5 minutes. */
    alarmDbConnections: number;
    /** Warning when the writer's or any reader's freeable memory falls below this (MiB), 5 minutes running. */
    alarmDbFreeableMemoryMiB: number;
    /** Warning when the writer's or any reader's free local storage falls below this (MiB), 5 minutes running. */
    alarmDbFreeLocalStorageMiB: number;
    /** Critical when more error-log records than this arrive in 5 minutes (any at all is a warning). */
    alarmErrorLogCriticalCount: number;

    /** ALB ARN suffix (`app/<name>/<id>`), the CloudWatch dimension LoadBalancer. */
    albArnSuffix: pulumi.Input<string>;
    /** Target group ARN suffix (`targetgroup/<name>/<id>`), the CloudWatch dimension TargetGroup. */
    targetGroupArnSuffix: pulumi.Input<string>;
    /** ECS cluster name, the dimension ClusterName (AWS/ECS and ECS/ContainerInsights, which must be on). */
    clusterName: pulumi.Input<string>;
    /** ECS cluster ARN, matched by the task-stopped rule (detail.clusterArn). */
    clusterArn: pulumi.Input<string>;
    /** ECS service name, the dimension ServiceName; task events carry it as group `service:<name>`. */
    serviceName: pulumi.Input<string>;
    /** ECS service ARN, matched by the deployment rule (the event's `resources`). */
    serviceArn: pulumi.Input<string>;
    /** Aurora DBClusterIdentifier; alarms use it with Role WRITER / READER. */
    dbClusterIdentifier: pulumi.Input<string>;
    /** DBInstanceIdentifier of the instance created as writer (dashboard only: roles swap after a failover). */
    dbWriterInstanceIdentifier: pulumi.Input<string>;
    /** DBInstanceIdentifier of each reader created with the cluster (dashboard only). */
    dbReaderInstanceIdentifiers: pulumi.Input<string[]>;
    /** The CloudWatch Logs group that receives only ERROR+ records; the metric filter counts its events. */
    errorLogGroupName: pulumi.Input<string>;
}

/** Problems with the arguments, before any resource exists; empty when they are fine. */
export function validateAlertsArgs(args: Pick<AlertsArgs, "stack" | "alertEmails">): string[] {
    const problems: string[] = [];
    if (!/^[a-z0-9][a-z0-9-]*$/.test(args.stack)) {
        problems.push(`stack "${args.stack}" must be lower-case letters, digits and hyphens (it is part of every AWS name)`);
    }
    const seen = new Set<string>();
    for (const address of args.alertEmails) {
        const key = address.toLowerCase();
        if (seen.has(key)) problems.push(`alertEmails lists ${address} more than once`);
        seen.add(key);
    }
    return problems;
}

interface MetricSpec {
    namespace: string;
    metricName: string;
    statistic: "Average" | "Sum" | "Minimum" | "Maximum" | "SampleCount";
    /** None for the stack's own error-log count, which has no dimensions. */
    dimensions?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

interface MathSpec {
    /** The expression's id and text; it is the query that returns data. */
    id: string;
    expression: string;
    label: string;
    /** Metrics the expression refers to, by id. */
    metrics: Record<string, MetricSpec>;
}

interface AlarmSpec {
    /** Suffix of the alarm name and resource name, e.g. alb-5xx-rate. */
    what: string;
    severity: Severity;
    description: string;
    metric: MetricSpec | MathSpec;
    comparisonOperator: "GreaterThanThreshold" | "LessThanThreshold";
    threshold: number;
    period: number;
    evaluationPeriods: number;
    datapointsToAlarm: number;
    treatMissingData: "breaching" | "notBreaching";
}

export class Alerts extends pulumi.ComponentResource {
    public readonly criticalTopicArn: pulumi.Output<string>;
    public readonly warningTopicArn: pulumi.Output<string>;
    public readonly keyArn: pulumi.Output<string>;
    public readonly dashboardName: pulumi.Output<string>;
    /** Names of every alarm, critical and warning. */
    public readonly alarmNames: pulumi.Output<string[]>;
    /** Addresses subscribed to both topics; empty means no one is notified. */
    public readonly alertEmails: string[];
    /** Namespace of the error-log record count (`<name>-<stack>`). */
    public readonly errorLogMetricNamespace: string;
    public readonly taskStoppedRuleName: pulumi.Output<string>;
    public readonly deploymentFailedRuleName: pulumi.Output<string>;

    constructor(name: string, args: AlertsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backend-infra:alerts:Alerts", name, {}, opts);
        const problems = validateAlertsArgs(args);
        if (problems.length > 0) throw new Error(`Alerts ${name}: ${problems.join("; ")}`);
        const prefix = `${name}-${args.stack}`;
        const parent = { parent: this };

        const account = aws.getCallerIdentityOutput({}, parent);
        const partition = aws.getPartitionOutput({}, parent);
        const ctx: pulumi.Output<AccountContext> = pulumi.all([account.accountId, partition.partition, partition.dnsSuffix])
            .apply(([accountId, part, dnsSuffix]) => ({ accountId, partition: part, region: args.region, dnsSuffix }));

        // --- Topics ------------------------------------------------------------------------------
        const key = new aws.kms.Key(`${name}-alerts-key`, {
            description: `${prefix} alert topics (critical, warning): SNS server-side encryption`,
            enableKeyRotation: true,
            deletionWindowInDays: args.protect ? 30 : 7,
            policy: ctx.apply((c) => JSON.stringify(alertsKeyPolicy(c))),
        }, { parent: this, protect: args.protect });
        new aws.kms.Alias(`${name}-alerts-key-alias`, {
            name: `alias/${prefix}-alerts`,
            targetKeyId: key.keyId,
        }, { parent: key, protect: false });

        const topics = {} as Record<Severity, aws.sns.Topic>;
        const topicPolicies: aws.sns.TopicPolicy[] = [];
        for (const severity of ["critical", "warning"] as const) {
            const topic = new aws.sns.Topic(`${name}-${severity}-alerts`, {
                name: `${prefix}-${severity}-alerts`,
                displayName: `${prefix} ${severity}`,
                kmsMasterKeyId: key.arn,
            }, parent);
            topicPolicies.push(new aws.sns.TopicPolicy(`${name}-${severity}-alerts-policy`, {
                arn: topic.arn,
                policy: pulumi.all([ctx, topic.arn]).apply(([c, arn]) => JSON.stringify(alertTopicPolicy(c, arn, prefix))),
            }, { parent: topic }));
            for (const address of args.alertEmails) {
                new aws.sns.TopicSubscription(`${name}-${severity}-alerts-${address}`, {
                    topic: topic.arn,
                    protocol: "email",
                    endpoint: address,
                }, { parent: topic });
            }
            topics[severity] = topic;
        }
        if (args.alertEmails.length === 0) {
            pulumi.log.warn(
                `backend-infra:alertEmails is empty for stack ${args.stack}: the ${prefix}-critical-alerts and ` +
                `${prefix}-warning-alerts topics get no subscribers, so no one will be notified of an alarm. ` +
                `Set backend-infra:alertEmails in Pulumi.${args.stack}.yaml.`, this);
        }

        // --- Alarms ------------------------------------------------------------------------------
        const lb = { LoadBalancer: args.albArnSuffix };
        const lbAndTargetGroup = { TargetGroup: args.targetGroupArnSuffix, LoadBalancer: args.albArnSuffix };
        const service = { ClusterName: args.clusterName, ServiceName: args.serviceName };
        const role = (r: "WRITER" | "READER") => ({ DBClusterIdentifier: args.dbClusterIdentifier, Role: r });
        const errorLogMetricNamespace = prefix;

        const specs: AlarmSpec[] = [
            {
                what: "alb-5xx-rate",
                severity: "critical",
                description: `More than ${args.alarm5xxRatePercent}% of requests to the load balancer got a 5xx from the service ` +
                    `(HTTPCode_Target_5XX_Count / RequestCount) in 3 of the last 5 minutes. Minutes without requests count as fine.`,
                metric: {
                    id: "rate",
                    expression: "100 * FILL(errors, 0) / requests",
                    label: "Target 5xx (% of requests)",
                    metrics: {
                        errors: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", statistic: "Sum", dimensions: lb },
                        requests: { namespace: "AWS/ApplicationELB", metricName: "RequestCount", statistic: "Sum", dimensions: lb },
                    },
                },
                comparisonOperator: "GreaterThanThreshold",
                threshold: args.alarm5xxRatePercent,
                period: 60, evaluationPeriods: 5, datapointsToAlarm: 3,
                treatMissingData: "notBreaching",
            },
            {
                what: "alb-latency",
                severity: "warning",
                description: `Average target response time above ${args.alarmLatencyMs} ms in 4 of the last 5 minutes. ` +
                    `Minutes without requests count as fine.`,
                metric: { namespace: "AWS/ApplicationELB", metricName: "TargetResponseTime", statistic: "Average", dimensions: lbAndTargetGroup },
                comparisonOperator: "GreaterThanThreshold",
                threshold: args.alarmLatencyMs / 1000,
                period: 60, evaluationPeriods: 5, datapointsToAlarm: 4,
                treatMissingData: "notBreaching",
            },
            {
                what: "alb-unhealthy-hosts",
                severity: "critical",
                description: "At least one target failed the load balancer's health checks for 3 minutes running. " +
                    "No data (the target group out of service) counts as fine: the running-tasks alarm covers a service with no tasks.",
                metric: { namespace: "AWS/ApplicationELB", metricName: "UnHealthyHostCount", statistic: "Maximum", dimensions: lbAndTargetGroup },
                comparisonOperator: "GreaterThanThreshold",
                threshold: 0,
                period: 60, evaluationPeriods: 3, datapointsToAlarm: 3,
                treatMissingData: "notBreaching",
            },
            {
                what: "ecs-cpu",
                severity: "warning",
                description: `Average CPU of the service's tasks above ${args.alarmEcsCpuPercent}% for 5 minutes running ` +
                    "(auto scaling did not bring it down). No data (no tasks) counts as fine: the running-tasks alarm covers that.",
                metric: { namespace: "AWS/ECS", metricName: "CPUUtilization", statistic: "Average", dimensions: service },
                comparisonOperator: "GreaterThanThreshold",
                threshold: args.alarmEcsCpuPercent,
                period: 60, evaluationPeriods: 5, datapointsToAlarm: 5,
                treatMissingData: "notBreaching",
            },
            {
                what: "ecs-memory",
                severity: "warning",
                description: `Average memory of the service's tasks above ${args.alarmEcsMemoryPercent}% for 5 minutes running. ` +
                    "No data (no tasks) counts as fine: the running-tasks alarm covers that.",
                metric: { namespace: "AWS/ECS", metricName: "MemoryUtilization", statistic: "Average", dimensions: service },
                comparisonOperator: "GreaterThanThreshold",
                threshold: args.alarmEcsMemoryPercent,
                period: 60, evaluationPeriods: 5, datapointsToAlarm: 5,
                treatMissingData: "notBreaching",
            },
            {
                what: "ecs-running-tasks",
                severity: "critical",
                description: "Fewer tasks running than the service wants (Container Insights DesiredTaskCount - RunningTaskCount > 0) " +
                    "in 4 of the last 5 minutes. No data counts as breaching: Container Insights reports both every minute while " +
                    "the service exists, so silence means it cannot be shown to be running.",
                metric: {
                    id: "shortfall",
                    expression: "desired - FILL(running, 0)",
                    label: "Tasks missing",
                    metrics: {
                        desired: { namespace: "ECS/ContainerInsights", metricName: "DesiredTaskCount", statistic: "Average", dimensions: service },
                        running: { namespace: "ECS/ContainerInsights", metricName: "RunningTaskCount", statistic: "Average", dimensions: service },
                    },
                },
                comparisonOperator: "GreaterThanThreshold",
                threshold: 0,
                period: 60, evaluationPeriods: 5, datapointsToAlarm: 4,
                treatMissingData: "breaching",
            },
            ...(["WRITER", "READER"] as const).flatMap((r): AlarmSpec[] => {
                const who = r === "WRITER" ? "the writer" : "a reader";
                const w = r.toLowerCase();
                const readersNote = r === "READER" ? " Role READER covers every reader, including those auto scaling adds." : "";
                return [
                    {
                        what: `db-${w}-cpu`,
                        severity: "warning",
                        description: `CPU of ${who} above ${args.alarmDbCpuPercent}% for 5 minutes running.${readersNote}`,
                        metric: { namespace: "AWS/RDS", metricName: "CPUUtilization", statistic: "Maximum", dimensions: role(r) },
                        comparisonOperator: "GreaterThanThreshold",
                        threshold: args.alarmDbCpuPercent,
                        period: 60, evaluationPeriods: 5, datapointsToAlarm: 5,
                        treatMissingData: "notBreaching",
                    },
                    {
                        what: `db-${w}-connections`,
                        severity: "warning",
                        description: `More than ${args.alarmDbConnections} connections on ${who} in 3 of the last 5 minutes.${readersNote}`,
                        metric: { namespace: "AWS/RDS", metricName: "DatabaseConnections", statistic: "Maximum", dimensions: role(r) },
                        comparisonOperator: "GreaterThanThreshold",
                        threshold: args.alarmDbConnections,
                        period: 60, evaluationPeriods: 5, datapointsToAlarm: 3,
                        treatMissingData: "notBreaching",
                    },
                    {
                        what: `db-${w}-freeable-memory`,
                        severity: "warning",
                        description: `Freeable memory of ${who} below ${args.alarmDbFreeableMemoryMiB} MiB for 5 minutes running.${readersNote}`,
                        metric: { namespace: "AWS/RDS", metricName: "FreeableMemory", statistic: "Minimum", dimensions: role(r) },
                        comparisonOperator: "LessThanThreshold",
                        threshold: args.alarmDbFreeableMemoryMiB * MIB,
                        period: 60, evaluationPeriods: 5, datapointsToAlarm: 5,
                        treatMissingData: "notBreaching",
                    },
                    {
                        what: `db-${w}-free-local-storage`,
                        severity: "warning",
                        description: `Free local storage (temporary tables, logs) of ${who} below ${args.alarmDbFreeLocalStorageMiB} MiB ` +
                            `for 5 minutes running.${readersNote}`,
                        metric: { namespace: "AWS/RDS", metricName: "FreeLocalStorage", statistic: "Minimum", dimensions: role(r) },
                        comparisonOperator: "LessThanThreshold",
                        threshold: args.alarmDbFreeLocalStorageMiB * MIB,
                        period: 60, evaluationPeriods: 5, datapointsToAlarm: 5,
                        treatMissingData: "notBreaching",
                    },
                ];
            }),
            {
                what: "db-writer-unavailable",
                severity: "critical",
                description: "No Aurora instance has reported as writer (AWS/RDS CPUUtilization, Role WRITER) in 4 of the last 5 minutes: " +
                    "the cluster has no available writer (instance down, stopped, or a failover that did not complete). " +
                    "An available writer reports every minute, so missing data is what this alarm watches for.",
                metric: { namespace: "AWS/RDS", metricName: "CPUUtilization", statistic: "SampleCount", dimensions: role("WRITER") },
                comparisonOperator: "LessThanThreshold",
                threshold: 1,
                period: 60, evaluationPeriods: 5, datapointsToAlarm: 4,
                treatMissingData: "breaching",
            },
            {
                what: "error-logs",
                severity: "warning",
                description: "The backend logged at least one ERROR, CRITICAL or FATAL record in the last 5 minutes (error log group). " +
                    "No records, no data: counts as fine.",
                metric: { namespace: errorLogMetricNamespace, metricName: ERROR_LOG_METRIC_NAME, statistic: "Sum" },
                comparisonOperator: "GreaterThanThreshold",
                threshold: 0,
                period: 300, evaluationPeriods: 1, datapointsToAlarm: 1,
                treatMissingData: "notBreaching",
            },
            {
                what: "error-logs-critical",
                severity: "critical",
                description: `The backend logged more than ${args.alarmErrorLogCriticalCount} ERROR, CRITICAL or FATAL records in the last ` +
                    "5 minutes (error log group). No records, no data: counts as fine.",
                metric: { namespace: errorLogMetricNamespace, metricName: ERROR_LOG_METRIC_NAME, statistic: "Sum" },
                comparisonOperator: "GreaterThanThreshold",
                threshold: args.alarmErrorLogCriticalCount,
                period: 300, evaluationPeriods: 1, datapointsToAlarm: 1,
                treatMissingData: "notBreaching",
            },
        ];

        // --- Error-log metric filter --------------------------------------------------------------
        new aws.cloudwatch.LogMetricFilter(`${name}-error-log-records`, {
            name: `${prefix}-error-log-records`,
            logGroupName: args.errorLogGroupName,
            pattern: ERROR_LOG_FILTER_PATTERN,
            metricTransformation: {
                name: ERROR_LOG_METRIC_NAME,
                namespace: errorLogMetricNamespace,
                value: "1",
                unit: "Count",
                // No defaultValue: it is emitted only for events the pattern does not match, and the
                // empty pattern matches all. Quiet periods have no data; the alarms treat that as fine.
            },
        }, parent);

        // --- EventBridge rules --------------------------------------------------------------------
        const taskStopped = new aws.cloudwatch.EventRule(`${name}-task-stopped`, {
            name: `${prefix}-task-stopped`,
            description: `${prefix}: a task of the ECS service stopped on its own (failed to start, essential container exited, non-zero exit code)`,
            eventPattern: pulumi.all([args.clusterArn, args.serviceName])
                .apply(([clusterArn, serviceName]) => JSON.stringify(taskStoppedPattern(clusterArn, serviceName))),
        }, parent);
        const taskStoppedInput = taskStoppedTransformer(prefix, args.region);
        new aws.cloudwatch.EventTarget(`${name}-task-stopped-to-warning`, {
            rule: taskStopped.name,
            targetId: "warning-alerts",
            arn: topics.warning.arn,
            inputTransformer: { inputPaths: taskStoppedInput.inputPaths, inputTemplate: taskStoppedInput.inputTemplate },
        }, { parent: taskStopped, dependsOn: topicPolicies });

        const deploymentFailed = new aws.cloudwatch.EventRule(`${name}-deployment-failed`, {
            name: `${prefix}-deployment-failed`,
            description: `${prefix}: an ECS deployment of the service failed (deployment circuit breaker)`,
            eventPattern: pulumi.output(args.serviceArn).apply((serviceArn) => JSON.stringify(deploymentFailedPattern(serviceArn))),
        }, parent);
        const deploymentFailedInput = pulumi.output(args.serviceName)
            .apply((serviceName) => deploymentFailedTransformer(prefix, serviceName, args.region));
        new aws.cloudwatch.EventTarget(`${name}-deployment-failed-to-critical`, {
            rule: deploymentFailed.name,
            targetId: "critical-alerts",
            arn: topics.critical.arn,
            inputTransformer: { inputPaths: deploymentFailedInput.inputPaths, inputTemplate: deploymentFailedInput.inputTemplate },
        }, { parent: deploymentFailed, dependsOn: topicPolicies });

        // EventBridge drops what it cannot deliver (a broken topic or key policy) and only counts it.
        specs.push({
            what: "events-delivery-failed",
            severity: "warning",
            description: `EventBridge failed to deliver a task-stopped or deployment-failed event to its SNS topic (FailedInvocations): ` +
                "check the topic and key policies. No data counts as fine.",
            metric: {
                id: "failed",
                expression: "FILL(taskstopped, 0) + FILL(deployfailed, 0)",
                label: "Failed invocations",
                metrics: {
                    taskstopped: { namespace: "AWS/Events", metricName: "FailedInvocations", statistic: "Sum", dimensions: { RuleName: taskStopped.name } },
                    deployfailed: { namespace: "AWS/Events", metricName: "FailedInvocations", statistic: "Sum", dimensions: { RuleName: deploymentFailed.name } },
                },
            },
            comparisonOperator: "GreaterThanThreshold",
            threshold: 0,
            period: 300, evaluationPeriods: 1, datapointsToAlarm: 1,
            treatMissingData: "notBreaching",
        });

        const alarms = specs.map((spec) => this.alarm(name, prefix, spec, topics[spec.severity]));

        // --- Dashboard ----------------------------------------------------------------------------
        const dashboard = new aws.cloudwatch.Dashboard(`${name}-dashboard`, {
            dashboardName: prefix,
            dashboardBody: pulumi.all([
                args.albArnSuffix, args.targetGroupArnSuffix, args.clusterName, args.serviceName, args.dbClusterIdentifier,
                args.dbWriterInstanceIdentifier, args.dbReaderInstanceIdentifiers, pulumi.all(alarms.map((a) => a.arn)),
            ]).apply(([albArnSuffix, targetGroupArnSuffix, clusterName, serviceName, dbClusterIdentifier, writer, readers, alarmArns]) =>
                JSON.stringify(dashboardBody({
                    region: args.region,
                    title: prefix,
                    albArnSuffix, targetGroupArnSuffix, clusterName, serviceName, dbClusterIdentifier,
                    dbInstanceIdentifiers: [writer, ...readers],
                    errorLogNamespace: errorLogMetricNamespace,
                    errorLogMetricName: ERROR_LOG_METRIC_NAME,
                    alarmArns,
                    thresholds: {
                        ecsCpuPercent: args.alarmEcsCpuPercent,
                        ecsMemoryPercent: args.alarmEcsMemoryPercent,
                        latencySeconds: args.alarmLatencyMs / 1000,
                        dbCpuPercent: args.alarmDbCpuPercent,
                        dbConnections: args.alarmDbConnections,
                        dbFreeableMemoryBytes: args.alarmDbFreeableMemoryMiB * MIB,
                        dbFreeLocalStorageBytes: args.alarmDbFreeLocalStorageMiB * MIB,
                        errorLogCriticalCount: args.alarmErrorLogCriticalCount,
                    },
                }))),
        }, parent);

        this.criticalTopicArn = topics.critical.arn;
        this.warningTopicArn = topics.warning.arn;
        this.keyArn = key.arn;
        this.dashboardName = dashboard.dashboardName;
        this.alarmNames = pulumi.all(alarms.map((a) => a.name));
        this.alertEmails = [...args.alertEmails];
        this.errorLogMetricNamespace = errorLogMetricNamespace;
        this.taskStoppedRuleName = taskStopped.name;
        this.deploymentFailedRuleName = deploymentFailed.name;
        this.registerOutputs({
            criticalTopicArn: this.criticalTopicArn,
            warningTopicArn: this.warningTopicArn,
            keyArn: this.keyArn,
            dashboardName: this.dashboardName,
            alarmNames: this.alarmNames,
            alertEmails: this.alertEmails,
            errorLogMetricNamespace: this.errorLogMetricNamespace,
            taskStoppedRuleName: this.taskStoppedRuleName,
            deploymentFailedRuleName: this.deploymentFailedRuleName,
        });
    }

    /** One alarm, notifying `topic` when it goes into ALARM and when it is OK again. */
    private alarm(name: string, prefix: string, spec: AlarmSpec, topic: aws.sns.Topic): aws.cloudwatch.MetricAlarm {
        const common = {
            name: `${prefix}-${spec.what}`,
            alarmDescription: `[${spec.severity}] ${spec.description}`,
            comparisonOperator: spec.comparisonOperator,
            threshold: spec.threshold,
            evaluationPeriods: spec.evaluationPeriods,
            datapointsToAlarm: spec.datapointsToAlarm,
            treatMissingData: spec.treatMissingData,
            alarmActions: [topic.arn],
            okActions: [topic.arn],
        };
        const m = spec.metric;
        const metricArgs: Partial<aws.cloudwatch.MetricAlarmArgs> = "expression" in m
            ? {
                metricQueries: [
                    { id: m.id, expression: m.expression, label: m.label, returnData: true },
                    ...Object.entries(m.metrics).map(([id, q]) => ({
                        id,
                        returnData: false,
                        metric: { namespace: q.namespace, metricName: q.metricName, stat: q.statistic, period: spec.period, dimensions: q.dimensions },
                    })),
                ],
            }
            : { namespace: m.namespace, metricName: m.metricName, statistic: m.statistic, period: spec.period, dimensions: m.dimensions };
        return new aws.cloudwatch.MetricAlarm(`${name}-${spec.what}`, { ...common, ...metricArgs }, { parent: this });
    }
}
