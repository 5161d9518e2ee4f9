import { strict as assert } from "assert";
import * as fs from "fs";
import { Alerts, ERROR_LOG_FILTER_PATTERN, ERROR_LOG_METRIC_NAME, MIB, validateAlertsArgs } from "../components/alerts";
import { dashboardBody, DashboardMetric, DashboardRefs, MetricWidget } from "../components/alerts-dashboard";
import {
    deploymentFailedPattern, deploymentFailedTransformer, taskStoppedPattern, taskStoppedTransformer,
} from "../components/alerts-events";
import { AccountContext, alertsKeyPolicy, alertTopicPolicy, PolicyStatement } from "../components/alerts-policies";
import { MOCK_ACCOUNT_ID } from "../tools/mocks";
import { ResourceRecorder } from "../tools/mock-harness";
import { RecordedResource, runUnderMocks, StackName, valueOf } from "./helpers";
import { Settings } from "../config";

const T = {
    key: "aws:kms/key:Key",
    alias: "aws:kms/alias:Alias",
    topic: "aws:sns/topic:Topic",
    topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
    subscription: "aws:sns/topicSubscription:TopicSubscription",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    filter: "aws:cloudwatch/logMetricFilter:LogMetricFilter",
    dashboard: "aws:cloudwatch/dashboard:Dashboard",
    rule: "aws:cloudwatch/eventRule:EventRule",
    target: "aws:cloudwatch/eventTarget:EventTarget",
};

const REGION = "ap-northeast-1";
const CTX: AccountContext = { accountId: MOCK_ACCOUNT_ID, partition: "aws", region: REGION, dnsSuffix: "amazonaws.com" };
const EMAILS = ["oncall@example.com", "backend-team@example.org"];

/** What the Service, Aurora and LogPipeline components would hand over, as CloudWatch and ECS spell it. */
function refs(stack: StackName) {
    return {
        albArnSuffix: `app/backend-${stack}-alb/0123456789abcdef`,
        targetGroupArnSuffix: `targetgroup/backend-${stack}-tg/fedcba9876543210`,
        clusterName: `backend-${stack}`,
        clusterArn: `arn:aws:ecs:${REGION}:${MOCK_ACCOUNT_ID}:cluster/backend-${stack}`,
        serviceName: `backend-${stack}-api`,
        serviceArn: `arn:aws:ecs:${REGION}:${MOCK_ACCOUNT_ID}:service/backend-${stack}/backend-${stack}-api`,
        dbClusterIdentifier: `backend-db-${stack}`,
        dbWriterInstanceIdentifier: `backend-db-${stack}-1`,
        dbReaderInstanceIdentifiers: [`backend-db-${stack}-2`],
        errorLogGroupName: `/ecs/backend-${stack}/errors`,
    };
}

function buildAlerts(stack: StackName, overrides: Record<string, string> = {}) {
    return runUnderMocks(stack, (s) => new Alerts("backend", {
        ...s.alerts,
        stack: s.stack,
        region: s.region,
        protect: s.protection.protectStatefulResources,
        ...refs(stack),
    }), overrides);
}

const withEmails = { "backend-infra:alertEmails": JSON.stringify(EMAILS) };

type Dims = Record<string, string>;
interface ExpectedAlarm {
    severity: "critical" | "warning";
    namespace: string;
    metricName: string;
    statistic: string;
    dims: Dims;
    comparison: string;
    threshold: number;
    treatMissingData: string;
}

/** Every single-metric alarm, with its threshold taken from the stack's settings. */
function expectedAlarms(stack: StackName, s: Settings): Record<string, ExpectedAlarm> {
    const r = refs(stack);
    const a = s.alerts;
    const lbTg = { TargetGroup: r.targetGroupArnSuffix, LoadBalancer: r.albArnSuffix };
    const svc = { ClusterName: r.clusterName, ServiceName: r.serviceName };
    const writer = { DBClusterIdentifier: r.dbClusterIdentifier, Role: "WRITER" };
    const reader = { DBClusterIdentifier: r.dbClusterIdentifier, Role: "READER" };
    const rds = (metricName: string, statistic: string, dims: Dims, comparison: string, threshold: number): ExpectedAlarm =>
        ({ severity: "warning", namespace: "AWS/RDS", metricName, statistic, dims, comparison, threshold, treatMissingData: "notBreaching" });
    return {
        "alb-latency": { severity: "warning", namespace: "AWS/ApplicationELB", metricName: "TargetResponseTime", statistic: "Average", dims: lbTg, comparison: "GreaterThanThreshold", threshold: a.alarmLatencyMs / 1000, treatMissingData: "notBreaching" },
        "alb-unhealthy-hosts": { severity: "critical", namespace: "AWS/ApplicationELB", metricName: "UnHealthyHostCount", statistic: "Maximum", dims: lbTg, comparison: "GreaterThanThreshold", threshold: 0, treatMissingData: "notBreaching" },
        "ecs-cpu": { severity: "warning", namespace: "AWS/ECS", metricName: "CPUUtilization", statistic: "Average", dims: svc, comparison: "GreaterThanThreshold", threshold: a.alarmEcsCpuPercent, treatMissingData: "notBreaching" },
        "ecs-memory": { severity: "warning", namespace: "AWS/ECS", metricName: "MemoryUtilization", statistic: "Average", dims: svc, comparison: "GreaterThanThreshold", threshold: a.alarmEcsMemoryPercent, treatMissingData: "notBreaching" },
        "db-writer-cpu": rds("CPUUtilization", "Maximum", writer, "GreaterThanThreshold", a.alarmDbCpuPercent),
        "db-reader-cpu": rds("CPUUtilization", "Maximum", reader, "GreaterThanThreshold", a.alarmDbCpuPercent),
        "db-writer-connections": rds("DatabaseConnections", "Maximum", writer, "GreaterThanThreshold", a.alarmDbConnections),
        "db-reader-connections": rds("DatabaseConnections", "Maximum", reader, "GreaterThanThreshold", a.alarmDbConnections),
        "db-writer-freeable-memory": rds("FreeableMemory", "Minimum", writer, "LessThanThreshold", a.alarmDbFreeableMemoryMiB * 1024 * 1024),
        "db-reader-freeable-memory": rds("FreeableMemory", "Minimum", reader, "LessThanThreshold", a.alarmDbFreeableMemoryMiB * 1024 * 1024),
        "db-writer-free-local-storage": rds("FreeLocalStorage", "Minimum", writer, "LessThanThreshold", a.alarmDbFreeLocalStorageMiB * 1024 * 1024),
        "db-reader-free-local-storage": rds("FreeLocalStorage", "Minimum", reader, "LessThanThreshold", a.alarmDbFreeLocalStorageMiB * 1024 * 1024),
        "db-writer-unavailable": { severity: "critical", namespace: "AWS/RDS", metricName: "CPUUtilization", statistic: "SampleCount", dims: writer, comparison: "LessThanThreshold", threshold: 1, treatMissingData: "breaching" },
        "error-logs": { severity: "warning", namespace: `backend-${stack}`, metricName: ERROR_LOG_METRIC_NAME, statistic: "Sum", dims: {}, comparison: "GreaterThanThreshold", threshold: 0, treatMissingData: "notBreaching" },
        "error-logs-critical": { severity: "critical", namespace: `backend-${stack}`, metricName: ERROR_LOG_METRIC_NAME, statistic: "Sum", dims: {}, comparison: "GreaterThanThreshold", threshold: a.alarmErrorLogCriticalCount, treatMissingData: "notBreaching" },
    };
}

const MATH_ALARMS = ["alb-5xx-rate", "ecs-running-tasks", "events-delivery-failed"];

function topicArn(stack: StackName, severity: string): string {
    return `arn:aws:sns:${REGION}:${MOCK_ACCOUNT_ID}:backend-${stack}-${severity}-alerts`;
}

function query(alarm: RecordedResource, id: string): any {
    const q = (alarm.inputs.metricQueries as any[]).find((x) => x.id === id);
    assert.ok(q, `${alarm.urn}: no metric query with id ${id}`);
    return q;
}

/** Dimension name → value of a dashboard metric array (pairs after namespace and name, before the options). */
function metricDims(metric: DashboardMetric): Dims {
    const parts = metric.filter((p): p is string => typeof p === "string");
    const dims: Dims = {};
    for (let i = 2; i + 1 < parts.length; i += 2) dims[parts[i]] = parts[i + 1];
    return dims;
}

describe("Alerts pure parts", () => {
    it("lets CloudWatch alarms use the key only for this account, EventBridge without a condition, and the account only through SNS", () => {
        const policy = alertsKeyPolicy(CTX);
        const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s])) as Record<string, PolicyStatement>;
        assert.deepEqual(bySid.CloudWatchAlarmsPublish.Principal, { Service: "cloudwatch.amazonaws.com" });
        assert.deepEqual(bySid.CloudWatchAlarmsPublish.Action.sort(), ["kms:Decrypt", "kms:GenerateDataKey*"]);
        assert.deepEqual(bySid.CloudWatchAlarmsPublish.Condition, { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID } });
        assert.deepEqual(bySid.EventBridgeRulesPublish.Principal, { Service: "events.amazonaws.com" });
        assert.deepEqual(bySid.EventBridgeRulesPublish.Action.sort(), ["kms:Decrypt", "kms:GenerateDataKey*"]);
        assert.equal(bySid.EventBridgeRulesPublish.Condition, undefined, "aws:Source* conditions are unsupported for EventBridge to encrypted topics");
        assert.deepEqual(bySid.AccountPublishesThroughSns.Condition, {
            StringEquals: { "kms:CallerAccount": MOCK_ACCOUNT_ID, "kms:ViaService": `sns.${REGION}.amazonaws.com` },
        });
        assert.deepEqual(bySid.AccountAdministersKey.Principal, { AWS: `arn:aws:iam::${MOCK_ACCOUNT_ID}:root` });
        for (const a of ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:*"]) {
            assert.ok(!bySid.AccountAdministersKey.Action.includes(a), `administration must not include ${a}`);
        }
    });

    it("lets this stack's alarms (by account and alarm-name ARN) and EventBridge publish to a topic", () => {
        const arn = topicArn("dev", "critical");
        const policy = alertTopicPolicy(CTX, arn, "backend-dev");
        const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s])) as Record<string, PolicyStatement>;
        for (const s of policy.Statement) assert.equal(s.Resource, arn, s.Sid);
        assert.deepEqual(bySid.CloudWatchAlarmsPublish.Principal, { Service: "cloudwatch.amazonaws.com" });
        assert.deepEqual(bySid.CloudWatchAlarmsPublish.Action, ["sns:Publish"]);
        assert.deepEqual(bySid.CloudWatchAlarmsPublish.Condition, {
            StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID },
            ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${MOCK_ACCOUNT_ID}:alarm:backend-dev-*` },
        });
        assert.deepEqual(bySid.EventBridgeRulesPublish.Principal, { Service: "events.amazonaws.com" });
        assert.deepEqual(bySid.EventBridgeRulesPublish.Action, ["sns:Publish"]);
        assert.equal(bySid.EventBridgeRulesPublish.Condition, undefined, "EventBridge does not support Condition blocks in SNS topic policies");
    });

    it("keeps the account able to manage, subscribe to and delete a topic whose policy replaces SNS's default", () => {
        const arn = topicArn("prod", "warning");
        const owner = alertTopicPolicy(CTX, arn, "backend-prod").Statement
            .filter((s) => "AWS" in s.Principal && s.Principal.AWS === `arn:aws:iam::${MOCK_ACCOUNT_ID}:root`);
        assert.equal(owner.length, 1, "one statement for the account");
        assert.equal(owner[0].Condition, undefined, "unconditioned: the owner is never locked out");
        for (const action of ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe", "sns:Publish", "sns:DeleteTopic", "sns:ListSubscriptionsByTopic"]) {
            assert.ok(owner[0].Action.includes(action), action);
        }
        const keyAdmin = alertsKeyPolicy(CTX).Statement.find((s) => s.Sid === "AccountAdministersKey")!;
        for (const action of ["kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:EnableKeyRotation"]) {
            assert.ok(keyAdmin.Action.includes(action), `${action}: CreateKey's lockout check needs PutKeyPolicy; the provider reads and deletes with the rest`);
        }
    });

    it("matches tasks of the service that stopped on their own, not graceful stops", () => {
        const r = refs("dev");
        const pattern = JSON.parse(JSON.stringify(taskStoppedPattern(r.clusterArn, r.serviceName)));
        assert.deepEqual(pattern.source, ["aws.ecs"]);
        assert.deepEqual(pattern["detail-type"], ["ECS Task State Change"]);
        assert.deepEqual(pattern.detail.clusterArn, [r.clusterArn]);
        assert.deepEqual(pattern.detail.group, [`service:${r.serviceName}`]);
        assert.deepEqual(pattern.detail.lastStatus, ["STOPPED"]);
        assert.deepEqual(pattern.detail.$or, [
            { stopCode: ["TaskFailedToStart", "EssentialContainerExited"] },
            { containers: { exitCode: [{ "anything-but": 0 }] } },
        ]);
    });

    it("matches failed deployments of the service by its ARN", () => {
        const r = refs("prod");
        const pattern = JSON.parse(JSON.stringify(deploymentFailedPattern(r.serviceArn)));
        assert.deepEqual(pattern, {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Deployment State Change"],
            "resources": [r.serviceArn],
            "detail": { eventName: ["SERVICE_DEPLOYMENT_FAILED"] },
        });
    });

    it("builds input transformers whose template is one quoted JSON string using only declared variables", () => {
        for (const t of [taskStoppedTransformer("backend-dev", REGION), deploymentFailedTransformer("backend-dev", "backend-dev-api", REGION)]) {
            const text = JSON.parse(t.inputTemplate);
            assert.equal(typeof text, "string", t.inputTemplate);
            assert.ok(t.inputTemplate.startsWith('"') && t.inputTemplate.endsWith('"'));
            const used = [...text.matchAll(/<([^>]+)>/g)].map((m: RegExpMatchArray) => m[1]);
            assert.deepEqual([...new Set(used)].sort(), Object.keys(t.inputPaths).sort(), "every placeholder declared and used");
            for (const [k, path] of Object.entries(t.inputPaths)) {
                assert.match(k, /^[A-Za-z0-9]+$/, "InputPathsMap keys are letters and digits only");
                assert.match(path, /^\$(\.[A-Za-z0-9_-]+)+$/, `${k}: dot-notation JSON path`);
            }
            assert.ok(text.includes("backend-dev"), "names the stack");
        }
        assert.deepEqual(taskStoppedTransformer("x", REGION).inputPaths, {
            time: "$.time", group: "$.detail.group", task: "$.detail.taskArn", stopCode: "$.detail.stopCode",
            reason: "$.detail.stoppedReason", taskDefinition: "$.detail.taskDefinitionArn",
        });
        assert.deepEqual(deploymentFailedTransformer("x", "svc", REGION).inputPaths, {
            time: "$.time", deployment: "$.detail.deploymentId", reason: "$.detail.reason",
        });
    });

    it("rejects duplicate addresses and a stack that cannot be part of AWS names", () => {
        assert.deepEqual(validateAlertsArgs({ stack: "dev", alertEmails: [] }), []);
        assert.match(validateAlertsArgs({ stack: "dev", alertEmails: ["a@x.io", "A@x.io"] }).join(), /alertEmails lists A@x.io more than once/);
        assert.match(validateAlertsArgs({ stack: "Dev_1", alertEmails: [] }).join(), /stack "Dev_1"/);
    });

    it("lays the dashboard out on the 24-column grid without overlaps", () => {
        const body = dashboardBody({
            region: REGION, title: "t", albArnSuffix: "a", targetGroupArnSuffix: "b", clusterName: "c", serviceName: "d",
            dbClusterIdentifier: "e", dbInstanceIdentifiers: ["e-1"], errorLogNamespace: "n", errorLogMetricName: "m", alarmArns: [],
            thresholds: { ecsCpuPercent: 1, ecsMemoryPercent: 1, latencySeconds: 1, dbCpuPercent: 1, dbConnections: 1, dbFreeableMemoryBytes: 1, dbFreeLocalStorageBytes: 1, errorLogCriticalCount: 1 },
        } satisfies DashboardRefs);
        const cells = new Set<string>();
        for (const w of body.widgets) {
            assert.ok(w.x >= 0 && w.x + w.width <= 24, `widget at x=${w.x} width=${w.width}`);
            for (let x = w.x; x < w.x + w.width; x++) {
                for (let y = w.y; y < w.y + w.height; y++) {
                    assert.ok(!cells.has(`${x},${y}`), `overlap at ${x},${y}`);
                    cells.add(`${x},${y}`);
                }
            }
        }
    });
});

for (const stack of ["dev", "prod"] as const) {
    describe(`Alerts (${stack})`, () => {
        let rec: ResourceRecorder;
        let alerts: Alerts;
        let settings: Settings;
        const r = refs(stack);
        before(async () => {
            const run = await buildAlerts(stack, withEmails);
            rec = run.recorder;
            alerts = run.result;
            settings = run.settings;
        });

        it("creates the critical and warning topics, encrypted with the stack's rotating customer-managed key", () => {
            const key = rec.one(T.key);
            assert.equal(key.inputs.enableKeyRotation, true, key.urn);
            assert.equal(key.protect, stack === "prod", `${key.urn}: protected in prod only`);
            assert.equal(key.inputs.deletionWindowInDays, stack === "prod" ? 30 : 7, key.urn);
            assert.match(key.outputs.arn, /^arn:aws:kms:/, key.urn);
            const alias = rec.one(T.alias);
            assert.equal(alias.inputs.name, `alias/backend-${stack}-alerts`, alias.urn);
            for (const severity of ["critical", "warning"]) {
                const topic = rec.one(T.topic, `-${severity}-alerts`);
                assert.equal(topic.inputs.name, `backend-${stack}-${severity}-alerts`, topic.urn);
                assert.equal(topic.inputs.kmsMasterKeyId, key.outputs.arn, `${topic.urn}: encrypted with the alerts key`);
            }
        });

        it("gives the key a policy whose service principals are CloudWatch and EventBridge", () => {
            const policy = JSON.parse(rec.one(T.key).inputs.policy);
            const services = policy.Statement.filter((s: PolicyStatement) => "Service" in s.Principal)
                .map((s: { Principal: { Service: string } }) => s.Principal.Service).sort();
            assert.deepEqual(services, ["cloudwatch.amazonaws.com", "events.amazonaws.com"]);
        });

        it("attaches a topic policy to each topic naming that topic and both publishing services", () => {
            for (const severity of ["critical", "warning"]) {
                const topic = rec.one(T.topic, `-${severity}-alerts`);
                const tp = rec.one(T.topicPolicy, `-${severity}-alerts-policy`);
                assert.equal(tp.inputs.arn, topicArn(stack, severity), tp.urn);
                assert.equal(topic.outputs.arn, topicArn(stack, severity), topic.urn);
                const doc = JSON.parse(tp.inputs.policy);
                assert.deepEqual(doc, JSON.parse(JSON.stringify(alertTopicPolicy(CTX, topic.outputs.arn, `backend-${stack}`))), tp.urn);
            }
        });

        it("subscribes every address to both topics by e-mail", () => {
            const subs = rec.ofType(T.subscription);
            assert.equal(subs.length, 2 * EMAILS.length);
            for (const severity of ["critical", "warning"]) {
                const mine = subs.filter((s) => s.inputs.topic === topicArn(stack, severity));
                assert.deepEqual(mine.map((s) => s.inputs.endpoint).sort(), [...EMAILS].sort(), severity);
                for (const s of mine) assert.equal(s.inputs.protocol, "email", s.urn);
            }
            assert.deepEqual(alerts.alertEmails, EMAILS);
        });

        it("binds every single-metric alarm to the given dimensions, the stack's threshold and the right topic", () => {
            const expected = expectedAlarms(stack, settings);
            for (const [what, e] of Object.entries(expected)) {
                const alarm = rec.one(T.alarm, `-${what}`);
                const i = alarm.inputs;
                const where = `${alarm.urn}`;
                assert.equal(i.name, `backend-${stack}-${what}`, where);
                assert.equal(i.namespace, e.namespace, where);
                assert.equal(i.metricName, e.metricName, where);
                assert.equal(i.statistic, e.statistic, where);
                assert.deepEqual(i.dimensions ?? {}, e.dims, where);
                assert.equal(i.comparisonOperator, e.comparison, where);
                assert.equal(i.threshold, e.threshold, where);
                assert.equal(i.treatMissingData, e.treatMissingData, where);
                assert.deepEqual(i.alarmActions, [topicArn(stack, e.severity)], where);
                assert.deepEqual(i.okActions, [topicArn(stack, e.severity)], where);
                assert.ok(i.alarmDescription.startsWith(`[${e.severity}] `), where);
                assert.ok(i.datapointsToAlarm <= i.evaluationPeriods, where);
                assert.ok(i.period >= 60, where);
                assert.equal(i.metricQueries, undefined, where);
            }
            const names = rec.ofType(T.alarm).map((a) => a.name.replace(/^backend-/, "")).sort();
            assert.deepEqual(names, [...Object.keys(expected), ...MATH_ALARMS].sort(), "no alarm untested, none missing");
        });

        it("uses the stack's own connection threshold (dev 80, prod 400) and MiB → bytes for Aurora memory and storage", () => {
            assert.equal(rec.one(T.alarm, "-db-writer-connections").inputs.threshold, stack === "prod" ? 400 : 80);
            assert.equal(rec.one(T.alarm, "-db-writer-freeable-memory").inputs.threshold, settings.alerts.alarmDbFreeableMemoryMiB * MIB);
            assert.equal(rec.one(T.alarm, "-db-reader-free-local-storage").inputs.threshold, settings.alerts.alarmDbFreeLocalStorageMiB * MIB);
        });

        it("computes the 5xx rate as 100 * 5xx / requests over the load balancer, critical above the setting", () => {
            const alarm = rec.one(T.alarm, "-alb-5xx-rate");
            const i = alarm.inputs;
            assert.equal(i.metricName, undefined, alarm.urn);
            const rate = query(alarm, "rate");
            assert.equal(rate.expression, "100 * FILL(errors, 0) / requests", alarm.urn);
            assert.equal(rate.returnData, true, alarm.urn);
            const errors = query(alarm, "errors");
            const requests = query(alarm, "requests");
            assert.deepEqual(errors.metric, { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", stat: "Sum", period: 60, dimensions: { LoadBalancer: r.albArnSuffix } });
            assert.deepEqual(requests.metric, { namespace: "AWS/ApplicationELB", metricName: "RequestCount", stat: "Sum", period: 60, dimensions: { LoadBalancer: r.albArnSuffix } });
            for (const q of [errors, requests]) assert.equal(q.returnData, false, alarm.urn);
            assert.equal(i.metricQueries.length, 3, alarm.urn);
            assert.equal(i.comparisonOperator, "GreaterThanThreshold");
            assert.equal(i.threshold, settings.alerts.alarm5xxRatePercent);
            assert.equal(i.treatMissingData, "notBreaching");
            assert.deepEqual(i.alarmActions, [topicArn(stack, "critical")]);
            assert.deepEqual(i.okActions, [topicArn(stack, "critical")]);
        });

        it("alarms critical when Container Insights shows fewer running tasks than desired, treating silence as breaching", () => {
            const alarm = rec.one(T.alarm, "-ecs-running-tasks");
            const i = alarm.inputs;
            const shortfall = query(alarm, "shortfall");
            assert.equal(shortfall.expression, "desired - FILL(running, 0)", alarm.urn);
            assert.equal(shortfall.returnData, true);
            const dims = { ClusterName: r.clusterName, ServiceName: r.serviceName };
            assert.deepEqual(query(alarm, "desired").metric, { namespace: "ECS/ContainerInsights", metricName: "DesiredTaskCount", stat: "Average", period: 60, dimensions: dims });
            assert.deepEqual(query(alarm, "running").metric, { namespace: "ECS/ContainerInsights", metricName: "RunningTaskCount", stat: "Average", period: 60, dimensions: dims });
            assert.equal(i.comparisonOperator, "GreaterThanThreshold");
            assert.equal(i.threshold, 0);
            assert.equal(i.treatMissingData, "breaching");
            assert.deepEqual(i.alarmActions, [topicArn(stack, "critical")]);
        });

        it("builds every metric-math alarm as CloudWatch requires: one returned expression, lower-case ids, periods on the metrics", () => {
            const math = rec.ofType(T.alarm).filter((a) => a.inputs.metricQueries !== undefined);
            assert.deepEqual(math.map((a) => a.inputs.name.replace(`backend-${stack}-`, "")).sort(), [...MATH_ALARMS].sort());
            for (const alarm of math) {
                const queries = alarm.inputs.metricQueries as any[];
                assert.equal(queries.filter((q) => q.returnData === true).length, 1, `${alarm.urn}: exactly one query returns data`);
                const returned = queries.find((q) => q.returnData === true);
                assert.ok(returned.expression && !returned.metric, `${alarm.urn}: the expression is what is returned`);
                for (const q of queries) assert.match(q.id, /^[a-z][a-zA-Z0-9_]*$/, `${alarm.urn}: id ${q.id}`);
                const ids = new Set(queries.map((q) => q.id));
                for (const ref of returned.expression.match(/\b[a-z][a-zA-Z0-9_]*\b/g).filter((w: string) => w !== w.toUpperCase())) {
                    assert.ok(ids.has(ref), `${alarm.urn}: the expression refers to ${ref}, which is no query`);
                }
                for (const q of queries.filter((x) => x.metric)) assert.ok(q.metric.period >= 60 && q.metric.period % 60 === 0, `${alarm.urn}: ${q.id} period`);
                for (const top of ["namespace", "metricName", "statistic", "period", "dimensions"]) {
                    assert.equal(alarm.inputs[top], undefined, `${alarm.urn}: no top-level ${top} with metricQueries`);
                }
                assert.ok(alarm.inputs.datapointsToAlarm <= alarm.inputs.evaluationPeriods, alarm.urn);
            }
        });

        it("keeps every name within what AWS accepts", () => {
            for (const a of rec.ofType(T.alarm)) assert.ok(a.inputs.name.length <= 255, a.inputs.name);
            for (const r of rec.ofType(T.rule)) assert.match(r.inputs.name, /^[\w.-]{1,64}$/, r.inputs.name);
            for (const t of rec.ofType(T.topic)) assert.match(t.inputs.name, /^[\w-]{1,256}$/, t.inputs.name);
            assert.match(rec.one(T.dashboard).inputs.dashboardName, /^[\w-]{1,255}$/);
            assert.match(rec.one(T.alias).inputs.name, /^alias\/[\w/-]{1,250}$/);
            assert.doesNotMatch(rec.one(T.filter).inputs.metricTransformation.namespace, /^AWS\//, "custom namespaces cannot start with AWS/");
        });

        it("watches EventBridge delivery failures of both rules", () => {
            const alarm = rec.one(T.alarm, "-events-delivery-failed");
            assert.equal(query(alarm, "failed").expression, "FILL(taskstopped, 0) + FILL(deployfailed, 0)");
            assert.deepEqual(query(alarm, "taskstopped").metric.dimensions, { RuleName: `backend-${stack}-task-stopped` });
            assert.deepEqual(query(alarm, "deployfailed").metric.dimensions, { RuleName: `backend-${stack}-deployment-failed` });
            assert.equal(query(alarm, "taskstopped").metric.namespace, "AWS/Events");
            assert.deepEqual(alarm.inputs.alarmActions, [topicArn(stack, "warning")]);
        });

        it("counts every event of the error log group into the stack's namespace", () => {
            const filter = rec.one(T.filter);
            assert.equal(filter.inputs.logGroupName, r.errorLogGroupName, filter.urn);
            assert.equal(filter.inputs.pattern, ERROR_LOG_FILTER_PATTERN, filter.urn);
            assert.equal(filter.inputs.pattern, "", `${filter.urn}: the empty pattern matches every (ERROR+) record`);
            assert.deepEqual(filter.inputs.metricTransformation, {
                name: ERROR_LOG_METRIC_NAME, namespace: `backend-${stack}`, value: "1", unit: "Count",
            }, filter.urn);
            for (const what of ["error-logs", "error-logs-critical"]) {
                const alarm = rec.one(T.alarm, `-${what}`);
                assert.equal(alarm.inputs.namespace, filter.inputs.metricTransformation.namespace, alarm.urn);
                assert.equal(alarm.inputs.metricName, filter.inputs.metricTransformation.name, alarm.urn);
                assert.equal(alarm.inputs.period, 300, `${alarm.urn}: 5 minutes`);
            }
        });

        it("builds a dashboard whose JSON parses and whose every metric names the real dimensions and region", async () => {
            const dash = rec.one(T.dashboard);
            assert.equal(dash.inputs.dashboardName, `backend-${stack}`);
            assert.equal(await valueOf(alerts.dashboardName), `backend-${stack}`);
            const body = JSON.parse(dash.inputs.dashboardBody);
            const real: Dims = {
                LoadBalancer: r.albArnSuffix, TargetGroup: r.targetGroupArnSuffix, ClusterName: r.clusterName,
                ServiceName: r.serviceName, DBClusterIdentifier: r.dbClusterIdentifier,
            };
            const instances = [r.dbWriterInstanceIdentifier, ...r.dbReaderInstanceIdentifiers];
            const seen: string[] = [];
            const metricWidgets = body.widgets.filter((w: { type: string }) => w.type === "metric") as MetricWidget[];
            assert.ok(metricWidgets.length >= 9);
            for (const w of metricWidgets) {
                assert.equal(w.properties.region, REGION, w.properties.title);
                for (const m of w.properties.metrics) {
                    const [namespace, metricName] = m as string[];
                    const dims = metricDims(m);
                    for (const [k, v] of Object.entries(dims)) {
                        if (k === "DBInstanceIdentifier") assert.ok(instances.includes(v), `${w.properties.title}: ${v}`);
                        else assert.equal(v, real[k], `${w.properties.title}: ${metricName} ${k}`);
                    }
                    const opts = m.find((p) => typeof p === "object") as { stat?: string } | undefined;
                    seen.push(`${namespace}/${metricName}/${opts?.stat ?? w.properties.stat}/${Object.keys(dims).sort().join("+")}`);
                }
            }
            for (const want of [
                "AWS/ECS/CPUUtilization/Average/ClusterName+ServiceName",
                "AWS/ECS/MemoryUtilization/Average/ClusterName+ServiceName",
                "ECS/ContainerInsights/RunningTaskCount/Average/ClusterName+ServiceName",
                "AWS/ApplicationELB/RequestCount/Sum/LoadBalancer",
                "AWS/ApplicationELB/HTTPCode_Target_5XX_Count/Sum/LoadBalancer",
                "AWS/ApplicationELB/TargetResponseTime/p50/LoadBalancer+TargetGroup",
                "AWS/ApplicationELB/TargetResponseTime/p95/LoadBalancer+TargetGroup",
                "AWS/ApplicationELB/TargetResponseTime/p99/LoadBalancer+TargetGroup",
                "AWS/RDS/CPUUtilization/Maximum/DBInstanceIdentifier",
                "AWS/RDS/DatabaseConnections/Maximum/DBInstanceIdentifier",
                "AWS/RDS/FreeableMemory/Minimum/DBInstanceIdentifier",
                "AWS/RDS/FreeLocalStorage/Minimum/DBInstanceIdentifier",
                `backend-${stack}/${ERROR_LOG_METRIC_NAME}/Sum/`,
            ]) {
                assert.ok(seen.includes(want), `dashboard lacks ${want}; has ${seen.join(", ")}`);
            }
            for (const id of instances) {
                assert.ok(seen.length > 0 && JSON.stringify(body).includes(`"DBInstanceIdentifier","${id}"`), `dashboard plots ${id}`);
            }
            const stat = /^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?)$/;
            for (const w of metricWidgets) {
                assert.match(w.properties.stat, stat, w.properties.title);
                for (const m of w.properties.metrics) {
                    const strings = m.filter((p) => typeof p === "string");
                    assert.equal(strings.length % 2, 0, `${w.properties.title}: namespace, name, then dimension name/value pairs`);
                    assert.ok(m.slice(0, strings.length).every((p) => typeof p === "string"), `${w.properties.title}: the options object comes last`);
                    const opts = m[m.length - 1];
                    if (typeof opts === "object" && opts.stat) assert.match(opts.stat, stat, w.properties.title);
                }
            }
            const alarmWidget = body.widgets.find((w: { type: string }) => w.type === "alarm");
            const arns = rec.ofType(T.alarm).map((a) => a.outputs.arn).sort();
            assert.deepEqual([...alarmWidget.properties.alarms].sort(), arns, "the alarm widget lists every alarm");
        });

        it("sends tasks that stopped on their own to the warning topic, with a readable message", () => {
            const rule = rec.one(T.rule, "-task-stopped");
            assert.equal(rule.inputs.name, `backend-${stack}-task-stopped`);
            assert.deepEqual(JSON.parse(rule.inputs.eventPattern), JSON.parse(JSON.stringify(taskStoppedPattern(r.clusterArn, r.serviceName))));
            const target = rec.one(T.target, "-task-stopped-to-warning");
            assert.equal(target.inputs.rule, `backend-${stack}-task-stopped`, target.urn);
            assert.equal(target.inputs.arn, topicArn(stack, "warning"), target.urn);
            assert.equal(target.inputs.roleArn, undefined, `${target.urn}: SNS targets use the topic policy, not a role`);
            assert.deepEqual(target.inputs.inputTransformer, taskStoppedTransformer(`backend-${stack}`, REGION), target.urn);
            assert.ok(target.dependencies.some((d) => d.endsWith("-warning-alerts-policy")), `${target.urn}: after the topic policy`);
        });

        it("sends failed deployments of the service to the critical topic, with a readable message", () => {
            const rule = rec.one(T.rule, "-deployment-failed");
            assert.deepEqual(JSON.parse(rule.inputs.eventPattern), JSON.parse(JSON.stringify(deploymentFailedPattern(r.serviceArn))));
            const target = rec.one(T.target, "-deployment-failed-to-critical");
            assert.equal(target.inputs.rule, `backend-${stack}-deployment-failed`, target.urn);
            assert.equal(target.inputs.arn, topicArn(stack, "critical"), target.urn);
            assert.deepEqual(target.inputs.inputTransformer, deploymentFailedTransformer(`backend-${stack}`, r.serviceName, REGION), target.urn);
            assert.match(JSON.parse(target.inputs.inputTransformer.inputTemplate), new RegExp(r.serviceName));
        });

        it("is listed alarm by alarm, with both rules and the dashboard, in the README's Alerts section", () => {
            const readme = fs.readFileSync("README.md", "utf8");
            const section = readme.slice(readme.indexOf("\n## Alerts\n"));
            assert.ok(section.length > 20, "README has a ## Alerts section");
            for (const a of rec.ofType(T.alarm)) {
                const what = a.inputs.name.replace(`backend-${stack}-`, "");
                assert.ok(section.includes(`\`${what}\``), `README ## Alerts does not list ${what}`);
            }
            for (const rule of rec.ofType(T.rule)) {
                assert.ok(section.includes(`backend-<stack>-${rule.inputs.name.replace(`backend-${stack}-`, "")}`), `README lacks ${rule.inputs.name}`);
            }
            assert.ok(section.includes("**Dashboard** `backend-<stack>`"));
        });

        it("registers its outputs", async () => {
            assert.equal(await valueOf(alerts.criticalTopicArn), topicArn(stack, "critical"));
            assert.equal(await valueOf(alerts.warningTopicArn), topicArn(stack, "warning"));
            const names = await valueOf(alerts.alarmNames);
            assert.deepEqual([...names].sort(), rec.ofType(T.alarm).map((a) => a.inputs.name).sort());
            const component = rec.one("backend-infra:alerts:Alerts");
            for (const k of ["criticalTopicArn", "warningTopicArn", "dashboardName", "alarmNames"]) {
                assert.ok(component.outputs[k] !== undefined, `${component.urn}: output ${k} registered`);
            }
        });
    });
}

describe("Alerts with no alertEmails (and no serviceArn given)", () => {
    let rec: ResourceRecorder;
    let warnings: string[];
    before(async () => {
        const original = console.warn;
        warnings = [];
        console.warn = (...a: unknown[]) => { warnings.push(a.join(" ")); };
        try {
            rec = (await buildAlerts("dev")).recorder;
        } finally {
            console.warn = original;
        }
    });

    it("creates no subscription", () => {
        assert.equal(rec.ofType(T.subscription).length, 0);
        assert.equal(rec.ofType(T.topic).length, 2, "the topics still exist");
    });

    it("matches deployments of the service by its ARN", () => {
        const rule = rec.one(T.rule, "-deployment-failed");
        assert.deepEqual(JSON.parse(rule.inputs.eventPattern).resources, [refs("dev").serviceArn], rule.urn);
    });

    it("warns once that no one will be notified, naming the setting and the stack file", () => {
        const mine = warnings.filter((w) => w.includes("alertEmails"));
        assert.equal(mine.length, 1, warnings.join("\n"));
        assert.match(mine[0], /backend-infra:alertEmails is empty/);
        assert.match(mine[0], /no one will be notified/);
        assert.match(mine[0], /Pulumi\.dev\.yaml/);
    });
});
