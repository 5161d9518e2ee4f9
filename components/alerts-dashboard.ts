// Alerts: the body of the stack's CloudWatch dashboard.
//
// A pure function of resolved names (the Alerts component calls it inside pulumi.all), so every
// widget carries the real dimension values, and the spec can parse the JSON and check them. Metric
// arrays use the dashboard body syntax: [namespace, metricName, dim1Name, dim1Value, ..., {options}].

export interface DashboardRefs {
    /** Region of every widget (a dashboard is global; each metric widget names its region). */
    region: string;
    /** Title shown in the header text widget, e.g. backend-dev. */
    title: string;
    albArnSuffix: string;
    targetGroupArnSuffix: string;
    clusterName: string;
    serviceName: string;
    dbClusterIdentifier: string;
    /** DBInstanceIdentifier of every instance to plot, writer first. */
    dbInstanceIdentifiers: string[];
    /** Custom namespace and name of the error-log record count. */
    errorLogNamespace: string;
    errorLogMetricName: string;
    /** ARNs of the stack's alarms, for the alarm status widget. */
    alarmArns: string[];
    thresholds: {
        ecsCpuPercent: number;
        ecsMemoryPercent: number;
        latencySeconds: number;
        dbCpuPercent: number;
        dbConnections: number;
        dbFreeableMemoryBytes: number;
        dbFreeLocalStorageBytes: number;
        errorLogCriticalCount: number;
    };
}

type MetricOptions = { stat?: string; label?: string; id?: string; visible?: boolean; yAxis?: "left" | "right" };
/** [namespace, metricName, ...dimension name/value pairs, options?] */
export type DashboardMetric = Array<string | MetricOptions>;

export interface MetricWidget {
    type: "metric";
    x: number;
    y: number;
    width: number;
    height: number;
    properties: {
        title: string;
        region: string;
        view: "timeSeries";
        stacked: false;
        period: number;
        stat: string;
        metrics: DashboardMetric[];
        yAxis?: { left: { min: number; label?: string } };
        annotations?: { horizontal: Array<{ label: string; value: number }> };
    };
}

export interface TextWidget {
    type: "text";
    x: number;
    y: number;
    width: number;
    height: number;
    properties: { markdown: string };
}

export interface AlarmWidget {
    type: "alarm";
    x: number;
    y: number;
    width: number;
    height: number;
    properties: { title: string; alarms: string[]; sortBy: "stateUpdatedTimestamp"; states?: string[] };
}

export type Widget = MetricWidget | TextWidget | AlarmWidget;

export interface DashboardBody {
    start: string;
    periodOverride: "inherit";
    widgets: Widget[];
}

const COLUMNS = 24;
const WIDTH = 8;
const HEIGHT = 6;

/** The dashboard: a header, the alarm states, then ECS, ALB, Aurora and error-log rows of three graphs. */
export function dashboardBody(refs: DashboardRefs): DashboardBody {
    const t = refs.thresholds;
    const ecs = (metricName: string, options: MetricOptions = {}): DashboardMetric =>
        ["AWS/ECS", metricName, "ClusterName", refs.clusterName, "ServiceName", refs.serviceName, options];
    const insights = (metricName: string, options: MetricOptions = {}): DashboardMetric =>
        ["ECS/ContainerInsights", metricName, "ClusterName", refs.clusterName, "ServiceName", refs.serviceName, options];
    const alb = (metricName: string, options: MetricOptions = {}): DashboardMetric =>
        ["AWS/ApplicationELB", metricName, "LoadBalancer", refs.albArnSuffix, options];
    const targetGroup = (metricName: string, options: MetricOptions = {}): DashboardMetric =>
        ["AWS/ApplicationELB", metricName, "TargetGroup", refs.targetGroupArnSuffix, "LoadBalancer", refs.albArnSuffix, options];
    const perInstance = (metricName: string, stat: string): DashboardMetric[] =>
        refs.dbInstanceIdentifiers.map((id) => ["AWS/RDS", metricName, "DBInstanceIdentifier", id, { stat, label: id }]);
    const line = (label: string, value: number) => ({ horizontal: [{ label, value }] });

    const graphs: Array<Omit<MetricWidget, "x" | "y" | "width" | "height">> = [
        graph("ECS service CPU and memory (%)", "Average", 60, [
            ecs("CPUUtilization", { label: "CPU" }),
            ecs("MemoryUtilization", { label: "Memory" }),
        ], { horizontal: [{ label: "CPU alarm", value: t.ecsCpuPercent }, { label: "Memory alarm", value: t.ecsMemoryPercent }] }),
        graph("ECS tasks (Container Insights)", "Average", 60, [
            insights("DesiredTaskCount", { label: "Desired" }),
            insights("RunningTaskCount", { label: "Running" }),
            insights("PendingTaskCount", { label: "Pending" }),
        ]),
        graph("ALB target health", "Maximum", 60, [
            targetGroup("HealthyHostCount", { label: "Healthy" }),
            targetGroup("UnHealthyHostCount", { label: "Unhealthy" }),
        ]),
        graph("ALB requests and 5xx", "Sum", 60, [
            alb("RequestCount", { label: "Requests" }),
            alb("HTTPCode_Target_5XX_Count", { label: "Target 5xx" }),
            alb("HTTPCode_ELB_5XX_Count", { label: "Load balancer 5xx" }),
        ]),
        graph("ALB target response time (s)", "p50", 60, [
            targetGroup("TargetResponseTime", { stat: "p50", label: "p50" }),
            targetGroup("TargetResponseTime", { stat: "p95", label: "p95" }),
            targetGroup("TargetResponseTime", { stat: "p99", label: "p99" }),
        ], line("Average latency alarm", t.latencySeconds)),
        graph("Error log records (5 min)", "Sum", 300, [
            [refs.errorLogNamespace, refs.errorLogMetricName, { label: "ERROR+ records" }],
        ], line("Critical", t.errorLogCriticalCount)),
        graph("Aurora CPU (%)", "Maximum", 60, perInstance("CPUUtilization", "Maximum"), line("Alarm", t.dbCpuPercent)),
        graph("Aurora connections", "Maximum", 60, perInstance("DatabaseConnections", "Maximum"), line("Alarm", t.dbConnections)),
        graph("Aurora freeable memory (bytes)", "Minimum", 60, perInstance("FreeableMemory", "Minimum"), line("Alarm", t.dbFreeableMemoryBytes)),
        graph("Aurora free local storage (bytes)", "Minimum", 60, perInstance("FreeLocalStorage", "Minimum"), line("Alarm", t.dbFreeLocalStorageBytes)),
    ];

    const widgets: Widget[] = [
        {
            type: "text", x: 0, y: 0, width: COLUMNS, height: 2,
            properties: {
                markdown: `# ${refs.title}\nECS service \`${refs.serviceName}\` in cluster \`${refs.clusterName}\`, ` +
                    `Aurora cluster \`${refs.dbClusterIdentifier}\`, region ${refs.region}. Alarms go to the critical and warning SNS topics.`,
            },
        },
        {
            type: "alarm", x: 0, y: 2, width: COLUMNS, height: 4,
            properties: { title: "Alarms", alarms: refs.alarmArns, sortBy: "stateUpdatedTimestamp" },
        },
        ...graphs.map((g, i): MetricWidget => ({
            ...g,
            x: (i * WIDTH) % COLUMNS,
            y: 6 + Math.floor((i * WIDTH) / COLUMNS) * HEIGHT,
            width: WIDTH,
            height: HEIGHT,
        })),
    ];
    return { start: "-PT3H", periodOverride: "inherit", widgets };

    function graph(title: string, stat: string, period: number, metrics: DashboardMetric[],
        annotations?: MetricWidget["properties"]["annotations"]): Omit<MetricWidget, "x" | "y" | "width" | "height"> {
        return {
            type: "metric",
            properties: {
                title, region: refs.region, view: "timeSeries", stacked: false, period, stat, metrics,
                yAxis: { left: { min: 0 } },
                ...(annotations ? { annotations } : {}),
            },
        };
    }
}
